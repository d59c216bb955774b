#pragma once

// The replay job behind `foodpipe replay`: re-read a range of a topic and
// apply it again, into PostgreSQL or onto another topic.
//
// Ranges: per partition, from a start (the log start, an offset, or the first
// message at or after a time) to an end (exclusive: an offset, the first
// message at or after a time, start + count, or by default the log end as of
// the start of the run: the last stable offset, since only committed records
// are read). Offsets are clamped to what the log still holds; a start below
// the log start is reported (ReplayReport::gone, and a warning on the log) and
// reading begins at the log start. Offsets without a message (transaction
// markers, aborted records, keys removed by compaction) are passed over and
// counted; records of aborted transactions are never replayed.
//
// Into the database: each batch goes through the consumer's own gate
// (domain::decode) and write path (db::OrderStore::write with no offsets), so
// the group's stored offsets never move; an order already stored with the same
// content counts as already present, a bad message becomes a dead letter at
// its position (recorded once), a missing row is inserted, and a row stored
// from the very same message but changed since is put back (restored):
// replaying what is stored changes nothing, replaying after a loss or an
// out-of-band change repairs it.
//
// Order status events (headers type=order_status) are applied as consume
// applies them (db::OrderStore, the state machine of domain::transition): one
// whose event_id is stored counts as already present, so replaying what is
// stored changes nothing; orders.status changed by hand is put back to the
// status of its order's last applied event when that event is replayed; an
// applied event whose order_events row is gone is not re-applied (its place
// in the order's history is not known) but counted and named, and the replay
// exits 1: delete the order and replay its range to rebuild it.
//
// Onto a topic: key, value and headers as read, plus provenance headers
// (replay-source-topic, replay-source-partition, replay-source-offset),
// through an idempotent producer, flushed; failed deliveries are counted.
//
// A reason filter keeps only messages whose reason-code header (written by
// consume on <topic>.dlq) equals it. SIGINT/SIGTERM: the batch in flight is
// finished (or rolled back by the database if the write fails), the rest is
// left, and the report says interrupted.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/defaults.hpp"
#include "kafka/config.hpp"
#include "pipeline/range_plan.hpp"

namespace foodpipe::pipeline {

// Provenance headers added to every republished message.
inline constexpr const char* k_replay_source_topic_header = "replay-source-topic";
inline constexpr const char* k_replay_source_partition_header = "replay-source-partition";
inline constexpr const char* k_replay_source_offset_header = "replay-source-offset";

struct ReplayOptions {
  kafka::ClientSettings kafka;
  std::string db_conninfo;
  std::string topic{defaults::k_topic};
  std::vector<std::int32_t> partitions; // empty: all of the topic's
  ReplayStart start;
  ReplayEnd end;
  std::optional<std::string> to_topic;  // nullopt: into the database
  std::optional<std::string> reason;    // keep only messages with this reason-code header
  bool dry_run = false;
  std::size_t batch_size = defaults::k_batch_size;
  std::size_t max_message_bytes = defaults::k_max_message_bytes; // as consume's
  // Recorded in dead_letters.consumer_group for what the replay dead-letters.
  std::string dead_letter_group = "foodpipe-replay";
  std::chrono::milliseconds timeout{defaults::k_connect_timeout};
};

// The order status events a replay into the database read (their counts are
// in the report's totals too; docs/replay.md).
struct ReplayEvents {
  std::uint64_t read = 0;             // decoded events
  std::uint64_t applied = 0;          // stored in order_events now
  std::uint64_t already_present = 0;  // their event_id is stored with the same content
  std::uint64_t dead_lettered = 0;    // not applied (illegal_transition, unknown_order, ...)
  std::uint64_t statuses_restored = 0; // orders.status put back to their order's last applied event's
  // Applied once, their order_events row lost since: left alone (see db/event_repair.hpp).
  std::uint64_t not_repaired = 0;
};

struct ReplayReport {
  std::vector<ReplayRange> ranges;
  // Offsets asked for that the log no longer held (retention or
  // kafka-delete-records moved the log start past them): a --from-offset
  // below the log start, or removed while the replay was reading.
  std::vector<ReplaySpan> gone;
  // Offsets of the ranges that could not be read: the log ended first (an
  // open transaction holds the last stable offset back). Not replayed.
  std::vector<ReplaySpan> unread;
  std::uint64_t planned = 0;           // offsets in the ranges (at most that many messages)
  std::uint64_t without_message = 0;   // of those, offsets holding no message (markers, aborted, compacted)
  std::uint64_t read = 0;
  std::uint64_t applied = 0;           // rows inserted
  std::uint64_t already_present = 0;   // exact duplicates of stored rows (or within the replay)
  std::uint64_t restored = 0;          // rows changed since they were stored from this very message, put back
  std::uint64_t dead_lettered = 0;     // messages that are dead letters (whether or not recorded before)
  std::uint64_t dead_letters_recorded = 0; // of those, rows new in dead_letters
  std::uint64_t republished = 0;       // delivered to --to-topic
  std::uint64_t failed = 0;            // not delivered to --to-topic
  std::uint64_t skipped_by_filter = 0; // not matching the reason filter
  // Dead letters that went to the DLQ topic cut (header payload-truncated:
  // too large for it). Not replayed: their whole payload is only in the
  // dead_letters table.
  std::uint64_t skipped_truncated = 0;
  ReplayEvents events;
  bool dry_run = false;
  bool interrupted = false;
  std::chrono::steady_clock::duration elapsed{};
};

struct ReplayProgress {
  std::uint64_t read = 0;
  std::uint64_t planned = 0;
  std::chrono::steady_clock::duration elapsed{};
};

using ReplayProgressCallback = std::function<void(const ReplayProgress&)>;

// Runs the replay (or, with dry_run, only works out the ranges). Expects a
// topic, a to_topic (when given) and batch_size >= 1 (std::invalid_argument
// otherwise: the command checks its flags before). Throws UsageError for a
// partition the topic does not have, KafkaError and DbError when a service fails. Each gone range is logged
// as one warning line when found.
[[nodiscard]] ReplayReport run_replay(const ReplayOptions& options, const ReplayProgressCallback& progress = {});

} // namespace foodpipe::pipeline
