// Configuration precedence, -X parsing and the subcommand lookup.

#include <fstream>

#include <gtest/gtest.h>

#include "app/commands.hpp"
#include "app/settings.hpp"
#include "app/text.hpp"
#include "kafka/config.hpp"
#include "support/test_env.hpp"

namespace foodpipe::app {
namespace {

Invocation parse(std::vector<std::string> args, const Environment& env = {}) {
  return parse_invocation(args, env);
}

std::string write_config(const std::string& text) {
  const auto path = "/tmp/" + test::unique_name("foodpipe_config") + ".conf";
  std::ofstream(path) << text;
  return path;
}

TEST(Settings, DefaultsReachTheLocalStack) {
  const auto invocation = parse({"seed-db"});
  EXPECT_EQ(invocation.context.bootstrap_servers, "localhost:9092");
  EXPECT_EQ(invocation.context.db_conninfo, "host=localhost port=5432 user=postgres dbname=food_orders");
  EXPECT_EQ(invocation.context.log_level, log::Level::info);
  EXPECT_EQ(invocation.context.log_format, log::Format::text);
  EXPECT_TRUE(invocation.context.kafka_properties.empty());
}

TEST(Settings, FlagBeatsEnvironmentBeatsFileBeatsDefault) {
  const auto config = write_config("bootstrap-servers = file:9092\nlog-level = debug\nlog-format = json\n");
  const Environment env = {{"KAFKA_BOOTSTRAP_SERVERS", "env:9092"}, {"LOG_LEVEL", "warning"}};

  auto invocation = parse({"seed-db", "--config", config, "--bootstrap-servers", "flag:9092"}, env);
  EXPECT_EQ(invocation.context.bootstrap_servers, "flag:9092");
  EXPECT_EQ(invocation.context.log_level, log::Level::warning); // env beats file
  EXPECT_EQ(invocation.context.log_format, log::Format::json);  // file beats default

  invocation = parse({"seed-db", "--config", config}, env);
  EXPECT_EQ(invocation.context.bootstrap_servers, "env:9092");

  invocation = parse({"seed-db", "--config", config});
  EXPECT_EQ(invocation.context.bootstrap_servers, "file:9092");
  EXPECT_EQ(invocation.context.log_level, log::Level::debug);
}

TEST(Settings, ConfigFileFromEnvironment) {
  const auto config = write_config("bootstrap-servers = fromfile:1\n");
  const auto invocation = parse({"seed-db"}, {{"FOODPIPE_CONFIG", config}});
  EXPECT_EQ(invocation.context.bootstrap_servers, "fromfile:1");
}

TEST(Settings, GlobalOptionsMayComeBeforeOrAfterTheCommand) {
  EXPECT_EQ(parse({"--bootstrap-servers", "a:1", "seed-db"}).context.bootstrap_servers, "a:1");
  EXPECT_EQ(parse({"seed-db", "--bootstrap-servers=b:2"}).context.bootstrap_servers, "b:2");
}

TEST(Settings, BootstrapServersAnswerToTheSpellingsOfKcatAndKafkasTools) {
  const auto config = write_config("bootstrap-server = file:1\n");
  const std::vector<std::vector<std::string>> spellings = {{"-b", "h:1", "doctor"},
                                                           {"--bootstrap-server", "h:1", "doctor"},
                                                           {"-bh:1", "doctor"},
                                                           {"doctor", "-b", "h:1"},
                                                           {"doctor", "--bootstrap-server", "h:1"},
                                                           {"doctor", "--bootstrap-server=h:1"},
                                                           {"--config", config, "-b", "h:1", "doctor"}};
  for (const auto& args : spellings) {
    const auto invocation = parse(args, {{"KAFKA_BOOTSTRAP_SERVERS", "env:1"}});
    ASSERT_NE(invocation.command, nullptr) << args[0];
    EXPECT_EQ(invocation.command->name, "doctor") << args[0];
    EXPECT_EQ(invocation.context.bootstrap_servers, "h:1") << args[0];
  }
  // In a --config file the alias is the same option, below the environment.
  EXPECT_EQ(parse({"doctor", "--config", config}).context.bootstrap_servers, "file:1");
  const Environment env = {{"KAFKA_BOOTSTRAP_SERVERS", "env:1"}};
  EXPECT_EQ(parse({"doctor", "--config", config}, env).context.bootstrap_servers, "env:1");
}

TEST(Settings, AGlobalOptionsValueIsNeverTakenForTheCommand) {
  // Boost reads an unambiguous prefix as the option; so does the search for the command.
  const auto invocation = parse({"--log-l", "debug", "-X", "linger.ms=5", "--client-id", "c1", "produce"});
  ASSERT_NE(invocation.command, nullptr);
  EXPECT_EQ(invocation.command->name, "produce");
  EXPECT_EQ(invocation.context.log_level, log::Level::debug);
}

TEST(Settings, NoCommandGivesTheGlobalShortOptionsAnotherMeaning) {
  for (const auto& command : commands()) {
    po::positional_options_description positional;
    const auto own = command_options(command, positional);
    for (const auto* name : {"-b", "-X", "bootstrap-server", "client-id"}) {
      EXPECT_EQ(own.find_nothrow(name, false), nullptr) << command.name << ' ' << name;
    }
  }
}

TEST(Settings, TheOriginalProjectsVariablesFeedTheirOptions) {
  const Environment env = {{"KAFKA_TOPIC_ORDERS", "t1"},         {"PRODUCER_RATE", "7"},
                           {"PRODUCER_DURATION", "9"},           {"MOCK_SEED", "42"},
                           {"CONSUMER_GROUP_ID", "g1"},          {"CONSUMER_AUTO_OFFSET_RESET", "latest"},
                           {"PRODUCER_CLIENT_ID", "orders-producer"}};
  const auto text = [](const Invocation& invocation, const std::string& name) {
    const auto value = option_value(invocation.context, invocation.options, name);
    EXPECT_EQ(value.origin.kind, Origin::Kind::environment) << name;
    return value.text;
  };
  const auto produce = parse({"produce"}, env);
  EXPECT_EQ(text(produce, "topic"), "t1");
  EXPECT_EQ(text(produce, "rate"), "7");
  EXPECT_EQ(text(produce, "duration"), "9");
  EXPECT_EQ(text(produce, "seed"), "42");
  EXPECT_EQ(produce.context.kafka_properties,
            (std::vector<std::pair<std::string, std::string>>{{"client.id", "orders-producer"}}));

  const auto consume = parse({"consume"}, env);
  EXPECT_EQ(text(consume, "topic"), "t1");
  EXPECT_EQ(text(consume, "group"), "g1");
  EXPECT_EQ(text(consume, "from"), "latest");
  EXPECT_TRUE(consume.context.kafka_properties.empty()) << "PRODUCER_CLIENT_ID names produce's client only";

  for (const auto* command : {"inspect", "offsets"}) {
    const auto invocation = parse({command}, env);
    EXPECT_EQ(text(invocation, "topic"), "t1") << command;
    EXPECT_EQ(text(invocation, "group"), "g1") << command;
  }
  EXPECT_EQ(text(parse({"replay", "--from-beginning"}, env), "topic"), "t1");
  // A flag beats each of them.
  EXPECT_EQ(parse({"consume", "--from", "earliest"}, env).options["from"].as<std::string>(), "earliest");
}

TEST(Settings, ClientIdIsClientDotIdWithThePrecedenceOfEveryOption) {
  using Property = std::pair<std::string, std::string>;
  const auto config = write_config("client-id = file-id\n");
  const auto client_id = [](const Invocation& invocation) {
    return kafka::property_or(invocation.context.kafka_properties, "client.id", "foodpipe");
  };
  EXPECT_EQ(parse({"produce"}).context.kafka_properties, std::vector<Property>{});
  EXPECT_EQ(client_id(parse({"produce", "--config", config})), "file-id");
  const Environment env = {{"PRODUCER_CLIENT_ID", "env-id"}};
  EXPECT_EQ(client_id(parse({"produce", "--config", config}, env)), "env-id");
  EXPECT_EQ(client_id(parse({"produce", "--config", config, "--client-id", "flag-id"}, env)), "flag-id");
  // Every command's clients take it; among flags the later of --client-id and -X client.id wins.
  EXPECT_EQ(client_id(parse({"consume", "--client-id", "c1"})), "c1");
  EXPECT_EQ(client_id(parse({"inspect", "--client-id", "c1", "-X", "client.id=c2"})), "c2");
  EXPECT_EQ(client_id(parse({"inspect", "-X", "client.id=c2", "--client-id", "c1"})), "c1");
}

TEST(Settings, AsksForJsonOnlyWhenACommandIsNamed) {
  EXPECT_TRUE(asks_for_json({"produce", "--rate", "abc", "--json"}));
  EXPECT_TRUE(asks_for_json({"--json", "-b", "h:1", "doctor", "--frobnicate"}));
  EXPECT_FALSE(asks_for_json({"produce", "--rate", "abc"}));
  EXPECT_FALSE(asks_for_json({"prodcue", "--json"}));
  EXPECT_FALSE(asks_for_json({"--json"}));
  EXPECT_FALSE(asks_for_json({"produce", "--", "--json"}));
}

TEST(Settings, PropertiesAreValidatedAndMergedPerKey) {
  const auto config = write_config("property = linger.ms=7\nproperty = acks=1\n");
  const auto invocation =
      parse({"seed-db", "--config", config, "-X", "linger.ms=5", "-Xcompression.type=lz4"});
  const auto& props = invocation.context.kafka_properties;
  // File first, flags after, so that librdkafka's last-set-wins gives flags precedence.
  ASSERT_EQ(props.size(), 4U);
  EXPECT_EQ(props[0], (std::pair<std::string, std::string>{"linger.ms", "7"}));
  EXPECT_EQ(props[2], (std::pair<std::string, std::string>{"linger.ms", "5"}));
  EXPECT_EQ(props[3], (std::pair<std::string, std::string>{"compression.type", "lz4"}));
}

TEST(Settings, UnknownPropertyIsAUsageErrorQuotingLibrdkafka) {
  try {
    (void)parse({"seed-db", "-X", "no.such.property=1"});
    FAIL() << "expected UsageError";
  } catch (const UsageError& error) {
    EXPECT_NE(std::string(error.what()).find("No such configuration property"), std::string::npos)
        << error.what();
    EXPECT_EQ(error.exit_code(), ExitCode::usage);
  }
  EXPECT_THROW((void)parse({"seed-db", "-X", "linger.ms=banana"}), UsageError);
  EXPECT_THROW((void)parse({"seed-db", "-X", "linger.ms"}), UsageError);
  EXPECT_THROW((void)parse({"seed-db", "-X", "=5"}), UsageError);
}

TEST(Settings, SecretPropertyValuesNeverAppearInErrors) {
  try {
    (void)parse({"seed-db", "-X", "sasl.password=hunter2", "-X", "bogus.key=1"});
    FAIL() << "expected UsageError";
  } catch (const UsageError& error) {
    EXPECT_EQ(std::string(error.what()).find("hunter2"), std::string::npos) << error.what();
  }
}

TEST(Settings, ANumberKnowsWhereItWasWritten) {
  const auto value = [](const Invocation& invocation, const std::string& name) {
    return option_value(invocation.context, invocation.options, name);
  };
  const auto config = write_config("duration = 1e10\n");
  const Environment env = {{"PRODUCER_RATE", "2e9"}};
  const auto invocation = parse({"produce", "--config", config, "--count", "5"}, env);
  EXPECT_EQ(value(invocation, "count").origin.kind, Origin::Kind::command_line);
  EXPECT_EQ(value(invocation, "count").text, "5");
  const auto rate = value(invocation, "rate");
  EXPECT_EQ(rate.origin.kind, Origin::Kind::environment);
  EXPECT_EQ(rate.describe(), "PRODUCER_RATE=2e9 (--rate)");
  const auto duration = value(invocation, "duration");
  EXPECT_EQ(duration.origin.kind, Origin::Kind::config_file);
  EXPECT_EQ(duration.describe(), "duration = 1e10 in " + config + " (--duration)");
  EXPECT_EQ(value(invocation, "flush-timeout").origin.kind, Origin::Kind::default_value);
  // A flag still beats the environment, and then it is the flag that is named.
  EXPECT_EQ(value(parse({"produce", "--rate", "7"}, env), "rate").describe(), "--rate 7");
}

TEST(Settings, DatabasePrecedence) {
  const Environment none;
  EXPECT_EQ(resolve_db_conninfo("flag", "file", {{"DATABASE_URL", "env"}}), "flag");
  EXPECT_EQ(resolve_db_conninfo(std::nullopt, "file", {{"DATABASE_URL", "env"}}), "env");
  EXPECT_EQ(resolve_db_conninfo(std::nullopt, "file", none), "file");
  EXPECT_EQ(resolve_db_conninfo(std::nullopt, std::nullopt, none),
            "host=localhost port=5432 user=postgres dbname=food_orders");
}

TEST(Settings, OriginalProjectVariablesBuildAConninfo) {
  const Environment env = {{"POSTGRES_HOST", "db.example"}, {"POSTGRES_DB", "orders db"},
                           {"POSTGRES_PASSWORD", "it's"}};
  EXPECT_EQ(resolve_db_conninfo(std::nullopt, "file", env),
            "host='db.example' port='5432' dbname='orders db' user='postgres' password='it\\'s'");
}

TEST(Settings, LibpqVariablesReplaceTheDefaults) {
  EXPECT_EQ(default_db_conninfo({{"PGHOST", "/var/run/postgresql"}, {"PGDATABASE", "x"}}),
            "port=5432 user=postgres");
}

TEST(Settings, BadLogSettingsAreUsageErrors) {
  EXPECT_THROW((void)parse({"seed-db", "--log-level", "loud"}), UsageError);
  EXPECT_THROW((void)parse({"seed-db"}, {{"LOG_FORMAT", "xml"}}), UsageError);
}

TEST(Settings, UnknownOptionIsAUsageError) {
  EXPECT_THROW((void)parse({"seed-db", "--no-such-flag"}), UsageError);
}

TEST(Settings, MissingConfigFileIsAUsageError) {
  EXPECT_THROW((void)parse({"seed-db", "--config", "/nonexistent/foodpipe.conf"}), UsageError);
}

TEST(Settings, HelpAndVersion) {
  EXPECT_EQ(parse({}).action, Invocation::Action::help);
  EXPECT_EQ(parse({"--help"}).action, Invocation::Action::help);
  EXPECT_EQ(parse({"--version"}).action, Invocation::Action::version);
  const auto help = parse({"help", "seed-db"});
  EXPECT_EQ(help.action, Invocation::Action::help);
  ASSERT_NE(help.command, nullptr);
  EXPECT_EQ(help.command->name, "seed-db");
  EXPECT_EQ(parse({"seed-db", "--help"}).action, Invocation::Action::help);
}

TEST(Settings, UnknownCommandSuggestsTheClosestOne) {
  try {
    (void)parse({"seed-bd"});
    FAIL() << "expected UsageError";
  } catch (const UsageError& error) {
    EXPECT_EQ(std::string(error.what()), "'seed-bd' is not a foodpipe command; did you mean 'seed-db'?");
  }
  EXPECT_EQ(suggest_command("zzzzzzzzzz"), "");
}

TEST(Text, EditDistance) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3U);
  EXPECT_EQ(edit_distance("", "abc"), 3U);
  EXPECT_EQ(edit_distance("same", "same"), 0U);
}

} // namespace
} // namespace foodpipe::app
