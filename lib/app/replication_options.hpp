#pragma once

// --replication-factor and --min-insync-replicas, for every command that
// creates topics. Leaving one out takes the cluster's default
// (pipeline::choose_replication decides once the brokers answered).

#include "app/command.hpp"
#include "pipeline/vocabulary.hpp"

namespace foodpipe::app {

// Adds --replication-factor N and --min-insync-replicas N (no defaults: the cluster decides).
void add_replication_options(po::options_description& desc);

// What the user asked for, from a flag, the environment or --config: whole
// numbers from 1 to 32767. Throws UsageError (exit 2, one line naming what
// was written) for anything else; whether the cluster has that many brokers
// is checked once it answers (pipeline::choose_replication).
[[nodiscard]] pipeline::ReplicationRequest replication_request(const Context& context,
                                                            const po::variables_map& vm);

} // namespace foodpipe::app
