#pragma once

// The inspect job behind `foodpipe inspect`: gathers what a learner (or a CI
// script) wants to see about the pipeline, as plain structs, one function per
// view. Everything is read-only: no topic is created, no group is joined, no
// offset is committed, no row is written.
//
// Errors: KafkaError naming the address when no broker answers within
// connect_timeout; foodpipe::Error ("run foodpipe seed-db") when the database
// is missing or has no foodpipe schema; DbError for other database failures.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/defaults.hpp"
#include "db/connection.hpp"
#include "db/inspect_queries.hpp"
#include "kafka/admin.hpp"
#include "kafka/config.hpp"
#include "kafka/group_admin.hpp"

namespace foodpipe::kafka {
class Reader;
} // namespace foodpipe::kafka

namespace foodpipe::pipeline {

struct InspectOptions {
  kafka::ClientSettings kafka;
  std::string db_conninfo;
  std::string topic{defaults::k_topic};
  std::string group{defaults::k_group};
  std::chrono::milliseconds connect_timeout{defaults::k_connect_timeout};
};

// ---- inspect topic ---------------------------------------------------------

struct PartitionState {
  std::int32_t partition = 0;
  std::int32_t leader = -1; // -1: no leader (offline)
  std::vector<std::int32_t> replicas;
  std::vector<std::int32_t> in_sync_replicas;
  std::int64_t low = 0;  // first offset still in the log
  std::int64_t high = 0; // offset the next message will get (log end)
  // False when the leader could not be asked (offline, or its broker just
  // went away and the metadata still names it); low and high are then 0.
  // Only inspect_topic shows such a partition; the other views throw.
  bool offsets_known = true;
  [[nodiscard]] std::int64_t messages() const { return high - low; }
  [[nodiscard]] bool offline() const { return leader < 0; }
  // Fewer replicas in sync with the leader than there are replicas.
  [[nodiscard]] bool under_replicated() const { return in_sync_replicas.size() < replicas.size(); }
};

struct TopicState {
  std::string name;
  bool exists = false;
  std::vector<PartitionState> partitions; // by partition id
  std::optional<std::int64_t> retention_ms; // -1: kept forever; nullopt: not readable
  std::optional<int> min_insync_replicas;   // the topic's min.insync.replicas; nullopt: not readable
  [[nodiscard]] std::int64_t messages() const;
  [[nodiscard]] std::int64_t high_total() const; // sum of the log ends: every message ever written
  // The most replicas any partition has (they differ only while partitions are reassigned).
  [[nodiscard]] int replication_factor() const;
  // The partition's ISR is exactly min.insync.replicas: one more replica lost
  // and acks=all writes are refused. False when min.insync.replicas is unknown.
  [[nodiscard]] bool at_min_insync(const PartitionState& partition) const;
  // Fewer in sync than min.insync.replicas: acks=all writes are refused now
  // (NOT_ENOUGH_REPLICAS). False when min.insync.replicas is unknown.
  [[nodiscard]] bool below_min_insync(const PartitionState& partition) const;
};

struct TopicView {
  std::string bootstrap_servers;
  std::string cluster_id;
  std::int32_t controller_id = -1;
  std::vector<kafka::BrokerInfo> brokers;
  TopicState topic;
  TopicState dlq; // <topic>.dlq
  // Brokers holding replicas of topic or dlq that the metadata does not list
  // (down, or fenced by the controller), by id.
  std::vector<std::int32_t> missing_brokers;
};

// A partition whose leader cannot be asked for its offsets is shown with
// offsets_known = false rather than failing the view: this is the view to
// look at while a broker is down.
[[nodiscard]] TopicView inspect_topic(const InspectOptions& options);

// ---- inspect group ---------------------------------------------------------

struct GroupPartition {
  std::int32_t partition = 0;
  std::optional<std::int64_t> stored;    // next offset in the database (consumer_offsets): the truth
  std::optional<std::int64_t> committed; // next offset committed to Kafka (for Kafka's own tools)
  std::int64_t log_start = 0;
  std::int64_t log_end = 0;
  // Messages the group has still to read: log end - stored offset (or, before
  // the group stored anything, every message still in the log).
  std::int64_t lag = 0;
};

struct GroupView {
  std::string group;
  std::string topic;
  kafka::GroupDescription description;
  std::vector<GroupPartition> partitions;
  std::int64_t total_lag = 0;
};

[[nodiscard]] GroupView inspect_group(const InspectOptions& options);

// ---- inspect db ------------------------------------------------------------

struct DatabaseView {
  std::string target; // host:port/db, never with a password
  db::DatabaseSummary summary;
};

[[nodiscard]] DatabaseView inspect_database(const InspectOptions& options);

// ---- inspect dlq -----------------------------------------------------------

struct DeadLetterView {
  std::optional<std::string> reason;
  std::int64_t limit = 20;
  std::int64_t total = 0; // dead letters in the table (of that reason)
  std::vector<db::DeadLetterRow> dead_letters; // newest first
};

// Payload excerpts are cut to this many bytes.
inline constexpr std::int64_t k_payload_excerpt_bytes = 160;

[[nodiscard]] DeadLetterView inspect_dead_letters(const InspectOptions& options,
                                                  const std::optional<std::string>& reason, std::int64_t limit);

// ---- inspect messages ------------------------------------------------------

// One Kafka message as kcat -J shows it.
struct KafkaMessage {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string timestamp_type; // "create", "logappend" or "none"
  std::int64_t timestamp_ms = 0;
  std::int32_t broker = -1;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> key;     // raw bytes; nullopt for no key
  std::optional<std::string> payload; // raw bytes; nullopt for a tombstone
};

struct MessagesRequest {
  std::int32_t partition = 0;
  std::int64_t offset = 0; // < 0: that many offsets before the log end (kcat -o -N)
  std::uint64_t count = 10;
};

// At most request.count messages from request.offset on (fewer when the log
// ends first), in offset order. Offsets without a message (transaction
// markers, aborted records: never shown, read_committed; keys removed by
// compaction) are passed over, so the offsets need not be contiguous.
// Throws UsageError for a partition the topic does not have, foodpipe::Error
// when the topic does not exist.
[[nodiscard]] std::vector<KafkaMessage> read_messages(const InspectOptions& options, const MessagesRequest& request);

// ---- inspect order ---------------------------------------------------------

// One step of an order's timeline: first the order itself (its message, at
// created_at), then each status event applied to it (table order_events).
struct TimelineEntry {
  std::optional<std::string> event_id; // nullopt for the order's own entry
  std::string status;                  // the order's first status, then the one each event moved it to
  std::string occurred_at;             // ISO-8601 UTC: created_at, then each event's occurred_at
  std::optional<std::int32_t> partition; // where its message was; nullopt when the row records no position
  std::optional<std::int64_t> offset;
  std::int64_t since_created_ms = 0;   // occurred_at - the order's created_at
  std::optional<std::string> reason;   // why, for a cancellation
};

// The order's own entry, then one per event in the order applied. The first
// status is the one the order message carried: the first event's
// previous_status, or orders.status when no event was applied.
[[nodiscard]] std::vector<TimelineEntry> order_timeline(const db::OrderRow& row,
                                                        const std::vector<db::OrderEventRow>& events);

struct OrderView {
  std::string order_id;
  std::optional<db::OrderRow> row;
  std::vector<TimelineEntry> timeline; // empty exactly when row is
  std::optional<KafkaMessage> message; // the message at the row's source position
  std::string message_note;            // why there is no message, when there is none
  std::vector<db::DeadLetterRow> dead_letters;
  [[nodiscard]] bool found() const { return row.has_value() || !dead_letters.empty(); }
};

[[nodiscard]] OrderView inspect_order(const InspectOptions& options, const std::string& order_id);

// ---- inspect (overview) ----------------------------------------------------

// The Kafka half is always there; the database half only when the database
// answers with a foodpipe schema. Without it the group's lag is measured from
// the offsets committed to Kafka instead (the consumer commits them after each
// database commit), and database_problem says what to do.
struct Overview {
  TopicView topic;
  GroupView group;
  std::optional<DatabaseView> database;
  std::string database_problem; // set exactly when database is empty
  bool lag_from_kafka = false;  // the group's lag used Kafka's committed offsets
};

[[nodiscard]] Overview inspect_overview(const InspectOptions& options);

// ---- inspect --watch -------------------------------------------------------

struct WatchSample;   // watch.hpp
struct GroupProgress; // inspect.cpp: a group's state and committed offsets

// What a watch samples: the overview adds the brokers and <topic>.dlq.
enum class WatchView { overview, group };

// The overview or the group view taken again and again with the same
// functions as the views above, through clients kept open between samples
// (so that a sample costs requests, not connections). Read-only like them.
// Never throws for a service that is away, refuses or lacks the topic: the
// sample says so and the next one tries again (the database is connected
// anew after a failure, and so are the Kafka clients). Without the
// database the group's lag counts from Kafka's committed offsets, as in the
// overview. Each request waits at most options.connect_timeout, so the caller
// bounds a sample by choosing it.
class InspectSession {
public:
  // Throws UsageError for -X properties librdkafka refuses.
  InspectSession(InspectOptions options, WatchView view);
  ~InspectSession();
  InspectSession(const InspectSession&) = delete;
  InspectSession& operator=(const InspectSession&) = delete;

  // at_ms is the steady clock's time at the start of the sample.
  [[nodiscard]] WatchSample sample();

private:
  // The group's state and committed offsets, the stored offsets, then the log
  // (sample() says why in that order); each records its failure in `sample`.
  std::optional<GroupProgress> sample_group(WatchSample& sample);
  std::optional<std::map<std::int32_t, std::int64_t>> sample_database(WatchSample& sample);
  std::optional<TopicView> sample_topic(WatchSample& sample);

  InspectOptions m_options;
  WatchView m_view;
  std::unique_ptr<kafka::GroupAdmin> m_admin;
  std::unique_ptr<kafka::Reader> m_reader;
  std::optional<db::Connection> m_database;
};

} // namespace foodpipe::pipeline
