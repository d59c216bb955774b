// foodpipe consume killed with SIGKILL while a lifecycle stream (orders with
// their status events interleaved, issue 14) is still being produced, and
// restarted each time. Judged only by what PostgreSQL and Kafka hold at the end:
//
//   - every order produced is stored once;
//   - every order's status is that of the last event produced for it, read
//     back from the topic (an order and its events share a key, so a
//     partition: offset order is the order they were produced in);
//   - order_events holds each event message once (count == distinct event_id
//     == the event messages on the topic), and each order's events chain
//     (previous_status of one is the status of the one before), so no event
//     was applied twice or skipped across a crash;
//   - no dead letters (the stream is clean), offsets at the log end;
//   - after every kill, each partition's rows (orders, events, dead letters)
//     are exactly its offsets 0..next_offset-1: the events are inside the
//     batch's transaction with the offsets (rule 1 of docs/architecture.md).
//
// FOODPIPE_CHAOS_SEED=<n> replays a failed run's kill schedule and its
// producer's seed; FOODPIPE_CHAOS_VERBOSE=1 prints the killed consumers' logs.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "domain/message_kind.hpp"
#include "domain/order_event_json.hpp"
#include "kafka/admin.hpp"
#include "kafka/reader.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int k_partitions = 3;
constexpr std::uint64_t k_orders = 2000;
// 100 orders a second for 20 s, the events 1000 times faster than real time
// (a whole lifecycle in at most about 2.2 s), so events keep coming between
// the orders for the whole run.
constexpr const char* k_rate = "100";
constexpr const char* k_time_scale = "0.001";
constexpr int k_kills = 3;

kafka::ClientSettings settings() { return {test::bootstrap_servers(), {}}; }

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(interval);
  }
  return true;
}

// $FOODPIPE_CHAOS_SEED or a new one, printed and recorded so that a failure can be replayed.
std::uint64_t chaos_seed() {
  std::uint64_t seed = std::random_device{}();
  if (const char* fixed = std::getenv("FOODPIPE_CHAOS_SEED"); fixed != nullptr && *fixed != '\0') {
    seed = std::stoull(fixed);
  }
  std::cout << "[ seed     ] FOODPIPE_CHAOS_SEED=" << seed << '\n';
  ::testing::Test::RecordProperty("chaos_seed", std::to_string(seed));
  return seed;
}

// The JSON summary is the last non-empty line of stdout.
rapidjson::Document summary_of(const std::string& out) {
  const auto end = out.find_last_not_of('\n');
  if (end == std::string::npos) {
    return test::parse_json("");
  }
  const auto start = out.rfind('\n', end);
  return test::parse_json(out.substr(start == std::string::npos ? 0 : start + 1, end + 1));
}

// What the topic holds, read back after the producer finished.
struct Stream {
  std::uint64_t orders = 0;
  std::uint64_t events = 0;
  std::map<std::string, std::string> final_status; // order_id -> the status of its last event
  std::vector<std::int64_t> log_end;               // per partition
};

class ConsumeEventsChaosTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
    // Created first, so that the consumers can join before the producer's first message.
    kafka::Admin admin(settings());
    admin.create_topic(m_topic, k_partitions, 1, {}, 10s);
    admin.create_topic(m_topic + ".dlq", 1, 1, {}, 10s);
  }

  std::vector<std::string> consume_args(const std::string& name, std::vector<std::string> extra) const {
    std::vector<std::string> args = {"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group,
                                     "--quiet", "-X", "session.timeout.ms=6000", "-X",
                                     "heartbeat.interval.ms=1000", "-X", "client.id=" + m_topic + "-" + name};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  std::string sql(const std::string& query) const { return test::query_value(m_db.conninfo(), query); }
  std::int64_t number(const std::string& query) const { return std::stoll(sql(query)); }
  // Orders, events and dead letters stored: every position the consumer has committed.
  std::int64_t stored_rows() const {
    return number("SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM order_events) + "
                  "(SELECT count(*) FROM dead_letters)");
  }
  std::int64_t log_end_total() const {
    kafka::Reader reader(settings());
    std::int64_t total = 0;
    for (int p = 0; p < k_partitions; ++p) {
      total += reader.watermarks(m_topic, p, 10s).high;
    }
    return total;
  }

  // Partitions whose rows are not exactly their offsets 0..next_offset-1; "" when all agree.
  std::string ledger_mismatches() const {
    const std::string topic = "'" + m_topic + "'";
    return sql("SELECT string_agg(format('partition %s: %s rows (%s distinct offsets, %s..%s), next_offset %s', "
               "coalesce(o.p, c.p), coalesce(o.n, 0), coalesce(o.d, 0), o.lo, o.hi, c.next_offset), '; ') "
               "FROM (SELECT p, count(*) AS n, count(DISTINCT off) AS d, min(off) AS lo, max(off) AS hi FROM ("
               "  SELECT source_partition AS p, source_offset AS off FROM orders WHERE source_topic = " + topic +
               "  UNION ALL SELECT source_partition, source_offset FROM order_events WHERE source_topic = " + topic +
               "  UNION ALL SELECT source_partition, source_offset FROM dead_letters WHERE source_topic = " + topic +
               ") x GROUP BY p) o "
               "FULL JOIN (SELECT partition AS p, next_offset FROM consumer_offsets "
               "           WHERE group_id = '" + m_group + "' AND topic = " + topic + ") c ON o.p = c.p "
               "WHERE coalesce(o.n, 0) <> coalesce(c.next_offset, 0) OR coalesce(o.d, 0) <> coalesce(c.next_offset, 0) "
               "   OR (o.n > 0 AND (o.lo <> 0 OR o.hi <> c.next_offset - 1))");
  }

  // Every message on the topic: orders counted, events decoded, the last event
  // of each order kept (partition by partition in offset order, which for one
  // order is the order its events were produced in).
  Stream read_stream() const {
    Stream stream;
    kafka::Reader reader(settings());
    for (int p = 0; p < k_partitions; ++p) {
      const auto marks = reader.watermarks(m_topic, p, 10s);
      stream.log_end.push_back(marks.high);
      reader.read(m_topic, {{p, marks.low, marks.high}}, [&stream](kafka::MessageView m) {
        const auto type = m.header(domain::k_type_header.data());
        if (!type || *type != "order_status") {
          ++stream.orders;
          return true;
        }
        ++stream.events;
        const auto event = domain::decode_event(m.value());
        EXPECT_TRUE(event.ok()) << "the producer wrote an event it cannot read back: " << m.value();
        if (event.ok()) {
          stream.final_status[event.event().order_id] = std::string(domain::to_string(event.event().status));
        }
        return true;
      });
    }
    return stream;
  }

  // After a random 0.5-4 s with no consumer (a backlog builds up), starts one
  // and SIGKILLs it once it has committed a random 1 to 3 batches' worth of
  // new rows (plus 0-30 ms: polling, mid-COPY, between the write and the
  // COMMIT), or, every third time, a random 50-400 ms after its start.
  // Returns the topic's log end at the kill.
  std::int64_t kill_once(std::mt19937_64& random, int kill, std::int64_t batch_size, std::string& history) {
    const auto uniform = [&random](std::int64_t low, std::int64_t high) {
      return low + static_cast<std::int64_t>(random() % static_cast<std::uint64_t>(high - low + 1));
    };
    std::this_thread::sleep_for(std::chrono::milliseconds(uniform(500, 4000)));
    const auto before = stored_rows();
    // Static membership: the restarted member takes its predecessor's partitions
    // at once instead of waiting out the dead one's session.
    std::string name = "k";
    name += std::to_string(kill);
    test::BackgroundFoodpipe consumer(consume_args(
        name, {"--batch-size", std::to_string(batch_size), "-X", "group.instance.id=killed"}));
    std::string moment;
    if (kill % 3 == 0) {
      const auto delay = std::chrono::milliseconds(uniform(50, 400));
      std::this_thread::sleep_for(delay);
      moment = std::to_string(delay.count()) + "ms";
    } else {
      const auto target = before + uniform(1, 3 * batch_size);
      (void)wait_until([&] { return stored_rows() >= target; }, 30s, 2ms);
      const auto extra = std::chrono::milliseconds(uniform(0, 30));
      std::this_thread::sleep_for(extra);
      moment = std::to_string(target - before) + "rows+" + std::to_string(extra.count()) + "ms";
    }
    const auto log_end_at_kill = log_end_total();
    consumer.signal(SIGKILL);
    const auto result = consumer.wait(30);
    EXPECT_EQ(result.exit_code, 128 + SIGKILL) << "kill " << kill << " came too late: " << result.err;
    if (std::getenv("FOODPIPE_CHAOS_VERBOSE") != nullptr) {
      std::cout << "--- kill " << kill << " stderr:\n" << result.err;
    }
    EXPECT_EQ(ledger_mismatches(), "") << "after kill " << kill << " (" << moment << ")";
    history += moment + "->" + std::to_string(stored_rows()) + " rows, log end " +
               std::to_string(log_end_at_kill) + "; ";
    return log_end_at_kill;
  }

  test::ScratchDatabase m_db{"fpevchaos"};
  std::string m_topic = test::unique_name("evchaos");
  std::string m_group = test::unique_name("evchaosgroup");
};

