#include <cstdlib>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "db/conninfo.hpp"
#include "db/error.hpp"

namespace foodpipe::db {
namespace {

std::string value_of(const ConninfoKeywords& keywords, const std::string& key) {
  for (const auto& [k, v] : keywords) {
    if (k == key) {
      return v;
    }
  }
  return "<unset>";
}

// Sets or unsets an environment variable for one test and restores it.
class ScopedEnv {
public:
  ScopedEnv(const char* name, const char* value) : m_name(name) {
    if (const char* old = std::getenv(name)) {
      m_old = old;
    }
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (m_old) {
      setenv(m_name.c_str(), m_old->c_str(), 1);
    } else {
      unsetenv(m_name.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
  std::string m_name;
  std::optional<std::string> m_old;
};

TEST(DbConninfo, MaintenanceFromUriKeepsEverythingButTheDatabase) {
  const std::string uri =
      "postgresql://app:s3cr%40t%20pw@db.example.com:6543/food_orders?sslmode=require&application_name=x";
  const auto maintenance = maintenance_conninfo(uri);
  const auto keywords = parse_conninfo(maintenance);
  EXPECT_EQ(value_of(keywords, "dbname"), "postgres");
  EXPECT_EQ(value_of(keywords, "host"), "db.example.com");
  EXPECT_EQ(value_of(keywords, "port"), "6543");
  EXPECT_EQ(value_of(keywords, "user"), "app");
  EXPECT_EQ(value_of(keywords, "password"), "s3cr@t pw"); // kept, for libpq
  EXPECT_EQ(value_of(keywords, "sslmode"), "require");
  EXPECT_EQ(value_of(keywords, "application_name"), "x");
}

TEST(DbConninfo, MaintenanceFromKeywordsWithQuotedValues) {
  const std::string conninfo = R"(host=localhost port=5432 dbname='my db' user=o\'brien password='it\'s a \\ secret')";
  const auto keywords = parse_conninfo(maintenance_conninfo(conninfo));
  EXPECT_EQ(value_of(keywords, "dbname"), "postgres");
  EXPECT_EQ(value_of(keywords, "user"), "o'brien");
  EXPECT_EQ(value_of(keywords, "password"), R"(it's a \ secret)");
  EXPECT_EQ(value_of(keywords, "host"), "localhost");
}

TEST(DbConninfo, WithDatabaseAddsDbnameWhenMissing) {
  const auto keywords = parse_conninfo(with_database("host=h user=u", "food orders"));
  EXPECT_EQ(value_of(keywords, "dbname"), "food orders");
  EXPECT_EQ(value_of(keywords, "host"), "h");
}

TEST(DbConninfo, LastDuplicateKeywordWinsAsInLibpq) {
  EXPECT_EQ(target_database_name("host=h dbname=postgres dbname=scratch_1"), "scratch_1");
}

TEST(DbConninfo, QuoteValueOnlyWhenNeeded) {
  EXPECT_EQ(quote_conninfo_value("plain"), "plain");
  EXPECT_EQ(quote_conninfo_value(""), "''");
  EXPECT_EQ(quote_conninfo_value("a b"), "'a b'");
  EXPECT_EQ(quote_conninfo_value("it's"), R"('it\'s')");
  EXPECT_EQ(quote_conninfo_value(R"(back\slash)"), R"('back\\slash')");
}

TEST(DbConninfo, FormatRoundTripsThroughLibpq) {
  const ConninfoKeywords keywords{
      {"host", "/var/run/postgresql"}, {"user", "o'brien"}, {"password", "p w\\'x"}, {"dbname", ""}};
  const auto parsed = parse_conninfo(format_conninfo(keywords));
  EXPECT_EQ(value_of(parsed, "host"), "/var/run/postgresql");
  EXPECT_EQ(value_of(parsed, "user"), "o'brien");
  EXPECT_EQ(value_of(parsed, "password"), "p w\\'x");
  EXPECT_EQ(value_of(parsed, "dbname"), "");
}

TEST(DbConninfo, TargetDatabaseFollowsLibpqDefaults) {
  const ScopedEnv no_database("PGDATABASE", nullptr);
  const ScopedEnv no_user("PGUSER", nullptr);
  EXPECT_EQ(target_database_name("postgresql://u@h/orders_db"), "orders_db");
  EXPECT_EQ(target_database_name("host=h user=alice"), "alice");
  {
    const ScopedEnv database("PGDATABASE", "from_env");
    EXPECT_EQ(target_database_name("host=h user=alice"), "from_env");
    EXPECT_EQ(target_database_name("host=h dbname=explicit"), "explicit");
  }
  {
    const ScopedEnv user("PGUSER", "env_user");
    EXPECT_EQ(target_database_name("host=h"), "env_user");
  }
  EXPECT_FALSE(target_database_name("host=h").empty()); // the OS user
}

TEST(DbConninfo, DescribeTargetHasNoSecrets) {
  const ScopedEnv no_host("PGHOST", nullptr);
  const ScopedEnv no_port("PGPORT", nullptr);
  EXPECT_EQ(describe_target("postgresql://app:hunter2@db:6000/orders"), "db:6000/orders");
  EXPECT_EQ(describe_target("host=db password=hunter2 dbname=orders"), "db:5432/orders");
}

TEST(DbConninfo, InvalidConninfoIsAUsageErrorWithoutThePassword) {
  try {
    (void)maintenance_conninfo("host=h password=hunter2secret nonsense_keyword=1");
    FAIL() << "expected DbError";
  } catch (const DbError& error) {
    EXPECT_EQ(error.exit_code(), ExitCode::usage);
    const std::string message = error.what();
    EXPECT_EQ(message.find("hunter2secret"), std::string::npos) << message;
    EXPECT_NE(message.find("nonsense_keyword"), std::string::npos) << message;
    EXPECT_NE(message.find("--db"), std::string::npos) << message;
  }
  try {
    (void)parse_conninfo("postgresql://app:hunter2secret@host/db?bogus_parameter=1");
    FAIL() << "expected DbError";
  } catch (const DbError& error) {
    EXPECT_EQ(std::string(error.what()).find("hunter2secret"), std::string::npos) << error.what();
  }
}

} // namespace
} // namespace foodpipe::db
