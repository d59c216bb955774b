#include "pipeline/consume.hpp"

#include <algorithm>
#include <deque>
#include <exception>
#include <future>
#include <memory>
#include <set>
#include <string_view>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <unordered_set>

#include "core/backoff.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/signals.hpp"
#include "db/connection.hpp"
#include "db/conninfo.hpp"
#include "db/error.hpp"
#include "db/migrator.hpp"
#include "db/order_store.hpp"
#include "domain/order_json.hpp"
#include "kafka/admin.hpp"
#include "kafka/broker_probe.hpp"
#include "kafka/consumer.hpp"
#include "kafka/error.hpp"
#include "kafka/group_admin.hpp"
#include "kafka/message.hpp"
#include "kafka/replication.hpp"
#include "pipeline/consume_rules.hpp"
#include "pipeline/dead_letter_publisher.hpp"
#include "pipeline/metrics.hpp"

namespace foodpipe::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// How long one attempt waits for its dead letters' delivery reports inside the
// batch's transaction (well under the store's idle_in_transaction timeout).
constexpr auto k_dead_letter_wait = 10s;

// Fulfils a worker's promise however it leaves.
struct SetOnExit {
  std::promise<void>& promise;
  ~SetOnExit() { promise.set_value(); }
};

// Committed events by (status, result label) for foodpipe_consumer_events_total.
using EventCounts = std::map<std::pair<std::string, std::string>, std::uint64_t>;

EventCounts count_events(const db::Batch& batch, const std::vector<db::EventOutcome>& outcomes) {
  EventCounts counts;
  for (std::size_t i = 0; i < outcomes.size() && i < batch.events.size(); ++i) {
    ++counts[{batch.events[i].status, std::string(event_result_label(outcomes[i].verdict))}];
  }
  return counts;
}

// Where the job stands on one assigned partition.
struct PartitionState {
  bool ready = false;                   // its start offset is known and the fetcher is there
  std::optional<std::int64_t> stored;   // next_offset in the database (nullopt: no row yet)
  // The consumer's position: past every message taken into the batch and past
  // the offsets without a message that the fetcher skipped after them
  // (markers, aborted or compacted records, reported by partition EOF).
  // nullopt until the first message or EOF when there is no stored offset.
  std::optional<std::int64_t> position;
  // Set when the stored offset was found outside the log: the offset that
  // was gone. The fetcher was sent to the log start; the next message or EOF
  // tells where that is.
  std::optional<std::int64_t> out_of_range;
  // Where reading resumed after out_of_range when it is not `stored` (for
  // db::OffsetAdvance::read_from), and the unread ranges to record.
  std::optional<std::int64_t> read_from;
  std::vector<db::RetentionGap> skipped;
  Clock::time_point retry_at{};         // when not ready: no seek before this

  // The batch's offset work for this partition is pending (beyond its messages).
  [[nodiscard]] bool moved() const { return position && (position != stored || read_from || !skipped.empty()); }
};

class ConsumeJob final : public kafka::RebalanceHandler {
public:
  ConsumeJob(const ConsumeOptions& options, const ConsumeProgressCallback& progress)
      : m_options(options), m_progress(progress), m_backoff(options.backoff_initial, options.backoff_max) {
    m_limits.max_message_bytes = options.max_message_bytes;
  }
  // The consumer goes first: closing it may run on_revoke, which needs the rest.
  ~ConsumeJob() override { m_consumer.reset(); }
  ConsumeJob(const ConsumeJob&) = delete;
  ConsumeJob& operator=(const ConsumeJob&) = delete;

  ConsumeReport run();
  void start();
  [[nodiscard]] const char* stop_reason();
  ConsumeReport finish();

  void on_assign(const std::vector<std::int32_t>& partitions) override;
  void on_revoke(const std::vector<std::int32_t>& partitions) override;

private:
  void check_cluster();
  void ensure_dead_letter_topic(kafka::Admin& admin, const kafka::TopicInfo& source);
  void record_log_end();
  void compare_with_kafka_offsets();
  bool ensure_database();
  void drop_database(const std::string& why);
  using StoredOffsets = std::map<std::int32_t, std::optional<std::int64_t>>;
  std::map<std::int32_t, std::int64_t> start_offsets(const StoredOffsets& stored);
  std::optional<StoredOffsets> try_load_offsets(const std::vector<std::int32_t>& partitions);
  void adopt(const StoredOffsets& stored);
  void resolve_partitions();
  void handle(kafka::Message message);
  void handle_end_of_partition(std::int32_t partition, std::int64_t offset);
  void handle_out_of_range(std::int32_t partition, std::int64_t offset);
  void resume_after_out_of_range(std::int32_t partition, PartitionState& state, std::int64_t first);
  void restart_fetchers();
  void note_offset_moved();
  [[nodiscard]] bool pending() const { return !m_batch.empty() || m_offsets_moved; }
  // One batch's database work: its rows and the offsets it moves.
  struct BatchWrite {
    db::Batch batch;
    std::map<std::int32_t, std::int64_t> next_offsets;
    std::set<std::int32_t> touched;
    std::uint64_t skipped = 0;
  };
  void write_batch();
  bool flush(bool single_attempt, std::optional<BatchWrite> prepared = std::nullopt);
  enum class Attempt { committed, given_up, failed }; // failed: may be tried again
  [[nodiscard]] BatchWrite prepare_write() const;
  // A batch whose transaction runs on a worker thread while this thread reads
  // and decodes the next one (write_ahead). The stored offsets of its
  // partitions are already at next_offsets; any outcome but a commit makes
  // every partition start again from the database (settle_oldest).
  struct InFlight {
    struct Outcome {
      std::optional<db::WriteResult> written; // the write ran (stale or not)
      bool open = false; // left open: settle_oldest delivers dead letters, then commits
      std::exception_ptr error;
    };
    db::OrderStore* store = nullptr; // m_store while it is the oldest, else m_spare_store
    bool beside = false;             // started beside the batch before it (write_beside)
    BatchWrite write;
    std::uint64_t messages = 0;
    // (partition, offset, timestamp) of each message, for the dead letters'
    // original-timestamp header: the messages themselves are released at once
    // (they pin librdkafka's fetch buffers).
    std::vector<std::tuple<std::int32_t, std::int64_t, std::int64_t>> times;
    Clock::time_point started;
    std::future<Outcome> outcome;
    // Ready once the worker is done (its offset rows taken, or it failed): a
    // batch written beside this one waits for it. Not the outcome itself: each
    // worker keeps what it waits for, and a chain of outcomes would keep
    // every batch's result alive.
    std::shared_future<void> worker_done;
  };
  [[nodiscard]] bool can_write_ahead(const BatchWrite& write) const;
  [[nodiscard]] bool can_write_beside(const BatchWrite& write);
  bool ensure_spare_database();
  void write_ahead(BatchWrite write);
  static InFlight::Outcome write_and_commit(db::OrderStore& store, const db::Batch& batch,
                                            std::promise<void> done);
  static InFlight::Outcome write_beside(db::OrderStore& store, const db::Batch& batch,
                                        const std::shared_future<void>& before, std::promise<void> done);
  bool settle_in_flight();
  bool settle_oldest();
  bool finish_open_write(const InFlight& flight, db::WriteResult& result);
  void discard_in_flight() noexcept;
  bool abandon_in_flight(const std::string& why);
  Attempt write_once(BatchWrite& write);
  [[nodiscard]] bool deliver_dead_letters(const db::WriteResult& result,
                                          const DeadLetterPublisher::Timestamps& timestamps);
  void advance_stored(const std::map<std::int32_t, std::int64_t>& next_offsets);
  void committed(const BatchWrite& write, std::uint64_t messages, const db::WriteResult& result,
                 Clock::time_point write_started);
  void count_stale_batch();
  bool give_up_batch();
  void rewind(const std::set<std::int32_t>& partitions, const std::string& why);
  [[nodiscard]] static DeadLetterPublisher::Timestamps message_timestamps(const std::vector<kafka::Message>& batch);
  bool reached_end();
  void wait_polling(std::chrono::milliseconds how_long);
  // Assigned partitions whose start is known; the ones not paused on purpose.
  [[nodiscard]] std::vector<std::int32_t> ready_partitions() const;
  void report_progress(bool force);
  [[nodiscard]] bool batch_due() const;

