#pragma once

// The deterministic mock order generator behind `foodpipe produce`.
//
// Order n (1-based) of a generator is a pure function of (seed, run id, n) and
// the clock's reading: with the same seed and run id two generators produce
// identical orders apart from created_at, and with a clock that returns the
// same times, byte-identical messages. The draws, in this order, per order:
//   customer        bounded(100) over reference_data customers()
//   item count k    1 + bounded(5)
//   items           a partial Fisher-Yates shuffle of the 20 menu indices
//                   (identity order at the start of every order): for i in
//                   0..k-1, swap position i with i + bounded(20 - i); the item
//                   is the index now at position i (k distinct items)
//   quantities      1 + bounded(3) for each item, in item order
// with bounded() from random.hpp (xoshiro256** seeded by SplitMix64, Lemire's
// unbiased reduction). Prices come from the menu; subtotals and the total are
// exact; status is pending; created_at is one reading of the clock.
// order_id is "ORD-<YYYYMMDD of created_at, UTC>-<run id>-<n, 7+ digits>".
//
// Not thread-safe: one generator per producing thread.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/order.hpp"
#include "domain/random.hpp"
#include "domain/timestamp.hpp"

namespace foodpipe::domain {

// Where created_at comes from; tests pass a fixed or stepping fake.
using Clock = std::function<Timestamp()>;

// The system clock (UTC), truncated to milliseconds.
[[nodiscard]] Timestamp system_now();

// A seed from std::random_device, for runs without --seed.
[[nodiscard]] std::uint64_t random_seed();

// 8 random characters of the lowercase base32hex alphabet (0-9, a-v), 40 bits
// from std::random_device: "k3v9q0ab".
[[nodiscard]] std::string random_run_id();

// A run id a caller may pin: 1 to 16 characters of [0-9a-z].
[[nodiscard]] bool is_valid_run_id(std::string_view run_id) noexcept;

class OrderGenerator {
public:
  // Throws std::invalid_argument if !is_valid_run_id(run_id) or clock is empty.
  OrderGenerator(std::uint64_t seed, std::string run_id, Clock clock = system_now);

  // Overwrites `order` with the next order, reusing its strings' and items'
  // capacity: after the first few calls no allocation happens.
  void next(Order& order);
  [[nodiscard]] Order next();

  // The next order straight to JSON: appends to `json` the very bytes that
  // encode(next()) would write, and returns its customer id (the message
  // key; valid as long as the generator). The same draws as next(), so the
  // two can be mixed; the reference data's JSON is encoded once, here at
  // construction, instead of once per order.
  std::string_view next_encoded(std::string& json);

  // How many orders were generated so far (the last order's sequence number).
  [[nodiscard]] std::uint64_t sequence() const noexcept { return m_sequence; }
  [[nodiscard]] std::uint64_t seed() const noexcept { return m_seed; }
  [[nodiscard]] const std::string& run_id() const noexcept { return m_run_id; }

private:
  static constexpr std::uint32_t k_max_items = 5;    // per order
  static constexpr std::uint32_t k_max_quantity = 3; // per item

  // One order's draws (see the top of this file), with its sequence number
  // counted and its created_at read.
  struct Draw {
    std::uint32_t customer = 0;
    std::uint32_t item_count = 0;
    std::array<std::uint8_t, k_max_items> items{};      // menu indices
    std::array<std::uint8_t, k_max_items> quantities{}; // 1..k_max_quantity
    Timestamp created_at{};
  };
  Draw draw();
  // Appends "ORD-YYYYMMDD-<run>-<sequence>" for the last draw.
  void append_order_id(std::string& out, Timestamp created_at);

  // next_encoded()'s pieces, encoded at construction:
  //   per customer: ,"customer_id":"..","customer_name":"..","customer_email":"..","items":[
  //   per menu item: {"item_id":"..","name":"..","quantity":
  //   per menu item and quantity: q,"price":p,"subtotal":s}
  std::vector<std::string> m_customer_json;
  std::vector<std::string> m_item_json;
  std::vector<std::array<std::string, k_max_quantity>> m_item_tail_json;
  // created_at's text for the millisecond last encoded.
  Timestamp m_encoded_time = Timestamp::min();
  std::array<char, k_timestamp_text_size> m_encoded_time_text{};

  std::uint64_t m_seed;
  std::string m_run_id;
  Clock m_clock;
  Xoshiro256StarStar m_random;
  std::uint64_t m_sequence = 0;
  // "YYYYMMDD" of the day m_date_day, for order ids.
  std::chrono::sys_days m_date_day = std::chrono::sys_days::min();
  std::array<char, 8> m_date{};
};

} // namespace foodpipe::domain
