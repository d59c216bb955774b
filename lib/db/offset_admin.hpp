#pragma once

// The SQL behind `foodpipe offsets`: moving a consumer group's stored offsets
// (table consumer_offsets) by hand, inside a transaction the caller owns, so
// that the caller can put another system's write (Kafka's committed offsets)
// between the change and the COMMIT.
//
//   db::Transaction tx(connection);
//   const auto outcome = db::replace_stored_offsets(connection, group, topic, changes, 10s);
//   if (!outcome.moved.empty()) { tx.rollback(); ... }   // someone else wrote them
//   ... commit the same offsets to Kafka ...
//   tx.commit();
//
// Not thread-safe (it uses the caller's Connection).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/connection.hpp"

namespace foodpipe::db {

// One partition's stored offset, from what the caller saw to what it wants.
struct StoredOffsetChange {
  std::int32_t partition = 0;
  std::optional<std::int64_t> expected; // the next_offset the caller saw; nullopt: no row
  std::int64_t next = 0;                // the next_offset to store (>= 0)
};

// A partition whose row no longer holds what the caller saw.
struct MovedOffset {
  std::int32_t partition = 0;
  std::optional<std::int64_t> expected;
  std::optional<std::int64_t> found; // nullopt: no row
};

struct ReplaceOutcome {
  // Empty: every change was written. Otherwise nothing useful was written and
  // the caller must roll back.
  std::vector<MovedOffset> moved;
};

// Must run inside a transaction (throws std::logic_error otherwise). Locks the
// group's rows of `topic` (SELECT ... FOR UPDATE, waiting at most
// `lock_timeout` for a writer that holds them: SQLSTATE 55P03 then), checks
// that each change's partition still holds `expected`, and writes `next`
// (UPDATE of an existing row, INSERT of a missing one; a row inserted by
// someone else since the lock counts as moved). The locks last until the
// caller's COMMIT or ROLLBACK, so a consumer's conditional update waits for
// them and then finds the new offsets. Throws DbError.
[[nodiscard]] ReplaceOutcome replace_stored_offsets(Connection& connection, const std::string& group,
                                                    const std::string& topic,
                                                    const std::vector<StoredOffsetChange>& changes,
                                                    std::chrono::milliseconds lock_timeout);

} // namespace foodpipe::db
