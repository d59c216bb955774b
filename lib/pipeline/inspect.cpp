#include "pipeline/inspect.hpp"

#include <algorithm>
#include <set>

#include "core/error.hpp"
#include "core/log.hpp"
#include "db/connection.hpp"
#include "db/migrator.hpp"
#include "domain/timestamp.hpp"
#include "kafka/error.hpp"
#include "kafka/reader.hpp"
#include "pipeline/range_plan.hpp"
#include "pipeline/watch.hpp"

namespace foodpipe::pipeline {

// What the broker says of the group apart from the log: its state, members
// and the offsets committed to Kafka for these partitions.
struct GroupProgress {
  kafka::GroupDescription description;
  std::map<std::int32_t, std::int64_t> committed;
};

namespace {

std::chrono::seconds whole_seconds(std::chrono::milliseconds timeout) {
  return std::max(std::chrono::seconds(1), std::chrono::duration_cast<std::chrono::seconds>(timeout));
}

// Connection::connect already says "create it with foodpipe seed-db" for a
// database that does not exist; an empty one is caught here.
db::Connection open_database(const InspectOptions& options) {
  auto connection = db::Connection::connect(options.db_conninfo, whole_seconds(options.connect_timeout));
  db::require_foodpipe_schema(connection);
  return connection;
}

// What to do about a partition whose leader cannot be asked for its offsets.
enum class UnreadableOffsets {
  fail,        // the group and overview views need every offset
  show_unknown // the topic view is for looking at a cluster with a broker down
};

// What did not answer in this view, so that a broker that went away costs one
// timeout, not one per partition or topic: the leaders a watermark request
// waited for in vain (their other partitions are not asked), and whether a
// DescribeConfigs did (it goes to the controller the metadata names, which
// after a kill -9 may be the dead broker until it is fenced).
struct Silent {
  std::set<std::int32_t> leaders;
  bool configs = false;
};

std::optional<int> config_int(const std::map<std::string, std::string>& config, const std::string& key) {
  const auto it = config.find(key);
  if (it == config.end() || it->second.empty()) {
    return std::nullopt;
  }
  try {
    return std::stoi(it->second);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Every topic's metadata, not just ours: asking for one topic by name can make
// a broker with auto.create.topics.enable create it, and inspect must not.
TopicState topic_state(kafka::GroupAdmin& admin, kafka::Reader& reader, const kafka::ClusterMetadata& metadata,
                       const std::string& name, std::chrono::milliseconds timeout,
                       UnreadableOffsets unreadable = UnreadableOffsets::fail, Silent* silent = nullptr) {
  TopicState state;
  state.name = name;
  const auto found = std::find_if(metadata.topics.begin(), metadata.topics.end(),
                                  [&name](const kafka::TopicInfo& topic) { return topic.name == name; });
  if (found == metadata.topics.end() || !found->ok()) {
    return state;
  }
  state.exists = true;
  for (const auto& info : found->partitions) {
    PartitionState partition;
    partition.partition = info.id;
    partition.leader = info.leader;
    partition.replicas = info.replicas;
    partition.in_sync_replicas = info.in_sync_replicas;
    if (unreadable == UnreadableOffsets::show_unknown &&
        (partition.offline() || (silent != nullptr && silent->leaders.count(partition.leader) != 0U))) {
      partition.offsets_known = false;
    } else {
      std::optional<kafka::Watermarks> marks;
      bool answered = true; // false: the leader said nothing within the timeout
      try {
        marks = reader.try_watermarks(name, info.id, timeout);
        answered = marks.has_value();
      } catch (const kafka::KafkaError& error) {
        // e.g. NOT_LEADER_OR_FOLLOWER while leadership moves
        if (unreadable == UnreadableOffsets::fail) {
          throw;
        }
        log::debug("inspect", "offsets not readable",
                   {{"topic", name}, {"partition", std::to_string(info.id)}, {"error", error.what()}});
      }
      if (marks) {
        partition.low = marks->low;
        partition.high = marks->high;
      } else if (unreadable == UnreadableOffsets::fail) {
        throw kafka::KafkaError("cannot read the offsets of " + name + "/" + std::to_string(info.id) +
                                    ": its leader, broker " + std::to_string(info.leader) +
                                    ", did not answer within --connect-timeout; a broker that has just gone away "
                                    "is named leader until the controller fences it: try again in a few seconds "
                                    "(foodpipe inspect topic shows the rest)",
                                kafka::errc::timed_out, false, true);
      } else {
        partition.offsets_known = false;
        if (!answered && silent != nullptr) {
          silent->leaders.insert(partition.leader);
        }
      }
    }
    state.partitions.push_back(std::move(partition));
  }
  std::sort(state.partitions.begin(), state.partitions.end(),
            [](const PartitionState& a, const PartitionState& b) { return a.partition < b.partition; });
  if (silent != nullptr && silent->configs) {
    return state;
  }
  try {
    const auto config = admin.topic_config(name, timeout);
    if (const auto retention = config.find("retention.ms"); retention != config.end()) {
      state.retention_ms = std::stoll(retention->second);
    }
    state.min_insync_replicas = config_int(config, "min.insync.replicas");
  } catch (const kafka::KafkaError& error) {
    // Without DescribeConfigs rights the rest of the view is still worth
    // showing; so is the topic view without an answer at all.
    if (error.retriable()) {
      if (unreadable == UnreadableOffsets::fail) {
        throw;
      }
      if (silent != nullptr) {
        silent->configs = true;
      }
    }
  }
  return state;
}

TopicView topic_view(const InspectOptions& options, kafka::GroupAdmin& admin, kafka::Reader& reader,
                     UnreadableOffsets unreadable = UnreadableOffsets::fail) {
  const auto metadata = admin.admin().metadata(options.connect_timeout);
  TopicView view;
  view.bootstrap_servers = options.kafka.bootstrap_servers;
  view.cluster_id = metadata.cluster_id;
  view.controller_id = metadata.controller_id;
  view.brokers = metadata.brokers;
  std::sort(view.brokers.begin(), view.brokers.end(),
            [](const kafka::BrokerInfo& a, const kafka::BrokerInfo& b) { return a.id < b.id; });
  Silent silent;
  const auto timeout = options.connect_timeout;
  view.topic = topic_state(admin, reader, metadata, options.topic, timeout, unreadable, &silent);
  view.dlq = topic_state(admin, reader, metadata, options.topic + ".dlq", timeout, unreadable, &silent);
  std::set<std::int32_t> missing;
  for (const auto* state : {&view.topic, &view.dlq}) {
    for (const auto& partition : state->partitions) {
      for (const auto replica : partition.replicas) {
        if (std::none_of(view.brokers.begin(), view.brokers.end(),
                         [replica](const kafka::BrokerInfo& broker) { return broker.id == replica; })) {
          missing.insert(replica);
        }
      }
    }
  }
  view.missing_brokers.assign(missing.begin(), missing.end());
  return view;
}

GroupProgress group_progress(const InspectOptions& options, kafka::GroupAdmin& admin,
                             const std::vector<std::int32_t>& ids) {
  GroupProgress progress;
  progress.description = admin.describe_group(options.group, options.connect_timeout);
  if (!ids.empty()) {
    progress.committed = admin.committed_offsets(options.group, options.topic, ids, options.connect_timeout);
  }
  return progress;
}

// `stored`: the group's offsets in the database; null when the database
// could not be asked, and the lag then counts from Kafka's committed offsets.
GroupView group_rows(const InspectOptions& options, const TopicState& topic, GroupProgress progress,
                     const std::map<std::int32_t, std::int64_t>* stored) {
  GroupView view;
  view.group = options.group;
  view.topic = options.topic;
  view.description = std::move(progress.description);
  for (const auto& partition : topic.partitions) {
    GroupPartition row;
    row.partition = partition.partition;
    row.log_start = partition.low;
    row.log_end = partition.high;
    if (stored != nullptr) {
      if (const auto it = stored->find(partition.partition); it != stored->end()) {
        row.stored = it->second;
      }
    }
    if (const auto it = progress.committed.find(partition.partition); it != progress.committed.end()) {
      row.committed = it->second;
    }
    row.lag = partition_lag(stored != nullptr ? row.stored : row.committed, partition.low, partition.high);
    view.total_lag += row.lag;
    view.partitions.push_back(row);
  }
  return view;
}

std::vector<std::int32_t> partition_ids(const TopicState& topic) {
  std::vector<std::int32_t> ids;
  for (const auto& partition : topic.partitions) {
    ids.push_back(partition.partition);
  }
  return ids;
}

GroupView group_view(const InspectOptions& options, const TopicState& topic, kafka::GroupAdmin& admin,
                     const std::map<std::int32_t, std::int64_t>* stored) {
  return group_rows(options, topic, group_progress(options, admin, partition_ids(topic)), stored);
}

KafkaMessage to_message(const std::string& topic, kafka::MessageView raw) {
  KafkaMessage message;
  message.topic = topic;
  message.partition = raw.partition();
  message.offset = raw.offset();
  const auto timestamp = raw.timestamp();
  message.timestamp_ms = timestamp.ms;
  message.timestamp_type = timestamp.type == kafka::TimestampType::create_time       ? "create"
                           : timestamp.type == kafka::TimestampType::log_append_time ? "logappend"
                                                                                     : "none";
  message.broker = raw.broker();
  message.headers = raw.headers();
  if (const auto key = raw.optional_key()) {
    message.key = std::string(*key);
  }
  if (const auto payload = raw.optional_value()) {
    message.payload = std::string(*payload);
  }
  return message;
}

// At most `limit` messages of the range; offsets without a message are passed over.
std::vector<KafkaMessage> read_range(kafka::Reader& reader, const std::string& topic,
                                     const kafka::PartitionRange& range, std::uint64_t limit,
                                     std::chrono::milliseconds timeout) {
  std::vector<KafkaMessage> messages;
  if (limit == 0) {
    return messages;
  }
  (void)reader.read(
      topic, {range},
      [&](kafka::MessageView raw) {
        messages.push_back(to_message(topic, raw));
        return messages.size() < limit;
      },
      std::max(timeout, std::chrono::milliseconds(5'000)));
  return messages;
}

} // namespace

std::int64_t TopicState::messages() const {
  std::int64_t total = 0;
  for (const auto& partition : partitions) {
    total += partition.messages();
  }
  return total;
}

std::int64_t TopicState::high_total() const {
  std::int64_t total = 0;
  for (const auto& partition : partitions) {
    total += partition.high;
  }
  return total;
}

int TopicState::replication_factor() const {
  std::size_t most = 0;
  for (const auto& partition : partitions) {
    most = std::max(most, partition.replicas.size());
  }
  return static_cast<int>(most);
}

bool TopicState::at_min_insync(const PartitionState& partition) const {
  return min_insync_replicas && static_cast<int>(partition.in_sync_replicas.size()) == *min_insync_replicas;
}

bool TopicState::below_min_insync(const PartitionState& partition) const {
  return min_insync_replicas && static_cast<int>(partition.in_sync_replicas.size()) < *min_insync_replicas;
}

TopicView inspect_topic(const InspectOptions& options) {
  kafka::GroupAdmin admin(options.kafka);
  kafka::Reader reader(options.kafka);
  return topic_view(options, admin, reader, UnreadableOffsets::show_unknown);
}

GroupView inspect_group(const InspectOptions& options) {
  kafka::GroupAdmin admin(options.kafka);
  kafka::Reader reader(options.kafka);
  const auto metadata = admin.admin().metadata(options.connect_timeout);
  const auto topic = topic_state(admin, reader, metadata, options.topic, options.connect_timeout);
  if (!topic.exists) {
    throw Error("topic " + options.topic + " does not exist at " + options.kafka.bootstrap_servers +
                "; check --topic or create it with 'foodpipe produce --topic " + options.topic + "'");
  }
  auto connection = open_database(options);
  const auto stored = db::stored_offsets(connection, options.group, options.topic);
  return group_view(options, topic, admin, &stored);
}

DatabaseView inspect_database(const InspectOptions& options) {
  auto connection = open_database(options);
  return {connection.describe(), db::summarise_database(connection)};
}

DeadLetterView inspect_dead_letters(const InspectOptions& options, const std::optional<std::string>& reason,
                                    std::int64_t limit) {
  auto connection = open_database(options);
  DeadLetterView view;
  view.reason = reason;
  view.limit = limit;
  const auto summary = db::summarise_database(connection);
  if (reason) {
    const auto it = summary.dead_letters_by_reason.find(*reason);
    view.total = it != summary.dead_letters_by_reason.end() ? it->second : 0;
  } else {
    view.total = summary.dead_letters();
  }
  view.dead_letters = db::recent_dead_letters(connection, reason, limit, k_payload_excerpt_bytes);
  return view;
}

std::vector<KafkaMessage> read_messages(const InspectOptions& options, const MessagesRequest& request) {
  kafka::Admin admin(options.kafka);
  const auto metadata = admin.metadata(options.connect_timeout);
  const auto topic = std::find_if(metadata.topics.begin(), metadata.topics.end(),
                                  [&options](const kafka::TopicInfo& t) { return t.name == options.topic; });
  if (topic == metadata.topics.end() || !topic->ok()) {
    throw Error("topic " + options.topic + " does not exist at " + options.kafka.bootstrap_servers +
                "; check --topic");
  }
  const auto partitions = static_cast<std::int32_t>(topic->partitions.size());
  if (request.partition < 0 || request.partition >= partitions) {
    throw UsageError("--partition " + std::to_string(request.partition) + ": topic " + options.topic + " has " +
                     std::to_string(partitions) + " partitions (0.." + std::to_string(partitions - 1) + ")");
  }
  kafka::Reader reader(options.kafka);
  const auto marks = reader.watermarks(options.topic, request.partition, options.connect_timeout);
  // The count is of messages: offsets without one (transaction markers,
  // aborted or compacted records) are passed over up to the log end.
  const auto range = messages_range(request.partition, request.offset, marks);
  if (!range) {
    return {};
  }
  return read_range(reader, options.topic, *range, request.count, options.connect_timeout);
}

std::vector<TimelineEntry> order_timeline(const db::OrderRow& row,
                                          const std::vector<db::OrderEventRow>& events) {
  std::vector<TimelineEntry> timeline;
  TimelineEntry created;
  created.status = events.empty() ? row.status : events.front().previous_status;
  created.occurred_at = row.created_at;
  created.partition = row.source_partition;
  created.offset = row.source_offset;
  timeline.push_back(std::move(created));
  for (const auto& event : events) {
    TimelineEntry entry;
    entry.event_id = event.event_id;
    entry.status = event.status;
    entry.occurred_at = event.occurred_at;
    entry.partition = event.source_partition;
    entry.offset = event.source_offset;
    entry.since_created_ms = event.since_created_ms;
    entry.reason = event.reason;
    timeline.push_back(std::move(entry));
  }
  return timeline;
}

OrderView inspect_order(const InspectOptions& options, const std::string& order_id) {
  auto connection = open_database(options);
  OrderView view;
  view.order_id = order_id;
  view.row = db::find_order(connection, order_id);
  if (view.row) {
    view.timeline = order_timeline(*view.row, db::order_events_of(connection, order_id));
  }
  view.dead_letters = db::dead_letters_containing(connection, order_id, 20, k_payload_excerpt_bytes);
  if (!view.row) {
    return view;
  }
  if (!view.row->source_partition || !view.row->source_offset) {
    view.message_note = "the row records no source position";
    return view;
  }
  const auto topic = view.row->source_topic.value_or(options.topic);
  const auto partition = *view.row->source_partition;
  const auto offset = *view.row->source_offset;
  kafka::Reader reader(options.kafka);
  const auto marks = reader.watermarks(topic, partition, options.connect_timeout);
  if (offset < marks.low) {
    view.message_note = "offset " + std::to_string(offset) + " is below the log start " + std::to_string(marks.low) +
                        " of " + topic + "/" + std::to_string(partition) + ": deleted by retention";
    return view;
  }
  if (offset >= marks.high) {
    view.message_note = "offset " + std::to_string(offset) + " is beyond the log end " + std::to_string(marks.high) +
                        " of " + topic + "/" + std::to_string(partition) + " (was the topic recreated?)";
    return view;
  }
  auto messages = read_range(reader, topic, {partition, offset, offset + 1}, 1, options.connect_timeout);
  if (!messages.empty()) {
    view.message = std::move(messages.front());
  } else {
    view.message_note = "offset " + std::to_string(offset) + " of " + topic + "/" + std::to_string(partition) +
                        " holds no message: removed by compaction (or a transaction marker)";
  }
  return view;
}

Overview inspect_overview(const InspectOptions& options) {
  kafka::GroupAdmin admin(options.kafka);
  kafka::Reader reader(options.kafka);
  Overview overview;
  overview.topic = topic_view(options, admin, reader);
  std::optional<std::map<std::int32_t, std::int64_t>> stored;
  try {
    auto connection = open_database(options);
    overview.database = DatabaseView{connection.describe(), db::summarise_database(connection)};
    stored = db::stored_offsets(connection, options.group, options.topic);
  } catch (const Error& error) {
    // Missing, unseeded or unreachable: show the Kafka half anyway.
    overview.database.reset();
    overview.database_problem = error.what();
  }
  overview.lag_from_kafka = !stored.has_value();
  overview.group = group_view(options, overview.topic.topic, admin, stored ? &*stored : nullptr);
  return overview;
}

// ---- inspect --watch -------------------------------------------------------

InspectSession::InspectSession(InspectOptions options, WatchView view)
    : m_options(std::move(options)), m_view(view),
      m_admin(std::make_unique<kafka::GroupAdmin>(m_options.kafka)),
      m_reader(std::make_unique<kafka::Reader>(m_options.kafka)) {}

InspectSession::~InspectSession() = default;

std::optional<GroupProgress> InspectSession::sample_group(WatchSample& sample) {
  try {
    if (!m_admin) {
      m_admin = std::make_unique<kafka::GroupAdmin>(m_options.kafka);
      m_reader = std::make_unique<kafka::Reader>(m_options.kafka);
    }
    const auto metadata = m_admin->admin().metadata(m_options.connect_timeout);
    std::vector<std::int32_t> ids;
    for (const auto& topic : metadata.topics) {
      if (topic.name == m_options.topic && topic.ok()) {
        for (const auto& partition : topic.partitions) {
          ids.push_back(partition.id);
        }
      }
    }
    return group_progress(m_options, *m_admin, ids);
  } catch (const Error& error) {
    sample.kafka_problem = error.what();
    return std::nullopt;
  }
}

std::optional<TopicView> InspectSession::sample_topic(WatchSample& sample) {
  try {
    TopicView view;
    if (m_view == WatchView::overview) {
      view = topic_view(m_options, *m_admin, *m_reader);
    } else {
      const auto metadata = m_admin->admin().metadata(m_options.connect_timeout);
      view.brokers = metadata.brokers;
      view.topic = topic_state(*m_admin, *m_reader, metadata, m_options.topic, m_options.connect_timeout);
    }
    sample.topic_exists = view.topic.exists;
    sample.brokers = view.brokers.size();
    if (view.dlq.exists) {
      sample.dlq_messages = view.dlq.messages();
    }
    return view;
  } catch (const Error& error) {
    sample.kafka_problem = error.what();
    return std::nullopt;
  }
}

std::optional<std::map<std::int32_t, std::int64_t>> InspectSession::sample_database(WatchSample& sample) {
  try {
    if (!m_database) {
      m_database = open_database(m_options);
    }
    sample.database_target = m_database->describe();
    sample.database = db::summarise_database(*m_database);
    return db::stored_offsets(*m_database, m_options.group, m_options.topic);
  } catch (const Error& error) {
    // Gone, restarted or never seeded: connect again next time.
    m_database.reset();
    sample.database.reset();
    sample.database_problem = error.what();
    return std::nullopt;
  }
}

WatchSample InspectSession::sample() {
  WatchSample sample;
  sample.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now().time_since_epoch())
                     .count();
  sample.taken_at = domain::format_timestamp(
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
  sample.group.group = m_options.group;
  sample.group.topic = m_options.topic;
  // Each offset moves only forward and committed <= stored <= log end holds at every
  // moment, so reading them in that order shows them in that order too: the other
  // way round a running consumer's offsets would be newer than the log end beside them.
  auto progress = sample_group(sample);
  const auto stored = sample_database(sample);
  sample.lag_from_kafka = !stored.has_value();
  const auto topic = progress ? sample_topic(sample) : std::nullopt;
  if (topic) {
    // A topic that does not exist (yet) has no partitions: the group's state is still shown.
    sample.group = group_rows(m_options, topic->topic, std::move(*progress), stored ? &*stored : nullptr);
  }
  if (!sample.kafka_ok()) {
    // New clients for the next sample. After every broker of a cluster was
    // down, librdkafka 2.0 kept asking the leaders it knew from before, and the
    // restarted brokers answered "not leader" for minutes; new clients start
    // from the bootstrap servers and the current metadata.
    m_reader.reset();
    m_admin.reset();
  }
  return sample;
}

} // namespace foodpipe::pipeline
