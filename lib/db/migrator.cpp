#include "db/migrator.hpp"

#include <algorithm>
#include <chrono>
#include <charconv>

#include "core/error.hpp"
#include "core/log.hpp"
#include "db/advisory_lock.hpp"
#include "db/error.hpp"
#include "db/transaction.hpp"

namespace foodpipe::db {
namespace {

constexpr std::string_view k_component = "migrate";

constexpr const char* k_create_table = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer     PRIMARY KEY,
  name       text        NOT NULL,
  checksum   text        NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
))sql";

bool table_exists(Connection& connection) {
  return !connection.exec("SELECT to_regclass('schema_migrations')").is_null(0, 0);
}

} // namespace

std::vector<Migration> pending_migrations(const std::vector<AppliedMigration>& applied,
                                          const std::vector<Migration>& files,
                                          const std::string& source) {
  int newest_applied = 0;
  for (const auto& row : applied) {
    const auto file = std::find_if(files.begin(), files.end(),
                                   [&row](const Migration& m) { return m.version == row.version; });
    if (file == files.end()) {
      throw Error("the database has migration " + std::to_string(row.version) + " (" + row.name +
                  ") applied, but " + source + " has no file for version " +
                  std::to_string(row.version) +
                  "; refusing to migrate. Use the foodpipe build or --migrations-dir that "
                  "this database was migrated with");
    }
    if (file->checksum != row.checksum) {
      throw Error(file->location + " has changed since it was applied (applied checksum " +
                  row.checksum + ", file now " + file->checksum +
                  "); refusing to migrate. Restore the file as it was applied, and put the "
                  "change in a new migration with the next free number");
    }
    if (file->name != row.name) {
      log::warning(k_component, "an applied migration was renamed",
                   {{"version", std::to_string(row.version)},
                    {"applied_name", row.name},
                    {"file", file->location}});
    }
    newest_applied = std::max(newest_applied, row.version);
  }
  std::vector<Migration> pending;
  for (const auto& file : files) {
    const bool done = std::any_of(applied.begin(), applied.end(),
                                  [&file](const AppliedMigration& row) { return row.version == file.version; });
    if (done) {
      continue;
    }
    if (file.version < newest_applied) {
      throw Error(file.location + " is not applied yet but is numbered below migration " +
                  std::to_string(newest_applied) +
                  ", which is; refusing to apply migrations out of order. Renumber it above " +
                  std::to_string(newest_applied));
    }
    pending.push_back(file);
  }
  return pending;
}

Migrator::Migrator(Connection& connection, std::vector<Migration> migrations, std::string source)
    : m_connection(connection), m_migrations(std::move(migrations)), m_source(std::move(source)) {}

std::vector<AppliedMigration> Migrator::read_applied() {
  std::vector<AppliedMigration> applied;
  if (!table_exists(m_connection)) {
    return applied;
  }
  const Result rows = m_connection.exec("SELECT version, name, checksum FROM schema_migrations ORDER BY version");
  for (int row = 0; row < rows.rows(); ++row) {
    applied.push_back({parse_integer<int>(rows.value(row, 0)), std::string(rows.value(row, 1)),
                       std::string(rows.value(row, 2))});
  }
  return applied;
}

MigrationPlan Migrator::plan() {
  MigrationPlan plan;
  plan.applied = read_applied();
  plan.pending = pending_migrations(plan.applied, m_migrations, m_source);
  for (const auto& row : plan.applied) {
    plan.schema_version = std::max(plan.schema_version, row.version);
  }
  return plan;
}

MigrationOutcome Migrator::migrate() {
  const AdvisoryLock lock(m_connection, k_lock_key, "migration");
  // Under the lock: concurrent CREATE TABLE IF NOT EXISTS can still collide.
  if (!table_exists(m_connection)) {
    m_connection.exec(k_create_table);
  }
  const auto applied = read_applied();
  const auto pending = pending_migrations(applied, m_migrations, m_source);

  MigrationOutcome outcome;
  outcome.already_applied = static_cast<int>(applied.size());
  for (const auto& row : applied) {
    outcome.schema_version = std::max(outcome.schema_version, row.version);
  }
  for (const auto& migration : pending) {
    const auto started = std::chrono::steady_clock::now();
    Transaction transaction(m_connection);
    try {
      m_connection.exec(migration.sql);
    } catch (const DbError& error) {
      throw DbError("applying " + migration.location + ": " + error.what() +
                        "; it was rolled back (each migration runs in its own transaction), "
                        "fix it and run again",
                    error.sqlstate(), error.connection_lost());
    }
    if (!m_connection.in_transaction()) {
      throw Error(migration.location +
                  " ended the transaction it runs in (COMMIT or ROLLBACK in the file); remove "
                  "it and run again: each migration is applied in a transaction of its own");
    }
    m_connection.exec_params(
        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1::integer, $2, $3)",
        {std::to_string(migration.version), migration.name, migration.checksum});
    transaction.commit();
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    log::info(k_component, "applied migration",
              {{"version", std::to_string(migration.version)},
               {"name", migration.name},
               {"elapsed_ms", std::to_string(elapsed.count())}});
    outcome.applied_now.push_back(migration);
    outcome.schema_version = std::max(outcome.schema_version, migration.version);
  }
  return outcome;
}

void require_foodpipe_schema(Connection& connection) {
  const bool seeded =
      connection
          .exec("SELECT to_regclass('schema_migrations') IS NOT NULL AND to_regclass('orders') IS NOT NULL "
                "AND to_regclass('consumer_offsets') IS NOT NULL AND to_regclass('dead_letters') IS NOT NULL")
          .value(0, 0) == "t";
  if (!seeded) {
    throw Error("database " + connection.describe() + " has no foodpipe schema; run 'foodpipe seed-db' first");
  }
  // A database seeded by an older foodpipe lacks the tables this one writes.
  const auto plan = Migrator(connection, embedded_migrations(), "the sql/ files built into foodpipe").plan();
  if (!plan.pending.empty()) {
    throw Error("database " + connection.describe() + " is at schema version " +
                std::to_string(plan.schema_version) + " but this foodpipe needs " +
                std::to_string(plan.pending.back().version) + " (" + plan.pending.front().file_name +
                (plan.pending.size() > 1 ? ", ..." : "") + "); run 'foodpipe seed-db' to migrate it");
  }
}

} // namespace foodpipe::db
