#include "pipeline/offsets.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "core/error.hpp"
#include "core/signals.hpp"
#include "db/connection.hpp"
#include "db/error.hpp"
#include "db/inspect_queries.hpp"
#include "db/migrator.hpp"
#include "db/offset_admin.hpp"
#include "db/transaction.hpp"
#include "kafka/error.hpp"
#include "kafka/group_admin.hpp"
#include "kafka/reader.hpp"

namespace foodpipe::pipeline {
namespace {

constexpr std::string_view k_lock_not_available = "55P03";

std::chrono::seconds whole_seconds(std::chrono::milliseconds timeout) {
  return std::max(std::chrono::seconds(1), std::chrono::duration_cast<std::chrono::seconds>(timeout));
}

db::Connection open_database(const OffsetsOptions& options) {
  auto connection = db::Connection::connect(options.db_conninfo, whole_seconds(options.timeout));
  db::require_foodpipe_schema(connection);
  return connection;
}

std::string optional_text(const std::optional<std::int64_t>& value) {
  return value ? std::to_string(*value) : std::string("none");
}

std::string again(const OffsetsOptions& options) {
  return "stop the consumers of group " + options.group + " and run foodpipe offsets again";
}

// The partitions asked for (all of the topic's by default), ascending. Every
// topic's metadata, not one by name: asking for one by name can make a broker
// with auto.create.topics.enable create it.
std::vector<std::int32_t> chosen_partitions(const OffsetsOptions& options, kafka::GroupAdmin& admin) {
  const auto metadata = admin.admin().metadata(options.timeout);
  const auto topic = std::find_if(metadata.topics.begin(), metadata.topics.end(),
                                  [&options](const kafka::TopicInfo& t) { return t.name == options.topic; });
  if (topic == metadata.topics.end() || !topic->ok() || topic->partitions.empty()) {
    throw UsageError("topic " + options.topic + " does not exist at " + options.kafka.bootstrap_servers +
                     "; check --topic");
  }
  std::set<std::int32_t> existing;
  for (const auto& partition : topic->partitions) {
    existing.insert(partition.id);
  }
  if (options.partitions.empty()) {
    return {existing.begin(), existing.end()};
  }
  std::set<std::int32_t> chosen;
  for (const auto partition : options.partitions) {
    if (existing.count(partition) == 0U) {
      throw UsageError("--partition " + std::to_string(partition) + ": topic " + options.topic + " has " +
                       std::to_string(existing.size()) + " partitions (0.." + std::to_string(*existing.rbegin()) +
                       ")");
    }
    chosen.insert(partition);
  }
  return {chosen.begin(), chosen.end()};
}

void refuse_live_members(const OffsetsOptions& options, kafka::GroupAdmin& admin) {
  const auto group = admin.describe_group(options.group, options.timeout);
  const bool settling = group.known && group.state != "Empty" && group.state != "Dead";
  if (group.members.empty() && !settling) {
    return;
  }
  std::string who;
  for (const auto& member : group.members) {
    if (!who.empty()) {
      who += ", ";
    }
    who += member.client_id + " at " + member.client_host;
  }
  throw Error("group " + options.group + " has " + std::to_string(group.members.size()) + " live member" +
              (group.members.size() == 1 ? "" : "s") + (who.empty() ? "" : " (" + who + ")") + ", state " +
              group.state + "; " + again(options));
}

OffsetsReport plan(const OffsetsOptions& options, kafka::GroupAdmin& admin, db::Connection& connection) {
  const auto partitions = chosen_partitions(options, admin);
  refuse_live_members(options, admin);

  kafka::Reader reader(options.kafka);
  const auto stored = db::stored_offsets(connection, options.group, options.topic);
  const auto committed = admin.committed_offsets(options.group, options.topic, partitions, options.timeout);
  std::map<std::int32_t, std::int64_t> by_time;
  if (options.target == OffsetTarget::datetime) {
    std::map<std::int32_t, std::int64_t> times;
    for (const auto partition : partitions) {
      times[partition] = options.time_ms;
    }
    by_time = reader.offsets_for_times(options.topic, times, options.timeout);
  }

  OffsetsReport report;
  report.group = options.group;
  report.topic = options.topic;
  for (const auto partition : partitions) {
    PartitionOffsets row;
    row.partition = partition;
    if (const auto it = stored.find(partition); it != stored.end()) {
      row.database_before = it->second;
    }
    if (const auto it = committed.find(partition); it != committed.end()) {
      row.kafka_before = it->second;
    }
    const auto marks = reader.watermarks(options.topic, partition, options.timeout);
    row.log_start = marks.low;
    row.log_end = marks.high;
    switch (options.target) {
    case OffsetTarget::earliest:
      row.requested = row.log_start;
      break;
    case OffsetTarget::latest:
      row.requested = row.log_end;
      break;
    case OffsetTarget::offset:
      row.requested = options.offset;
      break;
    case OffsetTarget::datetime:
      row.requested = by_time.at(partition);
      break;
    case OffsetTarget::shift:
      if (!row.database_before) {
        throw UsageError("--shift-by: group " + options.group + " has no offset in the database for " +
                         options.topic + " partition " + std::to_string(partition) +
                         " (consume would start it at --from); move it with --to-earliest, --to-latest or "
                         "--to-offset, or leave it out with --partition");
      }
      row.requested = shift_offset(*row.database_before, options.shift);
      break;
    }
    const auto clamped = clamp_to_log(row.requested, row.log_start, row.log_end);
    row.after = clamped.offset;
    // Kafka clamps only the targets a user can put outside the log; a time
    // lookup racing a growing log end is not worth a warning.
    row.clamped = clamped.clamped && (options.target == OffsetTarget::offset || options.target == OffsetTarget::shift);
    report.partitions.push_back(row);
  }
  return report;
}

OffsetsReport apply(const OffsetsOptions& options, const OffsetsReport& planned, kafka::GroupAdmin& admin,
                    db::Connection& connection) {
  std::vector<db::StoredOffsetChange> changes;
  std::map<std::int32_t, std::int64_t> kafka_offsets;
  for (const auto& row : planned.partitions) {
    changes.push_back({row.partition, row.database_before, row.after});
    kafka_offsets[row.partition] = row.after;
  }

  db::Transaction transaction(connection);
  db::ReplaceOutcome outcome;
  try {
    outcome = db::replace_stored_offsets(connection, options.group, options.topic, changes, options.timeout);
  } catch (const db::DbError& error) {
    if (error.sqlstate() == k_lock_not_available) {
      throw Error("the offsets of group " + options.group + " in the database are locked by another transaction (a "
                  "consumer of the group still writing?); nothing was changed; " + again(options));
    }
    throw;
  }
  if (!outcome.moved.empty()) {
    transaction.rollback();
    std::string what;
    for (const auto& moved : outcome.moved) {
      if (!what.empty()) {
        what += ", ";
      }
      what += "partition " + std::to_string(moved.partition) + " is at " + optional_text(moved.found) + ", not " +
              optional_text(moved.expected);
    }
    throw Error("the offsets of group " + options.group + " in the database moved since they were read (" + what +
                "); nothing was changed; " + again(options));
  }

  try {
    admin.alter_committed_offsets(options.group, options.topic, kafka_offsets, options.timeout);
  } catch (const kafka::KafkaError& error) {
    transaction.rollback();
    if (error.retriable()) {
      throw Error("Kafka did not answer (" + std::string(error.what()) +
                  "); the database was rolled back, so consume still starts from the old offsets; Kafka's "
                  "committed offsets may have moved: run the command again once Kafka is reachable");
    }
    throw Error("Kafka refused the new offsets (" + std::string(error.what()) +
                "); the database was rolled back and nothing was changed; " + again(options));
  }

  try {
    transaction.commit();
  } catch (const db::DbError& error) {
    if (error.connection_lost()) {
      throw Error("Kafka's committed offsets of group " + options.group +
                  " moved but the database's COMMIT got no answer (" + std::string(error.what()) +
                  "): its offsets are all the old or all the new ones; look with foodpipe offsets (a dry run) "
                  "before running --execute again");
    }
    throw Error("Kafka's committed offsets of group " + options.group + " moved but the database's COMMIT failed (" +
                std::string(error.what()) +
                "): the database keeps the old offsets, which consume follows; run the command again");
  }
  OffsetsReport report = planned;
  report.executed = true;
  return report;
}

} // namespace

ClampedOffset clamp_to_log(std::int64_t requested, std::int64_t log_start, std::int64_t log_end) noexcept {
  if (requested > log_end) {
    return {log_end, true};
  }
  if (requested < log_start) {
    return {log_start, true};
  }
  return {requested, false};
}

std::int64_t shift_offset(std::int64_t from, std::int64_t by) noexcept {
  std::int64_t result = 0;
  if (__builtin_add_overflow(from, by, &result)) {
    return by > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
  }
  return result;
}

OffsetsReport plan_offsets(const OffsetsOptions& options) {
  kafka::GroupAdmin admin(options.kafka);
  auto connection = open_database(options);
  return plan(options, admin, connection);
}

OffsetsReport apply_offsets(const OffsetsOptions& options, const OffsetsReport& planned) {
  kafka::GroupAdmin admin(options.kafka);
  auto connection = open_database(options);
  return apply(options, planned, admin, connection);
}

OffsetsReport run_offsets(const OffsetsOptions& options) {
  kafka::GroupAdmin admin(options.kafka);
  auto connection = open_database(options);
  const auto planned = plan(options, admin, connection);
  if (options.execute && stop_requested()) {
    throw Error("interrupted before anything was changed", ExitCode::interrupted);
  }
  return options.execute ? apply(options, planned, admin, connection) : planned;
}

} // namespace foodpipe::pipeline
