#pragma once

// Structured logging to stderr through Boost.Log, as JSON lines or text.
//
//   log::info("seed-db", "applied migration", {{"version", "1"}, {"name", "orders"}});
//
// Every record has a time, a level, a component and a message; fields are extra
// key/value pairs (order_id, partition, ...). librdkafka's log callback and
// libpq's notice processor are routed here by the kafka and db layers.
// Thread-safe: records may be written from any thread once init() has run.

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace foodpipe::log {

enum class Level { trace, debug, info, warning, error };
enum class Format { text, json };

// Parses "trace|debug|info|warn|warning|error"; nullopt when unknown.
[[nodiscard]] std::optional<Level> parse_level(std::string_view text);
// Parses "text|json"; nullopt when unknown.
[[nodiscard]] std::optional<Format> parse_format(std::string_view text);
[[nodiscard]] std::string_view to_string(Level level);

// Installs the stderr sink. Safe to call again to change level or format.
void init(Level level, Format format);

// True when a record at this level would be written (cheap; use before building
// expensive fields).
[[nodiscard]] bool enabled(Level level);

using Field = std::pair<std::string_view, std::string>;
using Fields = std::vector<Field>;

void write(Level level, std::string_view component, std::string_view message,
           const Fields& fields = {});

inline void trace(std::string_view component, std::string_view message, const Fields& fields = {}) {
  write(Level::trace, component, message, fields);
}
inline void debug(std::string_view component, std::string_view message, const Fields& fields = {}) {
  write(Level::debug, component, message, fields);
}
inline void info(std::string_view component, std::string_view message, const Fields& fields = {}) {
  write(Level::info, component, message, fields);
}
inline void warning(std::string_view component, std::string_view message, const Fields& fields = {}) {
  write(Level::warning, component, message, fields);
}
inline void error(std::string_view component, std::string_view message, const Fields& fields = {}) {
  write(Level::error, component, message, fields);
}

// Renders one record as it would be written (used by the sink and by tests).
// Always one line: in text, control characters in the component, message,
// keys and values are escaped (\n, \r, \t, \xNN; a backslash is doubled);
// in JSON, the writer escapes them.
[[nodiscard]] std::string format_record(Format format, std::string_view time, Level level,
                                        std::string_view component, std::string_view message,
                                        const Fields& fields);

} // namespace foodpipe::log
