#pragma once

// `foodpipe inspect --watch` without the terminal: what one sample of the
// pipeline holds, the rates computed from two successive samples and the
// history of the total lag that the screen draws as a sparkline. Pure: the
// samples are taken by InspectSession (inspect.hpp) and drawn by lib/app, so
// everything here is reached by unit tests with hand-made samples.
//
// A rate is a difference of two counters over the time between the samples.
// Counters only grow while the pipeline runs; when one goes backwards (offsets
// moved back for a replay, a topic deleted and created again, rows deleted)
// there is no rate for that step, the partition is marked reset instead: a
// negative messages per second would be a lie about what flowed.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "db/inspect_queries.hpp"
#include "pipeline/inspect.hpp"

namespace foodpipe::pipeline {

// Messages `group` has still to read in one partition: from its position
// (stored or committed offset; nullopt before it has one) to the log end. A
// position below the log start points at messages retention deleted, which the
// consumer will never read: they are not lag. Never negative.
[[nodiscard]] std::int64_t partition_lag(std::optional<std::int64_t> position, std::int64_t log_start,
                                         std::int64_t log_end);

struct WatchSample {
  std::int64_t at_ms = 0;       // steady clock, for rates: only differences mean anything
  std::string taken_at;         // wall clock, RFC 3339 UTC, for the reader
  std::string kafka_problem;    // why the Kafka half is missing; empty when the broker answered
  std::string database_problem; // why the database half is missing; empty when it answered
  // The Kafka half (valid when kafka_problem is empty).
  bool topic_exists = false;
  std::size_t brokers = 0;
  std::optional<std::int64_t> dlq_messages; // messages kept in <topic>.dlq; nullopt: no such topic
  GroupView group;                          // partitions, lag, state and members
  bool lag_from_kafka = false;              // the lag counts from Kafka's committed offsets (no database)
  // The database half (present when database_problem is empty).
  std::string database_target;
  std::optional<db::DatabaseSummary> database;

  [[nodiscard]] bool kafka_ok() const { return kafka_problem.empty(); }
};

// Why a partition has no rate in this step.
enum class RateGap {
  none,          // rates are there
  first_sample,  // nothing to compare with yet (the first sample, or the service was away)
  new_partition, // the partition was not in the previous sample
  reset          // a counter went backwards: offsets moved back, or the topic was recreated
};

struct PartitionRates {
  std::int32_t partition = 0;
  std::optional<double> in_per_s;  // log end growth: messages produced
  std::optional<double> out_per_s; // position growth: messages the group stored
  RateGap in_gap = RateGap::first_sample;
  RateGap out_gap = RateGap::first_sample;
};

struct WatchRates {
  double elapsed_s = 0;                   // between the two samples; 0 for the first one
  std::vector<PartitionRates> partitions; // in the current sample's order
  // Sums over the partitions that have a rate; nullopt when none has.
  std::optional<double> in_per_s;
  std::optional<double> out_per_s;
  std::optional<double> orders_per_s;                    // rows in orders
  std::optional<double> dead_letters_per_s;              // all reasons
  std::map<std::string, double> dead_letters_per_reason; // reasons with a rate in this step
  [[nodiscard]] const PartitionRates* find(std::int32_t partition) const;
};

// The rates between `previous` (nullptr for the first sample) and `current`.
// A partition new in `current` has no rate yet; a log start that moves
// (retention) changes no rate, which come from the log end and the position
// only; a counter that goes backwards gives RateGap::reset, never a negative
// rate. Out rates compare like with like: none when one sample counted from
// the database and the other from Kafka's committed offsets.
[[nodiscard]] WatchRates compute_rates(const WatchSample* previous, const WatchSample& current);

// The total lag over the last minute, for the sparkline.
class LagHistory {
public:
  static constexpr std::int64_t k_window_ms = 60'000;

  // A sample whose Kafka half is missing (or whose topic does not exist) is a gap.
  void add(const WatchSample& sample);
  // `width` characters, oldest on the left, each the highest total lag in its
  // slice of the last minute: U+2581..U+2588 scaled to the highest in the
  // window (all at the bottom when it is 0). A slice no sample fell in (the
  // interval is longer than a slice, or jitters) repeats the one before it; a
  // space is a gap, or a time before the first sample.
  [[nodiscard]] std::string sparkline(std::size_t width) const;
  [[nodiscard]] std::optional<std::int64_t> highest() const;

private:
  struct Point {
    std::int64_t at_ms = 0;
    std::optional<std::int64_t> total_lag; // nullopt: a gap
  };
  std::deque<Point> m_points;
  std::int64_t m_now_ms = 0;
};

} // namespace foodpipe::pipeline
