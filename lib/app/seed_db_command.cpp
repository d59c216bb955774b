// foodpipe seed-db: prepares the database (see pipeline/seed_db.hpp) and
// reports what it did, for people on stdout or as one JSON line for scripts.

#include <cstdio>
#include <iostream>
#include <string>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "app/commands.hpp"
#include "pipeline/seed_db.hpp"

namespace foodpipe::app {
namespace {

constexpr std::string_view k_details = R"(Creates the database when it does not exist yet (from the server's maintenance
database "postgres"), applies the migrations in sql/ that are not applied yet
(each in its own transaction, recorded in schema_migrations with its SHA-256),
and loads the reference data (100 customers, 20 menu items) into customers and
menu_items. Safe to run again and to run concurrently: a second run changes
nothing, and concurrent runs apply each migration once.

It refuses (exit 1) when an applied migration's file has changed since, or
when the database has a migration the files do not: compare the checksums with
  psql -c 'SELECT version, name, checksum FROM schema_migrations'
  sha256sum sql/*.sql

Exit status: 0 done, 1 failure, 2 bad options; SIGINT/SIGTERM while it waits (for the
migration lock another run holds) stop it with 128 + the signal's number (130, 143).

Examples:
  foodpipe seed-db                                 # the local stack of compose/up
  foodpipe seed-db --dry-run                       # what would be done; changes nothing
  foodpipe seed-db --db postgresql://app@db.example:5432/food_orders
  DATABASE_URL=postgresql://postgres@localhost/test foodpipe seed-db --json
  foodpipe seed-db --migrations-dir ./sql --no-reference-data
)";

struct SeedDbArgs {
  bool dry_run = false;
  std::string migrations_dir;
  bool no_reference_data = false;
};

SeedDbArgs read_args(const po::variables_map& options) {
  SeedDbArgs args;
  args.dry_run = options["dry-run"].as<bool>();
  args.no_reference_data = options["no-reference-data"].as<bool>();
  if (options.count("migrations-dir") != 0) {
    args.migrations_dir = options["migrations-dir"].as<std::string>();
    if (args.migrations_dir.empty()) {
      throw UsageError("--migrations-dir needs a directory (leave it out for the built-in migrations)");
    }
  }
  return args;
}

std::string join_migrations(const std::vector<pipeline::MigrationRef>& migrations) {
  std::string text;
  for (const auto& migration : migrations) {
    char version[16];
    std::snprintf(version, sizeof version, "%03d", migration.version);
    text += (text.empty() ? "" : ", ") + std::string(version) + "_" + migration.name;
  }
  return text;
}

std::string counts_text(const db::UpsertCounts& counts, bool dry_run) {
  if (dry_run) {
    return "would insert " + std::to_string(counts.inserted) + ", update " +
           std::to_string(counts.updated) + "; " + std::to_string(counts.unchanged) + " unchanged";
  }
  return std::to_string(counts.inserted) + " inserted, " + std::to_string(counts.updated) +
         " updated, " + std::to_string(counts.unchanged) + " unchanged";
}

void print_human(const pipeline::SeedDbReport& report, std::ostream& out) {
  if (report.dry_run) {
    out << "dry run: nothing was changed\n";
  }
  out << "database " << report.database << " at " << report.server << ": ";
  if (report.database_created) {
    out << "created\n";
  } else if (!report.database_existed) {
    out << (report.dry_run ? "does not exist yet; would create it\n" : "created by another process\n");
  } else {
    out << "exists\n";
  }
  const auto& changes = report.dry_run ? report.migrations_pending : report.migrations_applied;
  out << "migrations: ";
  if (changes.empty()) {
    out << "none pending";
  } else {
    out << (report.dry_run ? "would apply " : "applied ") << changes.size() << " ("
        << join_migrations(changes) << ")";
  }
  out << "; " << report.migrations_already_applied << " already applied\n";
  out << "schema version: " << report.schema_version;
  if (report.dry_run && !changes.empty()) {
    out << " (" << changes.back().version << " after applying)";
  }
  out << '\n';
  if (report.reference_data) {
    out << "customers: " << counts_text(report.reference_data->customers, report.dry_run) << '\n';
    out << "menu items: " << counts_text(report.reference_data->menu_items, report.dry_run) << '\n';
  } else {
    out << "reference data: skipped (--no-reference-data)\n";
  }
  out << "done in " << report.elapsed.count() << " ms\n";
}

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void write_string(JsonWriter& writer, std::string_view text) {
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

void write_migrations(JsonWriter& writer, std::string_view key,
                      const std::vector<pipeline::MigrationRef>& migrations) {
  writer.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  writer.StartArray();
  for (const auto& migration : migrations) {
    writer.StartObject();
    writer.Key("version");
    writer.Int(migration.version);
    writer.Key("name");
    write_string(writer, migration.name);
    writer.EndObject();
  }
  writer.EndArray();
}

void write_counts(JsonWriter& writer, const char* key, const db::UpsertCounts* counts) {
  writer.Key(key);
  if (counts == nullptr) {
    writer.Null();
    return;
  }
  writer.StartObject();
  writer.Key("inserted");
  writer.Int(counts->inserted);
  writer.Key("updated");
  writer.Int(counts->updated);
  writer.Key("unchanged");
  writer.Int(counts->unchanged);
  writer.EndObject();
}

std::string to_json(const pipeline::SeedDbReport& report) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("database");
  write_string(writer, report.database);
  writer.Key("server");
  write_string(writer, report.server);
  writer.Key("database_existed");
  writer.Bool(report.database_existed);
  writer.Key("database_created");
  writer.Bool(report.database_created);
  write_migrations(writer, "migrations_applied", report.migrations_applied);
  write_migrations(writer, "migrations_pending", report.migrations_pending);
  writer.Key("migrations_already_applied");
  writer.Int(report.migrations_already_applied);
  writer.Key("schema_version");
  writer.Int(report.schema_version);
  const auto* data = report.reference_data ? &*report.reference_data : nullptr;
  write_counts(writer, "customers", data != nullptr ? &data->customers : nullptr);
  write_counts(writer, "menu_items", data != nullptr ? &data->menu_items : nullptr);
  writer.Key("dry_run");
  writer.Bool(report.dry_run);
  writer.Key("elapsed_ms");
  writer.Int64(report.elapsed.count());
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

ExitCode run_seed_db(const Context& context, const po::variables_map& options) {
  const SeedDbArgs args = read_args(options);
  pipeline::SeedDbOptions job;
  job.conninfo = context.db_conninfo;
  job.migrations_dir = args.migrations_dir;
  job.dry_run = args.dry_run;
  job.load_reference_data = !args.no_reference_data;
  const auto report = pipeline::seed_db(job);
  if (context.json) {
    std::cout << to_json(report) << '\n';
  } else {
    print_human(report, std::cout);
  }
  std::cout.flush();
  return ExitCode::ok;
}

} // namespace

Command make_seed_db_command() {
  Command command;
  command.name = "seed-db";
  command.summary = "create the database, apply sql/ migrations, load reference data";
  command.usage = "foodpipe seed-db [--dry-run] [--migrations-dir DIR] [--no-reference-data] [--json]";
  command.details = k_details;
  command.options = [](po::options_description& options, po::positional_options_description&) {
    options.add_options()
        ("dry-run", po::bool_switch(), "show what would be created, applied and loaded; change nothing")
        ("migrations-dir", po::value<std::string>()->value_name("DIR"),
         "apply the NNN_name.sql files of DIR (default: the copies of sql/ built into foodpipe)")
        ("no-reference-data", po::bool_switch(), "do not load the customers and menu_items tables");
  };
  command.offers_json = true;
  command.run = &run_seed_db;
  return command;
}

} // namespace foodpipe::app
