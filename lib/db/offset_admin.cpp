#include "db/offset_admin.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "db/error.hpp"

namespace foodpipe::db {

ReplaceOutcome replace_stored_offsets(Connection& connection, const std::string& group, const std::string& topic,
                                      const std::vector<StoredOffsetChange>& changes,
                                      std::chrono::milliseconds lock_timeout) {
  if (!connection.in_transaction()) {
    throw std::logic_error("replace_stored_offsets needs an open transaction");
  }
  // SET LOCAL ends with the transaction; a consumer frozen mid-batch (killed
  // without its connection noticing) must not hang the command.
  connection.exec("SET LOCAL lock_timeout = '" + std::to_string(std::max<std::int64_t>(1, lock_timeout.count())) +
                  "ms'");
  const auto locked = connection.exec_params(
      "SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1::text AND topic = $2::text "
      "ORDER BY partition FOR UPDATE",
      {group, topic});
  std::map<std::int32_t, std::int64_t> current;
  for (int r = 0; r < locked.rows(); ++r) {
    current[parse_integer<std::int32_t>(locked.value(r, 0))] = parse_integer<std::int64_t>(locked.value(r, 1));
  }

  ReplaceOutcome outcome;
  for (const auto& change : changes) {
    const auto it = current.find(change.partition);
    const auto found = it != current.end() ? std::optional<std::int64_t>(it->second) : std::nullopt;
    if (found != change.expected) {
      outcome.moved.push_back({change.partition, change.expected, found});
    }
  }
  if (!outcome.moved.empty()) {
    return outcome;
  }

  for (const auto& change : changes) {
    const auto partition = std::to_string(change.partition);
    const auto next = std::to_string(change.next);
    Result written;
    if (change.expected) {
      written = connection.exec_params(
          "UPDATE consumer_offsets SET next_offset = $4::bigint, updated_at = now() "
          "WHERE group_id = $1::text AND topic = $2::text AND partition = $3::integer",
          {group, topic, partition, next});
    } else {
      // No row to lock: a consumer claiming the partition at the same moment
      // makes this insert wait for its transaction and then find the row.
      written = connection.exec_params(
          "INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) "
          "VALUES ($1::text, $2::text, $3::integer, $4::bigint) "
          "ON CONFLICT (group_id, topic, partition) DO NOTHING",
          {group, topic, partition, next});
    }
    if (written.affected_rows() != 1) {
      const auto now = connection.exec_params(
          "SELECT next_offset FROM consumer_offsets WHERE group_id = $1::text AND topic = $2::text "
          "AND partition = $3::integer",
          {group, topic, partition});
      outcome.moved.push_back({change.partition, change.expected,
                               now.empty() ? std::nullopt
                                           : std::optional<std::int64_t>(parse_integer<std::int64_t>(now.value(0, 0)))});
    }
  }
  return outcome;
}

} // namespace foodpipe::db
