#pragma once

// Connection: one libpq connection (PGconn), owned. Statements run in text
// format and return a Result or throw DbError with the SQLSTATE.
//
// Threading: a Connection is used by one thread at a time (libpq's rule);
// different Connections are independent. Movable, not copyable.
// Server notices (RAISE NOTICE, warnings) go to foodpipe::log, component
// "postgres". Messages thrown never contain the password.

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "db/handles.hpp"
#include "db/result.hpp"

namespace foodpipe::db {

// One statement parameter: text (the type is inferred by the server or given
// by a cast in the SQL, e.g. $1::numeric), NULL, or raw bytes for a bytea
// parameter (sent in binary format, no escaping). Holds a view: the caller
// keeps the data alive for the call (temporaries in the call expression do).
class Param {
public:
  // Implicit on purpose: exec_params(sql, {id, name, std::nullopt}).
  Param(std::string_view text) noexcept : m_value(text) {}
  Param(const std::string& text) noexcept : m_value(text) {}
  Param(const char* text) noexcept : m_value(std::string_view(text)) {}
  Param(std::nullopt_t) noexcept {}
  Param(std::optional<std::string_view> text) noexcept : m_value(text) {}

  [[nodiscard]] static Param null() noexcept { return Param(std::nullopt); }
  [[nodiscard]] static Param bytes(std::string_view raw) noexcept {
    Param param(raw);
    param.m_binary = true;
    return param;
  }

  [[nodiscard]] const std::optional<std::string_view>& value() const noexcept { return m_value; }
  [[nodiscard]] bool binary() const noexcept { return m_binary; }

private:
  std::optional<std::string_view> m_value;
  bool m_binary = false;
};

class Connection {
public:
  static constexpr std::chrono::seconds k_default_connect_timeout{10};

  // Connects. application_name is "foodpipe" unless the conninfo sets one;
  // connect_timeout applies unless the conninfo sets one. client_encoding is
  // always UTF8, whatever PGCLIENTENCODING or the conninfo say.
  // Throws DbError:
  //   - exit code 2 (usage) when libpq rejects the conninfo itself;
  //   - SQLSTATE 3D000 when the server says the database does not exist;
  //   - 28P01/28000 for authentication failures, 42501 without CONNECT
  //     privilege, 57P03 while the server starts;
  //   - 08001 (transient) when the server cannot be reached or refuses otherwise.
  //   (libpq reports no SQLSTATE for connection failures; these come from its
  //   message and are best effort with a non-English server.)
  [[nodiscard]] static Connection connect(const std::string& conninfo,
                                          std::chrono::seconds connect_timeout = k_default_connect_timeout);

  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() = default; // PQfinish; never throws

  // One or more statements (simple query protocol; the last result is
  // returned). Throws DbError. Like every statement below, it waits for the
  // server in short slices: after SIGINT/SIGTERM a server that has not
  // answered for 5 s is abandoned (DbError with connection_lost() and
  // ExitCode::interrupted).
  Result exec(const std::string& sql);

  // One statement with $1.. parameters. Throws DbError.
  Result exec_params(const std::string& sql, std::span<const Param> params);
  Result exec_params(const std::string& sql, std::initializer_list<Param> params) {
    return exec_params(sql, std::span<const Param>(params.begin(), params.size()));
  }

  // A named server-side prepared statement for this connection (types are
  // inferred; use casts in the SQL to pin them). Throws DbError, e.g. 42P05
  // when the name is already prepared on this connection.
  void prepare(const std::string& name, const std::string& sql);
  Result exec_prepared(const std::string& name, std::span<const Param> params);
  Result exec_prepared(const std::string& name, std::initializer_list<Param> params) {
    return exec_prepared(name, std::span<const Param>(params.begin(), params.size()));
  }
  // True when prepare(name, ...) succeeded on this connection.
  [[nodiscard]] bool is_prepared(std::string_view name) const;

  // Runs a "COPY ... FROM STDIN" statement and streams the chunks as its data
  // (any split; see CopyBuffer for the text format). Returns the rows copied.
  // Throws DbError; the connection is idle again afterwards unless it was lost.
  std::int64_t copy_in(const std::string& copy_sql, std::span<const std::string_view> chunks);
  // The same with data made while it is sent: next_chunk(chunk) points `chunk` at
  // the next piece (valid until the next call) and returns true, or returns false
  // when there is none left. Each piece is sent before the next is asked for, so
  // the server parses and inserts one while the caller makes the next. An
  // exception from next_chunk ends the COPY (rolled back) and is rethrown.
  std::int64_t copy_in(const std::string& copy_sql, const std::function<bool(std::string_view&)>& next_chunk);
  std::int64_t copy_in(const std::string& copy_sql, std::string_view data) {
    return copy_in(copy_sql, std::span<const std::string_view>(&data, 1));
  }

  // "name" with quotes doubled, for identifiers that cannot be parameters
  // (CREATE DATABASE). Throws DbError.
  [[nodiscard]] std::string quote_identifier(std::string_view identifier) const;

  [[nodiscard]] std::string database_name() const;
  // "host:port" (host may be a socket directory).
  [[nodiscard]] std::string server_address() const;
  // "host:port/dbname", for messages.
  [[nodiscard]] std::string describe() const;
  // E.g. 150020 for 15.20.
  [[nodiscard]] int server_version() const noexcept;
  // A setting the server reports at connection start (server_encoding,
  // TimeZone, ...); nullopt when it reported none of that name.
  [[nodiscard]] std::optional<std::string> parameter_status(const char* name) const;
  // False once libpq has noticed the connection is broken.
  [[nodiscard]] bool is_open() const noexcept;
  // True while a transaction block is open (or failed and not yet rolled back).
  [[nodiscard]] bool in_transaction() const noexcept;

  // The handle, for libpq calls this class does not wrap. Still owned here.
  [[nodiscard]] PGconn* native() const noexcept { return m_conn.get(); }

private:
  explicit Connection(ConnPtr conn) noexcept : m_conn(std::move(conn)) {}
  Result check(PGresult* raw, std::string_view what);
  PGresult* await_result(int sent);
  Result run_params(const std::string* sql, const std::string* statement_name,
                    std::span<const Param> params);

  ConnPtr m_conn;
  std::vector<std::string> m_prepared;
};

// How connect_with_retry waits between attempts: exponential backoff from
// initial_backoff, capped at max_backoff.
struct RetryPolicy {
  int max_attempts = 0; // 0: until connected or stopped
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{10'000};
};

// Connection::connect, retried (with a warning logged per failure) while the
// failure is transient (DbError::is_transient: server down, starting up, ...).
// Throws the last DbError when it is permanent (bad password, bad conninfo) or
// the attempts are used up, and foodpipe::Error with ExitCode::interrupted when
// SIGINT/SIGTERM arrives while waiting (foodpipe::stop_requested()).
[[nodiscard]] Connection connect_with_retry(const std::string& conninfo, const RetryPolicy& policy,
                                            std::chrono::seconds connect_timeout =
                                                Connection::k_default_connect_timeout);

} // namespace foodpipe::db
