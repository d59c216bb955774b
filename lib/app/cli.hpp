#pragma once

// The foodpipe command line: finds the subcommand, resolves global settings
// (flag > environment > --config file > default), runs it, and turns any
// foodpipe::Error into one "foodpipe: error: ..." line and an exit code.

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace foodpipe::app {

// The whole program. Never throws. Under --json a failure also prints
// error_json() on stdout, so that a script reading stdout learns why, unless
// the command printed its own report before it failed (stdout stays one JSON
// document).
int run(int argc, char** argv);

// {"error": message, "exit_code": status} on one line, without the newline.
[[nodiscard]] std::string error_json(std::string_view message, int status);

// The process's exit status for a command's outcome when `signal_number`
// (0: none) stopped it: ok and interrupted become 128 + signal_number, as a
// shell reports a process the signal killed (130 for SIGINT, 143 for
// SIGTERM); failure and usage stay 1 and 2, since they say more.
[[nodiscard]] int exit_status(ExitCode code, int signal_number) noexcept;

} // namespace foodpipe::app
