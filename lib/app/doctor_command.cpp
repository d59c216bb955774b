// foodpipe doctor: is the stack there, and can this build use it?

#include <cstdint>
#include <iostream>

#include "app/commands.hpp"
#include "app/number.hpp"
#include "app/report_json.hpp"
#include "app/report_text.hpp"
#include "app/settings.hpp"
#include "pipeline/doctor.hpp"

namespace foodpipe::app {

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
      print_json(std::cout, report);
    } else {
      print_text(std::cout, report);
    }
    return report.ok() ? ExitCode::ok : ExitCode::failure;
  };
  return command;
}

} // namespace foodpipe::app
