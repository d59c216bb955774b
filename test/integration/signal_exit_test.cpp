// One exit-status rule for SIGINT and SIGTERM, for every long-running command:
// the command finishes its work cleanly (the batch in flight, the summary or
// report on stdout, --json still one object) and exits 128 + the signal's
// number, 130 for SIGINT and 143 for SIGTERM, as a shell reports a process the
// signal killed.
//
// Each signal is sent at a moment the test can see, never after a guessed
// sleep: produce and consume once their work is visibly under way; replay and
// inspect --verify while PostgreSQL holds them on a table lock the test owns
// (released right after the signal, so the work in flight completes); seed-db
// while it waits for the migration lock the test holds.

#include <chrono>
#include <csignal>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "db/connection.hpp"
#include "db/migrator.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int k_orders = 2000;

const char* signal_name(int signal_number) { return signal_number == SIGINT ? "SIGINT" : "SIGTERM"; }

// stdout holds exactly one line, a JSON object; returns it parsed.
rapidjson::Document only_json_line(const std::string& out) {
  EXPECT_EQ(out.find('\n'), out.size() - 1) << "expected one line on stdout: " << out;
  return test::parse_json(out);
}

class SignalExitTest : public ::testing::TestWithParam<int> {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  }

  [[nodiscard]] int signal_number() const { return GetParam(); }
  [[nodiscard]] int expected_exit() const { return 128 + GetParam(); }

  void produce(int count) {
    const auto produced = test::run_foodpipe({"produce", "--topic", m_topic, "--rate", "0", "--count",
                                              std::to_string(count), "--seed", "11", "--quiet"});
    ASSERT_EQ(produced.exit_code, 0) << produced.err;
  }

  std::string sql(const std::string& query) { return test::query_value(m_db.conninfo(), query); }

  // Waits (at most 60 s) until `condition` holds.
  static void wait_for(const std::string& what, const std::function<bool()>& condition,
                       const test::BackgroundProcess& process) {
    const auto deadline = Clock::now() + 60s;
    while (!condition()) {
      ASSERT_LT(Clock::now(), deadline) << "timed out waiting for " << what << "; stderr:\n"
                                        << process.stderr_so_far();
      std::this_thread::sleep_for(50ms);
    }
  }

  // True while a foodpipe session on the scratch database waits for a lock.
  bool foodpipe_waits_for_a_lock() {
    return test::query_value(test::admin_conninfo(),
                             "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + m_db.name() +
                                 "' AND application_name = 'foodpipe' AND wait_event_type = 'Lock'") != "0";
  }

  // Runs `args` in the background while this test holds an exclusive lock on
  // `orders`; once foodpipe waits for it, sends the signal and releases the
  // lock, so the statement in flight completes. Returns the outcome.
  test::CommandResult signal_while_blocked_on_orders(const std::vector<std::string>& args) {
    auto locker = db::Connection::connect(m_db.conninfo());
    (void)locker.exec("BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE");
    test::BackgroundFoodpipe running(args);
    wait_for("foodpipe to wait for the lock on orders", [this] { return foodpipe_waits_for_a_lock(); }, running);
    running.signal(signal_number());
    // The signal is delivered at once; give the handler a moment before the lock goes.
    std::this_thread::sleep_for(100ms);
    (void)locker.exec("ROLLBACK");
    return running.wait(60);
  }

  test::ScratchDatabase m_db{"fpsignal"};
  std::string m_topic = test::unique_name("signal");
  std::string m_group = test::unique_name("signal_group");
};

TEST_P(SignalExitTest, ProduceFlushesReportsAndExits128PlusTheSignal) {
  test::BackgroundFoodpipe producer(
      {"produce", "--topic", m_topic, "--rate", "500", "--count", "100000000", "--json", "--quiet"});
  ASSERT_TRUE(producer.wait_for_output("generating orders", 60)) << producer.stderr_so_far();
  producer.signal(signal_number());
  const auto result = producer.wait(60);
  ASSERT_EQ(result.exit_code, expected_exit()) << signal_name(signal_number()) << ": " << result.err;
  const auto summary = only_json_line(result.out);
  EXPECT_TRUE(summary["interrupted"].GetBool());
  EXPECT_EQ(summary["failed"].GetUint64(), 0U);
  EXPECT_EQ(summary["sent"].GetUint64(), summary["delivered"].GetUint64());
}

