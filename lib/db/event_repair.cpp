#include "db/event_repair.hpp"

#include <type_traits>

#include "db/array_literal.hpp"
#include "db/result.hpp"

namespace foodpipe::db {
namespace {

// One field of every event, for an array parameter.
template <typename Field>
auto each(const std::vector<EventRow>& events, Field field) {
  std::vector<std::decay_t<decltype(field(events.front()))>> values;
  values.reserve(events.size());
  for (const auto& event : events) {
    values.push_back(field(event));
  }
  return values;
}

std::string partitions_of(const std::vector<EventRow>& events) {
  return integer_array(each(events, [](const EventRow& e) { return e.partition; }));
}

std::string offsets_of(const std::vector<EventRow>& events) {
  return integer_array(each(events, [](const EventRow& e) { return e.offset; }));
}

// $1 topic, $2/$3 the events' positions.
const std::string k_restore =
    "UPDATE orders o SET status = e.status "
    "FROM unnest($2::integer[], $3::bigint[]) AS t(p, off) "
    "JOIN order_events e ON e.source_topic = $1::text AND e.source_partition = t.p AND e.source_offset = t.off "
    "WHERE o.order_id = e.order_id AND o.status <> e.status "
    "  AND e.applied_seq = (SELECT max(x.applied_seq) FROM order_events x WHERE x.order_id = e.order_id)";

// $1 topic, $2/$3 positions, $4 event ids, $5 order ids, $6 statuses; returns
// the 1-based index of each lost event.
const std::string k_lost =
    "SELECT t.i FROM unnest($2::integer[], $3::bigint[], $4::text[], $5::text[], $6::text[]) "
    "  WITH ORDINALITY AS t(p, off, event_id, order_id, status, i) "
    "WHERE NOT EXISTS (SELECT 1 FROM order_events e WHERE e.event_id = t.event_id) "
    "  AND NOT EXISTS (SELECT 1 FROM order_events e WHERE e.source_topic = $1::text "
    "                    AND e.source_partition = t.p AND e.source_offset = t.off) "
    "  AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.source_topic = $1::text "
    "                    AND d.source_partition = t.p AND d.source_offset = t.off) "
    "  AND (EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = t.order_id AND e.source_topic = $1::text "
    "                 AND e.source_partition = t.p AND e.source_offset > t.off) "
    "       OR (EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = t.order_id) "
    "           AND EXISTS (SELECT 1 FROM orders o WHERE o.order_id = t.order_id AND o.status = t.status) "
    "           AND NOT EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = t.order_id "
    "                             AND e.status = t.status)))";

} // namespace

std::uint64_t restore_event_statuses(Connection& connection, const std::string& topic,
                                     const std::vector<EventRow>& events) {
  if (events.empty()) {
    return 0;
  }
  const Result done = connection.exec_params(k_restore, {topic, partitions_of(events), offsets_of(events)});
  return static_cast<std::uint64_t>(done.affected_rows());
}

std::vector<bool> lost_events(Connection& connection, const std::string& topic,
                              const std::vector<EventRow>& events) {
  std::vector<bool> lost(events.size(), false);
  if (events.empty()) {
    return lost;
  }
  const Result rows = connection.exec_params(
      k_lost, {topic, partitions_of(events), offsets_of(events),
               text_array(each(events, [](const EventRow& e) { return e.event_id; })),
               text_array(each(events, [](const EventRow& e) { return e.order_id; })),
               text_array(each(events, [](const EventRow& e) { return e.status; }))});
  for (int row = 0; row < rows.rows(); ++row) {
    const auto index = parse_integer<std::size_t>(rows.value(row, 0));
    if (index >= 1 && index <= lost.size()) {
      lost[index - 1] = true;
    }
  }
  return lost;
}

} // namespace foodpipe::db
