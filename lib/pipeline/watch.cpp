#include "pipeline/watch.hpp"

#include <algorithm>
#include <array>

namespace foodpipe::pipeline {
namespace {

// Where the group is in a partition, as the lag counted it.
std::optional<std::int64_t> position_of(const WatchSample& sample, const GroupPartition& partition) {
  return sample.lag_from_kafka ? partition.committed : partition.stored;
}

struct Step {
  std::optional<double> rate;
  RateGap gap = RateGap::none;
};

Step step(std::optional<std::int64_t> before, std::optional<std::int64_t> now, double elapsed_s) {
  if (!before || !now) {
    return {std::nullopt, RateGap::first_sample};
  }
  if (*now < *before) {
    return {std::nullopt, RateGap::reset};
  }
  return {static_cast<double>(*now - *before) / elapsed_s, RateGap::none};
}

void add_to(std::optional<double>& total, const std::optional<double>& rate) {
  if (rate) {
    total = total.value_or(0.0) + *rate;
  }
}

const GroupPartition* find_partition(const WatchSample& sample, std::int32_t id) {
  const auto& partitions = sample.group.partitions;
  const auto it = std::find_if(partitions.begin(), partitions.end(),
                               [id](const GroupPartition& p) { return p.partition == id; });
  return it == partitions.end() ? nullptr : &*it;
}

// Orders and dead letters, from the database half of both samples.
void database_rates(const WatchSample& previous, const WatchSample& current, double elapsed_s,
                    WatchRates& rates) {
  if (!previous.database || !current.database) {
    return;
  }
  const auto& before = *previous.database;
  const auto& now = *current.database;
  rates.orders_per_s = step(before.orders, now.orders, elapsed_s).rate;
  rates.dead_letters_per_s = step(before.dead_letters(), now.dead_letters(), elapsed_s).rate;
  for (const auto& [reason, count] : now.dead_letters_by_reason) {
    const auto it = before.dead_letters_by_reason.find(reason);
    // A reason absent before had no dead letters then.
    const auto rate = step(it == before.dead_letters_by_reason.end() ? 0 : it->second, count, elapsed_s).rate;
    if (rate) {
      rates.dead_letters_per_reason[reason] = *rate;
    }
  }
}

} // namespace

std::int64_t partition_lag(std::optional<std::int64_t> position, std::int64_t log_start,
                           std::int64_t log_end) {
  const auto from = std::max(position.value_or(log_start), log_start);
  return std::max<std::int64_t>(0, log_end - from);
}

const PartitionRates* WatchRates::find(std::int32_t partition) const {
  const auto it = std::find_if(partitions.begin(), partitions.end(),
                               [partition](const PartitionRates& p) { return p.partition == partition; });
  return it == partitions.end() ? nullptr : &*it;
}

WatchRates compute_rates(const WatchSample* previous, const WatchSample& current) {
  WatchRates rates;
  const bool comparable = previous != nullptr && current.at_ms > previous->at_ms;
  if (comparable) {
    rates.elapsed_s = static_cast<double>(current.at_ms - previous->at_ms) / 1000.0;
  }
  const bool kafka_comparable = comparable && previous->kafka_ok() && current.kafka_ok();
  for (const auto& partition : current.group.partitions) {
    PartitionRates row;
    row.partition = partition.partition;
    const auto* before = kafka_comparable ? find_partition(*previous, partition.partition) : nullptr;
    if (kafka_comparable && before == nullptr) {
      row.in_gap = row.out_gap = RateGap::new_partition;
    } else if (before != nullptr) {
      const auto in = step(before->log_end, partition.log_end, rates.elapsed_s);
      row.in_per_s = in.rate;
      row.in_gap = in.gap;
      if (previous->lag_from_kafka == current.lag_from_kafka) {
        const auto out =
            step(position_of(*previous, *before), position_of(current, partition), rates.elapsed_s);
        row.out_per_s = out.rate;
        row.out_gap = out.gap;
      }
    }
    add_to(rates.in_per_s, row.in_per_s);
    add_to(rates.out_per_s, row.out_per_s);
    rates.partitions.push_back(row);
  }
  if (comparable) {
    database_rates(*previous, current, rates.elapsed_s, rates);
  }
  return rates;
}

void LagHistory::add(const WatchSample& sample) {
  m_now_ms = std::max(m_now_ms, sample.at_ms);
  m_points.push_back({sample.at_ms, sample.kafka_ok() && sample.topic_exists
                                        ? std::optional<std::int64_t>(sample.group.total_lag)
                                        : std::nullopt});
  while (!m_points.empty() && m_points.front().at_ms <= m_now_ms - k_window_ms) {
    m_points.pop_front();
  }
}

std::optional<std::int64_t> LagHistory::highest() const {
  std::optional<std::int64_t> top;
  for (const auto& point : m_points) {
    if (point.total_lag) {
      top = std::max(top.value_or(0), *point.total_lag);
    }
  }
  return top;
}

std::string LagHistory::sparkline(std::size_t width) const {
  static constexpr std::array<const char*, 8> k_blocks = {"\u2581", "\u2582", "\u2583", "\u2584",
                                                          "\u2585", "\u2586", "\u2587", "\u2588"};
  if (width == 0) {
    return {};
  }
  struct Slice {
    bool sampled = false;            // a sample fell in it
    std::optional<std::int64_t> lag; // its highest lag; nullopt with sampled: only gaps
  };
  // Slice i holds the samples in (start + i * window / width, start + (i + 1) * window / width].
  std::vector<Slice> slices(width);
  const auto start = m_now_ms - k_window_ms;
  for (const auto& point : m_points) {
    const auto offset = std::clamp<std::int64_t>(point.at_ms - start - 1, 0, k_window_ms - 1);
    auto& slice = slices[static_cast<std::size_t>(offset * static_cast<std::int64_t>(width) / k_window_ms)];
    slice.sampled = true;
    if (point.total_lag) {
      slice.lag = std::max(slice.lag.value_or(0), *point.total_lag);
    }
  }
  const auto top = highest().value_or(0);
  std::string line;
  std::optional<std::int64_t> held; // what an unsampled slice repeats
  for (const auto& slice : slices) {
    if (slice.sampled) {
      held = slice.lag;
    }
    if (!held) {
      line += ' ';
    } else {
      // 0 at the bottom, the highest of the window at the top.
      const auto level = top == 0 ? 0 : static_cast<std::size_t>((*held * 7 + top - 1) / top);
      line += k_blocks[std::min<std::size_t>(level, 7)];
    }
  }
  return line;
}

} // namespace foodpipe::pipeline
