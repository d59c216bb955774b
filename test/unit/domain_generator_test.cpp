#include <algorithm>
#include <chrono>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "domain/generator.hpp"
#include "domain/order_json.hpp"
#include "domain/reference_data.hpp"

namespace foodpipe::domain {
namespace {

using std::chrono::milliseconds;

// 2026-01-02T03:04:05.678Z
constexpr Timestamp k_fixed_time{milliseconds(1'767'323'045'678)};

Timestamp fixed_clock() {
  return k_fixed_time;
}

// FNV-1a, 64 bits (http://www.isthe.com/chongo/tech/comp/fnv/).
std::uint64_t fnv1a(std::string_view bytes, std::uint64_t hash = 0xCBF29CE484222325ULL) {
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001B3ULL;
  }
  return hash;
}

TEST(Fnv1a, MatchesPublishedVectors) {
  EXPECT_EQ(fnv1a(""), 0xCBF29CE484222325ULL);
  EXPECT_EQ(fnv1a("a"), 0xAF63DC4C8601EC8CULL);
  EXPECT_EQ(fnv1a("foobar"), 0x85944171F73967E8ULL);
}

// The bytes of a seeded run are a contract (rule 4 of docs/architecture.md): the same seed, run
// id and clock must give the same messages on every machine and in every
// release. If this test fails, the generator, the PRNG, the reference data or
// the encoder changed what `produce --seed` sends; that breaks re-sending old
// runs as exact duplicates, so change the constant only on purpose.
TEST(OrderGenerator, GoldenChecksumOfTheFirstThousandOrders) {
  OrderGenerator generator(42, "testrun1", fixed_clock);
  Order order;
  std::string json;
  std::uint64_t hash = 0xCBF29CE484222325ULL;
  for (int i = 0; i < 1000; ++i) {
    generator.next(order);
    json.clear();
    encode(order, json);
    hash = fnv1a(json, hash);
  }
  EXPECT_EQ(hash, 0xEC4BFCECC85F10EAULL) << std::hex << hash;
}

// produce sends next_encoded()'s bytes: the same golden checksum.
TEST(OrderGenerator, NextEncodedHasTheSameGoldenChecksum) {
  OrderGenerator generator(42, "testrun1", fixed_clock);
  std::string json;
  std::uint64_t hash = 0xCBF29CE484222325ULL;
  for (int i = 0; i < 1000; ++i) {
    json.clear();
    const auto key = generator.next_encoded(json);
    EXPECT_EQ(key.substr(0, 5), "CUST-");
    hash = fnv1a(json, hash);
  }
  EXPECT_EQ(hash, 0xEC4BFCECC85F10EAULL) << std::hex << hash;
}

// next_encoded() writes from pieces encoded once; it must agree with encode()
// byte for byte for every customer, item, quantity and item count, across
// day boundaries and clock steps, and keep in step when the two are mixed.
TEST(OrderGenerator, NextEncodedWritesWhatEncodeWrites) {
  Timestamp now{milliseconds(1'767'311'999'000)}; // 2026-01-01T23:59:59.000Z
  const auto stepping_clock = [&now] {
    now += milliseconds(7);
    return now;
  };
  OrderGenerator fast(9, "same", stepping_clock);
  Timestamp then = now;
  const auto replayed_clock = [&then] {
    then += milliseconds(7);
    return then;
  };
  OrderGenerator slow(9, "same", replayed_clock);
  std::set<std::string> customers_seen;
  Order order;
  std::string json = "prefix kept:";
  for (int i = 0; i < 20000; ++i) {
    json.resize(12);
    const auto key = fast.next_encoded(json);
    slow.next(order);
    ASSERT_EQ(json.substr(12), encode(order)) << "order " << i;
    ASSERT_EQ(key, order.customer_id);
    customers_seen.insert(std::string(key));
  }
  EXPECT_EQ(customers_seen.size(), customers().size());
  // Mixed calls share one sequence of draws.
  OrderGenerator mixed(9, "mix", fixed_clock);
  OrderGenerator plain(9, "mix", fixed_clock);
  for (int i = 0; i < 100; ++i) {
    plain.next(order);
    const std::string expected = encode(order);
    if (i % 2 == 0) {
      json.clear();
      (void)mixed.next_encoded(json);
      ASSERT_EQ(json, expected);
    } else {
      Order other;
      mixed.next(other);
      ASSERT_EQ(encode(other), expected);
    }
  }
}

// What the checksum protects, spelled out for the first orders of seed 42.
// These values were also computed by an independent Python transcription of
// the specification in generator.hpp.
TEST(OrderGenerator, FirstOrdersOfSeed42) {
  OrderGenerator generator(42, "testrun1", fixed_clock);
  const Order first = generator.next();
  EXPECT_EQ(encode(first),
            R"({"order_id":"ORD-20260102-testrun1-0000001","customer_id":"CUST-00009",)"
            R"("customer_name":"Ingrid Eriksen","customer_email":"ingrid.eriksen@example.com",)"
            R"("items":[{"item_id":"ITEM-014","name":"Lemonade","quantity":3,"price":2.99,"subtotal":8.97},)"
            R"({"item_id":"ITEM-019","name":"Chicken Nuggets","quantity":3,"price":5.99,"subtotal":17.97}],)"
            R"("total_amount":26.94,"status":"pending","created_at":"2026-01-02T03:04:05.678Z"})");

  const Order second = generator.next();
  EXPECT_EQ(second.order_id, "ORD-20260102-testrun1-0000002");
  EXPECT_EQ(second.customer_id, "CUST-00072");
  ASSERT_EQ(second.items.size(), 5U);
  const char* const second_items[] = {"ITEM-016", "ITEM-013", "ITEM-015", "ITEM-008", "ITEM-017"};
  const std::int32_t second_quantities[] = {1, 3, 3, 2, 3};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(second.items[i].item_id, second_items[i]);
    EXPECT_EQ(second.items[i].quantity, second_quantities[i]);
  }
  EXPECT_EQ(second.total_amount.to_string(), "47.38");

