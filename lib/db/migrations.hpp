#pragma once

// Migration files: sql/NNN_name.sql, applied in version order by Migrator.
//
// A file name is 3 to 9 digits (the version, > 0), '_', a name of lower-case
// letters, digits and underscores, and ".sql". Versions must be unique.
// The checksum is the SHA-256 of the file's exact bytes, in hex, so that
// `sha256sum sql/001_*.sql` shows the same value as schema_migrations.
// Thread-safe (no shared state).

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace foodpipe::db {

struct Migration {
  int version = 0;
  std::string name;     // "reference_tables"
  std::string sql;      // the file's bytes
  std::string checksum; // sha256 hex of sql
  std::string file_name; // "001_reference_tables.sql"
  std::string location;  // a path, or "sql/001_....sql (built into foodpipe)"
};

struct MigrationFileName {
  int version = 0;
  std::string name;
};

// Parses "001_orders.sql"; nullopt when the name does not follow the rule.
[[nodiscard]] std::optional<MigrationFileName> parse_migration_file_name(std::string_view file_name);

// Builds a Migration from a file's name and bytes. Throws foodpipe::Error
// naming `location` when the name does not follow the rule.
[[nodiscard]] Migration make_migration(std::string_view file_name, std::string sql,
                                       std::string location);

// Every *.sql file in directory (other files are ignored), ordered by version.
// Throws foodpipe::Error (exit 1) when the directory cannot be read, holds no
// migration, or holds a malformed name or a duplicate version, naming the files.
[[nodiscard]] std::vector<Migration> load_migrations(const std::filesystem::path& directory);

// The copies of sql/*.sql compiled into this binary, ordered by version.
// Throws like load_migrations.
[[nodiscard]] std::vector<Migration> embedded_migrations();

// Sorts by version and rejects duplicates (used by both loaders).
void order_migrations(std::vector<Migration>& migrations, std::string_view source);

} // namespace foodpipe::db