  ConsumeOptions m_options;
  ConsumeProgressCallback m_progress;
  domain::DecodeLimits m_limits;
  Backoff m_backoff;

  std::unique_ptr<kafka::Consumer> m_consumer;
  std::unique_ptr<DeadLetterPublisher> m_dlq;
  // The polling thread's connection, and the oldest batch in flight's. The
  // spare writes a second batch beside it; when the oldest settles, the two
  // swap (heap objects: a store keeps a reference to its connection).
  std::unique_ptr<db::Connection> m_db;
  std::unique_ptr<db::OrderStore> m_store;
  std::unique_ptr<db::Connection> m_spare_db;
  std::unique_ptr<db::OrderStore> m_spare_store;
  Clock::time_point m_next_spare_attempt{};
  int m_spare_failures = 0; // in a row
  Clock::time_point m_next_db_attempt{};
  bool m_waiting_for_db = false;

  std::map<std::int32_t, PartitionState> m_partitions; // the current assignment
  std::vector<kafka::Message> m_batch;
  bool m_offsets_moved = false; // a position moved without a message (see PartitionState::moved)
  Clock::time_point m_batch_started{}; // when the batch's first message or offset move came
  std::deque<kafka::Message> m_held; // arrived while a batch was being retried
  std::deque<InFlight> m_in_flight; // oldest first; at most two (can_write_beside)
  bool m_flushing = false;
  bool m_revoked_while_flushing = false;

  std::map<std::int32_t, std::int64_t> m_log_end; // --until-end: high watermarks at start
  std::map<std::int32_t, std::int64_t> m_log_start;
  std::map<std::int32_t, std::int64_t> m_stale_at_start; // stored offsets past the log end at start
  Clock::time_point m_next_end_check{};

  // A batch whose COMMIT reply was lost: counted once the stored offsets say
  // whether it committed (settle_ambiguous_commit).
  struct AmbiguousCommit {
    std::map<std::int32_t, std::int64_t> next_offsets;
    std::uint64_t messages = 0;
    std::uint64_t skipped = 0;
    db::WriteResult result;
    EventCounts events;
  };
  std::optional<AmbiguousCommit> m_ambiguous;
  void settle_ambiguous_commit(const std::map<std::int32_t, std::int64_t>& stored);
  void count_committed(std::uint64_t messages, std::uint64_t skipped, const db::WriteResult& result,
                       const EventCounts& events);
  void record_event_dead_letters(const db::Batch& batch, db::WriteResult& result);

  ConsumeReport m_report;
  Clock::time_point m_started{};
  Clock::time_point m_last_message{};
  // Between joining (or a revocation) and the next assignment: the group is
  // forming, so the idle clock does not run. A coordinator that dies makes
  // this last a session timeout plus the new coordinator's wait for the old
  // members (20-25 s on the three-node test cluster), and a consumer that
  // called that idle would stop with the lag unread.
  bool m_joining = true;
  Clock::time_point m_next_progress{};
};

// ---------------------------------------------------------------------------
// Start-up checks: reachable brokers, a broker this librdkafka can group with,
// an existing topic.

void ConsumeJob::check_cluster() {
  kafka::Admin admin(m_options.kafka);
  (void)admin.metadata(m_options.connect_timeout);

  const auto protocol = kafka::property_or(m_options.kafka.properties, "security.protocol", "plaintext");
  if (protocol == "plaintext" || protocol == "PLAINTEXT") {
    try {
      const auto address = kafka::first_bootstrap_server(m_options.kafka.bootstrap_servers);
      const auto versions = kafka::probe_api_versions(address.host, address.port, m_options.connect_timeout);
      if (const auto problem = kafka::group_incompatibility(versions, kafka::librdkafka_version_number(),
                                                            m_options.kafka.bootstrap_servers)) {
        throw kafka::KafkaError(*problem, kafka::errc::unsupported_feature, true);
      }
    } catch (const std::runtime_error& error) {
      if (dynamic_cast<const Error*>(&error) != nullptr) {
        throw;
      }
      log::debug("consume", "protocol probe failed", {{"error", error.what()}});
    }
  }

  const auto deadline = Clock::now() + m_options.connect_timeout;
  for (;;) {
    const auto metadata = admin.metadata(m_options.connect_timeout, m_options.topic);
    if (!metadata.topics.empty() && metadata.topics[0].ok() &&
        !metadata.topics[0].partitions.empty()) {
      ensure_dead_letter_topic(admin, metadata.topics[0]);
      return;
    }
    if (!metadata.topics.empty() && metadata.topics[0].error == kafka::errc::topic_authorization_failed) {
      throw kafka::KafkaError("not authorised to read topic " + m_options.topic +
                                  "; check the ACLs of the principal in -X sasl.username",
                              kafka::errc::topic_authorization_failed, true);
    }
    if (Clock::now() >= deadline || stop_requested()) {
      throw kafka::KafkaError("topic " + m_options.topic + " does not exist at " + m_options.kafka.bootstrap_servers +
                                  "; create it with 'foodpipe produce --topic " + m_options.topic +
                                  "' or check --topic",
                              kafka::errc::unknown_topic_or_partition, true);
    }
    std::this_thread::sleep_for(500ms);
  }
}

// A topic someone else wrote usually has no <topic>.dlq: without one, the first
// bad message would hold its batch back for good. It gets the topic's
// partition count and replication factor, and the min.insync.replicas foodpipe
// gives such a factor (2 of 3: one broker may fail). Not being allowed to create it is
// only a warning: the batch then waits, saying why, until someone does.
void ConsumeJob::ensure_dead_letter_topic(kafka::Admin& admin, const kafka::TopicInfo& source) {
  const std::string dlq = m_options.topic + ".dlq";
  const auto metadata = admin.metadata(m_options.connect_timeout, dlq);
  if (!metadata.topics.empty() && metadata.topics[0].ok() &&
      !metadata.topics[0].partitions.empty()) {
    return;
  }
  const int partitions = static_cast<int>(source.partitions.size());
  kafka::Replication replication;
  replication.replication_factor = std::max<int>(1, static_cast<int>(source.partitions.front().replicas.size()));
  replication.min_insync_replicas = kafka::default_min_insync_replicas(replication.replication_factor);
  try {
    if (admin.create_topic(dlq, partitions, replication.replication_factor, replication.topic_configs(),
                           m_options.connect_timeout) == kafka::Admin::CreateResult::created) {
      log::info("consume", "created the dead-letter topic",
                {{"topic", dlq},
                 {"partitions", std::to_string(partitions)},
                 {"replicas", std::to_string(replication.replication_factor)},
                 {"min_insync_replicas", std::to_string(replication.min_insync_replicas)}});
    }
  } catch (const kafka::KafkaError& error) {
    log::warning("consume", "the dead-letter topic does not exist and cannot be created; a bad message will wait "
                            "until it does",
                 {{"topic", dlq}, {"error", error.what()}});
  }
}

