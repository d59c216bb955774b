#pragma once

// The foodpipe command line: finds the subcommand, resolves global settings
// (flag > environment > --config file > default), runs it, and turns any
// foodpipe::Error into one "foodpipe: error: ..." line and an exit code.

namespace foodpipe::app {

// The whole program. Never throws.
int run(int argc, char** argv);

} // namespace foodpipe::app
