#include "domain/money.hpp"

#include <limits>
#include <stdexcept>

namespace foodpipe::domain {
namespace {

constexpr bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

constexpr auto digit_value(char c) {
  return static_cast<std::uint64_t>(c - '0');
}

} // namespace

std::string_view to_string(MoneyError error) noexcept {
  switch (error) {
  case MoneyError::empty: return "empty";
  case MoneyError::syntax: return "syntax";
  case MoneyError::exponent: return "exponent";
  case MoneyError::too_precise: return "too_precise";
  case MoneyError::overflow: return "overflow";
  }
  return "syntax";
}

std::optional<Money> Money::parse(std::string_view text, MoneyError* error) noexcept {
  const auto fail = [error](MoneyError why) -> std::optional<Money> {
    if (error != nullptr) {
      *error = why;
    }
    return std::nullopt;
  };
  if (text.empty()) {
    return fail(MoneyError::empty);
  }
  // Exponents are a distinct error so that "1e2" from a JSON number is explained.
  if (text.find_first_of("eE") != std::string_view::npos) {
    return fail(MoneyError::exponent);
  }
  std::size_t pos = 0;
  const bool negative = text[0] == '-';
  if (negative) {
    ++pos;
  }
  // INT64_MIN cents is representable, so the negative limit is one larger.
  const std::uint64_t limit =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1U : 0U);

  const std::size_t int_start = pos;
  std::uint64_t units = 0;
  bool overflow = false;
  while (pos < text.size() && is_digit(text[pos])) {
    if (!overflow && (units > (limit - digit_value(text[pos])) / 10)) {
      overflow = true; // keep scanning: a syntax error elsewhere still wins
    }
    if (!overflow) {
      units = units * 10 + digit_value(text[pos]);
    }
    ++pos;
  }
  if (pos == int_start) {
    return fail(MoneyError::syntax);
  }
  std::uint64_t fraction = 0;
  bool too_precise = false;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t frac_start = pos;
    while (pos < text.size() && is_digit(text[pos])) {
      const std::size_t index = pos - frac_start;
      if (index == 0) {
        fraction = digit_value(text[pos]) * 10;
      } else if (index == 1) {
        fraction += digit_value(text[pos]);
      } else if (text[pos] != '0') {
        too_precise = true;
      }
      ++pos;
    }
    if (pos == frac_start) {
      return fail(MoneyError::syntax);
    }
  }
  if (pos != text.size()) {
    return fail(MoneyError::syntax);
  }
  if (too_precise) {
    return fail(MoneyError::too_precise);
  }
  if (overflow || units > (limit - fraction) / 100) {
    return fail(MoneyError::overflow);
  }
  const std::uint64_t magnitude = units * 100 + fraction;
  if (negative) {
    // Two's complement negation in unsigned arithmetic, defined for 2^63 too.
    return Money(static_cast<std::int64_t>(~magnitude + 1));
  }
  return Money(static_cast<std::int64_t>(magnitude));
}

char* Money::format(char* out) const noexcept {
  std::uint64_t magnitude = static_cast<std::uint64_t>(m_cents);
  if (m_cents < 0) {
    *out++ = '-';
    magnitude = ~magnitude + 1;
  }
  char digits[24];
  std::size_t count = 0;
  // At least three digits so that 5 cents reads "0.05".
  while (magnitude != 0 || count < 3) {
    digits[count++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  }
  while (count > 2) {
    *out++ = digits[--count];
  }
  *out++ = '.';
  *out++ = digits[1];
  *out++ = digits[0];
  return out;
}

void Money::append_to(std::string& out) const {
  char buffer[k_max_text];
  out.append(buffer, format(buffer));
}

std::string Money::to_string() const {
  std::string text;
  append_to(text);
  return text;
}

std::optional<Money> Money::checked_add(Money other) const noexcept {
  std::int64_t result = 0;
  if (__builtin_add_overflow(m_cents, other.m_cents, &result)) {
    return std::nullopt;
  }
  return Money(result);
}

std::optional<Money> Money::checked_sub(Money other) const noexcept {
  std::int64_t result = 0;
  if (__builtin_sub_overflow(m_cents, other.m_cents, &result)) {
    return std::nullopt;
  }
  return Money(result);
}

std::optional<Money> Money::checked_mul(std::int64_t factor) const noexcept {
  std::int64_t result = 0;
  if (__builtin_mul_overflow(m_cents, factor, &result)) {
    return std::nullopt;
  }
  return Money(result);
}

Money& Money::operator+=(Money other) {
  const auto sum = checked_add(other);
  if (!sum) {
    throw std::overflow_error("money: sum does not fit in int64 cents");
  }
  return *this = *sum;
}

Money& Money::operator-=(Money other) {
  const auto difference = checked_sub(other);
  if (!difference) {
    throw std::overflow_error("money: difference does not fit in int64 cents");
  }
  return *this = *difference;
}

Money operator*(Money price, std::int64_t quantity) {
  const auto product = price.checked_mul(quantity);
  if (!product) {
    throw std::overflow_error("money: product does not fit in int64 cents");
  }
  return *product;
}

} // namespace foodpipe::domain
