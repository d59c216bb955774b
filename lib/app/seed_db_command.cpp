// foodpipe seed-db: prepares the database (see pipeline/seed_db.hpp) and
// reports what it did, for people on stdout or as one JSON line for scripts.

#include <iostream>
#include <string>

#include "app/commands.hpp"
#include "app/report_json.hpp"
#include "app/report_text.hpp"
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

ExitCode run_seed_db(const Context& context, const po::variables_map& options) {
  const SeedDbArgs args = read_args(options);
  pipeline::SeedDbOptions job;
  job.conninfo = context.db_conninfo;
  job.migrations_dir = args.migrations_dir;
  job.dry_run = args.dry_run;
  job.load_reference_data = !args.no_reference_data;
  const auto report = pipeline::seed_db(job);
  if (context.json) {
    print_json(std::cout, report);
  } else {
    print_text(std::cout, report);
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
