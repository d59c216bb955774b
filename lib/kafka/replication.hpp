#pragma once

// How many copies of each partition a topic that foodpipe creates keeps, and
// how many of them must have a write before an acks=all producer hears that it
// is delivered. Unless asked otherwise (--replication-factor,
// --min-insync-replicas) foodpipe takes what the cluster allows: three copies
// when there are three brokers or more, and then two in sync, so that one
// broker may fail without stopping writes or losing an acknowledged one.
// Pure: no I/O, no librdkafka.

#include <optional>
#include <string>

#include "kafka/config.hpp"

namespace foodpipe::kafka {

// The most replicas a partition can have (Kafka's replication factor is an int16).
inline constexpr int k_max_replicas = 32'767;

// A number the user wrote and how it was written, for error messages:
// "--replication-factor 2", "replication-factor = 2 in app.conf (--replication-factor)".
struct RequestedCount {
  int value = 0;
  std::string written;
};

// Empty members take the cluster's default.
struct ReplicationRequest {
  std::optional<RequestedCount> replication_factor;
  std::optional<RequestedCount> min_insync_replicas;
};

struct Replication {
  int brokers = 0; // the cluster's size when it was chosen
  int replication_factor = 1;
  int min_insync_replicas = 1;
  bool replication_factor_requested = false;  // false: the default for `brokers`
  bool min_insync_replicas_requested = false; // false: the default for replication_factor

  // The topic configuration to create a topic with: min.insync.replicas.
  [[nodiscard]] Properties topic_configs() const;
  // "replication factor 3, min.insync.replicas 2 (the defaults for 3 brokers)", for logs.
  [[nodiscard]] std::string describe() const;
};

// min(3, brokers): as many copies as the cluster can hold, up to three.
[[nodiscard]] int default_replication_factor(int brokers);

// 2 when there are three copies or more (a write survives one broker's loss
// and one broker may be down without refusing writes), otherwise 1 (with
// fewer copies, 2 would stop writes whenever any broker is down).
[[nodiscard]] int default_min_insync_replicas(int replication_factor);

// The settings for a topic created on a cluster of `brokers` brokers
// (`cluster` names it in messages: the bootstrap servers). Throws UsageError
// (exit 2), one line naming the cluster's size, when a requested value is
// more than the cluster has brokers, or when min.insync.replicas is more than
// the replication factor (every acks=all write would be refused); throws
// foodpipe::Error when the cluster reported no broker at all.
[[nodiscard]] Replication choose_replication(int brokers, const ReplicationRequest& request,
                                             const std::string& cluster);

} // namespace foodpipe::kafka
