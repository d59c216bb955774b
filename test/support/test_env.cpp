#include "support/test_env.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <random>
#include <sstream>
#include <stdexcept>
#include <csignal>
#include <cstdio>
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <libpq-fe.h>

extern char** environ;

namespace foodpipe::test {
namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return (value != nullptr && *value != '\0') ? value : fallback;
}

std::string exec_one(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("PostgreSQL is not reachable (" + conninfo + "): " + message +
                             "start it with compose/up");
  }
  PGresult* result = PQexec(conn, sql.c_str());
  const auto status = PQresultStatus(result);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    std::string message = PQresultErrorMessage(result);
    PQclear(result);
    PQfinish(conn);
    throw std::runtime_error("SQL failed: " + sql + ": " + message);
  }
  std::string value;
  if (status == PGRES_TUPLES_OK && PQntuples(result) > 0 && PQnfields(result) > 0) {
    value = PQgetvalue(result, 0, 0);
  }
  PQclear(result);
  PQfinish(conn);
  return value;
}

} // namespace

std::string bootstrap_servers() { return env_or("FOODPIPE_TEST_BOOTSTRAP", "localhost:9092"); }

std::string admin_conninfo() {
  return env_or("FOODPIPE_TEST_DB_ADMIN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres");
}

std::string conninfo_for(const std::string& name) {
  // Later keywords win in a libpq conninfo string.
  return admin_conninfo() + " dbname=" + name;
}

std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  std::random_device device;
  const auto random = std::uniform_int_distribution<unsigned>(0, 0xFFFFFF)(device);
  char suffix[64];
  std::snprintf(suffix, sizeof suffix, "_%d_%d_%06x", static_cast<int>(getpid()), counter++, random);
  return prefix + suffix;
}

std::string query_value(const std::string& conninfo, const std::string& sql) {
  return exec_one(conninfo, sql);
}

ScratchDatabase::ScratchDatabase(const std::string& prefix) : m_name(unique_name(prefix)) {
  exec_one(admin_conninfo(), "CREATE DATABASE " + m_name);
}

ScratchDatabase::~ScratchDatabase() {
  try {
    exec_one(admin_conninfo(), "DROP DATABASE IF EXISTS " + m_name + " WITH (FORCE)");
  } catch (const std::exception&) {
    // A leftover scratch database is harmless; never throw from a destructor.
  }
}

std::string ScratchDatabase::uri() const {
  const std::string host = env_or("FOODPIPE_TEST_DB_HOST", "127.0.0.1");
  return "postgresql://postgres@" + host + ":5432/" + m_name;
}

namespace {

// In a forked child: applies env (an empty value removes the variable) and
// replaces the process with program + args; never returns.
[[noreturn]] void exec_child(const std::string& program, const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& env) {
  for (const auto& [key, value] : env) {
    if (value.empty()) {
      unsetenv(key.c_str());
    } else {
      setenv(key.c_str(), value.c_str(), 1);
    }
  }
  std::vector<std::string> copies;
  copies.push_back(program);
  copies.insert(copies.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : copies) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  execvp(program.c_str(), argv.data());
  _exit(127);
}

} // namespace

CommandResult run_foodpipe(const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env) {
  return run_command(FOODPIPE_BINARY, args, env);
}

