#pragma once

// Strict UTF-8 validation (RFC 3629 / Unicode 15 table 3-7): no overlong forms,
// no surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
// sequences. Thread-safe, no allocation.

#include <cstddef>
#include <string>
#include <string_view>

namespace foodpipe::domain {

// True when every byte of `text` belongs to a well-formed UTF-8 sequence.
[[nodiscard]] bool is_valid_utf8(std::string_view text) noexcept;

// The offset of the first byte that does not start a well-formed sequence, or
// text.size() when the whole text is valid.
[[nodiscard]] std::size_t first_invalid_utf8(std::string_view text) noexcept;

// `text` with each byte that does not belong to a well-formed sequence
// replaced by U+FFFD: always valid UTF-8, for showing untrusted bytes
// (allocates).
[[nodiscard]] std::string replace_invalid_utf8(std::string_view text);

} // namespace foodpipe::domain
