#pragma once

// What integration and CLI tests share: where the real services are, scratch
// resources that clean up after themselves, and a way to run the binary.
//
// A service that cannot be reached makes the test FAIL with a message naming
// the address and compose/up; nothing here ever skips.

#include <chrono>
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

// Runs any program (looked up in PATH) the same way; stdin is `stdin_path`.
CommandResult run_command(const std::string& program, const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env = {},
                          const std::string& stdin_path = "/dev/null");

// A program running in the background, its output captured to files.
class BackgroundProcess {
public:
  // keep_stdin_open: the child reads a pipe that stays open until
  // close_stdin() (or the destructor); otherwise stdin is /dev/null.
  BackgroundProcess(const std::string& program, const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env = {}, bool keep_stdin_open = false);
  ~BackgroundProcess(); // kills the process if still running
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  void signal(int signal_number) const;
  // The process id (-1 once wait() has reaped it), e.g. to read /proc/<pid>.
  [[nodiscard]] int pid() const noexcept { return m_pid; }
  // Waits for the exit (at most `timeout_s`, then SIGKILL) and returns status and output.
  CommandResult wait(int timeout_s = 120);
  // What it has written so far.
  [[nodiscard]] std::string stderr_so_far() const;
  [[nodiscard]] std::string stdout_so_far() const;
  // True once `text` appears on stdout or stderr; false after `timeout_s`.
  [[nodiscard]] bool wait_for_output(const std::string& text, int timeout_s) const;
  void close_stdin();

private:
  int m_pid = -1;
  int m_stdin = -1;
  std::string m_out_path;
  std::string m_err_path;
};

// build/bin/foodpipe in the background.
class BackgroundFoodpipe : public BackgroundProcess {
public:
  explicit BackgroundFoodpipe(const std::vector<std::string>& args,
                              const std::map<std::string, std::string>& env = {});
};

// The classpath of the Kafka jars compose/up fetched ("<dir>/libs/*"); a
// missing download fails the calling test.
std::string kafka_classpath();

// One of Kafka's own CLI tools through compose/kafka-tool (e.g. {"delete-records", ...}).
CommandResult run_kafka_tool(const std::vector<std::string>& args);

// Kafka's own Java producer (test/support/java/StrangerProducer.java, which
// documents its options and output) against bootstrap_servers(): data written
// the way other producers write it (transactions, tombstones, no headers).
CommandResult run_stranger_producer(const std::vector<std::string>& args);
// The same in the background, stdin kept open (for --hold-ms -1: closing
// stdin ends the transaction it holds open).
BackgroundProcess start_stranger_producer(const std::vector<std::string>& args);

// Path to the repository (for sql/, test/data/).
std::string source_dir();

// `text` with every byte but A-Z, a-z, 0-9 and -._~ percent-encoded (a URI's
// userinfo or query value), in upper-case hex or, with `lower_hex`, lower.
std::string percent_encoded(const std::string& text, bool lower_hex = false);

// The lines of a command's stderr that report a problem: foodpipe's one
// "foodpipe: error: " line, and any log record at warning or error level (a
// retry loop's, librdkafka's).
std::vector<std::string> problem_lines(const std::string& err);

// Checks that a command a service refused (a wrong password, an untrusted
// certificate) failed as foodpipe promises: exit 1 within 10 s, and the reason
// in one "foodpipe: error: " line on stderr, or, for doctor (`command`), in
// its report with stderr empty. Returns where the reason was said. `shown`
// names the command in failure messages.
std::string refusal_text(const std::string& shown, const std::string& command, const CommandResult& result,
                         std::chrono::steady_clock::duration took);

// Parses a command's --json output; a parse error fails the calling test
// (EXPECT, naming the text) and leaves an empty document.
rapidjson::Document parse_json(const std::string& text);

// The lines of a command's output or a drawn screen, without their '\n'.
std::vector<std::string> lines_of(const std::string& text);

} // namespace foodpipe::test
