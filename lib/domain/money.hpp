#pragma once

// An amount of money as a whole number of cents. Money never passes through
// binary floating point: it is read from decimal text, computed in int64 cents
// and written back as decimal text with exactly two fraction digits.
//
// That text is also PostgreSQL's numeric text, so this is the one place where
// money meets text for the JSON messages and for the database alike: what
// format() writes is valid input for a numeric column (a COPY field, or a text
// parameter cast with $1::numeric), and parse() reads what the server prints for
// numeric(10, 2) ("8.99") or an unconstrained numeric ("8.990"), which never
// has an exponent or a '+'.
//
// A value type; every operation is thread-safe on distinct or const objects.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace foodpipe::domain {

// Why a text is not an amount (see Money::parse).
enum class MoneyError : std::uint8_t {
  empty,       // ""
  syntax,      // anything but -?DIGITS(.DIGITS)?: "+1", ".5", "1.", ".", " 1", "1,5", "0x10"
  exponent,    // "1e2", "1.5E-1": JSON allows them, amounts do not
  too_precise, // a non-zero third fraction digit: "0.999" ("1.500" is fine)
  overflow     // outside int64 cents
};

// "empty", "syntax", ... (for log lines and rejection details).
[[nodiscard]] std::string_view to_string(MoneyError error) noexcept;

class Money {
public:
  // The longest text format() writes: "-92233720368547758.08".
  static constexpr std::size_t k_max_text = 21;

  constexpr Money() noexcept = default;

  [[nodiscard]] static constexpr Money from_cents(std::int64_t cents) noexcept { return Money(cents); }

  // Reads a plain decimal: an optional '-', one or more digits, and optionally
  // '.' followed by one or more digits of which only the first two may be
  // non-zero ("12", "12.5", "12.50", "1.500", "-0.99", "007.10"). Exponents, a
  // leading '+', whitespace and more than two significant fraction digits are
  // refused. On failure returns nullopt and, when `error` is not null, stores why.
  [[nodiscard]] static std::optional<Money> parse(std::string_view text,
                                                  MoneyError* error = nullptr) noexcept;

  [[nodiscard]] constexpr std::int64_t cents() const noexcept { return m_cents; }

  // Writes "8.99", "-0.50", "0.00", "1234.00" (no sign for zero, no grouping)
  // into [out, out + k_max_text) and returns the end of what was written.
  char* format(char* out) const noexcept;
  // Appends the text of format() to `out`.
  void append_to(std::string& out) const;
  [[nodiscard]] std::string to_string() const;

  // Overflow-checked arithmetic: nullopt when the result does not fit int64 cents.
  [[nodiscard]] std::optional<Money> checked_add(Money other) const noexcept;
  [[nodiscard]] std::optional<Money> checked_sub(Money other) const noexcept;
  [[nodiscard]] std::optional<Money> checked_mul(std::int64_t factor) const noexcept;

  // The same, throwing std::overflow_error instead of wrapping.
  Money& operator+=(Money other);
  Money& operator-=(Money other);
  friend Money operator+(Money a, Money b) { return a += b; }
  friend Money operator-(Money a, Money b) { return a -= b; }
  // Price times a quantity; throws std::overflow_error.
  friend Money operator*(Money price, std::int64_t quantity);
  friend Money operator*(std::int64_t quantity, Money price) { return price * quantity; }

  friend constexpr bool operator==(Money, Money) noexcept = default;
  friend constexpr auto operator<=>(Money, Money) noexcept = default;

private:
  constexpr explicit Money(std::int64_t cents) noexcept : m_cents(cents) {}

  std::int64_t m_cents = 0;
};

} // namespace foodpipe::domain
