#pragma once

// AdvisoryLock: a session-level PostgreSQL advisory lock (pg_advisory_lock) held
// for the guard's lifetime. Advisory locks are per database, re-entrant within a
// session, and released by the server if the session ends.
// Not thread-safe (it uses its Connection, which must outlive it).

#include <cstdint>
#include <string>
#include <string_view>

#include "db/connection.hpp"

namespace foodpipe::db {

class AdvisoryLock {
public:
  // Waits until the lock is granted, logging once when it has to wait. Polls,
  // so that SIGINT/SIGTERM (foodpipe::stop_requested) ends the wait: then it
  // throws foodpipe::Error with ExitCode::interrupted. Throws DbError.
  AdvisoryLock(Connection& connection, std::int64_t key, std::string_view purpose);
  // pg_advisory_unlock; never throws.
  ~AdvisoryLock();
  AdvisoryLock(const AdvisoryLock&) = delete;
  AdvisoryLock& operator=(const AdvisoryLock&) = delete;

private:
  Connection& m_connection;
  std::string m_key;
  std::string m_purpose;
};

} // namespace foodpipe::db
