#include "db/connection.hpp"

#include <libpq-fe.h>

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <exception>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "core/signals.hpp"
#include "db/conninfo.hpp"
#include "db/error.hpp"

namespace foodpipe::db {
namespace {

// Set once a statement was abandoned because the server did not answer it
// within the grace after SIGINT/SIGTERM: any other statement of the stopping
// process (another connection's, or the next one) is abandoned at once
// instead of waiting out a grace of its own.
std::atomic<bool> g_unanswered_while_stopping{false};

constexpr std::string_view k_component = "postgres";

std::string field(const PGresult* result, int code) {
  const char* value = PQresultErrorField(result, code);
  return value != nullptr ? value : "";
}

std::string trim(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// Server notices (RAISE NOTICE, WARNING, ...) into foodpipe's log.
void receive_notice(void* /*arg*/, const PGresult* result) {
  const std::string severity = field(result, PG_DIAG_SEVERITY_NONLOCALIZED);
  log::Level level = log::Level::info;
  if (severity == "WARNING") {
    level = log::Level::warning;
  } else if (severity == "DEBUG" || severity == "LOG") {
    level = log::Level::debug;
  }
  if (!log::enabled(level)) {
    return;
  }
  log::Fields fields{{"severity", severity}, {"sqlstate", field(result, PG_DIAG_SQLSTATE)}};
  if (const std::string detail = field(result, PG_DIAG_MESSAGE_DETAIL); !detail.empty()) {
    fields.emplace_back("detail", detail);
  }
  log::write(level, k_component, field(result, PG_DIAG_MESSAGE_PRIMARY), fields);
}

// libpq's connection error, reduced to its reason: the first line, without
// 'connection to server at "h", port p failed: ' and 'FATAL:  '.
std::string connection_failure_reason(std::string message) {
  message = trim(std::move(message));
  if (const auto newline = message.find('\n'); newline != std::string::npos) {
    message.resize(newline);
  }
  if (const auto failed = message.find("failed: "); failed != std::string::npos) {
    message.erase(0, failed + 8);
  }
  for (const std::string_view prefix : {"FATAL:  ", "FATAL: ", "ERROR:  "}) {
    if (message.rfind(prefix, 0) == 0) {
      message.erase(0, prefix.size());
    }
  }
  return trim(message);
}

// Defence in depth: libpq does not echo passwords, but never let one through.
std::string scrub_secrets(std::string text, const std::string& conninfo) {
  for (const auto& secret : conninfo_secrets(conninfo)) {
    if (secret.size() < 3) {
      continue; // too short to search for without mangling the message
    }
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
      text.replace(at, secret.size(), "***");
    }
  }
  return text;
}

[[noreturn]] void throw_connect_error(PGconn* conn, const std::string& conninfo) {
  const std::string raw = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
  const std::string reason = scrub_secrets(connection_failure_reason(raw), conninfo);
  std::string where = describe_target(conninfo);
  std::string database = target_database_name(conninfo);
  if (conn != nullptr && PQhost(conn) != nullptr && *PQhost(conn) != '\0') {
    where = std::string(PQhost(conn)) + ":" + PQport(conn) + "/" + PQdb(conn);
    database = PQdb(conn);
  }
  // libpq has no SQLSTATE for a failed connection; classify its message.
  if (contains(raw, "\"" + database + "\"") && contains(raw, "does not exist") &&
      contains(raw, "database")) {
    throw DbError("database \"" + database + "\" does not exist at PostgreSQL " + where +
                      "; create it with 'foodpipe seed-db' or set --db / DATABASE_URL",
                  std::string(sqlstate::k_invalid_catalog_name));
  }
  const bool needs_password = conn != nullptr && PQconnectionNeedsPassword(conn) != 0;
  if (needs_password || contains(raw, "password authentication failed") ||
      contains(raw, "no password supplied")) {
    throw DbError("PostgreSQL at " + where + " refused the login (" + reason +
                      "); check the user and password in --db / DATABASE_URL, POSTGRES_PASSWORD, "
                      "PGPASSWORD or the password file (PGPASSFILE, ~/.pgpass)",
                  std::string(sqlstate::k_invalid_password));
  }
  if (contains(raw, "pg_hba.conf") || (contains(raw, "role \"") && contains(raw, "does not exist"))) {
    throw DbError("PostgreSQL at " + where + " refused the login (" + reason +
                      "); check the user in --db / DATABASE_URL and the server's pg_hba.conf",
                  std::string(sqlstate::k_invalid_authorization));
  }
  if (contains(raw, "permission denied for database")) {
    throw DbError("PostgreSQL at " + where + " refused the connection (" + reason +
                      "); have the user granted CONNECT on the database, or set --db / DATABASE_URL",
                  std::string(sqlstate::k_insufficient_privilege));
  }
  if (contains(raw, "starting up") || contains(raw, "shutting down") ||
      contains(raw, "in recovery mode")) {
    throw DbError("PostgreSQL at " + where + " is not accepting connections yet (" + reason +
                      "); wait for it to finish starting and run again",
                  std::string(sqlstate::k_cannot_connect_now), true);
  }
  throw DbError("cannot connect to PostgreSQL at " + where + " (" + reason +
                    "); start it with compose/up or set --db / DATABASE_URL",
                std::string(sqlstate::k_unable_to_connect), true);
}

} // namespace

Connection Connection::connect(const std::string& conninfo, std::chrono::seconds connect_timeout) {
  // Validate first: a malformed string is a usage error, not an outage.
  (void)parse_conninfo(conninfo);
  const std::string timeout = std::to_string(connect_timeout.count());
  // Order matters: values from the expanded conninfo override the ones before it.
  // A server that stops answering without closing the socket (a partition, a
  // hung host) would otherwise block a query for the kernel's ~15 minutes:
  // keepalives and tcp_user_timeout turn it into a lost connection within
  // about 10 s, which the callers treat as transient.
  // client_encoding comes after the conninfo, so it wins over PGCLIENTENCODING
  // and over a client_encoding in the conninfo: every string foodpipe sends or
  // receives is UTF-8 (validated so on the way in), and another encoding would
  // have the server convert or refuse characters, changing stored text.
  const char* const keywords[] = {"connect_timeout", "keepalives",      "keepalives_idle",
                                  "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                                  "dbname",          "fallback_application_name", "client_encoding", nullptr};
  const char* const values[] = {timeout.c_str(), "1", "5", "2", "3", "10000", conninfo.c_str(), "foodpipe", "UTF8",
                                nullptr};
  ConnPtr conn(PQconnectdbParams(keywords, values, 1));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    throw_connect_error(conn.get(), conninfo);
  }
  PQsetNoticeReceiver(conn.get(), &receive_notice, nullptr);
  log::debug(std::string(k_component), "connected",
             {{"server", std::string(PQhost(conn.get())) + ":" + PQport(conn.get())},
              {"database", PQdb(conn.get())}});
  return Connection(std::move(conn));
}

Result Connection::check(PGresult* raw, std::string_view what) {
  ResultPtr result(raw);
  const bool lost = PQstatus(m_conn.get()) != CONNECTION_OK;
  if (!result) {
    throw DbError("lost the connection to PostgreSQL at " + describe() + " during " +
                      std::string(what) + " (" + trim(PQerrorMessage(m_conn.get())) +
                      "); check that the server is running and run again",
                  "", true);
  }
  switch (PQresultStatus(result.get())) {
  case PGRES_COMMAND_OK:
  case PGRES_TUPLES_OK:
  case PGRES_EMPTY_QUERY:
  case PGRES_SINGLE_TUPLE:
    return Result(std::move(result));
  case PGRES_COPY_IN: {
    // A COPY sent through exec(): end it so the connection is usable again.
    PQputCopyEnd(m_conn.get(), "COPY FROM STDIN must go through Connection::copy_in");
    while (PGresult* pending = PQgetResult(m_conn.get())) {
      PQclear(pending);
    }
    throw DbError(std::string(what) + ": COPY FROM STDIN must go through copy_in()", "");
  }
  case PGRES_COPY_OUT:
  case PGRES_COPY_BOTH:
    throw DbError(std::string(what) + ": COPY TO STDOUT is not supported by this wrapper", "");
  default:
    break;
  }
  const PGresult* failed = result.get();
  std::string code = field(failed, PG_DIAG_SQLSTATE);
  std::string primary = field(failed, PG_DIAG_MESSAGE_PRIMARY);
  if (primary.empty()) {
    primary = trim(PQresultErrorMessage(failed));
  }
  // A FATAL error ends the session (idle_session_timeout, an administrator's
  // pg_terminate_backend, ...): the server closes the socket right after it,
  // whether or not libpq has read that far yet.
  const std::string severity = field(failed, PG_DIAG_SEVERITY_NONLOCALIZED);
  if (lost || severity == "FATAL" || severity == "PANIC") {
    throw DbError("lost the connection to PostgreSQL at " + describe() + " during " +
                      std::string(what) + " (" + primary + (code.empty() ? "" : " [SQLSTATE " + code + "]") +
                      "); check that the server is running and run again",
                  std::move(code), true);
  }
  std::string message = std::string(what) + " failed on " + describe() + ": " + primary;
  if (const std::string detail = field(failed, PG_DIAG_MESSAGE_DETAIL); !detail.empty()) {
    message += " (" + detail + ")";
  }
  if (const std::string hint = field(failed, PG_DIAG_MESSAGE_HINT); !hint.empty()) {
    message += "; hint: " + hint;
  }
  if (!code.empty()) {
    message += " [SQLSTATE " + code + "]";
  }
  DbError error(message, std::move(code), false);
  error.set_diagnostics({primary, field(failed, PG_DIAG_MESSAGE_DETAIL), field(failed, PG_DIAG_CONTEXT)});
  throw error;
}

// Waits for the results of a statement sent with PQsend*, as PQexec would
// (the last result, or the first error), but in slices of 100 ms so that a
// server that stops answering cannot hold a stopping process hostage: once
// SIGINT/SIGTERM has arrived and the server has still not answered after
// k_stop_grace, the connection is abandoned and the caller gets a lost
// connection (its transaction never committed, or its outcome is unknown and
// settled from the stored offsets). A healthy server answers well within it.
// Once one statement was abandoned so, the others of the stopping process are
// abandoned at once (g_unanswered_while_stopping).
PGresult* Connection::await_result(int sent) {
  constexpr auto k_stop_grace = std::chrono::seconds(5);
  PGconn* conn = m_conn.get();
  if (sent == 0) {
    return nullptr; // check() reports PQerrorMessage as a lost connection
  }
  const int fd = PQsocket(conn);
  std::optional<std::chrono::steady_clock::time_point> stop_seen;
  const auto give_up_if_stopping = [&] {
    if (!stop_requested()) {
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!stop_seen) {
      stop_seen = now;
    }
    if (now - *stop_seen >= k_stop_grace || g_unanswered_while_stopping.load()) {
      g_unanswered_while_stopping.store(true);
      const std::string where = describe();
      m_conn.reset();
      // Caused by the stop, not by a fault: a command that cannot go on
      // reports the interruption (128 + the signal's number).
      throw DbError("gave up waiting for PostgreSQL at " + where + " while stopping: it did not answer for " +
                        std::to_string(k_stop_grace.count()) + " s",
                    "", true, ExitCode::interrupted);
    }
  };
  for (int flushed = PQflush(conn); flushed != 0; flushed = PQflush(conn)) {
    if (flushed < 0) {
      return PQgetResult(conn);
    }
    pollfd pfd{fd, POLLIN | POLLOUT, 0};
    if (poll(&pfd, 1, 100) > 0 && (pfd.revents & POLLIN) != 0 && PQconsumeInput(conn) == 0) {
      return PQgetResult(conn);
    }
    give_up_if_stopping();
  }
  while (PQisBusy(conn) != 0) {
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, 100) > 0 && PQconsumeInput(conn) == 0) {
      break; // the connection failed; PQgetResult says how
    }
    give_up_if_stopping();
  }
  PGresult* kept = nullptr;
  while (PGresult* next = PQgetResult(conn)) {
    const auto status = PQresultStatus(next);
    const bool kept_error = kept != nullptr && PQresultStatus(kept) == PGRES_FATAL_ERROR;
    if (kept_error) {
      PQclear(next);
    } else {
      PQclear(kept);
      kept = next;
    }
    if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
      break; // check() ends it
    }
  }
  return kept;
}

