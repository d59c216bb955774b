#pragma once

// Small text helpers of the command line.

#include <cstddef>
#include <string>
#include <string_view>

namespace foodpipe::app {

// Levenshtein distance (insertions, deletions, substitutions).
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

// Escapes a string for a JSON string literal body (without quotes).
[[nodiscard]] std::string json_escape(std::string_view text);

} // namespace foodpipe::app
