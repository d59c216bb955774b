// A PostgreSQL that asks for passwords (compose/up --secure, port 5433): a
// role with a SCRAM password is reached through a --db URI (the password
// percent-encoded, '?', '@', ':', '%', quotes and spaces in it), PGPASSWORD,
// POSTGRES_PASSWORD with POSTGRES_HOST/PORT/DB/USER, and a password file
// (PGPASSFILE). A wrong password is exit 1 in one line for every command that
// opens the database, at once: consume does not retry it.

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "support/stack.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;
using test::parse_json;
using Env = std::map<std::string, std::string>;

// Every character a URI must percent-encode, quotes, a backslash and a '#'.
std::string awkward_password() { return "Pw ?@:%'\"\\#" + test::unique_name("x"); }

// No password of ours from the environment or a password file of the user's.
Env clean_env(Env env = {}) {
  for (const auto* name : {"DATABASE_URL", "PGPASSWORD", "PGPASSFILE", "POSTGRES_HOST", "POSTGRES_PORT",
                           "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD", "PGHOST", "PGPORT", "PGUSER",
                           "PGDATABASE"}) {
    env.emplace(name, "");
  }
  env["PGPASSFILE"] = env["PGPASSFILE"].empty() ? "/nonexistent/pgpass" : env["PGPASSFILE"];
  return env;
}

class PasswordLogin : public ::testing::Test {
protected:
  std::string uri(const std::string& password) const {
    return "postgresql://" + m_db.role() + ":" + test::percent_encoded(password) + "@" + test::secure_db_host() + ":" +
           std::to_string(test::secure_db_port()) + "/" + m_db.name();
  }

  // seed-db, then inspect db, reaching the database as `db_args` and `env` say.
  void expect_reached(const std::vector<std::string>& db_args, const Env& env) {
    std::vector<std::string> seed = {"seed-db", "--json"};
    seed.insert(seed.end(), db_args.begin(), db_args.end());
    const auto seeded = test::run_foodpipe(seed, clean_env(env));
    ASSERT_EQ(seeded.exit_code, 0) << seeded.out << seeded.err;
    std::vector<std::string> inspect = {"inspect", "db", "--json"};
    inspect.insert(inspect.end(), db_args.begin(), db_args.end());
    const auto inspected = test::run_foodpipe(inspect, clean_env(env));
    ASSERT_EQ(inspected.exit_code, 0) << inspected.out << inspected.err;
    EXPECT_NE(inspected.out.find(test::secure_db_host() + ":" + std::to_string(test::secure_db_port()) + "/" +
                                 m_db.name()),
              std::string::npos)
        << inspected.out;
    EXPECT_EQ(test::query_value(test::secure_db_admin_conninfo() + " dbname=" + m_db.name(),
                                "SELECT count(*) FROM menu_items"),
              "20");
  }

  // A password file with one line for this database (fields escaped as libpq
  // reads them), readable by its owner only.
  std::string password_file(const std::string& password) const {
    const auto escape = [](const std::string& field) {
      std::string out;
      for (const char c : field) {
        if (c == ':' || c == '\\') {
          out.push_back('\\');
        }
        out.push_back(c);
      }
      return out;
    };
    const auto path = "/tmp/" + test::unique_name("fp_pgpass");
    std::ofstream(path) << escape(test::secure_db_host()) << ":" << test::secure_db_port() << ":" << m_db.name()
                        << ":" << m_db.role() << ":" << escape(password) << "\n";
    EXPECT_EQ(chmod(path.c_str(), 0600), 0);
    return path;
  }

  // A topic with a few orders on the default broker, for consume.
  std::string topic_with_orders() {
    const auto topic = test::unique_name("pw_orders");
    const auto produced = test::run_foodpipe({"produce", "--topic", topic, "--rate", "0", "--count", "20", "--quiet"});
    EXPECT_EQ(produced.exit_code, 0) << produced.err;
    return topic;
  }

  std::string m_password = awkward_password();
  test::ScratchSecureDatabase m_db{m_password, "fppassword"};
};

TEST_F(PasswordLogin, AUriWithThePasswordPercentEncoded) {
  expect_reached({"--db", uri(m_password)}, {});
  // Also what consume and doctor open.
  const auto topic = topic_with_orders();
  const auto consumed = test::run_foodpipe(
      {"consume", "--db", uri(m_password), "--topic", topic, "--until-end", "--json", "--quiet"}, clean_env());
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  EXPECT_EQ(parse_json(consumed.out)["applied"].GetUint64(), 20U);
  const auto doctor = test::run_foodpipe({"doctor", "--db", uri(m_password)}, clean_env());
  EXPECT_EQ(doctor.exit_code, 0) << doctor.out << doctor.err;
}

