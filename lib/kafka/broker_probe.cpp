#include "kafka/broker_probe.hpp"

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

namespace foodpipe::kafka {
namespace {

void put_i16(std::string& out, std::int16_t value) {
  const auto v = static_cast<std::uint16_t>(value);
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}

void put_i32(std::string& out, std::int32_t value) {
  const auto v = static_cast<std::uint32_t>(value);
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
  }
}

class Reader {
public:
  explicit Reader(const std::string& data) : m_data(data) {}

  std::int16_t i16() { return static_cast<std::int16_t>(take(2)); }
  std::int32_t i32() { return static_cast<std::int32_t>(take(4)); }

private:
  std::uint32_t take(std::size_t bytes) {
    if (m_pos + bytes > m_data.size()) {
      throw std::runtime_error("truncated ApiVersions response");
    }
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < bytes; ++i) {
      value = (value << 8) | static_cast<unsigned char>(m_data[m_pos++]);
    }
    return value;
  }

  const std::string& m_data;
  std::size_t m_pos = 0;
};

struct FdCloser {
  void operator()(const int* fd) const noexcept {
    if (*fd >= 0) {
      close(*fd);
    }
    delete fd;
  }
};

bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd pfd{fd, events, 0};
    const int rc = poll(&pfd, 1, static_cast<int>(left.count()));
    if (rc > 0) {
      return true;
    }
    if (rc < 0 && errno != EINTR) {
      throw std::runtime_error(std::strerror(errno));
    }
  }
}

std::string os_error(const std::string& what, int error) { return what + ": " + std::strerror(error); }

} // namespace

std::optional<ApiVersionRange> ApiVersions::find(std::int16_t api_key) const {
  for (const auto& api : apis) {
    if (api.api_key == api_key) {
      return api;
    }
  }
  return std::nullopt;
}

std::string encode_api_versions_request(std::int32_t correlation_id, const std::string& client_id) {
  std::string body;
  put_i16(body, k_api_api_versions);
  put_i16(body, 0); // version 0: the one every broker since 0.10 answers
  put_i32(body, correlation_id);
  put_i16(body, static_cast<std::int16_t>(client_id.size()));
  body += client_id;
  std::string request;
  put_i32(request, static_cast<std::int32_t>(body.size()));
  return request + body;
}

ApiVersions decode_api_versions_response(const std::string& body, std::int32_t correlation_id) {
  Reader reader(body);
  if (reader.i32() != correlation_id) {
    throw std::runtime_error("ApiVersions response for another request");
  }
  ApiVersions result;
  result.error_code = reader.i16();
  const auto count = reader.i32();
  if (count < 0 || count > 10000) {
    throw std::runtime_error("implausible ApiVersions array length");
  }
  result.apis.reserve(static_cast<std::size_t>(count));
  for (std::int32_t i = 0; i < count; ++i) {
    ApiVersionRange range;
    range.api_key = reader.i16();
    range.min_version = reader.i16();
    range.max_version = reader.i16();
    result.apis.push_back(range);
  }
  return result;
}

