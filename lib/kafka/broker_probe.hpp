#pragma once

// Asks a broker which protocol versions it speaks (the ApiVersions request,
// over a plain TCP connection) so that foodpipe can say, in one line, when the
// broker and this librdkafka cannot work together, instead of a consumer group
// that silently never forms.
//
// The known case: Kafka 4.0 removed JoinGroup v0 (KIP-896) and librdkafka
// before 2.11.0 looks for exactly that version before it enables consumer
// groups (librdkafka issue #4948), so subscribe() can never succeed.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace foodpipe::kafka {

struct ApiVersionRange {
  std::int16_t api_key = 0;
  std::int16_t min_version = 0;
  std::int16_t max_version = 0;
};

struct ApiVersions {
  std::int16_t error_code = 0;
  std::vector<ApiVersionRange> apis;

  [[nodiscard]] std::optional<ApiVersionRange> find(std::int16_t api_key) const;
};

inline constexpr std::int16_t k_api_join_group = 11;
inline constexpr std::int16_t k_api_api_versions = 18;

// The encoded ApiVersions v0 request (size prefix included).
[[nodiscard]] std::string encode_api_versions_request(std::int32_t correlation_id,
                                                      const std::string& client_id);

// Decodes an ApiVersions v0 response body (after the size prefix). Throws
// std::runtime_error when it is malformed or the correlation id differs.
[[nodiscard]] ApiVersions decode_api_versions_response(const std::string& body,
                                                       std::int32_t correlation_id);

// Connects to host:port (plaintext only), sends ApiVersions v0 and returns the
// answer. Throws std::runtime_error (with the OS's reason) when the broker
// cannot be reached or answers nonsense within `timeout`.
[[nodiscard]] ApiVersions probe_api_versions(const std::string& host, std::uint16_t port,
                                             std::chrono::milliseconds timeout);

// librdkafka's version as a number, as rd_kafka_version() gives it (0xMMmmrrxx).
[[nodiscard]] int librdkafka_version_number();

// A one-line explanation when a consumer group cannot work between this broker
// and this librdkafka version; nullopt when it can.
[[nodiscard]] std::optional<std::string> group_incompatibility(const ApiVersions& broker,
                                                               int librdkafka_version,
                                                               const std::string& broker_address);

// "host:port" of the first entry of a bootstrap.servers list, without any
// "PLAINTEXT://" prefix; port 9092 when omitted.
struct HostPort {
  std::string host;
  std::uint16_t port = 9092;
};
[[nodiscard]] HostPort first_bootstrap_server(const std::string& bootstrap_servers);

} // namespace foodpipe::kafka
