// seed-db against the real PostgreSQL of compose/up: each test works on a
// database name of its own and drops it at the end. A server that cannot be
// reached fails these tests; nothing is skipped.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "core/error.hpp"
#include "db/error.hpp"
#include "db/migrations.hpp"
#include "db/sha256.hpp"
#include "domain/reference_data.hpp"
#include "pipeline/seed_db.hpp"
#include "support/test_env.hpp"

namespace foodpipe::pipeline {
namespace {

namespace fs = std::filesystem;

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

fs::path sql_dir() { return fs::path(test::source_dir()) / "sql"; }

int migration_count() { return static_cast<int>(db::embedded_migrations().size()); }

// A database name nobody uses yet; the database (if a test created it) is
// dropped in TearDown. Also a temp directory for migration copies.
class SeedDbTest : public ::testing::Test {
protected:
  void TearDown() override {
    test::query_value(test::admin_conninfo(), "DROP DATABASE IF EXISTS " + m_name + " WITH (FORCE)");
    std::error_code ignored;
    fs::remove_all(m_temp, ignored);
  }

  [[nodiscard]] std::string conninfo() const { return test::conninfo_for(m_name); }
  [[nodiscard]] std::string uri() const { return "postgresql://postgres@127.0.0.1:5432/" + m_name; }
  [[nodiscard]] SeedDbOptions options() const {
    SeedDbOptions options;
    options.conninfo = conninfo();
    return options;
  }
  [[nodiscard]] bool database_exists() const {
    return test::query_value(test::admin_conninfo(),
                             "SELECT count(*) FROM pg_database WHERE datname = '" + m_name + "'") == "1";
  }
  std::string query(const std::string& sql) const { return test::query_value(conninfo(), sql); }

  // A copy of sql/ the test may edit.
  fs::path copy_of_sql(const std::string& name = "sql") {
    const fs::path target = m_temp / name;
    fs::create_directories(target);
    for (const auto& entry : fs::directory_iterator(sql_dir())) {
      fs::copy_file(entry.path(), target / entry.path().filename());
    }
    return target;
  }

