#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "db/migrations.hpp"
#include "db/migrator.hpp"
#include "db/sha256.hpp"
#include "support/test_env.hpp"

namespace foodpipe::db {
namespace {

namespace fs = std::filesystem;

// A directory under the system temp dir, removed with its contents.
class TempDir {
public:
  TempDir() : m_path(fs::temp_directory_path() / test::unique_name("fp_migrations")) {
    fs::create_directories(m_path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(m_path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  void write(const std::string& name, const std::string& content) const {
    std::ofstream(m_path / name, std::ios::binary) << content;
  }
  [[nodiscard]] const fs::path& path() const { return m_path; }

private:
  fs::path m_path;
};

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "<no error>";
}

TEST(DbMigrations, ParsesFileNames) {
  const auto parsed = parse_migration_file_name("002_orders.sql");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->version, 2);
  EXPECT_EQ(parsed->name, "orders");
  EXPECT_EQ(parse_migration_file_name("0010_dead_letters_v2.sql")->version, 10);
  EXPECT_EQ(parse_migration_file_name("123456789_x.sql")->version, 123456789);
}

TEST(DbMigrations, RejectsMalformedFileNames) {
  for (const char* name : {"01_x.sql", "1_x.sql", "1234567890_x.sql", "000_x.sql", "001-x.sql", "001_.sql",
                           "001_Orders.sql", "001_x y.sql", "001_x.SQL", "001_x.sql.bak", "abc_x.sql",
                           "001x_y.sql", ".sql", "001_x"}) {
    EXPECT_FALSE(parse_migration_file_name(name)) << name;
  }
}

TEST(DbMigrations, LoadsADirectoryInVersionOrderIgnoringOtherFiles) {
  const TempDir dir;
  dir.write("010_third.sql", "SELECT 3;\n");
  dir.write("002_second.sql", "SELECT 2;\n");
  dir.write("001_first.sql", "SELECT 1;\n");
  dir.write("README.md", "not a migration");
  const auto migrations = load_migrations(dir.path());
  ASSERT_EQ(migrations.size(), 3U);
  EXPECT_EQ(migrations[0].version, 1);
  EXPECT_EQ(migrations[1].version, 2);
  EXPECT_EQ(migrations[2].version, 10);
  EXPECT_EQ(migrations[2].name, "third");
  EXPECT_EQ(migrations[2].file_name, "010_third.sql");
  EXPECT_EQ(migrations[2].sql, "SELECT 3;\n");
  EXPECT_EQ(migrations[2].checksum, sha256_hex("SELECT 3;\n"));
  EXPECT_EQ(migrations[2].location, (dir.path() / "010_third.sql").string());
}

TEST(DbMigrations, DuplicateVersionNamesBothFiles) {
  const TempDir dir;
  dir.write("001_first.sql", "SELECT 1;");
  dir.write("0001_again.sql", "SELECT 1;");
  const auto message = error_of([&] { (void)load_migrations(dir.path()); });
  EXPECT_NE(message.find("duplicate migration version 1"), std::string::npos) << message;
  EXPECT_NE(message.find("001_first.sql"), std::string::npos) << message;
  EXPECT_NE(message.find("0001_again.sql"), std::string::npos) << message;
}

TEST(DbMigrations, MalformedNameIsAnErrorNamingTheFile) {
  const TempDir dir;
  dir.write("001_first.sql", "SELECT 1;");
  dir.write("2_second.sql", "SELECT 2;");
  const auto message = error_of([&] { (void)load_migrations(dir.path()); });
  EXPECT_NE(message.find("2_second.sql"), std::string::npos) << message;
  EXPECT_NE(message.find("NNN_name.sql"), std::string::npos) << message;
}

TEST(DbMigrations, EmptyOrMissingDirectoryIsAnError) {
  const TempDir dir;
  EXPECT_NE(error_of([&] { (void)load_migrations(dir.path()); }).find("no migrations"), std::string::npos);
  const auto missing = dir.path() / "nope";
  const auto message = error_of([&] { (void)load_migrations(missing); });
  EXPECT_NE(message.find(missing.string()), std::string::npos) << message;
}

// The built-in copies are byte-for-byte the files in sql/.
TEST(DbMigrations, EmbeddedCopiesEqualTheSqlDirectory) {
  const auto embedded = embedded_migrations();
  const auto files = load_migrations(fs::path(test::source_dir()) / "sql");
  ASSERT_EQ(embedded.size(), files.size());
  ASSERT_GE(embedded.size(), 4U);
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(embedded[i].version, files[i].version);
    EXPECT_EQ(embedded[i].name, files[i].name);
    EXPECT_EQ(embedded[i].sql, files[i].sql);
    EXPECT_EQ(embedded[i].checksum, sha256_hex(read_bytes(fs::path(test::source_dir()) / "sql" / files[i].file_name)));
    EXPECT_NE(embedded[i].location.find("built into foodpipe"), std::string::npos);
  }
  EXPECT_EQ(embedded[0].file_name, "001_reference_tables.sql");
}

Migration fake(int version, const std::string& name, const std::string& sql) {
  char file_name[64];
  std::snprintf(file_name, sizeof file_name, "%03d_%s.sql", version, name.c_str());
  return make_migration(file_name, sql, std::string("dir/") + file_name);
}

TEST(DbMigrations, PendingAreTheUnappliedOnesInOrder) {
  const std::vector<Migration> files{fake(1, "a", "A"), fake(2, "b", "B"), fake(3, "c", "C")};
  const std::vector<AppliedMigration> applied{{1, "a", sha256_hex("A")}};
  const auto pending = pending_migrations(applied, files, "dir");
  ASSERT_EQ(pending.size(), 2U);
  EXPECT_EQ(pending[0].version, 2);
  EXPECT_EQ(pending[1].version, 3);
  EXPECT_TRUE(pending_migrations({{1, "a", sha256_hex("A")}, {2, "b", sha256_hex("B")}, {3, "c", sha256_hex("C")}},
                                 files, "dir")
                  .empty());
}

TEST(DbMigrations, RefusesAChangedFileNamingItAndBothChecksums) {
  const std::vector<Migration> files{fake(1, "a", "A"), fake(2, "b", "B changed")};
  const std::vector<AppliedMigration> applied{{1, "a", sha256_hex("A")}, {2, "b", sha256_hex("B")}};
  const auto message = error_of([&] { (void)pending_migrations(applied, files, "dir"); });
  EXPECT_NE(message.find("dir/002_b.sql has changed"), std::string::npos) << message;
  EXPECT_NE(message.find(sha256_hex("B")), std::string::npos) << message;
  EXPECT_NE(message.find(sha256_hex("B changed")), std::string::npos) << message;
}

TEST(DbMigrations, RefusesAnAppliedVersionWithoutAFile) {
  const std::vector<Migration> files{fake(1, "a", "A")};
  const std::vector<AppliedMigration> applied{{1, "a", sha256_hex("A")}, {2, "b", sha256_hex("B")}};
  const auto message = error_of([&] { (void)pending_migrations(applied, files, "dir"); });
  EXPECT_NE(message.find("migration 2 (b)"), std::string::npos) << message;
  EXPECT_NE(message.find("no file for version 2"), std::string::npos) << message;
}

TEST(DbMigrations, RefusesAPendingFileNumberedBelowTheNewestApplied) {
  const std::vector<Migration> files{fake(1, "a", "A"), fake(2, "late", "L"), fake(3, "c", "C")};
  const std::vector<AppliedMigration> applied{{1, "a", sha256_hex("A")}, {3, "c", sha256_hex("C")}};
  const auto message = error_of([&] { (void)pending_migrations(applied, files, "dir"); });
  EXPECT_NE(message.find("dir/002_late.sql"), std::string::npos) << message;
  EXPECT_NE(message.find("out of order"), std::string::npos) << message;
}

} // namespace
} // namespace foodpipe::db