void ConsumeJob::record_log_end() {
  kafka::Admin admin(m_options.kafka);
  const auto metadata = admin.metadata(m_options.connect_timeout, m_options.topic);
  for (const auto& partition : metadata.topics.at(0).partitions) {
    const auto marks = m_consumer->query_watermarks(m_options.topic, partition.id, m_options.connect_timeout);
    m_log_start[partition.id] = marks.low;
    m_log_end[partition.id] = marks.high;
  }
  // A stored offset past the log end means the log was recreated or truncated
  // under it: that partition is not caught up until it has been re-read.
  auto probe = db::Connection::connect(m_options.db_conninfo, std::chrono::seconds(5));
  m_stale_at_start = stale_offsets(m_log_end, db::OrderStore(probe).load_offsets(m_options.group, m_options.topic));
}

// The database's offsets are the ones that count; Kafka's committed offsets only
// mirror them for Kafka's tools. An operator who moved Kafka's (e.g. with
// kafka-consumer-groups --reset-offsets) learns here that they are not followed.
void ConsumeJob::compare_with_kafka_offsets() {
  try {
    kafka::GroupAdmin admin(m_options.kafka);
    const auto metadata = admin.admin().metadata(m_options.connect_timeout, m_options.topic);
    std::vector<std::int32_t> partitions;
    for (const auto& partition : metadata.topics.at(0).partitions) {
      partitions.push_back(partition.id);
    }
    const auto in_kafka = admin.committed_offsets(m_options.group, m_options.topic, partitions,
                                                  m_options.connect_timeout);
    auto probe = db::Connection::connect(m_options.db_conninfo, std::chrono::seconds(5));
    const auto in_database = db::OrderStore(probe).load_offsets(m_options.group, m_options.topic);
    std::string differences;
    for (const auto& [partition, offset] : in_kafka) {
      const auto it = in_database.find(partition);
      if (it == in_database.end() || it->second != offset) {
        differences += (differences.empty() ? "" : ", ") + std::to_string(partition) + ": kafka " +
                       std::to_string(offset) + " database " +
                       (it == in_database.end() ? std::string("none") : std::to_string(it->second));
      }
    }
    if (!differences.empty()) {
      // Not a fault: after a crash the last commit to Kafka may be missing.
      // But an operator who moved Kafka's offsets learns they are not followed.
      log::info("consume",
                "Kafka's committed offsets differ from the database's (a commit to Kafka was lost, or they were "
                "moved); following the database (move both with 'foodpipe offsets')",
                   {{"group", m_options.group}, {"topic", m_options.topic}, {"partitions", differences}});
    }
  } catch (const Error& error) {
    log::debug("consume", "could not compare Kafka's committed offsets with the database's",
               {{"error", error.what()}});
  }
}

// ---------------------------------------------------------------------------
// The database connection: (re)connects lazily, never faster than the backoff.

bool ConsumeJob::ensure_database() {
  if (m_store && m_db && m_db->is_open()) {
    return true;
  }
  if (Clock::now() < m_next_db_attempt) {
    return false;
  }
  try {
    m_store.reset();
    m_db.reset();
    m_db = std::make_unique<db::Connection>(db::Connection::connect(m_options.db_conninfo, std::chrono::seconds(5)));
    m_store = std::make_unique<db::OrderStore>(*m_db);
    m_store->set_status_transitions(status_transitions());
    if (m_waiting_for_db) {
      log::info("consume", "database is back; resuming", {{"attempts", std::to_string(m_backoff.attempts())}});
    }
    m_waiting_for_db = false;
    m_backoff.reset();
    return true;
  } catch (const db::DbError& error) {
    if (!error.is_transient()) {
      throw;
    }
    drop_database(error.what());
    return false;
  }
}

// Only with nothing in flight: both connections go.
void ConsumeJob::drop_database(const std::string& why) {
  m_store.reset();
  m_db.reset();
  m_spare_store.reset();
  m_spare_db.reset();
  m_waiting_for_db = true;
  ++m_report.database_retries;
  if (m_options.metrics != nullptr) {
    m_options.metrics->database_retries.inc();
  }
  const auto wait = m_backoff.next();
  m_next_db_attempt = Clock::now() + wait;
  log::warning("consume", "database unavailable; consumption paused, retrying",
               {{"attempt", std::to_string(m_backoff.attempts())},
                {"retry_in_ms", std::to_string(wait.count())},
                {"error", why}});
}

// ---------------------------------------------------------------------------
// Rebalances. Eager protocol: every rebalance revokes everything first.

std::map<std::int32_t, std::int64_t> ConsumeJob::start_offsets(const StoredOffsets& stored) {
  const auto no_offset =
      m_options.from == ConsumeOptions::StartFrom::latest ? kafka::k_offset_end : kafka::k_offset_beginning;
  std::map<std::int32_t, std::int64_t> starts;
  for (const auto& [partition, offset] : stored) {
    starts[partition] = offset.value_or(no_offset);
  }
  return starts;
}

void ConsumeJob::on_assign(const std::vector<std::int32_t>& partitions) {
  ++m_report.rebalances;
  m_joining = false;
  m_last_message = Clock::now(); // the idle clock starts again with the assignment
  if (m_options.metrics != nullptr) {
    m_options.metrics->rebalances.inc();
  }
  m_partitions.clear();
  for (const auto partition : partitions) {
    m_partitions[partition] = PartitionState{};
  }
  // Usually the database answers at once and the fetchers start at the right
  // place; otherwise they are held until resolve_partitions() can ask it.
  const auto stored = try_load_offsets(partitions);
  if (!stored) {
    std::map<std::int32_t, std::int64_t> placeholders;
    for (const auto partition : partitions) {
      placeholders[partition] = kafka::k_offset_end;
    }
    m_consumer->assign(m_options.topic, placeholders, /*hold=*/true);
    return;
  }
  adopt(*stored);
  m_consumer->assign(m_options.topic, start_offsets(*stored));
}

// The stored next offsets of these partitions (nullopt inside: no row yet), or
// nullopt when the database cannot be asked right now.
std::optional<ConsumeJob::StoredOffsets> ConsumeJob::try_load_offsets(const std::vector<std::int32_t>& partitions) {
  settle_in_flight(); // one connection, one thread at a time
  try {
    if (!ensure_database()) {
      return std::nullopt;
    }
    const auto offsets = m_store->load_offsets(m_options.group, m_options.topic);
    settle_ambiguous_commit(offsets);
    StoredOffsets stored;
    for (const auto partition : partitions) {
      const auto it = offsets.find(partition);
      stored[partition] = it == offsets.end() ? std::nullopt : std::optional<std::int64_t>(it->second);
    }
    return stored;
  } catch (const db::DbError& error) {
    if (!error.is_transient()) {
      throw;
    }
    drop_database(error.what());
    return std::nullopt;
  }
}

// The events the store did not apply become dead letters in the batch's own
// transaction, so that every event stays applied, a duplicate or a dead
// letter (rule 2 of docs/architecture.md), and go to <topic>.dlq with the rest.
// unknown_order is not held back: an order and its events share a partition
// and the order comes first, so waiting cannot bring it; a replay can.
void ConsumeJob::record_event_dead_letters(const db::Batch& batch, db::WriteResult& result) {
  if (batch.events.empty()) {
    return;
  }
  auto letters = event_dead_letters(batch, result.events);
  if (letters.empty()) {
    return;
  }
  result.dead_letters_recorded += m_store->record_dead_letters(batch.group, letters);
  result.dead_letters.insert(result.dead_letters.end(), std::make_move_iterator(letters.begin()),
                             std::make_move_iterator(letters.end()));
}

