// --config FILE: foodpipe's options and librdkafka's properties side by side,
// so that a Kafka client .properties file works as it is written.

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "app/settings.hpp"
#include "support/test_env.hpp"

namespace foodpipe::app {
namespace {

using Property = std::pair<std::string, std::string>;

std::string write_config(const std::string& text) {
  const auto path = "/tmp/" + test::unique_name("foodpipe_config") + ".properties";
  std::ofstream(path) << text;
  return path;
}

// The client file compose/up --secure writes, in librdkafka's terms.
const std::string k_client_properties = "# librdkafka client settings for the SASL_SSL listener\n"
                                        "bootstrap.servers=localhost:9094\n"
                                        "security.protocol=SASL_SSL\n"
                                        "sasl.mechanism=SCRAM-SHA-512\n"
                                        "sasl.username=foodpipe\n"
                                        "sasl.password=s3cr#t = pass \n"
                                        "ssl.ca.location=/tmp/ca.pem\n";

Invocation parse(std::vector<std::string> args, const Environment& env = {}) {
  return parse_invocation(args, env);
}

UsageError usage_error(std::vector<std::string> args, const Environment& env = {}) {
  try {
    (void)parse(std::move(args), env);
  } catch (const UsageError& error) {
    return error;
  }
  ADD_FAILURE() << "expected UsageError";
  return UsageError("");
}

TEST(ConfigFile, AClientPropertiesFileIsReadAsItIsWritten) {
  const auto config = write_config(k_client_properties);
  const auto invocation = parse({"doctor", "--config", config});
  EXPECT_EQ(invocation.context.bootstrap_servers, "localhost:9094");
  EXPECT_EQ(invocation.context.origins.at("bootstrap-servers").kind, Origin::Kind::config_file);
  EXPECT_EQ(invocation.context.kafka_properties,
            (std::vector<Property>{{"security.protocol", "SASL_SSL"},
                                   {"sasl.mechanism", "SCRAM-SHA-512"},
                                   {"sasl.username", "foodpipe"},
                                   {"sasl.password", "s3cr#t = pass"},
                                   {"ssl.ca.location", "/tmp/ca.pem"}}));
}

TEST(ConfigFile, FoodpipeOptionsAndPropertiesMix) {
  const auto config = write_config("log-level = debug\n"
                                   "property = linger.ms=7\n"
                                   "  ! a Java-style comment\n"
                                   "\n"
                                   "linger.ms = 9\n"
                                   "topic = orders_from_file\n");
  const auto invocation = parse({"produce", "--config", config});
  EXPECT_EQ(invocation.context.log_level, log::Level::debug);
  EXPECT_EQ(invocation.context.kafka_properties, (std::vector<Property>{{"linger.ms", "7"}, {"linger.ms", "9"}}));
  EXPECT_EQ(invocation.options["topic"].as<std::string>(), "orders_from_file");
}

TEST(ConfigFile, FlagBeatsEnvironmentBeatsFile) {
  const auto config = write_config(k_client_properties);
  EXPECT_EQ(parse({"doctor", "--config", config}, {{"KAFKA_BOOTSTRAP_SERVERS", "env:9094"}}).context.bootstrap_servers,
            "env:9094");
  EXPECT_EQ(parse({"doctor", "--config", config, "--bootstrap-servers", "flag:9094"},
                  {{"KAFKA_BOOTSTRAP_SERVERS", "env:9094"}})
                .context.bootstrap_servers,
            "flag:9094");
  // A -X comes after the file's properties: librdkafka keeps the last value set.
  const auto props = parse({"doctor", "--config", config, "-X", "sasl.password=from_flag"}).context.kafka_properties;
  ASSERT_FALSE(props.empty());
  EXPECT_EQ(props.back(), (Property{"sasl.password", "from_flag"}));
  EXPECT_EQ(props[3], (Property{"sasl.password", "s3cr#t = pass"}));
}

TEST(ConfigFile, AnotherCommandsOptionIsNotAnError) {
  const auto config = write_config("rate = 50\ngroup = g1\nbootstrap.servers = b:1\n");
  EXPECT_EQ(parse({"seed-db", "--config", config}).context.bootstrap_servers, "b:1");
}

TEST(ConfigFile, AKeyThatIsNeitherIsAUsageErrorNamingTheLine) {
  const auto config = write_config("bootstrap.servers=localhost:9094\nbatch-sise=5\n");
  const auto error = usage_error({"consume", "--config", config});
  const std::string message = error.what();
  EXPECT_EQ(error.exit_code(), ExitCode::usage);
  EXPECT_NE(message.find(config + " line 2: 'batch-sise' is neither a foodpipe option nor a librdkafka property"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(ConfigFile, KafkasJavaClientFileIsRefusedSayingWhy) {
  const auto config = write_config("security.protocol=SASL_SSL\n"
                                   "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
                                   "required username=\"foodpipe\" password=\"s3cret\";\n");
  const std::string message = usage_error({"doctor", "--config", config}).what();
  EXPECT_NE(message.find(config + " line 2: -X sasl.jaas.config=***"), std::string::npos) << message;
  EXPECT_NE(message.find("Java JAAS configuration is not supported"), std::string::npos) << message;
}

TEST(ConfigFile, ABadPropertyValueNamesTheLineAndHidesSecrets) {
  const auto config = write_config("security.protocol = SASL_SSL\nsecurity.protocol = carrier_pigeon\n");
  const std::string message = usage_error({"doctor", "--config", config}).what();
  EXPECT_NE(message.find(config + " line 2: -X security.protocol=carrier_pigeon"), std::string::npos) << message;

  const auto secret = write_config("sasl.password\n");
  EXPECT_NE(std::string(usage_error({"doctor", "--config", secret}).what()).find("line 1: expected 'name = value'"),
            std::string::npos);
}

TEST(ConfigFile, LinesAreSplitAtTheFirstEqualsSign) {
  std::istringstream in("# comment\n  key.one =  a=b c  \r\nempty =\n\tk2=v2\n");
  const auto lines = read_config_lines(in, "f");
  ASSERT_EQ(lines.size(), 3U);
  EXPECT_EQ(lines[0].number, 2U);
  EXPECT_EQ(lines[0].key, "key.one");
  EXPECT_EQ(lines[0].value, "a=b c");
  EXPECT_EQ(lines[1].key, "empty");
  EXPECT_EQ(lines[1].value, "");
  EXPECT_EQ(lines[2].key, "k2");
  EXPECT_EQ(lines[2].value, "v2");
  std::istringstream no_name(" = value\n");
  EXPECT_THROW((void)read_config_lines(no_name, "f"), UsageError);
}

} // namespace
} // namespace foodpipe::app
