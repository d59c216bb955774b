#include "app/cli.hpp"

#include <iostream>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sstream>
#include <unistd.h>

#include "app/commands.hpp"
#include "app/settings.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/signals.hpp"
#include "kafka/config.hpp"

#ifndef FOODPIPE_VERSION
#define FOODPIPE_VERSION "0.0.0"
#endif

namespace foodpipe::app {
namespace {

void print_top_help(std::ostream& out) {
  out << "foodpipe " FOODPIPE_VERSION " - a food-ordering event pipeline on Apache Kafka and PostgreSQL\n\n"
         "usage: foodpipe [global options] <command> [options]\n\n"
         "commands:\n";
  std::size_t width = 4;
  for (const auto& command : commands()) {
    width = std::max(width, command.name.size());
  }
  for (const auto& command : commands()) {
    out << "  " << command.name << std::string(width - command.name.size() + 3, ' ')
        << command.summary << '\n';
  }
  out << "  help" << std::string(width - 4 + 3, ' ') << "show this list, or 'foodpipe help <command>'\n\n";
  out << global_options() << '\n';
  out << "Precedence: flag > environment variable > --config file > default.\n"
         "Exit status: 0 success, 1 failure, 2 usage or configuration error; stopped by SIGINT or\n"
         "SIGTERM, a command finishes cleanly (its summary still printed) and exits 128 + the\n"
         "signal's number: 130 for SIGINT, 143 for SIGTERM. A failure (1) wins over a signal.\n"
         "With no flags at all foodpipe talks to the local stack of compose/up\n"
         "(Kafka at localhost:9092, PostgreSQL at localhost:5432, database food_orders).\n";
}

void print_command_help(const Command& command, std::ostream& out) {
  out << "usage: " << command.usage << "\n\n" << command.summary << "\n\n";
  po::positional_options_description positional;
  auto own = command_options(command, positional);
  own.add_options()("help,h", "show this help");
  out << own << '\n';
  if (!command.env.empty()) {
    out << "Environment:";
    for (const auto& [variable, option] : command.env) {
      out << "  " << variable << " (--" << option << ")";
    }
    out << "\n\n";
  }
  out << global_options() << '\n';
  if (!command.details.empty()) {
    out << command.details;
    if (command.details.back() != '\n') {
      out << '\n';
    }
  }
}

// librdkafka's threads allocate and free request buffers at a high rate; with
// glibc's adaptive thresholds that becomes a stream of mmap/munmap and page
// faults. Fixed thresholds (both together: setting one disables the adaptive
// logic for both) cut client CPU by about a third (docs/performance.md).
void tune_allocator() {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
#endif
}

int run_checked(int argc, char** argv) {
  const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  const Invocation invocation = parse_invocation(args, process_environment());

  switch (invocation.action) {
  case Invocation::Action::version:
    std::cout << "foodpipe " FOODPIPE_VERSION " (librdkafka " << kafka::librdkafka_version()
              << ", libpq " << FOODPIPE_LIBPQ_VERSION << ")\n";
    return 0;
  case Invocation::Action::help:
    if (invocation.command != nullptr) {
      print_command_help(*invocation.command, std::cout);
    } else {
      print_top_help(std::cout);
    }
    return 0;
  case Invocation::Action::run:
    break;
  }

  Context context = invocation.context;
  context.stdout_is_terminal = isatty(STDOUT_FILENO) != 0;
  context.stderr_is_terminal = isatty(STDERR_FILENO) != 0;
  log::init(context.log_level, context.log_format);
  install_signal_handlers();
  tune_allocator();
  const ExitCode code = invocation.command->run(context, invocation.options);
  return exit_status(code, stop_signal()); // the signal as of the end of the run
}

} // namespace

// One rule for every command, so that scripts can tell an interrupted run
// from a finished one: stopped by SIGINT or SIGTERM, a command winds down
// cleanly and reports as a shell would. Usage errors come before any work.
int exit_status(ExitCode code, int signal_number) noexcept {
  if (code == ExitCode::failure || code == ExitCode::usage || signal_number <= 0) {
    return static_cast<int>(code);
  }
  return 128 + signal_number;
}

int run(int argc, char** argv) {
  try {
    return run_checked(argc, argv);
  } catch (const Error& error) {
    std::cerr << "foodpipe: error: " << error.what() << '\n';
    return exit_status(error.exit_code(), stop_signal());
  } catch (const std::exception& error) {
    std::cerr << "foodpipe: error: " << error.what() << '\n';
    return static_cast<int>(ExitCode::failure);
  }
}

} // namespace foodpipe::app
