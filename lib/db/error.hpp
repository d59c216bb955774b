#pragma once

// DbError: a PostgreSQL failure that ends an operation. what() is fit for
// "foodpipe: error: <what()>" and says what the user can do; it never holds a
// password (conninfo strings are passed through redact_conninfo or reduced to
// host:port/db before they reach a message).

#include <string>
#include <string_view>
#include <utility>

#include "core/error.hpp"

namespace foodpipe::db {

// SQLSTATE codes the code base branches on.
namespace sqlstate {
inline constexpr std::string_view k_invalid_catalog_name = "3D000"; // database does not exist
inline constexpr std::string_view k_duplicate_database = "42P04";
inline constexpr std::string_view k_unique_violation = "23505";
inline constexpr std::string_view k_insufficient_privilege = "42501";
inline constexpr std::string_view k_undefined_table = "42P01";
inline constexpr std::string_view k_invalid_password = "28P01";
inline constexpr std::string_view k_invalid_authorization = "28000";
inline constexpr std::string_view k_cannot_connect_now = "57P03";
inline constexpr std::string_view k_unable_to_connect = "08001";  // client could not reach the server
inline constexpr std::string_view k_connection_failure = "08006";
inline constexpr std::string_view k_serialization_failure = "40001";
inline constexpr std::string_view k_deadlock_detected = "40P01";
inline constexpr std::string_view k_admin_shutdown = "57P01";
inline constexpr std::string_view k_crash_shutdown = "57P02";
inline constexpr std::string_view k_idle_session_timeout = "57P05";
inline constexpr std::string_view k_idle_in_transaction_timeout = "25P03";
inline constexpr std::string_view k_lock_not_available = "55P03";
} // namespace sqlstate

// True for failures worth retrying on a new connection or in a new transaction:
// class 08 (connection exception), 57P01 admin_shutdown, 57P02 crash_shutdown,
// 57P03 cannot_connect_now, 57P05 idle_session_timeout, 25P03
// idle_in_transaction_session_timeout, 40001 serialization_failure, 40P01
// deadlock_detected, 55P03 lock_not_available (a lock_timeout: the holder may
// be a frozen member). Not: a missing object (42P01), a privilege (42501), a
// login refused (28P01, 28000), a missing database (3D000), data refused (22, 23).
[[nodiscard]] bool is_transient_sqlstate(std::string_view sqlstate) noexcept;

// What the server said about a failed statement, field by field (libpq's
// PG_DIAG_* fields), for callers that record it rather than show what():
// e.g. a dead letter's "SQLSTATE 22003: numeric field overflow". All empty
// when the error did not come from the server (client-side, lost connection).
struct ServerDiagnostics {
  std::string message; // primary message, e.g. "value too long for type character varying(50)"
  std::string detail;  // optional secondary message
  std::string context; // e.g. "COPY orders, line 3, column customer_name: \"...\""
};

class DbError : public Error {
public:
  // sqlstate: the five-character SQLSTATE, empty when there is none (libpq
  // lost the connection, or a client-side failure). connection_lost: the
  // connection is no longer usable.
  DbError(const std::string& message, std::string sqlstate, bool connection_lost = false,
          ExitCode exit_code = ExitCode::failure)
      : Error(message, exit_code), m_sqlstate(std::move(sqlstate)),
        m_connection_lost(connection_lost) {}

  [[nodiscard]] const std::string& sqlstate() const noexcept { return m_sqlstate; }
  [[nodiscard]] bool connection_lost() const noexcept { return m_connection_lost; }
  [[nodiscard]] const ServerDiagnostics& diagnostics() const noexcept { return m_diagnostics; }
  // Set by Connection before throwing.
  void set_diagnostics(ServerDiagnostics diagnostics) { m_diagnostics = std::move(diagnostics); }

  // Retrying (after reconnecting when connection_lost()) may succeed: a
  // transient SQLSTATE, or any lost connection, whatever the server said as
  // it went (a session ended by a timeout or an administrator, or a
  // statement's error followed by the socket closing): its transaction is gone
  // either way, and a retry on a new connection is the only way on. A failed
  // login is not a lost connection (connection_lost() is false for it).
  [[nodiscard]] bool is_transient() const noexcept { return m_connection_lost || is_transient_sqlstate(m_sqlstate); }

private:
  std::string m_sqlstate;
  bool m_connection_lost;
  ServerDiagnostics m_diagnostics;
};

} // namespace foodpipe::db