ApiVersions probe_api_versions(const std::string& host, std::uint16_t port,
                               std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const auto port_text = std::to_string(port);
  if (const int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &found); rc != 0) {
    throw std::runtime_error("cannot resolve " + host + ": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);

  std::string last_error = "no address";
  for (const addrinfo* address = addresses.get(); address != nullptr; address = address->ai_next) {
    std::unique_ptr<int, FdCloser> fd(new int(socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)));
    if (*fd < 0) {
      last_error = os_error("socket", errno);
      continue;
    }
    if (connect(*fd, address->ai_addr, address->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last_error = std::strerror(errno);
      continue;
    }
    if (!wait_for(*fd, POLLOUT, deadline)) {
      last_error = "timed out connecting";
      continue;
    }
    int so_error = 0;
    socklen_t length = sizeof so_error;
    getsockopt(*fd, SOL_SOCKET, SO_ERROR, &so_error, &length);
    if (so_error != 0) {
      last_error = std::strerror(so_error);
      continue;
    }

    constexpr std::int32_t k_correlation_id = 0x0F00D;
    const auto request = encode_api_versions_request(k_correlation_id, "foodpipe-probe");
    std::size_t sent = 0;
    while (sent < request.size()) {
      if (!wait_for(*fd, POLLOUT, deadline)) {
        throw std::runtime_error("timed out sending ApiVersions");
      }
      const ssize_t n = send(*fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        throw std::runtime_error(os_error("send", errno));
      }
      sent += n > 0 ? static_cast<std::size_t>(n) : 0;
    }

    std::string received;
    std::size_t wanted = 4;
    bool have_size = false;
    char buffer[4096];
    while (received.size() < wanted) {
      if (!wait_for(*fd, POLLIN, deadline)) {
        throw std::runtime_error("timed out waiting for the ApiVersions answer");
      }
      const ssize_t n = recv(*fd, buffer, sizeof buffer, 0);
      if (n == 0) {
        throw std::runtime_error("the broker closed the connection (is it a TLS or SASL listener?)");
      }
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) {
          continue;
        }
        throw std::runtime_error(os_error("recv", errno));
      }
      received.append(buffer, static_cast<std::size_t>(n));
      if (!have_size && received.size() >= 4) {
        Reader size_reader(received);
        const auto size = size_reader.i32();
        if (size < 0 || size > (1 << 20)) {
          throw std::runtime_error("not a Kafka broker (implausible response size)");
        }
        wanted = 4 + static_cast<std::size_t>(size);
        have_size = true;
      }
    }
    return decode_api_versions_response(received.substr(4, wanted - 4), k_correlation_id);
  }
  throw std::runtime_error(last_error);
}

int librdkafka_version_number() { return rd_kafka_version(); }

std::optional<std::string> group_incompatibility(const ApiVersions& broker, int librdkafka_version,
                                                 const std::string& broker_address) {
  constexpr int k_first_fixed = 0x020b0000; // 2.11.0
  const auto join_group = broker.find(k_api_join_group);
  if (!join_group || join_group->min_version == 0 || librdkafka_version >= k_first_fixed) {
    return std::nullopt;
  }
  const int major = (librdkafka_version >> 24) & 0xFF;
  const int minor = (librdkafka_version >> 16) & 0xFF;
  const int revision = (librdkafka_version >> 8) & 0xFF;
  return "the broker at " + broker_address + " no longer accepts JoinGroup v0 (Kafka 4.0 removed it, KIP-896) "
         "and librdkafka " + std::to_string(major) + "." + std::to_string(minor) + "." +
         std::to_string(revision) + " needs it for consumer groups; run a Kafka 3.x broker (compose/up "
         "starts 3.9) or build foodpipe with librdkafka 2.11.0 or newer";
}

HostPort first_bootstrap_server(const std::string& bootstrap_servers) {
  std::string first = bootstrap_servers.substr(0, bootstrap_servers.find(','));
  if (const auto scheme = first.find("://"); scheme != std::string::npos) {
    first = first.substr(scheme + 3);
  }
  while (!first.empty() && first.front() == ' ') {
    first.erase(first.begin());
  }
  HostPort result;
  std::string port_text;
  if (!first.empty() && first.front() == '[') {
    const auto close_bracket = first.find(']');
    result.host = first.substr(1, close_bracket - 1);
    if (close_bracket != std::string::npos && close_bracket + 1 < first.size() && first[close_bracket + 1] == ':') {
      port_text = first.substr(close_bracket + 2);
    }
  } else if (const auto colon = first.rfind(':'); colon != std::string::npos) {
    result.host = first.substr(0, colon);
    port_text = first.substr(colon + 1);
  } else {
    result.host = first;
  }
  if (!port_text.empty()) {
    const auto port = std::stoul(port_text);
    result.port = static_cast<std::uint16_t>(port);
  }
  return result;
}

} // namespace foodpipe::kafka
