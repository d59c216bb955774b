#include "app/settings.hpp"

#include <algorithm>
#include <fstream>
#include <istream>
#include <sstream>

#include "app/commands.hpp"
#include "pipeline/vocabulary.hpp"

extern char** environ;

namespace foodpipe::app {
namespace {

// Global options fed by the environment (the original project's names).
const std::map<std::string, std::string>& global_env() {
  static const std::map<std::string, std::string> k_map = {
      {"KAFKA_BOOTSTRAP_SERVERS", "bootstrap-servers"},
      {"LOG_LEVEL", "log-level"},
      {"LOG_FORMAT", "log-format"},
      {"FOODPIPE_CONFIG", "config"},
  };
  return k_map;
}

// The option description `arg` names as Boost would read it (a long name,
// an alias, an unambiguous prefix, or a short name), or null.
const po::option_description* option_named(const po::options_description& desc, const std::string& arg) {
  std::string name;
  if (arg.size() > 2 && arg.starts_with("--")) {
    name = arg.substr(2, arg.find('=') - 2);
  } else if (arg.size() == 2 && arg[0] == '-') {
    name = arg;
  } else {
    return nullptr;
  }
  try {
    return desc.find_nothrow(name, true);
  } catch (const po::error&) {
    return nullptr; // ambiguous: the real parse says so
  }
}

// A global option whose next argument is its value (-b HOST, --bootstrap-server
// HOST, -X KEY=VALUE); needed to find the subcommand before its own options
// are known.
bool takes_value(const std::string& arg) {
  static const auto k_globals = global_options();
  const auto* option = arg.find('=') == std::string::npos ? option_named(k_globals, arg) : nullptr;
  return option != nullptr && option->semantic()->max_tokens() > 0;
}

// Where the subcommand's name is among the arguments, and the flags seen
// before `--` that decide the action.
struct CommandWord {
  std::optional<std::size_t> index; // the first word that is not an option or an option's value
  bool help = false;                // --help or -h anywhere
  bool version_first = false;       // --version or -V before the subcommand
};

CommandWord find_command_word(const std::vector<std::string>& args) {
  CommandWord word;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (arg == "--") {
      break;
    }
    if (takes_value(arg)) {
      ++i;
    } else if (arg == "--help" || arg == "-h") {
      word.help = true;
    } else if (arg == "--version" || arg == "-V") {
      word.version_first = word.version_first || !word.index;
    } else if (!arg.empty() && arg[0] != '-' && !word.index) {
      word.index = i;
    }
  }
  return word;
}

std::optional<std::string> env_value(const Environment& env, const std::string& name) {
  const auto it = env.find(name);
  if (it == env.end() || it->second.empty()) {
    return std::nullopt;
  }
  return it->second;
}

po::parsed_options parse_env(const po::options_description& desc, const Environment& env,
                             const std::map<std::string, std::string>& mapping) {
  po::parsed_options parsed(&desc);
  for (const auto& [variable, option] : mapping) {
    if (const auto value = env_value(env, variable)) {
      if (desc.find_nothrow(option, false) != nullptr) {
        parsed.options.emplace_back(option, std::vector<std::string>{*value});
      }
    }
  }
  return parsed;
}

std::vector<std::string> values_of(const po::parsed_options& parsed, const std::string& name) {
  std::vector<std::string> values;
  for (const auto& option : parsed.options) {
    if (option.string_key == name) {
      values.insert(values.end(), option.value.begin(), option.value.end());
    }
  }
  return values;
}

// The librdkafka properties one source gives, in its order: -X KEY=VALUE, and
// --client-id ID as client.id, so that either one written later wins.
pipeline::Properties properties_of(const po::parsed_options& parsed) {
  pipeline::Properties properties;
  for (const auto& option : parsed.options) {
    for (const auto& value : option.value) {
      if (option.string_key == "property") {
        properties.push_back(split_property(value));
      } else if (option.string_key == "client-id") {
        properties.emplace_back("client.id", value);
      }
    }
  }
  return properties;
}

std::optional<std::string> last_value_of(const po::parsed_options& parsed, const std::string& name) {
  auto values = values_of(parsed, name);
  if (values.empty()) {
    return std::nullopt;
  }
  return values.back();
}

// True when some subcommand (not necessarily this one) has option `key`: a
// config file may be shared by several subcommands.
bool is_any_command_option(const std::string& key) {
  for (const auto& command : commands()) {
    po::positional_options_description positional;
    if (command_options(command, positional).find_nothrow(key, false) != nullptr) {
      return true;
    }
  }
  return false;
}

// The --config file's lines as options of this subcommand: foodpipe's own
// options, then librdkafka's properties as the client files Kafka tools
// write them (bootstrap.servers for --bootstrap-servers, anything else
// librdkafka knows as a -X property). Another subcommand's options are
// passed over; any other key is a usage error.
po::parsed_options parse_config(const std::vector<ConfigLine>& lines, const std::string& path,
                                const po::options_description& all) {
  po::parsed_options parsed(&all);
  for (const auto& line : lines) {
    const auto where = path + " line " + std::to_string(line.number);
    if (const auto* option = all.find_nothrow(line.key, false); option != nullptr) {
      parsed.options.emplace_back(option->key(line.key), std::vector<std::string>{line.value});
    } else if (line.key == "bootstrap.servers") {
      parsed.options.emplace_back("bootstrap-servers", std::vector<std::string>{line.value});
    } else if (is_any_command_option(line.key)) {
      continue;
    } else if (pipeline::is_property(line.key)) {
      try {
        pipeline::validate_properties({{line.key, line.value}});
      } catch (const UsageError& error) {
        throw UsageError(where + ": " + error.what());
      }
      parsed.options.emplace_back("property", std::vector<std::string>{line.key + "=" + line.value});
    } else {
      throw UsageError(where + ": '" + line.key +
                       "' is neither a foodpipe option nor a librdkafka property (see 'foodpipe help' and "
                       "librdkafka's CONFIGURATION.md)");
    }
  }
  return parsed;
}

std::string quote_conninfo_value(const std::string& value) {
  std::string out = "'";
  for (const char c : value) {
    if (c == '\'' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "'";
}

} // namespace

Environment process_environment() {
  Environment env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const auto eq = text.find('=');
    if (eq != std::string::npos) {
      env.emplace(text.substr(0, eq), text.substr(eq + 1));
    }
  }
  return env;
}

std::vector<ConfigLine> read_config_lines(std::istream& in, const std::string& path) {
  std::vector<ConfigLine> lines;
  std::string text;
  const auto blank = " \t\r";
  for (std::size_t number = 1; std::getline(in, text); ++number) {
    const auto first = text.find_first_not_of(blank);
    if (first == std::string::npos || text[first] == '#' || text[first] == '!') {
      continue;
    }
    const auto eq = text.find('=', first);
    auto key_end = eq == std::string::npos ? std::string::npos : text.find_last_not_of(blank, eq - 1);
    if (eq == std::string::npos || eq == first || key_end == std::string::npos || key_end < first) {
      throw UsageError(path + " line " + std::to_string(number) + ": expected 'name = value'");
    }
    ConfigLine line;
    line.number = number;
    line.key = text.substr(first, key_end + 1 - first);
    const auto value_start = text.find_first_not_of(blank, eq + 1);
    if (value_start != std::string::npos) {
      line.value = text.substr(value_start, text.find_last_not_of(blank) + 1 - value_start);
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

po::options_description global_options() {
  po::options_description desc("Global options (also from the environment and --config FILE)", 100, 50);
  // clang-format off
  desc.add_options()
    ("bootstrap-servers,bootstrap-server,b",
       po::value<std::string>()->value_name("HOST:PORT,...")->default_value("localhost:9092"),
       "Kafka brokers to start from; also --bootstrap-server, as Kafka's tools spell it "
       "(env KAFKA_BOOTSTRAP_SERVERS)")
    ("property,X", po::value<std::vector<std::string>>()->value_name("KEY=VALUE"),
       "a librdkafka property, repeatable, e.g. -X security.protocol=SASL_SSL")
    ("client-id", po::value<std::string>()->value_name("ID"),
       "librdkafka's client.id of every Kafka client, as -X client.id=ID (default foodpipe; "
       "env PRODUCER_CLIENT_ID for produce)")
    ("db", po::value<std::string>()->value_name("CONNINFO|URI"),
       "PostgreSQL conninfo or URI (env DATABASE_URL, POSTGRES_HOST/PORT/DB/USER/PASSWORD, "
       "libpq's PG* variables; default postgresql://postgres@localhost:5432/food_orders)")
    ("log-level", po::value<std::string>()->value_name("LEVEL")->default_value("info"),
       "trace, debug, info, warning or error (env LOG_LEVEL)")
    ("log-format", po::value<std::string>()->value_name("FORMAT")->default_value("text"),
       "text or json lines on stderr (env LOG_FORMAT)")
    ("config", po::value<std::string>()->value_name("FILE"),
       "read 'name = value' lines for any long option, and librdkafka properties as a client "
       ".properties file has them (bootstrap.servers, security.protocol, sasl.*, ssl.*, ...: -X); "
       "'#' starts a comment line (env FOODPIPE_CONFIG)");
  // clang-format on
  return desc;
}

std::string default_db_conninfo(const Environment& env) {
  // Each default yields to libpq's own variable, which libpq then reads itself.
  std::string conninfo;
  const auto add = [&](const char* keyword, const char* variable, const char* fallback) {
    if (!env_value(env, variable)) {
      if (!conninfo.empty()) {
        conninfo += ' ';
      }
      conninfo += std::string(keyword) + "=" + fallback;
    }
  };
  add("host", "PGHOST", "localhost");
  add("port", "PGPORT", "5432");
  add("user", "PGUSER", "postgres");
  add("dbname", "PGDATABASE", "food_orders");
  return conninfo;
}

std::string resolve_db_conninfo(const std::optional<std::string>& flag,
                                const std::optional<std::string>& file, const Environment& env) {
  if (flag) {
    return *flag;
  }
  if (const auto url = env_value(env, "DATABASE_URL")) {
    return *url;
  }
  const auto host = env_value(env, "POSTGRES_HOST");
  const auto port = env_value(env, "POSTGRES_PORT");
  const auto db = env_value(env, "POSTGRES_DB");
  const auto user = env_value(env, "POSTGRES_USER");
  const auto password = env_value(env, "POSTGRES_PASSWORD");
  if (host || port || db || user || password) {
    std::string conninfo = "host=" + quote_conninfo_value(host.value_or("localhost")) +
                           " port=" + quote_conninfo_value(port.value_or("5432")) +
                           " dbname=" + quote_conninfo_value(db.value_or("food_orders")) +
                           " user=" + quote_conninfo_value(user.value_or("postgres"));
    if (password) {
      conninfo += " password=" + quote_conninfo_value(*password);
    }
    return conninfo;
  }
  if (file) {
    return *file;
  }
  return default_db_conninfo(env);
}

std::pair<std::string, std::string> split_property(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw UsageError("-X " + text + ": expected KEY=VALUE, e.g. -X linger.ms=5");
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

OptionValue option_value(const Context& context, const po::variables_map& options, const std::string& name) {
  OptionValue value;
  value.name = name;
  if (options.count(name) == 0U) {
    throw UsageError("--" + name + " needs a value");
  }
  value.text = options[name].as<std::string>();
  if (const auto it = context.origins.find(name); it != context.origins.end()) {
    value.origin = it->second;
  }
  return value;
}

po::options_description command_options(const Command& command, po::positional_options_description& positional) {
  po::options_description own(std::string(command.name) + " options", 100, 50);
  if (command.options) {
    command.options(own, positional);
  }
  if (command.offers_json) {
    own.add_options()("json", po::bool_switch(), "print the result as one JSON object on stdout");
  }
  return own;
}

bool asks_for_json(const std::vector<std::string>& args) {
  const auto word = find_command_word(args);
  const Command* command = word.index ? find_command(args[*word.index]) : nullptr;
  if (command == nullptr || !command->offers_json) {
    return false;
  }
  po::positional_options_description positional;
  const auto own = command_options(*command, positional);
  for (const auto& arg : args) {
    if (arg == "--") {
      break;
    }
    if (const auto* option = option_named(own, arg); option != nullptr && option->long_name() == "json") {
      return true;
    }
  }
  return false;
}

namespace {

// The command `args` names, or what to do instead: help, version, or a usage
// error for a word that is no command. Returns false when `invocation` is
// already complete (help or version).
bool find_invoked_command(const std::vector<std::string>& args, Invocation& invocation,
                          std::vector<std::string>& rest) {
  const auto word = find_command_word(args);
  if (word.version_first) {
    invocation.action = Invocation::Action::version;
    return false;
  }
  if (!word.index) {
    if (word.help || args.empty()) {
      invocation.action = Invocation::Action::help;
      return false;
    }
    throw UsageError("no subcommand given; run 'foodpipe help' to see them");
  }

  std::string name = args[*word.index];
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i != *word.index) {
      rest.push_back(args[i]);
    }
  }
  if (name == "help") {
    // "foodpipe help" or "foodpipe help <command>"
    invocation.action = Invocation::Action::help;
    const auto topic = std::find_if(rest.begin(), rest.end(),
                                    [](const std::string& arg) { return !arg.empty() && arg[0] != '-'; });
    if (topic == rest.end()) {
      return false;
    }
    invocation.command = find_command(*topic);
    if (invocation.command != nullptr) {
      return false;
    }
    name = *topic;
  }

  invocation.command = find_command(name);
  if (invocation.command == nullptr) {
    const auto suggestion = suggest_command(name);
    std::string message = "'" + name + "' is not a foodpipe command";
    if (!suggestion.empty()) {
      message += "; did you mean '" + std::string(suggestion) + "'?";
    } else {
      message += "; run 'foodpipe help' to see them";
    }
    throw UsageError(message);
  }
  if (word.help) {
    invocation.action = Invocation::Action::help;
    return false;
  }
  return true;
}

// Where a command's options come from: flags, the environment and --config.
struct OptionSources {
  po::parsed_options flags;
  po::parsed_options env;
  po::parsed_options file;
  std::map<std::string, std::string> env_mapping; // variable -> option
  std::optional<std::string> config_path;
};

OptionSources read_option_sources(const std::vector<std::string>& rest, const Command& command,
                                  const po::options_description& all,
                                  const po::positional_options_description& positional, const Environment& env) {
  auto env_mapping = global_env();
  env_mapping.insert(command.env.begin(), command.env.end());
  OptionSources sources{po::command_line_parser(rest).options(all).positional(positional).run(),
                        parse_env(all, env, env_mapping), po::parsed_options(&all), env_mapping, {}};
  sources.config_path = last_value_of(sources.flags, "config");
  if (!sources.config_path) {
    sources.config_path = env_value(env, "FOODPIPE_CONFIG");
  }
  if (sources.config_path) {
    std::ifstream file(*sources.config_path);
    if (!file) {
      throw UsageError("cannot read --config file " + *sources.config_path);
    }
    sources.file = parse_config(read_config_lines(file, *sources.config_path), *sources.config_path, all);
  }
  return sources;
}

// Where each option that was not a flag came from, for messages that name it.
void record_origins(const po::variables_map& options, const OptionSources& sources, const Environment& env,
                    Context& context) {
  for (const auto& [option, value] : options) {
    if (value.defaulted()) {
      context.origins[option] = {Origin::Kind::default_value, {}};
    } else if (!values_of(sources.flags, option).empty()) {
      continue;
    } else if (!values_of(sources.env, option).empty()) {
      for (const auto& [variable, mapped] : sources.env_mapping) {
        if (mapped == option && env_value(env, variable)) {
          context.origins[option] = {Origin::Kind::environment, variable};
        }
      }
    } else if (sources.config_path) {
      context.origins[option] = {Origin::Kind::config_file, *sources.config_path};
    }
  }
}

// The global settings every command shares: brokers, client properties, database, logging, --json.
void fill_context(const po::variables_map& options, const OptionSources& sources, const Command& command,
                  const Environment& env, Context& context) {
  context.bootstrap_servers = options["bootstrap-servers"].as<std::string>();

  // -X and --client-id: per key, flags beat environment beat file; within a
  // source the last wins.
  for (const po::parsed_options* source : {&sources.file, &sources.env, &sources.flags}) {
    const auto properties = properties_of(*source);
    context.kafka_properties.insert(context.kafka_properties.end(), properties.begin(), properties.end());
  }
  pipeline::validate_properties(context.kafka_properties);

  context.db_conninfo =
      resolve_db_conninfo(last_value_of(sources.flags, "db"), last_value_of(sources.file, "db"), env);

  const auto level_text = options["log-level"].as<std::string>();
  const auto level = log::parse_level(level_text);
  if (!level) {
    throw UsageError("--log-level " + level_text + ": expected trace, debug, info, warning or error");
  }
  context.log_level = *level;
  const auto format_text = options["log-format"].as<std::string>();
  const auto format = log::parse_format(format_text);
  if (!format) {
    throw UsageError("--log-format " + format_text + ": expected text or json");
  }
  context.log_format = *format;
  context.json = command.offers_json && options["json"].as<bool>();
}

} // namespace

Invocation parse_invocation(const std::vector<std::string>& args, const Environment& env) {
  Invocation invocation;
  std::vector<std::string> rest;
  if (!find_invoked_command(args, invocation, rest)) {
    return invocation;
  }
  const Command& command = *invocation.command;

  po::positional_options_description positional;
  const auto own = command_options(command, positional);
  po::options_description all;
  all.add(own).add(global_options());
  try {
    const auto sources = read_option_sources(rest, command, all, positional, env);
    // Options store in precedence order: the first stored value wins.
    po::store(sources.flags, invocation.options);
    po::store(sources.env, invocation.options);
    po::store(sources.file, invocation.options);
    po::notify(invocation.options);
    record_origins(invocation.options, sources, env, invocation.context);
    fill_context(invocation.options, sources, command, env, invocation.context);
  } catch (const po::error& error) {
    throw UsageError(error.what() + (" (see 'foodpipe " + std::string(command.name) + " --help')"));
  }
  return invocation;
}

} // namespace foodpipe::app
