// foodpipe inspect --watch against the real broker and PostgreSQL: the screen
// under a pseudo-terminal this test opens (what a user sees: the lag rising
// while produce runs and falling to 0 while consume runs; q and Ctrl-C leave
// the terminal as they found it; 60 columns still show the totals), the JSON
// lines a script follows (their lag is what inspect group --json says at the
// same moment, within one interval), and services that are away.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::string_view k_enter_screen = "\033[?1049h";
constexpr std::string_view k_leave_screen = "\033[?25h\033[?1049l";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    lines.push_back(line);
  }
  return lines;
}

// The text of a stretch of terminal output: escape sequences removed.
std::string without_escapes(const std::string& bytes) {
  static const std::regex k_escape("\033\\[[0-9;?]*[A-Za-z]");
  return std::regex_replace(bytes, k_escape, "");
}

std::size_t columns_of(const std::string& line) {
  std::size_t n = 0;
  for (const char c : line) {
    n += (static_cast<unsigned char>(c) & 0xC0U) != 0x80U ? 1U : 0U;
  }
  return n;
}

// foodpipe on the slave side of a pseudo-terminal of the given size, as its
// controlling terminal (stdin and stdout; stderr to a file, so that a log
// record cannot pass for the screen). The test reads the master side.
class PtyFoodpipe {
public:
  PtyFoodpipe(const std::vector<std::string>& args, unsigned short columns, unsigned short rows,
              const std::map<std::string, std::string>& env = {}) {
    winsize size{};
    size.ws_col = columns;
    size.ws_row = rows;
    if (openpty(&m_master, &m_slave, nullptr, nullptr, &size) != 0) {
      throw std::runtime_error(std::string("openpty: ") + std::strerror(errno));
    }
    tcgetattr(m_slave, &m_before);
    m_err_path = std::filesystem::temp_directory_path() / test::unique_name("watch_err");
    m_pid = fork();
    if (m_pid == 0) {
      setsid();
      ioctl(m_slave, TIOCSCTTY, 0);
      dup2(m_slave, 0);
      dup2(m_slave, 1);
      const int err = open(m_err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(err, 2);
      for (const int fd : {m_master, m_slave, err}) {
        if (fd > 2) {
          close(fd);
        }
      }
      setenv("TERM", "xterm-256color", 1);
      unsetenv("NO_COLOR");
      for (const auto& [key, value] : env) {
        setenv(key.c_str(), value.c_str(), 1);
      }
      std::vector<std::string> copies{FOODPIPE_BINARY};
      copies.insert(copies.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& arg : copies) {
        argv.push_back(arg.data());
      }
      argv.push_back(nullptr);
      execv(FOODPIPE_BINARY, argv.data());
      _exit(127);
    }
  }

  ~PtyFoodpipe() {
    if (m_pid > 0) {
      kill(m_pid, SIGKILL);
      waitpid(m_pid, nullptr, 0);
    }
    close(m_master);
    close(m_slave);
    std::filesystem::remove(m_err_path);
  }

  PtyFoodpipe(const PtyFoodpipe&) = delete;
  PtyFoodpipe& operator=(const PtyFoodpipe&) = delete;

  void type(std::string_view keys) const {
    ASSERT_EQ(write(m_master, keys.data(), keys.size()), ssize_t(keys.size()));
  }

  void signal(int signal_number) const { kill(m_pid, signal_number); }

  // The window resized, as a terminal emulator does it: the kernel sends SIGWINCH.
  void resize(unsigned short columns, unsigned short rows) const {
    winsize size{};
    size.ws_col = columns;
    size.ws_row = rows;
    ioctl(m_master, TIOCSWINSZ, &size);
  }

  // Reads the screen until `done` holds for the newest complete frame (false after `timeout`).
  bool read_until(const std::function<bool(const std::string&)>& done, Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      read_some(200ms);
      if (done(frame())) {
        return true;
      }
    }
    return false;
  }

