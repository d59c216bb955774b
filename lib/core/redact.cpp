#include "core/redact.hpp"

#include <algorithm>
#include <cctype>

namespace foodpipe {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

constexpr std::string_view k_mask = "***";

} // namespace

bool is_secret_key(std::string_view key) {
  const auto k = lower(key);
  // sasl.jaas.config is Kafka's Java client's, which librdkafka refuses with a
  // message quoting the property: it holds a password.
  return k.find("password") != std::string::npos || k.find("secret") != std::string::npos ||
         k == "ssl.key.pem" || k == "sasl.oauthbearer.config" || k == "ssl_key" || k == "sasl.jaas.config" ||
         k.find("token") != std::string::npos;
}

std::string redact_value(std::string_view key, std::string_view value) {
  return is_secret_key(key) ? std::string(k_mask) : std::string(value);
}

} // namespace foodpipe
