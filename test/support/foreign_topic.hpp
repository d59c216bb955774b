#pragma once

// Topics whose offsets are not contiguous, made the way other software makes
// them, for the reader, replay, inspect and verify tests: Kafka's own Java
// producer with committed and aborted transactions (transaction markers and
// aborted records), compaction that has actually run (holes where older
// records of a key were), and kafka-delete-records (a log start past offset 0).
// Header-only; each helper fails the calling test (EXPECT) when the
// tool it runs fails.

#include <chrono>
#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "domain/generator.hpp"
#include "kafka/admin.hpp"
#include "kafka/producer.hpp"
#include "kafka/reader.hpp"
#include "support/test_env.hpp"

namespace foodpipe::test {

inline kafka::ClientSettings kafka_settings() { return {bootstrap_servers(), {}}; }

// "key<TAB>json" lines of `count` valid orders (the generator's, keyed by customer).
inline std::vector<std::string> order_lines(int count, std::uint64_t seed, const std::string& run_id) {
  domain::OrderGenerator generator(seed, run_id);
  std::vector<std::string> lines;
  std::string json;
  for (int i = 0; i < count; ++i) {
    json.clear();
    const std::string key(generator.next_encoded(json));
    lines.push_back(key + "\t" + json);
  }
  return lines;
}

// What StrangerProducer wrote: every record with its kind (C committed or
// plain, A aborted, O left open and then ended) and position.
struct WrittenRecord {
  char kind = 'C';
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string line; // the input line ("key<TAB>value")
};

struct StrangerRun {
  std::vector<WrittenRecord> records;

