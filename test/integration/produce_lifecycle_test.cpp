// foodpipe produce --lifecycle against the real broker: each order before its
// status events on its key, the events in lifecycle order and exactly those
// domain's plan gives for the seed, exact headers, a summary that counts
// orders and events apart, the same events for the same seed, and delays that
// are really waited for when scaled, and SIGTERM leaving events unsent but
// accounted for.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "domain/lifecycle.hpp"
#include "domain/message_kind.hpp"
#include "domain/order_event_json.hpp"
#include "domain/order_json.hpp"
#include "kafka/admin.hpp"
#include "kafka/reader.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Record {
  std::int32_t partition = 0;
  std::string key;
  std::string value;
  HeaderList headers;
};

kafka::ClientSettings client() { return {test::bootstrap_servers(), {}}; }

// Every message of the topic, partition by partition, each partition in offset order.
std::vector<Record> read_topic(const std::string& topic) {
  kafka::Admin admin(client());
  auto metadata = admin.metadata(10s, topic);
  // KRaft publishes a new topic's metadata asynchronously.
  for (int i = 0; i < 50 && (metadata.topics.empty() || !metadata.topics[0].ok()); ++i) {
    std::this_thread::sleep_for(100ms);
    metadata = admin.metadata(10s, topic);
  }
  kafka::Reader reader(client());
  std::vector<kafka::PartitionRange> ranges;
  for (const auto& partition : metadata.topics.at(0).partitions) {
    const auto marks = reader.watermarks(topic, partition.id, 10s);
    ranges.push_back({partition.id, marks.low, marks.high});
  }
  std::vector<Record> records;
  reader.read(topic, ranges, [&](kafka::MessageView m) {
    records.push_back({m.partition(), std::string(m.key()), std::string(m.value()), m.headers()});
    return true;
  });
  return records;
}

// Order n of a run: the sequence number at the end of its id ("ORD-...-0000042").
std::uint64_t sequence_of(const std::string& order_id) {
  return std::stoull(order_id.substr(order_id.rfind('-') + 1));
}

// What a run put on its topic, checked as it is read.
struct Lifecycles {
  std::vector<domain::Order> orders;                       // in the order read
  std::map<std::string, domain::Order> order_by_id;
  std::map<std::string, std::vector<domain::OrderStatusEvent>> events; // order id -> as read
  std::uint64_t event_count = 0;
};

// Reads `topic` and checks, per key (the records of one key are in one
// partition, in the order written): each order has the exact order headers
// and comes before its events; each event has the exact event headers, the
// order's key, and is the next one of its order's plan (seed, scale), so the
// events of an order are in lifecycle order with nothing missing in between.
Lifecycles read_lifecycles(const std::string& topic, const std::string& run_id, std::uint64_t seed,
                           domain::TimeScale scale) {
  const HeaderList order_headers{
      {"schema-version", "1"}, {"content-type", "application/json"}, {"run-id", run_id}};
  const HeaderList event_headers{{"type", "order_status"},
                                 {"schema-version", "1"},
                                 {"content-type", "application/json"},
                                 {"run-id", run_id}};
  Lifecycles out;
  std::map<std::string, std::vector<domain::PlannedEvent>> plans;
  std::map<std::string, std::int32_t> partition_of_key;
  for (const auto& record : read_topic(topic)) {
    const auto [place, fresh] = partition_of_key.emplace(record.key, record.partition);
    EXPECT_EQ(place->second, record.partition) << record.key << " must stay on one partition";
    if (record.headers == order_headers) {
      auto decoded = domain::decode(record.value);
      EXPECT_TRUE(decoded.ok()) << record.value;
      if (!decoded.ok()) {
        continue;
      }
      const auto order = std::move(decoded).order();
      EXPECT_EQ(record.key, order.customer_id);
      auto random = domain::lifecycle_random(seed, sequence_of(order.order_id));
      plans[order.order_id] = domain::plan_lifecycle(order, random, scale);
      out.order_by_id[order.order_id] = order;
      out.orders.push_back(order);
      continue;
    }
    EXPECT_EQ(record.headers, event_headers) << record.value;
    auto decoded = domain::decode_event(record.value);
    EXPECT_TRUE(decoded.ok()) << record.value;
    if (!decoded.ok()) {
      continue;
    }
    const auto event = std::move(decoded).event();
    EXPECT_EQ(record.key, event.customer_id);
    const auto plan = plans.find(event.order_id);
    EXPECT_NE(plan, plans.end()) << event.event_id << " came before its order on key " << record.key;
    if (plan == plans.end()) {
      continue;
    }
    auto& seen = out.events[event.order_id];
    EXPECT_LT(seen.size(), plan->second.size()) << event.event_id << ": more events than planned";
    if (seen.size() < plan->second.size()) {
      EXPECT_EQ(event, plan->second[seen.size()].event)
          << "event " << seen.size() + 1 << " of " << event.order_id;
    }
    seen.push_back(event);
    ++out.event_count;
  }
  for (const auto& [order_id, plan] : plans) {
    EXPECT_EQ(out.events[order_id].size(), plan.size()) << order_id << ": every planned event is published";
  }
  return out;
}

