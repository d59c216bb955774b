#include <gtest/gtest.h>

#include "db/copy_buffer.hpp"
#include "db/error.hpp"

namespace foodpipe::db {
namespace {

TEST(DbError, TransientSqlstates) {
  for (const char* code : {"08000", "08001", "08003", "08006", "57P01", "57P02", "57P03", "40001", "40P01"}) {
    EXPECT_TRUE(is_transient_sqlstate(code)) << code;
    EXPECT_TRUE(DbError("x", code).is_transient()) << code;
  }
  for (const char* code : {"", "23505", "42P01", "3D000", "28P01", "57014", "0800", "080011"}) {
    EXPECT_FALSE(is_transient_sqlstate(code)) << code;
  }
}

TEST(DbError, LostConnectionWithoutSqlstateIsTransient) {
  EXPECT_TRUE(DbError("lost", "", true).is_transient());
  EXPECT_FALSE(DbError("client-side", "", false).is_transient());
  // A constraint violation stays permanent even if the connection died after it.
  EXPECT_FALSE(DbError("dup", "23505", true).is_transient());
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