  const Order third = generator.next();
  EXPECT_EQ(third.customer_id, "CUST-00071");
  EXPECT_EQ(third.customer_name, "Kavya Nguyen");
  EXPECT_EQ(third.total_amount.to_string(), "37.92");
}

TEST(OrderGenerator, SameSeedAndRunIdGiveTheSameOrdersWhateverTheClock) {
  std::int64_t tick = 0;
  OrderGenerator a(7, "abc", fixed_clock);
  OrderGenerator b(7, "abc", [&tick] { return k_fixed_time + milliseconds(++tick); });
  for (int i = 0; i < 500; ++i) {
    Order x = a.next();
    Order y = b.next();
    EXPECT_NE(x.created_at, y.created_at);
    y.created_at = x.created_at;
    ASSERT_TRUE(same_content(x, y)) << "order " << i;
  }
}

TEST(OrderGenerator, DifferentSeedsGiveDifferentOrders) {
  OrderGenerator a(1, "abc", fixed_clock);
  OrderGenerator b(2, "abc", fixed_clock);
  int same = 0;
  for (int i = 0; i < 100; ++i) {
    const Order x = a.next();
    const Order y = b.next();
    if (x.customer_id == y.customer_id && x.items == y.items) {
      ++same;
    }
  }
  EXPECT_LT(same, 5);
}

