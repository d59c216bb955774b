#include "app/report_json.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/progress.hpp"
#include "domain/utf8.hpp"
#include "pipeline/consume.hpp"
#include "pipeline/doctor.hpp"
#include "pipeline/inspect.hpp"
#include "pipeline/offsets.hpp"
#include "pipeline/produce.hpp"
#include "pipeline/replay.hpp"
#include "pipeline/seed_db.hpp"
#include "pipeline/verify.hpp"

namespace foodpipe::app {

void json_string(JsonWriter& w, std::string_view text) {
  const auto valid = domain::replace_invalid_utf8(text);
  w.String(valid.data(), static_cast<rapidjson::SizeType>(valid.size()));
}

namespace {

// ---------------------------------------------------------------------------
// Pieces several reports share.

void json_optional_string(JsonWriter& w, const std::optional<std::string>& text) {
  if (text) {
    json_string(w, *text);
  } else {
    w.Null();
  }
}

void json_optional_int(JsonWriter& w, const std::optional<std::int64_t>& value) {
  if (value) {
    w.Int64(*value);
  } else {
    w.Null();
  }
}

void json_optional_int(JsonWriter& w, const std::optional<int>& value) {
  if (value) {
    w.Int(*value);
  } else {
    w.Null();
  }
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

void json_brokers(JsonWriter& w, const std::vector<kafka::BrokerInfo>& brokers) {
  w.StartArray();
  for (const auto& broker : brokers) {
    w.StartObject();
    w.Key("id");
    w.Int(broker.id);
    w.Key("host");
    json_string(w, broker.host);
    w.Key("port");
    w.Int(broker.port);
    w.EndObject();
  }
  w.EndArray();
}

void json_dead_letter(JsonWriter& w, const db::DeadLetterRow& d) {
  w.StartObject();
  w.Key("id");
  w.Int64(d.id);
  w.Key("reason");
  json_string(w, d.reason_code);
  w.Key("detail");
  json_string(w, d.reason_detail);
  w.Key("source_topic");
  json_string(w, d.source_topic);
  w.Key("source_partition");
  w.Int(d.source_partition);
  w.Key("source_offset");
  w.Int64(d.source_offset);
  w.Key("key");
  json_optional_string(w, d.key);
  w.Key("payload_excerpt");
  json_optional_string(w, d.payload);
  w.Key("payload_bytes");
  w.Int64(d.payload_bytes);
  w.Key("consumer_group");
  json_string(w, d.consumer_group);
  w.Key("failed_at");
  json_string(w, d.failed_at);
  w.EndObject();
}

void json_dead_letters(JsonWriter& w, const std::vector<db::DeadLetterRow>& rows) {
  w.StartArray();
  for (const auto& d : rows) {
    json_dead_letter(w, d);
  }
  w.EndArray();
}

void json_partition(JsonWriter& w, const pipeline::TopicState& t, const pipeline::PartitionState& p) {
  w.StartObject();
  w.Key("partition");
  w.Int(p.partition);
  w.Key("leader");
  w.Int(p.leader);
  w.Key("replicas");
  json_ints(w, p.replicas);
  w.Key("isr");
  json_ints(w, p.in_sync_replicas);
  w.Key("under_replicated");
  w.Bool(p.under_replicated());
  w.Key("offline");
  w.Bool(p.offline());
  w.Key("isr_at_min");
  w.Bool(t.at_min_insync(p));
  w.Key("isr_below_min");
  w.Bool(t.below_min_insync(p));
  // null: the leader could not be asked (offline, or its broker just went away).
  const auto known = [&p](std::int64_t value) {
    return p.offsets_known ? std::optional(value) : std::nullopt;
  };
  w.Key("low");
  json_optional_int(w, known(p.low));
  w.Key("high");
  json_optional_int(w, known(p.high));
  w.Key("messages");
  json_optional_int(w, known(p.messages()));
  w.EndObject();
}

void json_topic(JsonWriter& w, const pipeline::TopicState& t) {
  w.StartObject();
  w.Key("name");
  json_string(w, t.name);
  w.Key("exists");
  w.Bool(t.exists);
  w.Key("retention_ms");
  json_optional_int(w, t.retention_ms);
  w.Key("messages");
  w.Int64(t.messages());
  w.Key("log_end_total");
  w.Int64(t.high_total());
  w.Key("replication_factor");
  w.Int(t.replication_factor());
  w.Key("min_insync_replicas");
  json_optional_int(w, t.min_insync_replicas);
  w.Key("under_replicated_partitions");
  w.Int64(std::count_if(t.partitions.begin(), t.partitions.end(),
                        [](const pipeline::PartitionState& p) { return p.under_replicated(); }));
  w.Key("offline_partitions");
  w.Int64(std::count_if(t.partitions.begin(), t.partitions.end(),
                        [](const pipeline::PartitionState& p) { return p.offline(); }));
  w.Key("partitions");
  w.StartArray();
  for (const auto& p : t.partitions) {
    json_partition(w, t, p);
  }
  w.EndArray();
  w.EndObject();
}

void json_group_members(JsonWriter& w, const std::vector<kafka::GroupMember>& members) {
  w.StartArray();
  for (const auto& m : members) {
    w.StartObject();
    w.Key("member_id");
    json_string(w, m.member_id);
    w.Key("client_id");
    json_string(w, m.client_id);
    w.Key("client_host");
    json_string(w, m.client_host);
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
  w.Key("group");
  json_string(w, g.group);
  w.Key("topic");
  json_string(w, g.topic);
  w.Key("known_to_broker");
  w.Bool(g.description.known);
  w.Key("state");
  json_string(w, g.description.state);
  w.Key("protocol_type");
  json_string(w, g.description.protocol_type);
  w.Key("protocol");
  json_string(w, g.description.protocol);
  w.Key("members");
  json_group_members(w, g.description.members);
  w.Key("partitions");
  w.StartArray();
  for (const auto& p : g.partitions) {
    w.StartObject();
    w.Key("partition");
    w.Int(p.partition);
    w.Key("stored_offset");
    json_optional_int(w, p.stored);
    w.Key("committed_offset");
    json_optional_int(w, p.committed);
    w.Key("log_start");
    w.Int64(p.log_start);
    w.Key("log_end");
    w.Int64(p.log_end);
    w.Key("lag");
    w.Int64(p.lag);
    w.EndObject();
  }
  w.EndArray();
  w.Key("total_lag");
  w.Int64(g.total_lag);
}

// The database view's fields, inside an object the caller opened (the db
// view's own, or the overview's "database").
void json_database_fields(JsonWriter& w, const pipeline::DatabaseView& d) {
  w.Key("target");
  json_string(w, d.target);
  w.Key("schema_version");
  w.Int(d.summary.schema_version);
  w.Key("orders");
  w.Int64(d.summary.orders);
  w.Key("newest_processed_at");
  json_optional_string(w, d.summary.newest_processed_at);
  w.Key("dead_letters");
  w.Int64(d.summary.dead_letters());
  w.Key("dead_letters_by_reason");
  w.StartObject();
  for (const auto& [reason, count] : d.summary.dead_letters_by_reason) {
    w.Key(reason.c_str());
    w.Int64(count);
  }
  w.EndObject();
}

void json_order_row(JsonWriter& w, const db::OrderRow& o) {
  w.StartObject();
  w.Key("order_id");
  json_string(w, o.order_id);
  w.Key("customer_id");
  json_string(w, o.customer_id);
  w.Key("customer_name");
  json_string(w, o.customer_name);
  w.Key("customer_email");
  json_string(w, o.customer_email);
  w.Key("items");
  w.RawValue(o.items_json.c_str(), o.items_json.size(), rapidjson::kArrayType);
  w.Key("total_amount");
  json_string(w, o.total_amount);
  w.Key("status");
  json_string(w, o.status);
  w.Key("created_at");
  json_string(w, o.created_at);
  w.Key("processed_at");
  json_string(w, o.processed_at);
  w.Key("source_topic");
  json_optional_string(w, o.source_topic);
  w.Key("source_partition");
  json_optional_int(w, o.source_partition);
  w.Key("source_offset");
  json_optional_int(w, o.source_offset);
  w.EndObject();
}

// Opens an inspect view's object with its "view" key; the caller adds the
// fields and closes it.
void start_view(JsonWriter& w, std::string_view view) {
  w.StartObject();
  w.Key("view");
  json_string(w, view);
}

// ---------------------------------------------------------------------------
// Seed-db pieces.

void json_migrations(JsonWriter& w, const char* key, const std::vector<pipeline::MigrationRef>& migrations) {
  w.Key(key);
  w.StartArray();
  for (const auto& migration : migrations) {
    w.StartObject();
    w.Key("version");
    w.Int(migration.version);
    w.Key("name");
    json_string(w, migration.name);
    w.EndObject();
  }
  w.EndArray();
}

void json_counts(JsonWriter& w, const char* key, const db::UpsertCounts* counts) {
  w.Key(key);
  if (counts == nullptr) {
    w.Null();
    return;
  }
  w.StartObject();
  w.Key("inserted");
  w.Int(counts->inserted);
  w.Key("updated");
  w.Int(counts->updated);
  w.Key("unchanged");
  w.Int(counts->unchanged);
  w.EndObject();
}

void json_spans(JsonWriter& w, const std::vector<pipeline::ReplaySpan>& spans) {
  w.StartArray();
  for (const auto& span : spans) {
    w.StartObject();
    w.Key("partition");
    w.Int(span.partition);
    w.Key("from");
    w.Int64(span.from);
    w.Key("to");
    w.Int64(span.to);
    w.EndObject();
  }
  w.EndArray();
}

void json_doctor_kafka(JsonWriter& w, const pipeline::KafkaFindings& k) {
  w.StartObject();
  w.Key("bootstrap_servers");
  json_string(w, k.bootstrap_servers);
  w.Key("reachable");
  w.Bool(k.reachable);
  w.Key("cluster_id");
  json_string(w, k.cluster_id);
  w.Key("brokers");
  w.Int(k.brokers);
  w.Key("librdkafka_version");
  json_string(w, k.librdkafka_version);
  w.Key("consumer_groups_supported");
  if (k.groups_supported) {
    w.Bool(*k.groups_supported);
  } else {
    w.Null();
  }
  w.Key("problem");
  json_string(w, k.problem);
  w.Key("missing_brokers");
  json_ints(w, k.missing_brokers);
  w.Key("expected_replication_factor");
  w.Int(k.expected_replication_factor);
  w.Key("replication");
  w.StartArray();
  for (const auto& topic : k.topics) {
    w.StartObject();
    w.Key("topic");
    json_string(w, topic.topic);
    w.Key("replication_factor");
    w.Int(topic.replication_factor);
    w.Key("below_cluster_size");
    w.Bool(topic.below_cluster_size);
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
  w.Key("target");
  json_string(w, p.target);
  w.Key("reachable");
  w.Bool(p.reachable);
  w.Key("database_exists");
  w.Bool(p.database_exists);
  w.Key("server_version");
  json_string(w, p.server_version);
  w.Key("schema_version");
  json_optional_int(w, p.schema_version);
  w.Key("problem");
  json_string(w, p.problem);
  w.EndObject();
}

void json_verify_partitions(JsonWriter& w, const pipeline::VerifyReport& r) {
  w.StartArray();
  for (const auto& p : r.partitions) {
    w.StartObject();
    w.Key("partition");
    w.Int(p.partition);
    w.Key("from");
    w.Int64(p.from);
    w.Key("to");
    w.Int64(p.to);
    w.Key("log_start");
    w.Int64(p.log_start);
    w.Key("messages");
    w.Uint64(p.messages);
    w.Key("without_message");
    w.Uint64(p.without_message);
    w.Key("gone");
    w.Uint64(p.gone);
    w.Key("unread_from");
    w.Int64(p.unread_from);
    w.EndObject();
  }
  w.EndArray();
}

void json_verify_findings(JsonWriter& w, const pipeline::VerifyReport& r) {
  w.Key("skipped"); // removed by retention before consumption (table skipped_offsets)
  w.StartArray();
  for (const auto& skipped : r.skipped) {
    w.StartObject();
    w.Key("partition");
    w.Int(skipped.partition);
    w.Key("from");
    w.Int64(skipped.from);
    w.Key("to");
    w.Int64(skipped.to);
    w.Key("reason");
    json_string(w, skipped.reason);
    w.Key("detected_at");
    json_string(w, skipped.detected_at);
    w.EndObject();
  }
  w.EndArray();
  w.Key("problems");
  w.StartArray();
  for (const auto& problem : r.problems) {
    w.StartObject();
    w.Key("kind");
    json_string(w, problem.kind);
    w.Key("partition");
    w.Int(problem.partition);
    w.Key("offset");
    w.Int64(problem.offset);
    w.Key("order_id");
    if (problem.order_id.empty()) {
      w.Null();
    } else {
      json_string(w, problem.order_id);
    }
    w.Key("detail");
    json_string(w, problem.detail);
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
  w.Key("topic");
  json_string(w, r.topic);
  w.Key("run_id");
  json_string(w, r.run_id);
  w.Key("seed");
  if (r.seed) {
    w.Uint64(*r.seed);
  } else {
    w.Null();
  }
  w.Key("sent");
  w.Uint64(r.sent);
  w.Key("delivered");
  w.Uint64(r.delivered);
  w.Key("failed");
  w.Uint64(r.failed);
  w.Key("failed_by_error");
  w.StartObject();
  for (const auto& [error, count] : r.failed_by_error) {
    w.Key(error.c_str());
    w.Uint64(count);
  }
  w.EndObject();
  w.Key("invalid_lines");
  w.Uint64(r.invalid_lines);
  w.Key("bytes");
  w.Uint64(r.bytes);
  w.Key("elapsed_ms");
  w.Int64(milliseconds_of(r.elapsed));
  w.Key("records_per_sec");
  w.Double(per_second(static_cast<double>(r.delivered), elapsed));
  w.Key("mb_per_sec");
  w.Double(per_second(static_cast<double>(r.bytes), elapsed) / (1024.0 * 1024.0));
  w.Key("latency_ms");
  w.StartObject();
  w.Key("avg");
  w.Double(r.latency_us.mean() / 1000.0);
  w.Key("p50");
  w.Double(ms(static_cast<double>(r.latency_us.percentile(0.50))));
  w.Key("p95");
  w.Double(ms(static_cast<double>(r.latency_us.percentile(0.95))));
  w.Key("p99");
  w.Double(ms(static_cast<double>(r.latency_us.percentile(0.99))));
  w.Key("p999");
  w.Double(ms(static_cast<double>(r.latency_us.percentile(0.999))));
  w.Key("max");
  w.Double(ms(static_cast<double>(r.latency_us.max())));
  w.EndObject();
  w.Key("interrupted");
  w.Bool(r.interrupted);
  w.Key("topic_created");
  w.Bool(r.topic_created);
  // What created topics get; null when produce creates none.
  const auto replication = [&w, &r](const char* key, int kafka::Replication::*member) {
    w.Key(key);
    json_optional_int(w, r.replication ? std::optional<int>((*r.replication).*member) : std::nullopt);
  };
  replication("replication_factor", &kafka::Replication::replication_factor);
  replication("min_insync_replicas", &kafka::Replication::min_insync_replicas);
  replication("cluster_brokers", &kafka::Replication::brokers);
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::ConsumeReport& r) {
  const double elapsed = seconds_of(r.elapsed);
  w.StartObject();
  w.Key("consumed");
  w.Uint64(r.consumed);
  w.Key("applied");
  w.Uint64(r.applied);
  w.Key("duplicates");
  w.Uint64(r.duplicates);
  w.Key("dead_letters");
  w.Uint64(r.dead_letters());
  w.Key("dead_letters_by_reason");
  w.StartObject();
  for (const auto& [reason, count] : r.dead_letters_by_reason) {
    w.Key(reason.c_str());
    w.Uint64(count);
  }
  w.EndObject();
  w.Key("batches");
  w.Uint64(r.batches);
  w.Key("stale_batches");
  w.Uint64(r.stale_batches);
  w.Key("database_retries");
  w.Uint64(r.database_retries);
  w.Key("rebalances");
  w.Uint64(r.rebalances);
  w.Key("skipped_offsets");
  w.Uint64(r.skipped_offsets);
  w.Key("dead_letters_truncated");
  w.Uint64(r.dead_letters_truncated);
  w.Key("elapsed_ms");
  w.Int64(milliseconds_of(r.elapsed));
  w.Key("orders_per_sec");
  w.Double(per_second(static_cast<double>(r.consumed), elapsed));
  w.Key("latency_ms");
  w.StartObject();
  w.Key("p50");
  w.Int64(r.latency_ms.percentile(0.50));
  w.Key("p99");
  w.Int64(r.latency_ms.percentile(0.99));
  w.Key("max");
  w.Int64(r.latency_ms.max());
  w.EndObject();
  w.Key("stopped_by");
  json_string(w, r.stopped_by);
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::DoctorReport& report) {
  w.StartObject();
  w.Key("ok");
  w.Bool(report.ok());
  w.Key("kafka");
  json_doctor_kafka(w, report.kafka);
  w.Key("postgres");
  json_doctor_postgres(w, report.postgres);
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::SeedDbReport& report) {
  w.StartObject();
  w.Key("database");
  json_string(w, report.database);
  w.Key("server");
  json_string(w, report.server);
  w.Key("database_existed");
  w.Bool(report.database_existed);
  w.Key("database_created");
  w.Bool(report.database_created);
  json_migrations(w, "migrations_applied", report.migrations_applied);
  json_migrations(w, "migrations_pending", report.migrations_pending);
  w.Key("migrations_already_applied");
  w.Int(report.migrations_already_applied);
  w.Key("schema_version");
  w.Int(report.schema_version);
  const auto* data = report.reference_data ? &*report.reference_data : nullptr;
  json_counts(w, "customers", data != nullptr ? &data->customers : nullptr);
  json_counts(w, "menu_items", data != nullptr ? &data->menu_items : nullptr);
  w.Key("dry_run");
  w.Bool(report.dry_run);
  w.Key("elapsed_ms");
  w.Int64(report.elapsed.count());
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::OffsetsReport& r) {
  w.StartObject();
  w.Key("group");
  json_string(w, r.group);
  w.Key("topic");
  json_string(w, r.topic);
  w.Key("executed");
  w.Bool(r.executed);
  w.Key("partitions");
  w.StartArray();
  for (const auto& p : r.partitions) {
    w.StartObject();
    w.Key("partition");
    w.Int(p.partition);
    w.Key("database_before");
    json_optional_int(w, p.database_before);
    w.Key("kafka_before");
    json_optional_int(w, p.kafka_before);
    w.Key("log_start");
    w.Int64(p.log_start);
    w.Key("log_end");
    w.Int64(p.log_end);
    w.Key("after");
    w.Int64(p.after);
    w.Key("clamped");
    w.Bool(p.clamped);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::ReplayReport& r) {
  w.StartObject();
  w.Key("dry_run");
  w.Bool(r.dry_run);
  w.Key("partitions");
  w.StartArray();
  for (const auto& range : r.ranges) {
    w.StartObject();
    w.Key("partition");
    w.Int(range.partition);
    w.Key("from");
    w.Int64(range.from);
    w.Key("to");
    w.Int64(range.to);
    w.Key("count");
    w.Uint64(range.count());
    w.EndObject();
  }
  w.EndArray();
  w.Key("gone"); // offsets already removed from the log: not replayed
  json_spans(w, r.gone);
  w.Key("unread"); // offsets the log did not let the replay read (an open transaction)
  json_spans(w, r.unread);
  w.Key("planned");
  w.Uint64(r.planned);
  w.Key("without_message");
  w.Uint64(r.without_message);
  w.Key("read");
  w.Uint64(r.read);
  w.Key("applied");
  w.Uint64(r.applied);
  w.Key("already_present");
  w.Uint64(r.already_present);
  w.Key("restored");
  w.Uint64(r.restored);
  w.Key("dead_lettered");
  w.Uint64(r.dead_lettered);
  w.Key("dead_letters_recorded");
  w.Uint64(r.dead_letters_recorded);
  w.Key("republished");
  w.Uint64(r.republished);
  w.Key("failed");
  w.Uint64(r.failed);
  w.Key("skipped_by_filter");
  w.Uint64(r.skipped_by_filter);
  w.Key("skipped_truncated");
  w.Uint64(r.skipped_truncated);
  w.Key("interrupted");
  w.Bool(r.interrupted);
  w.Key("elapsed_ms");
  w.Int64(milliseconds_of(r.elapsed));
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::VerifyReport& r, bool strict) {
  w.StartObject();
  w.Key("checked");
  w.Uint64(r.checked);
  w.Key("ok"); // messages whose row at their own position matches
  w.Uint64(r.ok);
  w.Key("passed"); // the exit status is 0
  w.Bool(r.passed(strict));
  w.Key("strict");
  w.Bool(strict);
  w.Key("missing");
  w.Uint64(r.missing);
  w.Key("different");
  w.Uint64(r.different);
  w.Key("dead_lettered");
  w.Uint64(r.dead_lettered);
  w.Key("duplicates");
  w.Uint64(r.duplicates);
  w.Key("refused_by_database");
  w.Uint64(r.refused_by_database);
  w.Key("without_message");
  w.Uint64(r.without_message);
  w.Key("gone");
  w.Uint64(r.gone);
  w.Key("unread");
  w.Uint64(r.unread);
  w.Key("skipped_offsets");
  w.Uint64(r.skipped_offsets());
  w.Key("interrupted");
  w.Bool(r.interrupted);
  w.Key("partitions");
  json_verify_partitions(w, r);
  json_verify_findings(w, r);
  w.Key("elapsed_ms");
  w.Int64(milliseconds_of(r.elapsed));
  w.EndObject();
}

// ---------------------------------------------------------------------------
// The inspect views.

void write_json(JsonWriter& w, const pipeline::Overview& o) {
  start_view(w, "overview");
  w.Key("bootstrap_servers");
  json_string(w, o.topic.bootstrap_servers);
  w.Key("brokers");
  json_brokers(w, o.topic.brokers);
  w.Key("topic");
  json_topic(w, o.topic.topic);
  w.Key("dlq");
  json_topic(w, o.topic.dlq);
  w.Key("group");
  w.StartObject();
  w.Key("name");
  json_string(w, o.group.group);
  w.Key("state");
  json_string(w, o.group.description.state);
  w.Key("members");
  w.Uint64(o.group.description.members.size());
  w.Key("total_lag");
  w.Int64(o.group.total_lag);
  w.Key("lag_from");
  json_string(w, o.lag_from_kafka ? "kafka_committed_offsets" : "database_stored_offsets");
  w.EndObject();
  w.Key("database");
  w.StartObject();
  if (o.database) {
    json_database_fields(w, *o.database);
  } else {
    w.Key("error");
    json_string(w, o.database_problem);
  }
  w.EndObject();
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::TopicView& v) {
  start_view(w, "topic");
  w.Key("bootstrap_servers");
  json_string(w, v.bootstrap_servers);
  w.Key("cluster_id");
  json_string(w, v.cluster_id);
  w.Key("controller_id");
  w.Int(v.controller_id);
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
  w.Key("reason");
  json_optional_string(w, v.reason);
  w.Key("limit");
  w.Int64(v.limit);
  w.Key("total");
  w.Int64(v.total);
  w.Key("dead_letters");
  json_dead_letters(w, v.dead_letters);
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::OrderView& v) {
  start_view(w, "order");
  w.Key("order_id");
  json_string(w, v.order_id);
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
  w.Key("message_note");
  json_string(w, v.message_note);
  w.Key("dead_letters");
  json_dead_letters(w, v.dead_letters);
  w.EndObject();
}

void write_json(JsonWriter& w, const pipeline::KafkaMessage& m) {
  w.StartObject();
  w.Key("topic");
  json_string(w, m.topic);
  w.Key("partition");
  w.Int(m.partition);
  w.Key("offset");
  w.Int64(m.offset);
  w.Key("tstype");
  json_string(w, m.timestamp_type);
  w.Key("ts");
  w.Int64(m.timestamp_ms);
  w.Key("broker");
  w.Int(m.broker);
  w.Key("headers");
  w.StartArray();
  for (const auto& [name, value] : m.headers) {
    json_string(w, name);
    json_string(w, value);
  }
  w.EndArray();
  w.Key("key");
  json_optional_string(w, m.key);
  w.Key("payload");
  json_optional_string(w, m.payload);
  w.EndObject();
}

} // namespace foodpipe::app
