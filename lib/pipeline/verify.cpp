#include "pipeline/verify.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "core/error.hpp"
#include "core/signals.hpp"
#include "db/connection.hpp"
#include "db/migrator.hpp"
#include "db/order_audit.hpp"
#include "domain/message_kind.hpp"
#include "domain/order_event_json.hpp"
#include "domain/order_json.hpp"
#include "kafka/message.hpp"
#include "kafka/reader.hpp"
#include "pipeline/range_plan.hpp"

namespace foodpipe::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Below the stored offset and still in the log: what the audit can see. One
// range per partition with a stored offset; adds them to the report.
std::vector<kafka::PartitionRange> plan_ranges(const VerifyOptions& options, kafka::Reader& reader,
                                               const std::map<std::int32_t, std::int64_t>& stored,
                                               VerifyReport& report) {
  std::vector<kafka::PartitionRange> ranges;
  for (const auto& [partition, next] : stored) {
    const auto marks = reader.watermarks(options.topic, partition, options.timeout);
    const auto range = verify_range(partition, marks, next);
    VerifyPartition row;
    row.partition = partition;
    row.from = range.from;
    row.to = range.to;
    row.log_start = marks.low;
    row.unread_from = next;
    report.partitions.push_back(row);
    ranges.push_back(range);
  }
  return ranges;
}

// Per partition: what the read found besides messages.
void count_outcome(const kafka::ReadResult& outcome, VerifyReport& report) {
  for (const auto& range : outcome.ranges) {
    const auto it = std::find_if(report.partitions.begin(), report.partitions.end(),
                                 [&range](const VerifyPartition& p) { return p.partition == range.partition; });
    it->messages = range.messages;
    it->without_message = range.without_message();
    it->gone = range.gone_count();
    it->unread_from = range.end;
    report.without_message += it->without_message;
    report.gone += it->gone;
    if (range.ended == kafka::RangeEnd::log_end) {
      report.unread += static_cast<std::uint64_t>(range.to - range.end);
    }
  }
}

// The verdicts of what was staged, and the first few problems by name.
void classify(const VerifyOptions& options, db::OrderAudit& audit, VerifyReport& report) {
  const auto counts = audit.classify();
  const auto& events = counts.events;
  report.events = {events.staged, events.ok, events.duplicates, events.dead_lettered, events.missing,
                   events.different};
  report.ok = counts.ok + events.ok;
  report.duplicates = counts.duplicates + events.duplicates;
  report.dead_lettered = counts.dead_lettered + events.dead_lettered;
  report.missing = counts.missing + events.missing;
  report.different = counts.different + events.different;
  report.refused_by_database = counts.refused;
  if (report.missing + report.different > 0 && options.limit > 0) {
    for (auto& problem : audit.problems(options.limit)) {
      report.problems.push_back({std::move(problem.kind), problem.partition, problem.offset,
                                 std::move(problem.order_id), std::move(problem.event_id),
                                 std::move(problem.detail)});
    }
  }
}

// Stages one read message by its kind (the headers, as consume reads them):
// an order, an order status event, or, undecodable, only a dead letter can
// account for it.
class Stager {
public:
  Stager(db::OrderAudit& audit, const VerifyOptions& options) : m_audit(audit) {
    m_limits.max_message_bytes = options.max_message_bytes;
  }

  void add(kafka::MessageView message) {
    const auto partition = message.partition();
    const auto offset = message.offset();
    const auto type = domain::classify_message(message.header(domain::k_type_header.data()),
                                               message.header(domain::k_schema_version_header.data()));
    if (type && type.type().kind == domain::MessageKind::order_status) {
      // A tombstone has a null payload, which decode_event() rejects as null_value.
      if (domain::decode_event_into(message.value(), m_event, m_rejection, m_limits)) {
        m_row.event_id = m_event.event_id;
        m_row.order_id = m_event.order_id;
        m_row.status = std::string(domain::to_string(m_event.status));
        m_row.occurred_at = m_event.occurred_at;
        m_row.reason = m_event.reason;
        m_row.partition = partition;
        m_row.offset = offset;
        m_audit.add_event(m_row);
      } else {
        m_audit.add_undecodable_event(partition, offset);
      }
      return;
    }
    m_incoming.partition = partition;
    m_incoming.offset = offset;
    // A tombstone has a null payload, which decode() rejects as null_value.
    if (type && domain::decode_into(message.value(), m_incoming.order, m_rejection, m_limits)) {
      m_audit.add(m_incoming);
    } else {
      m_audit.add_undecodable(partition, offset);
    }
  }

private:
  db::OrderAudit& m_audit;
  domain::DecodeLimits m_limits;
  db::IncomingOrder m_incoming;
  domain::OrderStatusEvent m_event;
  db::EventRow m_row;
  domain::Rejection m_rejection;
};

} // namespace

std::uint64_t VerifyReport::skipped_offsets() const noexcept {
  std::uint64_t total = 0;
  for (const auto& range : skipped) {
    total += range.to > range.from ? static_cast<std::uint64_t>(range.to - range.from) : 0U;
  }
  return total;
}

VerifyReport run_verify(const VerifyOptions& options, const VerifyProgressCallback& progress) {
  // The command checked its flags; this is the job's own precondition.
  if (options.topic.empty() || options.group.empty()) {
    throw std::invalid_argument("run_verify: an empty topic or group");
  }
  const auto started = Clock::now();
  VerifyReport report;

  auto connection =
      db::Connection::connect(options.db_conninfo, std::chrono::duration_cast<std::chrono::seconds>(
                                                       std::max<std::chrono::milliseconds>(options.timeout, 1s)));
  db::require_foodpipe_schema(connection);
  db::OrderAudit audit(connection, options.topic, options.limit);
  const auto stored = audit.stored_offsets(options.group);
  if (stored.empty()) {
    throw Error("group " + options.group + " has no stored offsets for topic " + options.topic +
                " in " + connection.describe() + "; nothing was consumed yet (check --group and --topic)");
  }
  for (auto& range : audit.skipped_offsets(options.group)) {
    report.skipped.push_back(
        {range.partition, range.from, range.to, std::move(range.reason), std::move(range.detected_at)});
  }

  kafka::Reader reader(options.kafka);
  const auto ranges = plan_ranges(options, reader, stored, report);
  std::uint64_t total = 0;
  for (const auto& range : ranges) {
    total += static_cast<std::uint64_t>(range.to - range.from);
  }

  Stager stager(audit, options);
  auto next_progress = Clock::now() + 1s;
  const auto show = [&](const char* phase, std::uint64_t read) {
    if (progress) {
      progress({phase, read, total, Clock::now() - started});
    }
  };
  std::uint64_t staged = 0;
  const auto outcome = reader.read(options.topic, ranges, [&](kafka::MessageView message) {
    // The clock and the flag are looked at every few thousand messages only.
    if (staged % 4096 == 0) {
      if (stop_requested()) {
        report.interrupted = true;
        return false;
      }
      if (Clock::now() >= next_progress) {
        next_progress = Clock::now() + 1s;
        show("reading", staged);
      }
    }
    stager.add(message);
    ++staged;
    return true;
  });
  report.checked = staged;
  report.read_time = Clock::now() - started;
  count_outcome(outcome, report);
  if (report.interrupted) {
    report.elapsed = report.read_time;
    return report;
  }

  show("comparing", report.checked);
  const auto compare_started = Clock::now();
  classify(options, audit, report);
  report.compare_time = Clock::now() - compare_started;
  report.elapsed = Clock::now() - started;
  return report;
}

} // namespace foodpipe::pipeline
