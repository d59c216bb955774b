#pragma once

// Transaction: BEGIN in the constructor, ROLLBACK in the destructor unless
// commit() succeeded. Scope one per unit of work:
//
//   db::Transaction tx(conn);
//   conn.exec_params(...);
//   tx.commit();            // throws DbError; no rollback needed afterwards
//
// Not thread-safe (it uses its Connection, which must outlive it).

#include "db/connection.hpp"

namespace foodpipe::db {

enum class IsolationLevel { read_committed, repeatable_read, serializable };

class Transaction {
public:
  // Throws DbError when BEGIN fails.
  explicit Transaction(Connection& connection,
                       IsolationLevel isolation = IsolationLevel::read_committed);
  // Rolls back unless committed or rolled back; never throws (a failed
  // ROLLBACK is logged; a lost connection has rolled back on the server).
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // COMMIT. Throws DbError when the transaction was aborted by an earlier
  // error (then it is rolled back) or COMMIT fails; with connection_lost() the
  // outcome is unknown. Either way the transaction is over afterwards.
  void commit();
  // ROLLBACK now. Throws DbError when it fails.
  void rollback();

  [[nodiscard]] Connection& connection() noexcept { return m_connection; }

private:
  Connection& m_connection;
  bool m_finished = false;
};

} // namespace foodpipe::db