  [[nodiscard]] std::set<std::int64_t> offsets(char kind, std::int32_t partition) const {
    std::set<std::int64_t> result;
    for (const auto& record : records) {
      if (record.kind == kind && record.partition == partition) {
        result.insert(record.offset);
      }
    }
    return result;
  }
  [[nodiscard]] std::size_t count(char kind) const {
    std::size_t n = 0;
    for (const auto& record : records) {
      n += record.kind == kind ? 1U : 0U;
    }
    return n;
  }
};

// Parses StrangerProducer's stdout ("C|A|O <partition> <offset>" per record,
// in input order, then "done"); `lines` are the records it was given.
inline StrangerRun parse_stranger_output(const std::string& out, const std::vector<std::string>& lines) {
  StrangerRun run;
  std::istringstream in(out);
  std::string kind;
  bool done = false;
  while (in >> kind) {
    if (kind == "done") {
      done = true;
      break;
    }
    if (kind == "open") {
      continue;
    }
    WrittenRecord record;
    record.kind = kind.front();
    in >> record.partition >> record.offset;
    if (run.records.size() < lines.size()) {
      record.line = lines[run.records.size()];
    }
    run.records.push_back(record);
  }
  EXPECT_TRUE(done) << out;
  EXPECT_EQ(run.records.size(), lines.size()) << out;
  return run;
}

// Writes `lines` to a scratch file for StrangerProducer's --input.
inline std::string write_input(const std::vector<std::string>& lines) {
  const std::string path = "/tmp/" + unique_name("stranger") + ".tsv";
  std::ofstream file(path, std::ios::binary);
  for (const auto& line : lines) {
    file << line << '\n';
  }
  return path;
}

// Runs StrangerProducer on `lines` with `args` (e.g. {"--transactions", "c5,a3"}).
inline StrangerRun write_with_stranger(const std::string& topic, const std::vector<std::string>& lines,
                                       const std::vector<std::string>& args) {
  const auto input = write_input(lines);
  std::vector<std::string> all = {"--topic", topic, "--input", input};
  all.insert(all.end(), args.begin(), args.end());
  const auto result = run_stranger_producer(all);
  std::remove(input.c_str());
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  return parse_stranger_output(result.out, lines);
}

// Creates the topic and returns once the broker's metadata lists all its
// partitions (CreateTopics answers when the controller has it; the broker
// that serves the next request may learn of it a moment later).
inline void create_topic(const std::string& topic, int partitions, const kafka::Properties& configs = {}) {
  kafka::Admin admin(kafka_settings());
  (void)admin.create_topic(topic, partitions, 1, configs, std::chrono::seconds(10));
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    const auto metadata = admin.metadata(std::chrono::seconds(10), topic);
    if (!metadata.topics.empty() && metadata.topics[0].ok() &&
        static_cast<int>(metadata.topics[0].partitions.size()) == partitions) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "topic " << topic << " not in the metadata 10 s after it was created";
}

// kafka-delete-records: moves the log start of topic/partition to `offset`.
inline void delete_records(const std::string& topic, std::int32_t partition, std::int64_t offset) {
  const std::string path = "/tmp/" + unique_name("delete") + ".json";
  {
    std::ofstream file(path);
    file << R"({"version":1,"partitions":[{"topic":")" << topic << R"(","partition":)" << partition
         << R"(,"offset":)" << offset << "}]}";
  }
  const auto result = run_kafka_tool({"delete-records", "--offset-json-file", path});
  std::remove(path.c_str());
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
}

inline kafka::Watermarks watermarks(const std::string& topic, std::int32_t partition) {
  kafka::Reader reader(kafka_settings());
  return reader.watermarks(topic, partition, std::chrono::seconds(10));
}

// The offsets of every message of topic/partition in [low, high).
inline std::vector<std::int64_t> offsets_in_log(const std::string& topic, std::int32_t partition) {
  kafka::Reader reader(kafka_settings());
  const auto marks = reader.watermarks(topic, partition, std::chrono::seconds(10));
  std::vector<std::int64_t> offsets;
  (void)reader.read(topic, {{partition, marks.low, marks.high}}, [&](kafka::MessageView message) {
    offsets.push_back(message.offset());
    return true;
  });
  return offsets;
}

// A one-partition topic compacted by the broker for real: `lines` (with keys
// repeated) are written, then a small record every 200 ms so that segments
// roll (segment.ms=100) and the cleaner, which wakes every
// log.cleaner.backoff.ms (15 s by default), finds something to clean. Returns
// once the log has holes (fewer messages than offsets), at most after
// `deadline`; the caller checks the result. Measured here: about 15 s.
inline std::vector<std::int64_t> make_compacted_topic(const std::string& topic, const std::vector<std::string>& lines,
                                                      std::chrono::seconds deadline = std::chrono::seconds(90)) {
  create_topic(topic, 1,
               {{"cleanup.policy", "compact"},
                {"segment.ms", "100"},
                {"min.cleanable.dirty.ratio", "0.01"},
                {"min.compaction.lag.ms", "0"},
                {"delete.retention.ms", "0"}});
  std::uint64_t failed = 0;
  kafka::Producer producer(kafka_settings(), {{"enable.idempotence", "true"}, {"linger.ms", "0"}},
                           [&failed](kafka::MessageView m) { failed += !m.ok() ? 1U : 0U; });
  const auto send = [&](const std::string& line) {
    const auto tab = line.find('\t');
    producer.produce(topic, line.substr(0, tab), line.substr(tab + 1), nullptr, nullptr);
  };
  for (const auto& line : lines) {
    send(line);
  }
  EXPECT_EQ(producer.flush(std::chrono::seconds(30)), 0);
  const auto until = std::chrono::steady_clock::now() + deadline;
  std::vector<std::int64_t> offsets;
  int tick = 0;
  while (std::chrono::steady_clock::now() < until) {
    // A tick per round under one key: it rolls the segment and is itself compacted.
    send("tick\t" + std::to_string(++tick));
    EXPECT_EQ(producer.flush(std::chrono::seconds(30)), 0);
    offsets = offsets_in_log(topic, 0);
    const auto marks = watermarks(topic, 0);
    if (static_cast<std::int64_t>(offsets.size()) < marks.high - marks.low) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(failed, 0U);
  return offsets;
}

} // namespace foodpipe::test