void ConsumeJob::count_committed(std::uint64_t messages, std::uint64_t skipped, const db::WriteResult& result,
                                 const EventCounts& events) {
  ++m_report.batches;
  m_report.consumed += messages;
  m_report.skipped_offsets += skipped;
  if (m_options.metrics != nullptr) {
    m_options.metrics->skipped_offsets.inc(skipped);
  }
  m_report.applied += result.applied;
  m_report.duplicates += result.duplicates;
  m_report.events_applied += result.events_applied;
  m_report.event_duplicates += result.event_duplicates;
  for (const auto& letter : result.dead_letters) {
    ++m_report.dead_letters_by_reason[std::string(domain::to_string(letter.reason))];
  }
  m_report.latency_ms.merge(result.processing_latency_ms);
  if (auto* metrics = m_options.metrics) {
    // messages_total counts messages: events are among them.
    metrics->count_batch(result.applied + result.events_applied, result.duplicates + result.event_duplicates,
                         result.dead_letters.size());
    for (const auto& [labels, count] : events) {
      metrics->events.with({labels.first, labels.second}).inc(count);
    }
    for (const auto& letter : result.dead_letters) {
      metrics->dead_letters_by_reason.with({std::string(domain::to_string(letter.reason))}).inc();
    }
  }
}

// The batch committed exactly when every partition it touched is stored at
// the batch's next offset (no one else can have moved them there: the update
// was conditional on the offsets the batch started from).
void ConsumeJob::settle_ambiguous_commit(const std::map<std::int32_t, std::int64_t>& stored) {
  if (!m_ambiguous) {
    return;
  }
  const bool committed = std::all_of(m_ambiguous->next_offsets.begin(), m_ambiguous->next_offsets.end(),
                                     [&stored](const auto& entry) {
                                       const auto it = stored.find(entry.first);
                                       return it != stored.end() && it->second == entry.second;
                                     });
  if (committed) {
    count_committed(m_ambiguous->messages, m_ambiguous->skipped, m_ambiguous->result, m_ambiguous->events);
  }
  log::info("consume", committed ? "the batch whose commit was in doubt did commit"
                                 : "the batch whose commit was in doubt did not commit; re-reading it",
            {{"messages", std::to_string(m_ambiguous->messages)}});
  m_ambiguous.reset();
}

void ConsumeJob::adopt(const StoredOffsets& stored) {
  for (const auto& [partition, offset] : stored) {
    auto& state = m_partitions[partition];
    state = PartitionState{};
    state.ready = true;
    state.stored = offset;
    state.position = offset;
    std::erase_if(m_held, [partition = partition](const kafka::Message& m) { return m.partition() == partition; });
  }
}

void ConsumeJob::on_revoke(const std::vector<std::int32_t>& /*partitions*/) {
  m_joining = true;
  settle_in_flight(); // while the partitions are still ours
  if (m_flushing) {
    // flush() notices and drops its batch: the next owner re-reads it from
    // the offsets in the database.
    m_revoked_while_flushing = true;
  } else if (pending()) {
    // Finish the batch in flight while the partitions are still ours.
    const auto messages = m_batch.size();
    if (!flush(/*single_attempt=*/true)) {
      log::warning("consume", "batch dropped at revocation; the next owner re-reads it",
                   {{"messages", std::to_string(messages)}});
    }
  }
  m_batch.clear();
  m_offsets_moved = false;
  m_held.clear();
  m_partitions.clear();
  if (m_options.metrics != nullptr) {
    m_options.metrics->set_lag(m_options.topic, m_options.group, {});
  }
}

// Partitions that are held (database unknown at assignment, or rewound after a
// stale or ambiguous batch) get their start offset from the database.
void ConsumeJob::resolve_partitions() {
  std::vector<std::int32_t> waiting;
  const auto now = Clock::now();
  for (const auto& [partition, state] : m_partitions) {
    if (!state.ready && now >= state.retry_at) {
      waiting.push_back(partition);
    }
  }
  if (waiting.empty() && !m_ambiguous) {
    return;
  }
  const auto stored = try_load_offsets(waiting); // also settles an ambiguous commit
  if (!stored || waiting.empty()) {
    return;
  }
  adopt(*stored);
  restart_fetchers();
  log::info("consume", "resumed from the offsets in the database", {{"partitions", std::to_string(stored->size())}});
}

// Forgets what is in flight for these partitions and makes them start again
// from the database's offsets: after a stale batch (someone else owns them) or
// a commit whose outcome is unknown (the connection died during COMMIT).
void ConsumeJob::rewind(const std::set<std::int32_t>& partitions, const std::string& why) {
  std::vector<std::int32_t> held;
  for (const auto partition : partitions) {
    if (auto it = m_partitions.find(partition); it != m_partitions.end()) {
      it->second = PartitionState{};
      held.push_back(partition);
    }
  }
  m_offsets_moved = false;
  for (const auto& [partition, state] : m_partitions) {
    m_offsets_moved = m_offsets_moved || state.moved();
  }
  m_consumer->pause(m_options.topic, held);
  std::erase_if(m_held, [&](const kafka::Message& m) { return partitions.count(m.partition()) != 0; });
  log::warning("consume", "re-reading from the offsets in the database",
               {{"partitions", std::to_string(held.size())}, {"why", why}});
}

// ---------------------------------------------------------------------------
// Messages and batches.

void ConsumeJob::handle(kafka::Message message) {
  if (!message.ok()) {
    if (message.partition_eof()) {
      handle_end_of_partition(message.partition(), message.offset());
      return;
    }
    if (message.offset_out_of_range()) {
      handle_out_of_range(message.partition(), message.offset());
      return;
    }
    const auto reason = message.event_text();
    if (message.access_refused()) {
      throw kafka::KafkaError("Kafka refused access (" + message.error_name() + "): " + reason +
                                  "; check -X sasl.username/sasl.password and the ACLs for group " + m_options.group,
                              message.error_code(), true);
    }
    log::warning("consume", "consumer error", {{"error", message.error_name()}, {"reason", reason}});
    return;
  }
  m_last_message = Clock::now();
  const auto it = m_partitions.find(message.partition());
  if (it == m_partitions.end() || !it->second.ready) {
    return; // not ours, or held until its offset is known: it will be fetched again
  }
  auto& state = it->second;
  if (m_batch.size() >= remaining(m_options.max_messages, m_report.consumed)) {
    return; // --max-messages reached; not consumed, not committed
  }
  if (state.out_of_range) {
    resume_after_out_of_range(message.partition(), state, message.offset());
  } else if (state.position && message.offset() < *state.position) {
    return; // fetched before a seek
  }
  // A message past the position is normal: the offsets in between hold no
  // message for us (markers, aborted or compacted records).
  state.position = message.offset() + 1;
  if (!pending()) {
    m_batch_started = Clock::now();
  }
  m_batch.push_back(std::move(message));
}

