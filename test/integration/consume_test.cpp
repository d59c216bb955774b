// foodpipe consume against the real broker and PostgreSQL: exact counts and
// stored offsets, every reason code dead-lettered in the table and on the DLQ
// topic, duplicates told apart from conflicts, text stored verbatim, SIGTERM.

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "domain/generator.hpp"
#include "domain/order_json.hpp"
#include "kafka/admin.hpp"
#include "kafka/producer.hpp"
#include "kafka/reader.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;

kafka::ClientSettings settings() { return {test::bootstrap_servers(), {}}; }

using test::parse_json;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// A migrated, seeded scratch database and a fresh topic (3 partitions) with its .dlq.
class ConsumeTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
    kafka::Admin admin(settings());
    for (const auto& name : {m_topic, m_topic + ".dlq"}) {
      admin.create_topic(name, 3, 1, {}, 10s);
    }
  }

  // Publishes raw messages (key, value; nullopt value = tombstone), in order, to one partition
  // chosen by key hash, and waits until all are delivered.
  void publish(const std::vector<std::pair<std::string, std::optional<std::string>>>& messages) {
    std::uint64_t failed = 0;
    kafka::Producer producer(settings(), {{"enable.idempotence", "true"}, {"partitioner", "murmur2_random"}},
                             [&failed](kafka::MessageView m) { failed += !m.ok() ? 1U : 0U; });
    for (const auto& [key, value] : messages) {
      if (value) {
        producer.produce(m_topic, key, *value, nullptr, nullptr);
      } else {
        // A tombstone: no value at all (not an empty one).
        producer.produce(m_topic, key, std::string_view(), nullptr, nullptr);
      }
    }
    ASSERT_EQ(producer.flush(30s), 0);
    ASSERT_EQ(failed, 0U);
  }

  test::CommandResult consume(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group,
                                     "--until-end", "--json", "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_foodpipe(args);
  }

  std::string sql(const std::string& query) { return test::query_value(m_db.conninfo(), query); }

  std::int64_t log_end_total() {
    kafka::Reader reader(settings());
    std::int64_t total = 0;
    for (int p = 0; p < 3; ++p) {
      total += reader.watermarks(m_topic, p, 10s).high;
    }
    return total;
  }

  test::ScratchDatabase m_db{"fpconsume"};
  std::string m_topic = test::unique_name("consume");
  std::string m_group = test::unique_name("group");
};

TEST_F(ConsumeTest, ExactCountsAndOffsetsEqualTheWatermarks) {
  const auto produced = test::run_foodpipe(
      {"produce", "--topic", m_topic, "--rate", "0", "--count", "5000", "--seed", "3", "--quiet"});
  ASSERT_EQ(produced.exit_code, 0) << produced.err;

  const auto result = consume();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto summary = parse_json(result.out);
  EXPECT_EQ(summary["consumed"].GetUint64(), 5000U);
  EXPECT_EQ(summary["applied"].GetUint64(), 5000U);
  EXPECT_EQ(summary["dead_letters"].GetUint64(), 0U);
  EXPECT_STREQ(summary["stopped_by"].GetString(), "end");
  EXPECT_EQ(sql("SELECT count(*) FROM orders"), "5000");
  EXPECT_EQ(sql("SELECT count(DISTINCT order_id) FROM orders"), "5000");

  // The stored next offsets are exactly the log end of each partition.
  kafka::Reader reader(settings());
  for (int p = 0; p < 3; ++p) {
    const auto high = reader.watermarks(m_topic, p, 10s).high;
    EXPECT_EQ(sql("SELECT next_offset FROM consumer_offsets WHERE group_id = '" + m_group + "' AND topic = '" +
                  m_topic + "' AND partition = " + std::to_string(p)),
              std::to_string(high))
        << "partition " << p;
  }
  // Every row knows where it came from.
  EXPECT_EQ(sql("SELECT count(*) FROM orders WHERE source_topic = '" + m_topic +
                "' AND source_partition IS NOT NULL AND source_offset IS NOT NULL"),
            "5000");

  // A second run has nothing to do and changes nothing.
  const auto again = consume();
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(parse_json(again.out)["consumed"].GetUint64(), 0U);
  EXPECT_EQ(sql("SELECT count(*) FROM orders"), "5000");
}

