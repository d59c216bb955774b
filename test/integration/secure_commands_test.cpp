// Every command over the SASL_SSL listener of compose/up --secure, configured
// only by its client file (--config compose/.stack/client-librdkafka.properties):
// produce, consume, inspect (every view and --verify), replay, offsets and
// doctor work; a wrong password and a CA that did not sign the broker each
// fail every one of them within seconds, with exit 1 and one line.

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "support/stack.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;
using test::parse_json;

constexpr int k_orders = 300;

struct Timed {
  test::CommandResult result;
  std::chrono::milliseconds took{};
};

Timed run_timed(const std::vector<std::string>& args) {
  const auto started = std::chrono::steady_clock::now();
  Timed timed;
  timed.result = test::run_foodpipe(args);
  timed.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  return timed;
}

std::size_t lines_of(const std::string& text) {
  std::size_t lines = 0;
  for (std::size_t at = 0; at < text.size(); ++lines) {
    const auto end = text.find('\n', at);
    at = end == std::string::npos ? text.size() : end + 1;
  }
  return lines;
}

// The client file with one property's value replaced (the others as written).
std::string client_file_with(const std::string& key, const std::string& value) {
  const auto path = "/tmp/" + test::unique_name("fp_client") + ".properties";
  std::ofstream out(path);
  for (const auto& [k, v] : test::read_properties(test::secure_client_properties())) {
    out << k << "=" << (k == key ? value : v) << "\n";
  }
  return path;
}

// A topic with orders, consumed into a scratch database, all through the
// secure listener.
class SecureCommands : public ::testing::Test {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
    const auto produced = run({"produce", "--topic", m_topic, "--rate", "0", "--count", std::to_string(k_orders),
                               "--seed", "12", "--json", "--quiet"});
    ASSERT_EQ(produced.exit_code, 0) << produced.out << produced.err;
    EXPECT_EQ(parse_json(produced.out)["delivered"].GetUint64(), static_cast<std::uint64_t>(k_orders));
    const auto consumed = run({"consume", "--topic", m_topic, "--group", m_group, "--until-end", "--json", "--quiet"});
    ASSERT_EQ(consumed.exit_code, 0) << consumed.out << consumed.err;
    const auto summary = parse_json(consumed.out);
    EXPECT_EQ(summary["consumed"].GetUint64(), static_cast<std::uint64_t>(k_orders));
    EXPECT_EQ(summary["applied"].GetUint64(), static_cast<std::uint64_t>(k_orders));
  }

  // foodpipe with the secure client file, the scratch database and `extra`.
  test::CommandResult run(std::vector<std::string> args, const std::vector<std::string>& extra = {}) {
    args.insert(args.end(), {"--config", test::secure_client_properties(), "--db", m_db.uri()});
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_foodpipe(args);
  }

  // Every command that talks to Kafka, against this test's topic and group.
  std::vector<std::vector<std::string>> every_kafka_command() const {
    return {
        {"produce", "--topic", m_topic, "--count", "5"},
        {"consume", "--topic", m_topic, "--group", m_group, "--until-end"},
        {"inspect", "--topic", m_topic, "--group", m_group},
        {"inspect", "topic", "--topic", m_topic},
        {"inspect", "group", "--topic", m_topic, "--group", m_group},
        {"inspect", "messages", "--topic", m_topic, "--partition", "0"},
        {"inspect", "--verify", "--topic", m_topic, "--group", m_group, "--quiet"},
        {"replay", "--topic", m_topic, "--from-beginning", "--quiet"},
        {"offsets", "--topic", m_topic, "--group", m_group, "--to-earliest"},
        {"doctor"},
    };
  }

  // Runs every command with the client file `config` and `extra`; each must
  // fail with exit 1 in under 10 s, saying `expected` in one line (doctor in its
  // report, with nothing on stderr).
  void expect_every_command_refused(const std::string& config, const std::vector<std::string>& extra,
                                    const std::vector<std::string>& expected) {
    for (auto args : every_kafka_command()) {
      const auto shown = args[0] + (args.size() > 1 && args[1][0] != '-' ? " " + args[1] : "");
      args.insert(args.end(), {"--config", config, "--db", m_db.uri()});
      args.insert(args.end(), extra.begin(), extra.end());
      const auto [result, took] = run_timed(args);
      const auto said = test::refusal_text(shown, args[0], result, took);
      for (const auto& words : expected) {
        EXPECT_NE(said.find(words), std::string::npos) << shown << " should say '" << words << "':\n" << said;
      }
    }
  }

  test::ScratchDatabase m_db{"fpsecure"};
  std::string m_topic = test::unique_name("secure_orders");
  std::string m_group = test::unique_name("secure_group");
};

