// The exit-status rule for signals, as every command follows it, and the JSON
// form of a failure.

#include <csignal>

#include <gtest/gtest.h>

#include "app/cli.hpp"

namespace foodpipe::app {
namespace {

TEST(ExitStatus, WithoutASignalTheCommandsOwn) {
  EXPECT_EQ(exit_status(ExitCode::ok, 0), 0);
  EXPECT_EQ(exit_status(ExitCode::failure, 0), 1);
  EXPECT_EQ(exit_status(ExitCode::usage, 0), 2);
  EXPECT_EQ(exit_status(ExitCode::interrupted, 0), 130);
}

TEST(ExitStatus, StoppedByASignalIs128PlusItsNumber) {
  EXPECT_EQ(exit_status(ExitCode::ok, SIGINT), 130);
  EXPECT_EQ(exit_status(ExitCode::ok, SIGTERM), 143);
  EXPECT_EQ(exit_status(ExitCode::interrupted, SIGINT), 130);
  EXPECT_EQ(exit_status(ExitCode::interrupted, SIGTERM), 143);
}

TEST(ExitStatus, AFailureWinsOverTheSignal) {
  // E.g. produce with undelivered messages after SIGTERM: the loss matters more.
  EXPECT_EQ(exit_status(ExitCode::failure, SIGTERM), 1);
  EXPECT_EQ(exit_status(ExitCode::failure, SIGINT), 1);
  EXPECT_EQ(exit_status(ExitCode::usage, SIGTERM), 2);
}

TEST(ErrorJson, OneObjectWithTheMessageAndTheExitStatus) {
  EXPECT_EQ(error_json("--rate abc: expected a number", 2),
            R"({"error":"--rate abc: expected a number","exit_code":2})");
  EXPECT_EQ(error_json("cannot reach \"db\"\t\\", 1), R"({"error":"cannot reach \"db\"\t\\","exit_code":1})");
}

} // namespace
} // namespace foodpipe::app
