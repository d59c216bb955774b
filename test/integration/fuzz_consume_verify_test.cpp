// Whatever a topic holds, consume and verify account for it: 20,000 messages
// from the seeded mutator (test/support/mutator.hpp), valid orders and exact
// re-sends among them, go through `foodpipe consume --until-end` and then
// `foodpipe inspect --verify`, against the real broker and PostgreSQL.
//
// The seed is fixed, so a failure reproduces; FOODPIPE_FUZZ_SEED and
// FOODPIPE_FUZZ_MESSAGES change the seed and the count for a longer run by
// hand (docs/testing.md).

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "domain/generator.hpp"
#include "domain/order_json.hpp"
#include "kafka/admin.hpp"
#include "kafka/producer.hpp"
#include "kafka/reader.hpp"
#include "support/mutator.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t k_default_seed = 20'261'128;
constexpr int k_default_messages = 20'000;
constexpr int k_partitions = 3;

kafka::ClientSettings settings() { return {test::bootstrap_servers(), {}}; }

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::stoull(text) : fallback;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class FuzzConsumeVerifyTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
    kafka::Admin admin(settings());
    for (const auto& name : {m_topic, m_topic + ".dlq"}) {
      admin.create_topic(name, k_partitions, 1, {}, 10s);
    }
  }

  void publish(const std::vector<test::MutatedMessage>& messages) {
    std::uint64_t failed = 0;
    kafka::Producer producer(settings(), {{"enable.idempotence", "true"}, {"partitioner", "murmur2_random"}},
                             [&failed](kafka::MessageView m) { failed += !m.ok() ? 1U : 0U; });
    for (const auto& message : messages) {
      // A tombstone has no value at all; an empty value is not one.
      const std::string_view value = message.value ? std::string_view(*message.value) : std::string_view();
      producer.produce(m_topic, message.key, value, nullptr, nullptr);
    }
    ASSERT_EQ(producer.flush(60s), 0);
    ASSERT_EQ(failed, 0U);
  }

  std::string sql(const std::string& query) { return test::query_value(m_db.conninfo(), query); }

  // "partition:offset" of every dead letter of the topic.
  std::set<std::string> dead_letter_positions() {
    const auto list = sql("SELECT string_agg(source_partition || ':' || source_offset, ',') FROM dead_letters "
                          "WHERE source_topic = '" + m_topic + "'");
    std::set<std::string> positions;
    std::stringstream stream(list);
    for (std::string item; std::getline(stream, item, ',');) {
      positions.insert(item);
    }
    return positions;
  }

  // "partition:offset" of the original message of every letter on <topic>.dlq.
  std::set<std::string> dlq_positions() {
    kafka::Reader reader(settings());
    std::vector<kafka::PartitionRange> ranges;
    for (int p = 0; p < k_partitions; ++p) {
      const auto marks = reader.watermarks(m_topic + ".dlq", p, 10s);
      ranges.push_back({p, marks.low, marks.high});
    }
    std::set<std::string> positions;
    reader.read(m_topic + ".dlq", ranges, [&](kafka::MessageView m) {
      std::map<std::string, std::string> headers;
      for (const auto& [name, value] : m.headers()) {
        headers[name] = value;
      }
      positions.insert(headers["original-partition"] + ":" + headers["original-offset"]);
      return true;
    });
    return positions;
  }

  test::ScratchDatabase m_db{"fpfuzz"};
  std::string m_topic = test::unique_name("fuzz");
  std::string m_group = test::unique_name("group");
};

