#include "pipeline/range_plan.hpp"

#include <algorithm>
#include <charconv>

#include "domain/timestamp.hpp"

namespace foodpipe::pipeline {

ReplayPlan plan_replay_range(std::int32_t partition, const kafka::Watermarks& marks, const ReplayStart& start,
                             const ReplayEnd& end, std::int64_t start_by_time, std::int64_t end_by_time) {
  const auto [low, high] = marks;
  ReplayPlan plan;
  auto& range = plan.range;
  range = {partition, low, high};
  switch (start.kind) {
  case ReplayStart::Kind::beginning:
    range.from = low;
    break;
  case ReplayStart::Kind::offset:
    range.from = std::clamp(start.offset, low, high);
    break;
  case ReplayStart::Kind::time:
    range.from = std::clamp(start_by_time, low, high);
    break;
  }
  switch (end.kind) {
  case ReplayEnd::Kind::log_end:
    range.to = high;
    break;
  case ReplayEnd::Kind::offset:
    range.to = std::min(end.offset, high);
    break;
  case ReplayEnd::Kind::time:
    range.to = std::min(end_by_time, high);
    break;
  case ReplayEnd::Kind::count: {
    const auto left = static_cast<std::uint64_t>(high - range.from);
    range.to = range.from + static_cast<std::int64_t>(std::min(end.count, left));
    break;
  }
  }
  range.to = std::max(range.to, range.from); // an end before the start: nothing to read
  if (start.kind == ReplayStart::Kind::offset && start.offset < low) {
    // Only what the end would have included: --to-offset below the log start gone entirely.
    const auto gone_to = end.kind == ReplayEnd::Kind::offset ? std::min(end.offset, low) : low;
    if (gone_to > start.offset) {
      plan.gone = ReplaySpan{partition, start.offset, gone_to};
    }
  }
  return plan;
}

std::vector<std::int32_t> replay_partitions(const std::vector<std::int32_t>& existing,
                                            const std::vector<std::int32_t>& requested) {
  std::vector<std::int32_t> chosen = requested.empty() ? existing : requested;
  std::sort(chosen.begin(), chosen.end());
  chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  return chosen;
}

kafka::PartitionRange verify_range(std::int32_t partition, const kafka::Watermarks& marks, std::int64_t next) {
  return {partition, std::min(marks.low, next), next};
}

std::optional<kafka::PartitionRange> messages_range(std::int32_t partition, std::int64_t offset,
                                                    const kafka::Watermarks& marks) {
  // Offsets below the log start were deleted by retention; reading begins at
  // the first one still there.
  const auto wanted = offset < 0 ? marks.high + offset : offset;
  const auto from = std::max(wanted, marks.low);
  if (marks.high <= from) {
    return std::nullopt;
  }
  return kafka::PartitionRange{partition, from, marks.high};
}

std::optional<std::int64_t> parse_replay_time(const std::string& text, std::chrono::system_clock::time_point now) {
  if (text.size() >= 3 && text.front() == '-') {
    std::int64_t amount = 0;
    const char* first = text.data() + 1;
    const char* last = text.data() + text.size() - 1;
    const auto parsed = std::from_chars(first, last, amount);
    if (parsed.ec != std::errc() || parsed.ptr != last || amount < 0) {
      return std::nullopt;
    }
    std::int64_t unit_seconds = 0;
    switch (text.back()) {
    case 's':
      unit_seconds = 1;
      break;
    case 'm':
      unit_seconds = 60;
      break;
    case 'h':
      unit_seconds = 3600;
      break;
    case 'd':
      unit_seconds = 86400;
      break;
    default:
      return std::nullopt;
    }
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    return now_ms - amount * unit_seconds * 1000;
  }
  auto time = domain::parse_timestamp(text);
  if (!time) {
    time = domain::parse_timestamp(text + "Z"); // ISO-8601 without an offset: UTC
  }
  if (!time) {
    return std::nullopt;
  }
  return time->time_since_epoch().count();
}

} // namespace foodpipe::pipeline
