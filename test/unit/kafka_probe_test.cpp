// The ApiVersions codec and the broker/librdkafka compatibility rule, including
// a peer on a local socket that answers like a Kafka 4.x broker (which this
// machine cannot run next to librdkafka 2.0.2's consumer groups).

#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "kafka/broker_probe.hpp"

namespace foodpipe::kafka {
namespace {

void put16(std::string& out, int value) {
  out.push_back(static_cast<char>((value >> 8) & 0xFF));
  out.push_back(static_cast<char>(value & 0xFF));
}
void put32(std::string& out, std::int32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xFF));
  }
}

std::string response_body(std::int32_t correlation_id, std::int16_t join_group_min) {
  std::string body;
  put32(body, correlation_id);
  put16(body, 0);
  put32(body, 2);
  put16(body, k_api_join_group);
  put16(body, join_group_min);
  put16(body, 9);
  put16(body, k_api_api_versions);
  put16(body, 0);
  put16(body, 4);
  return body;
}

TEST(BrokerProbe, RequestEncoding) {
  const auto request = encode_api_versions_request(7, "ab");
  // size(4) + key(2) + version(2) + correlation(4) + client id length(2) + "ab"
  ASSERT_EQ(request.size(), 16U);
  EXPECT_EQ(request.substr(0, 4), std::string("\0\0\0\x0c", 4));
  EXPECT_EQ(request.substr(4, 4), std::string("\0\x12\0\0", 4));
  EXPECT_EQ(request.substr(14), "ab");
}

TEST(BrokerProbe, ResponseDecoding) {
  const auto versions = decode_api_versions_response(response_body(42, 2), 42);
  ASSERT_EQ(versions.apis.size(), 2U);
  EXPECT_EQ(versions.find(k_api_join_group)->min_version, 2);
  EXPECT_EQ(versions.find(k_api_join_group)->max_version, 9);
  EXPECT_FALSE(versions.find(1).has_value());
  EXPECT_THROW((void)decode_api_versions_response(response_body(42, 2), 43), std::runtime_error);
  EXPECT_THROW((void)decode_api_versions_response(response_body(42, 2).substr(0, 9), 42), std::runtime_error);
}

TEST(BrokerProbe, Kafka4WithOldLibrdkafkaIsExplained) {
  const auto kafka4 = decode_api_versions_response(response_body(1, 2), 1);
  const auto message = group_incompatibility(kafka4, 0x020002ff, "localhost:9092");
  ASSERT_TRUE(message.has_value());
  EXPECT_NE(message->find("librdkafka 2.0.2"), std::string::npos) << *message;
  EXPECT_NE(message->find("2.11.0"), std::string::npos) << *message;
  EXPECT_NE(message->find("KIP-896"), std::string::npos) << *message;
  // Fixed librdkafka, or a 3.x broker: nothing to say.
  EXPECT_FALSE(group_incompatibility(kafka4, 0x020b00ff, "b").has_value());
  const auto kafka3 = decode_api_versions_response(response_body(1, 0), 1);
  EXPECT_FALSE(group_incompatibility(kafka3, 0x020002ff, "b").has_value());
}

TEST(BrokerProbe, FirstBootstrapServer) {
  EXPECT_EQ(first_bootstrap_server("localhost:9092").host, "localhost");
  EXPECT_EQ(first_bootstrap_server("PLAINTEXT://k1:9093,k2:9092").port, 9093);
  EXPECT_EQ(first_bootstrap_server("k1").port, 9092);
  EXPECT_EQ(first_bootstrap_server("[::1]:9094").host, "::1");
  EXPECT_EQ(first_bootstrap_server("[::1]:9094").port, 9094);
}

TEST(BrokerProbe, ProbesAPeerOverTcp) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  socklen_t length = sizeof address;
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  const auto port = ntohs(address.sin_port);

  std::thread peer([listener] {
    const int client = accept(listener, nullptr, nullptr);
    char request[64];
    const auto n = read(client, request, sizeof request);
    ASSERT_GE(n, 12);
    // Answer with the correlation id the request carried.
    const std::int32_t correlation = (static_cast<unsigned char>(request[8]) << 24) |
                                     (static_cast<unsigned char>(request[9]) << 16) |
                                     (static_cast<unsigned char>(request[10]) << 8) |
                                     static_cast<unsigned char>(request[11]);
    const auto body = response_body(correlation, 2);
    std::string answer;
    put32(answer, static_cast<std::int32_t>(body.size()));
    answer += body;
    ASSERT_EQ(write(client, answer.data(), answer.size()), static_cast<ssize_t>(answer.size()));
    close(client);
  });
  const auto versions = probe_api_versions("127.0.0.1", port, std::chrono::seconds(5));
  peer.join();
  close(listener);
  EXPECT_EQ(versions.find(k_api_join_group)->min_version, 2);
}

TEST(BrokerProbe, RefusedConnectionSaysSo) {
  try {
    (void)probe_api_versions("127.0.0.1", 1, std::chrono::seconds(2));
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("refused"), std::string::npos) << error.what();
  }
}

} // namespace
} // namespace foodpipe::kafka
