#pragma once

// A seeded source of hostile message values for tests: valid orders from the
// domain generator, exact re-sends, and orders broken in the ways a real topic
// breaks them (flipped, inserted and deleted bytes, truncation, deep nesting,
// huge numbers, bad escapes, invalid UTF-8, odd timestamps, 300 KB strings,
// U+0000, repeated keys, wrong types, amounts beyond NUMERIC(10,2), long ids,
// tombstones, empty values, missing keys).
//
// Deterministic: message n of MessageMutator(seed) is the same bytes with every
// compiler and standard library. Every choice is drawn from domain's
// Xoshiro256StarStar::bounded (never a std:: distribution), the orders come
// from domain::OrderGenerator with a clock that steps one millisecond per
// order from 2026-01-01T00:00:00Z, and nothing depends on addresses or
// iteration order of hashed containers. Changing what a seed yields changes
// the digest pinned in test/unit/support_mutator_test.cpp.
//
// The mutator does not predict what decode() will say about a message: many
// mutations keep the order valid (a flipped bit in a name, a 50-byte id, an
// extra nested field) and tests classify each message with domain::decode.
//
// Not thread-safe: one mutator per thread.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/generator.hpp"
#include "domain/order.hpp"
#include "domain/random.hpp"

namespace foodpipe::test {

// What a message was made to exercise. Stable names (to_string) for reports.
enum class Mutation : std::uint8_t {
  valid,                // an order as produce writes it
  resend,               // the exact key and value of one of the last messages again
  conflict,             // an earlier valid order's id with other content
  flip_bits,            // 1 to 4 bits of a valid order flipped
  insert_bytes,         // 1 to 8 bytes (any value, or JSON punctuation) inserted
  delete_bytes,         // 1 to 16 bytes deleted
  truncate,             // cut short, at least one byte kept
  deep_nesting,         // 1,000 to 10,000 levels of [ or {, balanced or not, anywhere
  huge_number,          // 1e400, 400-digit integers, -0, 0.1e-400, ... in a numeric field
  bad_escape,           // \u00, unpaired \ud800 / \udc00, \x41, a trailing '\' (and some valid ones)
  invalid_utf8,         // overlongs, lone continuation bytes, 0xF5..0xFF, UTF-8 surrogates, ...
  odd_timestamp,        // year 0000 and 9999, leap seconds, offsets, 20 fraction digits, no Z, ...
  huge_string,          // 100 KB to 300 KB strings, in a field or an extra one
  nul_character,        // \u0000 in a string or a key, or a raw NUL byte
  duplicate_key,        // a key repeated in the order, an item or a nested object
  wrong_type,           // a field's value replaced by another JSON type
  amount_beyond_column, // amounts at and past NUMERIC(10,2) and int64 cents
  long_id,              // ids and texts at and past their byte limits
  tombstone,            // no value at all
  empty_value,          // "", whitespace, {}, null
  missing_key           // a field of the order or of an item left out
};
inline constexpr std::size_t k_mutation_count = 21;

// "valid", "resend", ... exactly the enumerator's name.
[[nodiscard]] std::string_view to_string(Mutation mutation) noexcept;

struct MutatedMessage {
  Mutation mutation = Mutation::valid;
  std::string key;                  // the base order's customer id
  std::optional<std::string> value; // nullopt: a tombstone
};

class MessageMutator {
public:
  explicit MessageMutator(std::uint64_t seed);

  // The next message. Each kind is drawn with a fixed weight (valid orders
  // about 10%, re-sends 4%, 300 KB strings under 1%); see mutator.cpp.
  [[nodiscard]] MutatedMessage next();

private:
  static constexpr std::size_t k_history = 64; // re-sends and conflicts pick among these

  std::uint32_t pick(std::uint32_t bound) { return m_random.bounded(bound); }
  [[nodiscard]] std::string mutate(Mutation mutation, domain::Order& order);

  domain::Xoshiro256StarStar m_random;
  domain::OrderGenerator m_generator;
  std::vector<MutatedMessage> m_sent;       // ring of the last k_history messages
  std::vector<domain::Order> m_valid;       // ring of the last k_history valid orders sent
  std::size_t m_sent_count = 0;
  std::size_t m_valid_count = 0;
};

} // namespace foodpipe::test
