#include <gtest/gtest.h>

#include "db/copy_buffer.hpp"
#include "db/error.hpp"

namespace foodpipe::db {
namespace {

TEST(DbError, TransientSqlstates) {
  // Connection exceptions, sessions the server ended (admin shutdown, crash,
  // idle-session and idle-in-transaction timeouts), a server still starting,
  // and the conflicts a new transaction resolves.
  for (const char* code : {"08000", "08001", "08003", "08004", "08006", "08P01", "57P01", "57P02", "57P03", "57P05",
                           "25P03", "40001", "40P01", "55P03"}) {
    EXPECT_TRUE(is_transient_sqlstate(code)) << code;
    EXPECT_TRUE(DbError("x", code).is_transient()) << code;
  }
  // What a retry cannot fix: a missing table, a privilege, a refused login, a
  // missing database, data the server refuses, a cancelled statement; and
  // codes that are not five characters.
  for (const char* code : {"", "23505", "23502", "22001", "22P02", "42P01", "42501", "3D000", "28P01", "28000",
                           "25P02", "57P04", "57014", "0800", "080011"}) {
    EXPECT_FALSE(is_transient_sqlstate(code)) << code;
    EXPECT_FALSE(DbError("x", code).is_transient()) << code;
  }
}

TEST(DbError, EveryLostConnectionIsTransient) {
  EXPECT_TRUE(DbError("lost", "", true).is_transient());
  EXPECT_FALSE(DbError("client-side", "", false).is_transient());
  // Whatever the server said as the session ended, its transaction is gone
  // and only a new connection goes on: a FATAL idle-session timeout ...
  EXPECT_TRUE(DbError("idle", "57P05", true).is_transient());
  // ... or an error the socket closed right after.
  EXPECT_TRUE(DbError("dup", "23505", true).is_transient());
  EXPECT_TRUE(DbError("gone", "57P04", true).is_transient());
  // A refused login is not a lost connection: it stays permanent.
  EXPECT_FALSE(DbError("login", "28P01", false).is_transient());
  EXPECT_FALSE(DbError("no table", "42P01", false).is_transient());
}

TEST(DbError, IsAFoodpipeErrorWithExitCode) {
  const DbError error("cannot connect", "08001");
  const Error& base = error;
  EXPECT_EQ(base.exit_code(), ExitCode::failure);
  EXPECT_EQ(DbError("bad conninfo", "", false, ExitCode::usage).exit_code(), ExitCode::usage);
  EXPECT_EQ(error.sqlstate(), "08001");
}

TEST(DbCopyBuffer, EscapesTextFormat) {
  CopyBuffer buffer;
  buffer.field("plain");
  buffer.field("tab\there");
  buffer.field("new\nline\r");
  buffer.field("back\\slash");
  buffer.field(std::nullopt);
  buffer.field("");
  buffer.end_row();
  buffer.field(R"(\N)");
  buffer.bytea(std::string_view("\x00\xff\x10", 3));
  buffer.end_row();
  EXPECT_EQ(buffer.rows(), 2U);
  EXPECT_EQ(buffer.data(), "plain\ttab\\there\tnew\\nline\\r\tback\\\\slash\t\\N\t\n"
                           "\\\\N\t\\\\x00ff10\n");
  buffer.clear();
  EXPECT_EQ(buffer.data(), "");
  EXPECT_EQ(buffer.rows(), 0U);
}

} // namespace
} // namespace foodpipe::db