  // The exit status (-1 when it did not exit within `timeout`), reading what is left.
  int wait(Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      read_some(100ms);
      int status = 0;
      if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        read_some(100ms);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
    }
    return -1;
  }

  // The text of the newest frame drawn completely: between the last two "home" sequences.
  [[nodiscard]] std::string frame() const {
    const auto last = m_output.rfind("\033[H");
    if (last == std::string::npos) {
      return {};
    }
    const auto end = m_output.find("\033[J", last);
    if (end != std::string::npos) {
      return without_escapes(m_output.substr(last, end - last));
    }
    const auto before = m_output.rfind("\033[H", last == 0 ? 0 : last - 1);
    return before == std::string::npos || before == last
               ? std::string()
               : without_escapes(m_output.substr(before, last - before));
  }

  [[nodiscard]] const std::string& output() const { return m_output; }
  [[nodiscard]] termios mode_before() const { return m_before; }
  [[nodiscard]] termios mode_now() const {
    termios now{};
    tcgetattr(m_slave, &now);
    return now;
  }
  [[nodiscard]] std::string stderr_text() const {
    std::ifstream file(m_err_path);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  }

private:
  void read_some(Clock::duration wait) {
    pollfd input{m_master, POLLIN, 0};
    if (poll(&input, 1,
             static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count())) <= 0) {
      return;
    }
    char buffer[65536];
    const auto got = read(m_master, buffer, sizeof buffer);
    if (got > 0) {
      m_output.append(buffer, static_cast<std::size_t>(got));
    }
  }

  int m_master = -1;
  int m_slave = -1;
  pid_t m_pid = -1;
  termios m_before{};
  std::filesystem::path m_err_path;
  std::string m_output;
};

// The total lag the header of a frame shows ("lag 1234 ..."); -1 when it shows none.
long long header_lag(const std::string& frame) {
  static const std::regex k_lag("^(PAUSED  )?lag ([0-9]+)");
  std::smatch match;
  const auto lines = lines_of(frame);
  if (lines.empty() || !std::regex_search(lines[0], match, k_lag)) {
    return -1;
  }
  return std::stoll(match[2].str());
}

class InspectWatchTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  }

  // args with this test's broker, topic and (but for produce) database and group.
  [[nodiscard]] std::vector<std::string> with_target(std::vector<std::string> args) const {
    args.insert(args.end(), {"--bootstrap-servers", test::bootstrap_servers(), "--topic", m_topic});
    if (args.front() != "produce") {
      args.insert(args.end(), {"--db", m_db.uri(), "--group", m_group});
    }
    return args;
  }

  void produce(int count, const std::string& rate = "0") const {
    const auto produced = test::run_foodpipe(
        with_target({"produce", "--rate", rate, "--count", std::to_string(count), "--seed", "3", "--quiet"}));
    ASSERT_EQ(produced.exit_code, 0) << produced.err;
  }

  void consume_to_end() const {
    const auto consumed = test::run_foodpipe(with_target({"consume", "--until-end", "--quiet"}));
    ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  }

  // After q or Ctrl-C: exit 0, the alternate screen left with the cursor shown, the terminal's modes back.
  static void expect_restored(PtyFoodpipe& watch, int exit_code) {
    EXPECT_EQ(exit_code, 0) << watch.stderr_text();
    const auto& out = watch.output();
    EXPECT_NE(out.find(k_enter_screen), std::string::npos);
    ASSERT_GE(out.size(), k_leave_screen.size());
    EXPECT_EQ(out.substr(out.size() - k_leave_screen.size()), k_leave_screen)
        << "the output must end leaving the alternate screen with the cursor shown";
    const auto before = watch.mode_before();
    const auto now = watch.mode_now();
    EXPECT_EQ(now.c_lflag, before.c_lflag) << "echo, canonical mode and signals back";
    EXPECT_EQ(now.c_iflag, before.c_iflag);
  }

  test::ScratchDatabase m_db{"fpwatch"};
  std::string m_topic = test::unique_name("fpwatch");
  std::string m_group = test::unique_name("fpwatch_group");
};

