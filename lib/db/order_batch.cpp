#include "db/order_batch.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <unordered_map>

namespace foodpipe::db {
namespace {

[[noreturn]] void invalid(const std::string& what) {
  throw std::invalid_argument("OrderStore batch: " + what);
}

const OffsetAdvance* find_advance(const Batch& batch, std::int32_t partition) {
  for (const auto& advance : batch.offsets) {
    if (advance.partition == partition) {
      return &advance;
    }
  }
  return nullptr;
}

void check_covered(const Batch& batch, const std::string& topic, std::int32_t partition,
                   std::int64_t offset, std::string_view what) {
  if (offset < 0) {
    invalid(std::string(what) + " at " + describe_position(topic, partition, offset) +
            " has a negative offset");
  }
  if (topic != batch.topic) {
    return;
  }
  const OffsetAdvance* advance = find_advance(batch, partition);
  if (advance == nullptr) {
    return;
  }
  const auto first = advance->read_from ? advance->read_from : advance->expected;
  if (offset >= advance->next || (first && offset < *first)) {
    invalid(std::string(what) + " at " + describe_position(topic, partition, offset) +
            " lies outside the partition's advance [" + (first ? std::to_string(*first) : std::string("none")) +
            ", " + std::to_string(advance->next) + ")");
  }
}

} // namespace

std::string describe_position(const std::string& topic, std::int32_t partition, std::int64_t offset) {
  return topic + "[" + std::to_string(partition) + "]@" + std::to_string(offset);
}

void validate_batch(const Batch& batch) {
  if (!batch.orders.empty() && batch.topic.empty()) {
    invalid("orders without a topic");
  }
  if (!batch.events.empty() && batch.topic.empty()) {
    invalid("events without a topic");
  }
  if (!batch.offsets.empty() && (batch.group.empty() || batch.topic.empty())) {
    invalid("offsets without a group and topic");
  }
  for (std::size_t i = 0; i < batch.offsets.size(); ++i) {
    const OffsetAdvance& advance = batch.offsets[i];
    if (advance.partition < 0) {
      invalid("negative partition " + std::to_string(advance.partition));
    }
    if (advance.next < 0 || (advance.expected && *advance.expected < 0) ||
        (advance.read_from && *advance.read_from < 0)) {
      invalid("negative offset for partition " + std::to_string(advance.partition));
    }
    const auto first = advance.read_from ? advance.read_from : advance.expected;
    if (first && advance.next < *first) {
      invalid("partition " + std::to_string(advance.partition) + " would move backwards from " +
              std::to_string(*first) + " to " + std::to_string(advance.next));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (batch.offsets[j].partition == advance.partition) {
        invalid("partition " + std::to_string(advance.partition) + " is advanced twice");
      }
    }
  }
  std::vector<std::pair<std::int32_t, std::int64_t>> positions;
  positions.reserve(batch.orders.size());
  for (const auto& incoming : batch.orders) {
    check_covered(batch, batch.topic, incoming.partition, incoming.offset, "the order");
    positions.emplace_back(incoming.partition, incoming.offset);
  }
  std::sort(positions.begin(), positions.end());
  if (const auto repeated = std::adjacent_find(positions.begin(), positions.end());
      repeated != positions.end()) {
    invalid("two orders at " + describe_position(batch.topic, repeated->first, repeated->second));
  }
  if (!batch.events.empty()) {
    // Orders and events are messages of one topic: a position is one or the other.
    for (const auto& event : batch.events) {
      check_covered(batch, batch.topic, event.partition, event.offset, "the event");
      positions.emplace_back(event.partition, event.offset);
    }
    std::sort(positions.begin(), positions.end());
    if (const auto repeated = std::adjacent_find(positions.begin(), positions.end());
        repeated != positions.end()) {
      invalid("two messages (events or orders) at " +
              describe_position(batch.topic, repeated->first, repeated->second));
    }
  }
  for (const auto& letter : batch.dead_letters) {
    check_covered(batch, letter.source_topic, letter.partition, letter.offset, "the dead letter");
  }
  for (const auto& range : batch.skipped) {
    const OffsetAdvance* advance = find_advance(batch, range.partition);
    if (range.from < 0 || range.to <= range.from || advance == nullptr || range.to > advance->next) {
      invalid("skipped range " + describe_position(batch.topic, range.partition, range.from) + ".." +
              std::to_string(range.to) + " is empty or not inside an advance of its partition");
    }
  }
}

BatchPlan plan_batch(const Batch& batch) {
  BatchPlan plan;
  const auto& orders = batch.orders;
  std::vector<std::size_t> by_position(orders.size());
  std::iota(by_position.begin(), by_position.end(), std::size_t{0});
  const auto earlier = [&orders](std::size_t a, std::size_t b) {
    return std::tie(orders[a].partition, orders[a].offset) < std::tie(orders[b].partition, orders[b].offset);
  };
  if (!std::is_sorted(by_position.begin(), by_position.end(), earlier)) {
    std::stable_sort(by_position.begin(), by_position.end(), earlier);
  }

  // order_id -> seq of its first occurrence in plan.candidates
  std::unordered_map<std::string_view, std::size_t> first_by_id;
  first_by_id.reserve(orders.size());
  plan.candidates.reserve(orders.size());
  for (const std::size_t index : by_position) {
    const IncomingOrder& incoming = orders[index];
    const auto [found, inserted] = first_by_id.try_emplace(incoming.order.order_id, plan.candidates.size());
    if (inserted) {
      plan.candidates.push_back(index);
      continue;
    }
    const IncomingOrder& first = orders[plan.candidates[found->second]];
    if (domain::same_content(first.order, incoming.order)) {
      plan.copies.emplace_back(found->second, index);
      ++plan.duplicates;
      continue;
    }
    plan.conflicts.push_back(DeadLetter{
        batch.topic, incoming.partition, incoming.offset, incoming.key, incoming.value,
        domain::ReasonCode::conflicting_duplicate,
        "order_id \"" + incoming.order.order_id + "\" was already used by " +
            describe_position(batch.topic, first.partition, first.offset) +
            " in the same batch, with different content"});
  }
  return plan;
}

void add_message(Batch& batch, std::int32_t partition, std::int64_t offset, std::optional<std::string_view> key,
                 std::optional<std::string_view> value, const domain::DecodeLimits& limits) {
  std::optional<std::string> key_copy;
  if (key) {
    key_copy.emplace(*key);
  }
  if (!value) {
    batch.dead_letters.push_back({batch.topic, partition, offset, std::move(key_copy), std::nullopt,
                                  domain::ReasonCode::null_value, "tombstone: the message has no value"});
    return;
  }
  auto decoded = domain::decode(*value, limits);
  if (!decoded) {
    batch.dead_letters.push_back({batch.topic, partition, offset, std::move(key_copy), std::string(*value),
                                  decoded.rejection().code, decoded.rejection().detail});
    return;
  }
  batch.orders.push_back({std::move(decoded).order(), partition, offset, std::move(key_copy), std::string(*value)});
}

} // namespace foodpipe::db
