#include "db/transaction.hpp"

#include <libpq-fe.h>

#include "core/log.hpp"
#include "db/error.hpp"

namespace foodpipe::db {

Transaction::Transaction(Connection& connection, IsolationLevel isolation) : m_connection(connection) {
  switch (isolation) {
  case IsolationLevel::read_committed:
    m_connection.exec("BEGIN");
    break;
  case IsolationLevel::repeatable_read:
    m_connection.exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
    break;
  case IsolationLevel::serializable:
    m_connection.exec("BEGIN ISOLATION LEVEL SERIALIZABLE");
    break;
  }
}

Transaction::~Transaction() {
  if (m_finished || !m_connection.is_open()) {
    return;
  }
  try {
    m_connection.exec("ROLLBACK");
  } catch (const std::exception& error) {
    log::warning("postgres", "rollback failed", {{"error", error.what()}});
  }
}

void Transaction::commit() {
  m_finished = true;
  // COMMIT of an aborted transaction "succeeds" with the tag ROLLBACK; make it an error.
  if (PQtransactionStatus(m_connection.native()) == PQTRANS_INERROR) {
    m_connection.exec("ROLLBACK");
    throw DbError("transaction on " + m_connection.describe() +
                      " was aborted by an earlier error and has been rolled back",
                  "25P02");
  }
  const Result result = m_connection.exec("COMMIT");
  if (result.command_status() == "ROLLBACK") {
    throw DbError("transaction on " + m_connection.describe() + " was rolled back by the server",
                  "25P02");
  }
}

void Transaction::rollback() {
  m_finished = true;
  m_connection.exec("ROLLBACK");
}

} // namespace foodpipe::db
