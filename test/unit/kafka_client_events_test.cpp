// What librdkafka's connection failures become: a refused login or an
// untrusted certificate is one line naming the setting to check.

#include <string>

#include <librdkafka/rdkafka.h>

#include <gtest/gtest.h>

#include "kafka/client_events.hpp"
#include "kafka/config.hpp"
#include "kafka/error.hpp"

namespace foodpipe::kafka {
namespace {

// librdkafka 2.0's texts, as its log callback (facility FAIL) passes them.
constexpr const char* k_bad_password =
    "sasl_ssl://localhost:9094/bootstrap: SASL authentication error: Authentication failed during "
    "authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512 (after 306ms in state "
    "AUTH_REQ)";
constexpr const char* k_untrusted =
    "ssl://localhost:9094/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate verify "
    "failed: broker certificate could not be verified, verify that ssl.ca.location is correctly configured or "
    "root CA certificates are installed (install ca-certificates package) (after 5ms in state SSL_HANDSHAKE)";
constexpr const char* k_refused =
    "localhost:9092/bootstrap: Connect to ipv4#127.0.0.1:9092 failed: Connection refused (after 0ms in state "
    "CONNECT)";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(KafkaClientEvents, ConnectionFailuresAreToldApart) {
  EXPECT_EQ(classify_connection_failure(k_bad_password), RD_KAFKA_RESP_ERR__AUTHENTICATION);
  EXPECT_EQ(classify_connection_failure(k_untrusted), RD_KAFKA_RESP_ERR__SSL);
  EXPECT_EQ(classify_connection_failure(k_refused), RD_KAFKA_RESP_ERR__TRANSPORT);
  EXPECT_EQ(classify_connection_failure("localhost:9094/bootstrap: SSL handshake failed: Disconnected: connecting "
                                        "to a PLAINTEXT broker listener?"),
            RD_KAFKA_RESP_ERR__SSL);
}

TEST(KafkaClientEvents, ARefusedLoginSaysAuthenticationFailedAndWhatToCheck) {
  const auto message = refusal_message("localhost:9094", RD_KAFKA_RESP_ERR__AUTHENTICATION, k_bad_password);
  EXPECT_TRUE(contains(message, "authentication failed")) << message;
  EXPECT_TRUE(contains(message, "invalid credentials with SASL mechanism SCRAM-SHA-512")) << message;
  EXPECT_TRUE(contains(message, "check sasl.username, sasl.password")) << message;
  EXPECT_TRUE(contains(message, "localhost:9094")) << message;
  EXPECT_FALSE(contains(message, "after 306ms")) << message;
  EXPECT_FALSE(contains(message, "\n")) << message;
}

TEST(KafkaClientEvents, AnUntrustedCertificateSaysSoAndNamesTheCaSetting) {
  const auto message = refusal_message("localhost:9094", RD_KAFKA_RESP_ERR__SSL, k_untrusted);
  EXPECT_TRUE(contains(message, "certificate verify failed")) << message;
  EXPECT_TRUE(contains(message, "check ssl.ca.location")) << message;
  EXPECT_FALSE(contains(message, "\n")) << message;
  const auto other = refusal_message("localhost:9094", RD_KAFKA_RESP_ERR__SSL,
                                     "localhost:9094/bootstrap: SSL handshake failed: error:0A00010B:SSL "
                                     "routines::wrong version number (after 2ms in state SSL_HANDSHAKE)");
  EXPECT_TRUE(contains(other, "(wrong version number)")) << other;
  EXPECT_TRUE(contains(other, "security.protocol")) << other;
}

TEST(KafkaClientEvents, TheRefusalOutlivesLaterErrorsAndEndsTheWait) {
  ClientEvents events;
  EXPECT_EQ(events.refusal_code(), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_NO_THROW(events.throw_if_refused("localhost:9094"));
  events.record_error(RD_KAFKA_RESP_ERR__AUTHENTICATION, k_bad_password);
  events.record_error(RD_KAFKA_RESP_ERR__TRANSPORT, k_refused);
  events.record_error(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, "1/1 brokers are down");
  EXPECT_EQ(events.refusal_code(), RD_KAFKA_RESP_ERR__AUTHENTICATION);
  EXPECT_TRUE(contains(unreachable_message("localhost:9094", events), "authentication failed"));
  try {
    events.throw_if_refused("localhost:9094");
    FAIL() << "expected KafkaError";
  } catch (const KafkaError& error) {
    EXPECT_EQ(error.exit_code(), ExitCode::failure);
    EXPECT_EQ(error.code(), RD_KAFKA_RESP_ERR__AUTHENTICATION);
    EXPECT_FALSE(error.retriable());
  }
}

TEST(KafkaClientEvents, UnreachableStaysUnreachableWithoutARefusal) {
  ClientEvents events;
  events.record_error(RD_KAFKA_RESP_ERR__TRANSPORT, k_refused);
  EXPECT_EQ(unreachable_message("localhost:9092", events),
            "cannot reach Kafka at localhost:9092 (Connection refused); start it with compose/up or set "
            "--bootstrap-servers");
}

TEST(KafkaConfig, PropertiesLibrdkafkaKnows) {
  for (const char* key : {"bootstrap.servers", "security.protocol", "sasl.mechanism", "sasl.username",
                          "sasl.password", "ssl.ca.location", "acks", "request.required.acks", "linger.ms"}) {
    EXPECT_TRUE(is_property(key)) << key;
  }
  for (const char* key : {"no.such.property", "bootstrap-servers", "ssl-ca-location"}) {
    EXPECT_FALSE(is_property(key)) << key;
  }
  // Names of Kafka's Java client librdkafka knows only to refuse them, saying why.
  EXPECT_TRUE(is_property("sasl.jaas.config"));
  EXPECT_THROW(validate_properties({{"sasl.jaas.config", "x"}}), UsageError);
}

} // namespace
} // namespace foodpipe::kafka