TEST_F(InspectWatchTest, OnATerminalTheLagRisesWhileProducingFallsToZeroWhileConsumingAndQRestores) {
  PtyFoodpipe watch(with_target({"inspect", "group", "--watch", "--interval", "0.5"}), 120, 40);
  ASSERT_TRUE(watch.read_until(
      [](const std::string& f) { return f.find("does not exist (yet)") != std::string::npos; }, 30s))
      << "before the first message the topic does not exist, and the watch says so\n"
      << watch.frame() << watch.stderr_text();

  test::BackgroundFoodpipe producer(with_target({"produce", "--rate", "400", "--count", "2000", "--quiet"}));
  long long highest = -1;
  bool saw_in_rate = false;
  ASSERT_TRUE(watch.read_until(
      [&](const std::string& f) {
        highest = std::max(highest, header_lag(f));
        saw_in_rate = saw_in_rate || std::regex_search(f, std::regex("  in [1-9][0-9.]*/s"));
        return highest >= 1000;
      },
      60s))
      << "the lag shown must rise while produce runs; highest " << highest << "\n"
      << watch.frame();
  EXPECT_TRUE(saw_in_rate) << "messages per second in, while produce runs\n" << watch.frame();
  EXPECT_NE(watch.output().find("\033[33m"), std::string::npos) << "colour on a terminal without NO_COLOR";

  test::BackgroundFoodpipe consumer(with_target({"consume", "--quiet"}));
  const auto produced = producer.wait(60);
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  bool saw_out_rate = false;
  bool saw_member = false;
  ASSERT_TRUE(watch.read_until(
      [&](const std::string& f) {
        saw_out_rate = saw_out_rate || std::regex_search(f, std::regex("  out [1-9][0-9.]*/s"));
        saw_member = saw_member || f.find("Stable, 1 member") != std::string::npos;
        return header_lag(f) == 0 && f.find("orders 2000") != std::string::npos;
      },
      90s))
      << "the lag shown must fall to 0 once consume has caught up\n"
      << watch.frame();
  EXPECT_TRUE(saw_out_rate) << "messages per second out, while consume runs";
  EXPECT_TRUE(saw_member) << "the consumer shown as the group's member";
  consumer.signal(SIGTERM);
  (void)consumer.wait(60);

  watch.type("q");
  expect_restored(watch, watch.wait(20s));
}

TEST_F(InspectWatchTest, SixtyColumnsStillShowTheTotalsAndCtrlCRestores) {
  produce(30);
  consume_to_end();
  produce(7);
  PtyFoodpipe watch(with_target({"inspect", "--watch", "--interval", "0.3"}), 60, 24, {{"NO_COLOR", "1"}});
  ASSERT_TRUE(watch.read_until([](const std::string& f) { return header_lag(f) == 7; }, 30s))
      << "the overview's header shows the total lag\n"
      << watch.frame() << watch.stderr_text();
  const auto frame = watch.frame();
  for (const auto& line : lines_of(frame)) {
    EXPECT_LE(columns_of(line), 60U) << "no line wider than the terminal: '" << line << "'";
  }
  EXPECT_LE(lines_of(frame).size(), 23U) << "the last row stays free, nothing scrolls";
  EXPECT_NE(frame.find("orders 30"), std::string::npos) << frame;
  EXPECT_NE(frame.find("dl 0"), std::string::npos) << frame;
  EXPECT_EQ(watch.output().find("\033[3"), std::string::npos) << "NO_COLOR: no colour";
  watch.type("p");
  ASSERT_TRUE(watch.read_until([](const std::string& f) { return f.rfind("PAUSED", 0) == 0; }, 10s))
      << watch.frame();
  // Paused, the screen keeps its numbers while the pipeline moves on (and through a resize) ...
  produce(5);
  watch.resize(70, 24);
  // Three intervals' worth of output read: a redraw of a newer sample would be the newest frame.
  (void)watch.read_until([](const std::string&) { return false; }, 1s);
  EXPECT_EQ(watch.frame().rfind("PAUSED  lag 7", 0), 0U) << watch.frame();
  // ... and shows where it is at once when resumed.
  watch.type("p");
  EXPECT_TRUE(watch.read_until([](const std::string& f) { return header_lag(f) == 12; }, 10s))
      << watch.frame();
  EXPECT_EQ(watch.frame().rfind("PAUSED", 0), std::string::npos);
  watch.type("\003"); // Ctrl-C, a key in raw mode
  expect_restored(watch, watch.wait(20s));
}

TEST_F(InspectWatchTest, AResizedWindowIsRedrawnAtItsNewWidthAndSigtermStillRestores) {
  produce(12);
  PtyFoodpipe watch(with_target({"inspect", "group", "--watch", "--interval", "30"}), 120, 40);
  ASSERT_TRUE(watch.read_until([](const std::string& f) { return header_lag(f) == 12; }, 30s))
      << watch.frame() << watch.stderr_text();
  EXPECT_NE(watch.frame().find("LOG START"), std::string::npos) << "the full layout at 120 columns";
  // The next sample is 30 s away: a new frame now is the redraw the resize asked for.
  watch.resize(50, 20);
  ASSERT_TRUE(
      watch.read_until([](const std::string& f) { return f.find("LOG START") == std::string::npos; }, 10s))
      << "redrawn in the narrow layout\n"
      << watch.frame();
  for (const auto& line : lines_of(watch.frame())) {
    EXPECT_LE(columns_of(line), 50U) << "'" << line << "'";
  }
  EXPECT_EQ(header_lag(watch.frame()), 12);
  watch.signal(SIGTERM);
  const auto exit_code = watch.wait(20s);
  EXPECT_EQ(exit_code, 143) << "stopped by a signal: 128 + 15, like every command";
  const auto& out = watch.output();
  ASSERT_GE(out.size(), k_leave_screen.size());
  EXPECT_EQ(out.substr(out.size() - k_leave_screen.size()), k_leave_screen);
  EXPECT_EQ(watch.mode_now().c_lflag, watch.mode_before().c_lflag)
      << "the terminal's modes back after SIGTERM";
}

