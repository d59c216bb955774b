// compose/up --secure: the SASL_SSL listener (SCRAM-SHA-512 over TLS) answers
// librdkafka with the settings of client-librdkafka.properties as they are, and
// Kafka's own tools with client-java.properties; it refuses a client that does
// not trust its CA or gives a wrong password; and the PostgreSQL on 5433 wants a
// SCRAM password over TCP.

#include <chrono>
#include <set>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "kafka/admin.hpp"
#include "kafka/broker_probe.hpp"
#include "kafka/error.hpp"
#include "support/stack.hpp"
#include "support/test_env.hpp"

namespace foodpipe::kafka {
namespace {

using namespace std::chrono_literals;

// The properties file as librdkafka settings: bootstrap.servers apart, the rest
// as -X properties, each as written.
ClientSettings settings_from(const std::string& path) {
  ClientSettings settings;
  settings.bootstrap_servers.clear();
  for (auto& [key, value] : test::read_properties(path)) {
    if (key == "bootstrap.servers") {
      settings.bootstrap_servers = value;
    } else {
      settings.properties.emplace_back(key, value);
    }
  }
  EXPECT_FALSE(settings.bootstrap_servers.empty()) << path << " has no bootstrap.servers";
  return settings;
}

ClientSettings with(ClientSettings settings, const std::string& key, const std::string& value) {
  settings.properties.emplace_back(key, value); // later entries win
  return settings;
}

TEST(SecureListener, LibrdkafkaPropertiesFileConnectsOverSaslSsl) {
  const auto settings = settings_from(test::secure_client_properties());
  EXPECT_EQ(property_or(settings.properties, "security.protocol", ""), "SASL_SSL");
  EXPECT_EQ(property_or(settings.properties, "sasl.mechanism", ""), "SCRAM-SHA-512");
  Admin admin(settings);
  const auto metadata = admin.metadata(15s);
  ASSERT_FALSE(metadata.brokers.empty());
  // A client that came in through the SASL_SSL listener is told the brokers' SASL_SSL
  // addresses: the ports of the file's bootstrap.servers, one per broker.
  std::set<int> listed;
  std::istringstream servers(settings.bootstrap_servers);
  for (std::string server; std::getline(servers, server, ',');) {
    listed.insert(std::stoi(server.substr(server.rfind(':') + 1)));
  }
  std::set<int> advertised;
  for (const auto& broker : metadata.brokers) {
    advertised.insert(broker.port);
  }
  EXPECT_EQ(advertised, listed);
}

TEST(SecureListener, KafkaToolsListTopicsWithTheJavaPropertiesFile) {
  const auto settings = settings_from(test::secure_client_properties());
  const auto topic = test::unique_name("secure_topic");
  Admin admin(settings);
  ASSERT_EQ(admin.create_topic(topic, 1, 1, {}, 30s), Admin::CreateResult::created);
  const auto first = first_bootstrap_server(settings.bootstrap_servers);
  const auto listed = test::run_kafka_tool({"topics", "--list", "--bootstrap-server",
                                            first.host + ":" + std::to_string(first.port), "--command-config",
                                            test::secure_java_properties()});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find(topic), std::string::npos) << listed.out << listed.err;
}

TEST(SecureListener, ACaThatDidNotSignTheBrokersIsRefused) {
  Admin admin(with(settings_from(test::secure_client_properties()), "ssl.ca.location", test::untrusted_ca_file()));
  EXPECT_THROW((void)admin.metadata(5s), KafkaError);
}

TEST(SecureListener, AWrongPasswordIsRefused) {
  Admin admin(with(settings_from(test::secure_client_properties()), "sasl.password", "not-the-password"));
  EXPECT_THROW((void)admin.metadata(5s), KafkaError);
}

TEST(PasswordDatabase, TcpConnectionsNeedTheRolesScramPassword) {
  test::ScratchSecureDatabase db("p@ss:w?rd %20 'quoted' \\back");
  EXPECT_EQ(test::query_value(test::secure_db_admin_conninfo(),
                              "SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = '" + db.role() + "'"),
            "SCRAM-SHA-256$");
  const auto conninfo = db.conninfo_without_password();
  // libpq's conninfo quoting: single quotes around, backslash before ' and \.
  std::string quoted;
  for (const char c : db.password()) {
    if (c == '\'' || c == '\\') {
      quoted += '\\';
    }
    quoted += c;
  }
  EXPECT_EQ(test::query_value(conninfo + " password='" + quoted + "'", "SELECT current_user"), db.role());
  EXPECT_THROW((void)test::query_value(conninfo + " password=wrong", "SELECT 1"), std::runtime_error);
  EXPECT_THROW((void)test::query_value(conninfo + " password=", "SELECT 1"), std::runtime_error);
}

} // namespace
} // namespace foodpipe::kafka
