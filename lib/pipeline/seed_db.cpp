#include "pipeline/seed_db.hpp"

#include "core/log.hpp"
#include "db/advisory_lock.hpp"
#include "db/conninfo.hpp"
#include "db/error.hpp"
#include "db/migrator.hpp"

namespace foodpipe::pipeline {
namespace {

constexpr std::string_view k_component = "seed-db";

std::vector<MigrationRef> refs(const std::vector<db::Migration>& migrations) {
  std::vector<MigrationRef> result;
  result.reserve(migrations.size());
  for (const auto& migration : migrations) {
    result.push_back({migration.version, migration.name});
  }
  return result;
}

// Whether `database` is listed in pg_database, asked of the maintenance
// database; nullopt when that cannot be asked.
std::optional<bool> database_listed(const SeedDbOptions& options, const std::string& database) {
  try {
    auto admin = db::Connection::connect(db::maintenance_conninfo(options.conninfo), options.connect_timeout);
    return !admin.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", {database}).empty();
  } catch (const db::DbError&) {
    return std::nullopt;
  }
}

// The target connection, or nullopt when the database does not exist.
std::optional<db::Connection> connect_target(const SeedDbOptions& options, const std::string& database) {
  try {
    return db::Connection::connect(options.conninfo, options.connect_timeout);
  } catch (const db::DbError& error) {
    if (error.sqlstate() == db::sqlstate::k_invalid_catalog_name) {
      return std::nullopt;
    }
    // libpq gives no SQLSTATE for a failed connection and Connection::connect
    // recognises "does not exist" in English only; ask the catalogue too.
    if (error.sqlstate() == db::sqlstate::k_unable_to_connect &&
        database_listed(options, database) == false) {
      return std::nullopt;
    }
    throw;
  }
}

// CREATE DATABASE on the maintenance database. False when another process
// created it first (42P04, or 23505 when both raced into the catalogue).
bool create_database(const SeedDbOptions& options, const std::string& database) {
  std::optional<db::Connection> admin;
  try {
    admin.emplace(db::Connection::connect(db::maintenance_conninfo(options.conninfo), options.connect_timeout));
  } catch (const db::DbError& error) {
    throw db::DbError("database \"" + database +
                          "\" does not exist, and creating it needs the server's maintenance "
                          "database \"postgres\": " + error.what(),
                      error.sqlstate(), error.connection_lost());
  }
  try {
    admin->exec("CREATE DATABASE " + admin->quote_identifier(database));
  } catch (const db::DbError& error) {
    if (error.sqlstate() == db::sqlstate::k_duplicate_database ||
        error.sqlstate() == db::sqlstate::k_unique_violation) {
      log::info(k_component, "another process created the database first", {{"database", database}});
      return false;
    }
    if (error.sqlstate() == db::sqlstate::k_insufficient_privilege) {
      throw db::DbError("database \"" + database + "\" does not exist at " + admin->server_address() +
                            " and this user may not create it; ask an administrator to run "
                            "CREATE DATABASE " + admin->quote_identifier(database) +
                            " (or grant CREATEDB), then run seed-db again",
                        error.sqlstate());
    }
    throw;
  }
  log::info(k_component, "created database", {{"database", database}, {"server", admin->server_address()}});
  return true;
}

} // namespace

SeedDbReport seed_db(const SeedDbOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  SeedDbReport report;
  report.dry_run = options.dry_run;

  // Files first: a malformed sql/ directory fails before anything is touched.
  const bool embedded = options.migrations_dir.empty();
  auto migrations = embedded ? db::embedded_migrations() : db::load_migrations(options.migrations_dir);
  const std::string source =
      embedded ? "the sql/ files built into foodpipe" : options.migrations_dir.string();

  report.database = db::target_database_name(options.conninfo);
  const std::string target = db::describe_target(options.conninfo);
  report.server = target.substr(0, target.rfind('/'));
  log::info(k_component, options.dry_run ? "checking database (dry run)" : "preparing database",
            {{"database", report.database},
             {"server", report.server},
             {"migrations", std::to_string(migrations.size()) + " from " + source}});

  auto connection = connect_target(options, report.database);
  if (!connection) {
    report.database_existed = false;
    if (options.dry_run) {
      log::info(k_component, "database does not exist yet; would create it", {{"database", report.database}});
      report.migrations_pending = refs(migrations);
      if (options.load_reference_data) {
        report.reference_data = db::plan_reference_data_for_empty_database();
      }
      report.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - started);
      return report;
    }
    log::info(k_component, "database does not exist; creating it", {{"database", report.database}});
    report.database_created = create_database(options, report.database);
    connection.emplace(db::Connection::connect(options.conninfo, options.connect_timeout));
  }
  report.server = connection->server_address();
  if (const auto encoding = connection->parameter_status("server_encoding"); encoding && *encoding != "UTF8") {
    // Names like "Chloé" need it; the server picked the encoding from template1.
    log::warning(k_component, "the database's encoding is not UTF8; non-ASCII names may not round-trip",
                 {{"database", report.database}, {"server_encoding", *encoding}});
  }

  db::Migrator migrator(*connection, std::move(migrations), source);
  if (options.dry_run) {
    const auto plan = migrator.plan();
    report.migrations_pending = refs(plan.pending);
    report.migrations_already_applied = static_cast<int>(plan.applied.size());
    report.schema_version = plan.schema_version;
    if (options.load_reference_data) {
      report.reference_data = db::plan_reference_data(*connection);
    }
  } else {
    // One lock over both steps, so a concurrent run sees either nothing or all
    // of it (the Migrator takes the same lock again; advisory locks nest).
    const db::AdvisoryLock lock(*connection, db::Migrator::k_lock_key, "migration");
    const auto outcome = migrator.migrate();
    report.migrations_applied = refs(outcome.applied_now);
    report.migrations_already_applied = outcome.already_applied;
    report.schema_version = outcome.schema_version;
    if (outcome.applied_now.empty()) {
      log::info(k_component, "schema is up to date", {{"schema_version", std::to_string(report.schema_version)}});
    }
    if (options.load_reference_data) {
      report.reference_data = db::load_reference_data(*connection);
      log::info(k_component, "loaded reference data",
                {{"customers_inserted", std::to_string(report.reference_data->customers.inserted)},
                 {"customers_updated", std::to_string(report.reference_data->customers.updated)},
                 {"menu_items_inserted", std::to_string(report.reference_data->menu_items.inserted)},
                 {"menu_items_updated", std::to_string(report.reference_data->menu_items.updated)}});
    }
  }
  report.elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  return report;
}

} // namespace foodpipe::pipeline
