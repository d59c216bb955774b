// foodpipe inspect --verify against the real broker and PostgreSQL: a healthy
// pipeline passes, a deleted row is named as missing, a changed row as
// different, and replay --from-beginning repairs a loss without moving the
// group's offsets. Also the audit called directly (pipeline::run_verify).

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "kafka/admin.hpp"
#include "kafka/producer.hpp"
#include "kafka/reader.hpp"
#include "pipeline/verify.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;

kafka::ClientSettings settings() { return {test::bootstrap_servers(), {}}; }

using test::parse_json;

constexpr int k_orders = 400;
constexpr int k_bad = 3;

// N orders and a few bad messages, consumed into a seeded scratch database.
class VerifyTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
    const auto produced = test::run_foodpipe({"produce", "--topic", m_topic, "--rate", "0", "--count",
                                              std::to_string(k_orders), "--seed", "5", "--quiet"});
    ASSERT_EQ(produced.exit_code, 0) << produced.err;
    ASSERT_NO_FATAL_FAILURE(publish({{"CUST-BAD", "not json"}, {"CUST-BAD", "{\"order_id\": 7}"}, {"CUST-BAD", "[]"}}));
    const auto consumed = test::run_foodpipe({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group,
                                              "--until-end", "--quiet"});
    ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  }

  test::CommandResult verify(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"inspect", "--verify", "--db", m_db.uri(), "--topic", m_topic,
                                     "--group", m_group,    "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_foodpipe(args);
  }

  std::string sql(const std::string& query) { return test::query_value(m_db.conninfo(), query); }

  // Publishes (key, value) messages to the topic; every one must be delivered.
  void publish(const std::vector<std::pair<std::string, std::string>>& messages) {
    std::uint64_t failed = 0;
    {
      kafka::Producer producer(settings(), {{"enable.idempotence", "true"}},
                               [&failed](kafka::MessageView m) { failed += !m.ok() ? 1U : 0U; });
      for (const auto& [key, value] : messages) {
        producer.produce(m_topic, key, value, nullptr, nullptr);
      }
      ASSERT_EQ(producer.flush(30s), 0);
    }
    ASSERT_EQ(failed, 0U);
  }

  // The key and value of the message a stored row came from; `where` picks the row.
  std::pair<std::string, std::string> source_message(const std::string& where) {
    const auto row = sql("SELECT source_partition || ',' || source_offset FROM orders " + where + " LIMIT 1");
    const auto comma = row.find(',');
    const auto partition = std::stoi(row.substr(0, comma));
    const auto offset = std::stoll(row.substr(comma + 1));
    std::pair<std::string, std::string> message;
    kafka::Reader reader(settings());
    reader.read(m_topic, {{partition, offset, offset + 1}}, [&](kafka::MessageView m) {
      message.first = std::string(m.key());
      message.second = std::string(m.value());
      return true;
    });
    return message;
  }

  std::string offsets() {
    return sql("SELECT string_agg(partition || ':' || next_offset, ',' ORDER BY partition) FROM consumer_offsets "
               "WHERE group_id = '" + m_group + "'");
  }

  test::ScratchDatabase m_db{"fpverify"};
  std::string m_topic = test::unique_name("verify");
  std::string m_group = test::unique_name("group");
};

