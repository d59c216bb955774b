#pragma once

// The unit of work of OrderStore (order_store.hpp): one consumed batch, i.e.
// the valid orders, the messages validation already rejected, and where each
// partition's consumption moves to. Plain values, copyable.
//
// validate_batch() and plan_batch() are the parts of a write that need no
// database: the caller-side rules, and which order of each order_id the store
// will try to insert. Pure and thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "db/order_events.hpp"
#include "domain/order.hpp"
#include "domain/order_json.hpp"

namespace foodpipe::db {

// A message that decoded into a valid order, with its Kafka coordinates (the
// topic is Batch::topic) and its raw bytes, which become the dead letter's
// key and payload if the order turns out to conflict or PostgreSQL refuses it.
struct IncomingOrder {
  domain::Order order;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::optional<std::string> key; // nullopt: the message had no key
  std::string value;              // the message value as received
};

// One row of dead_letters: a message that is not applied, and why.
struct DeadLetter {
  std::string source_topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::optional<std::string> key;     // raw bytes; nullopt: the message had no key
  std::optional<std::string> payload; // raw bytes; nullopt: a tombstone (null value)
  domain::ReasonCode reason = domain::ReasonCode::invalid_json;
  std::string detail;                 // one line; stored with NUL bytes and invalid UTF-8 replaced

  friend bool operator==(const DeadLetter&, const DeadLetter&) = default;
};

// Moves a partition's stored next offset from `expected` to `next`.
struct OffsetAdvance {
  OffsetAdvance() = default;
  OffsetAdvance(std::int32_t partition_, std::optional<std::int64_t> expected_, std::int64_t next_,
                std::optional<std::int64_t> read_from_ = std::nullopt)
      : partition(partition_), expected(expected_), next(next_), read_from(read_from_) {}

  std::int32_t partition = 0;
  // The next_offset the caller believes is stored (where its consumption of
  // the partition started); nullopt when it believes no row exists yet.
  std::optional<std::int64_t> expected;
  // The consumer's position after what it read: past the batch's last message
  // and past any offsets without a message after it (transaction markers,
  // aborted or compacted records). >= expected, unless read_from says otherwise.
  std::int64_t next = 0;
  // Where reading resumed when `expected` was no longer in the log: the log
  // start it continued from. Below `expected` only when the log was truncated
  // or recreated under the stored offset (the one case that moves an offset
  // backwards); above it after retention (then see Batch::skipped).
  // nullopt: reading continued at `expected`.
  std::optional<std::int64_t> read_from;

  friend bool operator==(const OffsetAdvance&, const OffsetAdvance&) = default;
};

// Offsets a group never read because retention removed them first
// (skipped_offsets, sql/005): [from, to) of a partition of Batch::topic.
struct RetentionGap {
  std::int32_t partition = 0;
  std::int64_t from = 0;
  std::int64_t to = 0;

  friend bool operator==(const RetentionGap&, const RetentionGap&) = default;
};

struct Batch {
  std::string group; // consumer group: consumer_offsets.group_id, dead_letters.consumer_group
  std::string topic; // the topic of `orders` and of `offsets`
  // Valid orders as consumed. Each (partition, offset) at most once.
  std::vector<IncomingOrder> orders;
  // Messages already rejected by validation, stored as given.
  std::vector<DeadLetter> dead_letters;
  // Status events of `topic`, applied after the orders above (so an event may
  // follow its order within the batch), in the order given: give each
  // partition's events in offset order. Each position at most once, and not
  // also an order's. See OrderStore and db/order_events.hpp.
  std::vector<EventRow> events;
  // At most one per partition. May be empty (a replay that does not move a
  // group's offsets). A batch may hold offsets and nothing else: a position
  // that moved past markers or holes only.
  std::vector<OffsetAdvance> offsets;
  // Recorded in skipped_offsets (the first record of a range wins). Each
  // lies in a partition that `offsets` advances past it.
  std::vector<RetentionGap> skipped;
  // A replay's repair: when a stored row came from this very message (same
  // topic, partition and offset) but its content was changed since, put the
  // message's content back instead of dead-lettering the message as a
  // conflicting duplicate. Off for consume.
  bool restore_changed_rows = false;
};

// Adds one consumed message of batch.topic to the batch: decoded with the
// domain's gate, a valid order goes to `orders`, anything else to
// `dead_letters` with its reason; a null value (nullopt) is a tombstone. The
// one gate that consume and replay share. `key`: nullopt for no key.
void add_message(Batch& batch, std::int32_t partition, std::int64_t offset, std::optional<std::string_view> key,
                 std::optional<std::string_view> value, const domain::DecodeLimits& limits);

// Throws std::invalid_argument, naming the problem, when the batch breaks a
// rule the caller is responsible for: orders without a topic, offsets without
// a group or topic, a partition advanced twice, a negative offset, an advance
// that moves backwards (next < read_from, or next < expected without a
// read_from), an order position repeated, an order or dead letter of `topic`
// in an advanced partition that lies outside [read_from or expected, next)
// (its offset would be stored without it, or it would be stored twice), or a
// skipped range that is empty or not inside an advance of its partition.
// Events follow the orders' rules: a topic, each position once (neither
// another event's nor an order's), inside their partition's advance.
void validate_batch(const Batch& batch);

// What happens to a batch's orders before the database is asked.
struct BatchPlan {
  // Indices into Batch::orders of the first occurrence of each order_id
  // (lowest (partition, offset)), in (partition, offset) order: the rows the
  // store tries to insert.
  std::vector<std::size_t> candidates;
  // Later occurrences with the same content (domain::same_content) as the
  // candidate at candidates[first]: (first, index into Batch::orders). Each
  // shares its candidate's verdict: a duplicate when the candidate is inserted
  // or a duplicate itself, the same dead letter (at its own position) when the
  // candidate is one.
  std::vector<std::pair<std::size_t, std::size_t>> copies;
  std::uint64_t duplicates = 0; // copies.size()
  // Later occurrences with other content: conflicting_duplicate dead letters
  // naming the order_id and the position of the first occurrence.
  std::vector<DeadLetter> conflicts;
};

// Deduplicates the orders within the batch. Does not validate.
[[nodiscard]] BatchPlan plan_batch(const Batch& batch);

// "food-orders[2]@1234": a message's position in the kcat style, for details.
[[nodiscard]] std::string describe_position(const std::string& topic, std::int32_t partition,
                                            std::int64_t offset);

} // namespace foodpipe::db