TEST_F(FuzzConsumeVerifyTest, EveryMutatedMessageIsAppliedADuplicateOrADeadLetterAndVerifyAccountsForIt) {
  const std::uint64_t seed = env_number("FOODPIPE_FUZZ_SEED", k_default_seed);
  const auto count = static_cast<int>(env_number("FOODPIPE_FUZZ_MESSAGES", k_default_messages));
  SCOPED_TRACE("mutator seed " + std::to_string(seed) + ", " + std::to_string(count) + " messages, topic " +
               m_topic + ", group " + m_group);

  // What the consumer's gate says about each message, decided here by the
  // same decode() with consume's default --max-message-bytes.
  test::MessageMutator mutator(seed);
  std::vector<test::MutatedMessage> messages;
  messages.reserve(static_cast<std::size_t>(count));
  std::map<std::string, std::uint64_t> by_mutation;
  std::map<std::string, std::uint64_t> expected_rejections; // reason -> messages
  std::uint64_t decodable = 0;
  std::uint64_t bytes = 0;
  for (int i = 0; i < count; ++i) {
    messages.push_back(mutator.next());
    const auto& message = messages.back();
    ++by_mutation[std::string(test::to_string(message.mutation))];
    const std::string_view value = message.value ? std::string_view(*message.value) : std::string_view();
    bytes += value.size();
    const domain::DecodeResult result = domain::decode(value, {256 * 1024});
    if (result.ok()) {
      ++decodable;
    } else {
      ++expected_rejections[std::string(domain::to_string(result.rejection().code))];
    }
  }
  std::cout << "mutated messages (seed " << seed << ", " << bytes << " bytes) by kind:";
  for (const auto& [kind, n] : by_mutation) {
    std::cout << ' ' << kind << '=' << n;
  }
  std::cout << "\nexpected from decode: ok=" << decodable;
  for (const auto& [reason, n] : expected_rejections) {
    std::cout << ' ' << reason << '=' << n;
  }
  std::cout << std::endl;

  auto start = std::chrono::steady_clock::now();
  ASSERT_NO_FATAL_FAILURE(publish(messages));
  const double publish_s = seconds_since(start);

  start = std::chrono::steady_clock::now();
  const auto consumed = test::run_foodpipe({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group,
                                            "--until-end", "--json", "--quiet"});
  const double consume_s = seconds_since(start);
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  const auto summary = test::parse_json(consumed.out);
  ASSERT_TRUE(summary.IsObject()) << consumed.out;

  const auto n = static_cast<std::uint64_t>(count);
  EXPECT_EQ(summary["consumed"].GetUint64(), n);
  const std::uint64_t applied = summary["applied"].GetUint64();
  const std::uint64_t duplicates = summary["duplicates"].GetUint64();
  const std::uint64_t dead_letters = summary["dead_letters"].GetUint64();
  EXPECT_EQ(applied + duplicates + dead_letters, n);
  std::map<std::string, std::uint64_t> reasons;
  for (const auto& member : summary["dead_letters_by_reason"].GetObject()) {
    reasons[member.name.GetString()] = member.value.GetUint64();
  }
  // Each rejection decode() gives is the consumer's too; PostgreSQL refuses
  // nothing the gate let through (a refused row would be db_rejected).
  for (const auto& [reason, expected] : expected_rejections) {
    EXPECT_EQ(reasons[reason], expected) << reason;
  }
  EXPECT_EQ(reasons["db_rejected"], 0U) << "the gate let through a row PostgreSQL refuses";
  // What decodes is stored once per order id; a re-send is a duplicate, another
  // content under a stored id a conflicting_duplicate.
  EXPECT_EQ(applied + duplicates + reasons["conflicting_duplicate"], decodable);
  EXPECT_GT(duplicates, 0U);
  EXPECT_GT(reasons["conflicting_duplicate"], 0U);

  // In the database: the same counts, only documented reasons, and the stored
  // offsets at the log end.
  EXPECT_EQ(sql("SELECT count(*) FROM orders"), std::to_string(applied));
  EXPECT_EQ(sql("SELECT count(*) FROM dead_letters WHERE source_topic = '" + m_topic + "'"),
            std::to_string(dead_letters));
  const auto codes = sql("SELECT string_agg(DISTINCT reason_code, ',') FROM dead_letters");
  std::stringstream code_list(codes);
  for (std::string code; std::getline(code_list, code, ',');) {
    EXPECT_TRUE(domain::parse_reason_code(code).has_value()) << "undocumented reason code " << code;
  }
  kafka::Reader reader(settings());
  std::int64_t log_end = 0;
  for (int p = 0; p < k_partitions; ++p) {
    const auto high = reader.watermarks(m_topic, p, 10s).high;
    log_end += high;
    EXPECT_EQ(sql("SELECT next_offset FROM consumer_offsets WHERE group_id = '" + m_group + "' AND topic = '" +
                  m_topic + "' AND partition = " + std::to_string(p)),
              std::to_string(high))
        << "partition " << p;
  }
  EXPECT_EQ(log_end, count) << "the topic holds exactly what was published";
  // Every dead letter is on the DLQ topic too (at least once), and nothing else is.
  EXPECT_EQ(dlq_positions(), dead_letter_positions());

  start = std::chrono::steady_clock::now();
  const auto verified = test::run_foodpipe({"inspect", "--verify", "--db", m_db.uri(), "--topic", m_topic, "--group",
                                            m_group, "--json", "--quiet"});
  const double verify_s = seconds_since(start);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  const auto report = test::parse_json(verified.out);
  ASSERT_TRUE(report.IsObject()) << verified.out << verified.err;
  EXPECT_TRUE(report["passed"].GetBool()) << verified.out;
  EXPECT_EQ(report["checked"].GetUint64(), n);
  EXPECT_EQ(report["missing"].GetUint64(), 0U) << verified.out;
  EXPECT_EQ(report["different"].GetUint64(), 0U) << verified.out;
  EXPECT_EQ(report["ok"].GetUint64() + report["duplicates"].GetUint64() + report["dead_lettered"].GetUint64(), n)
      << verified.out;
  EXPECT_EQ(report["dead_lettered"].GetUint64(), dead_letters);

  std::cout << "consume: applied=" << applied << " duplicates=" << duplicates << " dead_letters=" << dead_letters;
  for (const auto& [reason, r] : reasons) {
    std::cout << ' ' << reason << '=' << r;
  }
  std::cout << "\ntimes: publish " << publish_s << " s, consume " << consume_s << " s, verify " << verify_s << " s"
            << std::endl;
}

