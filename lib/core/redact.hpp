#pragma once

// Keeps secrets out of every output: logs, errors, --json summaries. (Connection
// strings: db::redact_conninfo.)

#include <string>
#include <string_view>

namespace foodpipe {

// True for configuration keys whose values are secrets: any key holding
// "password", "secret" or "token" (sasl.password, ssl.key.password,
// ssl.keystore.password, sasl.oauthbearer.client.secret, ...), ssl.key.pem,
// sasl.oauthbearer.config and sasl.jaas.config.
[[nodiscard]] bool is_secret_key(std::string_view key);

// The value to show for key=value: "***" for secrets, the value otherwise.
[[nodiscard]] std::string redact_value(std::string_view key, std::string_view value);

} // namespace foodpipe
