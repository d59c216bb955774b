// foodpipe doctor: is the stack there, and can this build use it?

#include <cstdint>
#include <iostream>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "app/commands.hpp"
#include "app/number.hpp"
#include "app/settings.hpp"
#include "pipeline/doctor.hpp"

namespace foodpipe::app {
namespace {

void print_json(const pipeline::DoctorReport& report, std::ostream& out) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  const auto str = [&w](const std::string& s) { w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size())); };
  const auto ints = [&w](const std::vector<std::int32_t>& values) {
    w.StartArray();
    for (const auto value : values) {
      w.Int(value);
    }
    w.EndArray();
  };
  w.StartObject();
  w.Key("ok");
  w.Bool(report.ok());
  w.Key("kafka");
  w.StartObject();
  w.Key("bootstrap_servers");
  str(report.kafka.bootstrap_servers);
  w.Key("reachable");
  w.Bool(report.kafka.reachable);
  w.Key("cluster_id");
  str(report.kafka.cluster_id);
  w.Key("brokers");
  w.Int(report.kafka.brokers);
  w.Key("librdkafka_version");
  str(report.kafka.librdkafka_version);
  w.Key("consumer_groups_supported");
  if (report.kafka.groups_supported) {
    w.Bool(*report.kafka.groups_supported);
  } else {
    w.Null();
  }
  w.Key("problem");
  str(report.kafka.problem);
  w.Key("missing_brokers");
  ints(report.kafka.missing_brokers);
  w.Key("expected_replication_factor");
  w.Int(report.kafka.expected_replication_factor);
  w.Key("replication");
  w.StartArray();
  for (const auto& topic : report.kafka.topics) {
    w.StartObject();
    w.Key("topic");
    str(topic.topic);
    w.Key("replication_factor");
    w.Int(topic.replication_factor);
    w.Key("below_cluster_size");
    w.Bool(topic.below_cluster_size);
    w.Key("under_replicated_partitions");
    ints(topic.under_replicated);
    w.Key("offline_partitions");
    ints(topic.offline);
    w.EndObject();
  }
  w.EndArray();
  w.Key("warnings");
  w.StartArray();
  for (const auto& warning : report.kafka.warnings) {
    str(warning);
  }
  w.EndArray();
  w.EndObject();
  w.Key("postgres");
  w.StartObject();
  w.Key("target");
  str(report.postgres.target);
  w.Key("reachable");
  w.Bool(report.postgres.reachable);
  w.Key("database_exists");
  w.Bool(report.postgres.database_exists);
  w.Key("server_version");
  str(report.postgres.server_version);
  w.Key("schema_version");
  if (report.postgres.schema_version) {
    w.Int(*report.postgres.schema_version);
  } else {
    w.Null();
  }
  w.Key("problem");
  str(report.postgres.problem);
  w.EndObject();
  w.EndObject();
  out << buffer.GetString() << '\n';
}

void print_text(const pipeline::DoctorReport& report, std::ostream& out) {
  const auto& k = report.kafka;
  out << "kafka      " << (k.problem.empty() ? "ok    " : "FAILED") << "  " << k.bootstrap_servers;
  if (k.reachable) {
    out << "  cluster " << k.cluster_id << ", " << k.brokers << (k.brokers == 1 ? " broker" : " brokers");
    if (k.groups_supported) {
      out << ", consumer groups " << (*k.groups_supported ? "supported" : "NOT supported");
    }
    out << " (librdkafka " << k.librdkafka_version << ")";
  }
  out << '\n';
  if (!k.problem.empty()) {
    out << "           " << k.problem << '\n';
  }
  for (const auto& warning : k.warnings) {
    out << "  warning  " << warning << '\n';
  }
  const auto& p = report.postgres;
  out << "postgres   " << (p.problem.empty() ? "ok    " : "FAILED") << "  " << p.target;
  if (!p.server_version.empty()) {
    out << "  PostgreSQL " << p.server_version;
  }
  if (p.schema_version) {
    out << ", schema version " << *p.schema_version;
  }
  out << '\n';
  if (!p.problem.empty()) {
    out << "           " << p.problem << '\n';
  }
}

} // namespace

Command make_doctor_command() {
  Command command;
  command.name = "doctor";
  command.summary = "check that Kafka and PostgreSQL answer and that this build can use them";
  command.usage = "foodpipe doctor [--timeout S] [--json]";
  command.details =
      "Checks, in order: the brokers answer a metadata request; the broker speaks a protocol\n"
      "this librdkafka can form consumer groups with (Kafka 4.x needs librdkafka >= 2.11);\n"
      "PostgreSQL accepts a connection to the --db database; the schema is migrated.\n"
      "Exit status 0 when everything is usable, 1 otherwise (each problem says what to do),\n"
      "2 for bad options, 128 + the signal's number (130, 143) when SIGINT/SIGTERM arrive.\n\n"
      "It also warns, without failing, about replication on every topic of the cluster:\n"
      "partitions offline (no leader) or under-replicated (a replica out of sync), and topics\n"
      "with a replication factor below min(3, brokers), the one foodpipe creates topics with.\n\n"
      "Examples:\n"
      "  foodpipe doctor                      # the local stack of compose/up\n"
      "  foodpipe doctor --json | jq .kafka   # in a CI script\n";
  command.offers_json = true;
  command.options = [](po::options_description& desc, po::positional_options_description&) {
    desc.add_options()("timeout", po::value<std::string>()->default_value("5")->value_name("S"),
                       "whole seconds to wait for each service, 1 to 86400 (a day)");
  };
  command.run = [](const Context& context, const po::variables_map& options) {
    const auto timeout = parse_count(option_value(context, options, "timeout"), {1, 86'400});
    pipeline::DoctorOptions doctor;
    doctor.kafka = {context.bootstrap_servers, context.kafka_properties};
    doctor.db_conninfo = context.db_conninfo;
    doctor.timeout = std::chrono::seconds(static_cast<std::int64_t>(timeout));
    const auto report = pipeline::run_doctor(doctor);
    if (context.json) {
      print_json(report, std::cout);
    } else {
      print_text(report, std::cout);
    }
    return report.ok() ? ExitCode::ok : ExitCode::failure;
  };
  return command;
}

} // namespace foodpipe::app