// What the run above found, reduced to three messages: an order stored by one
// batch, then two copies of a conflicting version of it in the next. Both are
// conflicts with the stored row; counting the second as an exact duplicate of
// the first (which was dead-lettered, never stored) would leave it neither
// stored nor dead-lettered, and verify would call it different.
TEST_F(FuzzConsumeVerifyTest, ACopyOfAConflictInTheSameBatchIsAConflictToo) {
  domain::OrderGenerator generator(3, "conflict");
  const domain::Order original = generator.next();
  domain::Order conflict = original;
  conflict.status = domain::OrderStatus::cancelled;
  const auto consume = [this] {
    return test::run_foodpipe({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--until-end",
                               "--json", "--quiet"});
  };

  ASSERT_NO_FATAL_FAILURE(publish({{test::Mutation::valid, original.customer_id, domain::encode(original)}}));
  const auto first = consume();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(test::parse_json(first.out)["applied"].GetUint64(), 1U);

  const std::string copy = domain::encode(conflict);
  ASSERT_NO_FATAL_FAILURE(publish({{test::Mutation::conflict, conflict.customer_id, copy},
                                   {test::Mutation::resend, conflict.customer_id, copy}}));
  const auto second = consume();
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const auto summary = test::parse_json(second.out);
  EXPECT_EQ(summary["consumed"].GetUint64(), 2U);
  EXPECT_EQ(summary["duplicates"].GetUint64(), 0U) << second.out;
  EXPECT_EQ(summary["dead_letters"].GetUint64(), 2U) << second.out;
  EXPECT_EQ(sql("SELECT count(*) FROM dead_letters WHERE reason_code = 'conflicting_duplicate'"), "2");
  EXPECT_EQ(sql("SELECT status FROM orders WHERE order_id = '" + original.order_id + "'"), "pending");

  const auto verified = test::run_foodpipe(
      {"inspect", "--verify", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--json", "--quiet"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
}

} // namespace
} // namespace foodpipe
