#pragma once

// The --json form of every report the commands print: one write_json per
// report type of pipeline, and the one way app writes a JSON string. The text
// form of the same reports is in report_text.hpp. Keeping both here, away from
// the command files, means a field is named in one place and a command file
// reads as flags -> options -> run -> render.

#include <ostream>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace foodpipe::pipeline {
struct ProduceReport;
struct ConsumeReport;
struct DoctorReport;
struct SeedDbReport;
struct OffsetsReport;
struct ReplayReport;
struct VerifyReport;
struct Overview;
struct TopicView;
struct GroupView;
struct DatabaseView;
struct DeadLetterView;
struct OrderView;
struct KafkaMessage;
} // namespace foodpipe::pipeline

namespace foodpipe::app {

struct WatchFrame; // watch_screen.hpp

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Writes a JSON string value. Bytes that are not UTF-8 (Kafka keys and
// payloads, bytea, a file name) become U+FFFD, so the output stays valid JSON
// whatever the input held; valid text is written as it is.
void json_string(JsonWriter& w, std::string_view text);

// Each writes one complete JSON object.
void write_json(JsonWriter& w, const pipeline::ProduceReport& report);
void write_json(JsonWriter& w, const pipeline::ConsumeReport& report);
void write_json(JsonWriter& w, const pipeline::DoctorReport& report);
void write_json(JsonWriter& w, const pipeline::SeedDbReport& report);
void write_json(JsonWriter& w, const pipeline::OffsetsReport& report);
void write_json(JsonWriter& w, const pipeline::ReplayReport& report);
// `strict` is --strict: it decides "passed" and is echoed.
void write_json(JsonWriter& w, const pipeline::VerifyReport& report, bool strict);

// The inspect views: one object each, whose first key "view" names the view.
void write_json(JsonWriter& w, const pipeline::Overview& view);
void write_json(JsonWriter& w, const pipeline::TopicView& view);
void write_json(JsonWriter& w, const pipeline::GroupView& view);
void write_json(JsonWriter& w, const pipeline::DatabaseView& view);
void write_json(JsonWriter& w, const pipeline::DeadLetterView& view);
void write_json(JsonWriter& w, const pipeline::OrderView& view);
// One sample of inspect --watch: the group view's fields as inspect group
// --json writes them ("group", null while the broker is away), the rates and
// the database's counts.
void write_json(JsonWriter& w, const WatchFrame& frame);
// One message as kcat -J shows it (no "view" key: inspect messages prints one per line).
void write_json(JsonWriter& w, const pipeline::KafkaMessage& message);

// A report as one line of JSON: write_json(w, report, extra...) and a newline.
template <typename Report, typename... Extra>
void print_json(std::ostream& out, const Report& report, const Extra&... extra) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  write_json(w, report, extra...);
  out << std::string_view(buffer.GetString(), buffer.GetSize()) << '\n';
}

} // namespace foodpipe::app