Result Connection::exec(const std::string& sql) {
  return check(await_result(PQsendQuery(m_conn.get(), sql.c_str())), "statement");
}

Result Connection::run_params(const std::string* sql, const std::string* statement_name,
                              std::span<const Param> params) {
  if (params.size() > static_cast<std::size_t>(INT_MAX)) {
    throw DbError("too many statement parameters", "");
  }
  // Text parameters must be NUL-terminated for libpq; binary ones carry a length.
  std::vector<std::string> text_copies;
  text_copies.reserve(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  std::vector<int> lengths(params.size(), 0);
  std::vector<int> formats(params.size(), 0);
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& value = params[i].value();
    if (!value) {
      continue;
    }
    if (params[i].binary()) {
      if (value->size() > static_cast<std::size_t>(INT_MAX)) {
        throw DbError("a bytea parameter is larger than libpq accepts", "");
      }
      values[i] = value->data();
      lengths[i] = static_cast<int>(value->size());
      formats[i] = 1;
    } else {
      // libpq reads a text parameter up to its first NUL: refuse rather than
      // silently store a truncated value (PostgreSQL text cannot hold NUL).
      if (value->find('\0') != std::string_view::npos) {
        throw DbError("a text parameter contains a NUL byte, which PostgreSQL text cannot hold [SQLSTATE 22021]",
                      "22021");
      }
      values[i] = text_copies.emplace_back(*value).c_str();
    }
  }
  const int count = static_cast<int>(params.size());
  if (statement_name != nullptr) {
    return check(await_result(PQsendQueryPrepared(m_conn.get(), statement_name->c_str(), count, values.data(),
                                                  lengths.data(), formats.data(), 0)),
                 "prepared statement \"" + *statement_name + "\"");
  }
  return check(await_result(PQsendQueryParams(m_conn.get(), sql->c_str(), count, nullptr, values.data(),
                                              lengths.data(), formats.data(), 0)),
               "statement");
}

