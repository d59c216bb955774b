// Reading fixed ranges of topics whose offsets are not contiguous, against
// the real broker: kafka::Reader, `inspect messages` and `replay` on a topic
// written by Kafka's own transactional producer (commit and abort markers,
// aborted records), on a topic whose log start kafka-delete-records moved,
// on one with a transaction left open, and on one compacted for real. Every
// range ends as soon as the log says it is done (never by the reader's 30 s
// idle timeout), aborted records are never visited, and offsets that are gone
// are reported, not fatal.

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "support/foreign_topic.hpp"
#include "kafka/reader.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::kafka_settings;
using test::parse_json;

// Far below the reader's idle timeout (30 s): a range that waited for it
// would fail this, and a healthy one takes a fraction of a second.
constexpr auto k_prompt = 5s;

std::vector<std::int64_t> read_offsets(kafka::Reader& reader, const std::string& topic,
                                       const kafka::PartitionRange& range, kafka::ReadResult& outcome,
                                       Clock::duration& took) {
  std::vector<std::int64_t> offsets;
  const auto started = Clock::now();
  outcome = reader.read(topic, {range}, [&](kafka::MessageView message) {
    EXPECT_EQ(message.partition(), range.partition);
    offsets.push_back(message.offset());
    return true;
  });
  took = Clock::now() - started;
  return offsets;
}

std::vector<std::int64_t> below(const std::set<std::int64_t>& offsets, std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> result;
  for (const auto offset : offsets) {
    if (offset >= from && offset < to) {
      result.push_back(offset);
    }
  }
  return result;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    start = end == std::string::npos ? text.size() : end + 1;
  }
  return lines;
}

// One topic for the suite, written once by Kafka's transactional producer:
// 48 orders over 3 partitions in transactions of 5 committed, 3 aborted, ...
// Written by the first test that runs, not in SetUpTestSuite: GoogleTest marks
// the tests of a suite whose SetUpTestSuite failed as skipped, and CTest then
// counts a missing broker or Kafka download as a skip instead of a failure.
class ReaderTransactionalTopicTest : public ::testing::Test {
protected:
  static void TearDownTestSuite() {
    s_run.reset();
    s_topic.reset();
  }

  void SetUp() override {
    if (!s_run) {
      s_topic = std::make_unique<std::string>(test::unique_name("txnread"));
      test::create_topic(*s_topic, 3);
      s_run = std::make_unique<test::StrangerRun>(
          test::write_with_stranger(*s_topic, test::order_lines(48, 11, "txnread"), {"--transactions", "c5,a3"}));
    }
    ASSERT_TRUE(s_run);
    ASSERT_EQ(s_run->count('C'), 30U) << "c5,a3 over 48 records";
    ASSERT_EQ(s_run->count('A'), 18U);
  }

  static const std::string& topic() { return *s_topic; }
  static const test::StrangerRun& run() { return *s_run; }

  inline static std::unique_ptr<std::string> s_topic;
  inline static std::unique_ptr<test::StrangerRun> s_run;
};

TEST_F(ReaderTransactionalTopicTest, TheReaderVisitsExactlyTheCommittedRecords) {
  kafka::Reader reader(kafka_settings());
  std::size_t visited = 0;
  for (std::int32_t partition = 0; partition < 3; ++partition) {
    const auto marks = reader.watermarks(topic(), partition, 10s);
    const auto committed = run().offsets('C', partition);
    const auto aborted = run().offsets('A', partition);
    if (marks.high == 0) {
      continue;
    }
    // The log ends on a commit or abort marker: today's reader waited for a
    // message at high - 1 that never comes.
    EXPECT_FALSE(committed.contains(marks.high - 1)) << "partition " << partition;
    kafka::ReadResult outcome;
    Clock::duration took{};
    const auto offsets = read_offsets(reader, topic(), {partition, marks.low, marks.high}, outcome, took);
    EXPECT_EQ(offsets, below(committed, marks.low, marks.high)) << "partition " << partition;
    for (const auto offset : offsets) {
      EXPECT_FALSE(aborted.contains(offset)) << "aborted record at " << offset << " was visited";
    }
    ASSERT_EQ(outcome.ranges.size(), 1U);
    const auto& range = outcome.ranges.front();
    EXPECT_EQ(range.ended, kafka::RangeEnd::complete);
    EXPECT_EQ(range.end, marks.high);
    EXPECT_EQ(range.messages, committed.size());
    EXPECT_TRUE(range.gone.empty());
    EXPECT_EQ(range.without_message(), static_cast<std::uint64_t>(marks.high - marks.low) - committed.size())
        << "markers and aborted records";
    EXPECT_LT(took, k_prompt) << "partition " << partition;
    visited += offsets.size();
  }
  EXPECT_EQ(visited, 30U);
}