// The fetcher reached the end of what can be read now. Its position is past
// any markers and holes at the tail: the partition is caught up there.
void ConsumeJob::handle_end_of_partition(std::int32_t partition, std::int64_t offset) {
  const auto it = m_partitions.find(partition);
  if (it == m_partitions.end() || !it->second.ready || offset < 0 ||
      m_batch.size() >= remaining(m_options.max_messages, m_report.consumed)) {
    return;
  }
  auto& state = it->second;
  if (state.out_of_range) {
    resume_after_out_of_range(partition, state, offset);
  } else if (state.position && offset <= *state.position) {
    return;
  }
  state.position = offset;
  if (state.moved()) {
    note_offset_moved();
  }
}

void ConsumeJob::note_offset_moved() {
  if (!pending()) {
    m_batch_started = Clock::now();
  }
  m_offsets_moved = true;
}

// The broker says the partition's next offset is not in its log. The fetcher
// has stopped; it is sent to the log start, and the first message or EOF from
// there says what was lost (resume_after_out_of_range).
void ConsumeJob::handle_out_of_range(std::int32_t partition, std::int64_t offset) {
  const auto it = m_partitions.find(partition);
  if (it == m_partitions.end() || !it->second.ready) {
    return;
  }
  auto& state = it->second;
  if (offset < 0) {
    // A logical start (beginning or end) could not be resolved; try again.
    log::warning("consume", "cannot find where the partition starts; retrying",
                 {{"topic", m_options.topic}, {"partition", std::to_string(partition)}});
    state = PartitionState{};
    state.retry_at = Clock::now() + 1s;
    m_consumer->pause(m_options.topic, {partition});
    return;
  }
  state.out_of_range = state.position.value_or(offset);
  restart_fetchers();
}

// Sets the whole assignment again, each partition where the job stands on it:
// a ready one at its position, one whose offset left the log at the log start,
// one not ready paused (until resolve_partitions knows its start). librdkafka
// 2.0 cannot seek a partition whose fetcher an offset reset stopped; a new
// assignment restarts every fetcher (what they had pre-fetched is fetched again).
void ConsumeJob::restart_fetchers() {
  std::map<std::int32_t, std::int64_t> offsets;
  std::vector<std::int32_t> held;
  for (const auto& [id, state] : m_partitions) {
    if (!state.ready) {
      offsets[id] = kafka::k_offset_end; // a placeholder
      held.push_back(id);
    } else if (state.out_of_range) {
      offsets[id] = kafka::k_offset_beginning;
    } else if (state.position) {
      offsets[id] = *state.position;
    } else {
      offsets[id] = start_offsets({{id, state.stored}}).at(id);
    }
  }
  m_consumer->reassign(m_options.topic, offsets, held);
}

// `first`: the offset of the first message (or the EOF) read from the log
// start after the stored offset was found outside the log.
void ConsumeJob::resume_after_out_of_range(std::int32_t partition, PartitionState& state, std::int64_t first) {
  const std::int64_t gone = *state.out_of_range;
  state.out_of_range.reset();
  // The fetch that brought `first` also brought the log start; holes before
  // `first` (compaction) are not losses.
  std::int64_t log_start = first;
  if (const auto marks = m_consumer->cached_watermarks(m_options.topic, partition); marks && marks->first < first) {
    log_start = marks->first;
  }
  if (gone < log_start) {
    state.skipped.push_back({partition, gone, log_start});
    log::warning("consume", "offsets removed by retention before this group read them; continuing from the log start",
                 {{"topic", m_options.topic},
                  {"partition", std::to_string(partition)},
                  {"from", std::to_string(gone)},
                  {"to", std::to_string(log_start)},
                  {"offsets", std::to_string(log_start - gone)}});
  } else {
    // Past the end: the log was truncated, or the topic deleted and created
    // again, below the stored offset. Re-reading from the start loses
    // nothing (what was applied before is an exact duplicate now).
    state.read_from = log_start;
    log::warning("consume",
                 "the stored offset is past the end of the log (topic recreated or log truncated); "
                 "re-reading from the log start",
                 {{"topic", m_options.topic},
                  {"partition", std::to_string(partition)},
                  {"stored", std::to_string(gone)},
                  {"log_start", std::to_string(log_start)}});
  }
  state.position = log_start;
  note_offset_moved();
}

// The clock is read only for a pending batch, as before the rule moved out.
bool ConsumeJob::batch_due() const {
  if (!pending()) {
    return false;
  }
  return pipeline::batch_due(true, m_batch.size(), m_options.batch_size,
                             remaining(m_options.max_messages, m_report.consumed), Clock::now() - m_batch_started,
                             m_options.batch_time);
}

DeadLetterPublisher::Timestamps ConsumeJob::message_timestamps(const std::vector<kafka::Message>& batch) {
  DeadLetterPublisher::Timestamps timestamps;
  for (const auto& message : batch) {
    timestamps[{message.partition(), message.offset()}] = message.timestamp().ms;
  }
  return timestamps;
}

// Writes the batch: orders, dead letters, offsets (and skipped ranges) in one
// transaction. Returns false when the batch was given up (single attempt
// failed, revoked, or stopping); its messages are then re-read from the stored
// offsets.
bool ConsumeJob::flush(bool single_attempt, std::optional<BatchWrite> prepared) {
  if (!settle_in_flight()) {
    return false; // the batch went with the one before it
  }
  if (!pending()) {
    return true;
  }
  m_flushing = true;
  m_revoked_while_flushing = false;
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{m_flushing};

  auto write = prepared ? std::move(*prepared) : prepare_write();
  for (;;) {
    if (m_revoked_while_flushing) {
      return give_up_batch();
    }
    switch (write_once(write)) {
    case Attempt::committed:
      return true;
    case Attempt::given_up:
      return false;
    case Attempt::failed:
      break;
    }
    if (single_attempt || stop_requested()) {
      return give_up_batch();
    }
    // Keep the group membership alive while waiting, without taking more work.
    m_consumer->pause(m_options.topic, m_consumer->assignment());
    wait_polling(std::max(std::chrono::duration_cast<std::chrono::milliseconds>(m_next_db_attempt - Clock::now()), 10ms));
    if (!m_revoked_while_flushing) {
      m_consumer->resume(m_options.topic, ready_partitions());
    }
  }
}

ConsumeJob::BatchWrite ConsumeJob::prepare_write() const {
  BatchWrite write;
  write.batch.group = m_options.group;
  write.batch.topic = m_options.topic;
  write.batch.orders.reserve(m_batch.size()); // most messages are orders: one allocation
  for (const auto& message : m_batch) {
    // A message without headers (older foodpipe, the Python original) is
    // classified without librdkafka parsing anything; see docs/messages.md.
    const auto type = domain::classify_message(message.header(domain::k_type_header.data()),
                                               message.header(domain::k_schema_version_header.data()));
    add_typed_message(write.batch, type, message.partition(), message.offset(), message.optional_key(),
                      message.optional_value(), m_limits);
  }
  // Every partition whose position moved: by its messages, or past offsets
  // without one.
  for (const auto& [partition, state] : m_partitions) {
    if (!state.ready || !state.moved()) {
      continue;
    }
    write.batch.offsets.push_back({partition, state.stored, *state.position, state.read_from});
    write.next_offsets[partition] = *state.position;
    write.touched.insert(partition);
    for (const auto& range : state.skipped) {
      write.batch.skipped.push_back(range);
      write.skipped += static_cast<std::uint64_t>(range.to - range.from);
    }
  }
  return write;
}

// Forgets the batch; its messages are re-read from the stored offsets.
bool ConsumeJob::give_up_batch() {
  m_batch.clear();
  m_offsets_moved = false;
  m_dlq->forget();
  return false;
}

