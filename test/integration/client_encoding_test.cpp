// PostgreSQL sessions always speak UTF-8, whatever PGCLIENTENCODING or a
// conninfo's client_encoding say: text foodpipe validated as UTF-8 is stored
// byte for byte, and inspect, verify and replay read it back the same way.
// With LATIN1, the server would take each byte of "東京" for a Latin-1
// character and store something else.

#include <chrono>
#include <cstdlib>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "db/connection.hpp"
#include "domain/generator.hpp"
#include "domain/order_json.hpp"
#include "kafka/admin.hpp"
#include "kafka/producer.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;

// Not Latin-1: CJK, an emoji, and Latin-1 letters that a double encoding would mangle.
const std::string k_name = "東京 🍣 Zoë";

std::string hex(const std::string& bytes) {
  static const char* const k_digits = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out += k_digits[byte >> 4U];
    out += k_digits[byte & 0xfU];
  }
  return out;
}

// Sets a variable for the scope of a test (this process and the libpq it uses).
class ScopedVariable {
public:
  ScopedVariable(const char* name, const char* value) : m_name(name) { setenv(name, value, 1); }
  ~ScopedVariable() { unsetenv(m_name); }
  ScopedVariable(const ScopedVariable&) = delete;
  ScopedVariable& operator=(const ScopedVariable&) = delete;

private:
  const char* m_name;
};

TEST(ClientEncoding, IsUtf8WhateverTheEnvironmentOrTheConninfoSay) {
  test::ScratchDatabase db("fpencoding");
  const ScopedVariable latin1("PGCLIENTENCODING", "LATIN1");
  auto from_environment = db::Connection::connect(db.conninfo());
  EXPECT_EQ(from_environment.exec("SHOW client_encoding").value(0, 0), "UTF8");
  auto from_conninfo = db::Connection::connect(db.conninfo() + " client_encoding=LATIN1");
  EXPECT_EQ(from_conninfo.exec("SHOW client_encoding").value(0, 0), "UTF8");
  auto from_uri = db::Connection::connect(db.uri() + "?client_encoding=LATIN1");
  EXPECT_EQ(from_uri.exec("SHOW client_encoding").value(0, 0), "UTF8");
  // Text goes both ways unchanged.
  EXPECT_EQ(from_environment.exec_params("SELECT $1::text", {k_name}).value(0, 0), k_name);
}

TEST(ClientEncoding, AnOrderIsStoredAndAuditedByteForByteUnderLatin1) {
  test::ScratchDatabase db("fpencoding");
  const std::map<std::string, std::string> latin1 = {{"PGCLIENTENCODING", "LATIN1"}};
  const auto topic = test::unique_name("encoding");
  const auto group = test::unique_name("encoding_group");
  const auto seeded = test::run_foodpipe({"seed-db", "--db", db.uri()}, latin1);
  ASSERT_EQ(seeded.exit_code, 0) << seeded.err;

  const kafka::ClientSettings settings{test::bootstrap_servers(), {}};
  kafka::Admin(settings).create_topic(topic, 1, 1, {}, 10s);
  domain::OrderGenerator generator(5, "enc");
  auto order = generator.next();
  order.customer_name = k_name;
  std::uint64_t failed = 0;
  {
    kafka::Producer producer(settings, {{"enable.idempotence", "true"}},
                             [&failed](kafka::MessageView m) { failed += !m.ok() ? 1U : 0U; });
    producer.produce(topic, order.customer_id, domain::encode(order), nullptr, nullptr);
    ASSERT_EQ(producer.flush(30s), 0);
  }
  ASSERT_EQ(failed, 0U);

  const auto consumed = test::run_foodpipe(
      {"consume", "--db", db.uri(), "--topic", topic, "--group", group, "--until-end", "--json", "--quiet"}, latin1);
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  EXPECT_EQ(test::parse_json(consumed.out)["applied"].GetUint64(), 1U) << consumed.out;
  // The stored bytes, compared as bytes whatever this test's own session uses.
  EXPECT_EQ(test::query_value(db.conninfo(), "SELECT encode(convert_to(customer_name, 'UTF8'), 'hex') FROM orders "
                                             "WHERE order_id = '" + order.order_id + "'"),
            hex(k_name));

  const auto verified =
      test::run_foodpipe({"inspect", "--verify", "--db", db.uri(), "--topic", topic, "--group", group}, latin1);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;

  const auto shown = test::run_foodpipe(
      {"inspect", "order", order.order_id, "--db", db.uri(), "--topic", topic, "--group", group, "--json"}, latin1);
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find(k_name), std::string::npos) << shown.out;

  const auto replayed = test::run_foodpipe(
      {"replay", "--db", db.uri(), "--topic", topic, "--from-beginning", "--json", "--quiet"}, latin1);
  ASSERT_EQ(replayed.exit_code, 0) << replayed.err;
  const auto replay = test::parse_json(replayed.out);
  EXPECT_EQ(replay["already_present"].GetUint64(), 1U) << replayed.out;
  EXPECT_EQ(replay["restored"].GetUint64(), 0U) << replayed.out;
}

} // namespace
} // namespace foodpipe
