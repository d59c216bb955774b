#pragma once

// SHA-256, for migration checksums that a user can compare with
// `sha256sum sql/001_*.sql` and for the digest of a dead letter cut short.
// OpenSSL's libcrypto computes it (already linked through libpq and
// librdkafka).

#include <string>
#include <string_view>

namespace foodpipe::db {

// Lower-case hex digest of bytes, as sha256sum prints it.
[[nodiscard]] std::string sha256_hex(std::string_view bytes);

} // namespace foodpipe::db
