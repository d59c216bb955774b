#include "kafka/replication.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace foodpipe::kafka {
namespace {

std::string brokers_text(int brokers) {
  return std::to_string(brokers) + (brokers == 1 ? " broker" : " brokers");
}

} // namespace

Properties Replication::topic_configs() const {
  return {{"min.insync.replicas", std::to_string(min_insync_replicas)}};
}

std::string Replication::describe() const {
  std::string text = "replication factor " + std::to_string(replication_factor) + ", min.insync.replicas " +
                     std::to_string(min_insync_replicas);
  if (!replication_factor_requested && !min_insync_replicas_requested) {
    return text + " (the defaults for " + brokers_text(brokers) + ")";
  }
  if (replication_factor_requested && min_insync_replicas_requested) {
    return text + " (as asked, on " + brokers_text(brokers) + ")";
  }
  return text + " (" + (replication_factor_requested ? "replication factor" : "min.insync.replicas") +
         " as asked, the other the default, on " + brokers_text(brokers) + ")";
}

int default_replication_factor(int brokers) { return std::clamp(brokers, 1, 3); }

int default_min_insync_replicas(int replication_factor) { return replication_factor >= 3 ? 2 : 1; }

Replication choose_replication(int brokers, const ReplicationRequest& request, const std::string& cluster) {
  if (brokers < 1) {
    throw Error("the cluster at " + cluster + " reported no broker; check --bootstrap-servers");
  }
  const auto too_many = [&](const RequestedCount& requested) {
    return UsageError(requested.written + ": the cluster at " + cluster + " has only " +
                      brokers_text(brokers) + "; use at most " + std::to_string(brokers));
  };
  Replication chosen;
  chosen.brokers = brokers;
  if (request.replication_factor) {
    if (request.replication_factor->value > brokers) {
      throw too_many(*request.replication_factor);
    }
    chosen.replication_factor = request.replication_factor->value;
    chosen.replication_factor_requested = true;
  } else {
    chosen.replication_factor = default_replication_factor(brokers);
  }
  if (request.min_insync_replicas) {
    const auto& requested = *request.min_insync_replicas;
    if (requested.value > brokers) {
      throw too_many(requested);
    }
    if (requested.value > chosen.replication_factor) {
      const auto why =
          chosen.replication_factor_requested ? "" : " chosen for " + brokers_text(brokers) + " at " + cluster;
      throw UsageError(requested.written + ": more than the replication factor " +
                       std::to_string(chosen.replication_factor) + why +
                       ", so every write with acks=all would be refused; lower it or raise "
                       "--replication-factor");
    }
    chosen.min_insync_replicas = requested.value;
    chosen.min_insync_replicas_requested = true;
  } else {
    chosen.min_insync_replicas = default_min_insync_replicas(chosen.replication_factor);
  }
  return chosen;
}

} // namespace foodpipe::kafka
