// --replication-factor and --min-insync-replicas as written: whole numbers
// from 1 to 32767 from a flag or --config, or nothing (the cluster decides).

#include <fstream>

#include <gtest/gtest.h>

#include "app/replication_options.hpp"
#include "app/settings.hpp"
#include "core/error.hpp"
#include "support/test_env.hpp"

namespace foodpipe::app {
namespace {

kafka::ReplicationRequest request_of(const std::vector<std::string>& args) {
  const auto invocation = parse_invocation(args, {});
  return replication_request(invocation.context, invocation.options);
}

std::string usage_error(const std::vector<std::string>& args) {
  try {
    (void)request_of(args);
  } catch (const UsageError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(ReplicationOptions, NothingWrittenLeavesItToTheCluster) {
  const auto request = request_of({"produce"});
  EXPECT_FALSE(request.replication_factor.has_value());
  EXPECT_FALSE(request.min_insync_replicas.has_value());
}

TEST(ReplicationOptions, FlagsAreTakenWithHowTheyWereWritten) {
  const auto request = request_of({"produce", "--replication-factor", "3", "--min-insync-replicas", "2"});
  ASSERT_TRUE(request.replication_factor.has_value());
  EXPECT_EQ(request.replication_factor->value, 3);
  EXPECT_EQ(request.replication_factor->written, "--replication-factor 3");
  ASSERT_TRUE(request.min_insync_replicas.has_value());
  EXPECT_EQ(request.min_insync_replicas->value, 2);
  EXPECT_EQ(request.min_insync_replicas->written, "--min-insync-replicas 2");
  EXPECT_EQ(request_of({"produce", "--replication-factor", "32767"}).replication_factor->value, 32767);
}

TEST(ReplicationOptions, BadNumbersAreUsageErrors) {
  for (const char* bad : {"0", "-1", "1.5", "abc", "", "32768", "1e3", "99999999999"}) {
    EXPECT_THROW((void)request_of({"produce", "--replication-factor", bad}), UsageError) << bad;
    EXPECT_THROW((void)request_of({"produce", "--min-insync-replicas", bad}), UsageError) << bad;
  }
  EXPECT_EQ(usage_error({"produce", "--replication-factor", "0"}),
            "--replication-factor 0: expected a whole number from 1 to 32767");
  EXPECT_EQ(usage_error({"produce", "--min-insync-replicas", "x"}),
            "--min-insync-replicas x: expected a whole number from 1 to 32767");
}

TEST(ReplicationOptions, AConfigFileLineIsNamedInMessages) {
  const auto path = "/tmp/" + test::unique_name("foodpipe_replication") + ".conf";
  std::ofstream(path) << "replication-factor = 2\nmin-insync-replicas = 0\n";
  const auto invocation = parse_invocation({"produce", "--config", path}, {});
  try {
    (void)replication_request(invocation.context, invocation.options);
    FAIL();
  } catch (const UsageError& error) {
    EXPECT_EQ(std::string(error.what()),
              "min-insync-replicas = 0 in " + path +
                  " (--min-insync-replicas): expected a whole number from 1 to 32767");
  }
  const auto only_factor = "/tmp/" + test::unique_name("foodpipe_replication") + ".conf";
  std::ofstream(only_factor) << "replication-factor = 2\n";
  const auto request = request_of({"produce", "--config", only_factor});
  ASSERT_TRUE(request.replication_factor.has_value());
  EXPECT_EQ(request.replication_factor->written,
            "replication-factor = 2 in " + only_factor + " (--replication-factor)");
  std::remove(path.c_str());
  std::remove(only_factor.c_str());
}

} // namespace
} // namespace foodpipe::app