// How many events domain plans for orders 1..count of a seed (the number
// depends only on the seed's draws, not on ids or times).
std::uint64_t planned_events(std::uint64_t seed, std::uint64_t count) {
  std::uint64_t total = 0;
  for (std::uint64_t n = 1; n <= count; ++n) {
    auto random = domain::lifecycle_random(seed, n);
    total +=
        domain::plan_lifecycle("ORD-20260102-x-0000001", "CUST-00001", domain::Timestamp{}, random).size();
  }
  return total;
}

TEST(ProduceLifecycle, EachOrderThenItsPlannedEventsInOrderWithExactHeadersAndCounts) {
  const auto topic = test::unique_name("produce_lifecycle");
  const auto result = test::run_foodpipe({"produce", "--topic", topic, "--lifecycle", "--count", "50",
                                          "--seed", "7", "--time-scale", "0", "--run-id", "lc7", "--json",
                                          "--quiet"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::uint64_t expected_events = planned_events(7, 50);
  // 50 orders of four events each but for a cancelled one that ends early: the plan of seed 7.
  EXPECT_EQ(expected_events, 198U);

  const auto summary = test::parse_json(result.out);
  EXPECT_EQ(summary["sent"].GetUint64(), 50U);
  EXPECT_EQ(summary["delivered"].GetUint64(), 50U);
  EXPECT_EQ(summary["failed"].GetUint64(), 0U);
  EXPECT_TRUE(summary["lifecycle"].GetBool());
  EXPECT_EQ(summary["events"].GetUint64(), expected_events);
  EXPECT_EQ(summary["events_delivered"].GetUint64(), expected_events);
  EXPECT_EQ(summary["events_failed"].GetUint64(), 0U);
  EXPECT_EQ(summary["events_unsent"].GetUint64(), 0U);
  EXPECT_EQ(summary["seed"].GetUint64(), 7U);
  EXPECT_FALSE(summary["interrupted"].GetBool());

  const auto read = read_lifecycles(topic, "lc7", 7, domain::TimeScale::from_millionths(0));
  ASSERT_EQ(read.orders.size(), 50U);
  EXPECT_EQ(read.event_count, expected_events);
  // With no delay every event carries its order's created_at.
  for (const auto& [order_id, events] : read.events) {
    for (const auto& event : events) {
      EXPECT_EQ(event.occurred_at, read.order_by_id.at(order_id).created_at) << event.event_id;
    }
  }
}

TEST(ProduceLifecycle, TheSameSeedGivesTheSameEvents) {
  // Two runs, one paced and one as fast as possible: the events differ only in
  // occurred_at, which follows each run's own created_at.
  const auto scale = domain::TimeScale::from_millionths(0);
  std::vector<std::vector<domain::OrderStatusEvent>> runs;
  for (const char* rate : {"10", "0"}) {
    const auto topic = test::unique_name("produce_lifecycle_seed");
    const auto result =
        test::run_foodpipe({"produce", "--topic", topic, "--lifecycle", "--count", "30", "--seed", "11",
                            "--time-scale", "0", "--rate", rate, "--run-id", "same", "--quiet"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const auto read = read_lifecycles(topic, "same", 11, scale);
    std::vector<domain::OrderStatusEvent> events;
    for (const auto& [order_id, of_order] : read.events) {
      for (auto event : of_order) {
        event.occurred_at = domain::Timestamp{};
        events.push_back(std::move(event));
      }
    }
    ASSERT_EQ(events.size(), planned_events(11, 30));
    runs.push_back(std::move(events));
  }
  EXPECT_EQ(runs[0], runs[1]);
}

TEST(ProduceLifecycle, ScaledDelaysAreWaitedForAndWritten) {
  // 0.001: the plan's delays (up to 2,190 s in all) become at most 2.19 s.
  const auto topic = test::unique_name("produce_lifecycle_delays");
  const auto started = std::chrono::steady_clock::now();
  const auto result =
      test::run_foodpipe({"produce", "--topic", topic, "--lifecycle", "--count", "5", "--rate", "0", "--seed",
                          "3", "--time-scale", "0.001", "--run-id", "slow", "--quiet"});
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto scale = domain::TimeScale::from_millionths(1000);
  const auto read = read_lifecycles(topic, "slow", 3, scale);
  ASSERT_EQ(read.orders.size(), 5U);
  // The run lasts at least as long as its longest lifecycle: the sum of that order's scaled delays.
  std::chrono::milliseconds longest{0};
  for (const auto& order : read.orders) {
    auto random = domain::lifecycle_random(3, sequence_of(order.order_id));
    std::chrono::milliseconds total{0};
    for (const auto& planned : domain::plan_lifecycle(order, random, scale)) {
      total += planned.delay;
    }
    longest = std::max(longest, total);
    // occurred_at is created_at plus the scaled delays so far (read_lifecycles compared each event).
    EXPECT_EQ(read.events.at(order.order_id).back().occurred_at, order.created_at + total) << order.order_id;
  }
  EXPECT_GT(longest, 300ms) << "the plan of seed 3 should have delays worth waiting for";
  EXPECT_GE(took, longest);
}

TEST(ProduceLifecycle, SigtermStopsWaitingForEventsAndCountsTheUnsent) {
  // Real time: the orders go at once, their first events after 1 to 10 s.
  const auto topic = test::unique_name("produce_lifecycle_stop");
  test::BackgroundFoodpipe producer({"produce", "--topic", topic, "--lifecycle", "--count", "20", "--rate",
                                     "0", "--seed", "5", "--time-scale", "1", "--run-id", "stop", "--json",
                                     "--quiet"});
  ASSERT_TRUE(producer.wait_for_output("generating orders", 30)) << producer.stderr_so_far();
  std::this_thread::sleep_for(2s);
  producer.signal(SIGTERM);
  const auto result = producer.wait(60);
  ASSERT_EQ(result.exit_code, 128 + SIGTERM) << result.err;
  const auto summary = test::parse_json(result.out);
  EXPECT_TRUE(summary["interrupted"].GetBool());
  EXPECT_EQ(summary["sent"].GetUint64(), 20U);
  EXPECT_EQ(summary["delivered"].GetUint64(), 20U);
  const auto events = summary["events"].GetUint64();
  EXPECT_EQ(summary["events_delivered"].GetUint64(), events);
  EXPECT_EQ(summary["events_failed"].GetUint64(), 0U);
  // Every planned event is either sent or counted as unsent; within 2 s no order got past confirmed.
  EXPECT_EQ(events + summary["events_unsent"].GetUint64(), planned_events(5, 20));
  EXPECT_LE(events, 20U);
  EXPECT_EQ(read_topic(topic).size(), 20U + events);
}

} // namespace
} // namespace foodpipe
