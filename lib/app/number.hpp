#pragma once

// Strict parsing of numeric option values. Boost.ProgramOptions would accept
// "-1" for an unsigned option (lexical_cast wraps it), so counts, rates and
// durations are taken as text and parsed here; anything off is a UsageError
// naming the option.

#include <chrono>
#include <cstdint>
#include <string>

namespace foodpipe::app {

// A whole number >= 0 ("0", "1000000"; no sign, no fraction, no suffix).
[[nodiscard]] std::uint64_t parse_count(const std::string& option, const std::string& text);

// A finite decimal number >= 0 ("0", "50", "0.5").
[[nodiscard]] double parse_non_negative(const std::string& option, const std::string& text);

// A duration in seconds >= 0, fractions allowed ("0.5"), as milliseconds.
[[nodiscard]] std::chrono::milliseconds parse_seconds(const std::string& option, const std::string& text);

} // namespace foodpipe::app
