#include "app/cli.hpp"

#include <iostream>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sstream>
#include <unistd.h>

#include "app/commands.hpp"
#include "app/report_json.hpp"
#include "app/settings.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/signals.hpp"
#include "pipeline/vocabulary.hpp"

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

// Runs the command line; `json` becomes true as soon as it is known that the
// command's output is JSON, so that a failure is reported in JSON as well.
int run_checked(int argc, char** argv, bool& json) {
  const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  json = asks_for_json(args);
  const Invocation invocation = parse_invocation(args, process_environment());
  json = invocation.context.json;

  switch (invocation.action) {
  case Invocation::Action::version:
    std::cout << "foodpipe " FOODPIPE_VERSION " (librdkafka " << pipeline::librdkafka_version()
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

// Passes what is written to an ostream on to its buffer, and notes whether
// anything went: a command that printed its --json report before it failed
// has told there what went wrong, and stdout must stay one JSON document.
class OutputWatch : public std::streambuf {
public:
  explicit OutputWatch(std::ostream& out) : m_out(out), m_target(out.rdbuf(this)) {}
  ~OutputWatch() override { m_out.rdbuf(m_target); }
  OutputWatch(const OutputWatch&) = delete;
  OutputWatch& operator=(const OutputWatch&) = delete;

  [[nodiscard]] bool written() const { return m_written; }

protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) {
      return traits_type::not_eof(c);
    }
    m_written = true;
    return m_target->sputc(traits_type::to_char_type(c));
  }
  std::streamsize xsputn(const char* text, std::streamsize size) override {
    m_written = m_written || size > 0;
    return m_target->sputn(text, size);
  }
  int sync() override { return m_target->pubsync(); }

private:
  std::ostream& m_out;
  std::streambuf* m_target;
  bool m_written = false;
};

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

std::string error_json(std::string_view message, int status) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("error");
  json_string(writer, message);
  writer.Key("exit_code");
  writer.Int(status);
  writer.EndObject();
  return buffer.GetString();
}

int run(int argc, char** argv) {
  const OutputWatch stdout_watch(std::cout);
  bool json = false;
  std::string message;
  int status = 0;
  try {
    return run_checked(argc, argv, json);
  } catch (const Error& error) {
    message = error.what();
    status = exit_status(error.exit_code(), stop_signal());
  } catch (const std::exception& error) {
    message = error.what();
    status = static_cast<int>(ExitCode::failure);
  }
  std::cerr << "foodpipe: error: " << message << '\n';
  if (json && !stdout_watch.written()) {
    std::cout << error_json(message, status) << '\n';
  }
  return status;
}

} // namespace foodpipe::app