// One attempt at the batch's transaction. A database or dead-letter topic
// that is away for now is `failed` (the backoff says when to try again).
ConsumeJob::Attempt ConsumeJob::write_once(BatchWrite& write) {
  std::optional<db::WriteResult> written;
  try {
    if (!ensure_database()) {
      return Attempt::failed;
    }
    const auto write_started = Clock::now();
    written = m_store->write(write.batch);
    auto& result = *written;
    if (result.stale) {
      count_stale_batch();
      give_up_batch();
      rewind(write.touched, "another consumer moved the stored offsets (this one lost the partitions)");
      return Attempt::given_up;
    }
    record_event_dead_letters(write.batch, result);
    if (!deliver_dead_letters(result, message_timestamps(m_batch))) {
      m_store->rollback();
      give_up_batch();
      return Attempt::given_up;
    }
    m_store->commit();
    m_dlq->forget();
    advance_stored(write.next_offsets);
    committed(write, m_batch.size(), result, write_started);
    m_batch.clear();
    m_offsets_moved = false;
    return Attempt::committed;
  } catch (const db::DbError& error) {
    if (!error.is_transient()) {
      if (m_store) {
        m_store->rollback();
      }
      throw;
    }
    if (written && !written->stale) {
      // The connection died after the write: the COMMIT may or may not
      // have happened. The stored offsets decide, so re-read from them.
      auto events = count_events(write.batch, written->events);
      m_ambiguous = AmbiguousCommit{write.next_offsets, m_batch.size(), write.skipped, std::move(*written),
                                    std::move(events)};
      give_up_batch();
      drop_database(error.what());
      rewind(write.touched, "the outcome of a commit is unknown");
      return Attempt::given_up;
    }
    drop_database(error.what());
  } catch (const kafka::KafkaError& error) {
    if (error.fatal()) {
      throw;
    }
    if (m_store) {
      m_store->rollback();
    }
    log::warning("consume", "dead-letter topic unavailable; retrying the batch", {{"error", error.what()}});
    m_next_db_attempt = Clock::now() + m_backoff.next();
  }
  return Attempt::failed;
}

// Publishes the batch's dead letters to <topic>.dlq and waits for them, inside
// the open transaction. False when it gave up (stopping); throws a non-fatal
// KafkaError when they could not all be delivered.
bool ConsumeJob::deliver_dead_letters(const db::WriteResult& result,
                                      const DeadLetterPublisher::Timestamps& timestamps) {
  const auto truncated_before = m_dlq->truncated();
  const auto outcome = m_dlq->publish(result.dead_letters, timestamps, k_dead_letter_wait,
                                      [] { return !stop_requested(); });
  if (const auto cut = m_dlq->truncated() - truncated_before; cut > 0) {
    m_report.dead_letters_truncated += cut;
    if (m_options.metrics != nullptr) {
      m_options.metrics->dead_letters_truncated.inc(cut);
    }
  }
  if (outcome == DeadLetterPublisher::Outcome::gave_up) {
    return false;
  }
  if (outcome == DeadLetterPublisher::Outcome::failed) {
    throw kafka::KafkaError("could not deliver every dead letter to " + m_dlq->topic() +
                                " (is the topic there? create it with 'compose/kafka-tool topics --create "
                                "--topic " + m_dlq->topic() + "')",
                            kafka::errc::message_timed_out, false, true);
  }
  return true;
}

// The batch committed: its offsets are the stored ones now.
// The batch's offsets are the stored ones now (after its commit, or as soon as
// it is written ahead: write_ahead).
void ConsumeJob::advance_stored(const std::map<std::int32_t, std::int64_t>& next_offsets) {
  for (const auto& [partition, next] : next_offsets) {
    if (auto it = m_partitions.find(partition); it != m_partitions.end()) {
      it->second.stored = next;
      it->second.read_from.reset();
      it->second.skipped.clear();
    }
  }
}

// The batch of `messages` committed: counted, and its offsets shown to Kafka.
void ConsumeJob::committed(const BatchWrite& write, std::uint64_t messages, const db::WriteResult& result,
                           Clock::time_point write_started) {
  if (m_options.metrics != nullptr) {
    m_options.metrics->batch_commit.observe(std::chrono::duration<double>(Clock::now() - write_started).count());
  }
  count_committed(messages, write.skipped, result, count_events(write.batch, result.events));
  // Only so that Kafka's own tools show the group's lag.
  m_consumer->commit_async(m_options.topic, write.next_offsets);
  // The batch came out of the pre-fetch queue: have it refilled now, not
  // up to a second later, so that a small queue (little memory) keeps
  // the writer fed.
  m_consumer->nudge_fetcher();
}

void ConsumeJob::count_stale_batch() {
  ++m_report.stale_batches;
  if (m_options.metrics != nullptr) {
    m_options.metrics->stale_batches.inc();
  }
}

// ---------------------------------------------------------------------------
// Writing ahead. Decoding a batch and encoding its COPY rows is client work
// that would otherwise run in series with the server's (the client waits while
// the server ingests and commits, the server waits while the client decodes):
// with a batch's transaction on a worker thread, the next batch is read and
// decoded meanwhile. And one server process ingesting one batch leaves the
// other core to the client and the broker: a second batch is written beside
// the first, on a second connection, while the first has not committed.
//
// Exactly-once is unchanged: each transaction still moves its partitions'
// offsets conditionally on where the previous one left them. The oldest batch
// takes its offset rows first; the one beside it writes its rows, waits until
// the oldest's worker is done (its offsets are taken), then moves the same
// offsets: its UPDATE waits for the oldest's COMMIT, and finds the offsets
// moved (it goes on) or not (the oldest rolled back: it is stale). It never
// commits on its own: this thread commits it once everything before it has
// committed, and rolls it back otherwise. The batches are settled oldest
// first, and this thread touches a connection only when no worker uses it.

// The worker's part: the transaction, committed unless dead letters must be
// published first (settle_oldest does that on the polling thread).
ConsumeJob::InFlight::Outcome ConsumeJob::write_and_commit(db::OrderStore& store, const db::Batch& batch,
                                                           std::promise<void> done) {
  const SetOnExit set{done};
  InFlight::Outcome outcome;
  try {
    outcome.written = store.write(batch);
    if (outcome.written->stale) {
      return outcome;
    }
    if (!outcome.written->dead_letters.empty() || !batch.events.empty()) {
      outcome.open = true;
      return outcome;
    }
    store.commit();
  } catch (...) {
    outcome.error = std::current_exception();
  }
  return outcome;
}

// The worker's part for a batch beside the one before: its rows, then its
// offsets once the one before has taken theirs; left open for settle_oldest.
ConsumeJob::InFlight::Outcome ConsumeJob::write_beside(db::OrderStore& store, const db::Batch& batch,
                                                       const std::shared_future<void>& before,
                                                       std::promise<void> done) {
  const SetOnExit set{done};
  InFlight::Outcome outcome;
  try {
    outcome.written = store.write(batch, [&before] { before.wait(); });
    outcome.open = !outcome.written->stale;
  } catch (...) {
    outcome.error = std::current_exception();
  }
  return outcome;
}

void ConsumeJob::write_batch() {
  if (m_options.max_messages) {
    // --max-messages counts committed messages: one batch at a time.
    flush(/*single_attempt=*/false);
    return;
  }
  auto write = prepare_write(); // while the batches before are still in flight
  while (!m_in_flight.empty() && !can_write_beside(write)) {
    if (!settle_oldest()) {
      return; // given up with the batches before, and re-read from the database
    }
  }
  if (!can_write_ahead(write) || (m_in_flight.empty() && !ensure_database())) {
    flush(/*single_attempt=*/false, std::move(write));
    return;
  }
  write_ahead(std::move(write));
}

