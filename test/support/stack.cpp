#include "support/stack.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "support/test_env.hpp"

namespace foodpipe::test {
namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return (value != nullptr && *value != '\0') ? value : fallback;
}

// The scripts and files of the stack: $FOODPIPE_TEST_COMPOSE_DIR or this checkout's compose/.
std::string compose_dir() { return env_or("FOODPIPE_TEST_COMPOSE_DIR", (source_dir() + "/compose").c_str()); }

std::string stack_path(const std::string& file) { return compose_dir() + "/.stack/" + file; }

// A file compose/up --secure writes; its absence fails the calling test.
std::string secure_file(const std::string& file) {
  const auto path = stack_path(file);
  if (access(path.c_str(), R_OK) != 0) {
    ADD_FAILURE() << path << " is missing: start the stack with compose/up --secure";
  }
  return path;
}

CommandResult run_broker_script(const std::vector<std::string>& args) {
  return run_command(compose_dir() + "/broker", args);
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    return "";
  }
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// A SQL string literal (standard_conforming_strings is on since PostgreSQL 9.1).
std::string sql_literal(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) {
    quoted += c;
    if (c == '\'') {
      quoted += '\'';
    }
  }
  return quoted + "'";
}

} // namespace

std::string cluster_bootstrap_servers() {
  return env_or("FOODPIPE_TEST_CLUSTER_BOOTSTRAP", "localhost:9092,localhost:9192,localhost:9292");
}

int broker_pid(int node) {
  const auto result = run_broker_script({"pid", std::to_string(node)});
  if (result.exit_code != 0) {
    return -1;
  }
  return std::atoi(result.out.c_str());
}

int kill_broker(int node) {
  const auto result = run_broker_script({"kill", std::to_string(node)});
  if (result.exit_code != 0) {
    ADD_FAILURE() << "compose/broker kill " << node << " exited " << result.exit_code << ": " << result.err;
    return -1;
  }
  return std::atoi(result.out.c_str());
}

bool start_broker(int node, bool wait_for_isr) {
  std::vector<std::string> args = {"start", std::to_string(node)};
  if (wait_for_isr) {
    args.emplace_back("--wait-isr");
  }
  const auto result = run_broker_script(args);
  if (result.exit_code != 0) {
    ADD_FAILURE() << "compose/broker start " << node << " exited " << result.exit_code << ":\n"
                  << result.out << result.err;
    return false;
  }
  return true;
}

std::vector<std::string> under_replicated_partitions() {
  const auto result = run_broker_script({"under-replicated"});
  if (result.exit_code != 0) {
    ADD_FAILURE() << "compose/broker under-replicated exited " << result.exit_code << ": " << result.err;
    return {};
  }
  std::vector<std::string> lines;
  std::istringstream stream(result.out);
  for (std::string line; std::getline(stream, line);) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

bool wait_until_fully_replicated(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!under_replicated_partitions().empty()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return true;
}

void restart_stopped_brokers() {
  for (int node = 1; node <= k_cluster_nodes; ++node) {
    if (broker_pid(node) < 0) {
      start_broker(node, /*wait_for_isr=*/true);
      return;
    }
  }
}

std::string secure_client_properties() { return secure_file("client-librdkafka.properties"); }

std::string secure_java_properties() { return secure_file("client-java.properties"); }

std::string untrusted_ca_file() { return secure_file("other-ca.pem"); }

std::vector<std::pair<std::string, std::string>> read_properties(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  std::vector<std::pair<std::string, std::string>> properties;
  for (std::string line; std::getline(file, line);) {
    const auto text = trim(line);
    if (text.empty() || text[0] == '#' || text[0] == '!') {
      continue;
    }
    const auto equals = text.find('=');
    if (equals == std::string::npos) {
      ADD_FAILURE() << path << ": not key=value: " << text;
      continue;
    }
    properties.emplace_back(trim(text.substr(0, equals)), trim(text.substr(equals + 1)));
  }
  return properties;
}

std::string secure_db_host() { return "127.0.0.1"; }

int secure_db_port() { return std::atoi(env_or("FOODPIPE_TEST_SECURE_DB_PORT", "5433").c_str()); }

std::string secure_db_admin_conninfo() {
  return env_or("FOODPIPE_TEST_SECURE_DB_ADMIN",
                ("host=/var/run/postgresql port=" + std::to_string(secure_db_port()) + " user=postgres dbname=postgres")
                    .c_str());
}

ScratchSecureDatabase::ScratchSecureDatabase(std::string password, const std::string& prefix)
    : m_name(unique_name(prefix)), m_role(m_name + "_role"), m_password(std::move(password)) {
  query_value(secure_db_admin_conninfo(), "CREATE ROLE " + m_role + " LOGIN PASSWORD " + sql_literal(m_password));
  query_value(secure_db_admin_conninfo(), "CREATE DATABASE " + m_name + " OWNER " + m_role);
}

ScratchSecureDatabase::~ScratchSecureDatabase() {
  try {
    query_value(secure_db_admin_conninfo(), "DROP DATABASE IF EXISTS " + m_name + " WITH (FORCE)");
    query_value(secure_db_admin_conninfo(), "DROP ROLE IF EXISTS " + m_role);
  } catch (const std::exception&) {
    // A leftover scratch role or database is harmless; never throw from a destructor.
  }
}

std::string ScratchSecureDatabase::conninfo_without_password() const {
  return "host=" + secure_db_host() + " port=" + std::to_string(secure_db_port()) + " user=" + m_role +
         " dbname=" + m_name;
}

} // namespace foodpipe::test
