#pragma once

// What integration and CLI tests share: where the real services are, scratch
// resources that clean up after themselves, and a way to run the binary.
//
// A service that cannot be reached makes the test FAIL with a message naming
// the address and compose/up; nothing here ever skips.

#include <map>
#include <string>
#include <vector>

#include <rapidjson/document.h>

namespace foodpipe::test {

// Kafka bootstrap servers for tests: $FOODPIPE_TEST_BOOTSTRAP or localhost:9092.
std::string bootstrap_servers();

// Conninfo of the server's maintenance database:
// $FOODPIPE_TEST_DB_ADMIN or "host=127.0.0.1 port=5432 user=postgres dbname=postgres".
std::string admin_conninfo();

// Conninfo of database `name` on the same server as admin_conninfo().
std::string conninfo_for(const std::string& name);

// A name no other test or run uses: prefix_<pid>_<counter>_<random>, lower case.
std::string unique_name(const std::string& prefix);

// Runs SQL on a conninfo and returns the first column of the first row ("" for none);
// throws std::runtime_error with PostgreSQL's message on failure.
std::string query_value(const std::string& conninfo, const std::string& sql);

// A database created for one test and dropped (WITH FORCE) when it goes away.
class ScratchDatabase {
public:
  explicit ScratchDatabase(const std::string& prefix = "fptest");
  ~ScratchDatabase();
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  [[nodiscard]] const std::string& name() const { return m_name; }
  [[nodiscard]] std::string conninfo() const { return conninfo_for(m_name); }
  // A postgresql:// URI for the same database (for --db).
  [[nodiscard]] std::string uri() const;

private:
  std::string m_name;
};

struct CommandResult {
  int exit_code = -1; // the exit status, or 128+signal when killed by a signal
  std::string out;
  std::string err;
};

// Runs build/bin/foodpipe with args; env entries are added to (or, with an empty
// value, removed from) the inherited environment. stdin is /dev/null.
CommandResult run_foodpipe(const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env = {});

// foodpipe running in the background, its output captured to files.
class BackgroundFoodpipe {
public:
  explicit BackgroundFoodpipe(const std::vector<std::string>& args,
                              const std::map<std::string, std::string>& env = {});
  ~BackgroundFoodpipe(); // kills the process if still running
  BackgroundFoodpipe(const BackgroundFoodpipe&) = delete;
  BackgroundFoodpipe& operator=(const BackgroundFoodpipe&) = delete;

  void signal(int signal_number) const;
  // Waits for the exit (at most `timeout_s`, then SIGKILL) and returns status and output.
  CommandResult wait(int timeout_s = 120);
  // What it has written to stderr so far.
  [[nodiscard]] std::string stderr_so_far() const;

private:
  int m_pid = -1;
  std::string m_out_path;
  std::string m_err_path;
};

// Path to the repository (for sql/, test/data/).
std::string source_dir();

// Parses a command's --json output; a parse error fails the calling test
// (EXPECT, naming the text) and leaves an empty document.
rapidjson::Document parse_json(const std::string& text);

} // namespace foodpipe::test