TEST_F(ReaderTransactionalTopicTest, EveryRangeThatBeginsOrEndsOnAMarkerOrAnAbortedRecordEndsAtOnce) {
  // One partition (every offset of it) keeps the test short: each range
  // ending at the log end waits for one empty fetch (about 100 ms).
  std::int32_t partition = 0;
  for (std::int32_t p = 1; p < 3; ++p) {
    if (run().offsets('A', p).size() > run().offsets('A', partition).size()) {
      partition = p;
    }
  }
  kafka::Reader reader(kafka_settings());
  std::size_t ranges = 0;
  {
    const auto marks = reader.watermarks(topic(), partition, 10s);
    const auto committed = run().offsets('C', partition);
    for (std::int64_t last = marks.low; last < marks.high; ++last) {
      if (committed.contains(last)) {
        continue;
      }
      // [low, last + 1) ends on a marker or an aborted record, and
      // [last, high) begins on one.
      for (const kafka::PartitionRange range :
           {kafka::PartitionRange{partition, marks.low, last + 1}, kafka::PartitionRange{partition, last, marks.high}}) {
        kafka::ReadResult outcome;
        Clock::duration took{};
        const auto offsets = read_offsets(reader, topic(), range, outcome, took);
        EXPECT_EQ(offsets, below(committed, range.from, range.to))
            << "partition " << partition << " [" << range.from << ", " << range.to << ")";
        ASSERT_EQ(outcome.ranges.size(), 1U);
        EXPECT_EQ(outcome.ranges.front().ended, kafka::RangeEnd::complete);
        EXPECT_EQ(outcome.ranges.front().without_message(),
                  static_cast<std::uint64_t>(range.to - range.from) - offsets.size());
        EXPECT_LT(took, k_prompt) << "partition " << partition << " [" << range.from << ", " << range.to << ")";
        ++ranges;
      }
    }
  }
  EXPECT_GE(ranges, 2U * run().offsets('A', partition).size()) << "every aborted record, and the markers, were tried";
}

