#include "app/replication_options.hpp"

#include "app/number.hpp"
#include "app/settings.hpp"

namespace foodpipe::app {
namespace {

constexpr CountRange k_replicas_range{1, pipeline::k_max_replicas};

std::optional<pipeline::RequestedCount> requested(const Context& context, const po::variables_map& vm,
                                               const std::string& name) {
  if (vm.count(name) == 0U) {
    return std::nullopt;
  }
  const auto value = option_value(context, vm, name);
  return pipeline::RequestedCount{static_cast<int>(parse_count(value, k_replicas_range)), value.describe()};
}

} // namespace

void add_replication_options(po::options_description& desc) {
  // clang-format off
  desc.add_options()
    ("replication-factor", po::value<std::string>()->value_name("N"),
     "copies of each partition of a created topic; default min(3, brokers)")
    ("min-insync-replicas", po::value<std::string>()->value_name("N"),
     "copies a write needs before acks=all succeeds; default 2 with 3+ copies, else 1");
  // clang-format on
}

pipeline::ReplicationRequest replication_request(const Context& context, const po::variables_map& vm) {
  return {requested(context, vm, "replication-factor"), requested(context, vm, "min-insync-replicas")};
}

} // namespace foodpipe::app