CommandResult run_command(const std::string& program, const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env, const std::string& stdin_path) {
  int out_pipe[2];
  int err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    const int input = open(stdin_path.c_str(), O_RDONLY);
    dup2(input, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    // Only 0, 1 and 2 go on: a daemon the command leaves behind (compose/broker
    // start's broker) would otherwise hold the pipes open, and the read below
    // would wait for it to exit.
    for (const int fd : {input, out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) {
      if (fd > 2) {
        close(fd);
      }
    }
    exec_child(program, args, env);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  CommandResult result;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buffer[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP)) != 0) {
        const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
        if (n <= 0) {
          close(fds[i].fd);
          fds[i].fd = -1;
          --open_fds;
        } else {
          (i == 0 ? result.out : result.err).append(buffer, static_cast<std::size_t>(n));
        }
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

namespace {

std::string read_file(const std::string& path) {
  std::string content;
  if (FILE* file = std::fopen(path.c_str(), "rb"); file != nullptr) {
    char buffer[65536];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
      content.append(buffer, n);
    }
    std::fclose(file);
  }
  return content;
}

} // namespace

BackgroundProcess::BackgroundProcess(const std::string& program, const std::vector<std::string>& args,
                                     const std::map<std::string, std::string>& env, bool keep_stdin_open) {
  const auto base = "/tmp/" + unique_name("foodpipe_bg");
  int stdin_pipe[2] = {-1, -1};
  if (keep_stdin_open && pipe(stdin_pipe) != 0) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  m_out_path = base + ".out";
  m_err_path = base + ".err";
  m_pid = fork();
  if (m_pid < 0) {
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (m_pid == 0) {
    const int input = keep_stdin_open ? stdin_pipe[0] : open("/dev/null", O_RDONLY);
    const int out = open(m_out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(m_err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(input, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (keep_stdin_open) {
      close(stdin_pipe[1]);
    }
    exec_child(program, args, env);
  }
  if (keep_stdin_open) {
    close(stdin_pipe[0]);
    m_stdin = stdin_pipe[1];
  }
}

BackgroundFoodpipe::BackgroundFoodpipe(const std::vector<std::string>& args,
                                       const std::map<std::string, std::string>& env)
    : BackgroundProcess(FOODPIPE_BINARY, args, env) {}

BackgroundProcess::~BackgroundProcess() {
  close_stdin();
  if (m_pid > 0) {
    kill(m_pid, SIGKILL);
    waitpid(m_pid, nullptr, 0);
  }
  std::remove(m_out_path.c_str());
  std::remove(m_err_path.c_str());
}

void BackgroundProcess::signal(int signal_number) const {
  if (m_pid > 0) {
    kill(m_pid, signal_number);
  }
}

CommandResult BackgroundProcess::wait(int timeout_s) {
  CommandResult result;
  int status = 0;
  for (int waited_ms = 0;; waited_ms += 20) {
    const pid_t done = waitpid(m_pid, &status, WNOHANG);
    if (done == m_pid) {
      break;
    }
    if (waited_ms > timeout_s * 1000) {
      kill(m_pid, SIGKILL);
      waitpid(m_pid, &status, 0);
      break;
    }
    usleep(20 * 1000);
  }
  m_pid = -1;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_file(m_out_path);
  result.err = read_file(m_err_path);
  return result;
}

std::string BackgroundProcess::stderr_so_far() const { return read_file(m_err_path); }

std::string BackgroundProcess::stdout_so_far() const { return read_file(m_out_path); }

void BackgroundProcess::close_stdin() {
  if (m_stdin >= 0) {
    close(m_stdin);
    m_stdin = -1;
  }
}

bool BackgroundProcess::wait_for_output(const std::string& text, int timeout_s) const {
  for (int waited_ms = 0; waited_ms <= timeout_s * 1000; waited_ms += 50) {
    if (stdout_so_far().find(text) != std::string::npos || stderr_so_far().find(text) != std::string::npos) {
      return true;
    }
    usleep(50 * 1000);
  }
  return false;
}

namespace {

std::vector<std::string> stranger_producer_args(const std::vector<std::string>& args) {
  std::vector<std::string> all = {"-Xmx256m", "-cp", kafka_classpath(),
                                  "-Dlog4j.configuration=file:" + source_dir() + "/compose/.stack/tools-log4j.properties",
                                  source_dir() + "/test/support/java/StrangerProducer.java", "--bootstrap",
                                  bootstrap_servers()};
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

} // namespace

std::string kafka_classpath() {
  const std::string stack = source_dir() + "/compose/.stack";
  if (DIR* dir = opendir(stack.c_str()); dir != nullptr) {
    while (const dirent* entry = readdir(dir)) {
      const std::string name = entry->d_name;
      if (name.rfind("kafka-", 0) == 0) {
        closedir(dir);
        return stack + "/" + name + "/libs/*";
      }
    }
    closedir(dir);
  }
  ADD_FAILURE() << "no Kafka jars under " << stack << "; run compose/up";
  return stack + "/kafka-missing/libs/*";
}

CommandResult run_kafka_tool(const std::vector<std::string>& args) {
  return run_command(source_dir() + "/compose/kafka-tool", args);
}

CommandResult run_stranger_producer(const std::vector<std::string>& args) {
  return run_command("java", stranger_producer_args(args));
}

BackgroundProcess start_stranger_producer(const std::vector<std::string>& args) {
  return BackgroundProcess("java", stranger_producer_args(args), {}, /*keep_stdin_open=*/true);
}

std::string source_dir() { return FOODPIPE_SOURCE_DIR; }

std::string percent_encoded(const std::string& text, bool lower_hex) {
  const char* hex = lower_hex ? "0123456789abcdef" : "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out += {'%', hex[byte >> 4U], hex[byte & 15U]};
    }
  }
  return out;
}

std::vector<std::string> problem_lines(const std::string& err) {
  std::vector<std::string> found;
  std::size_t at = 0;
  while (at < err.size()) {
    const auto end = std::min(err.find('\n', at), err.size());
    const auto line = err.substr(at, end - at);
    if (line.rfind("foodpipe: error: ", 0) == 0 || line.find(" warning [") != std::string::npos ||
        line.find(" error [") != std::string::npos) {
      found.push_back(line);
    }
    at = end + 1;
  }
  return found;
}

std::string refusal_text(const std::string& shown, const std::string& command, const CommandResult& result,
                         std::chrono::steady_clock::duration took) {
  EXPECT_EQ(result.exit_code, 1) << shown << "\n" << result.out << result.err;
  EXPECT_LT(took, std::chrono::seconds(10)) << shown;
  if (command == "doctor") {
    EXPECT_EQ(result.err, "") << shown;
    return result.out;
  }
  const auto problems = problem_lines(result.err);
  EXPECT_EQ(problems.size(), 1U) << shown << ":\n" << result.err;
  EXPECT_EQ(problems.empty() ? "" : problems[0].substr(0, 17), "foodpipe: error: ") << shown << ":\n" << result.err;
  return result.err;
}

rapidjson::Document parse_json(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  EXPECT_FALSE(doc.HasParseError()) << text;
  return doc;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

} // namespace foodpipe::test