TEST_F(ConsumeEventsChaosTest, KillNineDuringALifecycleStreamAppliesEveryEventOnce) {
  std::mt19937_64 random(chaos_seed());
  const auto producer_seed = std::to_string(random() % 1'000'000);
  test::BackgroundFoodpipe producer({"produce", "--topic", m_topic, "--lifecycle", "--count",
                                     std::to_string(k_orders), "--rate", k_rate, "--time-scale", k_time_scale,
                                     "--seed", producer_seed, "--json", "--quiet"});
  std::string history;
  std::vector<std::int64_t> log_end_at_kills;
  for (int kill = 1; kill <= k_kills; ++kill) {
    log_end_at_kills.push_back(kill_once(random, kill, 100, history));
  }
  std::cout << "[ kills    ] (moment: N new rows + Nms, or Nms after start; ->rows stored) " << history << '\n';

  const auto produced = producer.wait(120);
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  const auto produce_summary = summary_of(produced.out);
  ASSERT_TRUE(produce_summary.IsObject() && produce_summary.HasMember("events"));
  EXPECT_EQ(produce_summary["delivered"].GetUint64(), k_orders);
  const auto events_produced = produce_summary["events_delivered"].GetUint64();
  EXPECT_EQ(events_produced, produce_summary["events"].GetUint64());
  EXPECT_EQ(produce_summary["events_unsent"].GetUint64(), 0U);

  const auto stream = read_stream();
  const auto total = static_cast<std::int64_t>(stream.orders + stream.events);
  EXPECT_GE(std::count_if(log_end_at_kills.begin(), log_end_at_kills.end(),
                          [total](std::int64_t log_end) { return log_end < total; }),
            2)
      << "the kills should come while the stream is still being produced: " << history;
  EXPECT_EQ(stream.orders, k_orders);
  EXPECT_EQ(stream.events, events_produced);
  EXPECT_EQ(stream.final_status.size(), k_orders) << "every generated order has at least one event";

  const auto rows_before_final = stored_rows();
  const auto final_run = test::run_foodpipe(consume_args("final", {"--until-end", "--json"}));
  ASSERT_EQ(final_run.exit_code, 0) << final_run.err;
  const auto summary = summary_of(final_run.out);
  ASSERT_TRUE(summary.IsObject() && summary.HasMember("consumed"));
  EXPECT_EQ(summary["consumed"].GetUint64(),
            stream.orders + stream.events - static_cast<std::uint64_t>(rows_before_final))
      << "the last run consumes exactly what the killed ones did not commit";
  EXPECT_EQ(summary["dead_letters"].GetUint64(), 0U);

  EXPECT_EQ(number("SELECT count(*) FROM orders"), static_cast<std::int64_t>(k_orders));
  EXPECT_EQ(number("SELECT count(*) FROM dead_letters"), 0);
  EXPECT_EQ(number("SELECT count(*) FROM order_events"), static_cast<std::int64_t>(stream.events));
  EXPECT_EQ(number("SELECT count(DISTINCT event_id) FROM order_events"), static_cast<std::int64_t>(stream.events));
  EXPECT_EQ(number("SELECT count(DISTINCT (source_partition, source_offset)) FROM order_events"),
            static_cast<std::int64_t>(stream.events));
  // Each order's events, in the order they were produced, move it one after
  // the other: the first from pending, each later one from its predecessor's status.
  EXPECT_EQ(number("SELECT count(*) FROM (SELECT previous_status, lag(status, 1, 'pending') OVER "
                   "(PARTITION BY order_id ORDER BY source_partition, source_offset) AS before "
                   "FROM order_events) e WHERE previous_status <> before"),
            0);
  EXPECT_EQ(ledger_mismatches(), "");
  for (int p = 0; p < k_partitions; ++p) {
    EXPECT_EQ(sql("SELECT next_offset FROM consumer_offsets WHERE group_id = '" + m_group + "' AND topic = '" +
                  m_topic + "' AND partition = " + std::to_string(p)),
              std::to_string(stream.log_end[static_cast<std::size_t>(p)]))
        << "partition " << p;
  }

  // Every order's status is its last event's.
  std::map<std::string, std::string> stored;
  std::istringstream rows(sql("SELECT string_agg(order_id || '=' || status, ',') FROM orders"));
  for (std::string row; std::getline(rows, row, ',');) {
    const auto equals = row.find('=');
    stored[row.substr(0, equals)] = row.substr(equals + 1);
  }
  std::size_t wrong = 0;
  std::string examples;
  for (const auto& [order_id, status] : stream.final_status) {
    const auto found = stored.find(order_id);
    const std::string actual = found == stored.end() ? "(not stored)" : found->second;
    if (actual != status && ++wrong <= 5) {
      examples += order_id + ": " + actual + " instead of " + status + "; ";
    }
  }
  EXPECT_EQ(wrong, 0U) << examples;
  EXPECT_EQ(stored.size(), static_cast<std::size_t>(k_orders));
}

} // namespace
} // namespace foodpipe
