#pragma once

// The subcommand table's entry type and what every subcommand receives.
//
// A subcommand is one file lib/app/<name>_command.cpp that defines a
// `Command make_<name>_command()` returning its table entry; the table itself
// lives in commands.cpp. A subcommand:
//   - declares its own options (bound to its own options struct) in `options`,
//     with the environment variables that feed them in `env`;
//   - gets them parsed together with the global options (flag > env > --config
//     file > default) by the frame, which also handles --help;
//   - receives the resolved global settings in Context and the parsed
//     variables_map, and returns an exit code or throws foodpipe::Error.

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/program_options.hpp>

#include "app/number.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

namespace foodpipe::app {

namespace po = boost::program_options;

// Settings shared by every subcommand, after precedence has been applied.
struct Context {
  std::string bootstrap_servers;                                // --bootstrap-servers
  std::vector<std::pair<std::string, std::string>> kafka_properties; // -X key=value, in order
  std::string db_conninfo;                                      // --db, resolved (may hold a password)
  log::Level log_level = log::Level::info;
  log::Format log_format = log::Format::text;
  bool json = false;                                            // --json, where the command offers it
  bool stdout_is_terminal = false;
  bool stderr_is_terminal = false;
  // Where each option's value came from when not from a flag (environment,
  // --config file, default), so that an error names what the user wrote.
  std::map<std::string, Origin> origins;
};

struct Command {
  std::string_view name;
  std::string_view summary; // one line for `foodpipe help`
  std::string_view usage;   // e.g. "foodpipe seed-db [options]"
  std::string_view details; // paragraphs printed by --help after the options (examples!)
  // Adds the command's own options. The frame adds --help (and --json when
  // offers_json) itself.
  std::function<void(po::options_description&, po::positional_options_description&)> options;
  // Environment variable -> option name, e.g. {"PRODUCER_RATE", "rate"}.
  std::map<std::string, std::string> env;
  bool offers_json = false;
  std::function<ExitCode(const Context&, const po::variables_map&)> run;
};

} // namespace foodpipe::app