// Batches with dead letters of their own are written here, where a dead-letter
// topic that is away can be waited for and the batch tried again.
bool ConsumeJob::can_write_ahead(const BatchWrite& write) const {
  return write.batch.dead_letters.empty() && !m_ambiguous;
}

// Beside the one batch in flight: a batch of orders only (events must see the
// orders before them committed), none of whose order_ids the one in flight
// writes or names (each would wait for the other's row: a deadlock), after
// one that only updates offset rows (a row it inserts is not seen, nor waited
// for, by the UPDATE beside it), on a spare connection that is there.
bool ConsumeJob::can_write_beside(const BatchWrite& write) {
  if (m_in_flight.size() != 1 || !can_write_ahead(write) || !write.batch.events.empty()) {
    return false;
  }
  const db::Batch& before = m_in_flight.front().write.batch; // the worker only reads it
  if (std::any_of(before.offsets.begin(), before.offsets.end(),
                  [](const db::OffsetAdvance& advance) { return !advance.expected; })) {
    return false;
  }
  std::unordered_set<std::string_view> ids;
  ids.reserve(before.orders.size() + before.events.size());
  for (const auto& order : before.orders) {
    ids.insert(order.order.order_id);
  }
  for (const auto& event : before.events) {
    ids.insert(event.order_id);
  }
  for (const auto& order : write.batch.orders) {
    if (ids.count(order.order.order_id) != 0) {
      return false;
    }
  }
  return ensure_spare_database();
}

// The spare connection, (re)connected lazily. Without one (the server's
// max_connections, say) batches go one at a time; it is tried again later.
bool ConsumeJob::ensure_spare_database() {
  if (m_spare_store && m_spare_db && m_spare_db->is_open()) {
    return true;
  }
  if (Clock::now() < m_next_spare_attempt) {
    return false;
  }
  m_spare_store.reset();
  m_spare_db.reset();
  try {
    m_spare_db = std::make_unique<db::Connection>(
        db::Connection::connect(m_options.db_conninfo, std::chrono::seconds(5)));
    m_spare_store = std::make_unique<db::OrderStore>(*m_spare_db);
    m_spare_store->set_status_transitions(status_transitions());
    m_spare_failures = 0;
    return true;
  } catch (const db::DbError& error) {
    if (!error.is_transient()) {
      throw;
    }
    m_spare_store.reset();
    m_spare_db.reset();
    // A session lost while it was set up is back at once; a server at its
    // max_connections is asked again less and less often.
    const auto wait = std::min<std::chrono::milliseconds>(m_options.backoff_max, 250ms * (1 << std::min(m_spare_failures, 6)));
    m_next_spare_attempt = Clock::now() + wait;
    if (m_spare_failures++ == 0) {
      log::warning("consume", "no second database connection; writing one batch at a time for now",
                   {{"retry_in_ms", std::to_string(wait.count())}, {"error", error.what()}});
    }
    return false;
  }
}

void ConsumeJob::write_ahead(BatchWrite write) {
  advance_stored(write.next_offsets);
  const bool beside = !m_in_flight.empty();
  // The worker reads the batch where it is: a deque keeps it in place.
  auto& flight = m_in_flight.emplace_back();
  flight.beside = beside;
  flight.store = beside ? m_spare_store.get() : m_store.get();
  flight.write = std::move(write);
  flight.messages = m_batch.size();
  flight.times.reserve(m_batch.size());
  for (const auto& message : m_batch) {
    flight.times.emplace_back(message.partition(), message.offset(), message.timestamp().ms);
  }
  flight.started = Clock::now();
  m_batch.clear();
  m_offsets_moved = false;
  std::promise<void> done;
  flight.worker_done = done.get_future().share();
  if (beside) {
    flight.outcome = std::async(std::launch::async, &ConsumeJob::write_beside, std::ref(*flight.store),
                                std::cref(flight.write.batch), m_in_flight.front().worker_done, std::move(done));
  } else {
    flight.outcome = std::async(std::launch::async, &ConsumeJob::write_and_commit, std::ref(*flight.store),
                                std::cref(flight.write.batch), std::move(done));
  }
}

// Settles every batch in flight, oldest first: true when all committed (or
// there were none).
bool ConsumeJob::settle_in_flight() {
  while (!m_in_flight.empty()) {
    if (!settle_oldest()) {
      return false;
    }
  }
  return true;
}

// Waits for the oldest batch in flight and takes its outcome: true when it
// committed. Otherwise the batches after it and the one being gathered are
// given up with it and every partition starts again from the database.
bool ConsumeJob::settle_oldest() {
  auto outcome = m_in_flight.front().outcome.get();
  InFlight flight = std::move(m_in_flight.front());
  m_in_flight.pop_front();
  try {
    if (outcome.error) {
      std::rethrow_exception(outcome.error);
    }
    auto& result = *outcome.written;
    if (result.stale) {
      count_stale_batch();
      return abandon_in_flight("another consumer moved the stored offsets (this one lost the partitions)");
    }
    if (outcome.open && !finish_open_write(flight, result)) {
      return false;
    }
    committed(flight.write, flight.messages, result, flight.started);
    m_report.batches_beside += flight.beside ? 1 : 0;
    if (!m_in_flight.empty()) {
      // The next one is the oldest now: its connection becomes this thread's.
      std::swap(m_db, m_spare_db);
      std::swap(m_store, m_spare_store);
    }
    return true;
  } catch (const db::DbError& error) {
    // Its connection goes first: a batch beside it may be waiting for its locks.
    m_store.reset();
    m_db.reset();
    discard_in_flight();
    if (!error.is_transient()) {
      throw;
    }
    const bool ambiguous = outcome.written && !outcome.written->stale;
    if (ambiguous) {
      // The COMMIT may or may not have happened: the stored offsets decide.
      auto events = count_events(flight.write.batch, outcome.written->events);
      m_ambiguous = AmbiguousCommit{flight.write.next_offsets, flight.messages, flight.write.skipped,
                                    std::move(*outcome.written), std::move(events)};
    }
    drop_database(error.what());
    return abandon_in_flight(ambiguous ? "the outcome of a commit is unknown" : "the batch written ahead did not commit");
  }
}

// The worker left the transaction open: the events' dead letters are
// recorded, every dead letter is published, then it commits. False when the
// batch was given up instead (it is re-read): stopping, or a dead-letter
// topic that is away.
bool ConsumeJob::finish_open_write(const InFlight& flight, db::WriteResult& result) {
  try {
    record_event_dead_letters(flight.write.batch, result);
    DeadLetterPublisher::Timestamps timestamps;
    for (const auto& [partition, offset, ms] : flight.times) {
      timestamps[{partition, offset}] = ms;
    }
    if (!deliver_dead_letters(result, timestamps)) {
      flight.store->rollback();
      return abandon_in_flight("stopping before the dead letters were delivered");
    }
  } catch (const kafka::KafkaError& error) {
    if (error.fatal()) {
      flight.store->rollback();
      discard_in_flight();
      throw;
    }
    flight.store->rollback();
    log::warning("consume", "dead-letter topic unavailable; re-reading the batch", {{"error", error.what()}});
    return abandon_in_flight("the batch's dead letters could not be delivered");
  }
  flight.store->commit();
  m_dlq->forget();
  return true;
}

