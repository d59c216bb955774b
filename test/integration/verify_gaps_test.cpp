// inspect --verify on topics whose offsets are not contiguous, against the
// real broker and PostgreSQL: every offset from the log start to the stored
// offset is accounted for (a message checked, or an offset without one:
// transaction markers, aborted records, compacted keys), ranges removed by
// retention before consumption (skipped_offsets) are reported and fail only
// under --strict, an open transaction below the stored offset is named at
// once, and values PostgreSQL refuses never fail the audit.
//
// The database is set up with `foodpipe replay` and direct INSERTs into
// consumer_offsets where consume cannot yet follow such a topic.

#include <chrono>
#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "db/connection.hpp"
#include "db/order_audit.hpp"
#include "db/order_copy.hpp"
#include "domain/order_json.hpp"
#include "domain/timestamp.hpp"
#include "support/foreign_topic.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::parse_json;

// Far below the reader's idle timeout (30 s), which a range ending on a
// marker or a hole used to wait for before failing.
constexpr auto k_prompt = 8s;

std::string order_id_of(const std::string& line) {
  rapidjson::Document doc;
  doc.Parse(line.c_str() + line.find('\t') + 1);
  return doc.HasParseError() ? std::string() : std::string(doc["order_id"].GetString());
}

class VerifyGapsTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  }

  test::CommandResult verify(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"inspect", "--verify", "--db", m_db.uri(), "--topic", m_topic,
                                     "--group", m_group,    "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto started = Clock::now();
    auto result = test::run_foodpipe(args);
    EXPECT_LT(Clock::now() - started, k_prompt) << "verify waited: " << result.out << result.err;
    return result;
  }

  test::CommandResult replay_into_db(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"replay", "--db", m_db.uri(), "--topic", m_topic, "--from-beginning",
                                     "--json", "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_foodpipe(args);
  }

  std::string sql(const std::string& query) { return test::query_value(m_db.conninfo(), query); }

  // As if the group had consumed partition `partition` up to `next`.
  void store_offset(std::int32_t partition, std::int64_t next) {
    sql("INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) VALUES ('" + m_group + "', '" +
        m_topic + "', " + std::to_string(partition) + ", " + std::to_string(next) +
        ") ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset");
  }

  test::ScratchDatabase m_db{"fpverifygaps"};
  std::string m_topic = test::unique_name("verifygaps");
  std::string m_group = test::unique_name("group");
};

