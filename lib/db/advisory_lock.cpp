#include "db/advisory_lock.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/signals.hpp"

namespace foodpipe::db {

AdvisoryLock::AdvisoryLock(Connection& connection, std::int64_t key, std::string_view purpose)
    : m_connection(connection), m_key(std::to_string(key)), m_purpose(purpose) {
  const auto started = std::chrono::steady_clock::now();
  auto pause = std::chrono::milliseconds(10);
  bool logged = false;
  while (m_connection.exec_params("SELECT pg_try_advisory_lock($1::bigint)", {m_key}).value(0, 0) != "t") {
    if (!logged) {
      log::info("postgres", "waiting for another process to release the " + m_purpose + " lock",
                {{"database", m_connection.database_name()}, {"lock_key", m_key}});
      logged = true;
    }
    if (stop_requested()) {
      throw Error("interrupted while waiting for the " + m_purpose + " lock", ExitCode::interrupted);
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(200));
  }
  if (logged) {
    const auto waited =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    log::info("postgres", "got the " + m_purpose + " lock",
              {{"waited_ms", std::to_string(waited.count())}});
  }
}

AdvisoryLock::~AdvisoryLock() {
  if (!m_connection.is_open()) {
    return; // the server released it with the session
  }
  try {
    // An aborted transaction would refuse the unlock; end it first.
    if (PQtransactionStatus(m_connection.native()) == PQTRANS_INERROR) {
      m_connection.exec("ROLLBACK");
    }
    m_connection.exec_params("SELECT pg_advisory_unlock($1::bigint)", {m_key});
  } catch (const std::exception& error) {
    log::warning("postgres", "releasing the " + m_purpose + " lock failed; it ends with the session",
                 {{"error", error.what()}});
  }
}

} // namespace foodpipe::db
