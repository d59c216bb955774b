#include "pipeline/consume_rules.hpp"

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

} // namespace foodpipe::pipeline