TEST_F(VerifyTest, AHealthyPipelinePasses) {
  const auto result = verify({"--json"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const auto report = parse_json(result.out);
  EXPECT_EQ(report["checked"].GetUint64(), static_cast<std::uint64_t>(k_orders + k_bad));
  EXPECT_EQ(report["ok"].GetUint64(), static_cast<std::uint64_t>(k_orders));
  EXPECT_EQ(report["dead_lettered"].GetUint64(), static_cast<std::uint64_t>(k_bad));
  EXPECT_EQ(report["missing"].GetUint64(), 0U);
  EXPECT_EQ(report["different"].GetUint64(), 0U);
  EXPECT_EQ(report["duplicates"].GetUint64(), 0U);
  EXPECT_TRUE(report["passed"].GetBool());
  EXPECT_EQ(report["problems"].Size(), 0U);

  const auto text = verify();
  EXPECT_EQ(text.exit_code, 0) << text.out << text.err;
  EXPECT_NE(text.out.find("OK: every message"), std::string::npos) << text.out;
}

TEST_F(VerifyTest, ADeletedRowIsNamedAndReplayRepairsItWithoutMovingOffsets) {
  const auto order_id = sql("SELECT order_id FROM orders ORDER BY source_partition, source_offset OFFSET 17 LIMIT 1");
  const auto partition = sql("SELECT source_partition FROM orders WHERE order_id = '" + order_id + "'");
  const auto offset = sql("SELECT source_offset FROM orders WHERE order_id = '" + order_id + "'");
  sql("DELETE FROM orders WHERE order_id = '" + order_id + "'");

  const auto failed = verify();
  EXPECT_EQ(failed.exit_code, 1) << failed.out << failed.err;
  EXPECT_NE(failed.out.find("missing " + m_topic + "[" + partition + "]@" + offset + " " + order_id),
            std::string::npos)
      << failed.out;
  const auto report = parse_json(verify({"--json"}).out);
  EXPECT_EQ(report["missing"].GetUint64(), 1U);
  ASSERT_EQ(report["problems"].Size(), 1U);
  EXPECT_STREQ(report["problems"][0]["order_id"].GetString(), order_id.c_str());
  EXPECT_EQ(std::to_string(report["problems"][0]["offset"].GetInt64()), offset);

  const auto before = offsets();
  const auto replayed = test::run_foodpipe(
      {"replay", "--db", m_db.uri(), "--topic", m_topic, "--from-beginning", "--json", "--quiet"});
  ASSERT_EQ(replayed.exit_code, 0) << replayed.out << replayed.err;
  const auto summary = parse_json(replayed.out);
  EXPECT_EQ(summary["read"].GetUint64(), static_cast<std::uint64_t>(k_orders + k_bad));
  EXPECT_EQ(summary["applied"].GetUint64(), 1U);
  EXPECT_EQ(summary["already_present"].GetUint64(), static_cast<std::uint64_t>(k_orders - 1));
  EXPECT_EQ(summary["dead_lettered"].GetUint64(), static_cast<std::uint64_t>(k_bad));
  EXPECT_EQ(summary["dead_letters_recorded"].GetUint64(), 0U) << "each position keeps its first dead letter";
  EXPECT_EQ(offsets(), before) << "a replay never moves the group's offsets";
  EXPECT_EQ(sql("SELECT count(*) FROM orders"), std::to_string(k_orders));

  const auto passed = verify();
  EXPECT_EQ(passed.exit_code, 0) << passed.out << passed.err;

  // Replaying what is stored changes nothing.
  const auto again = test::run_foodpipe(
      {"replay", "--db", m_db.uri(), "--topic", m_topic, "--from-beginning", "--json", "--quiet"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(parse_json(again.out)["applied"].GetUint64(), 0U);
  EXPECT_EQ(parse_json(again.out)["already_present"].GetUint64(), static_cast<std::uint64_t>(k_orders));
}

TEST_F(VerifyTest, AChangedRowIsNamedAsDifferent) {
  const auto order_id = sql("SELECT order_id FROM orders ORDER BY source_partition, source_offset LIMIT 1");
  sql("UPDATE orders SET total_amount = total_amount + 1 WHERE order_id = '" + order_id + "'");

  const auto result = verify();
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.out.find("different "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find(order_id), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("total_amount"), std::string::npos) << result.out;

  const auto report = parse_json(verify({"--json"}).out);
  EXPECT_EQ(report["different"].GetUint64(), 1U);
  EXPECT_EQ(report["missing"].GetUint64(), 0U);
  EXPECT_FALSE(report["passed"].GetBool());

  // The message is the source of truth for the row it produced: replay puts it back.
  const auto before = offsets();
  const auto replayed = test::run_foodpipe(
      {"replay", "--db", m_db.uri(), "--topic", m_topic, "--from-beginning", "--json", "--quiet"});
  ASSERT_EQ(replayed.exit_code, 0) << replayed.out << replayed.err;
  const auto summary = parse_json(replayed.out);
  EXPECT_EQ(summary["restored"].GetUint64(), 1U);
  EXPECT_EQ(summary["applied"].GetUint64(), 0U);
  EXPECT_EQ(summary["already_present"].GetUint64(), static_cast<std::uint64_t>(k_orders - 1));
  EXPECT_EQ(summary["dead_letters_recorded"].GetUint64(), 0U) << "no conflicting_duplicate for its own row";
  EXPECT_EQ(offsets(), before);
  const auto passed = verify();
  EXPECT_EQ(passed.exit_code, 0) << passed.out << passed.err;
}

TEST_F(VerifyTest, AConflictFromAnotherPositionIsNotRestored) {
  // A different order under a stored order_id, from a new position: consume
  // dead-letters it, and a replay must not let it overwrite the first row.
  const auto order_id = sql("SELECT order_id FROM orders ORDER BY source_partition, source_offset LIMIT 1");
  const auto status = sql("SELECT status FROM orders WHERE order_id = '" + order_id + "'");
  const auto other = status == "cancelled" ? "delivered" : "cancelled";
  auto [key, value] = source_message("WHERE order_id = '" + order_id + "'");
  const auto at = value.find("\"status\":\"" + status + "\"");
  ASSERT_NE(at, std::string::npos) << value;
  value.replace(at, 11 + status.size(), "\"status\":\"" + std::string(other) + "\"");
  ASSERT_NO_FATAL_FAILURE(publish({{key, value}}));
  ASSERT_EQ(test::run_foodpipe({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group,
                                "--until-end", "--quiet"})
                .exit_code,
            0);
  const auto replayed = test::run_foodpipe(
      {"replay", "--db", m_db.uri(), "--topic", m_topic, "--from-beginning", "--json", "--quiet"});
  ASSERT_EQ(replayed.exit_code, 0) << replayed.err;
  EXPECT_EQ(parse_json(replayed.out)["restored"].GetUint64(), 0U);
  EXPECT_EQ(sql("SELECT status FROM orders WHERE order_id = '" + order_id + "'"), status);
  EXPECT_EQ(verify().exit_code, 0) << "the conflict is accounted for by its dead letter";
}

TEST_F(VerifyTest, ManyProblemsAreCountedAndTheFirstLimitNamed) {
  sql("DELETE FROM orders WHERE order_id IN (SELECT order_id FROM orders ORDER BY order_id LIMIT 30)");
  sql("DELETE FROM dead_letters");

  pipeline::VerifyOptions options;
  options.kafka = settings();
  options.db_conninfo = m_db.conninfo();
  options.topic = m_topic;
  options.group = m_group;
  options.limit = 5;
  const auto report = pipeline::run_verify(options);
  EXPECT_EQ(report.checked, static_cast<std::uint64_t>(k_orders + k_bad));
  EXPECT_EQ(report.missing, 30U + k_bad) << "an undecodable message without its dead letter is missing";
  EXPECT_EQ(report.ok, static_cast<std::uint64_t>(k_orders - 30));
  EXPECT_EQ(report.problems.size(), 5U);
  EXPECT_FALSE(report.all_accounted_for());
  for (std::size_t i = 1; i < report.problems.size(); ++i) {
    EXPECT_LT(std::make_pair(report.problems[i - 1].partition, report.problems[i - 1].offset),
              std::make_pair(report.problems[i].partition, report.problems[i].offset));
  }

  const auto text = verify({"--limit", "5"});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.out.find("and " + std::to_string(30 + k_bad - 5) + " more"), std::string::npos) << text.out;
}

TEST_F(VerifyTest, AnExactDuplicateAtAnotherPositionIsFine) {
  // The same order once more under a later offset: consume counts it as a
  // duplicate (no row, no dead letter) and verify accepts it.
  ASSERT_NO_FATAL_FAILURE(publish({source_message("")}));
  const auto consumed = test::run_foodpipe(
      {"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--until-end", "--quiet"});
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;

  const auto result = verify({"--json"});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  const auto report = parse_json(result.out);
  EXPECT_EQ(report["duplicates"].GetUint64(), 1U);
  EXPECT_EQ(report["checked"].GetUint64(), static_cast<std::uint64_t>(k_orders + k_bad + 1));
}

TEST_F(VerifyTest, AGroupWithoutStoredOffsetsIsAnError) {
  const auto result = test::run_foodpipe({"inspect", "--verify", "--db", m_db.uri(), "--topic", m_topic, "--group",
                                          "nobody-" + m_group, "--quiet"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("no stored offsets"), std::string::npos) << result.err;
}

// Enough orders for several of the audit's chunks (each is staged and
// classified on its own, a few megabytes at a time): every verdict is still
// counted once, and the problems named are the first by (partition, offset)
// over all chunks, whichever chunk found them first.
TEST(VerifyChunksTest, ProblemsInDifferentChunksAreCountedOnceAndNamedInOrder) {
  constexpr int k_many = 60'000; // about 4 chunks of orders
  test::ScratchDatabase db{"fpverifychunks"};
  const auto topic = test::unique_name("verifychunks");
  const auto group = test::unique_name("group");
  ASSERT_EQ(test::run_foodpipe({"seed-db", "--db", db.uri()}).exit_code, 0);
  const auto produced = test::run_foodpipe(
      {"produce", "--topic", topic, "--rate", "0", "--count", std::to_string(k_many), "--seed", "9", "--quiet"});
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  const auto consumed =
      test::run_foodpipe({"consume", "--db", db.uri(), "--topic", topic, "--group", group, "--until-end", "--quiet"});
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  const auto sql = [&db](const std::string& query) { return test::query_value(db.conninfo(), query); };
  // Partition 2's last order is missing and partition 1's last one differs:
  // found in the last chunks; partition 0's at offset 50 and its last order
  // differ: found in the first chunk and in the last.
  const auto last = [&sql](int partition) {
    return "source_partition = " + std::to_string(partition) +
           " AND source_offset = (SELECT max(source_offset) FROM orders WHERE source_partition = " +
           std::to_string(partition) + ")";
  };
  sql("DELETE FROM orders WHERE " + last(2));
  sql("UPDATE orders SET total_amount = total_amount + 1 WHERE " + last(1));
  sql("UPDATE orders SET customer_name = 'changed' WHERE source_partition = 0 AND source_offset = 50");
  const auto p0_last = sql("SELECT max(source_offset) FROM orders WHERE source_partition = 0");
  sql("UPDATE orders SET customer_email = 'changed@example.com' WHERE " + last(0));

  const auto result = test::run_foodpipe({"inspect", "--verify", "--db", db.uri(), "--topic", topic, "--group",
                                          group, "--json", "--limit", "2", "--quiet"});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  const auto report = parse_json(result.out);
  EXPECT_EQ(report["checked"].GetUint64(), static_cast<std::uint64_t>(k_many));
  EXPECT_EQ(report["ok"].GetUint64(), static_cast<std::uint64_t>(k_many - 4));
  EXPECT_EQ(report["missing"].GetUint64(), 1U);
  EXPECT_EQ(report["different"].GetUint64(), 3U);
  const auto& problems = report["problems"];
  ASSERT_EQ(problems.Size(), 2U) << result.out;
  EXPECT_EQ(problems[0]["partition"].GetInt(), 0);
  EXPECT_EQ(problems[0]["offset"].GetInt64(), 50);
  EXPECT_EQ(std::string(problems[0]["kind"].GetString()), "different");
  EXPECT_EQ(problems[1]["partition"].GetInt(), 0);
  EXPECT_EQ(std::to_string(problems[1]["offset"].GetInt64()), p0_last);
}

} // namespace
} // namespace foodpipe