TEST_F(PasswordLogin, PgPassword) {
  expect_reached({"--db", m_db.conninfo_without_password()}, {{"PGPASSWORD", m_password}});
}

TEST_F(PasswordLogin, PostgresPasswordAndTheOriginalProjectsVariables) {
  expect_reached({}, {{"POSTGRES_HOST", test::secure_db_host()},
                      {"POSTGRES_PORT", std::to_string(test::secure_db_port())},
                      {"POSTGRES_DB", m_db.name()},
                      {"POSTGRES_USER", m_db.role()},
                      {"POSTGRES_PASSWORD", m_password}});
}

TEST_F(PasswordLogin, APasswordFile) {
  const auto file = password_file(m_password);
  expect_reached({"--db", m_db.conninfo_without_password()}, {{"PGPASSFILE", file}});
  std::remove(file.c_str());
}

// Exit 1 in under 10 s, one line naming the user and what to check, and
// nothing of the wrong password (doctor: in its report, stderr empty).
void expect_refused_login(const std::vector<std::string>& args, const Env& env, const std::string& role,
                          const std::string& wrong) {
  const auto started = std::chrono::steady_clock::now();
  const auto result = test::run_foodpipe(args, env);
  const auto took = std::chrono::steady_clock::now() - started;
  const auto shown = args[0] + (args.size() > 1 && args[1][0] != '-' ? " " + args[1] : "");
  const auto said = test::refusal_text(shown, args[0], result, took);
  EXPECT_NE(said.find("password authentication failed for user \"" + role + "\""), std::string::npos)
      << shown << ":\n"
      << said;
  EXPECT_NE(said.find("; check the user and password"), std::string::npos) << shown << ":\n" << said;
  for (const auto& fragment : {wrong, test::percent_encoded(wrong)}) {
    EXPECT_EQ((result.out + result.err).find(fragment), std::string::npos) << shown << " shows the password";
  }
}

TEST_F(PasswordLogin, AWrongPasswordIsOneLineForEveryCommandThatOpensTheDatabase) {
  const auto seeded = test::run_foodpipe({"seed-db", "--db", uri(m_password)}, clean_env());
  ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  const auto topic = topic_with_orders();
  const auto group = test::unique_name("pw_group");
  const auto consumed = test::run_foodpipe(
      {"consume", "--db", uri(m_password), "--topic", topic, "--group", group, "--until-end", "--quiet"}, clean_env());
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;

  const auto wrong = awkward_password();
  const std::vector<std::vector<std::string>> commands = {
      {"seed-db"},
      {"consume", "--topic", topic, "--group", group, "--until-end"},
      {"inspect", "db"},
      {"inspect", "group", "--topic", topic, "--group", group},
      {"inspect", "--verify", "--topic", topic, "--group", group, "--quiet"},
      {"replay", "--topic", topic, "--from-beginning", "--quiet"},
      {"offsets", "--topic", topic, "--group", group, "--to-earliest"},
      {"doctor"},
  };
  for (auto args : commands) {
    args.insert(args.end(), {"--db", uri(wrong)});
    expect_refused_login(args, clean_env(), m_db.role(), wrong);
  }
  // Each other way of giving the password, wrong.
  const auto without = m_db.conninfo_without_password();
  expect_refused_login({"seed-db", "--db", without}, clean_env({{"PGPASSWORD", wrong}}), m_db.role(), wrong);
  expect_refused_login({"inspect", "db"},
                       clean_env({{"POSTGRES_HOST", test::secure_db_host()},
                                  {"POSTGRES_PORT", std::to_string(test::secure_db_port())},
                                  {"POSTGRES_DB", m_db.name()},
                                  {"POSTGRES_USER", m_db.role()},
                                  {"POSTGRES_PASSWORD", wrong}}),
                       m_db.role(), wrong);
  const auto file = password_file(wrong);
  expect_refused_login({"consume", "--topic", topic, "--group", group, "--until-end", "--db", without},
                       clean_env({{"PGPASSFILE", file}}), m_db.role(), wrong);
  std::remove(file.c_str());
}

} // namespace
} // namespace foodpipe
