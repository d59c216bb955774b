// An error inside a rebalance callback (which librdkafka, C code, calls) must
// never unwind through librdkafka: the consumer stops cleanly with exit 1 and
// one line saying why. Provoked for real: the consumer_offsets table vanishes
// while a consumer runs, then another member joins the group, so the
// assignment that follows cannot read the stored offsets.

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "kafka/admin.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(ConsumeRebalanceError, AFailingAssignmentStopsTheConsumerWithOneLine) {
  test::ScratchDatabase database("fprebalance");
  const auto topic = test::unique_name("rebalance");
  const auto group = test::unique_name("group");
  ASSERT_EQ(test::run_foodpipe({"seed-db", "--db", database.uri()}).exit_code, 0);
  kafka::Admin admin({test::bootstrap_servers(), {}});
  admin.create_topic(topic, 2, 1, {}, 10s);
  admin.create_topic(topic + ".dlq", 2, 1, {}, 10s);
  ASSERT_EQ(test::run_foodpipe({"produce", "--topic", topic, "--rate", "0", "--count", "100", "--quiet"}).exit_code,
            0);

  test::BackgroundFoodpipe consumer({"consume", "--db", database.uri(), "--topic", topic, "--group", group});
  const auto deadline = Clock::now() + 60s;
  while (test::query_value(database.conninfo(), "SELECT count(*) FROM orders") != "100" && Clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(test::query_value(database.conninfo(), "SELECT count(*) FROM orders"), "100")
      << consumer.stderr_so_far();

  test::query_value(database.conninfo(), "ALTER TABLE consumer_offsets RENAME TO consumer_offsets_gone");
  // Another member (librdkafka's kcat) joins: the group rebalances.
  test::BackgroundProcess other("kcat", {"-b", test::bootstrap_servers(), "-G", group, topic, "-q", "-o",
                                         "end"});
  const auto result = consumer.wait(90);
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(result.err.find("terminate called"), std::string::npos) << result.err;
  const auto error = result.err.find("foodpipe: error: ");
  ASSERT_NE(error, std::string::npos) << result.err;
  const auto line = result.err.substr(error, result.err.find('\n', error) - error);
  EXPECT_NE(line.find("consumer_offsets"), std::string::npos) << line;
  EXPECT_EQ(result.err.find("foodpipe: error: ", error + 1), std::string::npos) << "one line: " << result.err;
}

} // namespace
} // namespace foodpipe
