// Sessions that the server ends on its own (a FATAL message, then the socket
// closes): idle_session_timeout (57P05), idle_in_transaction_session_timeout
// (25P03) and pg_terminate_backend (57P01). Whatever the SQLSTATE, the next
// statement must fail with a DbError that says the connection is lost and that
// a retry on a new connection can help; a new connection then works.
//
// Each case sets its timeout on its own session (SET), never on the server or
// the database, and waits for the server to end that session (its pid gone
// from pg_stat_activity) rather than sleeping a guessed time.

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "db/connection.hpp"
#include "db/error.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;

bool session_alive(const std::string& pid) {
  return test::query_value(test::admin_conninfo(), "SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid) != "0";
}

// Waits (at most 15 s) until the server has ended session `pid`.
void wait_until_ended(const std::string& pid) {
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (session_alive(pid)) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the server did not end session " << pid;
    std::this_thread::sleep_for(50ms);
  }
}

// Runs a statement on a connection the server has ended and returns the error.
db::DbError error_after_loss(db::Connection& connection) {
  try {
    (void)connection.exec("SELECT 1");
  } catch (const db::DbError& error) {
    return error;
  }
  ADD_FAILURE() << "a statement on an ended session succeeded";
  return db::DbError("none", "");
}

class DbSessionLossTest : public ::testing::Test {
protected:
  // A session whose server-side end `provoke` arranges, then the error of the next statement.
  db::DbError lose_session(const std::function<void(db::Connection&, const std::string& pid)>& provoke) {
    auto connection = db::Connection::connect(m_db.conninfo());
    const std::string pid(connection.exec("SELECT pg_backend_pid()").value(0, 0));
    provoke(connection, pid);
    wait_until_ended(pid);
    auto error = error_after_loss(connection);
    EXPECT_FALSE(connection.is_open()) << "libpq should know the connection is gone";
    // And a retry on a new connection works.
    EXPECT_EQ(db::Connection::connect(m_db.conninfo()).exec("SELECT 1").value(0, 0), "1");
    return error;
  }

  test::ScratchDatabase m_db{"fpsessloss"};
};

TEST_F(DbSessionLossTest, IdleSessionTimeoutIsATransientLoss) {
  const auto error = lose_session([](db::Connection& connection, const std::string&) {
    (void)connection.exec("SET idle_session_timeout = '200ms'");
  });
  EXPECT_TRUE(error.connection_lost()) << error.what();
  EXPECT_TRUE(error.is_transient()) << error.sqlstate() << ": " << error.what();
  // The server's FATAL message is read before the closed socket, when libpq gets to it.
  EXPECT_TRUE(error.sqlstate() == "57P05" || error.sqlstate().empty()) << error.sqlstate();
}

TEST_F(DbSessionLossTest, IdleInTransactionTimeoutIsATransientLoss) {
  const auto error = lose_session([](db::Connection& connection, const std::string&) {
    (void)connection.exec("SET idle_in_transaction_session_timeout = '200ms'");
    (void)connection.exec("BEGIN");
  });
  EXPECT_TRUE(error.connection_lost()) << error.what();
  EXPECT_TRUE(error.is_transient()) << error.sqlstate() << ": " << error.what();
  EXPECT_TRUE(error.sqlstate() == "25P03" || error.sqlstate().empty()) << error.sqlstate();
}

TEST_F(DbSessionLossTest, TerminatedBackendIsATransientLoss) {
  const auto error = lose_session([](db::Connection&, const std::string& pid) {
    EXPECT_EQ(test::query_value(test::admin_conninfo(), "SELECT pg_terminate_backend(" + pid + ")"), "t");
  });
  EXPECT_TRUE(error.connection_lost()) << error.what();
  EXPECT_TRUE(error.is_transient()) << error.sqlstate() << ": " << error.what();
  EXPECT_TRUE(error.sqlstate() == "57P01" || error.sqlstate().empty()) << error.sqlstate();
}

// A permanent error on a healthy connection stays permanent: retrying cannot
// create a missing table.
TEST_F(DbSessionLossTest, AMissingTableIsNotTransient) {
  auto connection = db::Connection::connect(m_db.conninfo());
  try {
    (void)connection.exec("SELECT * FROM no_such_table");
    FAIL() << "a missing table was found";
  } catch (const db::DbError& error) {
    EXPECT_EQ(error.sqlstate(), "42P01");
    EXPECT_FALSE(error.connection_lost());
    EXPECT_FALSE(error.is_transient());
  }
  EXPECT_TRUE(connection.is_open());
}

} // namespace
} // namespace foodpipe
