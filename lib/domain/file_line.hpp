#pragma once

// Which kind of message one line of `produce --from-file` holds. A message on
// the topic says what it is in its headers (message_kind.hpp); a line of a file
// has none, so the line itself has to say, by the first of these that applies
// to its top-level object (docs/messages.md, "Files of orders and events"):
//
//   a "type" member   its value as the type header's would be read: "order" or
//                     "order_status"; any other value (or a value that is not
//                     a string) is unsupported_schema, so a line meant as some
//                     third kind is refused rather than guessed at.
//   an "event_id" and no "items"
//                     an order status event: the one field every event has and
//                     no order has, and the one no event has and every order has.
//   anything else     an order, including a line that is not JSON or not an
//                     object: decode() then words its problem exactly as it did
//                     before files could hold events.
//
// Only the kind is decided here; the decoders still judge the whole line (an
// event line without a status is missing_field "status"). The line is sent as
// it is, its "type" member included: readers skip unknown fields. Pure,
// thread-safe; knows nothing of Kafka.

#include <string_view>

#include "domain/message_kind.hpp"

namespace foodpipe::domain {

[[nodiscard]] MessageTypeResult classify_line(std::string_view line);

} // namespace foodpipe::domain
