#include "app/report_json.hpp"

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "app/progress.hpp"
#include "app/watch_screen.hpp"
#include "pipeline/consume.hpp"
#include "pipeline/doctor.hpp"
#include "pipeline/inspect.hpp"
#include "pipeline/offsets.hpp"
#include "pipeline/produce.hpp"
#include "pipeline/replay.hpp"
#include "pipeline/seed_db.hpp"
#include "pipeline/verify.hpp"
#include "pipeline/watch.hpp"
#include "pipeline/vocabulary.hpp"

namespace foodpipe::app {

void json_string(JsonWriter& w, std::string_view text) {
  const auto valid = pipeline::replace_invalid_utf8(text);
  w.String(valid.data(), static_cast<rapidjson::SizeType>(valid.size()));
}

namespace {

// ---------------------------------------------------------------------------
// Pieces several reports share.

template <typename T> constexpr bool is_optional = false;
template <typename T> constexpr bool is_optional<std::optional<T>> = true;

// One JSON value of whatever type the report holds: a signed whole number as
// Int64, an unsigned one as Uint64 (rapidjson prints the same digits as with
// Int or Uint), an optional as its value or null, text through json_string.
template <typename T> void put(JsonWriter& w, const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    w.Bool(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    w.Double(v);
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    w.Int64(v);
  } else if constexpr (std::is_integral_v<T>) {
    w.Uint64(v);
  } else if constexpr (is_optional<T>) {
    if (v) {
      put(w, *v);
    } else {
      w.Null();
    }
  } else {
    static_assert(std::is_convertible_v<const T&, std::string_view>, "no JSON form for this type");
    json_string(w, v);
  }
}

// "key": value, the line every report is made of.
template <typename T> void field(JsonWriter& w, std::string_view key, const T& v) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  put(w, v);
}

void json_ints(JsonWriter& w, const std::vector<std::int32_t>& values) {
  w.StartArray();
  for (const auto value : values) {
    w.Int(value);
  }
  w.EndArray();
}

std::int64_t milliseconds_of(std::chrono::steady_clock::duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

double ms(double us) { return us / 1000.0; }

// A value per rate: what was done per second of `elapsed`, 0 before any time passed.
double per_second(double amount, double elapsed) { return elapsed > 0 ? amount / elapsed : 0.0; }

// ---------------------------------------------------------------------------
// Inspect pieces.

void json_brokers(JsonWriter& w, const std::vector<pipeline::BrokerInfo>& brokers) {
  w.StartArray();
  for (const auto& broker : brokers) {
    w.StartObject();
    field(w, "id", broker.id);
    field(w, "host", broker.host);
    field(w, "port", broker.port);
    w.EndObject();
  }
  w.EndArray();
}

void json_dead_letter(JsonWriter& w, const pipeline::DeadLetterRow& d) {
  w.StartObject();
  field(w, "id", d.id);
  field(w, "reason", d.reason_code);
  field(w, "detail", d.reason_detail);
  field(w, "source_topic", d.source_topic);
  field(w, "source_partition", d.source_partition);
  field(w, "source_offset", d.source_offset);
  field(w, "key", d.key);
  field(w, "payload_excerpt", d.payload);
  field(w, "payload_bytes", d.payload_bytes);
  field(w, "consumer_group", d.consumer_group);
  field(w, "failed_at", d.failed_at);
  w.EndObject();
}

void json_dead_letters(JsonWriter& w, const std::vector<pipeline::DeadLetterRow>& rows) {
  w.StartArray();
  for (const auto& d : rows) {
    json_dead_letter(w, d);
  }
  w.EndArray();
}

void json_partition(JsonWriter& w, const pipeline::TopicState& t, const pipeline::PartitionState& p) {
  w.StartObject();
  field(w, "partition", p.partition);
  field(w, "leader", p.leader);
  w.Key("replicas");
  json_ints(w, p.replicas);
  w.Key("isr");
  json_ints(w, p.in_sync_replicas);
  field(w, "under_replicated", p.under_replicated());
  field(w, "offline", p.offline());
  field(w, "isr_at_min", t.at_min_insync(p));
  field(w, "isr_below_min", t.below_min_insync(p));
  // null: the leader could not be asked (offline, or its broker just went away).
  const auto known = [&p](std::int64_t value) {
    return p.offsets_known ? std::optional(value) : std::nullopt;
  };
  field(w, "low", known(p.low));
  field(w, "high", known(p.high));
  field(w, "messages", known(p.messages()));
  w.EndObject();
}

void json_topic(JsonWriter& w, const pipeline::TopicState& t) {
  w.StartObject();
  field(w, "name", t.name);
  field(w, "exists", t.exists);
  field(w, "retention_ms", t.retention_ms);
  field(w, "messages", t.messages());
  field(w, "log_end_total", t.high_total());
  field(w, "replication_factor", t.replication_factor());
  field(w, "min_insync_replicas", t.min_insync_replicas);
  const auto count = [&t](bool (pipeline::PartitionState::*test)() const) {
    return std::count_if(t.partitions.begin(), t.partitions.end(),
                         [test](const pipeline::PartitionState& p) { return (p.*test)(); });
  };
  field(w, "under_replicated_partitions", count(&pipeline::PartitionState::under_replicated));
  field(w, "offline_partitions", count(&pipeline::PartitionState::offline));
  w.Key("partitions");
  w.StartArray();
  for (const auto& p : t.partitions) {
    json_partition(w, t, p);
  }
  w.EndArray();
  w.EndObject();
}

void json_group_members(JsonWriter& w, const std::vector<pipeline::GroupMember>& members) {
  w.StartArray();
  for (const auto& m : members) {
    w.StartObject();
    field(w, "member_id", m.member_id);
    field(w, "client_id", m.client_id);
    field(w, "client_host", m.client_host);
    w.Key("assignment");
    w.StartObject();
    for (const auto& [topic, partitions] : m.assignment) {
      w.Key(topic.c_str());
      json_ints(w, partitions);
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
}

// The group view's fields, inside an object the caller opened.
void json_group_fields(JsonWriter& w, const pipeline::GroupView& g) {
  field(w, "group", g.group);
  field(w, "topic", g.topic);
  field(w, "known_to_broker", g.description.known);
  field(w, "state", g.description.state);
  field(w, "protocol_type", g.description.protocol_type);
  field(w, "protocol", g.description.protocol);
  w.Key("members");
  json_group_members(w, g.description.members);
  w.Key("partitions");
  w.StartArray();
  for (const auto& p : g.partitions) {
    w.StartObject();
    field(w, "partition", p.partition);
    field(w, "stored_offset", p.stored);
    field(w, "committed_offset", p.committed);
    field(w, "log_start", p.log_start);
    field(w, "log_end", p.log_end);
    field(w, "lag", p.lag);
    w.EndObject();
  }
  w.EndArray();
  field(w, "total_lag", g.total_lag);
}

// The database view's fields, inside an object the caller opened (the db
// view's own, or the overview's "database").
void json_database_fields(JsonWriter& w, const pipeline::DatabaseView& d) {
  field(w, "target", d.target);
  field(w, "schema_version", d.summary.schema_version);
  field(w, "orders", d.summary.orders);
  w.Key("orders_by_status");
  w.StartObject();
  for (const auto& [status, count] : d.summary.orders_by_status) {
    field(w, status, count);
  }
  w.EndObject();
  field(w, "order_events", d.summary.order_events);
  field(w, "newest_processed_at", d.summary.newest_processed_at);
  field(w, "dead_letters", d.summary.dead_letters());
  w.Key("dead_letters_by_reason");
  w.StartObject();
  for (const auto& [reason, count] : d.summary.dead_letters_by_reason) {
    field(w, reason, count);
  }
  w.EndObject();
}

// The order's timeline: "reason" only on the entries that have one;
// "event_id" null for the order's own entry, like partition and offset when
// the row records no position.
void json_timeline(JsonWriter& w, const std::vector<pipeline::TimelineEntry>& timeline) {
  w.StartArray();
  for (const auto& e : timeline) {
    w.StartObject();
    field(w, "event_id", e.event_id);
    field(w, "status", e.status);
    field(w, "occurred_at", e.occurred_at);
    field(w, "partition", e.partition);
    field(w, "offset", e.offset);
    field(w, "since_created_ms", e.since_created_ms);
    if (e.reason) {
      field(w, "reason", *e.reason);
    }
    w.EndObject();
  }
  w.EndArray();
}

void json_order_row(JsonWriter& w, const pipeline::OrderRow& o) {
  w.StartObject();
  field(w, "order_id", o.order_id);
  field(w, "customer_id", o.customer_id);
  field(w, "customer_name", o.customer_name);
  field(w, "customer_email", o.customer_email);
  w.Key("items");
  w.RawValue(o.items_json.c_str(), o.items_json.size(), rapidjson::kArrayType);
  field(w, "total_amount", o.total_amount);
  field(w, "status", o.status);
  field(w, "created_at", o.created_at);
  field(w, "processed_at", o.processed_at);
  field(w, "source_topic", o.source_topic);
  field(w, "source_partition", o.source_partition);
  field(w, "source_offset", o.source_offset);
  w.EndObject();
}

// Opens an inspect view's object with its "view" key; the caller adds the
// fields and closes it.
void start_view(JsonWriter& w, std::string_view view) {
  w.StartObject();
  field(w, "view", view);
}

// ---------------------------------------------------------------------------
// Seed-db pieces.

void json_migrations(JsonWriter& w, const char* key, const std::vector<pipeline::MigrationRef>& migrations) {
  w.Key(key);
  w.StartArray();
  for (const auto& migration : migrations) {
    w.StartObject();
    field(w, "version", migration.version);
    field(w, "name", migration.name);
    w.EndObject();
  }
  w.EndArray();
}

void json_counts(JsonWriter& w, const char* key, const pipeline::UpsertCounts* counts) {
  w.Key(key);
  if (counts == nullptr) {
    w.Null();
    return;
  }
  w.StartObject();
  field(w, "inserted", counts->inserted);
  field(w, "updated", counts->updated);
  field(w, "unchanged", counts->unchanged);
  w.EndObject();
}

void json_spans(JsonWriter& w, const std::vector<pipeline::ReplaySpan>& spans) {
  w.StartArray();
  for (const auto& span : spans) {
    w.StartObject();
    field(w, "partition", span.partition);
    field(w, "from", span.from);
    field(w, "to", span.to);
    w.EndObject();
  }
  w.EndArray();
}

void json_doctor_kafka(JsonWriter& w, const pipeline::KafkaFindings& k) {
  w.StartObject();
  field(w, "bootstrap_servers", k.bootstrap_servers);
  field(w, "reachable", k.reachable);
  field(w, "cluster_id", k.cluster_id);
  field(w, "brokers", k.brokers);
  field(w, "librdkafka_version", k.librdkafka_version);
  field(w, "consumer_groups_supported", k.groups_supported);
  field(w, "problem", k.problem);
  w.Key("missing_brokers");
  json_ints(w, k.missing_brokers);
  field(w, "expected_replication_factor", k.expected_replication_factor);
  w.Key("replication");
  w.StartArray();
  for (const auto& topic : k.topics) {
    w.StartObject();
    field(w, "topic", topic.topic);
    field(w, "replication_factor", topic.replication_factor);
    field(w, "below_cluster_size", topic.below_cluster_size);
    w.Key("under_replicated_partitions");
    json_ints(w, topic.under_replicated);
    w.Key("offline_partitions");
    json_ints(w, topic.offline);
    w.EndObject();
  }
  w.EndArray();
  w.Key("warnings");
  w.StartArray();
  for (const auto& warning : k.warnings) {
    json_string(w, warning);
  }
  w.EndArray();
  w.EndObject();
}

void json_doctor_postgres(JsonWriter& w, const pipeline::PostgresFindings& p) {
  w.StartObject();
  field(w, "target", p.target);
  field(w, "reachable", p.reachable);
  field(w, "database_exists", p.database_exists);
  field(w, "server_version", p.server_version);
  field(w, "schema_version", p.schema_version);
  field(w, "problem", p.problem);
  w.EndObject();
}

void json_verify_partitions(JsonWriter& w, const pipeline::VerifyReport& r) {
  w.StartArray();
  for (const auto& p : r.partitions) {
    w.StartObject();
    field(w, "partition", p.partition);
    field(w, "from", p.from);
    field(w, "to", p.to);
    field(w, "log_start", p.log_start);
    field(w, "messages", p.messages);
    field(w, "without_message", p.without_message);
    field(w, "gone", p.gone);
    field(w, "unread_from", p.unread_from);
    w.EndObject();
  }
  w.EndArray();
}

void json_verify_findings(JsonWriter& w, const pipeline::VerifyReport& r) {
  w.Key("skipped"); // removed by retention before consumption (table skipped_offsets)
  w.StartArray();
  for (const auto& skipped : r.skipped) {
    w.StartObject();
    field(w, "partition", skipped.partition);
    field(w, "from", skipped.from);
    field(w, "to", skipped.to);
    field(w, "reason", skipped.reason);
    field(w, "detected_at", skipped.detected_at);
    w.EndObject();
  }
  w.EndArray();
  w.Key("problems");
  w.StartArray();
  for (const auto& problem : r.problems) {
    w.StartObject();
    field(w, "kind", problem.kind);
    field(w, "partition", problem.partition);
    field(w, "offset", problem.offset);
    field(w, "order_id", problem.order_id.empty() ? std::nullopt : std::optional(problem.order_id));
    if (!problem.event_id.empty()) { // an order status event's problem
      field(w, "event_id", problem.event_id);
    }
    field(w, "detail", problem.detail);
    w.EndObject();
  }
  w.EndArray();
}

} // namespace

// ---------------------------------------------------------------------------
// The commands' reports.

void write_json(JsonWriter& w, const pipeline::ProduceReport& r) {
  const double elapsed = seconds_of(r.elapsed);
  w.StartObject();
  field(w, "topic", r.topic);
  field(w, "run_id", r.run_id);
  field(w, "seed", r.seed);
  field(w, "sent", r.sent);
  field(w, "delivered", r.delivered);
  field(w, "failed", r.failed);
  // Orders and status events apart (a lifecycle run's, or a --from-file's event lines); 0 without either.
  field(w, "lifecycle", r.lifecycle);
  field(w, "events", r.events_sent);
  field(w, "events_delivered", r.events_delivered);
  field(w, "events_failed", r.events_failed);
  field(w, "events_unsent", r.events_unsent);
  w.Key("failed_by_error");
  w.StartObject();
  for (const auto& [error, count] : r.failed_by_error) {
    field(w, error, count);
  }
  w.EndObject();
  field(w, "invalid_lines", r.invalid_lines);
  field(w, "bytes", r.bytes);
  field(w, "elapsed_ms", milliseconds_of(r.elapsed));
  // Records are messages: orders and a lifecycle run's events.
  field(w, "records_per_sec", per_second(static_cast<double>(r.delivered + r.events_delivered), elapsed));
  field(w, "mb_per_sec", per_second(static_cast<double>(r.bytes), elapsed) / (1024.0 * 1024.0));
  w.Key("latency_ms");
  w.StartObject();
  field(w, "avg", r.latency_us.mean() / 1000.0);
  field(w, "p50", ms(static_cast<double>(r.latency_us.percentile(0.50))));
  field(w, "p95", ms(static_cast<double>(r.latency_us.percentile(0.95))));
  field(w, "p99", ms(static_cast<double>(r.latency_us.percentile(0.99))));
  field(w, "p999", ms(static_cast<double>(r.latency_us.percentile(0.999))));
  field(w, "max", ms(static_cast<double>(r.latency_us.max())));
  w.EndObject();
  field(w, "interrupted", r.interrupted);
  field(w, "topic_created", r.topic_created);
  // What created topics get; null when produce creates none.
  const auto replication = [&w, &r](const char* key, int pipeline::Replication::*member) {
    field(w, key, r.replication ? std::optional<int>((*r.replication).*member) : std::nullopt);
  };
  replication("replication_factor", &pipeline::Replication::replication_factor);
  replication("min_insync_replicas", &pipeline::Replication::min_insync_replicas);
  replication("cluster_brokers", &pipeline::Replication::brokers);
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::ConsumeReport& r) {
  const double elapsed = seconds_of(r.elapsed);
  w.StartObject();
  field(w, "consumed", r.consumed);
  field(w, "applied", r.applied);
  field(w, "duplicates", r.duplicates);
  field(w, "events_applied", r.events_applied);
  field(w, "event_duplicates", r.event_duplicates);
  field(w, "dead_letters", r.dead_letters());
  w.Key("dead_letters_by_reason");
  w.StartObject();
  for (const auto& [reason, count] : r.dead_letters_by_reason) {
    field(w, reason, count);
  }
  w.EndObject();
  field(w, "batches", r.batches);
  field(w, "batches_beside", r.batches_beside);
  field(w, "stale_batches", r.stale_batches);
  field(w, "database_retries", r.database_retries);
  field(w, "rebalances", r.rebalances);
  field(w, "skipped_offsets", r.skipped_offsets);
  field(w, "dead_letters_truncated", r.dead_letters_truncated);
  field(w, "elapsed_ms", milliseconds_of(r.elapsed));
  field(w, "orders_per_sec", per_second(static_cast<double>(r.consumed), elapsed));
  w.Key("latency_ms");
  w.StartObject();
  field(w, "p50", r.latency_ms.percentile(0.50));
  field(w, "p99", r.latency_ms.percentile(0.99));
  field(w, "max", r.latency_ms.max());
  w.EndObject();
  field(w, "stopped_by", r.stopped_by);
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::DoctorReport& report) {
  w.StartObject();
  field(w, "ok", report.ok());
  w.Key("kafka");
  json_doctor_kafka(w, report.kafka);
  w.Key("postgres");
  json_doctor_postgres(w, report.postgres);
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::SeedDbReport& report) {
  w.StartObject();
  field(w, "database", report.database);
  field(w, "server", report.server);
  field(w, "database_existed", report.database_existed);
  field(w, "database_created", report.database_created);
  json_migrations(w, "migrations_applied", report.migrations_applied);
  json_migrations(w, "migrations_pending", report.migrations_pending);
  field(w, "migrations_already_applied", report.migrations_already_applied);
  field(w, "schema_version", report.schema_version);
  const auto* data = report.reference_data ? &*report.reference_data : nullptr;
  json_counts(w, "customers", data != nullptr ? &data->customers : nullptr);
  json_counts(w, "menu_items", data != nullptr ? &data->menu_items : nullptr);
  field(w, "dry_run", report.dry_run);
  field(w, "elapsed_ms", report.elapsed.count());
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::OffsetsReport& r) {
  w.StartObject();
  field(w, "group", r.group);
  field(w, "topic", r.topic);
  field(w, "executed", r.executed);
  w.Key("partitions");
  w.StartArray();
  for (const auto& p : r.partitions) {
    w.StartObject();
    field(w, "partition", p.partition);
    field(w, "database_before", p.database_before);
    field(w, "kafka_before", p.kafka_before);
    field(w, "log_start", p.log_start);
    field(w, "log_end", p.log_end);
    field(w, "after", p.after);
    field(w, "clamped", p.clamped);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::ReplayReport& r) {
  w.StartObject();
  field(w, "dry_run", r.dry_run);
  w.Key("partitions");
  w.StartArray();
  for (const auto& range : r.ranges) {
    w.StartObject();
    field(w, "partition", range.partition);
    field(w, "from", range.from);
    field(w, "to", range.to);
    field(w, "count", range.count());
    w.EndObject();
  }
  w.EndArray();
  w.Key("gone"); // offsets already removed from the log: not replayed
  json_spans(w, r.gone);
  w.Key("unread"); // offsets the log did not let the replay read (an open transaction)
  json_spans(w, r.unread);
  field(w, "planned", r.planned);
  field(w, "without_message", r.without_message);
  field(w, "read", r.read);
  field(w, "applied", r.applied);
  field(w, "already_present", r.already_present);
  field(w, "restored", r.restored);
  field(w, "dead_lettered", r.dead_lettered);
  field(w, "dead_letters_recorded", r.dead_letters_recorded);
  field(w, "republished", r.republished);
  field(w, "failed", r.failed);
  field(w, "skipped_by_filter", r.skipped_by_filter);
  field(w, "skipped_truncated", r.skipped_truncated);
  // The order status events among the above, on their own.
  w.Key("events");
  w.StartObject();
  field(w, "read", r.events.read);
  field(w, "applied", r.events.applied);
  field(w, "already_present", r.events.already_present);
  field(w, "dead_lettered", r.events.dead_lettered);
  field(w, "statuses_restored", r.events.statuses_restored);
  field(w, "not_repaired", r.events.not_repaired);
  w.EndObject();
  field(w, "interrupted", r.interrupted);
  field(w, "elapsed_ms", milliseconds_of(r.elapsed));
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::VerifyReport& r, bool strict) {
  w.StartObject();
  field(w, "checked", r.checked);
  field(w, "ok", r.ok); // messages whose row at their own position matches
  field(w, "passed", r.passed(strict)); // the exit status is 0
  field(w, "strict", strict);
  field(w, "missing", r.missing);
  field(w, "different", r.different);
  field(w, "dead_lettered", r.dead_lettered);
  field(w, "duplicates", r.duplicates);
  field(w, "refused_by_database", r.refused_by_database);
  field(w, "without_message", r.without_message);
  field(w, "gone", r.gone);
  field(w, "unread", r.unread);
  field(w, "skipped_offsets", r.skipped_offsets());
  field(w, "interrupted", r.interrupted);
  // The order status events among the above, on their own; applied is their ok.
  w.Key("events");
  w.StartObject();
  field(w, "checked", r.events.checked);
  field(w, "applied", r.events.ok);
  field(w, "duplicates", r.events.duplicates);
  field(w, "dead_lettered", r.events.dead_lettered);
  field(w, "missing", r.events.missing);
  field(w, "different", r.events.different);
  w.EndObject();
  w.Key("partitions");
  json_verify_partitions(w, r);
  json_verify_findings(w, r);
  field(w, "elapsed_ms", milliseconds_of(r.elapsed));
  w.EndObject();
}

// ---------------------------------------------------------------------------
// The inspect views.

void write_json(JsonWriter& w, const pipeline::Overview& o) {
  start_view(w, "overview");
  field(w, "bootstrap_servers", o.topic.bootstrap_servers);
  w.Key("brokers");
  json_brokers(w, o.topic.brokers);
  w.Key("topic");
  json_topic(w, o.topic.topic);
  w.Key("dlq");
  json_topic(w, o.topic.dlq);
  w.Key("group");
  w.StartObject();
  field(w, "name", o.group.group);
  field(w, "state", o.group.description.state);
  field(w, "members", o.group.description.members.size());
  field(w, "total_lag", o.group.total_lag);
  field(w, "lag_from", o.lag_from_kafka ? "kafka_committed_offsets" : "database_stored_offsets");
  w.EndObject();
  w.Key("database");
  w.StartObject();
  if (o.database) {
    json_database_fields(w, *o.database);
  } else {
    field(w, "error", o.database_problem);
  }
  w.EndObject();
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::TopicView& v) {
  start_view(w, "topic");
  field(w, "bootstrap_servers", v.bootstrap_servers);
  field(w, "cluster_id", v.cluster_id);
  field(w, "controller_id", v.controller_id);
  w.Key("brokers");
  json_brokers(w, v.brokers);
  w.Key("missing_brokers");
  json_ints(w, v.missing_brokers);
  w.Key("topics");
  w.StartArray();
  json_topic(w, v.topic);
  json_topic(w, v.dlq);
  w.EndArray();
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::GroupView& g) {
  start_view(w, "group");
  json_group_fields(w, g);
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::DatabaseView& d) {
  start_view(w, "db");
  json_database_fields(w, d);
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::DeadLetterView& v) {
  start_view(w, "dlq");
  field(w, "reason", v.reason);
  field(w, "limit", v.limit);
  field(w, "total", v.total);
  w.Key("dead_letters");
  json_dead_letters(w, v.dead_letters);
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::OrderView& v) {
  start_view(w, "order");
  field(w, "order_id", v.order_id);
  w.Key("row");
  if (v.row) {
    json_order_row(w, *v.row);
  } else {
    w.Null();
  }
  w.Key("message");
  if (v.message) {
    write_json(w, *v.message);
  } else {
    w.Null();
  }
  field(w, "message_note", v.message_note);
  w.Key("timeline");
  json_timeline(w, v.timeline);
  w.Key("dead_letters");
  json_dead_letters(w, v.dead_letters);
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::KafkaMessage& m) {
  w.StartObject();
  field(w, "topic", m.topic);
  field(w, "partition", m.partition);
  field(w, "offset", m.offset);
  field(w, "tstype", m.timestamp_type);
  field(w, "ts", m.timestamp_ms);
  field(w, "broker", m.broker);
  w.Key("headers");
  w.StartArray();
  for (const auto& [name, value] : m.headers) {
    json_string(w, name);
    json_string(w, value);
  }
  w.EndArray();
  field(w, "key", m.key);
  field(w, "payload", m.payload);
  w.EndObject();
}

// ---------------------------------------------------------------------------
// inspect --watch.

namespace {

// Rates to the hundredth: a script wants 12.35, not 12.345678901234.
std::optional<double> rounded(const std::optional<double>& per_s) {
  if (!per_s) {
    return std::nullopt;
  }
  return std::round(*per_s * 100.0) / 100.0;
}

std::string_view gap_name(pipeline::RateGap gap) {
  switch (gap) {
  case pipeline::RateGap::none:
    return "ok";
  case pipeline::RateGap::first_sample:
    return "first_sample";
  case pipeline::RateGap::new_partition:
    return "new_partition";
  case pipeline::RateGap::reset:
    return "reset";
  }
  return "ok";
}

void json_watch_rates(JsonWriter& w, const pipeline::WatchRates& r) {
  w.StartObject();
  field(w, "elapsed_s", r.elapsed_s);
  field(w, "in_per_s", rounded(r.in_per_s));
  field(w, "out_per_s", rounded(r.out_per_s));
  w.Key("partitions");
  w.StartArray();
  for (const auto& p : r.partitions) {
    w.StartObject();
    field(w, "partition", p.partition);
    field(w, "in_per_s", rounded(p.in_per_s));
    field(w, "out_per_s", rounded(p.out_per_s));
    field(w, "in", gap_name(p.in_gap));
    field(w, "out", gap_name(p.out_gap));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void json_watch_database(JsonWriter& w, const pipeline::WatchSample& s, const pipeline::WatchRates& r) {
  w.StartObject();
  field(w, "ok", s.database.has_value());
  field(w, "error", s.database ? std::optional<std::string>() : s.database_problem);
  if (s.database) {
    field(w, "target", s.database_target);
    field(w, "orders", s.database->orders);
    field(w, "orders_per_s", rounded(r.orders_per_s));
    field(w, "dead_letters", s.database->dead_letters());
    field(w, "dead_letters_per_s", rounded(r.dead_letters_per_s));
    w.Key("dead_letters_by_reason");
    w.StartObject();
    for (const auto& [reason, count] : s.database->dead_letters_by_reason) {
      w.Key(reason.c_str());
      w.StartObject();
      field(w, "count", count);
      const auto rate = r.dead_letters_per_reason.find(reason);
      const auto per_s = rate == r.dead_letters_per_reason.end() ? std::optional<double>() : rate->second;
      field(w, "per_s", rounded(per_s));
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndObject();
}

} // namespace

void write_json(JsonWriter& w, const WatchFrame& f) {
  const auto& s = *f.sample;
  start_view(w, "watch");
  field(w, "of", f.view == pipeline::WatchView::overview ? "overview" : "group");
  field(w, "sample", f.number);
  field(w, "taken_at", s.taken_at);
  field(w, "interval_s", f.interval_s);
  w.Key("kafka");
  w.StartObject();
  field(w, "ok", s.kafka_ok());
  field(w, "error", s.kafka_ok() ? std::optional<std::string>() : s.kafka_problem);
  field(w, "bootstrap_servers", f.bootstrap_servers);
  if (s.kafka_ok()) {
    field(w, "brokers", s.brokers);
    field(w, "topic_exists", s.topic_exists);
    if (f.view == pipeline::WatchView::overview) {
      field(w, "dlq_messages", s.dlq_messages);
    }
  }
  w.EndObject();
  w.Key("group");
  if (s.kafka_ok()) {
    w.StartObject();
    json_group_fields(w, s.group);
    field(w, "lag_from", s.lag_from_kafka ? "kafka_committed_offsets" : "database_stored_offsets");
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("rates");
  json_watch_rates(w, *f.rates);
  w.Key("database");
  json_watch_database(w, s, *f.rates);
  w.EndObject();
}

} // namespace foodpipe::app
