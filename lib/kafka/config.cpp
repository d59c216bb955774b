#include "kafka/config.hpp"

#include <librdkafka/rdkafka.h>

#include <array>
#include <string_view>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "kafka/client_events.hpp"
#include "kafka/error.hpp"

namespace foodpipe::kafka {
namespace {

// librdkafka's internal threads call this; foodpipe::log is thread-safe.
void log_callback(const rd_kafka_t* handle, int level, const char* facility, const char* message) {
  // syslog levels: 0-3 error, 4 warning, 5-6 info/notice, 7 debug.
  // Connection failures also reach the error callback, which turns them into
  // one clear error line; their log copies are debug noise.
  const bool connection_failure = std::string_view(facility) == "FAIL";
  if (connection_failure && handle != nullptr) {
    if (auto* events = ClientEvents::of(handle); events != nullptr) {
      events->record_error(classify_connection_failure(message), message);
    }
  }
  const auto foodpipe_level = connection_failure ? log::Level::debug
                              : level <= 3       ? log::Level::error
                              : level == 4       ? log::Level::warning
                              : level <= 6       ? log::Level::info
                                                 : log::Level::debug;
  log::write(foodpipe_level, "librdkafka", message, {{"facility", facility}});
}

// Sets one property, falling back to the default topic conf for topic-level
// keys (as kcat does). Returns the error text, empty on success.
std::string try_set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  std::array<char, 512> error{};
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error.data(), error.size()) ==
      RD_KAFKA_CONF_OK) {
    return {};
  }
  return error.data();
}

void set_or_throw(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  if (const auto error = try_set(conf, key, value); !error.empty()) {
    // librdkafka's message may quote the value (in double quotes); never let
    // a secret through. Its reasons that quote nothing are kept ("Java JAAS
    // configuration is not supported, see ...").
    const bool may_quote = error.find('"') != std::string::npos ||
                           (!value.empty() && error.find(value) != std::string::npos);
    const std::string shown = is_secret_key(key) && may_quote ? "invalid value for " + key : error;
    throw UsageError("-X " + key + "=" + redact_value(key, value) + ": " + shown +
                     " (see librdkafka's CONFIGURATION.md for the properties it knows)");
  }
}

} // namespace

HandlePtr make_client(ClientKind kind, ConfPtr conf, const std::string& what) {
  std::array<char, 512> error{};
  HandlePtr handle(rd_kafka_new(kind == ClientKind::producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER, conf.get(),
                                error.data(), error.size()));
  if (!handle) {
    throw KafkaError("cannot create " + what + ": " + error.data(), RD_KAFKA_RESP_ERR__INVALID_ARG);
  }
  (void)conf.release(); // owned by the rd_kafka_t now
  return handle;
}

void validate_properties(const Properties& properties) {
  ConfPtr scratch(rd_kafka_conf_new());
  for (const auto& [key, value] : properties) {
    set_or_throw(scratch.get(), key, value);
  }
}

bool is_property(const std::string& key) {
  // rd_kafka_conf_get cannot tell an unset string property from an unknown
  // one; setting an empty value on a scratch conf can (a known key gives OK or
  // INVALID). Topic-level keys fall through to the default topic conf there.
  std::array<char, 512> error{};
  const ConfPtr scratch(rd_kafka_conf_new());
  return rd_kafka_conf_set(scratch.get(), key.c_str(), "", error.data(), error.size()) != RD_KAFKA_CONF_UNKNOWN;
}

ConfPtr make_conf(const ClientSettings& settings, const Properties& defaults) {
  ConfPtr conf(rd_kafka_conf_new());
  set_or_throw(conf.get(), "client.id", "foodpipe");
  set_or_throw(conf.get(), "bootstrap.servers", settings.bootstrap_servers);
  rd_kafka_conf_set_log_cb(conf.get(), &log_callback);
  for (const auto& [key, value] : defaults) {
    set_or_throw(conf.get(), key, value);
  }
  for (const auto& [key, value] : settings.properties) {
    set_or_throw(conf.get(), key, value);
  }
  return conf;
}

std::string property_or(const Properties& properties, const std::string& key, const std::string& fallback) {
  std::string value = fallback;
  for (const auto& [k, v] : properties) {
    if (k == key) {
      value = v;
    }
  }
  return value;
}

std::string librdkafka_version() { return rd_kafka_version_str(); }

} // namespace foodpipe::kafka
