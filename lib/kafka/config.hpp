#pragma once

// librdkafka configuration from foodpipe's settings: bootstrap servers, -X
// properties (applied in order, as kcat does), and what each client adds.

#include <string>
#include <utility>
#include <vector>

#include "kafka/handles.hpp"

namespace foodpipe::kafka {

using Properties = std::vector<std::pair<std::string, std::string>>;

struct ClientSettings {
  std::string bootstrap_servers = "localhost:9092";
  Properties properties; // -X key=value, later entries win
};

// Checks each property against librdkafka (global or topic level). Throws
// UsageError quoting librdkafka's message for an unknown key or a bad value;
// secret values never appear in the message.
void validate_properties(const Properties& properties);

// True when librdkafka knows `key` as a property, global or topic level,
// whatever value it would accept. (It also knows some names of Kafka's Java
// client, such as sasl.jaas.config, only to refuse any value, saying why.)
[[nodiscard]] bool is_property(const std::string& key);

// A conf with the client id, bootstrap servers, foodpipe's log routing, then
// `defaults` (the caller's, e.g. acks=all), then the user's -X properties (which
// may override the defaults). Throws UsageError for a refused property.
[[nodiscard]] ConfPtr make_conf(const ClientSettings& settings, const Properties& defaults = {});

enum class ClientKind { producer, consumer };

// The client made from `conf` (rd_kafka_new), which then owns the conf.
// Throws KafkaError "cannot create <what>: <librdkafka's reason>" (the conf
// is freed then too).
[[nodiscard]] HandlePtr make_client(ClientKind kind, ConfPtr conf, const std::string& what);

// The value of `key` in `properties` (last one wins), or `fallback`.
[[nodiscard]] std::string property_or(const Properties& properties, const std::string& key,
                                      const std::string& fallback);

// librdkafka's version string, e.g. "2.0.2".
[[nodiscard]] std::string librdkafka_version();

} // namespace foodpipe::kafka
