// OrderStore against the real PostgreSQL of compose/up: each test migrates a
// scratch database of its own (seed-db) and drops it at the end. A server that
// cannot be reached fails these tests; nothing is skipped.

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/log.hpp"
#include "db/connection.hpp"
#include "db/error.hpp"
#include "db/order_store.hpp"
#include "domain/generator.hpp"
#include "domain/order_json.hpp"
#include "pipeline/seed_db.hpp"
#include "support/test_env.hpp"

namespace foodpipe::db {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view k_group = "order-processors";
constexpr std::string_view k_topic = "food-orders";

// 2026-01-02T03:04:05.678Z
domain::Timestamp fixed_time() { return domain::Timestamp{std::chrono::milliseconds{1'767'323'045'678}}; }

IncomingOrder incoming(const domain::Order& order, std::int32_t partition, std::int64_t offset) {
  return IncomingOrder{order, partition, offset, order.customer_id, domain::encode(order)};
}

Batch make_batch(std::vector<IncomingOrder> orders = {}, std::vector<OffsetAdvance> offsets = {}) {
  Batch batch;
  batch.group = std::string(k_group);
  batch.topic = std::string(k_topic);
  batch.orders = std::move(orders);
  batch.offsets = std::move(offsets);
  return batch;
}

DeadLetter dead_letter(std::int32_t partition, std::int64_t offset, std::optional<std::string> payload,
                       domain::ReasonCode reason = domain::ReasonCode::invalid_json) {
  return DeadLetter{std::string(k_topic), partition, offset, std::nullopt, std::move(payload), reason,
                    "test detail"};
}

std::size_t count_reason(const WriteResult& result, domain::ReasonCode reason) {
  std::size_t count = 0;
  for (const auto& letter : result.dead_letters) {
    count += letter.reason == reason ? 1U : 0U;
  }
  return count;
}

const DeadLetter* find_letter(const WriteResult& result, std::int32_t partition, std::int64_t offset) {
  for (const auto& letter : result.dead_letters) {
    if (letter.partition == partition && letter.offset == offset) {
      return &letter;
    }
  }
  return nullptr;
}

class OrderStoreTest : public ::testing::Test {
protected:
  void SetUp() override {
    log::init(log::Level::warning, log::Format::text); // seed-db's progress is not what these tests are about
    pipeline::SeedDbOptions options;
    options.conninfo = m_database.conninfo();
    options.load_reference_data = false;
    (void)pipeline::seed_db(options);
    m_connection.emplace(Connection::connect(m_database.conninfo()));
  }

  [[nodiscard]] Connection connect() const { return Connection::connect(m_database.conninfo()); }
  [[nodiscard]] std::string query(const std::string& sql) const {
    return test::query_value(m_database.conninfo(), sql);
  }
  [[nodiscard]] int count(const std::string& table) const { return std::stoi(query("SELECT count(*) FROM " + table)); }
  [[nodiscard]] std::string stored_offset(int partition) const {
    return query("SELECT next_offset FROM consumer_offsets WHERE group_id = 'order-processors' AND "
                 "topic = 'food-orders' AND partition = " +
                 std::to_string(partition));
  }

  // Two batches of partition 0 one after the other (offsets 0-9 and 10-19),
  // with its offsets row stored at 0: an UPDATE waits for the lock of a row
  // that is there, while a row another transaction is inserting is not seen.
  std::pair<std::vector<IncomingOrder>, std::vector<IncomingOrder>> neighbouring_batches() {
    {
      OrderStore store(*m_connection);
      (void)store.write(make_batch({}, {{0, std::nullopt, 0}}));
      store.commit();
    }
    const auto orders = generate(20);
    std::pair<std::vector<IncomingOrder>, std::vector<IncomingOrder>> batches;
    for (std::int64_t i = 0; i < 10; ++i) {
      batches.first.push_back(incoming(orders[static_cast<std::size_t>(i)], 0, i));
      batches.second.push_back(incoming(orders[static_cast<std::size_t>(i + 10)], 0, i + 10));
    }
    return batches;
  }

  // Orders with fixed content: the same n gives the same order in every test.
  std::vector<domain::Order> generate(std::size_t n, std::uint64_t seed = 42) {
    domain::OrderGenerator generator(seed, "storetest", fixed_time);
    std::vector<domain::Order> orders;
    for (std::size_t i = 0; i < n; ++i) {
      orders.push_back(generator.next());
    }
    return orders;
  }