TEST(OrderGenerator, OrdersAreValidAndWithinTheirRanges) {
  OrderGenerator generator(123, "ranges", fixed_clock);
  const auto all_customers = customers();
  const auto menu = menu_items();
  std::set<std::string> customers_seen;
  std::set<std::size_t> item_counts_seen;
  std::set<std::int32_t> quantities_seen;
  std::set<std::string> items_seen;
  Order order;
  std::string json;
  for (int i = 0; i < 5000; ++i) {
    generator.next(order);
    // The customer is one of the reference customers, copied whole.
    const auto customer = std::find_if(all_customers.begin(), all_customers.end(),
                                       [&](const Customer& c) { return c.id == order.customer_id; });
    ASSERT_NE(customer, all_customers.end());
    EXPECT_EQ(order.customer_name, customer->name);
    EXPECT_EQ(order.customer_email, customer->email);
    customers_seen.insert(order.customer_id);

    ASSERT_GE(order.items.size(), 1U);
    ASSERT_LE(order.items.size(), 5U);
    item_counts_seen.insert(order.items.size());
    std::set<std::string> distinct;
    Money total;
    for (const LineItem& item : order.items) {
      const auto menu_item =
          std::find_if(menu.begin(), menu.end(), [&](const MenuItem& m) { return m.id == item.item_id; });
      ASSERT_NE(menu_item, menu.end());
      EXPECT_EQ(item.name, menu_item->name);
      EXPECT_EQ(item.price.cents(), menu_item->price_cents);
      EXPECT_GE(item.quantity, 1);
      EXPECT_LE(item.quantity, 3);
      EXPECT_EQ(item.subtotal, item.price * item.quantity);
      quantities_seen.insert(item.quantity);
      distinct.insert(item.item_id);
      items_seen.insert(item.item_id);
      total += item.subtotal;
    }
    EXPECT_EQ(distinct.size(), order.items.size()) << "items of an order are distinct";
    EXPECT_EQ(order.total_amount, total);
    EXPECT_EQ(order.status, OrderStatus::pending);
    EXPECT_EQ(order.created_at, k_fixed_time);

    // And the gate agrees.
    json.clear();
    encode(order, json);
    const DecodeResult decoded = decode(json);
    ASSERT_TRUE(decoded.ok()) << decoded.rejection().detail;
    ASSERT_TRUE(same_content(decoded.order(), order));
  }
  EXPECT_EQ(customers_seen.size(), 100U);
  EXPECT_EQ(item_counts_seen, (std::set<std::size_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(quantities_seen, (std::set<std::int32_t>{1, 2, 3}));
  EXPECT_EQ(items_seen.size(), 20U);
}

TEST(OrderGenerator, OrderIdCarriesDateRunIdAndSequence) {
  std::int64_t day = 0;
  // Crossing midnight UTC changes the date part.
  const Timestamp before_midnight{milliseconds(1'767'398'399'999)}; // 2026-01-02T23:59:59.999Z
  OrderGenerator generator(1, "k3v9q0ab", [&] { return before_midnight + milliseconds(day++); });
  EXPECT_EQ(generator.sequence(), 0U);
  EXPECT_EQ(generator.next().order_id, "ORD-20260102-k3v9q0ab-0000001");
  EXPECT_EQ(generator.next().order_id, "ORD-20260103-k3v9q0ab-0000002");
  EXPECT_EQ(generator.sequence(), 2U);
  EXPECT_EQ(generator.run_id(), "k3v9q0ab");
  EXPECT_EQ(generator.seed(), 1U);
}

TEST(OrderGenerator, SequenceIsPaddedToSevenDigitsAndThenGrows) {
  OrderGenerator generator(1, "r", fixed_clock);
  Order order;
  for (int i = 0; i < 12; ++i) {
    generator.next(order);
  }
  EXPECT_EQ(order.order_id, "ORD-20260102-r-0000012");
  EXPECT_LE(std::string("ORD-20260102-0123456789abcdef-18446744073709551615").size(), k_max_order_id_size)
      << "the longest possible id still fits the column";
}

TEST(OrderGenerator, NextReusesTheOrder) {
  OrderGenerator generator(5, "reuse", fixed_clock);
  Order order;
  for (int i = 0; i < 100; ++i) {
    generator.next(order);
  }
  const auto* const items_data = order.items.data();
  const auto capacity = order.items.capacity();
  ASSERT_EQ(capacity, 5U) << "grown to the largest order seen";
  for (int i = 0; i < 100; ++i) {
    generator.next(order);
    EXPECT_EQ(order.items.data(), items_data);
  }
}

TEST(OrderGenerator, RefusesBadRunIdsAndClocks) {
  EXPECT_THROW(OrderGenerator(1, "", fixed_clock), std::invalid_argument);
  EXPECT_THROW(OrderGenerator(1, "UPPER", fixed_clock), std::invalid_argument);
  EXPECT_THROW(OrderGenerator(1, "with-dash", fixed_clock), std::invalid_argument);
  EXPECT_THROW(OrderGenerator(1, "0123456789abcdefg", fixed_clock), std::invalid_argument);
  EXPECT_THROW(OrderGenerator(1, "ok", Clock{}), std::invalid_argument);
  EXPECT_NO_THROW(OrderGenerator(1, "0123456789abcdef", fixed_clock));
}

TEST(RunId, RandomRunIdsAreEightBase32HexCharacters) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string id = random_run_id();
    ASSERT_EQ(id.size(), 8U);
    for (const char c : id) {
      EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'v')) << id;
    }
    EXPECT_TRUE(is_valid_run_id(id));
    seen.insert(id);
  }
  EXPECT_GE(seen.size(), 199U) << "40 random bits: collisions in 200 draws are practically impossible";
}

TEST(RunId, RandomSeedsDiffer) {
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 100; ++i) {
    seen.insert(random_seed());
  }
  EXPECT_GE(seen.size(), 99U);
}

TEST(SystemNow, IsWholeMillisecondsOfTheSystemClock) {
  const auto before = std::chrono::system_clock::now();
  const Timestamp now = system_now();
  const auto after = std::chrono::system_clock::now();
  EXPECT_LE(std::chrono::floor<milliseconds>(before), now);
  EXPECT_LE(now, after);
}

} // namespace
} // namespace foodpipe::domain
