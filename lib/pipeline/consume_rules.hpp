#pragma once

// The consumer's pure decisions (pipeline/consume.cpp): when a batch is
// written, how long a poll may wait, and when --until-end is reached. No I/O
// and no clock of their own, so they are unit tested
// (test/unit/pipeline_consume_rules_test.cpp). The per-message ones are inline:
// they run on the consume hot path.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "db/order_batch.hpp"
#include "db/order_events.hpp"
#include "domain/message_kind.hpp"
#include "domain/order_json.hpp"

namespace foodpipe::pipeline {

// Messages --max-messages still allows after `done` (all, without a limit).
[[nodiscard]] constexpr std::uint64_t remaining(const std::optional<std::uint64_t>& max, std::uint64_t done) noexcept {
  return max ? (*max > done ? *max - done : 0) : UINT64_MAX;
}

// Whether the batch in the making is written now. `pending`: it has messages
// or a moved offset; `age`: since its first message or offset move. Due when
// it holds batch_size messages, when --max-messages allows no more
// (`remaining`), or when it is batch_time old.
[[nodiscard]] constexpr bool batch_due(bool pending, std::size_t messages, std::size_t batch_size,
                                       std::uint64_t remaining, std::chrono::steady_clock::duration age,
                                       std::chrono::milliseconds batch_time) noexcept {
  if (!pending) {
    return false;
  }
  return messages >= batch_size || messages >= remaining || age >= batch_time;
}

// The longest wait of one poll: 100 ms, or less when a pending batch falls due
// sooner (never negative).
[[nodiscard]] constexpr std::chrono::milliseconds poll_wait(bool pending, std::chrono::steady_clock::duration age,
                                                            std::chrono::milliseconds batch_time) noexcept {
  using std::chrono::milliseconds;
  constexpr milliseconds k_longest{100};
  if (!pending) {
    return k_longest;
  }
  return std::clamp(std::chrono::duration_cast<milliseconds>(batch_time - age), milliseconds(0), k_longest);
}

using OffsetsByPartition = std::map<std::int32_t, std::int64_t>;

// Stored next offsets beyond the log end at start: the log was recreated or
// truncated under them, so those partitions are not caught up until re-read.
[[nodiscard]] OffsetsByPartition stale_offsets(const OffsetsByPartition& log_end, const OffsetsByPartition& stored);

// --until-end: every partition of the topic (whoever consumed it) has its
// stored offset at or past its log end as of start. A partition without a
// stored offset counts from its log start (an empty one is reached); one whose
// offset was stale at start is not reached while it is still that offset.
[[nodiscard]] bool reached_log_end(const OffsetsByPartition& log_end, const OffsetsByPartition& log_start,
                                   const OffsetsByPartition& stale_at_start, const OffsetsByPartition& stored);

// --- Order status events (issue 14) ------------------------------------------

// The edges of domain::transition() as the table OrderStore judges events
// with: every (from, to) of the six statuses that it applies, in enum order.
// The state machine stays in lib/domain; the store only looks pairs up.
[[nodiscard]] std::vector<db::StatusTransition> status_transitions();

// The dead-letter reason of an event the store did not apply; nullopt for
// applied and duplicate. A customer_mismatch has no reason of its own: the
// event's customer_id (its key) is a value the stored order refutes.
[[nodiscard]] std::optional<domain::ReasonCode> event_dead_letter_reason(db::EventVerdict verdict) noexcept;

// The `result` label of foodpipe_consumer_events_total for a verdict:
// "applied", "duplicate" or "dead_letter".
[[nodiscard]] std::string_view event_result_label(db::EventVerdict verdict) noexcept;

// Adds one consumed message whose headers classified it as `type` to the
// batch: an unsupported type becomes an unsupported_schema dead letter, an
// order goes through db::add_message() exactly as before, an event is decoded
// with domain::decode_event() into Batch::events (a rejection or a tombstone
// becomes a dead letter with its reason). `key`, `value`: nullopt for none.
void add_typed_message(db::Batch& batch, const domain::MessageTypeResult& type, std::int32_t partition,
                       std::int64_t offset, std::optional<std::string_view> key,
                       std::optional<std::string_view> value, const domain::DecodeLimits& limits);

// The dead letters for the events of `batch` the store did not apply
// (`outcomes`: WriteResult::events, one per Batch::events entry), each at its
// message's position with the store's detail.
[[nodiscard]] std::vector<db::DeadLetter> event_dead_letters(const db::Batch& batch,
                                                             const std::vector<db::EventOutcome>& outcomes);

} // namespace foodpipe::pipeline
