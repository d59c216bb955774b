#pragma once

// The exception hierarchy that crosses module boundaries. Each layer throws its
// own subclass; app::run() is the one place that catches them and turns them
// into an exit code and a single "foodpipe: error: ..." line.
//
// Per-message problems (a malformed order) are never exceptions: they are
// values that travel to the dead-letter path.

#include <stdexcept>
#include <string>

namespace foodpipe {

// Exit statuses shared by every subcommand; scripts rely on them.
// app::run() turns ok and interrupted into 128 + the signal's number (130 for
// SIGINT, 143 for SIGTERM) when a signal stopped the command; failure and
// usage are kept as they are.
enum class ExitCode : int {
  ok = 0,
  failure = 1,      // runtime failure: a service refused, data was refused, ...
  usage = 2,        // bad flags, bad configuration, unknown subcommand
  interrupted = 130 // stopped by SIGINT/SIGTERM before the work finished
};

// Base of every error foodpipe throws on purpose. what() is a complete sentence
// fragment fit for "foodpipe: error: <what()>", including what the user can do.
class Error : public std::runtime_error {
public:
  explicit Error(const std::string& message, ExitCode exit_code = ExitCode::failure)
      : std::runtime_error(message), m_exit_code(exit_code) {}

  [[nodiscard]] ExitCode exit_code() const noexcept { return m_exit_code; }

private:
  ExitCode m_exit_code;
};

// The user asked for something that cannot work as asked (exit 2).
class UsageError : public Error {
public:
  explicit UsageError(const std::string& message) : Error(message, ExitCode::usage) {}
};

} // namespace foodpipe
