// foodpipe doctor end to end on the working stack (the single node and
// PostgreSQL the suite runs on): every field of --json, its type, and its value
// wherever the test can know it from another source (inspect, --version, the
// database itself).

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using test::parse_json;

// The members of a JSON object, in order, as "name:type".
std::vector<std::string> shape_of(const rapidjson::Value& object) {
  static const char* const k_types[] = {"null", "false", "true", "object", "array", "string", "number"};
  std::vector<std::string> shape;
  for (const auto& member : object.GetObject()) {
    std::string type = k_types[member.value.GetType()];
    if (type == "false" || type == "true") {
      type = "bool";
    } else if (member.value.IsInt()) {
      type = "int";
    }
    shape.push_back(std::string(member.name.GetString()) + ":" + type);
  }
  return shape;
}

// What `foodpipe --version` names as librdkafka's version: "foodpipe V (librdkafka X, libpq Y)".
std::string librdkafka_version() {
  const auto result = test::run_foodpipe({"--version"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const std::string marker = "(librdkafka ";
  const auto start = result.out.find(marker);
  if (start == std::string::npos) {
    ADD_FAILURE() << "no librdkafka version in: " << result.out;
    return {};
  }
  const auto from = start + marker.size();
  return result.out.substr(from, result.out.find(',', from) - from);
}

// The PostgreSQL target as doctor describes a connection it made to `database` (the
// server it reached, as in every "cannot connect to PostgreSQL at ..." message).
std::string target_of(const std::string& database) {
  const char* host = std::getenv("FOODPIPE_TEST_DB_HOST");
  const std::string host_name = host != nullptr && *host != '\0' ? host : "127.0.0.1";
  return host_name + ":5432/" + database;
}

class DoctorTest : public ::testing::Test {
protected:
  // The fields the Kafka half must have on the single node, whatever the database.
  void expect_healthy_kafka(const rapidjson::Value& kafka) {
    EXPECT_EQ(shape_of(kafka),
              (std::vector<std::string>{"bootstrap_servers:string", "reachable:bool", "cluster_id:string",
                                        "brokers:int", "librdkafka_version:string",
                                        "consumer_groups_supported:bool", "problem:string",
                                        "missing_brokers:array", "expected_replication_factor:int",
                                        "replication:array", "warnings:array"}));
    EXPECT_EQ(std::string(kafka["bootstrap_servers"].GetString()), test::bootstrap_servers());
    EXPECT_TRUE(kafka["reachable"].GetBool());
    const auto topic =
        test::run_foodpipe({"inspect", "topic", "--json", "--topic", test::unique_name("doctor")});
    const auto view = parse_json(topic.out);
    ASSERT_TRUE(view.IsObject() && view.HasMember("cluster_id")) << topic.out << topic.err;
    EXPECT_STREQ(kafka["cluster_id"].GetString(), view["cluster_id"].GetString())
        << "inspect sees the same cluster";
    EXPECT_NE(std::string(kafka["cluster_id"].GetString()), "");
    EXPECT_EQ(kafka["brokers"].GetInt(), 1);
    EXPECT_EQ(std::string(kafka["librdkafka_version"].GetString()), librdkafka_version());
    EXPECT_TRUE(kafka["consumer_groups_supported"].GetBool());
    EXPECT_STREQ(kafka["problem"].GetString(), "");
    EXPECT_EQ(kafka["missing_brokers"].Size(), 0U);
    // One broker can only give a replication factor of 1, which every topic has: nothing to report.
    EXPECT_EQ(kafka["expected_replication_factor"].GetInt(), 1);
    EXPECT_EQ(kafka["replication"].Size(), 0U);
    EXPECT_EQ(kafka["warnings"].Size(), 0U);
  }

  test::ScratchDatabase m_db{"fpdoctor"};
};

TEST_F(DoctorTest, JsonOnTheWorkingStackHasEveryFieldWithItsExactValue) {
  const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
  ASSERT_EQ(seeded.exit_code, 0) << seeded.err;

  const auto result = test::run_foodpipe({"doctor", "--json", "--db", m_db.uri()});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(result.err, "") << "a healthy stack leaves nothing to say on stderr";
  ASSERT_EQ(result.out.find('\n'), result.out.size() - 1) << "one line of JSON: " << result.out;
  const auto report = parse_json(result.out);
  ASSERT_TRUE(report.IsObject()) << result.out;
  EXPECT_EQ(shape_of(report), (std::vector<std::string>{"ok:bool", "kafka:object", "postgres:object"}));
  EXPECT_TRUE(report["ok"].GetBool());
  expect_healthy_kafka(report["kafka"]);

  const auto& postgres = report["postgres"];
  EXPECT_EQ(shape_of(postgres),
            (std::vector<std::string>{"target:string", "reachable:bool", "database_exists:bool",
                                      "server_version:string", "schema_version:int", "problem:string"}));
  EXPECT_EQ(std::string(postgres["target"].GetString()), target_of(m_db.name()));
  EXPECT_TRUE(postgres["reachable"].GetBool());
  EXPECT_TRUE(postgres["database_exists"].GetBool());
  // server_version_num is major * 10000 + minor (PostgreSQL 10 and later).
  const auto number = std::stoi(test::query_value(m_db.conninfo(), "SHOW server_version_num"));
  EXPECT_EQ(std::string(postgres["server_version"].GetString()),
            std::to_string(number / 10000) + "." + std::to_string(number % 10000));
  EXPECT_EQ(std::to_string(postgres["schema_version"].GetInt()),
            test::query_value(m_db.conninfo(), "SELECT max(version) FROM schema_migrations"));
  EXPECT_STREQ(postgres["problem"].GetString(), "");
}

TEST_F(DoctorTest, JsonForADatabaseWithoutSchemaNamesSeedDbAndFails) {
  const auto result = test::run_foodpipe({"doctor", "--json", "--db", m_db.uri()});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  const auto report = parse_json(result.out);
  ASSERT_TRUE(report.IsObject()) << result.out;
  EXPECT_EQ(shape_of(report), (std::vector<std::string>{"ok:bool", "kafka:object", "postgres:object"}));
  EXPECT_FALSE(report["ok"].GetBool());
  expect_healthy_kafka(report["kafka"]);

  const auto& postgres = report["postgres"];
  EXPECT_EQ(shape_of(postgres),
            (std::vector<std::string>{"target:string", "reachable:bool", "database_exists:bool",
                                      "server_version:string", "schema_version:null", "problem:string"}));
  EXPECT_EQ(std::string(postgres["target"].GetString()), target_of(m_db.name()));
  EXPECT_TRUE(postgres["reachable"].GetBool());
  EXPECT_TRUE(postgres["database_exists"].GetBool());
  EXPECT_EQ(std::string(postgres["problem"].GetString()),
            "database " + m_db.name() + " has no schema yet; run foodpipe seed-db");
}

} // namespace
} // namespace foodpipe