TEST_P(SignalExitTest, ConsumeFinishesTheBatchReportsAndExits128PlusTheSignal) {
  produce(k_orders);
  test::BackgroundFoodpipe consumer(
      {"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--json", "--quiet"});
  const auto expected = std::to_string(k_orders);
  wait_for("every order in the database", [&] { return sql("SELECT count(*) FROM orders") == expected; }, consumer);
  consumer.signal(signal_number());
  const auto result = consumer.wait(60);
  ASSERT_EQ(result.exit_code, expected_exit()) << signal_name(signal_number()) << ": " << result.err;
  const auto summary = only_json_line(result.out);
  EXPECT_STREQ(summary["stopped_by"].GetString(), "signal");
  EXPECT_EQ(summary["consumed"].GetUint64(), static_cast<std::uint64_t>(k_orders));
}

TEST_P(SignalExitTest, ReplayFinishesTheBatchInFlightReportsAndExits128PlusTheSignal) {
  produce(k_orders);
  const auto result = signal_while_blocked_on_orders(
      {"replay", "--db", m_db.uri(), "--topic", m_topic, "--from-beginning", "--batch-size", "500", "--json", "--quiet"});
  ASSERT_EQ(result.exit_code, expected_exit()) << signal_name(signal_number()) << ": " << result.err;
  const auto summary = only_json_line(result.out);
  EXPECT_TRUE(summary["interrupted"].GetBool());
  EXPECT_LT(summary["read"].GetUint64(), static_cast<std::uint64_t>(k_orders));
  // What it reports is what is stored: a batch in flight was written, not dropped half-way.
  EXPECT_EQ(sql("SELECT count(*) FROM orders"), std::to_string(summary["applied"].GetUint64()));
  EXPECT_EQ(summary["applied"].GetUint64(), summary["read"].GetUint64());
}

TEST_P(SignalExitTest, VerifyFinishesItsReportAndExits128PlusTheSignal) {
  produce(k_orders);
  const auto consumed = test::run_foodpipe(
      {"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--until-end", "--quiet"});
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  const auto result = signal_while_blocked_on_orders(
      {"inspect", "--verify", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--json", "--quiet"});
  ASSERT_EQ(result.exit_code, expected_exit()) << signal_name(signal_number()) << ": " << result.err;
  const auto report = only_json_line(result.out);
  ASSERT_TRUE(report.IsObject() && report.HasMember("interrupted")) << result.out;
  // Stopped while reading, the report says so; past reading, the audit completes.
  if (!report["interrupted"].GetBool()) {
    EXPECT_EQ(report["checked"].GetUint64(), static_cast<std::uint64_t>(k_orders)) << result.out;
    EXPECT_TRUE(report["passed"].GetBool()) << result.out;
  }
}

TEST_P(SignalExitTest, SeedDbWaitingForTheMigrationLockExits128PlusTheSignal) {
  auto holder = db::Connection::connect(m_db.conninfo());
  (void)holder.exec("SELECT pg_advisory_lock(" + std::to_string(db::Migrator::k_lock_key) + ")");
  test::BackgroundFoodpipe seeding({"seed-db", "--db", m_db.uri()});
  ASSERT_TRUE(seeding.wait_for_output("waiting for another process to release the migration lock", 60))
      << seeding.stderr_so_far();
  seeding.signal(signal_number());
  const auto result = seeding.wait(60);
  ASSERT_EQ(result.exit_code, expected_exit()) << signal_name(signal_number()) << ": " << result.err;
  EXPECT_NE(result.err.find("foodpipe: error: interrupted while waiting for the migration lock"), std::string::npos)
      << result.err;
}

INSTANTIATE_TEST_SUITE_P(Signals, SignalExitTest, ::testing::Values(SIGINT, SIGTERM),
                         [](const ::testing::TestParamInfo<int>& signal) {
                           return std::string(signal_name(signal.param));
                         });

} // namespace
} // namespace foodpipe
