#pragma once

// The job behind `foodpipe offsets`: the one place where an operator moves a
// consumer group's offsets. The consumer starts from the database's offsets
// (table consumer_offsets) and commits to Kafka only so that Kafka's tools
// show lag, so `kafka-consumer-groups --reset-offsets` alone is overwritten by
// the next batch; this job moves both.
//
// Targets follow Kafka's ConsumerGroupCommand --reset-offsets:
//   earliest, latest   the log start / log end of each partition;
//   offset N           N, clamped to [log start, log end] (clamped = true);
//   datetime T         the first offset whose timestamp is >= T, the log end
//                      when no message is that late (offsets-for-times);
//   shift N            the database's offset + N, clamped like an offset. A
//                      partition with no row in the database has nothing to
//                      shift from: refused (UsageError) as Kafka's tool refuses
//                      a partition without a committed offset.
//
// The plan reads only: the database's offsets, Kafka's committed offsets, the
// watermarks. It refuses (foodpipe::Error, exit 1) while the group has live
// members, dry run or not, as Kafka's tool does: a running consumer would
// move the offsets under it.
//
// Applying it is one PostgreSQL transaction: lock the group's rows of the
// topic (SELECT ... FOR UPDATE), check they still hold what the plan showed,
// write the new offsets, commit the same offsets to Kafka for the group
// (AlterConsumerGroupOffsets, which the broker refuses while the group has
// members), then COMMIT. If Kafka refuses, the transaction is rolled back.
//
// What can be left inconsistent, and who notices:
//   - The database is all-or-nothing: its offsets are either all the old or all
//     the new ones, and consume follows only them.
//   - Kafka accepted, then the COMMIT failed or this process died before it:
//     Kafka holds the new offsets, the database the old ones. consume logs at
//     start "Kafka's committed offsets differ from the database's (...);
//     following the database", and the dry run and `inspect group` show both columns.
//     The error says so; run the command again.
//   - The COMMIT's answer was lost: the database's outcome is unknown (all old
//     or all new). The error says to look (dry run) before running again,
//     since a second --shift-by would shift twice.
//   - Kafka's request timed out or was refused for some partitions only: the
//     database is rolled back; Kafka's copy may differ as above.
//   - A consumer that joins after Kafka accepted but before the COMMIT reads
//     the old offsets (reads do not wait for the locks); its first batch's
//     conditional update waits for the locks, then finds the offsets moved,
//     rolls back and re-reads from the new ones (a stale batch, nothing
//     written twice). Its later commits to Kafka follow.
//
// Throws UsageError (exit 2) for an unknown topic or partition and for a shift
// without a stored offset; foodpipe::Error (exit 1) for live members, offsets
// moved since the plan, a Kafka refusal or a failed COMMIT, each one line that
// says what to do; KafkaError and DbError when a service fails.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/defaults.hpp"
#include "kafka/config.hpp"

namespace foodpipe::pipeline {

enum class OffsetTarget { earliest, latest, offset, datetime, shift };

struct OffsetsOptions {
  kafka::ClientSettings kafka;
  std::string db_conninfo;
  std::string group{defaults::k_group};
  std::string topic{defaults::k_topic};
  OffsetTarget target = OffsetTarget::earliest;
  std::int64_t offset = 0;              // OffsetTarget::offset (>= 0)
  std::int64_t time_ms = 0;             // OffsetTarget::datetime, milliseconds since the epoch
  std::int64_t shift = 0;               // OffsetTarget::shift, either sign
  std::vector<std::int32_t> partitions; // empty: all of the topic's
  bool execute = false;
  std::chrono::milliseconds timeout{defaults::k_connect_timeout};
};

struct PartitionOffsets {
  std::int32_t partition = 0;
  std::optional<std::int64_t> database_before; // nullopt: no row in consumer_offsets
  std::optional<std::int64_t> kafka_before;    // nullopt: nothing committed to Kafka
  std::int64_t log_start = 0;
  std::int64_t log_end = 0;
  std::int64_t requested = 0; // the target before clamping
  std::int64_t after = 0;
  bool clamped = false;       // requested was outside [log_start, log_end]
};

struct OffsetsReport {
  std::string group;
  std::string topic;
  bool executed = false;
  std::vector<PartitionOffsets> partitions; // ascending
};

struct ClampedOffset {
  std::int64_t offset = 0;
  bool clamped = false;
};

// Kafka's rule: above the log end is the log end, else below the log start is
// the log start. Pure.
[[nodiscard]] ClampedOffset clamp_to_log(std::int64_t requested, std::int64_t log_start,
                                         std::int64_t log_end) noexcept;

// from + by, saturating at the int64 limits (clamping follows). Pure.
[[nodiscard]] std::int64_t shift_offset(std::int64_t from, std::int64_t by) noexcept;

// Reads what is and works out what would be; changes nothing.
[[nodiscard]] OffsetsReport plan_offsets(const OffsetsOptions& options);

// Applies a plan (as described above) and returns it with executed = true.
[[nodiscard]] OffsetsReport apply_offsets(const OffsetsOptions& options, const OffsetsReport& plan);

// plan_offsets, then apply_offsets when options.execute. SIGINT/SIGTERM
// before the apply starts: foodpipe::Error (ExitCode::interrupted), nothing
// changed; once it has started, the apply runs to its end.
[[nodiscard]] OffsetsReport run_offsets(const OffsetsOptions& options);

} // namespace foodpipe::pipeline