TEST_F(VerifyGapsTest, ATransactionalTopicIsAccountedForOffsetByOffset) {
  test::create_topic(m_topic, 3);
  const auto run =
      test::write_with_stranger(m_topic, test::order_lines(48, 21, "verifytxn"), {"--transactions", "c5,a3"});
  ASSERT_EQ(run.count('C'), 30U);
  const auto replayed = replay_into_db();
  ASSERT_EQ(replayed.exit_code, 0) << replayed.out << replayed.err;
  EXPECT_EQ(parse_json(replayed.out)["applied"].GetUint64(), 30U) << "aborted records are never replayed";

  std::uint64_t offsets = 0;
  for (std::int32_t partition = 0; partition < 3; ++partition) {
    const auto marks = test::watermarks(m_topic, partition);
    // Where consume stops: the last stable offset, past the last marker.
    store_offset(partition, marks.high);
    offsets += static_cast<std::uint64_t>(marks.high);
  }
  std::string aborted_ids;
  for (const auto& record : run.records) {
    if (record.kind == 'A') {
      aborted_ids += (aborted_ids.empty() ? "'" : ", '") + order_id_of(record.line) + "'";
    }
  }
  EXPECT_EQ(sql("SELECT count(*) FROM orders WHERE order_id IN (" + aborted_ids + ")"), "0");

  const auto result = verify({"--json"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const auto report = parse_json(result.out);
  EXPECT_TRUE(report["passed"].GetBool());
  EXPECT_EQ(report["checked"].GetUint64(), 30U) << "the committed records, no aborted one";
  EXPECT_EQ(report["ok"].GetUint64(), 30U);
  EXPECT_EQ(report["without_message"].GetUint64(), offsets - 30U) << "markers and aborted records";
  EXPECT_EQ(report["unread"].GetUint64(), 0U);
  std::uint64_t messages = 0;
  for (const auto& p : report["partitions"].GetArray()) {
    EXPECT_EQ(p["messages"].GetUint64() + p["without_message"].GetUint64(),
              static_cast<std::uint64_t>(p["to"].GetInt64() - p["from"].GetInt64()));
    messages += p["messages"].GetUint64();
  }
  EXPECT_EQ(messages, 30U);

  const auto text = verify();
  EXPECT_EQ(text.exit_code, 0) << text.out << text.err;
  EXPECT_NE(text.out.find(std::to_string(offsets - 30U) + " offsets without a message"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("OK: every message"), std::string::npos) << text.out;

  // A row lost from a transactional topic is still found.
  sql("DELETE FROM orders WHERE order_id = (SELECT order_id FROM orders ORDER BY order_id LIMIT 1)");
  const auto failed = verify({"--json"});
  EXPECT_EQ(failed.exit_code, 1) << failed.out;
  EXPECT_EQ(parse_json(failed.out)["missing"].GetUint64(), 1U);
}

TEST_F(VerifyGapsTest, ACompactedTopicIsAccountedForUpToAStoredOffsetInAHole) {
  std::vector<std::string> lines;
  for (const auto& line : test::order_lines(40, 22, "verifycompact")) {
    lines.push_back("key" + std::to_string(lines.size() % 4) + line.substr(line.find('\t')));
  }
  const auto present = test::make_compacted_topic(m_topic, lines);
  const auto marks = test::watermarks(m_topic, 0);
  ASSERT_LT(static_cast<std::int64_t>(present.size()), marks.high - marks.low) << "not compacted in time";
  const std::set<std::int64_t> kept(present.begin(), present.end());
  std::int64_t hole = -1;
  for (std::int64_t offset = marks.high - 1; offset >= marks.low && hole < 0; --offset) {
    if (!kept.contains(offset)) {
      hole = offset;
    }
  }
  ASSERT_GE(hole, 0);
  const auto replayed = replay_into_db();
  ASSERT_EQ(replayed.exit_code, 0) << replayed.out << replayed.err;
  // The group read a message that compaction removed since: its stored
  // offset lies just past a hole.
  store_offset(0, hole + 1);

  const auto result = verify({"--json"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const auto report = parse_json(result.out);
  EXPECT_GT(report["without_message"].GetUint64(), 0U);
  EXPECT_EQ(report["checked"].GetUint64() + report["without_message"].GetUint64(),
            static_cast<std::uint64_t>(hole + 1 - marks.low));
  EXPECT_EQ(report["missing"].GetUint64(), 0U);
  EXPECT_EQ(report["different"].GetUint64(), 0U);
}

TEST_F(VerifyGapsTest, RetentionBelowAndPastTheStoredOffset) {
  test::create_topic(m_topic, 1);
  const auto produced = test::run_foodpipe(
      {"produce", "--topic", m_topic, "--rate", "0", "--count", "20", "--seed", "23", "--quiet"});
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  const auto consumed = test::run_foodpipe(
      {"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--until-end", "--quiet"});
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  ASSERT_EQ(sql("SELECT next_offset FROM consumer_offsets WHERE group_id = '" + m_group + "'"), "20");

  // Consumed, then removed: what is left is checked.
  test::delete_records(m_topic, 0, 8);
  auto result = verify({"--json"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  auto report = parse_json(result.out);
  EXPECT_EQ(report["checked"].GetUint64(), 12U);
  EXPECT_EQ(report["partitions"][0]["from"].GetInt64(), 8);
  EXPECT_EQ(report["partitions"][0]["log_start"].GetInt64(), 8);

  // Removed before the group got there: nothing left to check, which is
  // said, and is not a failure (consume records the loss when it gets there).
  const auto more = test::run_foodpipe(
      {"produce", "--topic", m_topic, "--rate", "0", "--count", "10", "--seed", "24", "--quiet"});
  ASSERT_EQ(more.exit_code, 0) << more.err;
  test::delete_records(m_topic, 0, 25);
  result = verify();
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("partition 0: nothing to check: the log starts at 25, past the stored offset 20"),
            std::string::npos)
      << result.out;
}

TEST_F(VerifyGapsTest, SkippedRangesAreReportedAsAWarningAndFailOnlyWithStrict) {
  test::create_topic(m_topic, 2);
  const auto produced = test::run_foodpipe(
      {"produce", "--topic", m_topic, "--rate", "0", "--count", "30", "--seed", "25", "--quiet"});
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  const auto consumed = test::run_foodpipe(
      {"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--until-end", "--quiet"});
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  // What consume records when retention moved the log start past its stored offset.
  sql("INSERT INTO skipped_offsets (group_id, topic, partition, from_offset, to_offset, reason) VALUES "
      "('" + m_group + "', '" + m_topic + "', 1, 40, 55, 'retention'), "
      "('" + m_group + "', '" + m_topic + "', 0, 100, 150, 'retention'), "
      "('other-" + m_group + "', '" + m_topic + "', 0, 1, 2, 'retention')");

  auto result = verify();
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("warning: partition 0: offsets 100..150 (exclusive), 50 offsets removed by retention "
                            "before consumption"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("warning: partition 1: offsets 40..55 (exclusive), 15 offsets removed by retention"),
            std::string::npos)
      << result.out;
  EXPECT_LT(result.out.find("partition 0: offsets 100"), result.out.find("partition 1: offsets 40"))
      << "by partition";
  EXPECT_NE(result.out.find("OK: every message"), std::string::npos) << result.out;

  result = verify({"--json"});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  auto report = parse_json(result.out);
  EXPECT_TRUE(report["passed"].GetBool());
  EXPECT_FALSE(report["strict"].GetBool());
  EXPECT_EQ(report["skipped_offsets"].GetUint64(), 65U) << "the other group's range is not ours";
  ASSERT_EQ(report["skipped"].Size(), 2U);
  EXPECT_EQ(report["skipped"][0]["partition"].GetInt(), 0);
  EXPECT_EQ(report["skipped"][0]["from"].GetInt64(), 100);
  EXPECT_EQ(report["skipped"][0]["to"].GetInt64(), 150);
  EXPECT_STREQ(report["skipped"][0]["reason"].GetString(), "retention");
  EXPECT_EQ(report["checked"].GetUint64(), 30U);

  result = verify({"--strict"});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.out.find("FAILED (--strict): 65 offsets in 2 ranges were removed by retention"),
            std::string::npos)
      << result.out;
  result = verify({"--strict", "--json"});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  report = parse_json(result.out);
  EXPECT_FALSE(report["passed"].GetBool());
  EXPECT_TRUE(report["strict"].GetBool());

  // Without skipped ranges --strict passes.
  sql("DELETE FROM skipped_offsets");
  EXPECT_EQ(verify({"--strict"}).exit_code, 0);
  // --strict belongs to --verify.
  EXPECT_EQ(test::run_foodpipe({"inspect", "--strict", "--db", m_db.uri()}).exit_code, 2);
}

TEST_F(VerifyGapsTest, AnOpenTransactionBelowTheStoredOffsetIsNamedAtOnce) {
  test::create_topic(m_topic, 1);
  const auto input = test::write_input(test::order_lines(8, 26, "verifyopen"));
  auto producer = test::start_stranger_producer({"--topic", m_topic, "--input", input, "--partition", "0",
                                                 "--transactions", "c5", "--open", "3", "--hold-ms", "-1"});
  ASSERT_TRUE(producer.wait_for_output("open", 60)) << producer.stderr_so_far();
  const auto replayed = replay_into_db();
  ASSERT_EQ(replayed.exit_code, 0) << replayed.out << replayed.err;
  // A group that read the open transaction's records (read_uncommitted): 0-4,
  // marker 5, open 6-8.
  store_offset(0, 9);

  auto result = verify({"--json"});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  auto report = parse_json(result.out);
  EXPECT_EQ(report["checked"].GetUint64(), 5U);
  EXPECT_EQ(report["unread"].GetUint64(), 3U);
  EXPECT_EQ(report["partitions"][0]["unread_from"].GetInt64(), 6);
  EXPECT_FALSE(report["passed"].GetBool());
  result = verify();
  EXPECT_NE(result.out.find("offsets 6..9 (exclusive) NOT READABLE"), std::string::npos) << result.out;

  // Once the transaction ends (aborted here), every offset is accounted for.
  producer.close_stdin();
  ASSERT_EQ(producer.wait(60).exit_code, 0);
  std::remove(input.c_str());
  result = verify({"--json"});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  report = parse_json(result.out);
  EXPECT_EQ(report["checked"].GetUint64(), 5U);
  EXPECT_EQ(report["without_message"].GetUint64(), 4U) << "a marker and three aborted records";
}

// End to end: consume --until-end follows each kind of gap, and verify then
// accounts for every offset of what it stored.
class ConsumeVerifyGapsTest : public VerifyGapsTest {
protected:
  void consume_until_end() {
    test::BackgroundFoodpipe consume(
        {"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--until-end", "--quiet"});
    const auto consumed = consume.wait(120);
    ASSERT_EQ(consumed.exit_code, 0) << consumed.out << consumed.err;
  }
  std::int64_t stored(std::int32_t partition) {
    const auto value = sql("SELECT next_offset FROM consumer_offsets WHERE group_id = '" + m_group +
                           "' AND partition = " + std::to_string(partition));
    return value.empty() ? -1 : std::stoll(value);
  }
};

TEST_F(ConsumeVerifyGapsTest, ATransactionalTopic) {
  test::create_topic(m_topic, 3);
  test::create_topic(m_topic + ".dlq", 1);
  const auto run =
      test::write_with_stranger(m_topic, test::order_lines(48, 31, "e2etxn"), {"--transactions", "c5,a3"});
  ASSERT_NO_FATAL_FAILURE(consume_until_end());
  EXPECT_EQ(sql("SELECT count(*) FROM orders"), "30");
  std::uint64_t offsets = 0;
  for (std::int32_t partition = 0; partition < 3; ++partition) {
    const auto marks = test::watermarks(m_topic, partition);
    EXPECT_EQ(stored(partition), marks.high) << "caught up past the last marker, partition " << partition;
    offsets += static_cast<std::uint64_t>(marks.high);
  }
  const auto result = verify({"--json", "--strict"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const auto report = parse_json(result.out);
  EXPECT_EQ(report["checked"].GetUint64(), 30U);
  EXPECT_EQ(report["ok"].GetUint64(), 30U);
  EXPECT_EQ(report["without_message"].GetUint64(), offsets - 30U);
}

TEST_F(ConsumeVerifyGapsTest, ACompactedTopic) {
  test::create_topic(m_topic + ".dlq", 1);
  std::vector<std::string> lines;
  for (const auto& line : test::order_lines(40, 32, "e2ecompact")) {
    lines.push_back("key" + std::to_string(lines.size() % 4) + line.substr(line.find('\t')));
  }
  const auto present = test::make_compacted_topic(m_topic, lines);
  const auto marks = test::watermarks(m_topic, 0);
  ASSERT_LT(static_cast<std::int64_t>(present.size()), marks.high - marks.low) << "not compacted in time";
  ASSERT_NO_FATAL_FAILURE(consume_until_end());
  EXPECT_GE(stored(0), marks.high);
  const auto result = verify({"--json", "--strict"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const auto report = parse_json(result.out);
  EXPECT_GT(report["without_message"].GetUint64(), 0U);
  EXPECT_EQ(report["checked"].GetUint64() + report["without_message"].GetUint64(),
            static_cast<std::uint64_t>(stored(0) - marks.low));
  EXPECT_EQ(report["missing"].GetUint64() + report["different"].GetUint64(), 0U);
}

TEST_F(ConsumeVerifyGapsTest, RetentionPastTheStoredOffsetIsReportedAndFailsOnlyWithStrict) {
  test::create_topic(m_topic, 1);
  auto produced = test::run_foodpipe(
      {"produce", "--topic", m_topic, "--rate", "0", "--count", "20", "--seed", "33", "--quiet"});
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  ASSERT_NO_FATAL_FAILURE(consume_until_end());
  ASSERT_EQ(stored(0), 20);
  produced = test::run_foodpipe(
      {"produce", "--topic", m_topic, "--rate", "0", "--count", "10", "--seed", "34", "--quiet"});
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  test::delete_records(m_topic, 0, 25); // 20..24 go before the group reads them
  ASSERT_NO_FATAL_FAILURE(consume_until_end());
  EXPECT_EQ(stored(0), 30);
  ASSERT_EQ(sql("SELECT from_offset || '..' || to_offset FROM skipped_offsets WHERE group_id = '" + m_group + "'"),
            "20..25");

  auto result = verify();
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("warning: partition 0: offsets 20..25 (exclusive), 5 offsets removed by retention "
                            "before consumption"),
            std::string::npos)
      << result.out;
  result = verify({"--json", "--strict"});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  const auto report = parse_json(result.out);
  EXPECT_EQ(report["checked"].GetUint64(), 5U) << "25..29, still in the log";
  EXPECT_EQ(report["skipped_offsets"].GetUint64(), 5U);
}

// Messages consume dead-letters, of every kind a user meets: verify and
// replay (into the database, onto a topic, with a --reason filter) account
// for them and never fail.
TEST_F(VerifyGapsTest, MessagesConsumeDeadLettersNeverFailVerifyOrReplay) {
  test::create_topic(m_topic, 1);
  test::create_topic(m_topic + ".dlq", 1); // consume publishes its dead letters there
  auto lines = test::order_lines(12, 27, "verifyodd");
  const auto value_of = [&lines](std::size_t i) { return lines[i].substr(lines[i].find('\t') + 1); };
  const auto replaced = [](std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from << " in " << text;
    return at == std::string::npos ? text : text.replace(at, from.size(), to);
  };
  std::vector<std::optional<std::string>> odd;
  odd.push_back(replaced(value_of(0), "\"customer_name\":\"", std::string("\"customer_name\":\"A") + '\0' + "B"));
  odd.push_back(replaced(value_of(1), "\"customer_name\":\"", "\"customer_name\":\"A\\u0000B"));
  odd.push_back(replaced(value_of(2), "\"order_id\":\"", "\"order_id\":\"" + std::string(60, 'X')));
  odd.push_back(replaced(value_of(3), "\"total_amount\":", "\"total_amount\":99999999999999"));
  {
    const auto value = value_of(4);
    const auto at = value.find("\"created_at\":\"") + 14;
    odd.push_back(value.substr(0, at) + "0000" + value.substr(at + 4));
  }
  odd.push_back(replaced(value_of(5), "\"customer_email\":\"", "\"customer_email\":\"\xC3\x28"));
  odd.push_back(replaced(value_of(6), "\"status\":\"pending\"", "\"status\":\"pending\",\"status\":\"done\""));
  odd.push_back(std::nullopt); // a tombstone
  odd.push_back(std::string(300 * 1024, 'x'));
  {
    std::uint64_t failed = 0;
    kafka::Producer producer(test::kafka_settings(), {{"enable.idempotence", "true"}},
                             [&failed](kafka::MessageView m) { failed += !m.ok() ? 1U : 0U; });
    for (std::size_t i = 0; i < lines.size(); ++i) {
      producer.produce(m_topic, "CUST-ODD", value_of(i), nullptr, nullptr);
      if (i < odd.size()) {
        producer.produce(m_topic, "CUST-ODD", odd[i] ? std::string_view(*odd[i]) : std::string_view(), nullptr,
                         nullptr);
      }
    }
    ASSERT_EQ(producer.flush(30s), 0);
    ASSERT_EQ(failed, 0U);
  }
  test::BackgroundFoodpipe consume(
      {"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--until-end", "--quiet"});
  const auto consumed = consume.wait(120);
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  const auto dead = std::to_string(odd.size());
  ASSERT_EQ(sql("SELECT count(*) FROM dead_letters"), dead);

  auto result = verify({"--json"});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  auto report = parse_json(result.out);
  EXPECT_EQ(report["checked"].GetUint64(), lines.size() + odd.size());
  EXPECT_EQ(report["dead_lettered"].GetUint64(), odd.size());
  EXPECT_EQ(report["ok"].GetUint64(), lines.size());

  const auto replayed = replay_into_db();
  ASSERT_EQ(replayed.exit_code, 0) << replayed.out << replayed.err;
  const auto summary = parse_json(replayed.out);
  EXPECT_EQ(summary["dead_lettered"].GetUint64(), odd.size());
  EXPECT_EQ(summary["dead_letters_recorded"].GetUint64(), 0U);
  EXPECT_EQ(summary["already_present"].GetUint64(), lines.size());

  // The dead-letter topic, redriven one reason at a time.
  const auto target = test::unique_name("oddtarget");
  test::create_topic(target, 1);
  const auto invalid_value = sql("SELECT count(*) FROM dead_letters WHERE reason_code = 'invalid_value'");
  const auto redriven = test::run_foodpipe({"replay", "--topic", m_topic + ".dlq", "--from-beginning", "--reason",
                                            "invalid_value", "--to-topic", target, "--json", "--quiet"});
  ASSERT_EQ(redriven.exit_code, 0) << redriven.out << redriven.err;
  EXPECT_EQ(std::to_string(parse_json(redriven.out)["republished"].GetUint64()), invalid_value);
  EXPECT_EQ(parse_json(redriven.out)["read"].GetUint64(), odd.size());
  // And the .dlq topic itself replayed into the database: each is a dead letter again, nothing fails.
  const auto dlq = test::run_foodpipe({"replay", "--db", m_db.uri(), "--topic", m_topic + ".dlq",
                                       "--from-beginning", "--json", "--quiet"});
  ASSERT_EQ(dlq.exit_code, 0) << dlq.out << dlq.err;
  EXPECT_EQ(parse_json(dlq.out)["dead_lettered"].GetUint64(), odd.size());
}

// The audit itself, with orders PostgreSQL refuses to stage (the decoder
// lets none of them through any more, but the audit must not rely on it):
// they are isolated, every other message of the chunk is still classified,
// and each refused one is accounted for by its dead letter.
TEST_F(VerifyGapsTest, TheAuditIsolatesValuesPostgresRefuses) {
  auto connection = db::Connection::connect(m_db.conninfo());
  domain::OrderGenerator generator(28, "auditrefused");
  // Offsets 100..599 of partition 0 each have a dead letter; 150, 300 and 450
  // hold values PostgreSQL refuses; 700 refuses too and has no dead letter.
  sql("INSERT INTO dead_letters (source_topic, source_partition, source_offset, reason_code) "
      "SELECT '" + m_topic + "', 0, g, 'db_rejected' FROM generate_series(100, 599) g");
  db::OrderAudit audit(connection, m_topic);
  db::IncomingOrder incoming;
  for (std::int64_t offset = 100; offset < 600; ++offset) {
    incoming.order = generator.next();
    incoming.partition = 0;
    incoming.offset = offset;
    if (offset == 150) {
      incoming.order.customer_name = std::string("NUL\0inside", 10); // text refuses it
    } else if (offset == 300) {
      incoming.order.items.front().name = std::string("\0", 1); // jsonb refuses \u0000
    } else if (offset == 450) {
      incoming.order.customer_email = "\xC3\x28@example.com"; // not UTF-8
    }
    audit.add(incoming);
  }
  audit.add_undecodable(0, 600); // no dead letter: missing
  incoming.order = generator.next();
  incoming.offset = 700;
  incoming.order.customer_name = std::string("\0", 1);
  audit.add(incoming);

  const auto counts = audit.classify();
  EXPECT_EQ(counts.dead_lettered, 500U);
  EXPECT_EQ(counts.missing, 2U);
  EXPECT_EQ(counts.refused, 4U);
  EXPECT_EQ(counts.ok + counts.duplicates + counts.different, 0U);
  const auto problems = audit.problems(10);
  ASSERT_EQ(problems.size(), 2U);
  EXPECT_EQ(problems[0].offset, 600);
  EXPECT_EQ(problems[0].detail, "does not decode and has no dead letter");
  EXPECT_EQ(problems[1].offset, 700);
  EXPECT_EQ(problems[1].kind, "missing");
  EXPECT_NE(problems[1].detail.find("PostgreSQL refuses its values (SQLSTATE 22021"), std::string::npos)
      << problems[1].detail;
}

} // namespace
} // namespace foodpipe
