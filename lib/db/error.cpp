#include "db/error.hpp"

namespace foodpipe::db {

bool is_transient_sqlstate(std::string_view code) noexcept {
  if (code.size() != 5) {
    return false;
  }
  return code.substr(0, 2) == "08" || code == sqlstate::k_admin_shutdown || code == sqlstate::k_crash_shutdown ||
         code == sqlstate::k_cannot_connect_now || code == sqlstate::k_idle_session_timeout ||
         code == sqlstate::k_idle_in_transaction_timeout || code == sqlstate::k_serialization_failure ||
         code == sqlstate::k_deadlock_detected || code == sqlstate::k_lock_not_available;
}

} // namespace foodpipe::db