  std::string m_name = test::unique_name("fp_seed");
  fs::path m_temp = fs::temp_directory_path() / test::unique_name("fp_seed_sql");
};

TEST_F(SeedDbTest, FreshSeedCreatesTheDatabaseAppliesAllAndLoadsReferenceData) {
  ASSERT_FALSE(database_exists());
  const auto report = seed_db(options());

  EXPECT_TRUE(database_exists());
  EXPECT_EQ(report.database, m_name);
  EXPECT_FALSE(report.database_existed);
  EXPECT_TRUE(report.database_created);
  ASSERT_EQ(static_cast<int>(report.migrations_applied.size()), migration_count());
  EXPECT_EQ(report.migrations_applied[0].version, 1);
  EXPECT_EQ(report.migrations_applied[0].name, "reference_tables");
  EXPECT_EQ(report.migrations_already_applied, 0);
  EXPECT_TRUE(report.migrations_pending.empty());
  EXPECT_EQ(report.schema_version, report.migrations_applied.back().version);
  ASSERT_TRUE(report.reference_data);
  EXPECT_EQ(report.reference_data->customers.inserted, 100);
  EXPECT_EQ(report.reference_data->customers.updated, 0);
  EXPECT_EQ(report.reference_data->menu_items.inserted, 20);
  EXPECT_FALSE(report.dry_run);

  EXPECT_EQ(query("SELECT count(*) FROM schema_migrations"), std::to_string(migration_count()));
  EXPECT_EQ(query("SELECT count(*) FROM customers"), "100");
  EXPECT_EQ(query("SELECT count(*) FROM menu_items"), "20");
  EXPECT_EQ(query("SELECT name || '|' || category || '|' || price || '|' || available FROM menu_items "
                  "WHERE item_id = 'ITEM-001'"),
            "Classic Burger|burger|8.99|true");
  EXPECT_EQ(query("SELECT price FROM menu_items WHERE item_id = 'ITEM-020'"), "7.99");
  EXPECT_EQ(query("SELECT count(*) FROM customers WHERE customer_id = 'CUST-00100'"), "1");
  // Accents survive the trip: same bytes, and counted as characters by the server.
  const auto& chloe = domain::customers()[2];
  ASSERT_EQ(chloe.name, "Chloé García");
  EXPECT_EQ(query("SELECT name FROM customers WHERE customer_id = '" + chloe.id + "'"), "Chloé García");
  EXPECT_EQ(query("SELECT length(name) FROM customers WHERE customer_id = '" + chloe.id + "'"), "12");
  EXPECT_EQ(query("SELECT email FROM customers WHERE customer_id = '" + chloe.id + "'"), chloe.email);
  EXPECT_EQ(query("SELECT count(*) FROM customers WHERE name LIKE '%O''Brien%'"), "5");
}

TEST_F(SeedDbTest, SecondRunIsANoOp) {
  (void)seed_db(options());
  const auto again = seed_db(options());
  EXPECT_TRUE(again.database_existed);
  EXPECT_FALSE(again.database_created);
  EXPECT_TRUE(again.migrations_applied.empty());
  EXPECT_EQ(again.migrations_already_applied, migration_count());
  ASSERT_TRUE(again.reference_data);
  EXPECT_EQ(again.reference_data->customers.inserted, 0);
  EXPECT_EQ(again.reference_data->customers.updated, 0);
  EXPECT_EQ(again.reference_data->customers.unchanged, 100);
  EXPECT_EQ(again.reference_data->menu_items.inserted, 0);
  EXPECT_EQ(again.reference_data->menu_items.updated, 0);
  EXPECT_EQ(again.reference_data->menu_items.unchanged, 20);
}

TEST_F(SeedDbTest, ChangedReferenceRowsAreRestoredAndCounted) {
  (void)seed_db(options());
  query("UPDATE customers SET name = 'Someone Else' WHERE customer_id = 'CUST-00007'");
  query("UPDATE menu_items SET price = 1.00, available = false WHERE item_id = 'ITEM-003'");
  query("DELETE FROM menu_items WHERE item_id = 'ITEM-004'");
  const auto report = seed_db(options());
  ASSERT_TRUE(report.reference_data);
  EXPECT_EQ(report.reference_data->customers.updated, 1);
  EXPECT_EQ(report.reference_data->customers.unchanged, 99);
  EXPECT_EQ(report.reference_data->menu_items.updated, 1);
  EXPECT_EQ(report.reference_data->menu_items.inserted, 1);
  EXPECT_EQ(report.reference_data->menu_items.unchanged, 18);
  EXPECT_EQ(query("SELECT name FROM customers WHERE customer_id = 'CUST-00007'"), domain::customers()[6].name);
  // The price is reference data; availability is the operator's and stays.
  EXPECT_EQ(query("SELECT price || '|' || available FROM menu_items WHERE item_id = 'ITEM-003'"), "10.99|false");
}

TEST_F(SeedDbTest, NoReferenceDataOnlyMigrates) {
  auto opts = options();
  opts.load_reference_data = false;
  const auto report = seed_db(opts);
  EXPECT_FALSE(report.reference_data);
  EXPECT_EQ(static_cast<int>(report.migrations_applied.size()), migration_count());
  EXPECT_EQ(query("SELECT count(*) FROM customers"), "0");
}

void expect_each_migration_once(const std::string& conninfo) {
  EXPECT_EQ(test::query_value(conninfo, "SELECT count(*) || '/' || count(DISTINCT version) FROM schema_migrations"),
            std::to_string(migration_count()) + "/" + std::to_string(migration_count()));
}

TEST_F(SeedDbTest, ConcurrentRunsInThreadsApplyEachMigrationOnce) {
  constexpr int k_runs = 4;
  std::vector<std::future<SeedDbReport>> runs;
  for (int i = 0; i < k_runs; ++i) {
    runs.push_back(std::async(std::launch::async, [this] { return seed_db(options()); }));
  }
  int created = 0;
  int applied = 0;
  int customers_inserted = 0;
  for (auto& run : runs) {
    const SeedDbReport report = run.get(); // rethrows a failed run
    created += report.database_created ? 1 : 0;
    applied += static_cast<int>(report.migrations_applied.size());
    customers_inserted += report.reference_data->customers.inserted;
    EXPECT_EQ(report.schema_version, migration_count());
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(applied, migration_count());
  EXPECT_EQ(customers_inserted, 100);
  expect_each_migration_once(conninfo());
  EXPECT_EQ(query("SELECT count(*) FROM customers"), "100");
}

TEST_F(SeedDbTest, ConcurrentProcessesApplyEachMigrationOnce) {
  constexpr int k_runs = 3;
  std::vector<std::future<test::CommandResult>> runs;
  for (int i = 0; i < k_runs; ++i) {
    runs.push_back(std::async(std::launch::async, [this] {
      return test::run_foodpipe({"--db", uri(), "seed-db", "--json"});
    }));
  }
  int applied = 0;
  for (auto& run : runs) {
    const auto result = run.get();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    rapidjson::Document json;
    json.Parse(result.out.c_str());
    ASSERT_FALSE(json.HasParseError()) << result.out;
    ASSERT_TRUE(json.IsObject()) << result.out;
    EXPECT_EQ(json["database"].GetString(), m_name);
    EXPECT_EQ(json["schema_version"].GetInt(), migration_count());
    applied += static_cast<int>(json["migrations_applied"].Size());
  }
  EXPECT_EQ(applied, migration_count());
  expect_each_migration_once(conninfo());
}

TEST_F(SeedDbTest, JsonOutputIsOneObjectWithTheDocumentedKeys) {
  const auto result = test::run_foodpipe({"seed-db", "--db", uri(), "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  ASSERT_EQ(result.out.find('\n'), result.out.size() - 1) << result.out;
  rapidjson::Document json;
  json.Parse(result.out.c_str());
  ASSERT_TRUE(json.IsObject()) << result.out;
  for (const char* key : {"database", "database_created", "migrations_applied", "migrations_pending",
                          "schema_version", "customers", "menu_items", "dry_run", "elapsed_ms"}) {
    EXPECT_TRUE(json.HasMember(key)) << key;
  }
  EXPECT_TRUE(json["database_created"].GetBool());
  EXPECT_FALSE(json["dry_run"].GetBool());
  EXPECT_EQ(json["migrations_applied"][0]["version"].GetInt(), 1);
  EXPECT_STREQ(json["migrations_applied"][0]["name"].GetString(), "reference_tables");
  EXPECT_EQ(json["customers"]["inserted"].GetInt(), 100);
  EXPECT_EQ(json["menu_items"]["inserted"].GetInt(), 20);
}

TEST_F(SeedDbTest, HumanSummaryAndDryRunThroughTheBinary) {
  const auto dry = test::run_foodpipe({"seed-db", "--db", uri(), "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("does not exist yet; would create it"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("would apply"), std::string::npos) << dry.out;
  EXPECT_FALSE(database_exists());

  const auto real = test::run_foodpipe({"seed-db", "--db", uri()});
  ASSERT_EQ(real.exit_code, 0) << real.err;
  EXPECT_NE(real.out.find("created"), std::string::npos) << real.out;
  EXPECT_NE(real.out.find("001_reference_tables"), std::string::npos) << real.out;
  EXPECT_NE(real.out.find("customers: 100 inserted"), std::string::npos) << real.out;
}

TEST_F(SeedDbTest, AChangedMigrationFileIsRefusedNamingTheFile) {
  const fs::path dir = copy_of_sql();
  auto opts = options();
  opts.migrations_dir = dir;
  (void)seed_db(opts);

  const fs::path changed = dir / "002_orders.sql";
  const std::string before = db::sha256_hex(read_bytes(changed));
  std::ofstream(changed, std::ios::app) << "-- an innocent-looking edit\n";
  const std::string after = db::sha256_hex(read_bytes(changed));
  try {
    (void)seed_db(opts);
    FAIL() << "expected a refusal";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_EQ(error.exit_code(), ExitCode::failure);
    EXPECT_NE(message.find(changed.string()), std::string::npos) << message;
    EXPECT_NE(message.find(before), std::string::npos) << message;
    EXPECT_NE(message.find(after), std::string::npos) << message;
  }
  // The binary says the same and exits 1.
  const auto result = test::run_foodpipe({"seed-db", "--db", uri(), "--migrations-dir", dir.string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("002_orders.sql has changed"), std::string::npos) << result.err;
  // A dry run refuses too.
  opts.dry_run = true;
  EXPECT_THROW((void)seed_db(opts), Error);
}

TEST_F(SeedDbTest, AnAppliedMigrationMissingFromTheFilesIsRefused) {
  (void)seed_db(options());
  const fs::path dir = copy_of_sql();
  fs::remove(dir / "004_dead_letters.sql");
  auto opts = options();
  opts.migrations_dir = dir;
  try {
    (void)seed_db(opts);
    FAIL() << "expected a refusal";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("migration 4 (dead_letters)"), std::string::npos) << message;
    EXPECT_NE(message.find(dir.string()), std::string::npos) << message;
  }
}

TEST_F(SeedDbTest, AFailingMigrationIsRolledBackAndNamed) {
  const fs::path dir = m_temp / "broken";
  fs::create_directories(dir);
  fs::copy_file(sql_dir() / "001_reference_tables.sql", dir / "001_reference_tables.sql");
  std::ofstream(dir / "002_broken.sql") << "CREATE TABLE half_done (id int);\nSELEC 1;\n";
  auto opts = options();
  opts.migrations_dir = dir;
  try {
    (void)seed_db(opts);
    FAIL() << "expected the migration to fail";
  } catch (const db::DbError& error) {
    const std::string message = error.what();
    EXPECT_EQ(error.sqlstate(), "42601");
    EXPECT_NE(message.find("002_broken.sql"), std::string::npos) << message;
    EXPECT_NE(message.find("rolled back"), std::string::npos) << message;
  }
  EXPECT_EQ(query("SELECT string_agg(version::text, ',') FROM schema_migrations"), "1");
  EXPECT_EQ(query("SELECT to_regclass('half_done') IS NULL"), "t");
}

TEST_F(SeedDbTest, DryRunOnAFreshNameCreatesNothingAndListsEverything) {
  auto opts = options();
  opts.dry_run = true;
  const auto report = seed_db(opts);
  EXPECT_TRUE(report.dry_run);
  EXPECT_FALSE(report.database_existed);
  EXPECT_FALSE(report.database_created);
  EXPECT_TRUE(report.migrations_applied.empty());
  ASSERT_EQ(static_cast<int>(report.migrations_pending.size()), migration_count());
  EXPECT_EQ(report.migrations_pending.front().name, "reference_tables");
  EXPECT_EQ(report.schema_version, 0);
  ASSERT_TRUE(report.reference_data);
  EXPECT_EQ(report.reference_data->customers.inserted, 100);
  EXPECT_FALSE(database_exists());
}

TEST_F(SeedDbTest, DryRunOnAnExistingEmptyDatabaseCreatesNoSchemaMigrations) {
  const test::ScratchDatabase database("fp_seed_dry");
  SeedDbOptions opts;
  opts.conninfo = database.conninfo();
  opts.dry_run = true;
  const auto report = seed_db(opts);
  EXPECT_TRUE(report.database_existed);
  EXPECT_EQ(static_cast<int>(report.migrations_pending.size()), migration_count());
  EXPECT_EQ(test::query_value(database.conninfo(), "SELECT to_regclass('schema_migrations') IS NULL"), "t");
  EXPECT_EQ(test::query_value(database.conninfo(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), "0");
}

TEST_F(SeedDbTest, DryRunAfterAPartialMigrationListsTheRest) {
  const fs::path dir = m_temp / "partial";
  fs::create_directories(dir);
  for (const char* file : {"001_reference_tables.sql", "002_orders.sql"}) {
    fs::copy_file(sql_dir() / file, dir / file);
  }
  auto partial = options();
  partial.migrations_dir = dir;
  (void)seed_db(partial);

  auto opts = options();
  opts.dry_run = true;
  const auto report = seed_db(opts);
  EXPECT_EQ(report.migrations_already_applied, 2);
  EXPECT_EQ(report.schema_version, 2);
  ASSERT_EQ(static_cast<int>(report.migrations_pending.size()), migration_count() - 2);
  EXPECT_EQ(report.migrations_pending.front().version, 3);
  ASSERT_TRUE(report.reference_data);
  EXPECT_EQ(report.reference_data->customers.unchanged, 100);
  EXPECT_EQ(query("SELECT count(*) FROM schema_migrations"), "2");
}

TEST_F(SeedDbTest, StoredChecksumIsTheSha256OfTheFile) {
  (void)seed_db(options());
  for (const auto& migration : db::load_migrations(sql_dir())) {
    const fs::path file = sql_dir() / migration.file_name;
    const std::string stored =
        query("SELECT checksum FROM schema_migrations WHERE version = " + std::to_string(migration.version));
    EXPECT_EQ(stored, db::sha256_hex(read_bytes(file))) << file;
    // What a user would type.
    const std::string command = "sha256sum '" + file.string() + "'";
    FILE* pipe = popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    char line[256] = {};
    ASSERT_NE(std::fgets(line, sizeof line, pipe), nullptr);
    pclose(pipe);
    EXPECT_EQ(std::string(line).substr(0, 64), stored) << file;
  }
}

TEST_F(SeedDbTest, SchemaHasTheRequiredColumnsConstraintsAndIndexes) {
  (void)seed_db(options());
  const auto columns = [this](const std::string& table) {
    return query("SELECT string_agg(column_name || ':' || data_type || ':' || is_nullable, ',' ORDER BY "
                 "ordinal_position) FROM information_schema.columns WHERE table_schema = 'public' AND "
                 "table_name = '" + table + "'");
  };
  EXPECT_EQ(columns("orders"),
            "order_id:character varying:NO,customer_id:character varying:NO,customer_name:text:YES,"
            "customer_email:text:YES,items:jsonb:NO,total_amount:numeric:NO,status:character varying:NO,"
            "created_at:timestamp with time zone:NO,processed_at:timestamp with time zone:NO,"
            "source_topic:text:YES,source_partition:integer:YES,source_offset:bigint:YES");
  EXPECT_EQ(columns("consumer_offsets"),
            "group_id:text:NO,topic:text:NO,partition:integer:NO,next_offset:bigint:NO,"
            "updated_at:timestamp with time zone:NO");
  EXPECT_EQ(columns("dead_letters"),
            "id:bigint:NO,source_topic:text:NO,source_partition:integer:NO,source_offset:bigint:NO,"
            "message_key:bytea:YES,payload:bytea:YES,reason_code:text:NO,reason_detail:text:YES,"
            "consumer_group:text:YES,failed_at:timestamp with time zone:NO");
  EXPECT_EQ(columns("customers"),
            "customer_id:character varying:NO,name:text:NO,email:text:NO,created_at:timestamp with time zone:NO");
  EXPECT_EQ(columns("menu_items"),
            "item_id:character varying:NO,name:text:NO,category:text:NO,price:numeric:NO,available:boolean:NO");
  EXPECT_EQ(query("SELECT character_maximum_length FROM information_schema.columns WHERE table_name = 'orders' "
                  "AND column_name = 'status'"),
            "20");
  EXPECT_EQ(query("SELECT numeric_precision || ',' || numeric_scale FROM information_schema.columns WHERE "
                  "table_name = 'orders' AND column_name = 'total_amount'"),
            "10,2");

  const auto indexes = query("SELECT string_agg(indexdef, E'\\n') FROM pg_indexes WHERE tablename = 'orders'");
  // 007 dropped 002's GIN index on items (sql/007_drop_orders_items_gin.sql says why).
  EXPECT_EQ(indexes.find("gin"), std::string::npos) << indexes;
  EXPECT_NE(indexes.find("USING btree (customer_id)"), std::string::npos) << indexes;
  EXPECT_NE(indexes.find("USING btree (created_at)"), std::string::npos) << indexes;
  EXPECT_NE(indexes.find("USING btree (customer_id, created_at)"), std::string::npos) << indexes;
  EXPECT_NE(query("SELECT string_agg(indexdef, ' ') FROM pg_indexes WHERE tablename = 'dead_letters'")
                .find("(reason_code)"),
            std::string::npos);
  EXPECT_EQ(query("SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM pg_constraint c, "
                  "unnest(c.conkey) WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attnum = k.attnum "
                  "WHERE c.conrelid = 'consumer_offsets'::regclass AND c.contype = 'p' AND "
                  "a.attrelid = c.conrelid"),
            "group_id,topic,partition");

  // The constraints bite.
  const auto fails_with = [this](const std::string& sql) {
    try {
      query(sql);
    } catch (const std::runtime_error& error) {
      return std::string(error.what());
    }
    return std::string("<accepted>");
  };
  const std::string order = "INSERT INTO orders (order_id, customer_id, items, total_amount, status, created_at) "
                            "VALUES ('O-1', 'CUST-00001', '[]', ";
  EXPECT_NE(fails_with(order + "10.00, 'lost', now())").find("orders_status_check"), std::string::npos);
  EXPECT_NE(fails_with(order + "0, 'pending', now())").find("orders_total_amount_check"), std::string::npos);
  for (const char* status : {"pending", "confirmed", "preparing", "out_for_delivery", "delivered", "cancelled"}) {
    EXPECT_NO_THROW(query("INSERT INTO orders (order_id, customer_id, items, total_amount, status, created_at) "
                          "VALUES ('O-" + std::string(status) + "', 'C', '[]', 1.00, '" + status + "', now())"));
  }
  EXPECT_NE(fails_with("INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) VALUES "
                       "('g', 't', 0, -1)")
                .find("check"),
            std::string::npos);
  EXPECT_NE(fails_with("INSERT INTO menu_items (item_id, name, category, price) VALUES ('X', 'x', 'x', 0)")
                .find("check"),
            std::string::npos);
  const std::string dead_letter = "INSERT INTO dead_letters (source_topic, source_partition, source_offset, "
                                  "reason_code) VALUES ('food-orders', 0, 7, 'schema')";
  query(dead_letter);
  EXPECT_NE(fails_with(dead_letter).find("duplicate key"), std::string::npos);
  EXPECT_NE(fails_with("INSERT INTO customers (customer_id, name, email) VALUES ('X', 'x', '" +
                       domain::customers()[0].email + "')")
                .find("duplicate key"),
            std::string::npos);
}

TEST_F(SeedDbTest, AnUnreachableServerFailsWithWhatToDo) {
  SeedDbOptions opts;
  opts.conninfo = "host=127.0.0.1 port=1 user=postgres password=hunter2secret dbname=" + m_name;
  opts.connect_timeout = std::chrono::seconds(2);
  try {
    (void)seed_db(opts);
    FAIL() << "expected DbError";
  } catch (const db::DbError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("cannot connect to PostgreSQL at 127.0.0.1:1"), std::string::npos) << message;
    EXPECT_EQ(message.find("hunter2secret"), std::string::npos) << message;
  }
  const auto result = test::run_foodpipe({"seed-db", "--db", "postgresql://postgres:hunter2secret@127.0.0.1:1/x"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("foodpipe: error: cannot connect to PostgreSQL"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("hunter2secret"), std::string::npos) << result.err;
}

} // namespace
} // namespace foodpipe::pipeline