TEST_F(InspectWatchTest, OnATerminalABrokerAwayIsShownAndQStillQuitsThoughEverySampleIsLate) {
  // Each sample waits a second for the broker, five times the interval: no time is left between samples.
  PtyFoodpipe watch({"inspect", "group", "--watch", "--interval", "0.2", "--bootstrap-servers", "127.0.0.1:1",
                     "--db", m_db.uri(), "--topic", m_topic, "--group", m_group},
                    100, 30);
  ASSERT_TRUE(watch.read_until(
      [](const std::string& f) {
        return f.rfind("lag ?", 0) == 0 && f.find("broker: unreachable") != std::string::npos &&
               f.find("cannot reach Kafka at 127.0.0.1:1") != std::string::npos &&
               f.find("database: 127.0.0.1:5432/") != std::string::npos;
      },
      30s))
      << watch.frame() << watch.stderr_text();
  const auto asked = Clock::now();
  watch.type("q");
  expect_restored(watch, watch.wait(20s));
  EXPECT_LT(Clock::now() - asked, 5s) << "q is read between two samples, however late they are";
}

TEST_F(InspectWatchTest, JsonLinesFollowTheLagAsInspectGroupSeesIt) {
  produce(60);
  consume_to_end();
  // Nobody consumes from here on, so every lag only grows and one taken later is never smaller.
  test::BackgroundFoodpipe producer(with_target({"produce", "--rate", "40", "--count", "100000", "--quiet"}));
  test::BackgroundFoodpipe watch(with_target({"inspect", "group", "--watch", "--json", "--count", "5"}));
  std::vector<std::string> lines;
  const auto deadline = Clock::now() + 60s;
  for (std::size_t taken = 0; taken < 5;) {
    const auto out = watch.stdout_so_far();
    const auto now = lines_of(out);
    // A line is complete once its newline is there.
    if (now.size() <= taken || (now.size() == taken + 1 && out.back() != '\n')) {
      ASSERT_LT(Clock::now(), deadline) << "five lines expected\n" << out << watch.stderr_so_far();
      std::this_thread::sleep_for(20ms);
      continue;
    }
    // A line arrived: inspect group at once, and compare.
    const auto group = test::run_foodpipe(with_target({"inspect", "group", "--json"}));
    ASSERT_EQ(group.exit_code, 0) << group.err;
    const auto snapshot = test::parse_json(group.out);
    const auto line = test::parse_json(now[taken]);
    ASSERT_TRUE(line.IsObject()) << now[taken];
    EXPECT_STREQ(line["view"].GetString(), "watch");
    ASSERT_TRUE(line["group"].IsObject()) << now[taken];
    const auto& watched = line["group"]["partitions"];
    const auto& seen = snapshot["partitions"];
    ASSERT_EQ(watched.Size(), seen.Size());
    std::int64_t watched_total = 0;
    std::int64_t seen_total = 0;
    for (rapidjson::SizeType p = 0; p < watched.Size(); ++p) {
      EXPECT_EQ(watched[p]["stored_offset"].GetInt64(), seen[p]["stored_offset"].GetInt64());
      EXPECT_LE(watched[p]["lag"].GetInt64(), seen[p]["lag"].GetInt64())
          << "inspect group ran after the sample";
      watched_total += watched[p]["lag"].GetInt64();
      seen_total += seen[p]["lag"].GetInt64();
    }
    EXPECT_EQ(line["group"]["total_lag"].GetInt64(), watched_total);
    // 40 messages a second: one interval (1 s) plus the time inspect group takes to start, generously.
    EXPECT_LE(seen_total - watched_total, 80) << "sample " << taken + 1 << ": " << now[taken] << "\n"
                                              << group.out;
    lines.push_back(now[taken]);
    ++taken;
  }
  const auto done = watch.wait(30);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(lines_of(done.out).size(), 5U) << "--count 5: five lines, then exit";
  const auto first = test::parse_json(lines.front());
  const auto last = test::parse_json(lines.back());
  EXPECT_GT(last["group"]["total_lag"].GetInt64(), first["group"]["total_lag"].GetInt64())
      << "the lag grew while produce ran";
  EXPECT_TRUE(last["rates"]["in_per_s"].IsNumber());
  EXPECT_GT(last["rates"]["in_per_s"].GetDouble(), 0.0);
  producer.signal(SIGTERM);
  (void)producer.wait(60);
}