Result Connection::exec_params(const std::string& sql, std::span<const Param> params) {
  return run_params(&sql, nullptr, params);
}

void Connection::prepare(const std::string& name, const std::string& sql) {
  // Sent and awaited like any statement: a server that stops answering while
  // a new session is set up must not outlive a SIGTERM either.
  check(await_result(PQsendPrepare(m_conn.get(), name.c_str(), sql.c_str(), 0, nullptr)),
        "preparing statement \"" + name + "\"");
  m_prepared.push_back(name);
}

Result Connection::exec_prepared(const std::string& name, std::span<const Param> params) {
  return run_params(nullptr, &name, params);
}

bool Connection::is_prepared(std::string_view name) const {
  for (const auto& prepared : m_prepared) {
    if (prepared == name) {
      return true;
    }
  }
  return false;
}

std::int64_t Connection::copy_in(const std::string& copy_sql, std::span<const std::string_view> chunks) {
  std::size_t next = 0;
  return copy_in(copy_sql, [&](std::string_view& chunk) {
    if (next == chunks.size()) {
      return false;
    }
    chunk = chunks[next++];
    return true;
  });
}

std::int64_t Connection::copy_in(const std::string& copy_sql,
                                 const std::function<bool(std::string_view&)>& next_chunk) {
  ResultPtr start(await_result(PQsendQuery(m_conn.get(), copy_sql.c_str())));
  if (!start || PQresultStatus(start.get()) != PGRES_COPY_IN) {
    check(start.release(), "COPY");
    throw DbError("copy_in() needs a COPY ... FROM STDIN statement", "");
  }
  start.reset();
  std::string failure;
  std::exception_ptr caller_failed;
  std::string_view chunk;
  for (;;) {
    try {
      if (!next_chunk(chunk)) {
        break;
      }
    } catch (...) {
      caller_failed = std::current_exception();
      failure = "the client stopped making data";
      break;
    }
    while (!chunk.empty() && failure.empty()) {
      const std::size_t piece = std::min<std::size_t>(chunk.size(), 1U << 20U);
      if (PQputCopyData(m_conn.get(), chunk.data(), static_cast<int>(piece)) != 1) {
        failure = trim(PQerrorMessage(m_conn.get()));
      }
      chunk.remove_prefix(piece);
    }
    if (!failure.empty()) {
      break;
    }
  }
  // With an error message, PQputCopyEnd makes the server fail the COPY.
  if (PQputCopyEnd(m_conn.get(), failure.empty() ? nullptr : "client failed to send data") != 1 &&
      failure.empty()) {
    failure = trim(PQerrorMessage(m_conn.get()));
  }
  if (caller_failed) {
    // The server's answer is the failure the client asked for; collect it and
    // leave the connection idle for the caller's rollback.
    ResultPtr(await_result(1)).reset();
    std::rethrow_exception(caller_failed);
  }
  // The server's answer is awaited in slices too: a reply that never comes
  // must not outlive a SIGTERM (await_result collects any extra results).
  const Result result = check(await_result(1), "COPY");
  if (!failure.empty()) {
    throw DbError("COPY to " + describe() + " failed while sending data (" + failure + ")", "",
                  !is_open());
  }
  return result.affected_rows();
}

