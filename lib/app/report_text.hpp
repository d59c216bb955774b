#pragma once

// The text form of every report the commands print, for people at a
// terminal: one print_text per report type of pipeline (their --json form is
// in report_json.hpp). `colour` is whether stdout is a terminal that takes
// ANSI colours; only the views that colour anything take it.

#include <ostream>
#include <string>

namespace foodpipe::pipeline {
struct ProduceReport;
struct ConsumeReport;
struct DoctorReport;
struct SeedDbReport;
struct OffsetsReport;
struct ReplayOptions;
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

void print_text(std::ostream& out, const pipeline::ProduceReport& report);
// The one line for stderr when orders were not acknowledged, whatever the
// output format: how many, why (librdkafka's error names), and where to look.
[[nodiscard]] std::string failure_line(const pipeline::ProduceReport& report);

void print_text(std::ostream& out, const pipeline::ConsumeReport& report);
void print_text(std::ostream& out, const pipeline::DoctorReport& report);
void print_text(std::ostream& out, const pipeline::SeedDbReport& report);
void print_text(std::ostream& out, const pipeline::OffsetsReport& report, bool colour);
// The options name the topic and say what a dry run would have done.
void print_text(std::ostream& out, const pipeline::ReplayReport& report,
                const pipeline::ReplayOptions& options);
void print_text(std::ostream& out, const pipeline::VerifyReport& report, const std::string& topic,
                bool strict);

// The inspect views.
void print_text(std::ostream& out, const pipeline::Overview& view, bool colour);
void print_text(std::ostream& out, const pipeline::TopicView& view, bool colour);
void print_text(std::ostream& out, const pipeline::GroupView& view, bool colour);
void print_text(std::ostream& out, const pipeline::DatabaseView& view, bool colour);
void print_text(std::ostream& out, const pipeline::DeadLetterView& view, bool colour);
void print_text(std::ostream& out, const pipeline::OrderView& view, bool colour);
void print_text(std::ostream& out, const pipeline::KafkaMessage& message, bool colour);

} // namespace foodpipe::app
