#include "core/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>

#include <boost/core/null_deleter.hpp>
#include <boost/log/attributes/attribute_set.hpp>
#include <boost/log/attributes/constant.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/log/sources/severity_logger.hpp>
#include <boost/log/utility/formatting_ostream.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace foodpipe::log {
namespace {

namespace bl = boost::log;

using Sink = bl::sinks::synchronous_sink<bl::sinks::text_ostream_backend>;

std::atomic<Level> g_level{Level::info};
std::atomic<Format> g_format{Format::text};
boost::shared_ptr<Sink> g_sink; // guarded by init() being called from main only

std::string utc_now() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t secs = system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buffer;
}

// Boost.Log hands us the attribute values; the record layout itself lives in
// format_record() so that it can be tested without a sink.
void format_sink_record(const bl::record_view& record, bl::formatting_ostream& out) {
  const auto values = record.attribute_values();
  const auto level = bl::extract<Level>("Severity", values);
  const auto time = bl::extract<std::string>("Time", values);
  const auto component = bl::extract<std::string>("Component", values);
  const auto fields = bl::extract<Fields>("Fields", values);
  const auto message = bl::extract<std::string>("Message", values);
  out << format_record(g_format.load(), time ? *time : std::string{},
                       level ? *level : Level::info, component ? *component : std::string{},
                       message ? *message : std::string{}, fields ? *fields : Fields{});
}

// Text records are one line each whatever a value holds (a server's
// multi-line message, a user's order text): control characters are written as
// C escapes, and backslashes doubled so that an escape is never ambiguous.
void append_escaped(std::string& line, std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
    case '\n': line += "\\n"; continue;
    case '\r': line += "\\r"; continue;
    case '\t': line += "\\t"; continue;
    case '\\': line += "\\\\"; continue;
    default: break;
    }
    if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      line += escaped;
    } else {
      line += c;
    }
  }
}

} // namespace

std::optional<Level> parse_level(std::string_view text) {
  if (text == "trace") { return Level::trace; }
  if (text == "debug") { return Level::debug; }
  if (text == "info") { return Level::info; }
  if (text == "warn" || text == "warning") { return Level::warning; }
  if (text == "error") { return Level::error; }
  return std::nullopt;
}

std::optional<Format> parse_format(std::string_view text) {
  if (text == "text") { return Format::text; }
  if (text == "json") { return Format::json; }
  return std::nullopt;
}

std::string_view to_string(Level level) {
  switch (level) {
  case Level::trace: return "trace";
  case Level::debug: return "debug";
  case Level::info: return "info";
  case Level::warning: return "warning";
  case Level::error: return "error";
  }
  return "info";
}

void init(Level level, Format format) {
  g_level = level;
  g_format = format;
  if (g_sink) {
    return;
  }
  auto backend = boost::make_shared<bl::sinks::text_ostream_backend>();
  backend->add_stream(boost::shared_ptr<std::ostream>(&std::clog, boost::null_deleter()));
  backend->auto_flush(true);
  g_sink = boost::make_shared<Sink>(backend);
  g_sink->set_formatter(&format_sink_record);
  bl::core::get()->add_sink(g_sink);
}

bool enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view component, std::string_view message, const Fields& fields) {
  if (!enabled(level)) {
    return;
  }
  if (!g_sink) {
    // Before init() (early usage errors, unit tests): plain text, never lost.
    std::clog << format_record(Format::text, utc_now(), level, component, message, fields) << '\n';
    return;
  }
  bl::record record = bl::core::get()->open_record(bl::attribute_set());
  if (!record) {
    return;
  }
  auto& attrs = record.attribute_values();
  attrs.insert("Severity", bl::attributes::make_attribute_value(level));
  attrs.insert("Time", bl::attributes::make_attribute_value(utc_now()));
  attrs.insert("Component", bl::attributes::make_attribute_value(std::string(component)));
  attrs.insert("Fields", bl::attributes::make_attribute_value(fields));
  attrs.insert("Message", bl::attributes::make_attribute_value(std::string(message)));
  bl::core::get()->push_record(std::move(record));
}

std::string format_record(Format format, std::string_view time, Level level,
                          std::string_view component, std::string_view message,
                          const Fields& fields) {
  if (format == Format::json) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    const auto put = [&writer](std::string_view key, std::string_view value) {
      writer.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
      writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    };
    writer.StartObject();
    put("time", time);
    put("level", to_string(level));
    put("component", component);
    put("message", message);
    for (const auto& [key, value] : fields) {
      put(key, value);
    }
    writer.EndObject();
    return {buffer.GetString(), buffer.GetSize()};
  }
  std::string line;
  line.reserve(64 + message.size());
  line.append(time).append(" ").append(to_string(level)).append(" [");
  append_escaped(line, component);
  line.append("] ");
  append_escaped(line, message);
  for (const auto& [key, value] : fields) {
    line.append(" ");
    append_escaped(line, key);
    line.append("=");
    append_escaped(line, value);
  }
  return line;
}

} // namespace foodpipe::log