TEST_F(SecureCommands, EveryCommandWorksThroughTheClientFile) {
  const auto topic = run({"inspect", "topic", "--topic", m_topic, "--json"});
  ASSERT_EQ(topic.exit_code, 0) << topic.err;
  EXPECT_EQ(parse_json(topic.out)["topics"][0]["log_end_total"].GetInt64(), k_orders);

  const auto group = run({"inspect", "group", "--topic", m_topic, "--group", m_group, "--json"});
  ASSERT_EQ(group.exit_code, 0) << group.err;
  EXPECT_EQ(parse_json(group.out)["total_lag"].GetInt64(), 0);

  const auto overview = run({"inspect", "--topic", m_topic, "--group", m_group, "--json"});
  EXPECT_EQ(overview.exit_code, 0) << overview.err;

  const auto messages = run({"inspect", "messages", "--topic", m_topic, "--partition", "0", "--count", "3", "--json"});
  ASSERT_EQ(messages.exit_code, 0) << messages.err;
  EXPECT_EQ(lines_of(messages.out), 3U) << messages.out;
  EXPECT_EQ(std::string(parse_json(messages.out.substr(0, messages.out.find('\n')))["topic"].GetString()), m_topic);

  const auto order_id = test::query_value(m_db.conninfo(), "SELECT order_id FROM orders LIMIT 1");
  const auto order = run({"inspect", "order", order_id, "--topic", m_topic, "--json"});
  ASSERT_EQ(order.exit_code, 0) << order.err;
  EXPECT_NE(order.out.find(order_id), std::string::npos) << order.out;

  for (const auto* view : {"db", "dlq"}) {
    const auto result = run({"inspect", view, "--json"});
    EXPECT_EQ(result.exit_code, 0) << view << ": " << result.err;
  }

  const auto verify = run({"inspect", "--verify", "--topic", m_topic, "--group", m_group, "--json", "--quiet"});
  ASSERT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  const auto audit = parse_json(verify.out);
  EXPECT_TRUE(audit["passed"].GetBool());
  EXPECT_EQ(audit["ok"].GetUint64(), static_cast<std::uint64_t>(k_orders));

  // What is stored already: a replay reads it all and changes nothing.
  const auto replay = run({"replay", "--topic", m_topic, "--from-beginning", "--json", "--quiet"});
  ASSERT_EQ(replay.exit_code, 0) << replay.out << replay.err;
  EXPECT_EQ(parse_json(replay.out)["read"].GetUint64(), static_cast<std::uint64_t>(k_orders));
  EXPECT_EQ(test::query_value(m_db.conninfo(), "SELECT count(*) FROM orders"), std::to_string(k_orders));

  const auto offsets = run({"offsets", "--topic", m_topic, "--group", m_group, "--to-earliest", "--json"});
  EXPECT_EQ(offsets.exit_code, 0) << offsets.out << offsets.err;

  const auto doctor = run({"doctor", "--json"});
  ASSERT_EQ(doctor.exit_code, 0) << doctor.out << doctor.err;
  const auto findings = parse_json(doctor.out);
  EXPECT_TRUE(findings["kafka"]["reachable"].GetBool()) << doctor.out;
}

TEST_F(SecureCommands, AWrongPasswordFailsEveryCommandAtOnceInOneLine) {
  const auto config = client_file_with("sasl.password", "not-the-" + test::unique_name("password"));
  expect_every_command_refused(config, {}, {"authentication failed", "check sasl.username, sasl.password"});
}

TEST_F(SecureCommands, AWrongPasswordOnTheCommandLineBeatsTheFile) {
  const auto [result, took] =
      run_timed({"doctor", "--config", test::secure_client_properties(), "-X", "sasl.password=wrong"});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.out.find("authentication failed"), std::string::npos) << result.out;
  EXPECT_LT(took, 10s);
}

TEST_F(SecureCommands, AnUntrustedCertificateFailsEveryCommandInOneLine) {
  expect_every_command_refused(test::secure_client_properties(), {"-X", "ssl.ca.location=" + test::untrusted_ca_file()},
                               {"certificate verify failed", "check ssl.ca.location"});
}

} // namespace
} // namespace foodpipe
