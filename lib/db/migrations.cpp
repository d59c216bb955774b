#include "db/migrations.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <iterator>
#include <system_error>

#include "core/error.hpp"
#include "db/embedded_sql.hpp"
#include "db/sha256.hpp"

namespace foodpipe::db {
namespace {

constexpr std::string_view k_naming_rule =
    "migration files are named NNN_name.sql: 3-9 digits (the version, above 0), an underscore, "
    "then lower-case letters, digits and underscores";

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error("cannot read migration file " + path.string());
  }
  // Read through a stringstream: GCC 12 at -O3 warns (falsely) about
  // istreambuf_iterator under -Wnull-dereference.
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string bytes = std::move(buffer).str();
  if (in.bad()) {
    throw Error("cannot read migration file " + path.string());
  }
  return bytes;
}

} // namespace

std::optional<MigrationFileName> parse_migration_file_name(std::string_view file_name) {
  constexpr std::string_view k_suffix = ".sql";
  if (file_name.size() <= k_suffix.size() ||
      file_name.substr(file_name.size() - k_suffix.size()) != k_suffix) {
    return std::nullopt;
  }
  const std::string_view stem = file_name.substr(0, file_name.size() - k_suffix.size());
  const auto underscore = stem.find('_');
  if (underscore == std::string_view::npos || underscore < 3 || underscore > 9) {
    return std::nullopt;
  }
  int version = 0;
  for (const char c : stem.substr(0, underscore)) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    version = version * 10 + (c - '0'); // at most 9 digits: no overflow
  }
  const std::string_view name = stem.substr(underscore + 1);
  if (version == 0 || name.empty() || !std::all_of(name.begin(), name.end(), is_name_char)) {
    return std::nullopt;
  }
  return MigrationFileName{version, std::string(name)};
}

Migration make_migration(std::string_view file_name, std::string sql, std::string location) {
  const auto parsed = parse_migration_file_name(file_name);
  if (!parsed) {
    throw Error("malformed migration file name " + location + "; " + std::string(k_naming_rule));
  }
  Migration migration;
  migration.version = parsed->version;
  migration.name = parsed->name;
  migration.checksum = sha256_hex(sql);
  migration.sql = std::move(sql);
  migration.file_name = std::string(file_name);
  migration.location = std::move(location);
  return migration;
}

void order_migrations(std::vector<Migration>& migrations, std::string_view source) {
  if (migrations.empty()) {
    throw Error("no migrations (*.sql files) found in " + std::string(source));
  }
  std::sort(migrations.begin(), migrations.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < migrations.size(); ++i) {
    if (migrations[i].version == migrations[i - 1].version) {
      throw Error("duplicate migration version " + std::to_string(migrations[i].version) + ": " +
                  migrations[i - 1].location + " and " + migrations[i].location +
                  "; give one of them the next free number");
    }
  }
}

std::vector<Migration> load_migrations(const std::filesystem::path& directory) {
  std::error_code error;
  std::filesystem::directory_iterator entries(directory, error);
  if (error) {
    throw Error("cannot read migrations directory " + directory.string() + " (" + error.message() +
                "); check --migrations-dir");
  }
  std::vector<Migration> migrations;
  std::vector<std::string> malformed;
  for (const auto& entry : entries) {
    const std::string file_name = entry.path().filename().string();
    if (entry.path().extension() != ".sql" || !entry.is_regular_file()) {
      continue;
    }
    if (!parse_migration_file_name(file_name)) {
      malformed.push_back(entry.path().string());
      continue;
    }
    migrations.push_back(make_migration(file_name, read_file(entry.path()), entry.path().string()));
  }
  if (!malformed.empty()) {
    std::sort(malformed.begin(), malformed.end());
    std::string list;
    for (const auto& path : malformed) {
      list += (list.empty() ? "" : ", ") + path;
    }
    throw Error("malformed migration file name" + std::string(malformed.size() > 1 ? "s " : " ") +
                list + "; " + std::string(k_naming_rule));
  }
  order_migrations(migrations, directory.string());
  return migrations;
}

std::vector<Migration> embedded_migrations() {
  std::vector<Migration> migrations;
  for (const auto& file : detail::embedded_sql_files()) {
    migrations.push_back(make_migration(file.file_name, std::string(file.bytes),
                                        "sql/" + std::string(file.file_name) + " (built into foodpipe)"));
  }
  order_migrations(migrations, "this foodpipe binary (it was built without sql/*.sql)");
  return migrations;
}

} // namespace foodpipe::db
