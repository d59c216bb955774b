#pragma once

// Migrator: brings a database's schema up to a list of Migrations and records
// each one in schema_migrations(version, name, checksum, applied_at).
//
// migrate() holds a session advisory lock (k_lock_key) while it works, so any
// number of concurrent runs apply each migration exactly once. Each pending
// migration runs in its own transaction together with its schema_migrations
// row: it is applied completely or not at all.
//
// It refuses (throws foodpipe::Error, exit 1, changing nothing) when the files
// and the database disagree: an applied migration whose file has changed
// (naming the file and both checksums), an applied version with no file, or a
// pending file numbered below the newest applied version.
//
// Not thread-safe (it uses its Connection, which must outlive it).

#include <cstdint>
#include <string>
#include <vector>

#include "db/connection.hpp"
#include "db/migrations.hpp"

namespace foodpipe::db {

// A row of schema_migrations.
struct AppliedMigration {
  int version = 0;
  std::string name;
  std::string checksum;
};

struct MigrationPlan {
  std::vector<AppliedMigration> applied; // in version order, verified against the files
  std::vector<Migration> pending;        // what migrate() would apply, in order
  int schema_version = 0;                // highest applied version, 0 for none
};

struct MigrationOutcome {
  std::vector<Migration> applied_now; // in the order applied
  int already_applied = 0;
  int schema_version = 0;             // afterwards
};

// The migrations of `files` that are not in `applied`, after checking that the
// two agree (see above). `source` names where the files came from, for messages.
// Pure; throws foodpipe::Error.
[[nodiscard]] std::vector<Migration> pending_migrations(const std::vector<AppliedMigration>& applied,
                                                        const std::vector<Migration>& files,
                                                        const std::string& source);

// Throws foodpipe::Error naming the database and saying to run seed-db unless
// schema_migrations and the tables the consumer writes (orders,
// consumer_offsets, dead_letters) exist; what every command that reads or
// writes the foodpipe tables checks first. DbError when it cannot ask.
void require_foodpipe_schema(Connection& connection);

class Migrator {
public:
  // pg_advisory_lock key: the bytes of "foodpipe". Per database.
  static constexpr std::int64_t k_lock_key = 0x666f6f6470697065;

  // migrations: ordered, as load_migrations/embedded_migrations return them.
  // source: where they came from, for messages ("sql/ built into foodpipe", a path).
  Migrator(Connection& connection, std::vector<Migration> migrations, std::string source);

  // What migrate() would do, read-only: creates nothing, takes no lock.
  // Throws foodpipe::Error when the files and the database disagree, DbError.
  [[nodiscard]] MigrationPlan plan();

  // Applies the pending migrations under the lock (creating schema_migrations
  // first if needed). Throws foodpipe::Error / DbError; migrations applied
  // before a failure stay applied.
  MigrationOutcome migrate();

private:
  std::vector<AppliedMigration> read_applied();

  Connection& m_connection;
  std::vector<Migration> m_migrations;
  std::string m_source;
};

} // namespace foodpipe::db
