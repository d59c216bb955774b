#include "domain/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace foodpipe::domain {
namespace {

constexpr bool is_continuation(unsigned char c) {
  return (c & 0xC0U) == 0x80U;
}

} // namespace

std::size_t first_invalid_utf8(std::string_view text) noexcept {
  const auto* const bytes = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  std::size_t i = 0;
  while (i < size) {
    // Orders are mostly ASCII: skip eight bytes at a time while no high bit is set.
    while (i + 8 <= size) {
      std::uint64_t word = 0;
      std::memcpy(&word, bytes + i, sizeof word);
      if ((word & 0x8080808080808080ULL) != 0) {
        break;
      }
      i += 8;
    }
    if (i >= size) {
      break;
    }
    const unsigned char lead = bytes[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // Table 3-7 of the Unicode standard: the allowed range of the second byte
    // depends on the lead byte; later bytes are plain continuations.
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      low = lead == 0xE0 ? 0xA0 : 0x80;  // no overlong
      high = lead == 0xED ? 0x9F : 0xBF; // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      low = lead == 0xF0 ? 0x90 : 0x80;  // no overlong
      high = lead == 0xF4 ? 0x8F : 0xBF; // nothing above U+10FFFF
    } else {
      return i;
    }
    if (i + length > size || bytes[i + 1] < low || bytes[i + 1] > high) {
      return i;
    }
    for (std::size_t k = 2; k < length; ++k) {
      if (!is_continuation(bytes[i + k])) {
        return i;
      }
    }
    i += length;
  }
  return size;
}

bool is_valid_utf8(std::string_view text) noexcept {
  return first_invalid_utf8(text) == text.size();
}

std::string replace_invalid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const std::size_t valid = first_invalid_utf8(text);
    out.append(text.substr(0, valid));
    if (valid == text.size()) {
      break;
    }
    out.append("\xEF\xBF\xBD"); // U+FFFD
    text.remove_prefix(valid + 1);
  }
  return out;
}

} // namespace foodpipe::domain