TEST_F(ReaderTransactionalTopicTest, InspectMessagesCountsMessagesAndPassesOverMarkersAndAbortedRecords) {
  // The partition with the most aborted records.
  std::int32_t partition = 0;
  for (std::int32_t p = 1; p < 3; ++p) {
    if (run().offsets('A', p).size() > run().offsets('A', partition).size()) {
      partition = p;
    }
  }
  const auto committed = run().offsets('C', partition);
  const auto aborted = run().offsets('A', partition);
  ASSERT_FALSE(aborted.empty());
  const auto first_aborted = *aborted.begin();
  const auto marks = test::watermarks(topic(), partition);

  const auto started = Clock::now();
  const auto result = test::run_foodpipe({"inspect", "messages", "--topic", topic(), "--partition",
                                          std::to_string(partition), "--offset", std::to_string(first_aborted),
                                          "--count", "3", "--json"});
  EXPECT_LT(Clock::now() - started, k_prompt);
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  std::vector<std::int64_t> shown;
  for (const auto& line : lines_of(result.out)) {
    shown.push_back(parse_json(line)["offset"].GetInt64());
  }
  auto expected = below(committed, first_aborted, marks.high);
  expected.resize(std::min<std::size_t>(expected.size(), 3));
  EXPECT_EQ(shown, expected) << "three messages after the aborted ones, none of them aborted";

  // From the log start to the end: every committed record, nothing else.
  const auto all = test::run_foodpipe({"inspect", "messages", "--topic", topic(), "--partition",
                                       std::to_string(partition), "--count", "1000", "--json"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  shown.clear();
  for (const auto& line : lines_of(all.out)) {
    shown.push_back(parse_json(line)["offset"].GetInt64());
  }
  EXPECT_EQ(shown, below(committed, 0, marks.high));

  // The last offset is a marker: nothing to show, at once.
  const auto last = test::run_foodpipe({"inspect", "messages", "--topic", topic(), "--partition",
                                        std::to_string(partition), "--offset=-1", "--json"});
  EXPECT_EQ(last.exit_code, 0) << last.err;
  EXPECT_EQ(last.out, "");
}

TEST_F(ReaderTransactionalTopicTest, ReplayOntoATopicCarriesExactlyTheCommittedRecords) {
  const auto target = test::unique_name("txntarget");
  test::create_topic(target, 3);
  const auto started = Clock::now();
  const auto result = test::run_foodpipe(
      {"replay", "--topic", topic(), "--from-beginning", "--to-topic", target, "--json", "--quiet"});
  EXPECT_LT(Clock::now() - started, k_prompt);
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const auto summary = parse_json(result.out);
  EXPECT_EQ(summary["read"].GetUint64(), 30U);
  EXPECT_EQ(summary["republished"].GetUint64(), 30U);
  std::uint64_t offsets = 0;
  for (std::int32_t p = 0; p < 3; ++p) {
    offsets += static_cast<std::uint64_t>(test::watermarks(topic(), p).high);
  }
  EXPECT_EQ(summary["planned"].GetUint64(), offsets);
  EXPECT_EQ(summary["without_message"].GetUint64(), offsets - 30U) << "markers and aborted records";

  // What arrived is the committed records' values, each once.
  std::multiset<std::string> expected;
  for (const auto& record : run().records) {
    if (record.kind == 'C') {
      expected.insert(record.line.substr(record.line.find('\t') + 1));
    }
  }
  std::multiset<std::string> received;
  kafka::Reader reader(kafka_settings());
  std::vector<kafka::PartitionRange> ranges;
  for (std::int32_t p = 0; p < 3; ++p) {
    ranges.push_back({p, 0, reader.watermarks(target, p, 10s).high});
  }
  (void)reader.read(target, ranges, [&](kafka::MessageView m) {
    received.emplace(m.value());
    return true;
  });
  EXPECT_EQ(received, expected);

  // A range of one partition that begins on a marker and ends inside an
  // aborted transaction holds no message: read 0, at once.
  std::int32_t partition = 0;
  while (partition < 2 && run().offsets('A', partition).empty()) {
    ++partition;
  }
  const auto aborted = run().offsets('A', partition);
  ASSERT_FALSE(aborted.empty());
  const auto first = *aborted.begin();
  const auto from = std::max<std::int64_t>(first - 1, 0); // the marker before it, when there is one
  const auto gap = test::run_foodpipe({"replay", "--topic", topic(), "--partition", std::to_string(partition),
                                       "--from-offset", std::to_string(from), "--to-offset",
                                       std::to_string(first + 1), "--to-topic", target, "--json", "--quiet"});
  ASSERT_EQ(gap.exit_code, 0) << gap.out << gap.err;
  const auto none = parse_json(gap.out);
  EXPECT_EQ(none["planned"].GetUint64(), static_cast<std::uint64_t>(first + 1 - from));
  EXPECT_EQ(none["read"].GetUint64(), 0U);
}

TEST(ReaderGapsTest, AnOpenTransactionEndsTheRangeAtTheLastStableOffset) {
  const auto topic = test::unique_name("txnopen");
  test::create_topic(topic, 1);
  const auto lines = test::order_lines(8, 12, "txnopen");
  const auto input = test::write_input(lines);
  // 5 committed (offsets 0-4, marker 5), then 3 records (6-8) in a transaction held open.
  auto producer = test::start_stranger_producer(
      {"--topic", topic, "--input", input, "--partition", "0", "--transactions", "c5", "--open", "3", "--hold-ms",
       "-1"});
  ASSERT_TRUE(producer.wait_for_output("open", 60)) << producer.stderr_so_far();

  kafka::Reader reader(kafka_settings());
  EXPECT_EQ(reader.watermarks(topic, 0, 10s).high, 6) << "read_committed: the last stable offset";
  kafka::ReadResult outcome;
  Clock::duration took{};
  auto offsets = read_offsets(reader, topic, {0, 0, 9}, outcome, took);
  EXPECT_EQ(offsets, (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  ASSERT_EQ(outcome.ranges.size(), 1U);
  EXPECT_EQ(outcome.ranges.front().ended, kafka::RangeEnd::log_end) << "held back by the open transaction";
  EXPECT_EQ(outcome.ranges.front().end, 6);
  EXPECT_FALSE(outcome.complete());
  EXPECT_LT(took, k_prompt);

  // Aborted when stdin closes: the records are never seen, the range completes.
  producer.close_stdin();
  const auto ended = producer.wait(60);
  ASSERT_EQ(ended.exit_code, 0) << ended.out << ended.err;
  std::remove(input.c_str());
  offsets = read_offsets(reader, topic, {0, 0, 10}, outcome, took);
  EXPECT_EQ(offsets, (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(outcome.ranges.front().ended, kafka::RangeEnd::complete);
  EXPECT_EQ(outcome.ranges.front().without_message(), 5U) << "two markers, three aborted records";
  EXPECT_LT(took, k_prompt);
}

class ReaderDeletedRecordsTest : public ::testing::Test {
protected:
  void SetUp() override {
    test::create_topic(m_topic, 1);
    std::uint64_t failed = 0;
    kafka::Producer producer(kafka_settings(), {{"enable.idempotence", "true"}},
                             [&failed](kafka::MessageView m) { failed += !m.ok() ? 1U : 0U; });
    for (const auto& line : test::order_lines(20, 13, "deleted")) {
      const auto tab = line.find('\t');
      producer.produce(m_topic, line.substr(0, tab), line.substr(tab + 1), nullptr, nullptr);
    }
    ASSERT_EQ(producer.flush(30s), 0);
    ASSERT_EQ(failed, 0U);
    test::delete_records(m_topic, 0, 8);
    ASSERT_EQ(test::watermarks(m_topic, 0).low, 8);
  }

  std::string m_topic = test::unique_name("deleted");
};

TEST_F(ReaderDeletedRecordsTest, ARangeBelowTheLogStartSaysWhatWasGoneAndReadsTheRest) {
  kafka::Reader reader(kafka_settings());
  kafka::ReadResult outcome;
  Clock::duration took{};
  auto offsets = read_offsets(reader, m_topic, {0, 3, 12}, outcome, took);
  EXPECT_EQ(offsets, (std::vector<std::int64_t>{8, 9, 10, 11}));
  ASSERT_EQ(outcome.ranges.size(), 1U);
  EXPECT_EQ(outcome.ranges.front().ended, kafka::RangeEnd::complete);
  EXPECT_EQ(outcome.ranges.front().gone, (std::vector<kafka::OffsetSpan>{{3, 8}}));
  EXPECT_EQ(outcome.ranges.front().without_message(), 0U);
  EXPECT_LT(took, k_prompt);

  // Entirely gone: nothing visited, nothing thrown.
  offsets = read_offsets(reader, m_topic, {0, 0, 5}, outcome, took);
  EXPECT_TRUE(offsets.empty());
  EXPECT_EQ(outcome.ranges.front().ended, kafka::RangeEnd::complete);
  EXPECT_EQ(outcome.ranges.front().gone, (std::vector<kafka::OffsetSpan>{{0, 5}}));
  EXPECT_LT(took, k_prompt);
}

TEST_F(ReaderDeletedRecordsTest, ReplayFromBelowTheLogStartSaysWhichOffsetsWereGoneAndReadsFromTheLogStart) {
  const auto target = test::unique_name("deletedtarget");
  test::create_topic(target, 1);
  const auto result = test::run_foodpipe(
      {"replay", "--topic", m_topic, "--from-offset", "2", "--to-topic", target, "--json", "--quiet"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const auto summary = parse_json(result.out);
  ASSERT_EQ(summary["gone"].Size(), 1U);
  EXPECT_EQ(summary["gone"][0]["partition"].GetInt(), 0);
  EXPECT_EQ(summary["gone"][0]["from"].GetInt64(), 2);
  EXPECT_EQ(summary["gone"][0]["to"].GetInt64(), 8);
  EXPECT_EQ(summary["partitions"][0]["from"].GetInt64(), 8);
  EXPECT_EQ(summary["read"].GetUint64(), 12U);
  EXPECT_EQ(summary["republished"].GetUint64(), 12U);
  // One line on stderr names the range that was gone.
  std::size_t warnings = 0;
  for (const auto& line : lines_of(result.err)) {
    if (line.find("already removed") != std::string::npos) {
      ++warnings;
      EXPECT_NE(line.find("from=2"), std::string::npos) << line;
      EXPECT_NE(line.find("to=8"), std::string::npos) << line;
    }
  }
  EXPECT_EQ(warnings, 1U) << result.err;

  // The text report says it too.
  const auto text = test::run_foodpipe({"replay", "--topic", m_topic, "--from-offset", "2", "--dry-run", "--quiet"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("offsets 2 to 8 (exclusive) were already removed"), std::string::npos) << text.out;
}

TEST(ReaderGapsTest, ACompactedTopicIsReadWithItsHolesAndRangesEndingInOneEndAtOnce) {
  const auto topic = test::unique_name("compacted");
  // 40 orders under 4 keys: compaction keeps the newest of each.
  std::vector<std::string> lines;
  for (const auto& line : test::order_lines(40, 14, "compacted")) {
    lines.push_back("key" + std::to_string(lines.size() % 4) + line.substr(line.find('\t')));
  }
  const auto started = Clock::now();
  const auto offsets = test::make_compacted_topic(topic, lines);
  const auto marks = test::watermarks(topic, 0);
  ASSERT_LT(static_cast<std::int64_t>(offsets.size()), marks.high - marks.low)
      << "the broker did not compact within the deadline";
  std::cout << "compaction showed holes after " << std::chrono::duration<double>(Clock::now() - started).count()
            << " s\n";

  // Compaction only removes, so every offset missing now stays missing.
  const std::set<std::int64_t> present(offsets.begin(), offsets.end());
  std::int64_t hole = -1;
  for (std::int64_t offset = marks.high - 1; offset >= marks.low && hole < 0; --offset) {
    if (!present.contains(offset)) {
      hole = offset;
    }
  }
  ASSERT_GE(hole, 0);
  kafka::Reader reader(kafka_settings());
  kafka::ReadResult outcome;
  Clock::duration took{};
  const auto read = read_offsets(reader, topic, {0, marks.low, hole + 1}, outcome, took);
  EXPECT_EQ(outcome.ranges.front().ended, kafka::RangeEnd::complete);
  EXPECT_LT(took, k_prompt) << "a range ending in a hole";
  for (const auto offset : read) {
    EXPECT_LE(offset, hole);
  }
  EXPECT_EQ(outcome.ranges.front().without_message() + read.size(),
            static_cast<std::uint64_t>(hole + 1 - marks.low));
  EXPECT_FALSE(std::find(read.begin(), read.end(), hole) != read.end());

  // inspect messages and replay over the same range finish as promptly.
  auto t0 = Clock::now();
  const auto shown = test::run_foodpipe({"inspect", "messages", "--topic", topic, "--partition", "0", "--offset",
                                         std::to_string(hole), "--count", "1", "--json"});
  EXPECT_LT(Clock::now() - t0, k_prompt);
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  if (!shown.out.empty()) {
    EXPECT_GT(parse_json(shown.out)["offset"].GetInt64(), hole) << "the hole holds no message";
  }
  const auto target = test::unique_name("compactedtarget");
  test::create_topic(target, 1);
  t0 = Clock::now();
  const auto replayed = test::run_foodpipe({"replay", "--topic", topic, "--from-beginning", "--to-offset",
                                            std::to_string(hole + 1), "--to-topic", target, "--json", "--quiet"});
  EXPECT_LT(Clock::now() - t0, k_prompt);
  ASSERT_EQ(replayed.exit_code, 0) << replayed.out << replayed.err;
  const auto summary = parse_json(replayed.out);
  EXPECT_EQ(summary["read"].GetUint64() + summary["without_message"].GetUint64(), summary["planned"].GetUint64());
  EXPECT_GT(summary["without_message"].GetUint64(), 0U);
}

} // namespace
} // namespace foodpipe