// Waits for the batches still in flight (their worker may be waiting for the
// one before to let go of its offsets) and rolls back what they left open.
void ConsumeJob::discard_in_flight() noexcept {
  for (auto& flight : m_in_flight) {
    const auto outcome = flight.outcome.get();
    if (outcome.open) {
      flight.store->rollback();
    }
  }
  m_in_flight.clear();
}

bool ConsumeJob::abandon_in_flight(const std::string& why) {
  discard_in_flight();
  give_up_batch();
  std::set<std::int32_t> all;
  for (const auto& [partition, state] : m_partitions) {
    all.insert(partition);
  }
  rewind(all, why);
  return false;
}

std::vector<std::int32_t> ConsumeJob::ready_partitions() const {
  std::vector<std::int32_t> ready;
  for (const auto& [partition, state] : m_partitions) {
    if (state.ready) {
      ready.push_back(partition);
    }
  }
  return ready;
}

void ConsumeJob::wait_polling(std::chrono::milliseconds how_long) {
  const auto until = Clock::now() + how_long;
  while (Clock::now() < until && !stop_requested() && !m_revoked_while_flushing) {
    if (auto message = m_consumer->poll(100ms)) {
      m_held.push_back(std::move(message));
    }
    report_progress(false);
  }
}

bool ConsumeJob::reached_end() {
  if (!m_options.until_end || !m_in_flight.empty() || Clock::now() < m_next_end_check) {
    return false;
  }
  m_next_end_check = Clock::now() + 500ms;
  if (!ensure_database()) {
    return false;
  }
  std::map<std::int32_t, std::int64_t> stored;
  try {
    stored = m_store->load_offsets(m_options.group, m_options.topic);
  } catch (const db::DbError& error) {
    if (!error.is_transient()) {
      throw;
    }
    drop_database(error.what());
    return false;
  }
  return reached_log_end(m_log_end, m_log_start, m_stale_at_start, stored);
}

void ConsumeJob::report_progress(bool force) {
  if (!m_progress && m_options.metrics == nullptr) {
    return;
  }
  const auto now = Clock::now();
  if (!force && now < m_next_progress) {
    return;
  }
  m_next_progress = now + 1s;
  ConsumeProgress progress;
  progress.consumed = m_report.consumed;
  progress.applied = m_report.applied;
  progress.duplicates = m_report.duplicates;
  progress.dead_letters = m_report.dead_letters();
  progress.waiting_for_database = m_waiting_for_db;
  progress.elapsed = now - m_started;
  std::int64_t lag = 0;
  bool known = !m_partitions.empty();
  std::map<std::int32_t, std::int64_t> lag_by_partition;
  for (const auto& [partition, state] : m_partitions) {
    const auto high = m_consumer->cached_log_end(m_options.topic, partition);
    if (!high || !state.stored) {
      known = false;
      continue;
    }
    lag += std::max<std::int64_t>(0, *high - *state.stored);
    lag_by_partition[partition] = std::max<std::int64_t>(0, *high - *state.stored);
  }
  if (known) {
    progress.lag = lag;
  }
  if (auto* metrics = m_options.metrics) {
    metrics->set_lag(m_options.topic, m_options.group, lag_by_partition);
    metrics->waiting_for_database.set(m_waiting_for_db ? 1 : 0);
  }
  if (m_progress) {
    m_progress(progress);
  }
}

ConsumeReport ConsumeJob::run() {
  m_started = Clock::now();
  m_last_message = m_started;
  start();
  for (;;) {
    if (const char* reason = stop_reason()) {
      m_report.stopped_by = reason;
      break;
    }
    resolve_partitions();
    if (m_ambiguous) {
      // Nothing new is taken until we know whether the last batch counted
      // (--max-messages and the summary depend on it).
      wait_polling(100ms);
      continue;
    }

    kafka::Message message;
    if (!m_held.empty()) {
      message = std::move(m_held.front());
      m_held.pop_front();
    } else {
      const bool waiting_batch = pending();
      const auto age = waiting_batch ? Clock::now() - m_batch_started : Clock::duration::zero();
      message = m_consumer->poll(poll_wait(waiting_batch, age, m_options.batch_time));
    }
    if (message) {
      handle(std::move(message));
    }
    while (!m_in_flight.empty() && m_in_flight.front().outcome.wait_for(0s) == std::future_status::ready) {
      if (!settle_oldest()) {
        break;
      }
    }
    if (batch_due()) {
      write_batch();
    }
    m_dlq->poll();
    report_progress(false);
  }
  return finish();
}

// Checks the cluster and the database, then joins the group.
void ConsumeJob::start() {
  check_cluster();

  // The database must be reachable and migrated before joining the group.
  {
    auto probe = db::Connection::connect(m_options.db_conninfo, std::chrono::duration_cast<std::chrono::seconds>(
                                                                    std::max(m_options.connect_timeout, 1000ms)));
    db::require_foodpipe_schema(probe);
  }

  m_dlq = std::make_unique<DeadLetterPublisher>(m_options.kafka, m_options.topic, m_options.group);
  // librdkafka's statistics only when someone can scrape them.
  kafka::StatisticsHandler on_statistics;
  if (auto* metrics = m_options.metrics) {
    on_statistics = [metrics](const kafka::Statistics& statistics) { metrics->update(statistics); };
  }
  m_consumer =
      std::make_unique<kafka::Consumer>(m_options.kafka, m_options.group, *this, std::move(on_statistics));
  if (m_options.until_end) {
    record_log_end();
  }
  compare_with_kafka_offsets();
  m_consumer->subscribe(m_options.topic);
  log::info("consume", "joined the group",
            {{"group", m_options.group}, {"topic", m_options.topic}, {"database", db::redact_conninfo(m_options.db_conninfo)}});
}

// Why the job stops now (ConsumeReport::stopped_by), or null to go on.
const char* ConsumeJob::stop_reason() {
  if (stop_requested()) {
    return "signal";
  }
  if (m_options.max_messages && m_report.consumed >= *m_options.max_messages) {
    return "max-messages";
  }
  if (!pending() && reached_end()) {
    return "end";
  }
  if (m_options.idle_timeout.count() > 0 && !m_joining && !pending() && m_in_flight.empty() && m_held.empty() &&
      Clock::now() - m_last_message >= m_options.idle_timeout) {
    return "idle";
  }
  return nullptr;
}

// Finishes (or gives up) the batch in flight, then leaves the group so the
// partitions move on at once.
ConsumeReport ConsumeJob::finish() {
  settle_in_flight();
  if (pending()) {
    flush(/*single_attempt=*/stop_requested());
  }
  if (m_ambiguous) {
    (void)try_load_offsets({}); // one try to settle what the summary reports
  }
  m_consumer->close();
  // Every committed batch's letters were delivered before its commit: what is
  // still in flight belongs to a batch that was given up (and will be re-read).
  m_dlq->close(0ms);
  m_report.elapsed = Clock::now() - m_started;
  report_progress(true);
  return m_report;
}

} // namespace

std::uint64_t ConsumeReport::dead_letters() const {
  std::uint64_t total = 0;
  for (const auto& [reason, count] : dead_letters_by_reason) {
    total += count;
  }
  return total;
}

ConsumeReport run_consume(const ConsumeOptions& options, const ConsumeProgressCallback& progress) {
  // The command checked its flags; these are the job's own preconditions.
  if (options.batch_size == 0 || options.group.empty() || options.topic.empty()) {
    throw std::invalid_argument("run_consume: batch_size, group and topic must not be 0 or empty");
  }
  ConsumeJob job(options, progress);
  return job.run();
}

} // namespace foodpipe::pipeline