// Two batches are written at once, the second beside the first on its own
// connection. An order_id in both would make each wait for the other's row
// (PostgreSQL would break the deadlock by failing one): consume keeps such
// batches apart. Each order comes twice: in the first half 40 orders later,
// so that neighbouring batches of 100 messages share order_ids, in the second
// half 300 orders later, so that they do not; ten come a third time with
// other content.
TEST_F(ConsumeTest, DuplicatesInNeighbouringBatchesAreCountedWithTwoBatchesInFlight) {
  constexpr std::size_t k_orders = 3000;
  constexpr std::size_t k_conflicts = 10;
  domain::OrderGenerator generator(11, "beside");
  // (when, the message): an order at i, its copy at i + gap, the changed
  // ones just after their copy.
  std::vector<std::pair<double, std::string>> timeline;
  for (std::size_t i = 0; i < k_orders; ++i) {
    const auto order = generator.next();
    const double gap = i < k_orders / 2 ? 40 : 300;
    timeline.emplace_back(static_cast<double>(i), domain::encode(order));
    timeline.emplace_back(static_cast<double>(i) + gap + 0.5, domain::encode(order));
    if (i < k_conflicts) {
      auto changed = order;
      changed.customer_name += " (changed)";
      timeline.emplace_back(static_cast<double>(i) + gap + 0.7, domain::encode(changed));
    }
  }
  std::stable_sort(timeline.begin(), timeline.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  // One key, one partition: the batches are cut where the timeline says.
  std::vector<std::pair<std::string, std::optional<std::string>>> messages;
  for (auto& [when, value] : timeline) {
    messages.emplace_back("one", std::move(value));
  }
  publish(messages);

  const auto result = consume({"--batch-size", "100"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto summary = parse_json(result.out);
  EXPECT_EQ(summary["consumed"].GetUint64(), messages.size());
  EXPECT_EQ(summary["applied"].GetUint64(), k_orders);
  EXPECT_EQ(summary["duplicates"].GetUint64(), k_orders);
  EXPECT_EQ(summary["dead_letters"].GetUint64(), k_conflicts);
  EXPECT_EQ(summary["dead_letters_by_reason"]["conflicting_duplicate"].GetUint64(), k_conflicts);
  EXPECT_EQ(summary["database_retries"].GetUint64(), 0U) << "no deadlock, no lost session: " << result.err;
  EXPECT_GT(summary["batches_beside"].GetUint64(), 0U) << "some batches should have been written beside another";
  EXPECT_EQ(result.err.find("deadlock"), std::string::npos) << result.err;
  EXPECT_EQ(sql("SELECT count(*) FROM orders"), std::to_string(k_orders));
  EXPECT_EQ(sql("SELECT count(*) FROM dead_letters"), std::to_string(k_conflicts));
  EXPECT_EQ(sql("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE group_id = '" + m_group + "'"),
            std::to_string(log_end_total()));
}

TEST_F(ConsumeTest, BadMessagesAreDeadLetteredWithTheirReasonAndGoodOnesApplied) {
  domain::OrderGenerator generator(11, "corpus");
  std::vector<std::pair<std::string, std::optional<std::string>>> messages;
  std::vector<domain::Order> good;
  const auto add_good = [&](domain::Order order) {
    messages.emplace_back(order.customer_id, domain::encode(order));
    good.push_back(std::move(order));
  };

  // Text that must be stored verbatim.
  auto tricky = generator.next();
  tricky.customer_name = "Robert'); DROP TABLE orders;-- \"Bobby\" \\ tab\there 🍕 日本";
  add_good(tricky);

  std::map<std::string, int> expected_reasons; // reason -> how many
  for (const auto& entry : std::filesystem::directory_iterator(test::source_dir() + "/test/data/bad-messages")) {
    const auto reason = entry.path().stem().string();
    const auto payload = read_file(entry.path());
    add_good(generator.next());
    messages.emplace_back("CUST-BAD", payload);
    expected_reasons[reason] += 1;
  }
  messages.emplace_back("CUST-TOMB", std::nullopt); // a tombstone is a null_value too
  expected_reasons["null_value"] += 1;
  add_good(generator.next());

  // Exact duplicate: same bytes again. Conflict: same order_id, other content.
  const auto original = generator.next();
  add_good(original);
  messages.emplace_back(original.customer_id, domain::encode(original));
  auto conflict = original;
  conflict.status = domain::OrderStatus::cancelled;
  messages.emplace_back(conflict.customer_id, domain::encode(conflict));
  publish(messages);

  const auto result = consume({"--batch-size", "7"}); // several batches, duplicates across and within them
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto summary = parse_json(result.out);
  EXPECT_EQ(summary["consumed"].GetUint64(), messages.size());
  EXPECT_EQ(summary["applied"].GetUint64(), good.size());
  EXPECT_EQ(summary["duplicates"].GetUint64(), 1U);
  EXPECT_EQ(sql("SELECT count(*) FROM orders"), std::to_string(good.size()));

  // In the table: one row per bad message, with its reason.
  for (const auto& [reason, count] : expected_reasons) {
    EXPECT_EQ(sql("SELECT count(*) FROM dead_letters WHERE reason_code = '" + reason + "'"), std::to_string(count))
        << reason;
  }
  EXPECT_EQ(sql("SELECT count(*) FROM dead_letters WHERE reason_code = 'null_value' AND payload IS NULL"), "1")
      << "the tombstone";
  EXPECT_EQ(sql("SELECT count(*) FROM dead_letters WHERE reason_code = 'conflicting_duplicate'"), "1");
  EXPECT_EQ(sql("SELECT convert_from(payload, 'UTF8') FROM dead_letters WHERE reason_code = 'conflicting_duplicate'"),
            domain::encode(conflict))
      << "the raw message is kept byte for byte";
  EXPECT_EQ(sql("SELECT status FROM orders WHERE order_id = '" + original.order_id + "'"), "pending")
      << "the first version stays";
  EXPECT_EQ(sql("SELECT customer_name FROM orders WHERE order_id = '" + tricky.order_id + "'"), tricky.customer_name);
  EXPECT_EQ(sql("SELECT count(*) FROM dead_letters WHERE consumer_group = '" + m_group + "'"),
            std::to_string(summary["dead_letters"].GetUint64()));

  // On the topic: the same dead letters, with provenance headers that point at the very message
  // each one copies (its partition, offset and timestamp on the source topic).
  struct Source {
    std::optional<std::string> value;
    std::int64_t timestamp_ms = -1;
  };
  std::map<std::pair<std::int32_t, std::int64_t>, Source> sources;
  kafka::Reader reader(settings());
  const auto whole = [&reader](const std::string& topic) {
    std::vector<kafka::PartitionRange> ranges;
    for (int p = 0; p < 3; ++p) {
      const auto marks = reader.watermarks(topic, p, 10s);
      ranges.push_back({p, marks.low, marks.high});
    }
    return ranges;
  };
  reader.read(m_topic, whole(m_topic), [&](kafka::MessageView m) {
    const auto value = m.optional_value();
    sources[{m.partition(), m.offset()}] = {value ? std::optional<std::string>(*value) : std::nullopt,
                                            m.timestamp().ms};
    return true;
  });
  ASSERT_EQ(sources.size(), messages.size());

  std::map<std::string, int> dlq_reasons;
  std::vector<std::string> dlq_positions;
  reader.read(m_topic + ".dlq", whole(m_topic + ".dlq"), [&](kafka::MessageView m) {
    std::map<std::string, std::string> headers;
    for (const auto& [name, value] : m.headers()) {
      headers[name] = value;
    }
    EXPECT_EQ(headers["original-topic"], m_topic);
    EXPECT_EQ(headers["consumer-group"], m_group);
    const auto position = std::make_pair(static_cast<std::int32_t>(std::stoi(headers["original-partition"])),
                                         std::stoll(headers["original-offset"]));
    dlq_positions.push_back(headers["original-partition"] + ":" + headers["original-offset"]);
    const auto source = sources.find(position);
    if (source == sources.end()) {
      ADD_FAILURE() << "no message at " << dlq_positions.back() << " of " << m_topic;
    } else {
      EXPECT_EQ(headers["original-timestamp"], std::to_string(source->second.timestamp_ms))
          << dlq_positions.back();
      EXPECT_EQ(std::string(m.value()), source->second.value.value_or(""))
          << dlq_positions.back() << ": the letter carries the message's bytes";
    }
    ++dlq_reasons[headers["reason-code"]];
    return true;
  });
  // One letter per dead_letters row, at the same positions.
  std::sort(dlq_positions.begin(), dlq_positions.end());
  std::string joined;
  for (const auto& position : dlq_positions) {
    joined += (joined.empty() ? "" : ",") + position;
  }
  EXPECT_EQ(joined, sql("SELECT string_agg(source_partition || ':' || source_offset, ',' ORDER BY "
                        "(source_partition || ':' || source_offset) COLLATE \"C\") FROM dead_letters"));
  for (const auto& [reason, count] : expected_reasons) {
    EXPECT_EQ(dlq_reasons[reason], count) << reason;
  }
  EXPECT_EQ(dlq_reasons["conflicting_duplicate"], 1);
}

TEST_F(ConsumeTest, SigtermFinishesTheBatchStoresOffsetsAndExits143) {
  const auto produced = test::run_foodpipe(
      {"produce", "--topic", m_topic, "--rate", "0", "--count", "20000", "--seed", "5", "--quiet"});
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  test::BackgroundFoodpipe consumer({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--json",
                                     "--quiet", "--batch-size", "500"});
  for (int i = 0; i < 300 && sql("SELECT count(*) FROM orders") == "0"; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  consumer.signal(SIGTERM);
  const auto result = consumer.wait(60);
  ASSERT_EQ(result.exit_code, 128 + SIGTERM) << result.err;
  const auto summary = parse_json(result.out);
  EXPECT_STREQ(summary["stopped_by"].GetString(), "signal");
  const auto consumed = summary["consumed"].GetUint64();
  // What it reports is exactly what is stored, rows and offsets alike.
  EXPECT_EQ(sql("SELECT count(*) FROM orders"), std::to_string(consumed));
  EXPECT_EQ(sql("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE group_id = '" + m_group + "'"),
            std::to_string(consumed));
  // And a second consumer picks up exactly where it stopped.
  const auto rest = consume();
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  EXPECT_EQ(sql("SELECT count(*) FROM orders"), "20000");
}

TEST_F(ConsumeTest, MissingTopicFailsWithAClearMessage) {
  const auto result = test::run_foodpipe({"consume", "--db", m_db.uri(), "--topic", test::unique_name("nothere"),
                                          "--connect-timeout", "2", "--until-end"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("does not exist"), std::string::npos) << result.err;
}

TEST_F(ConsumeTest, UnseededDatabaseSaysRunSeedDb) {
  test::ScratchDatabase empty("fpempty");
  const auto result =
      test::run_foodpipe({"consume", "--db", empty.uri(), "--topic", m_topic, "--until-end", "--quiet"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("seed-db"), std::string::npos) << result.err;
}

} // namespace
} // namespace foodpipe
