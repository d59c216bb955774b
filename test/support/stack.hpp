#pragma once

// What tests need of the stack's other shapes: the three-broker cluster of
// `compose/up --brokers 3` (its addresses, and one broker killed or brought back
// through compose/broker), the SASL_SSL listener and client files of
// `compose/up --secure`, and the PostgreSQL on 5433 that asks for passwords.
//
// The scripts and files are those of $FOODPIPE_TEST_COMPOSE_DIR, by default
// this checkout's compose/. As in test_env.hpp, a missing service or file FAILS
// the calling test (ADD_FAILURE naming what to run); nothing here skips. Not
// thread-safe: the cluster tests run one at a time (CTest's RESOURCE_LOCK on
// the cluster tier).

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace foodpipe::test {

inline constexpr int k_cluster_nodes = 3;

// The cluster's bootstrap servers: $FOODPIPE_TEST_CLUSTER_BOOTSTRAP or
// localhost:9092,localhost:9192,localhost:9292.
std::string cluster_bootstrap_servers();

// PID of cluster node `node` (1..3) as `compose/broker pid` reports it; -1 when
// it is not running (not a failure: a test may ask after killing it).
int broker_pid(int node);

// kill -9 of cluster node `node` (`compose/broker kill`): no controlled shutdown,
// as a crash. Returns once the process is gone, with its PID; a node that was
// not running fails the calling test and returns -1.
int kill_broker(int node);

// Starts every node of the cluster that is not running (`compose/broker start`)
// and returns once each answers on its own port with metadata listing all three;
// with `wait_for_isr`, also once no partition is under-replicated. Returns
// false, and fails the calling test with the script's output, when it could
// not. Blocks for the JVM's start-up: seconds.
bool start_broker(int node, bool wait_for_isr = false);

// Partitions whose in-sync replica set is short or that have no leader, one
// "topic/partition leader L replicas R isrs I" line each (`compose/broker
// under-replicated`); empty when every ISR is full. No node answering fails
// the calling test.
std::vector<std::string> under_replicated_partitions();

// Polls under_replicated_partitions() until it is empty; false at `timeout`.
bool wait_until_fully_replicated(std::chrono::milliseconds timeout);

// Starts every node that is not running (one start_broker call brings back
// all of them) and waits until every ISR is full; nothing when all run.
void restart_stopped_brokers();

// restart_stopped_brokers() when it goes out of scope: a test that kills a
// node leaves the cluster whole even when it fails halfway.
class RestartKilledBrokers {
public:
  RestartKilledBrokers() = default;
  ~RestartKilledBrokers() { restart_stopped_brokers(); }
  RestartKilledBrokers(const RestartKilledBrokers&) = delete;
  RestartKilledBrokers& operator=(const RestartKilledBrokers&) = delete;
};

// compose/.stack/client-librdkafka.properties, the SASL_SSL listener's settings
// in librdkafka's terms (what foodpipe's --config reads). A missing file fails
// the calling test (run compose/up --secure).
std::string secure_client_properties();

// compose/.stack/client-java.properties, the same for Kafka's Java tools
// (--command-config). A missing file fails the calling test.
std::string secure_java_properties();

// compose/.stack/other-ca.pem: a CA that signed no broker certificate, for the
// untrusted-certificate case. A missing file fails the calling test.
std::string untrusted_ca_file();

// The key=value lines of a .properties file in order (blank lines and lines
// starting with # or ! are skipped, spaces around the first = trimmed). An
// unreadable file fails the calling test and gives an empty list.
std::vector<std::pair<std::string, std::string>> read_properties(const std::string& path);

// The PostgreSQL that asks for passwords (compose/up --secure): TCP on
// secure_db_host():secure_db_port() wants a SCRAM-SHA-256 password.
std::string secure_db_host(); // 127.0.0.1
int secure_db_port();         // $FOODPIPE_TEST_SECURE_DB_PORT or 5433

// Its superuser over the Unix socket, which needs no password:
// $FOODPIPE_TEST_SECURE_DB_ADMIN or
// "host=/var/run/postgresql port=5433 user=postgres dbname=postgres".
std::string secure_db_admin_conninfo();

// A login role with a password and a database it owns, on the password server,
// both dropped (the database WITH FORCE) when it goes away. The password may
// hold any character but NUL.
class ScratchSecureDatabase {
public:
  explicit ScratchSecureDatabase(std::string password, const std::string& prefix = "fpsecure");
  ~ScratchSecureDatabase();
  ScratchSecureDatabase(const ScratchSecureDatabase&) = delete;
  ScratchSecureDatabase& operator=(const ScratchSecureDatabase&) = delete;

  [[nodiscard]] const std::string& name() const { return m_name; } // the database
  [[nodiscard]] const std::string& role() const { return m_role; }
  [[nodiscard]] const std::string& password() const { return m_password; }
  // "host=127.0.0.1 port=5433 user=<role> dbname=<name>", without the password:
  // add password=..., or give it through PGPASSWORD or a .pgpass file.
  [[nodiscard]] std::string conninfo_without_password() const;

private:
  std::string m_name;
  std::string m_role;
  std::string m_password;
};

} // namespace foodpipe::test
