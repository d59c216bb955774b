#include "db/error.hpp"

namespace foodpipe::db {

bool is_transient_sqlstate(std::string_view code) noexcept {
  if (code.size() != 5) {
    return false;
  }
  return code.substr(0, 2) == "08" || code == "57P01" || code == "57P02" ||
         code == sqlstate::k_cannot_connect_now || code == sqlstate::k_serialization_failure ||
         code == sqlstate::k_deadlock_detected || code == "55P03" /* lock_not_available: lock_timeout */;
}

} // namespace foodpipe::db
