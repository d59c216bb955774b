// The libpq wrapper against the real PostgreSQL of compose/up. A server that
// cannot be reached fails these tests; nothing is skipped.

#include <atomic>
#include <cstdio>
#include <functional>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "db/advisory_lock.hpp"
#include "db/connection.hpp"
#include "db/conninfo.hpp"
#include "db/copy_buffer.hpp"
#include "db/error.hpp"
#include "db/transaction.hpp"
#include "support/test_env.hpp"

namespace foodpipe::db {
namespace {

class DbConnectionTest : public ::testing::Test {
protected:
  test::ScratchDatabase m_database{"fp_dbconn"};
  Connection m_connection = Connection::connect(m_database.conninfo());
};

std::string sqlstate_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const DbError& error) {
    return error.sqlstate();
  }
  return "<no error>";
}

TEST_F(DbConnectionTest, DescribesItselfAndSetsApplicationName) {
  EXPECT_EQ(m_connection.database_name(), m_database.name());
  EXPECT_NE(m_connection.server_address().find(':'), std::string::npos);
  EXPECT_EQ(m_connection.describe(), m_connection.server_address() + "/" + m_database.name());
  EXPECT_GE(m_connection.server_version(), 150000);
  EXPECT_EQ(m_connection.exec("SHOW application_name").value(0, 0), "foodpipe");
  auto custom = Connection::connect(m_database.conninfo() + " application_name=custom");
  EXPECT_EQ(custom.exec("SHOW application_name").value(0, 0), "custom");
}

TEST_F(DbConnectionTest, ConnectsWithAUri) {
  auto connection = Connection::connect(m_database.uri());
  EXPECT_EQ(connection.database_name(), m_database.name());
}

TEST_F(DbConnectionTest, ResultsAndParameters) {
  const Result result = m_connection.exec_params(
      "SELECT $1::text AS a, $2::int + 1 AS b, $3::text AS c, 'Chloé' AS d", {"x y", "41", Param::null()});
  ASSERT_EQ(result.rows(), 1);
  ASSERT_EQ(result.columns(), 4);
  EXPECT_EQ(result.value(0, 0), "x y");
  EXPECT_EQ(result.value(0, result.column_index("b")), "42");
  EXPECT_TRUE(result.is_null(0, 2));
  EXPECT_FALSE(result.optional_value(0, 2));
  EXPECT_EQ(result.value(0, 3), "Chloé");
  EXPECT_EQ(result.column_name(1), "b");
  EXPECT_THROW((void)result.value(1, 0), std::out_of_range);
  EXPECT_THROW((void)result.column_index("nope"), std::out_of_range);
}

TEST_F(DbConnectionTest, MultipleStatementsAndAffectedRows) {
  m_connection.exec("CREATE TABLE t (id int PRIMARY KEY, note text); INSERT INTO t VALUES (1, 'a'), (2, 'b')");
  const Result updated = m_connection.exec("UPDATE t SET note = 'c'");
  EXPECT_EQ(updated.affected_rows(), 2);
  EXPECT_EQ(updated.command_status(), "UPDATE 2");
}

TEST_F(DbConnectionTest, BinaryByteaParameterRoundTrips) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) {
    bytes.push_back(static_cast<char>(i));
  }
  const Result result =
      m_connection.exec_params("SELECT length($1::bytea), encode($1::bytea, 'hex')", {Param::bytes(bytes)});
  EXPECT_EQ(result.value(0, 0), "256");
  std::string hex;
  for (int i = 0; i < 256; ++i) {
    char pair[3];
    std::snprintf(pair, sizeof pair, "%02x", i);
    hex += pair;
  }
  EXPECT_EQ(result.value(0, 1), hex);
}

TEST_F(DbConnectionTest, PreparedStatements) {
  m_connection.prepare("add", "SELECT $1::int + $2::int");
  EXPECT_TRUE(m_connection.is_prepared("add"));
  EXPECT_FALSE(m_connection.is_prepared("other"));
  EXPECT_EQ(m_connection.exec_prepared("add", {"2", "3"}).value(0, 0), "5");
  EXPECT_EQ(m_connection.exec_prepared("add", {"10", "-3"}).value(0, 0), "7");
  EXPECT_EQ(sqlstate_of([&] { m_connection.prepare("add", "SELECT 1"); }), "42P05");
}

TEST_F(DbConnectionTest, ErrorsCarrySqlstateAndLeaveTheConnectionUsable) {
  m_connection.exec("CREATE TABLE u (id int PRIMARY KEY)");
  m_connection.exec("INSERT INTO u VALUES (1)");
  try {
    m_connection.exec("INSERT INTO u VALUES (1)");
    FAIL() << "expected a unique violation";
  } catch (const DbError& error) {
    EXPECT_EQ(error.sqlstate(), "23505");
    EXPECT_FALSE(error.is_transient());
    EXPECT_FALSE(error.connection_lost());
    const std::string message = error.what();
    EXPECT_NE(message.find(m_database.name()), std::string::npos) << message;
    EXPECT_NE(message.find("duplicate key"), std::string::npos) << message;
  }
  EXPECT_EQ(sqlstate_of([&] { m_connection.exec("SELEC 1"); }), "42601");
  EXPECT_EQ(sqlstate_of([&] { m_connection.exec("SELECT * FROM missing_table"); }), "42P01");
  EXPECT_EQ(m_connection.exec("SELECT 1").value(0, 0), "1");
}

