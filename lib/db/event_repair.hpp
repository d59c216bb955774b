#pragma once

// What `foodpipe replay` does with order status events before it writes a
// batch (pipeline/replay.cpp; docs/replay.md says why):
//
//  - restore_event_statuses(): an event whose order_events row is stored
//    from its very position and is its order's last applied event (applied_seq)
//    set orders.status; when the status differs now (changed by hand), it is
//    put back, as replay restores an orders row changed since its message.
//    Run before the events are judged, so that they are judged against the
//    status the log explains.
//  - lost_events(): events that were applied once and whose order_events row
//    is gone: no row holds their event_id or their position, no dead letter is
//    at their position, and either the order has an event stored from a later
//    offset of the same partition (the consumer judged this one first), or the
//    order has events but none with its current status, which this event
//    claims (it was the last one applied). Applying such an event again would
//    judge it against a status it already produced, and a dead letter would
//    hide the loss; their place in the history is not known here, so replay
//    leaves them and says so (the repair: delete the order, replay its range).
//
// Usage: on the connection of the replay's OrderStore, outside its batch.
// Throws DbError. Not thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "db/connection.hpp"
#include "db/order_events.hpp"

namespace foodpipe::db {

// Orders whose status was put back (see above). `events`: the batch's, any verdict.
std::uint64_t restore_event_statuses(Connection& connection, const std::string& topic,
                                     const std::vector<EventRow>& events);

// One flag per entry of `events`: true for an event lost as described above.
[[nodiscard]] std::vector<bool> lost_events(Connection& connection, const std::string& topic,
                                            const std::vector<EventRow>& events);

} // namespace foodpipe::db