TEST_F(InspectWatchTest, ServicesAwayAreShownAndTheWatchGoesOnUntilTheyAnswer) {
  // A broker that is not there: every sample says so, in bounded time.
  const auto started = Clock::now();
  const auto away = test::run_foodpipe({"inspect", "group", "--watch", "--json", "--count", "3", "--interval",
                                        "0.5", "--bootstrap-servers", "127.0.0.1:1", "--db", m_db.uri(),
                                        "--topic", m_topic, "--group", m_group});
  EXPECT_EQ(away.exit_code, 0) << away.err;
  EXPECT_LT(Clock::now() - started, 20s) << "each sample is bounded by its timeouts";
  const auto lines = lines_of(away.out);
  ASSERT_EQ(lines.size(), 3U) << away.out << away.err;
  for (const auto& text : lines) {
    const auto line = test::parse_json(text);
    EXPECT_FALSE(line["kafka"]["ok"].GetBool()) << text;
    EXPECT_TRUE(line["kafka"]["error"].IsString());
    EXPECT_TRUE(line["group"].IsNull());
    EXPECT_TRUE(line["database"]["ok"].GetBool())
        << "the database half does not wait for the broker: " << text;
  }

  // A database that does not exist yet comes in once seed-db has made it.
  produce(5);
  const auto later = test::unique_name("fpwatch_later");
  const auto later_uri = m_db.uri().substr(0, m_db.uri().rfind('/') + 1) + later;
  test::BackgroundFoodpipe watch({"inspect", "--watch", "--json", "--interval", "0.5", "--bootstrap-servers",
                                  test::bootstrap_servers(), "--db", later_uri, "--topic", m_topic, "--group",
                                  m_group});
  ASSERT_TRUE(watch.wait_for_output("\"ok\":false", 30)) << watch.stdout_so_far() << watch.stderr_so_far();
  const auto first = test::parse_json(lines_of(watch.stdout_so_far()).front());
  EXPECT_FALSE(first["database"]["ok"].GetBool());
  EXPECT_EQ(first["group"]["total_lag"].GetInt64(), 5)
      << "without the database, the lag from Kafka's offsets";
  EXPECT_STREQ(first["group"]["lag_from"].GetString(), "kafka_committed_offsets");
  const auto seeded = test::run_foodpipe({"seed-db", "--db", later_uri});
  ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  // The database of the newest line answers (true) or not (false), within 30 s.
  const auto database_becomes = [&watch](bool ok) {
    const auto deadline = Clock::now() + 30s;
    while (Clock::now() < deadline) {
      const auto all = lines_of(watch.stdout_so_far());
      if (!all.empty() && test::parse_json(all.back())["database"]["ok"].GetBool() == ok) {
        return true;
      }
      std::this_thread::sleep_for(100ms);
    }
    return false;
  };
  EXPECT_TRUE(database_becomes(true)) << "the database shown once it answers\n" << watch.stdout_so_far();

  // It goes away during the watch (its connections ended, as a restart would), and comes back.
  (void)test::query_value(test::admin_conninfo(), "DROP DATABASE " + later + " WITH (FORCE)");
  EXPECT_TRUE(database_becomes(false)) << "the database shown as away\n" << watch.stdout_so_far();
  const auto again = test::run_foodpipe({"seed-db", "--db", later_uri});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(database_becomes(true)) << "and back\n" << watch.stdout_so_far();
  EXPECT_EQ(watch.pid() > 0 && kill(watch.pid(), 0) == 0, true) << "the watch went on throughout";
  watch.signal(SIGINT);
  const auto stopped = watch.wait(30);
  EXPECT_EQ(stopped.exit_code, 130) << "stopped by a signal, like every command";
  (void)test::query_value(test::admin_conninfo(), "DROP DATABASE IF EXISTS " + later + " WITH (FORCE)");
}

} // namespace
} // namespace foodpipe
