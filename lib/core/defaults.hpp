#pragma once

// The defaults every command and job shares, written once. The option structs
// of lib/pipeline start from them, and lib/app builds its --help defaults from
// them, so a default changed here changes what a user sees and what runs.
// (In core because the order decoder's own size limit is one of them.)

#include <chrono>
#include <cstddef>
#include <string_view>

namespace foodpipe::defaults {

// The orders topic; its dead-letter topic is this name + ".dlq".
inline constexpr std::string_view k_topic = "food-orders";
// The consumer group of `foodpipe consume` (and the group the other commands look at).
inline constexpr std::string_view k_group = "order-processors";
// Messages written to PostgreSQL in one transaction at most (replay).
inline constexpr std::size_t k_batch_size = 5000;
// The same for consume, which holds up to three batches (two in flight, one
// being read): 4,000 keeps its peak RSS under 64 MB and is as fast as 5,000
// (docs/performance.md).
inline constexpr std::size_t k_consume_batch_size = 4000;
// A larger message is not decoded: it becomes a too_large dead letter.
inline constexpr std::size_t k_max_message_bytes = 256 * 1024;
// How long a command waits for the brokers (and the database) to answer.
inline constexpr std::chrono::seconds k_connect_timeout{10};

} // namespace foodpipe::defaults
