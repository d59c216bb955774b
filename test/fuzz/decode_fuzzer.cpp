// libFuzzer harness over the order decoder (domain::decode, decode_into).
// Built only with clang and FOODPIPE_FUZZ=ON, under AddressSanitizer and
// UndefinedBehaviorSanitizer; test/fuzz/run builds and runs it.
//
// Besides "no crash, no sanitizer report", each input is held to decode()'s
// contract (lib/domain/order_json.hpp), so that a broken promise is a crash
// libFuzzer keeps:
//   - decode() and decode_into() (with an order reused across inputs) agree;
//   - a rejection has a code the decoder may give and a one-line UTF-8 detail;
//   - an accepted order obeys every rule PostgreSQL relies on (sizes, no
//     U+0000, UTF-8, amounts within NUMERIC(10,2), created_at within
//     [k_min_timestamp, k_max_timestamp], exact totals), and
//     decode(encode(order)) == order, with encode() canonical;
//   - a limit below the size is too_large, whatever the bytes.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "domain/order_json.hpp"
#include "domain/timestamp.hpp"
#include "domain/utf8.hpp"

namespace {

using namespace foodpipe::domain;

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "decode_fuzzer: broken promise: %s\n", what);
    std::abort();
  }
}

void check_text(const std::string& text, std::size_t max_size, const char* what) {
  require(!text.empty() && text.size() <= max_size, what);
  require(text.find('\0') == std::string::npos, what);
  require(is_valid_utf8(text), what);
}

void check_amount(Money amount, const char* what) {
  require(amount > Money{} && amount <= k_max_amount, what);
}

void check_order(const Order& order) {
  check_text(order.order_id, k_max_order_id_size, "order_id within its limits");
  check_text(order.customer_id, k_max_id_size, "customer_id within its limits");
  check_text(order.customer_name, k_max_name_size, "customer_name within its limits");
  check_text(order.customer_email, k_max_email_size, "customer_email within its limits");
  require(order.customer_email.find('@') != std::string::npos, "customer_email has an '@'");
  require(!order.items.empty() && order.items.size() <= k_max_items, "1 to k_max_items items");
  Money sum;
  for (const LineItem& item : order.items) {
    check_text(item.item_id, k_max_id_size, "item_id within its limits");
    check_text(item.name, k_max_name_size, "item name within its limits");
    require(item.quantity >= 1 && item.quantity <= k_max_quantity, "quantity in 1..k_max_quantity");
    check_amount(item.price, "price in (0, k_max_amount]");
    check_amount(item.subtotal, "subtotal in (0, k_max_amount]");
    require(item.subtotal == item.price * item.quantity, "subtotal == price x quantity");
    sum += item.subtotal;
  }
  check_amount(order.total_amount, "total in (0, k_max_amount]");
  require(order.total_amount == sum, "total == sum of subtotals");
  require(order.created_at >= k_min_timestamp && order.created_at <= k_max_timestamp,
          "created_at within [k_min_timestamp, k_max_timestamp]");
  require(parse_order_status(to_string(order.status)).has_value(), "a known status");
}

void check_rejection(const Rejection& rejection) {
  // The consumer's reasons, never the decoder's.
  for (const auto consumers : {ReasonCode::conflicting_duplicate, ReasonCode::db_rejected,
                               ReasonCode::unsupported_schema, ReasonCode::illegal_transition,
                               ReasonCode::unknown_order}) {
    require(rejection.code != consumers, "a reason the decoder may give");
  }
  require(parse_reason_code(to_string(rejection.code)) == rejection.code, "a documented reason code");
  require(!rejection.detail.empty() && rejection.detail.size() <= 512, "a short detail");
  require(rejection.detail.find_first_of("\r\n") == std::string::npos, "a one-line detail");
  require(is_valid_utf8(rejection.detail), "a UTF-8 detail");
}

} // namespace

// Every UBSan report halts, except the one RapidJSON 1.1.0 makes on every
// parse (ubsan.supp says which and why); also when the binary is run by hand
// to replay an input.
extern "C" const char* __ubsan_default_options() {
  return "halt_on_error=1:print_stacktrace=1:suppressions=" FOODPIPE_UBSAN_SUPPRESSIONS;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // libFuzzer may pass a null pointer for an empty input; a tombstone is
  // data() == nullptr, so keep the two apart.
  const std::string_view bytes =
      size == 0 ? std::string_view("", 0) : std::string_view(reinterpret_cast<const char*>(data), size);

  const DecodeResult result = decode(bytes);
  static Order reused; // decode_into's promise: capacity reuse changes no result
  Rejection rejection;
  const bool ok = decode_into(bytes, reused, rejection);
  require(ok == result.ok(), "decode and decode_into agree");

  if (!result.ok()) {
    check_rejection(result.rejection());
    require(rejection == result.rejection(), "decode and decode_into give the same rejection");
  } else {
    const Order& order = result.order();
    require(reused == order, "decode and decode_into give the same order");
    check_order(order);
    const std::string encoded = encode(order);
    const DecodeResult again = decode(encoded);
    require(again.ok(), "an accepted order's encoding decodes");
    require(again.order() == order, "decode(encode(order)) == order");
    require(same_content(again.order(), order), "same_content after a round trip");
    require(encode(again.order()) == encoded, "encode is canonical");
  }

  if (size > 0) {
    const DecodeResult small = decode(bytes, DecodeLimits{size - 1});
    require(!small.ok() && small.rejection().code == ReasonCode::too_large, "a limit below the size is too_large");
  }
  return 0;
}
