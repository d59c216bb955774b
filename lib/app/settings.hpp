#pragma once

// Parsing a command line into a subcommand and its settings, with the
// precedence every option follows: flag > environment > --config file > default.
// Pure functions of (arguments, environment, file contents) so they are unit
// tested without touching the process.

#include <cstddef>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app/command.hpp"

namespace foodpipe::app {

using Environment = std::map<std::string, std::string>;

// The process environment as a map.
[[nodiscard]] Environment process_environment();

// What the command line asks for.
struct Invocation {
  enum class Action { run, help, version };
  Action action = Action::run;
  const Command* command = nullptr; // null for top-level help/version
  po::variables_map options;        // the command's and the global options, merged
  Context context;
};

// Parses argv (without the program name). Throws UsageError (exit 2) for an
// unknown subcommand (with "did you mean"), unknown or malformed options, a bad
// -X property (quoting librdkafka), an unreadable --config file or a line in
// it whose name is neither a foodpipe option nor a librdkafka property.
[[nodiscard]] Invocation parse_invocation(const std::vector<std::string>& args, const Environment& env);

// Whether the arguments ask for the --json of a subcommand that offers it,
// judged from the words alone: a usage error may come before the options are
// parsed, and a script reading the JSON must still learn why.
[[nodiscard]] bool asks_for_json(const std::vector<std::string>& args);

// A subcommand's own options (plus --json where it offers it).
[[nodiscard]] po::options_description command_options(const Command& command,
                                                      po::positional_options_description& positional);

// The global options every subcommand accepts.
[[nodiscard]] po::options_description global_options();

// One `name = value` line of a --config file.
struct ConfigLine {
  std::size_t number = 0; // 1-based, for messages
  std::string key;
  std::string value;
};

// The lines of a --config file: blank lines and lines whose first character
// is '#' or '!' are comments; otherwise the name is what precedes the first
// '=' and the value all that follows it, blanks around both removed (a '#'
// inside a value is kept: a password may hold one). Throws UsageError naming
// the line when it has no name or no '='.
[[nodiscard]] std::vector<ConfigLine> read_config_lines(std::istream& in, const std::string& path);

// The default PostgreSQL target, honouring libpq's PG* variables where set.
[[nodiscard]] std::string default_db_conninfo(const Environment& env);

// Resolves the database conninfo: --db flag > DATABASE_URL > POSTGRES_HOST/PORT/
// DB/USER/PASSWORD (the original project's variables) > `db` in the --config file
// > default_db_conninfo().
[[nodiscard]] std::string resolve_db_conninfo(const std::optional<std::string>& flag,
                                              const std::optional<std::string>& file,
                                              const Environment& env);

// Option `name` (a text option) as written, with where its value came from,
// for the parsers of number.hpp. Throws UsageError when it has no value.
[[nodiscard]] OptionValue option_value(const Context& context, const po::variables_map& options,
                                       const std::string& name);

// Splits "key=value" (-X); throws UsageError without '=' or with an empty key.
[[nodiscard]] std::pair<std::string, std::string> split_property(const std::string& text);

} // namespace foodpipe::app
