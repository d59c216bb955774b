// foodpipe consume when PostgreSQL ends its session between bursts of orders:
// idle_session_timeout (SQLSTATE 57P05, set on the scratch database only) and
// pg_terminate_backend (57P01). Every lost session is an outage like any other:
// the consumer logs a retry, reconnects, keeps going, and every order lands
// exactly once, which `inspect --verify` confirms afterwards.
//
// The orders come in bursts; between two bursts the test waits until the
// server has really ended the consumer's session (no foodpipe backend left on
// the database), so each burst's first batch meets a dead connection.

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int k_bursts = 3;
constexpr std::uint64_t k_burst_size = 400;

std::string admin_sql(const std::string& query) { return test::query_value(test::admin_conninfo(), query); }

int foodpipe_backends(const std::string& database) {
  return std::stoi(admin_sql("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + database +
                             "' AND application_name = 'foodpipe'"));
}

// The summary is the last non-empty line of stdout.
rapidjson::Document summary_of(const std::string& out) {
  const auto end = out.find_last_not_of('\n');
  const auto start = end == std::string::npos ? std::string::npos : out.rfind('\n', end);
  return test::parse_json(end == std::string::npos ? std::string() : out.substr(start == std::string::npos ? 0 : start + 1));
}

class ConsumeSessionLossTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  }

  void TearDown() override {
    // The scratch database is dropped anyway; this only keeps a failed run from
    // leaving a setting behind while it is still being looked at.
    try {
      admin_sql("ALTER DATABASE " + m_db.name() + " RESET ALL");
    } catch (const std::exception&) {
    }
  }

  void produce(std::uint64_t seed) {
    const auto produced = test::run_foodpipe({"produce", "--topic", m_topic, "--rate", "0", "--count",
                                              std::to_string(k_burst_size), "--seed", std::to_string(seed), "--quiet"});
    ASSERT_EQ(produced.exit_code, 0) << produced.err;
  }

  std::string sql(const std::string& query) { return test::query_value(m_db.conninfo(), query); }

  // Waits until `condition` holds; false (and a failure) if the consumer stops
  // first (a summary or an error line) or 60 s pass.
  static bool wait_for(const std::string& what, const test::BackgroundFoodpipe& consumer,
                       const std::function<bool()>& condition) {
    const auto deadline = Clock::now() + 60s;
    while (!condition()) {
      const auto err = consumer.stderr_so_far();
      if (!consumer.stdout_so_far().empty() || err.find("foodpipe: error:") != std::string::npos) {
        ADD_FAILURE() << "the consumer stopped while waiting for " << what << "; stderr:\n" << err;
        return false;
      }
      if (Clock::now() >= deadline) {
        ADD_FAILURE() << "timed out waiting for " << what << "; consumer stderr:\n" << err;
        return false;
      }
      std::this_thread::sleep_for(50ms);
    }
    return true;
  }

  // Bursts of orders; before each burst after the first, `end_sessions` makes
  // the server end the consumer's session (and waits until it has).
  void run_bursts(const std::function<bool(const test::BackgroundFoodpipe&)>& end_sessions) {
    const auto total = k_bursts * k_burst_size;
    produce(1);
    test::BackgroundFoodpipe consumer({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group,
                                       "--max-messages", std::to_string(total), "--json", "--quiet"});
    for (int burst = 1; burst <= k_bursts; ++burst) {
      const auto expected = std::to_string(static_cast<std::uint64_t>(burst) * k_burst_size);
      if (!wait_for("burst " + std::to_string(burst) + " in the database", consumer,
                    [&] { return sql("SELECT count(*) FROM orders") == expected; })) {
        return;
      }
      if (burst < k_bursts) {
        if (!end_sessions(consumer)) {
          return;
        }
        produce(static_cast<std::uint64_t>(burst) + 1);
      }
    }
    const auto result = consumer.wait(60);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const auto summary = summary_of(result.out);
    ASSERT_TRUE(summary.IsObject() && summary.HasMember("consumed")) << result.out;
    EXPECT_EQ(summary["consumed"].GetUint64(), total);
    EXPECT_EQ(summary["applied"].GetUint64(), total);
    EXPECT_EQ(summary["duplicates"].GetUint64(), 0U);
    EXPECT_EQ(summary["dead_letters"].GetUint64(), 0U);
    // Each burst after the first found its session gone, and retried.
    EXPECT_GE(summary["database_retries"].GetUint64(), static_cast<std::uint64_t>(k_bursts - 1)) << result.err;
    EXPECT_NE(result.err.find("retrying"), std::string::npos) << result.err;

    // Exactly once: every order one row, the stored offsets at the log end.
    EXPECT_EQ(sql("SELECT count(*) FROM orders"), std::to_string(total));
    EXPECT_EQ(sql("SELECT count(DISTINCT source_offset::text || '/' || source_partition) FROM orders"),
              std::to_string(total));
    EXPECT_EQ(sql("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE group_id = '" + m_group + "'"),
              std::to_string(total));
    const auto verified =
        test::run_foodpipe({"inspect", "--verify", "--group", m_group, "--topic", m_topic, "--db", m_db.uri()});
    EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  }

  test::ScratchDatabase m_db{"fpsessloss"};
  std::string m_topic = test::unique_name("sessloss");
  std::string m_group = test::unique_name("sessloss_group");
};

TEST_F(ConsumeSessionLossTest, IdleSessionTimeoutBetweenBurstsIsRetried) {
  // New sessions of this database only: the consumer's, inspect's, this test's.
  admin_sql("ALTER DATABASE " + m_db.name() + " SET idle_session_timeout = '1s'");
  run_bursts([this](const test::BackgroundFoodpipe& consumer) {
    return wait_for("the server to end the idle consumer session", consumer,
                    [this] { return foodpipe_backends(m_db.name()) == 0; });
  });
}

TEST_F(ConsumeSessionLossTest, TerminatedBackendBetweenBurstsIsRetried) {
  run_bursts([this](const test::BackgroundFoodpipe& consumer) {
    if (!wait_for("the consumer's session", consumer, [this] { return foodpipe_backends(m_db.name()) > 0; })) {
      return false;
    }
    admin_sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" + m_db.name() +
              "' AND application_name = 'foodpipe'");
    return wait_for("the terminated session to go", consumer, [this] { return foodpipe_backends(m_db.name()) == 0; });
  });
}

} // namespace
} // namespace foodpipe
