#pragma once

// The sql/*.sql files compiled into the binary (see embed_migrations.cmake).
// Internal to the db layer: use db::embedded_migrations() instead.

#include <span>
#include <string_view>

namespace foodpipe::db::detail {

struct EmbeddedSqlFile {
  std::string_view file_name; // "001_reference_tables.sql"
  std::string_view bytes;     // the file's exact contents
};

// In file-name order. Static storage; never empty once sql/ has files.
[[nodiscard]] std::span<const EmbeddedSqlFile> embedded_sql_files();

} // namespace foodpipe::db::detail
