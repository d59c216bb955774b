// No secret in any output: every command run with secrets set (the SASL
// password through the client file, then through -X with an ssl.key.password;
// a database password holding '?', '@', ':', '%' and a space, percent-encoded
// in a --db URI, then quoted in a keyword conninfo, each with an sslpassword),
// at --log-level debug, with --json, and with --metrics-port 0 where offered
// (scraped once). Neither stdout, stderr, the JSON nor the scrape holds any
// secret, as written or percent-encoded.

#include <csignal>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "support/stack.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using test::parse_json;

std::string keyword_quoted(const std::string& value) {
  std::string out = "'";
  for (const char c : value) {
    if (c == '\'' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out + "'";
}

struct Output {
  std::string label;
  std::string text;
};

class NoSecrets : public ::testing::Test {
protected:
  void SetUp() override {
    for (const auto& [key, value] : test::read_properties(test::secure_client_properties())) {
      if (key == "bootstrap.servers") {
        m_bootstrap = value;
      } else {
        m_properties.emplace_back(key, value);
      }
      if (key == "sasl.password") {
        m_secrets.push_back(value);
      }
    }
    ASSERT_EQ(m_secrets.size(), 1U) << "the client file has no sasl.password";
    m_secrets.insert(m_secrets.end(), {m_db_password, m_ssl_password, m_key_password});
  }

  // The database as a URI: the password percent-encoded, an sslpassword in the query.
  std::string db_uri() const {
    return "postgresql://" + m_db.role() + ":" + test::percent_encoded(m_db_password, false) + "@" +
           test::secure_db_host() + ":" + std::to_string(test::secure_db_port()) + "/" + m_db.name() +
           "?sslpassword=" + test::percent_encoded(m_ssl_password, false);
  }

  // The same as keyword=value, quoted.
  std::string db_keywords() const {
    return m_db.conninfo_without_password() + " password=" + keyword_quoted(m_db_password) +
           " sslpassword=" + keyword_quoted(m_ssl_password);
  }

  // The Kafka side through the client file.
  std::vector<std::string> through_file() const { return {"--config", test::secure_client_properties()}; }

  // The Kafka side through flags: every property as -X, and an ssl.key.password.
  std::vector<std::string> through_flags() const {
    std::vector<std::string> args = {"--bootstrap-servers", m_bootstrap};
    for (const auto& [key, value] : m_properties) {
      args.insert(args.end(), {"-X", key + "=" + value});
    }
    args.insert(args.end(), {"-X", "ssl.key.password=" + m_key_password});
    return args;
  }

  // Runs `args` + `kafka` + --db `db` at debug level, keeping what it printed.
  test::CommandResult run(std::vector<std::string> args, const std::vector<std::string>& kafka, const std::string& db,
                          int expected_exit = 0) {
    const auto label = args[0] + (args.size() > 1 && args[1][0] != '-' ? " " + args[1] : "");
    args.insert(args.end(), kafka.begin(), kafka.end());
    args.insert(args.end(), {"--db", db, "--log-level", "debug"});
    auto result = test::run_foodpipe(args);
    EXPECT_EQ(result.exit_code, expected_exit) << label << "\n" << result.out << result.err;
    keep(label, result);
    return result;
  }

  // Runs a command that serves metrics until its work is done, scrapes them
  // once, then stops it.
  test::CommandResult run_with_metrics(std::vector<std::string> args, const std::vector<std::string>& kafka,
                                       const std::string& db) {
    const auto label = args[0] + " (metrics)";
    args.insert(args.end(), kafka.begin(), kafka.end());
    args.insert(args.end(), {"--db", db, "--log-level", "debug", "--metrics-port", "0", "--metrics-linger", "60"});
    test::BackgroundFoodpipe process(args);
    EXPECT_TRUE(process.wait_for_output("still serving metrics", 60)) << label << "\n" << process.stderr_so_far();
    std::smatch port;
    const auto err = process.stderr_so_far();
    if (std::regex_search(err, port, std::regex(R"(serving Prometheus metrics address=127\.0\.0\.1 port=(\d+))"))) {
      const auto scrape = test::run_command("curl", {"-sS", "http://127.0.0.1:" + port[1].str() + "/metrics"});
      EXPECT_EQ(scrape.exit_code, 0) << scrape.err;
      EXPECT_NE(scrape.out.find("foodpipe_build_info"), std::string::npos) << scrape.out;
      m_outputs.push_back({label + " /metrics", scrape.out});
    } else {
      ADD_FAILURE() << label << ": no metrics port in\n" << err;
    }
    process.signal(SIGTERM);
    auto result = process.wait(60);
    EXPECT_EQ(result.exit_code, 128 + SIGTERM) << label << "\n" << result.out << result.err;
    keep(label, result);
    return result;
  }

  void keep(const std::string& label, const test::CommandResult& result) {
    m_outputs.push_back({label + " stdout", result.out});
    m_outputs.push_back({label + " stderr", result.err});
  }

  // Every command, with the Kafka settings `kafka` and the database `db`.
  void run_every_command(const std::vector<std::string>& kafka, const std::string& db) {
    const auto topic = test::unique_name("nosecrets");
    const auto group = test::unique_name("nosecrets_group");
    run({"seed-db", "--json"}, kafka, db);
    const auto produced =
        run_with_metrics({"produce", "--topic", topic, "--rate", "0", "--count", "50", "--json", "--quiet"}, kafka, db);
    EXPECT_EQ(parse_json(produced.out)["delivered"].GetUint64(), 50U);
    const auto consumed = run_with_metrics(
        {"consume", "--topic", topic, "--group", group, "--until-end", "--json", "--quiet"}, kafka, db);
    EXPECT_EQ(parse_json(consumed.out)["applied"].GetUint64(), 50U);
    const auto order_id = test::query_value(test::secure_db_admin_conninfo() + " dbname=" + m_db.name(),
                                            "SELECT order_id FROM orders WHERE source_topic = '" + topic + "' LIMIT 1");
    run({"inspect", "--topic", topic, "--group", group, "--json"}, kafka, db);
    run({"inspect", "topic", "--topic", topic, "--json"}, kafka, db);
    run({"inspect", "group", "--topic", topic, "--group", group, "--json"}, kafka, db);
    run({"inspect", "db", "--json"}, kafka, db);
    run({"inspect", "dlq", "--json"}, kafka, db);
    run({"inspect", "order", order_id, "--topic", topic, "--json"}, kafka, db);
    run({"inspect", "messages", "--topic", topic, "--partition", "0", "--count", "2", "--json"}, kafka, db);
    const auto verified = run({"inspect", "--verify", "--topic", topic, "--group", group, "--json"}, kafka, db);
    EXPECT_EQ(parse_json(verified.out)["ok"].GetUint64(), 50U);
    const auto replayed = run({"replay", "--topic", topic, "--from-beginning", "--json"}, kafka, db);
    EXPECT_EQ(parse_json(replayed.out)["read"].GetUint64(), 50U);
    run({"offsets", "--topic", topic, "--group", group, "--to-earliest", "--json"}, kafka, db);
    run({"doctor", "--json"}, kafka, db);
    // The failures say what went wrong without the secrets too.
    run({"doctor", "--json"}, kafka, db + (db.find("://") != std::string::npos ? "&" : " ") + "dbname=nosuchdb", 1);
  }

  // No output holds a secret, as written or percent-encoded (either case).
  void expect_no_secret() const {
    ASSERT_FALSE(m_outputs.empty());
    for (const auto& secret : m_secrets) {
      for (const auto& form : {secret, test::percent_encoded(secret, false), test::percent_encoded(secret, true)}) {
        for (const auto& [label, text] : m_outputs) {
          EXPECT_EQ(text.find(form), std::string::npos) << label << " holds the secret '" << form << "':\n" << text;
        }
      }
    }
  }

  std::string m_bootstrap;
  std::vector<std::pair<std::string, std::string>> m_properties;
  std::string m_db_password = "Db?@:% pw" + test::unique_name("x");
  std::string m_ssl_password = "Ssl?@:% pw" + test::unique_name("x");
  std::string m_key_password = "KeyPw" + test::unique_name("x");
  std::vector<std::string> m_secrets;
  test::ScratchSecureDatabase m_db{m_db_password, "fpnosecrets"};
  std::vector<Output> m_outputs;
};

TEST_F(NoSecrets, EveryCommandWithTheClientFileAndADatabaseUri) {
  run_every_command(through_file(), db_uri());
  expect_no_secret();
}

TEST_F(NoSecrets, EveryCommandWithFlagsAndAKeywordConninfo) {
  run_every_command(through_flags(), db_keywords());
  expect_no_secret();
}

} // namespace
} // namespace foodpipe