TEST_F(DbConnectionTest, TransactionRollsBackUnlessCommitted) {
  m_connection.exec("CREATE TABLE tx (id int PRIMARY KEY)");
  {
    Transaction transaction(m_connection);
    m_connection.exec("INSERT INTO tx VALUES (1)");
    EXPECT_TRUE(m_connection.in_transaction());
  }
  EXPECT_FALSE(m_connection.in_transaction());
  EXPECT_EQ(m_connection.exec("SELECT count(*) FROM tx").value(0, 0), "0");
  {
    Transaction transaction(m_connection, IsolationLevel::serializable);
    m_connection.exec("INSERT INTO tx VALUES (2)");
    transaction.commit();
  }
  EXPECT_EQ(m_connection.exec("SELECT count(*) FROM tx").value(0, 0), "1");
  try {
    Transaction transaction(m_connection);
    m_connection.exec("INSERT INTO tx VALUES (3)");
    throw std::runtime_error("work failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(m_connection.exec("SELECT count(*) FROM tx").value(0, 0), "1");
}

TEST_F(DbConnectionTest, CommitOfAnAbortedTransactionThrows) {
  m_connection.exec("CREATE TABLE tx (id int PRIMARY KEY)");
  Transaction transaction(m_connection);
  m_connection.exec("INSERT INTO tx VALUES (1)");
  EXPECT_THROW(m_connection.exec("INSERT INTO tx VALUES (1)"), DbError);
  EXPECT_EQ(sqlstate_of([&] { transaction.commit(); }), "25P02");
  EXPECT_FALSE(m_connection.in_transaction());
  EXPECT_EQ(m_connection.exec("SELECT count(*) FROM tx").value(0, 0), "0");
}

TEST_F(DbConnectionTest, CopyInWithEscapesNullsAndBytea) {
  m_connection.exec("CREATE TABLE staging (id int, note text, payload bytea)");
  CopyBuffer rows;
  rows.field("1");
  rows.field("tab\there, new\nline, back\\slash, Zoë");
  rows.bytea(std::string_view("\x00\x01\xff", 3));
  rows.end_row();
  rows.field("2");
  rows.field(std::nullopt);
  rows.field(std::nullopt);
  rows.end_row();
  // Split mid-row: COPY data is a byte stream.
  const std::string_view data = rows.data();
  const std::string_view chunks[] = {data.substr(0, 7), data.substr(7)};
  EXPECT_EQ(m_connection.copy_in("COPY staging (id, note, payload) FROM STDIN", chunks), 2);
  const Result result =
      m_connection.exec("SELECT note, encode(payload, 'hex'), payload IS NULL FROM staging ORDER BY id");
  EXPECT_EQ(result.value(0, 0), "tab\there, new\nline, back\\slash, Zoë");
  EXPECT_EQ(result.value(0, 1), "0001ff");
  EXPECT_TRUE(result.is_null(1, 0));
  EXPECT_EQ(result.value(1, 2), "t");
}

TEST_F(DbConnectionTest, CopyInFailureThrowsAndConnectionRecovers) {
  m_connection.exec("CREATE TABLE staging (id int)");
  EXPECT_EQ(sqlstate_of([&] { (void)m_connection.copy_in("COPY staging FROM STDIN", "not a number\n"); }),
            "22P02");
  EXPECT_EQ(m_connection.exec("SELECT count(*) FROM staging").value(0, 0), "0");
  EXPECT_THROW((void)m_connection.copy_in("SELECT 1", "x"), DbError);
  EXPECT_THROW(m_connection.exec("COPY staging FROM STDIN"), DbError);
  EXPECT_EQ(m_connection.exec("SELECT 1").value(0, 0), "1");
}

TEST_F(DbConnectionTest, CopyInStreamsPiecesMadeWhileSending) {
  m_connection.exec("CREATE TABLE staging (id int)");
  // Each piece is asked for only after the one before was handed over, and may
  // reuse the same buffer: 1,000 rows in pieces of 10.
  std::string piece;
  int next = 1;
  int calls = 0;
  const auto rows = m_connection.copy_in("COPY staging FROM STDIN", [&](std::string_view& chunk) {
    ++calls;
    if (next > 1000) {
      return false;
    }
    piece.clear();
    for (int i = 0; i < 10; ++i) {
      piece += std::to_string(next++) + "\n";
    }
    chunk = piece;
    return true;
  });
  EXPECT_EQ(rows, 1000);
  EXPECT_EQ(calls, 101);
  EXPECT_EQ(m_connection.exec("SELECT count(*), sum(id) FROM staging").value(0, 1), "500500");
}

TEST_F(DbConnectionTest, CopyInEndsTheCopyWhenThePieceMakerThrows) {
  m_connection.exec("CREATE TABLE staging (id int)");
  int pieces = 0;
  EXPECT_THROW((void)m_connection.copy_in("COPY staging FROM STDIN",
                                          [&](std::string_view& chunk) -> bool {
                                            if (++pieces == 3) {
                                              throw std::runtime_error("cannot encode this order");
                                            }
                                            chunk = "1\n";
                                            return true;
                                          }),
               std::runtime_error);
  // Nothing of the failed COPY stays, and the connection takes the next statement.
  EXPECT_EQ(m_connection.exec("SELECT count(*) FROM staging").value(0, 0), "0");
  EXPECT_EQ(m_connection.exec("SELECT 1").value(0, 0), "1");
}

TEST_F(DbConnectionTest, QuotesIdentifiers) {
  EXPECT_EQ(m_connection.quote_identifier("plain"), "\"plain\"");
  EXPECT_EQ(m_connection.quote_identifier("we\"ird"), "\"we\"\"ird\"");
}

TEST_F(DbConnectionTest, ServerNoticesDoNotDisturbStatements) {
  EXPECT_NO_THROW(m_connection.exec("DO $$ BEGIN RAISE NOTICE 'hello from a test'; RAISE WARNING 'careful'; END $$"));
}

TEST_F(DbConnectionTest, ATerminatedSessionIsALostTransientConnection) {
  try {
    m_connection.exec("SELECT pg_terminate_backend(pg_backend_pid())");
    FAIL() << "expected DbError";
  } catch (const DbError& error) {
    EXPECT_TRUE(error.connection_lost()) << error.what();
    EXPECT_TRUE(error.is_transient()) << error.sqlstate() << ": " << error.what();
  }
  EXPECT_FALSE(m_connection.is_open());
}

TEST(DbConnect, MissingDatabaseIs3D000) {
  const auto name = test::unique_name("fp_missing");
  try {
    (void)Connection::connect(test::conninfo_for(name));
    FAIL() << "expected DbError";
  } catch (const DbError& error) {
    EXPECT_EQ(error.sqlstate(), "3D000") << error.what();
    EXPECT_NE(std::string(error.what()).find(name), std::string::npos) << error.what();
  }
}

TEST(DbConnect, UnreachableServerSaysWhatToDoWithoutThePassword) {
  try {
    (void)Connection::connect("host=127.0.0.1 port=1 user=postgres password=hunter2secret dbname=food_orders",
                              std::chrono::seconds(2));
    FAIL() << "expected DbError";
  } catch (const DbError& error) {
    const std::string message = error.what();
    EXPECT_EQ(error.sqlstate(), "08001");
    EXPECT_TRUE(error.is_transient());
    EXPECT_NE(message.find("cannot connect to PostgreSQL at 127.0.0.1:1/food_orders"), std::string::npos) << message;
    EXPECT_NE(message.find("compose/up"), std::string::npos) << message;
    EXPECT_NE(message.find("DATABASE_URL"), std::string::npos) << message;
    EXPECT_EQ(message.find("hunter2secret"), std::string::npos) << message;
  }
}

TEST(DbConnect, RetryGivesUpAfterTheAttemptsAndPassesPermanentErrorsThrough) {
  const RetryPolicy policy{3, std::chrono::milliseconds(10), std::chrono::milliseconds(20)};
  const auto started = std::chrono::steady_clock::now();
  try {
    (void)connect_with_retry("host=127.0.0.1 port=1 dbname=x", policy, std::chrono::seconds(2));
    FAIL() << "expected DbError";
  } catch (const DbError& error) {
    EXPECT_EQ(error.sqlstate(), "08001");
  }
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(30)); // two waits
  // Not transient: thrown at once, not retried.
  const auto name = test::unique_name("fp_missing");
  EXPECT_EQ(sqlstate_of([&] { (void)connect_with_retry(test::conninfo_for(name), RetryPolicy{}); }), "3D000");
  const test::ScratchDatabase database("fp_retry");
  EXPECT_EQ(connect_with_retry(database.conninfo(), policy).database_name(), database.name());
}

TEST(DbConnect, MaintenanceConninfoReachesThePostgresDatabase) {
  const test::ScratchDatabase database("fp_maint");
  auto connection = Connection::connect(maintenance_conninfo(database.uri()));
  EXPECT_EQ(connection.database_name(), "postgres");
}

TEST(DbAdvisoryLock, SecondHolderWaitsForTheFirst) {
  const test::ScratchDatabase database("fp_lock");
  auto first = Connection::connect(database.conninfo());
  auto second = Connection::connect(database.conninfo());
  std::atomic<bool> second_has_it{false};
  std::thread waiter;
  {
    const AdvisoryLock lock(first, 42, "test");
    waiter = std::thread([&] {
      const AdvisoryLock other(second, 42, "test");
      second_has_it = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_FALSE(second_has_it);
    // Re-entrant within one session.
    const AdvisoryLock again(first, 42, "test");
  }
  waiter.join();
  EXPECT_TRUE(second_has_it);
  EXPECT_EQ(first.exec("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                        "(SELECT oid FROM pg_database WHERE datname = current_database())").value(0, 0), "0");
}

} // namespace
} // namespace foodpipe::db