  test::ScratchDatabase m_database{"fp_store"};
  std::optional<Connection> m_connection;
};

TEST_F(OrderStoreTest, AppliesABatchAndStoresOffsets) {
  OrderStore store(*m_connection);
  const auto orders = generate(10);
  std::vector<IncomingOrder> batch_orders;
  for (std::size_t i = 0; i < orders.size(); ++i) {
    batch_orders.push_back(incoming(orders[i], static_cast<std::int32_t>(i % 2), static_cast<std::int64_t>(i / 2)));
  }
  auto result = store.write(make_batch(batch_orders, {{0, std::nullopt, 5}, {1, std::nullopt, 5}}));
  EXPECT_FALSE(result.stale);
  EXPECT_TRUE(store.in_batch());
  EXPECT_EQ(result.applied, 10U);
  EXPECT_EQ(result.duplicates, 0U);
  EXPECT_TRUE(result.dead_letters.empty());
  // Not visible to others before commit.
  EXPECT_EQ(count("orders"), 0);
  store.commit();
  EXPECT_FALSE(store.in_batch());

  EXPECT_EQ(count("orders"), 10);
  EXPECT_EQ(stored_offset(0), "5");
  EXPECT_EQ(stored_offset(1), "5");
  const domain::Order& first = orders[0];
  const std::string id = "'" + first.order_id + "'";
  EXPECT_EQ(query("SELECT customer_id || '|' || customer_name || '|' || customer_email || '|' || total_amount || '|' || "
                  "status || '|' || source_topic || '|' || source_partition || '|' || source_offset "
                  "FROM orders WHERE order_id = " + id),
            first.customer_id + "|" + first.customer_name + "|" + first.customer_email + "|" +
                first.total_amount.to_string() + "|pending|food-orders|0|0");
  EXPECT_EQ(query("SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS') FROM orders "
                  "WHERE order_id = " + id),
            "2026-01-02T03:04:05.678");
  EXPECT_EQ(query("SELECT jsonb_array_length(items) FROM orders WHERE order_id = " + id),
            std::to_string(first.items.size()));
  EXPECT_EQ(query("SELECT items->0->>'item_id' || '|' || (items->0->>'quantity') || '|' || (items->0->>'price') "
                  "FROM orders WHERE order_id = " + id),
            first.items[0].item_id + "|" + std::to_string(first.items[0].quantity) + "|" +
                first.items[0].price.to_string());
  // Containment on items (what a GIN index would serve) works on what was stored.
  EXPECT_EQ(query("SELECT count(*) FROM orders WHERE items @> '[{\"item_id\": \"" + first.items[0].item_id +
                  "\"}]' AND order_id = " + id),
            "1");
  EXPECT_EQ(query("SELECT count(*) FROM orders WHERE total_amount = (SELECT sum((i->>'subtotal')::numeric) "
                  "FROM jsonb_array_elements(items) i)"),
            "10");

  // The next batch starts where the first ended.
  const auto more = generate(12);
  result = store.write(make_batch({incoming(more[10], 0, 5), incoming(more[11], 1, 5)},
                                  {{0, 5, 6}, {1, 5, 6}}));
  ASSERT_FALSE(result.stale);
  EXPECT_EQ(result.applied, 2U);
  store.commit();
  EXPECT_EQ(count("orders"), 12);
  EXPECT_EQ(stored_offset(0), "6");
  EXPECT_EQ(store.load_offsets(std::string(k_group), std::string(k_topic)),
            (std::map<std::int32_t, std::int64_t>{{0, 6}, {1, 6}}));
}

TEST_F(OrderStoreTest, StaleExpectedOffsetRollsBackEverything) {
  OrderStore store(*m_connection);
  const auto orders = generate(6);
  (void)store.write(make_batch({incoming(orders[0], 0, 0)}, {{0, std::nullopt, 5}}));
  store.commit();
  const std::string updated_at = query("SELECT updated_at FROM consumer_offsets");

  // A consumer that still believes partition 0 is at 3 (it lost it meanwhile),
  // with a partition 1 it could otherwise claim, orders and a dead letter.
  auto batch = make_batch({incoming(orders[1], 0, 3), incoming(orders[2], 1, 0)},
                          {{0, 3, 4}, {1, std::nullopt, 2}});
  batch.dead_letters.push_back(dead_letter(1, 1, "garbage"));
  const auto result = store.write(batch);
  EXPECT_TRUE(result.stale);
  EXPECT_EQ(result.stale_partitions, std::vector<std::int32_t>{0});
  EXPECT_FALSE(store.in_batch());
  EXPECT_EQ(result.applied, 0U);
  EXPECT_TRUE(result.dead_letters.empty());
  EXPECT_EQ(count("orders"), 1);
  EXPECT_EQ(count("dead_letters"), 0);
  EXPECT_EQ(count("consumer_offsets"), 1);
  EXPECT_EQ(stored_offset(0), "5");
  EXPECT_EQ(query("SELECT updated_at FROM consumer_offsets"), updated_at);

  // An offset ahead of the stored one is just as stale: never forwards either.
  EXPECT_TRUE(store.write(make_batch({incoming(orders[3], 0, 7)}, {{0, 7, 8}})).stale);
  // "No row yet" when there is one.
  const auto claimed = store.write(make_batch({incoming(orders[4], 0, 0)}, {{0, std::nullopt, 1}}));
  EXPECT_TRUE(claimed.stale);
  EXPECT_EQ(claimed.stale_partitions, std::vector<std::int32_t>{0});
  EXPECT_EQ(stored_offset(0), "5");
  EXPECT_EQ(count("orders"), 1);

  // The store is usable afterwards.
  EXPECT_FALSE(store.write(make_batch({incoming(orders[5], 0, 5)}, {{0, 5, 6}})).stale);
  store.commit();
  EXPECT_EQ(stored_offset(0), "6");
}

TEST_F(OrderStoreTest, NoRowYetRaceExactlyOneWins) {
  Connection other = connect();
  Connection observer = connect();
  const auto orders = generate(2);
  for (const bool first_commits : {true, false}) {
    const std::int32_t partition = first_commits ? 0 : 1;
    OrderStore a(*m_connection);
    OrderStore b(other);
    const auto first = a.write(make_batch({incoming(orders[0], partition, 0)}, {{partition, std::nullopt, 1}}));
    ASSERT_FALSE(first.stale);
    // b's INSERT ... ON CONFLICT waits for a's uncommitted row.
    auto second = std::async(std::launch::async, [&] {
      return b.write(make_batch({incoming(orders[1], partition, 0)}, {{partition, std::nullopt, 1}}));
    });
    for (int i = 0; i < 500 && observer.exec("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                             "AND datname = current_database()")
                                      .value(0, 0) == "0";
         ++i) {
      std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(second.wait_for(0s), std::future_status::timeout) << "b did not wait for a";
    if (first_commits) {
      a.commit();
      const auto result = second.get();
      EXPECT_TRUE(result.stale);
      EXPECT_EQ(result.stale_partitions, std::vector<std::int32_t>{partition});
      EXPECT_FALSE(b.in_batch());
      EXPECT_EQ(query("SELECT string_agg(order_id, ',') FROM orders WHERE source_partition = 0"),
                orders[0].order_id);
    } else {
      a.rollback();
      const auto result = second.get();
      ASSERT_FALSE(result.stale);
      b.commit();
      EXPECT_EQ(query("SELECT string_agg(order_id, ',') FROM orders WHERE source_partition = 1"),
                orders[1].order_id);
    }
    EXPECT_EQ(stored_offset(partition), "1");
  }
}

TEST_F(OrderStoreTest, RacingTheSamePartitionExactlyOneCommits) {
  {
    OrderStore store(*m_connection);
    (void)store.write(make_batch({}, {{0, std::nullopt, 100}}));
    store.commit();
  }
  Connection other = connect();
  const auto orders = generate(40);
  for (std::size_t round = 0; round < 10; ++round) {
    const auto from = static_cast<std::int64_t>(100 + round);
    OrderStore a(*m_connection);
    OrderStore b(other);
    std::promise<void> go;
    const std::shared_future<void> start = go.get_future().share();
    const auto run = [&](OrderStore& store, const domain::Order& order) {
      start.wait();
      auto result = store.write(make_batch({incoming(order, 0, from)}, {{0, from, from + 1}}));
      if (!result.stale) {
        store.commit();
      }
      return !result.stale;
    };
    auto first = std::async(std::launch::async, run, std::ref(a), std::cref(orders[2 * round]));
    auto second = std::async(std::launch::async, run, std::ref(b), std::cref(orders[2 * round + 1]));
    go.set_value();
    const bool a_won = first.get();
    const bool b_won = second.get();
    EXPECT_NE(a_won, b_won) << "round " << round;
    EXPECT_EQ(stored_offset(0), std::to_string(from + 1));
    const auto& winner = a_won ? orders[2 * round] : orders[2 * round + 1];
    EXPECT_EQ(query("SELECT order_id FROM orders WHERE source_offset = " + std::to_string(from)), winner.order_id);
  }
  EXPECT_EQ(count("orders"), 10);
}

// A batch written beside the one before it (the consumer's second connection)
// writes its rows first; its offsets come after before_offsets(), and its
// conditional UPDATE waits for the first batch's row lock: it finds the
// offsets the first one moved once that one commits.
TEST_F(OrderStoreTest, ABatchBesideTheOneBeforeMovesTheOffsetsOnlyOnceThatOneCommits) {
  const auto [first_orders, second_orders] = neighbouring_batches();
  OrderStore first(*m_connection);
  Connection other = connect();
  OrderStore second(other);
  const auto first_result = first.write(make_batch(first_orders, {{0, 0, 10}}));
  ASSERT_FALSE(first_result.stale);

  std::string rows_before_offsets;
  auto beside = std::async(std::launch::async, [&] {
    return second.write(make_batch(second_orders, {{0, 10, 20}}), [&] {
      // Its own rows are written by now, in its own transaction.
      rows_before_offsets = std::string(other.exec("SELECT count(*) FROM orders").value(0, 0));
    });
  });
  EXPECT_EQ(beside.wait_for(500ms), std::future_status::timeout)
      << "the second batch's offsets must wait for the first batch's transaction";
  EXPECT_EQ(count("orders"), 0);
  first.commit();
  const auto result = beside.get();
  EXPECT_EQ(rows_before_offsets, "10");
  EXPECT_FALSE(result.stale);
  EXPECT_EQ(result.applied, 10U);
  EXPECT_EQ(count("orders"), 10) << "only the first batch is committed";
  second.commit();
  EXPECT_EQ(count("orders"), 20);
  EXPECT_EQ(stored_offset(0), "20");
}

// The first batch rolls back: the one beside it finds the offsets where they
// were, is stale, and leaves nothing behind.
TEST_F(OrderStoreTest, ABatchBesideOneThatRollsBackIsStaleAndLeavesNothing) {
  const auto [first_orders, second_orders] = neighbouring_batches();
  OrderStore first(*m_connection);
  Connection other = connect();
  OrderStore second(other);
  ASSERT_FALSE(first.write(make_batch(first_orders, {{0, 0, 10}})).stale);
  std::promise<void> first_done;
  const std::shared_future<void> done = first_done.get_future().share();
  auto beside = std::async(std::launch::async, [&] {
    return second.write(make_batch(second_orders, {{0, 10, 20}}), [&] { done.wait(); });
  });
  std::this_thread::sleep_for(200ms);
  first.rollback();
  first_done.set_value();
  const auto result = beside.get();
  EXPECT_TRUE(result.stale);
  EXPECT_EQ(result.stale_partitions, std::vector<std::int32_t>{0});
  EXPECT_EQ(result.applied, 0U) << "a stale result carries nothing but its partitions";
  EXPECT_FALSE(second.in_batch()) << "rolled back";
  EXPECT_EQ(count("orders"), 0);
  EXPECT_EQ(stored_offset(0), "0");
}

// The normal path checks that no order_id is stored, then COPYs straight into
// orders. A concurrent transaction inserting one of those ids in between makes
// the COPY fail with a unique violation: that is no rejection, the batch is
// redone on the staged path and the order is a duplicate or a conflict.
TEST_F(OrderStoreTest, ConcurrentInsertOfTheSameOrderIdIsADuplicateOrAConflict) {
  Connection other = connect();
  Connection observer = connect();
  OrderStore a(*m_connection);
  OrderStore b(other);
  const auto orders = generate(4);
  const auto wait_for_lock = [&] {
    for (int i = 0; i < 500 && observer.exec("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                             "AND datname = current_database()")
                                      .value(0, 0) == "0";
         ++i) {
      std::this_thread::sleep_for(10ms);
    }
  };

  // Same content.
  ASSERT_FALSE(a.write(make_batch({incoming(orders[0], 0, 0)}, {{0, std::nullopt, 1}})).stale);
  auto same = std::async(std::launch::async, [&] {
    return b.write(make_batch({incoming(orders[0], 1, 0), incoming(orders[1], 1, 1)}, {{1, std::nullopt, 2}}));
  });
  wait_for_lock();
  EXPECT_EQ(same.wait_for(0s), std::future_status::timeout) << "b did not wait for a";
  a.commit();
  const auto duplicate = same.get();
  EXPECT_EQ(duplicate.applied, 1U);
  EXPECT_EQ(duplicate.duplicates, 1U);
  EXPECT_TRUE(duplicate.dead_letters.empty());
  b.commit();

  // Other content.
  domain::Order changed = orders[2];
  changed.customer_email = "someone.else@example.com";
  ASSERT_FALSE(a.write(make_batch({incoming(orders[2], 0, 1)}, {{0, 1, 2}})).stale);
  auto conflicting = std::async(std::launch::async, [&] {
    return b.write(make_batch({incoming(changed, 1, 2), incoming(orders[3], 1, 3)}, {{1, 2, 4}}));
  });
  wait_for_lock();
  a.commit();
  const auto conflict = conflicting.get();
  EXPECT_EQ(conflict.applied, 1U);
  EXPECT_EQ(conflict.duplicates, 0U);
  ASSERT_EQ(conflict.dead_letters.size(), 1U);
  EXPECT_EQ(conflict.dead_letters[0].reason, domain::ReasonCode::conflicting_duplicate);
  EXPECT_NE(conflict.dead_letters[0].detail.find("food-orders[0]@1"), std::string::npos)
      << conflict.dead_letters[0].detail;
  b.commit();

  EXPECT_EQ(count("orders"), 4);
  EXPECT_EQ(query("SELECT customer_email FROM orders WHERE order_id = '" + orders[2].order_id + "'"),
            orders[2].customer_email);
  EXPECT_EQ(count("dead_letters"), 1);
  EXPECT_EQ(stored_offset(1), "4");
}

TEST_F(OrderStoreTest, ExactDuplicateAcrossBatchesIsCountedNotDeadLettered) {
  OrderStore store(*m_connection);
  const auto orders = generate(1);
  (void)store.write(make_batch({incoming(orders[0], 0, 0)}, {{0, std::nullopt, 1}}));
  store.commit();

  // Re-delivered, even on another partition and with other bytes for the same content.
  auto again = incoming(orders[0], 2, 0);
  again.value = " " + again.value + "\n";
  const auto result = store.write(make_batch({again}, {{0, 1, 1}, {2, std::nullopt, 1}}));
  ASSERT_FALSE(result.stale);
  EXPECT_EQ(result.applied, 0U);
  EXPECT_EQ(result.duplicates, 1U);
  EXPECT_TRUE(result.dead_letters.empty());
  EXPECT_EQ(result.processing_latency_ms.count(), 0U);
  store.commit();
  EXPECT_EQ(count("orders"), 1);
  EXPECT_EQ(count("dead_letters"), 0);
  EXPECT_EQ(query("SELECT source_partition FROM orders"), "0");
  EXPECT_EQ(stored_offset(2), "1");
}

TEST_F(OrderStoreTest, ConflictingDuplicateAcrossBatchesIsDeadLetteredWithTheRawPayload) {
  OrderStore store(*m_connection);
  const auto orders = generate(3);
  (void)store.write(make_batch({incoming(orders[0], 0, 0), incoming(orders[1], 0, 1)}, {{0, std::nullopt, 2}}));
  store.commit();

  // Same order_id, other content, one field at a time: every field is compared.
  std::vector<domain::Order> variants(7, orders[0]);
  variants[0].status = domain::OrderStatus::delivered;
  variants[1].customer_name += "x";
  variants[2].customer_email = "other@example.com";
  variants[3].items[0].quantity += 1;
  variants[3].items[0].subtotal = variants[3].items[0].subtotal + variants[3].items[0].price;
  variants[3].total_amount = variants[3].total_amount + variants[3].items[0].price;
  variants[4].created_at += 1ms;
  variants[5].customer_id = "CUST-99999";
  variants[6].items[0].name = "Another name";
  std::vector<IncomingOrder> batch_orders;
  for (std::size_t i = 0; i < variants.size(); ++i) {
    batch_orders.push_back(incoming(variants[i], 0, static_cast<std::int64_t>(2 + i)));
  }
  batch_orders.push_back(incoming(orders[2], 0, 9));
  batch_orders.back().key = std::nullopt;
  const auto result = store.write(make_batch(batch_orders, {{0, 2, 10}}));
  ASSERT_FALSE(result.stale);
  EXPECT_EQ(result.applied, 1U);
  EXPECT_EQ(result.duplicates, 0U);
  ASSERT_EQ(result.dead_letters.size(), variants.size());
  EXPECT_EQ(count_reason(result, domain::ReasonCode::conflicting_duplicate), variants.size());
  const DeadLetter* letter = find_letter(result, 0, 2);
  ASSERT_NE(letter, nullptr);
  EXPECT_EQ(letter->payload, batch_orders[0].value);
  EXPECT_EQ(letter->key, orders[0].customer_id);
  EXPECT_NE(letter->detail.find(orders[0].order_id), std::string::npos) << letter->detail;
  EXPECT_NE(letter->detail.find("food-orders[0]@0"), std::string::npos) << letter->detail;
  EXPECT_EQ(result.dead_letters_recorded, variants.size());
  store.commit();

  EXPECT_EQ(count("orders"), 3);
  EXPECT_EQ(query("SELECT status FROM orders WHERE order_id = '" + orders[0].order_id + "'"), "pending");
  EXPECT_EQ(count("dead_letters"), static_cast<int>(variants.size()));
  EXPECT_EQ(query("SELECT reason_code || '|' || consumer_group || '|' || (message_key IS NULL) || '|' || "
                  "(convert_from(payload, 'UTF8') = $p$" + batch_orders[0].value +
                  "$p$) FROM dead_letters WHERE source_offset = 2"),
            "conflicting_duplicate|order-processors|false|true");
  EXPECT_EQ(query("SELECT convert_from(message_key, 'UTF8') FROM dead_letters WHERE source_offset = 2"),
            orders[0].customer_id);
}

TEST_F(OrderStoreTest, DuplicatesWithinABatch) {
  OrderStore store(*m_connection);
  const auto orders = generate(2);
  domain::Order changed = orders[0];
  changed.status = domain::OrderStatus::cancelled;
  // Given out of position order: the lowest (partition, offset) is the one applied.
  const std::vector<IncomingOrder> batch_orders = {
      incoming(changed, 1, 0),   // conflicts with the first occurrence, 0@4
      incoming(orders[0], 0, 6), // exact duplicate of 0@4
      incoming(orders[0], 0, 4), // the first occurrence
      incoming(orders[1], 0, 5),
  };
  const auto result = store.write(make_batch(batch_orders, {{0, std::nullopt, 7}, {1, std::nullopt, 1}}));
  ASSERT_FALSE(result.stale);
  EXPECT_EQ(result.applied, 2U);
  EXPECT_EQ(result.duplicates, 1U);
  ASSERT_EQ(result.dead_letters.size(), 1U);
  const DeadLetter& letter = result.dead_letters[0];
  EXPECT_EQ(letter.reason, domain::ReasonCode::conflicting_duplicate);
  EXPECT_EQ(letter.partition, 1);
  EXPECT_EQ(letter.offset, 0);
  EXPECT_EQ(letter.payload, batch_orders[0].value);
  EXPECT_NE(letter.detail.find(orders[0].order_id), std::string::npos) << letter.detail;
  EXPECT_NE(letter.detail.find("food-orders[0]@4"), std::string::npos) << letter.detail;
  store.commit();
  EXPECT_EQ(query("SELECT source_partition || '@' || source_offset || '|' || status FROM orders WHERE order_id = '" +
                  orders[0].order_id + "'"),
            "0@4|pending");
  EXPECT_EQ(query("SELECT reason_code FROM dead_letters WHERE source_partition = 1 AND source_offset = 0"),
            "conflicting_duplicate");
}

// A copy of an order within the batch fares as its first occurrence does: a
// copy of a conflict is a conflict, a copy of a refused row is refused, a copy
// of an inserted row is a duplicate. Never "a duplicate of something that was
// not stored".
TEST_F(OrderStoreTest, CopiesWithinABatchShareTheirFirstOccurrencesVerdict) {
  OrderStore store(*m_connection);
  auto orders = generate(3);
  (void)store.write(make_batch({incoming(orders[0], 0, 0)}, {{0, std::nullopt, 1}}));
  store.commit();

  auto conflict = orders[0];
  conflict.status = domain::OrderStatus::cancelled;
  auto refused = orders[1];
  refused.customer_name = std::string("Nul\0Byte", 8);
  const auto result = store.write(make_batch({incoming(conflict, 0, 1), incoming(conflict, 0, 2),
                                              incoming(refused, 0, 3), incoming(refused, 0, 4),
                                              incoming(orders[2], 0, 5), incoming(orders[2], 0, 6)},
                                             {{0, 1, 7}}));
  ASSERT_FALSE(result.stale);
  EXPECT_EQ(result.applied, 1U);
  EXPECT_EQ(result.duplicates, 1U) << "only the copy of the inserted order";
  ASSERT_EQ(result.dead_letters.size(), 4U);
  for (const std::int64_t offset : {1, 2}) {
    const DeadLetter* letter = find_letter(result, 0, offset);
    ASSERT_NE(letter, nullptr) << offset;
    EXPECT_EQ(letter->reason, domain::ReasonCode::conflicting_duplicate) << offset;
    EXPECT_EQ(letter->payload, domain::encode(conflict));
  }
  for (const std::int64_t offset : {3, 4}) {
    const DeadLetter* letter = find_letter(result, 0, offset);
    ASSERT_NE(letter, nullptr) << offset;
    EXPECT_EQ(letter->reason, domain::ReasonCode::db_rejected) << offset;
  }
  store.commit();
  EXPECT_EQ(count("dead_letters"), 4);
  EXPECT_EQ(count("orders"), 2);
}

TEST_F(OrderStoreTest, RefusedRowsAreIsolatedAsDbRejected) {
  OrderStore store(*m_connection);
  auto orders = generate(40);
  // None of these can come out of domain::decode, which is why the store must cope anyway.
  orders[3].customer_name = std::string("Nul\0Byte", 8);                 // text cannot hold NUL
  orders[10].total_amount = domain::Money::from_cents(10'000'000'000);  // 100000000.00 > numeric(10,2)
  orders[17].customer_id = std::string(51, 'C');                        // varchar(50)
  orders[25].items[0].name = std::string("Nul\0Item", 8);               // jsonb refuses \u0000
  orders[33].total_amount = domain::Money::from_cents(0);                // CHECK (total_amount > 0)
  std::vector<IncomingOrder> batch_orders;
  for (std::size_t i = 0; i < orders.size(); ++i) {
    batch_orders.push_back(incoming(orders[i], 0, static_cast<std::int64_t>(i)));
  }
  batch_orders[17].key = std::nullopt;
  auto batch = make_batch(batch_orders, {{0, std::nullopt, 40}});
  batch.dead_letters.push_back(dead_letter(1, 0, std::nullopt, domain::ReasonCode::null_value));
  batch.offsets.push_back({1, std::nullopt, 1});
  const auto result = store.write(batch);
  ASSERT_FALSE(result.stale);
  EXPECT_EQ(result.applied, 35U);
  EXPECT_EQ(result.processing_latency_ms.count(), 35U);
  ASSERT_EQ(result.dead_letters.size(), 6U);
  EXPECT_EQ(count_reason(result, domain::ReasonCode::db_rejected), 5U);
  const auto detail_of = [&](std::int64_t offset) {
    const DeadLetter* letter = find_letter(result, 0, offset);
    return letter != nullptr ? letter->detail : std::string("<none>");
  };
  EXPECT_EQ(detail_of(3).rfind("SQLSTATE 22021: ", 0), 0U) << detail_of(3);
  EXPECT_NE(detail_of(3).find("0x00"), std::string::npos) << detail_of(3);
  EXPECT_EQ(detail_of(10).rfind("SQLSTATE 22003: numeric field overflow", 0), 0U) << detail_of(10);
  EXPECT_EQ(detail_of(17).rfind("SQLSTATE 22001: value too long for type character varying(50)", 0), 0U)
      << detail_of(17);
  EXPECT_EQ(detail_of(25).rfind("SQLSTATE 22P05: ", 0), 0U) << detail_of(25);
  EXPECT_EQ(detail_of(33).rfind("SQLSTATE 23514: ", 0), 0U) << detail_of(33);
  EXPECT_NE(detail_of(33).find("orders_total_amount_check"), std::string::npos) << detail_of(33);
  const DeadLetter* rejected = find_letter(result, 0, 10);
  ASSERT_NE(rejected, nullptr);
  EXPECT_EQ(rejected->payload, batch_orders[10].value);
  EXPECT_EQ(rejected->key, orders[10].customer_id);
  EXPECT_FALSE(find_letter(result, 0, 17)->key.has_value());
  store.commit();

  EXPECT_EQ(count("orders"), 35);
  EXPECT_EQ(query("SELECT count(*) FROM orders WHERE source_offset IN (3, 10, 17, 25, 33)"), "0");
  EXPECT_EQ(count("dead_letters"), 6);
  EXPECT_EQ(query("SELECT string_agg(source_offset::text, ',' ORDER BY source_offset) FROM dead_letters "
                  "WHERE reason_code = 'db_rejected'"),
            "3,10,17,25,33");
  EXPECT_EQ(query("SELECT count(*) FROM dead_letters WHERE reason_code = 'db_rejected' AND reason_detail LIKE "
                  "'SQLSTATE _____: %' AND payload IS NOT NULL"),
            "5");
  EXPECT_EQ(query("SELECT (message_key IS NULL)::text || (payload IS NULL)::text FROM dead_letters WHERE "
                  "source_partition = 1"),
            "truetrue");
  EXPECT_EQ(stored_offset(0), "40");

  // A batch of nothing but one refused row.
  auto lone = make_batch({incoming(orders[10], 0, 40)}, {{0, 40, 41}});
  const auto alone = store.write(lone);
  EXPECT_EQ(alone.applied, 0U);
  ASSERT_EQ(alone.dead_letters.size(), 1U);
  EXPECT_EQ(alone.dead_letters[0].reason, domain::ReasonCode::db_rejected);
  store.commit();
  EXPECT_EQ(stored_offset(0), "41");
}

TEST_F(OrderStoreTest, AwkwardTextIsStoredVerbatim) {
  OrderStore store(*m_connection);
  const std::vector<std::string> names = {
      "O'Brien \"the\" Great",
      "back\\slash \\N \\. \\\\ end\\",
      "tab\there\tand\nnew\nline\r\nCRLF",
      "Zoë 😀 日本語 \u2028 ﷽",
      "'); DROP TABLE orders; --",
      "\\.",
      "\\N",
      "$1 %s {} [] \x01\x1f\x7f",
  };
  auto orders = generate(names.size());
  std::vector<IncomingOrder> batch_orders;
  for (std::size_t i = 0; i < names.size(); ++i) {
    orders[i].customer_name = names[i];
    orders[i].customer_email = names[i] + "@example.com";
    orders[i].items[0].name = names[i];
    batch_orders.push_back(incoming(orders[i], 0, static_cast<std::int64_t>(i)));
  }
  const auto result = store.write(make_batch(batch_orders, {{0, std::nullopt, 100}}));
  ASSERT_EQ(result.applied, names.size());
  ASSERT_TRUE(result.dead_letters.empty()) << result.dead_letters[0].detail;
  store.commit();
  for (std::size_t i = 0; i < names.size(); ++i) {
    const Result row = m_connection->exec_params(
        "SELECT customer_name, customer_email, items->0->>'name' FROM orders WHERE order_id = $1",
        {orders[i].order_id});
    ASSERT_EQ(row.rows(), 1);
    EXPECT_EQ(row.value(0, 0), names[i]);
    EXPECT_EQ(row.value(0, 1), names[i] + "@example.com");
    EXPECT_EQ(row.value(0, 2), names[i]);
  }
  // Stored content compares equal with what arrives again: exact duplicates.
  const auto again = store.write(make_batch(batch_orders)); // a replay: no offsets
  EXPECT_EQ(again.duplicates, names.size());
  EXPECT_TRUE(again.dead_letters.empty());
  store.rollback();
}

TEST_F(OrderStoreTest, DeadLetterPositionsAreUnique) {
  OrderStore store(*m_connection);
  std::string raw;
  for (int i = 0; i < 256; ++i) {
    raw.push_back(static_cast<char>(i));
  }
  auto letter = dead_letter(0, 0, raw, domain::ReasonCode::invalid_utf8);
  letter.key = std::string("k\0y\xff", 4);
  letter.detail = std::string("bad \xff byte and a NUL \0 here", 27);
  auto batch = make_batch({}, {{0, std::nullopt, 1}});
  batch.dead_letters.push_back(letter);
  auto result = store.write(batch);
  EXPECT_EQ(result.dead_letters_recorded, 1U);
  ASSERT_EQ(result.dead_letters.size(), 1U);
  EXPECT_EQ(result.dead_letters[0], letter);
  store.commit();
  EXPECT_EQ(query("SELECT payload = decode('" + [&] {
                    std::string hex;
                    for (const char c : raw) {
                      constexpr std::string_view k_digits = "0123456789abcdef";
                      hex.push_back(k_digits[static_cast<unsigned char>(c) >> 4U]);
                      hex.push_back(k_digits[static_cast<unsigned char>(c) & 0x0FU]);
                    }
                    return hex;
                  }() + "', 'hex') FROM dead_letters"),
            "t");
  EXPECT_EQ(query("SELECT encode(message_key, 'hex') FROM dead_letters"), "6b0079ff");
  EXPECT_EQ(query("SELECT reason_code || '|' || reason_detail || '|' || consumer_group FROM dead_letters"),
            "invalid_utf8|bad \xEF\xBF\xBD byte and a NUL \xEF\xBF\xBD here|order-processors");

  // A replay (no offsets) re-processing the same position is a no-op, even with another reason.
  auto replay = make_batch();
  letter.reason = domain::ReasonCode::too_large;
  replay.dead_letters = {letter, letter};
  result = store.write(replay);
  EXPECT_EQ(result.dead_letters.size(), 2U);
  EXPECT_EQ(result.dead_letters_recorded, 0U);
  store.commit();
  EXPECT_EQ(count("dead_letters"), 1);
  EXPECT_EQ(query("SELECT reason_code FROM dead_letters"), "invalid_utf8");
}

TEST_F(OrderStoreTest, RollbackAfterWriteLeavesNothing) {
  OrderStore store(*m_connection);
  const auto orders = generate(3);
  auto batch = make_batch({incoming(orders[0], 0, 0), incoming(orders[1], 0, 1)}, {{0, std::nullopt, 3}});
  batch.dead_letters.push_back(dead_letter(0, 2, "{"));
  const auto result = store.write(batch);
  ASSERT_FALSE(result.stale);
  EXPECT_EQ(result.applied, 2U);
  store.rollback();
  EXPECT_FALSE(store.in_batch());
  EXPECT_FALSE(m_connection->in_transaction());
  EXPECT_EQ(count("orders"), 0);
  EXPECT_EQ(count("dead_letters"), 0);
  EXPECT_EQ(count("consumer_offsets"), 0);
  store.rollback(); // harmless without a batch

  // The staging tables are empty again: the same batch applies exactly once.
  const auto retried = store.write(batch);
  EXPECT_EQ(retried.applied, 2U);
  store.commit();
  EXPECT_EQ(count("orders"), 2);
  EXPECT_EQ(count("dead_letters"), 1);
  EXPECT_EQ(m_connection->exec("SELECT count(*) FROM pg_temp.foodpipe_order_stage").value(0, 0), "0");

  // The destructor rolls back too.
  {
    OrderStore scoped(*m_connection);
    (void)scoped.write(make_batch({incoming(orders[2], 0, 3)}, {{0, 3, 4}}));
  }
  EXPECT_EQ(count("orders"), 2);
  EXPECT_EQ(stored_offset(0), "3");
}

TEST_F(OrderStoreTest, LoadOffsets) {
  OrderStore store(*m_connection);
  EXPECT_TRUE(store.load_offsets("g", "t").empty());
  for (const auto& [group, topic, partition, next] :
       std::vector<std::tuple<std::string, std::string, std::int32_t, std::int64_t>>{
           {"g", "t", 0, 10}, {"g", "t", 2, 30}, {"g", "other", 0, 7}, {"h", "t", 1, 99}}) {
    Batch batch;
    batch.group = group;
    batch.topic = topic;
    batch.offsets = {{partition, std::nullopt, next}};
    ASSERT_FALSE(store.write(batch).stale);
    store.commit();
  }
  EXPECT_EQ(store.load_offsets("g", "t"), (std::map<std::int32_t, std::int64_t>{{0, 10}, {2, 30}}));
  EXPECT_EQ(store.load_offsets("g", "other"), (std::map<std::int32_t, std::int64_t>{{0, 7}}));
  EXPECT_EQ(store.load_offsets("h", "t"), (std::map<std::int32_t, std::int64_t>{{1, 99}}));
  EXPECT_TRUE(store.load_offsets("h", "other").empty());
  // A second store on the same connection shares the session's statements and tables.
  OrderStore second(*m_connection);
  EXPECT_EQ(second.load_offsets("g", "t").size(), 2U);
}

TEST_F(OrderStoreTest, LatencyHistogramIsPopulated) {
  OrderStore store(*m_connection);
  const auto created = domain::system_now() - 1500ms;
  domain::OrderGenerator generator(7, "latency", [created] { return created; });
  std::vector<IncomingOrder> batch_orders;
  for (int i = 0; i < 20; ++i) {
    batch_orders.push_back(incoming(generator.next(), 0, i));
  }
  const auto result = store.write(make_batch(batch_orders, {{0, std::nullopt, 20}}));
  store.commit();
  const auto& latency = result.processing_latency_ms;
  EXPECT_EQ(latency.count(), 20U);
  EXPECT_GE(latency.min(), 1500);
  EXPECT_LT(latency.max(), 60'000);
  EXPECT_EQ(latency.min(), latency.max()); // one processed_at per transaction
  EXPECT_EQ(query("SELECT floor(extract(epoch FROM processed_at - created_at) * 1000)::bigint FROM orders LIMIT 1"),
            std::to_string(latency.max()));

  // The staged path (taken because one order is already stored) measures the same way.
  std::vector<IncomingOrder> more = {batch_orders[0]};
  more[0].offset = 20;
  for (int i = 21; i < 26; ++i) {
    more.push_back(incoming(generator.next(), 0, i));
  }
  const auto staged = store.write(make_batch(more, {{0, 20, 26}}));
  store.commit();
  EXPECT_EQ(staged.duplicates, 1U);
  EXPECT_EQ(staged.processing_latency_ms.count(), 5U);
  EXPECT_GE(staged.processing_latency_ms.min(), 1500);
  EXPECT_EQ(query("SELECT max(floor(extract(epoch FROM processed_at - created_at) * 1000))::bigint FROM orders"),
            std::to_string(staged.processing_latency_ms.max()));
}

TEST_F(OrderStoreTest, LostConnectionBeforeCommitThrowsTransientAndStoresNothing) {
  OrderStore store(*m_connection);
  const std::string pid(m_connection->exec("SELECT pg_backend_pid()").value(0, 0));
  const auto orders = generate(3);
  auto batch = make_batch({incoming(orders[0], 0, 0), incoming(orders[1], 0, 1)}, {{0, std::nullopt, 3}});
  batch.dead_letters.push_back(dead_letter(0, 2, "{"));
  ASSERT_FALSE(store.write(batch).stale);
  EXPECT_EQ(query("SELECT pg_terminate_backend(" + pid + ")"), "t");
  try {
    store.commit();
    FAIL() << "commit succeeded on a terminated connection";
  } catch (const DbError& error) {
    EXPECT_TRUE(error.connection_lost()) << error.what();
    EXPECT_TRUE(error.is_transient()) << error.what() << " [" << error.sqlstate() << "]";
  }
  EXPECT_FALSE(store.in_batch());
  EXPECT_FALSE(m_connection->is_open());
  EXPECT_EQ(count("orders"), 0);
  EXPECT_EQ(count("dead_letters"), 0);
  EXPECT_EQ(count("consumer_offsets"), 0);

  // What the consumer does next: reconnect, new store, re-read, write again.
  m_connection.emplace(connect());
  OrderStore fresh(*m_connection);
  EXPECT_TRUE(fresh.load_offsets(std::string(k_group), std::string(k_topic)).empty());
  EXPECT_EQ(fresh.write(batch).applied, 2U);
  fresh.commit();
  EXPECT_EQ(stored_offset(0), "3");
}

TEST_F(OrderStoreTest, LostConnectionDuringWriteThrowsTransient) {
  OrderStore store(*m_connection);
  const std::string pid(m_connection->exec("SELECT pg_backend_pid()").value(0, 0));
  EXPECT_EQ(query("SELECT pg_terminate_backend(" + pid + ")"), "t");
  const auto orders = generate(1);
  try {
    (void)store.write(make_batch({incoming(orders[0], 0, 0)}, {{0, std::nullopt, 1}}));
    FAIL() << "write succeeded on a terminated connection";
  } catch (const DbError& error) {
    EXPECT_TRUE(error.is_transient()) << error.what();
  }
  EXPECT_FALSE(store.in_batch());
}

TEST_F(OrderStoreTest, OtherErrorsAreThrownNotDeadLettered) {
  OrderStore store(*m_connection);
  m_connection->exec("SET lock_timeout = '200ms'");
  Connection locker = connect();
  locker.exec("BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE");
  const auto orders = generate(2);
  try {
    (void)store.write(make_batch({incoming(orders[0], 0, 0), incoming(orders[1], 0, 1)}, {{0, std::nullopt, 2}}));
    FAIL() << "write succeeded on a locked table";
  } catch (const DbError& error) {
    EXPECT_EQ(error.sqlstate(), "55P03") << error.what();
    EXPECT_FALSE(error.connection_lost());
  }
  EXPECT_FALSE(store.in_batch());
  EXPECT_FALSE(m_connection->in_transaction());
  locker.exec("ROLLBACK");
  EXPECT_EQ(count("consumer_offsets"), 0);
  EXPECT_EQ(count("dead_letters"), 0);
  EXPECT_EQ(store.write(make_batch({incoming(orders[0], 0, 0)}, {{0, std::nullopt, 2}})).applied, 1U);
  store.commit();
}

TEST_F(OrderStoreTest, MisuseIsRefusedBeforeTouchingTheDatabase) {
  OrderStore store(*m_connection);
  const auto orders = generate(2);
  EXPECT_THROW(store.commit(), std::logic_error);
  EXPECT_THROW((void)store.write(make_batch({}, {{0, 5, 4}})), std::invalid_argument);
  EXPECT_THROW((void)store.write(make_batch({}, {{0, std::nullopt, 1}, {0, std::nullopt, 2}})), std::invalid_argument);
  EXPECT_THROW((void)store.write(make_batch({incoming(orders[0], 0, 5)}, {{0, std::nullopt, 5}})),
               std::invalid_argument);
  EXPECT_THROW((void)store.write(make_batch({incoming(orders[0], 0, 1), incoming(orders[1], 0, 1)}, {})),
               std::invalid_argument);
  EXPECT_FALSE(store.in_batch());
  (void)store.write(make_batch({incoming(orders[0], 0, 0)}, {{0, std::nullopt, 1}}));
  EXPECT_THROW((void)store.write(make_batch({incoming(orders[1], 0, 1)}, {{0, 1, 2}})), std::logic_error);
  EXPECT_TRUE(store.in_batch()); // the open batch is untouched
  store.commit();
  EXPECT_EQ(count("orders"), 1);
  m_connection->exec("BEGIN");
  EXPECT_THROW(OrderStore{*m_connection}, std::logic_error);
  m_connection->exec("ROLLBACK");
}

TEST_F(OrderStoreTest, FullBatchesOfGeneratedOrders) {
  OrderStore store(*m_connection);
  domain::OrderGenerator generator(2026, "bulk", fixed_time);
  std::int64_t total_cents = 0;
  std::int64_t next = 0;
  for (int round = 0; round < 3; ++round) {
    std::vector<IncomingOrder> batch_orders;
    const std::int64_t from = next;
    for (int i = 0; i < 5000; ++i) {
      const domain::Order order = generator.next();
      total_cents += order.total_amount.cents();
      batch_orders.push_back(incoming(order, 0, next++));
    }
    const auto result = store.write(make_batch(std::move(batch_orders),
                                               {{0, round == 0 ? std::nullopt : std::optional(from), next}}));
    ASSERT_FALSE(result.stale);
    EXPECT_EQ(result.applied, 5000U);
    EXPECT_EQ(result.processing_latency_ms.count(), 5000U);
    store.commit();
  }
  EXPECT_EQ(count("orders"), 15000);
  EXPECT_EQ(query("SELECT sum(total_amount) * 100 FROM orders"), std::to_string(total_cents) + ".00");
  EXPECT_EQ(stored_offset(0), "15000");
}

} // namespace
} // namespace foodpipe::db
