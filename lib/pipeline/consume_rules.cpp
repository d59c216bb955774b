#include "pipeline/consume_rules.hpp"

#include <array>
#include <string>

#include "domain/order_event.hpp"
#include "domain/order_event_json.hpp"

namespace foodpipe::pipeline {

OffsetsByPartition stale_offsets(const OffsetsByPartition& log_end, const OffsetsByPartition& stored) {
  OffsetsByPartition stale;
  for (const auto& [partition, next] : stored) {
    if (const auto end = log_end.find(partition); end != log_end.end() && next > end->second) {
      stale[partition] = next;
    }
  }
  return stale;
}

bool reached_log_end(const OffsetsByPartition& log_end, const OffsetsByPartition& log_start,
                     const OffsetsByPartition& stale_at_start, const OffsetsByPartition& stored) {
  return std::all_of(log_end.begin(), log_end.end(), [&](const auto& entry) {
    const auto& [partition, end] = entry;
    const auto it = stored.find(partition);
    std::int64_t at = 0;
    if (it != stored.end()) {
      at = it->second;
    } else if (const auto start = log_start.find(partition); start != log_start.end()) {
      at = start->second;
    }
    const auto stale = stale_at_start.find(partition);
    return at >= end && (stale == stale_at_start.end() || at != stale->second);
  });
}

std::vector<db::StatusTransition> status_transitions() {
  using domain::OrderStatus;
  constexpr std::array k_statuses{OrderStatus::pending,          OrderStatus::confirmed,
                                  OrderStatus::preparing,        OrderStatus::out_for_delivery,
                                  OrderStatus::delivered,        OrderStatus::cancelled};
  std::vector<db::StatusTransition> transitions;
  for (const auto from : k_statuses) {
    for (const auto to : k_statuses) {
      if (domain::transition(from, to).applied()) {
        transitions.push_back({std::string(domain::to_string(from)), std::string(domain::to_string(to))});
      }
    }
  }
  return transitions;
}

std::optional<domain::ReasonCode> event_dead_letter_reason(db::EventVerdict verdict) noexcept {
  using domain::ReasonCode;
  switch (verdict) {
  case db::EventVerdict::applied:
  case db::EventVerdict::duplicate: return std::nullopt;
  case db::EventVerdict::illegal_transition: return ReasonCode::illegal_transition;
  case db::EventVerdict::unknown_order: return ReasonCode::unknown_order;
  case db::EventVerdict::customer_mismatch: return ReasonCode::invalid_value;
  case db::EventVerdict::conflicting_duplicate: return ReasonCode::conflicting_duplicate;
  case db::EventVerdict::rejected: return ReasonCode::db_rejected;
  }
  // An enumerator added below without a case here: never lose the event silently.
  return ReasonCode::db_rejected;
}

std::string_view event_result_label(db::EventVerdict verdict) noexcept {
  switch (verdict) {
  case db::EventVerdict::applied: return "applied";
  case db::EventVerdict::duplicate: return "duplicate";
  default: return "dead_letter";
  }
}

void add_typed_message(db::Batch& batch, const domain::MessageTypeResult& type, std::int32_t partition,
                       std::int64_t offset, std::optional<std::string_view> key,
                       std::optional<std::string_view> value, const domain::DecodeLimits& limits) {
  // Orders first and untouched: the path every existing topic takes.
  if (type && type.type().kind == domain::MessageKind::order) {
    db::add_message(batch, partition, offset, key, value, limits);
    return;
  }
  std::optional<std::string> key_copy;
  if (key) {
    key_copy.emplace(*key);
  }
  std::optional<std::string> payload;
  if (value) {
    payload.emplace(*value);
  }
  if (!type) {
    batch.dead_letters.push_back({batch.topic, partition, offset, std::move(key_copy), std::move(payload),
                                  type.rejection().code, type.rejection().detail});
    return;
  }
  if (!value) {
    batch.dead_letters.push_back({batch.topic, partition, offset, std::move(key_copy), std::nullopt,
                                  domain::ReasonCode::null_value, "tombstone: the message has no value"});
    return;
  }
  auto decoded = domain::decode_event(*value, limits);
  if (!decoded) {
    batch.dead_letters.push_back({batch.topic, partition, offset, std::move(key_copy), std::move(payload),
                                  decoded.rejection().code, decoded.rejection().detail});
    return;
  }
  auto event = std::move(decoded).event();
  db::EventRow row;
  row.event_id = std::move(event.event_id);
  row.order_id = std::move(event.order_id);
  row.customer_id = std::move(event.customer_id);
  row.status = std::string(domain::to_string(event.status));
  row.occurred_at = event.occurred_at;
  row.reason = std::move(event.reason);
  row.partition = partition;
  row.offset = offset;
  row.key = std::move(key_copy);
  row.value = std::move(*payload);
  batch.events.push_back(std::move(row));
}

std::vector<db::DeadLetter> event_dead_letters(const db::Batch& batch,
                                               const std::vector<db::EventOutcome>& outcomes) {
  std::vector<db::DeadLetter> letters;
  for (std::size_t i = 0; i < outcomes.size() && i < batch.events.size(); ++i) {
    const auto reason = event_dead_letter_reason(outcomes[i].verdict);
    if (!reason) {
      continue;
    }
    const auto& event = batch.events[i];
    letters.push_back({batch.topic, event.partition, event.offset, event.key, event.value, *reason,
                       outcomes[i].detail});
  }
  return letters;
}

} // namespace foodpipe::pipeline