std::string Connection::quote_identifier(std::string_view identifier) const {
  const PqStringPtr quoted(PQescapeIdentifier(m_conn.get(), identifier.data(), identifier.size()));
  if (!quoted) {
    throw DbError("cannot quote identifier: " + trim(PQerrorMessage(m_conn.get())), "");
  }
  return quoted.get();
}

std::string Connection::database_name() const {
  const char* name = m_conn ? PQdb(m_conn.get()) : nullptr;
  return name != nullptr ? name : "";
}

std::optional<std::string> Connection::parameter_status(const char* name) const {
  const char* value = m_conn ? PQparameterStatus(m_conn.get(), name) : nullptr;
  return value == nullptr ? std::nullopt : std::optional<std::string>(value);
}

std::string Connection::server_address() const {
  if (!m_conn) {
    return "(closed)";
  }
  const char* host = PQhost(m_conn.get());
  const char* port = PQport(m_conn.get());
  return std::string(host != nullptr ? host : "") + ":" + (port != nullptr ? port : "");
}

std::string Connection::describe() const { return server_address() + "/" + database_name(); }

int Connection::server_version() const noexcept { return PQserverVersion(m_conn.get()); }

bool Connection::is_open() const noexcept {
  return m_conn && PQstatus(m_conn.get()) == CONNECTION_OK;
}

bool Connection::in_transaction() const noexcept {
  const auto status = PQtransactionStatus(m_conn.get());
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

Connection connect_with_retry(const std::string& conninfo, const RetryPolicy& policy,
                              std::chrono::seconds connect_timeout) {
  auto backoff = policy.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    try {
      return Connection::connect(conninfo, connect_timeout);
    } catch (const DbError& error) {
      if (!error.is_transient() || (policy.max_attempts > 0 && attempt >= policy.max_attempts)) {
        throw;
      }
      log::warning(k_component, "cannot connect yet; retrying",
                   {{"attempt", std::to_string(attempt)},
                    {"retry_in_ms", std::to_string(backoff.count())},
                    {"error", error.what()}});
    }
    // Sleep in short steps so that a signal ends the wait promptly.
    const auto until = std::chrono::steady_clock::now() + backoff;
    while (std::chrono::steady_clock::now() < until) {
      if (stop_requested()) {
        throw Error("interrupted while waiting for PostgreSQL", ExitCode::interrupted);
      }
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          until - std::chrono::steady_clock::now(), std::chrono::milliseconds(50)));
    }
    backoff = std::min(backoff * 2, policy.max_backoff);
  }
}

} // namespace foodpipe::db
