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

// postgres://user:secret@host/db?password=secret -> postgres://user:***@host/db?password=***
std::string redact_uri(std::string_view uri) {
  std::string out(uri);
  const auto scheme_end = out.find("://");
  const auto authority_start = scheme_end + 3;
  const auto authority_end = std::min(out.find_first_of("/?", authority_start), out.size());
  const auto at = out.rfind('@', authority_end);
  if (at != std::string::npos && at >= authority_start) {
    const auto colon = out.find(':', authority_start);
    if (colon != std::string::npos && colon < at) {
      out.replace(colon + 1, at - colon - 1, k_mask);
    }
  }
  // Query parameters: password=...
  const auto query = out.find('?');
  if (query != std::string::npos) {
    std::size_t pos = query + 1;
    while (pos < out.size()) {
      auto end = out.find('&', pos);
      if (end == std::string::npos) {
        end = out.size();
      }
      const auto eq = out.find('=', pos);
      if (eq != std::string::npos && eq < end && lower(std::string_view(out).substr(pos, eq - pos)) == "password") {
        out.replace(eq + 1, end - eq - 1, k_mask);
        end = eq + 1 + k_mask.size();
      }
      pos = end + 1;
    }
  }
  return out;
}

// host=h password='it''s' dbname=x -> host=h password=*** dbname=x
std::string redact_keyword_list(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto eq = text.find('=', pos);
    if (eq == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    // The keyword is the word right before '=' (spaces around '=' are allowed).
    auto key_end = eq;
    while (key_end > pos && std::isspace(static_cast<unsigned char>(text[key_end - 1]))) {
      --key_end;
    }
    auto key_start = key_end;
    while (key_start > pos && !std::isspace(static_cast<unsigned char>(text[key_start - 1]))) {
      --key_start;
    }
    const bool secret = lower(text.substr(key_start, key_end - key_start)) == "password";
    out.append(text.substr(pos, eq + 1 - pos));
    auto value_start = eq + 1;
    while (value_start < text.size() && std::isspace(static_cast<unsigned char>(text[value_start]))) {
      out.push_back(text[value_start]);
      ++value_start;
    }
    auto value_end = value_start;
    if (value_end < text.size() && text[value_end] == '\'') {
      ++value_end;
      while (value_end < text.size() && text[value_end] != '\'') {
        value_end += (text[value_end] == '\\') ? std::size_t{2} : std::size_t{1};
      }
      value_end = std::min(value_end + 1, text.size());
    } else {
      while (value_end < text.size() && !std::isspace(static_cast<unsigned char>(text[value_end]))) {
        value_end += (text[value_end] == '\\') ? std::size_t{2} : std::size_t{1};
      }
      value_end = std::min(value_end, text.size());
    }
    out.append(secret ? k_mask : text.substr(value_start, value_end - value_start));
    pos = value_end;
  }
  return out;
}

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

std::string redact_conninfo(std::string_view conninfo) {
  if (conninfo.find("://") != std::string_view::npos) {
    return redact_uri(conninfo);
  }
  return redact_keyword_list(conninfo);
}

} // namespace foodpipe
