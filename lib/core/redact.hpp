#pragma once

// Keeps secrets out of every output: logs, errors, --json summaries.

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

// A libpq conninfo (key=value list or postgres:// URI) with any password
// replaced by "***"; everything else is kept as written.
[[nodiscard]] std::string redact_conninfo(std::string_view conninfo);

} // namespace foodpipe
