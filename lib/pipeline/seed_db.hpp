#pragma once

// The seed-db job: make a PostgreSQL database ready for the pipeline.
//   1. connect to the target database; when it does not exist, create it from
//      the server's maintenance database "postgres" (a concurrent creator is fine);
//   2. apply the pending migrations (db::Migrator, under its advisory lock);
//   3. load the reference data (customers, menu_items), idempotently.
// Any number of concurrent runs against one server end in the same state, with
// each migration applied once. A dry run changes nothing at all, not even by
// creating the database or schema_migrations.
//
// Thread-safe: each call uses its own connections. Progress is logged
// (component "seed-db"); the report is for the caller to print.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "db/connection.hpp"
#include "db/reference_data_loader.hpp"

namespace foodpipe::pipeline {

struct SeedDbOptions {
  std::string conninfo;                 // conninfo or URI; may hold a password
  std::filesystem::path migrations_dir; // empty: the sql/ files built into the binary
  bool dry_run = false;
  bool load_reference_data = true;
  std::chrono::seconds connect_timeout = db::Connection::k_default_connect_timeout;
};

struct MigrationRef {
  int version = 0;
  std::string name;
};

struct SeedDbReport {
  std::string database;                        // the target database's name
  std::string server;                          // "host:port", no secrets
  bool database_existed = true;                // before this run
  bool database_created = false;               // by this run (false in a dry run)
  std::vector<MigrationRef> migrations_applied; // by this run, in order
  std::vector<MigrationRef> migrations_pending; // dry run: what a real run would apply
  int migrations_already_applied = 0;
  int schema_version = 0;                       // afterwards (dry run: as it is now)
  // Reference data: inserted/updated/unchanged (dry run: what a real run would
  // do); nullopt with load_reference_data = false.
  std::optional<db::ReferenceDataCounts> reference_data;
  bool dry_run = false;
  std::chrono::milliseconds elapsed{0};
};

// Runs the job. Throws foodpipe::Error: db::DbError when PostgreSQL cannot be
// reached or refuses (what() says what to do), Error when the migration files
// are malformed or disagree with what the database has applied (exit 1), and
// DbError with ExitCode::usage for a malformed conninfo (exit 2).
[[nodiscard]] SeedDbReport seed_db(const SeedDbOptions& options);

} // namespace foodpipe::pipeline
