// Secret redaction, the log record layout and the signal flag.

#include <csignal>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/signals.hpp"

namespace foodpipe {
namespace {

TEST(Redact, SecretKeys) {
  EXPECT_TRUE(is_secret_key("sasl.password"));
  EXPECT_TRUE(is_secret_key("ssl.key.password"));
  EXPECT_TRUE(is_secret_key("sasl.oauthbearer.client.secret"));
  EXPECT_TRUE(is_secret_key("ssl.keystore.password"));
  EXPECT_TRUE(is_secret_key("ssl.truststore.password"));
  EXPECT_TRUE(is_secret_key("SASL.Password"));
  EXPECT_TRUE(is_secret_key("some.future.client_secret"));
  EXPECT_TRUE(is_secret_key("sasl.jaas.config"));
  EXPECT_TRUE(is_secret_key("ssl.key.pem"));
  EXPECT_FALSE(is_secret_key("linger.ms"));
  EXPECT_FALSE(is_secret_key("sasl.username"));
  EXPECT_FALSE(is_secret_key("ssl.ca.location"));
  EXPECT_EQ(redact_value("sasl.password", "hunter2"), "***");
  EXPECT_EQ(redact_value("acks", "all"), "all");
}

TEST(Log, JsonRecordHasTheStableKeysAndEscapes) {
  const auto line = log::format_record(log::Format::json, "2026-11-28T07:00:00.000Z", log::Level::warning,
                                       "consumer", "bad \"order\"\n", {{"order_id", "ORD-1"}});
  rapidjson::Document doc;
  ASSERT_FALSE(doc.Parse(line.c_str()).HasParseError()) << line;
  EXPECT_STREQ(doc["time"].GetString(), "2026-11-28T07:00:00.000Z");
  EXPECT_STREQ(doc["level"].GetString(), "warning");
  EXPECT_STREQ(doc["component"].GetString(), "consumer");
  EXPECT_STREQ(doc["message"].GetString(), "bad \"order\"\n");
  EXPECT_STREQ(doc["order_id"].GetString(), "ORD-1");
}

TEST(Log, TextRecord) {
  EXPECT_EQ(log::format_record(log::Format::text, "T", log::Level::info, "seed-db", "done", {{"applied", "4"}}),
            "T info [seed-db] done applied=4");
}

TEST(Log, TextRecordIsOneLineWhateverTheValuesHold) {
  const auto line = log::format_record(log::Format::text, "T", log::Level::error, "postgres",
                                       "statement failed\nDETAIL: x", {{"error", "a\r\nb\tc\x1b[31md\\n"}});
  EXPECT_EQ(line, "T error [postgres] statement failed\\nDETAIL: x error=a\\r\\nb\\tc\\x1b[31md\\\\n");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\r'), std::string::npos);
  // Text that needs no escaping is written as it is, UTF-8 included.
  EXPECT_EQ(log::format_record(log::Format::text, "T", log::Level::info, "consume", "東京 🍣", {{"k", "v=1 w"}}),
            "T info [consume] 東京 🍣 k=v=1 w");
}

TEST(Log, JsonRecordIsOneLineWhateverTheValuesHold) {
  const auto line = log::format_record(log::Format::json, "T", log::Level::error, "postgres", "a\nb",
                                       {{"error", "c\r\nd\x01"}});
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_EQ(line.find('\r'), std::string::npos) << line;
  rapidjson::Document doc;
  ASSERT_FALSE(doc.Parse(line.c_str()).HasParseError()) << line;
  EXPECT_STREQ(doc["message"].GetString(), "a\nb");
  EXPECT_STREQ(doc["error"].GetString(), "c\r\nd\x01");
}

TEST(Signals, TheFirstSignalIsTheOneRecorded) {
  install_signal_handlers();
  reset_stop_request();
  ASSERT_EQ(std::raise(SIGTERM), 0);
  ASSERT_EQ(std::raise(SIGINT), 0); // a second signal: recorded as asked twice, not as the reason
  EXPECT_TRUE(stop_requested());
  EXPECT_EQ(stop_signal(), SIGTERM);
  // The second one restored SIGINT's default action; restore both for the other tests.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  reset_stop_request();
  EXPECT_EQ(stop_signal(), 0);
}

TEST(Log, LevelsParse) {
  EXPECT_EQ(log::parse_level("warn"), log::Level::warning);
  EXPECT_EQ(log::parse_level("nope"), std::nullopt);
  EXPECT_EQ(log::parse_format("json"), log::Format::json);
}

} // namespace
} // namespace foodpipe
