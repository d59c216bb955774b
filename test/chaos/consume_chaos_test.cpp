// foodpipe consume under faults, black box: the binary is driven as an operator
// (or a crashing orchestrator) would drive it, and the outcome is judged only
// by what PostgreSQL and Kafka hold afterwards.
//
//   kill -9 at random moments         exact rows, offsets == watermarks, and after every
//                                     kill the rows and the stored offsets agree
//   backends terminated mid-run       reconnects, retries, exact counts, exit 0
//   a 5 s outage (no connections)     pauses, resumes, skips nothing (the Python original did)
//   group churn                       one member killed, one added: nothing lost or doubled
//   a frozen (SIGSTOPped) member      cannot move the offsets when it wakes up
//   SIGTERM during an outage          exits 143 promptly, commits nothing past unwritten data
//   a rebalance during an outage      partitions assigned while the database is away are
//                                     started from the database once it is back
//   a member frozen in a transaction  must not block the new owner for ever; SIGTERM works
//   bad messages and kill -9          each position once, as an order or a dead letter
//   an unanswering database           (packets dropped, not refused): SIGTERM still works
//   a COMMIT whose reply is lost      counted in the summary; --max-messages still holds
//
// Every test has its own seeded scratch database, topic and group. The ledger
// check used throughout relies on each topic holding only distinct messages:
// then a partition's stored next_offset must equal the number of rows (orders
// plus dead letters) that came from it, and those rows must be exactly its
// offsets 0..next-1. It holds after every crash, not only at the end.
//
// FOODPIPE_CHAOS_SEED=<n> replays the random kill schedule of a failed run;
// FOODPIPE_CHAOS_VERBOSE=1 prints the log of every killed consumer.
// Database faults are injected with ALTER DATABASE ... ALLOW_CONNECTIONS,
// pg_terminate_backend and a TCP proxy in this file, never on the server as a
// whole: other tests (and people) may share it.

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "domain/generator.hpp"
#include "domain/order_json.hpp"
#include "kafka/admin.hpp"
#include "kafka/producer.hpp"
#include "kafka/reader.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int k_partitions = 3; // what `foodpipe produce` creates

kafka::ClientSettings settings() { return {test::bootstrap_servers(), {}}; }

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The JSON summary is the last non-empty line of stdout.
rapidjson::Document parse_summary(const std::string& out) {
  std::string line;
  std::istringstream lines(out);
  for (std::string next; std::getline(lines, next);) {
    if (!next.empty()) {
      line = next;
    }
  }
  rapidjson::Document doc;
  doc.Parse(line.c_str());
  EXPECT_FALSE(doc.HasParseError()) << "stdout: " << out;
  if (doc.HasParseError() || !doc.IsObject()) {
    doc.Parse("{}");
  }
  return doc;
}

std::uint64_t summary_number(const rapidjson::Document& doc, const char* key) {
  if (!doc.IsObject() || !doc.HasMember(key) || !doc[key].IsUint64()) {
    ADD_FAILURE() << "summary has no number \"" << key << "\"";
    return 0;
  }
  return doc[key].GetUint64();
}

std::string summary_string(const rapidjson::Document& doc, const char* key) {
  if (!doc.IsObject() || !doc.HasMember(key) || !doc[key].IsString()) {
    return "<missing>";
  }
  return doc[key].GetString();
}

// Runs SQL on the maintenance database (the scratch one may refuse connections).
std::string admin_sql(const std::string& query) { return test::query_value(test::admin_conninfo(), query); }

// Terminates the foodpipe backends connected to `database`; returns how many.
int terminate_foodpipe_backends(const std::string& database) {
  return std::stoi(admin_sql("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity "
                             "WHERE datname = '" + database + "' AND application_name = 'foodpipe' "
                             "AND pid <> pg_backend_pid()) t WHERE done"));
}

int foodpipe_backends(const std::string& database) {
  return std::stoi(admin_sql("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + database +
                             "' AND application_name = 'foodpipe'"));
}

// The database refuses every new connection and its foodpipe sessions are
// terminated, until lift() or the end of the scope: a failing test never leaves
// the server with a database nobody can connect to.
class DatabaseOutage {
public:
  explicit DatabaseOutage(std::string database) : m_database(std::move(database)) {
    admin_sql("ALTER DATABASE " + m_database + " ALLOW_CONNECTIONS false");
    m_active = true;
    // A connection that was being set up while the ALTER committed may still
    // get in: terminate until none is left.
    for (int round = 0; round < 50; ++round) {
      m_terminated += terminate_foodpipe_backends(m_database);
      if (foodpipe_backends(m_database) == 0) {
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
  }
  ~DatabaseOutage() {
    try {
      lift();
    } catch (const std::exception& error) {
      std::cerr << "could not restore ALLOW_CONNECTIONS on " << m_database << ": " << error.what() << '\n';
    }
  }
  DatabaseOutage(const DatabaseOutage&) = delete;
  DatabaseOutage& operator=(const DatabaseOutage&) = delete;

  void lift() {
    if (m_active) {
      admin_sql("ALTER DATABASE " + m_database + " ALLOW_CONNECTIONS true");
      m_active = false;
    }
  }
  [[nodiscard]] int terminated() const { return m_terminated; }

private:
  std::string m_database;
  bool m_active = false;
  int m_terminated = 0;
};

std::string read_text(const std::string& path) {
  std::string text;
  if (FILE* file = std::fopen(path.c_str(), "rb"); file != nullptr) {
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
      text.append(buffer, n);
    }
    std::fclose(file);
  }
  return text;
}

// The pid of this process's child whose command line contains `marker`
// (BackgroundFoodpipe does not expose it), or -1. Zombies do not count.
pid_t child_with(const std::string& marker) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) {
    return -1;
  }
  pid_t found = -1;
  while (dirent* entry = readdir(proc)) {
    const std::string name = entry->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    const std::string stat = read_text("/proc/" + name + "/stat");
    const auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) {
      continue;
    }
    std::istringstream fields(stat.substr(close_paren + 2));
    char state = '?';
    long parent = 0;
    fields >> state >> parent;
    if (parent != static_cast<long>(getpid()) || state == 'Z') {
      continue;
    }
    const std::string cmdline = read_text("/proc/" + name + "/cmdline");
    if (cmdline.find(marker) != std::string::npos) {
      found = static_cast<pid_t>(std::stol(name));
      break;
    }
  }
  closedir(proc);
  return found;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = 50ms) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (condition()) {
      return true;
    }
    if (Clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(interval);
  }
}

// Waits up to `timeout` for the child started with `marker` in its command line
// to exit (without reaping it). Right after the fork the child still carries
// this test's command line, so first wait (briefly) for it to show up.
bool wait_for_exit(const std::string& marker, std::chrono::milliseconds timeout) {
  (void)wait_until([&] { return child_with(marker) != -1; }, 5s, 10ms);
  return wait_until([&] { return child_with(marker) == -1; }, timeout, 100ms);
}

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) {
    ++n;
  }
  return n;
}

// A TCP forwarder between foodpipe and PostgreSQL that can be told to drop
// everything on the floor: the sockets stay open, nothing passes, new
// connections are accepted and then ignored. That is what a network partition
// (or a hung host) looks like to a client, as opposed to a refused connection.
// Or, once, to let a COMMIT through and lose its answer: the server commits,
// the client only sees its connection die (the outcome is unknown to it).
class BlackholeProxy {
public:
  explicit BlackholeProxy(int target_port) : m_target_port(target_port) {
    m_listen = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (m_listen < 0 || bind(m_listen, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(m_listen, 16) != 0 || getsockname(m_listen, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("cannot set up the proxy's listening socket");
    }
    m_port = ntohs(address.sin_port);
    set_nonblocking(m_listen);
    m_thread = std::thread([this] { run(); });
  }
  ~BlackholeProxy() { stop(); }
  BlackholeProxy(const BlackholeProxy&) = delete;
  BlackholeProxy& operator=(const BlackholeProxy&) = delete;

  [[nodiscard]] int port() const { return m_port; }
  void blackhole(bool on) { m_blackhole = on; }
  // The next simple-protocol COMMIT reaches the server; its reply does not
  // reach the client, and the connection is closed 300 ms later.
  void lose_next_commit_reply() { m_cut_next_commit = true; }
  [[nodiscard]] int commits_cut() const { return m_commits_cut; }
  // Closes every connection (the server then ends their sessions) and the listener.
  void stop() {
    if (m_thread.joinable()) {
      m_stop = true;
      m_thread.join();
    }
    for (auto& pipe : m_pipes) {
      close(pipe.client);
      close(pipe.server);
    }
    m_pipes.clear();
    if (m_listen >= 0) {
      close(m_listen);
      m_listen = -1;
    }
  }

private:
  struct Pipe {
    int client = -1;
    int server = -1;
    std::string to_server;
    std::string to_client;
    bool broken = false;
    bool cutting = false; // a COMMIT went through: swallow the reply, then close
    Clock::time_point cut_at{};
  };

  static void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

  // Moves what `from` has into `buffer` and as much of `buffer` as `to` takes
  // (nothing, with `discard`); `seen` gets each chunk read first.
  static bool pump(int from, int to, std::string& buffer, bool readable,
                   const std::function<void(std::string_view)>& seen = {}, bool discard = false) {
    if (readable && buffer.size() < (1U << 20U)) {
      char chunk[65536];
      const ssize_t n = read(from, chunk, sizeof chunk);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        return false;
      }
      if (n > 0 && seen) {
        seen(std::string_view(chunk, static_cast<std::size_t>(n)));
      }
      if (n > 0 && !discard) {
        buffer.append(chunk, static_cast<std::size_t>(n));
      }
    }
    if (!buffer.empty()) {
      const ssize_t n = write(to, buffer.data(), buffer.size());
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return false;
      }
      if (n > 0) {
        buffer.erase(0, static_cast<std::size_t>(n));
      }
    }
    return true;
  }

  void accept_one() {
    const int client = accept(m_listen, nullptr, nullptr);
    if (client < 0) {
      return;
    }
    const int server = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(m_target_port));
    if (server < 0 || connect(server, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      close(client);
      if (server >= 0) {
        close(server);
      }
      return;
    }
    set_nonblocking(client);
    set_nonblocking(server);
    m_pipes.push_back({client, server, {}, {}, false});
  }

  void run() {
    while (!m_stop) {
      const bool dropping = m_blackhole;
      std::vector<pollfd> fds{{m_listen, POLLIN, 0}};
      if (!dropping) {
        for (const auto& pipe : m_pipes) {
          fds.push_back({pipe.client, static_cast<short>(POLLIN | (pipe.to_client.empty() ? 0 : POLLOUT)), 0});
          fds.push_back({pipe.server, static_cast<short>(POLLIN | (pipe.to_server.empty() ? 0 : POLLOUT)), 0});
        }
      }
      if (poll(fds.data(), fds.size(), 20) < 0) {
        continue;
      }
      if ((fds[0].revents & POLLIN) != 0) {
        accept_one(); // also while dropping: the connection is made, then nothing passes
      }
      if (dropping) {
        continue;
      }
      for (std::size_t i = 0; i < m_pipes.size() && 1 + 2 * i + 1 < fds.size(); ++i) {
        auto& pipe = m_pipes[i];
        const auto client_events = fds[1 + 2 * i].revents;
        const auto server_events = fds[1 + 2 * i + 1].revents;
        const bool client_readable = (client_events & (POLLIN | POLLHUP | POLLERR)) != 0;
        const bool server_readable = (server_events & (POLLIN | POLLHUP | POLLERR)) != 0;
        const auto watch_commit = [&](std::string_view bytes) {
          // libpq's PQexec("COMMIT"): a Query message, 'Q', length 11, "COMMIT\0".
          static const std::string k_commit("Q\0\0\0\x0b" "COMMIT\0", 12);
          if (m_cut_next_commit && bytes.find(k_commit) != std::string_view::npos) {
            m_cut_next_commit = false;
            pipe.cutting = true;
            pipe.cut_at = Clock::now() + 300ms;
            ++m_commits_cut;
          }
        };
        if (!pump(pipe.client, pipe.server, pipe.to_server, client_readable, watch_commit) ||
            !pump(pipe.server, pipe.client, pipe.to_client, server_readable, {}, pipe.cutting)) {
          pipe.broken = true;
        }
        if (pipe.cutting) {
          pipe.to_client.clear();
          if (Clock::now() >= pipe.cut_at) {
            pipe.broken = true;
          }
        }
      }
      for (auto& pipe : m_pipes) {
        if (pipe.broken) {
          close(pipe.client);
          close(pipe.server);
        }
      }
      std::erase_if(m_pipes, [](const Pipe& pipe) { return pipe.broken; });
    }
  }

  int m_target_port;
  int m_listen = -1;
  int m_port = 0;
  std::atomic<bool> m_blackhole{false};
  std::atomic<bool> m_stop{false};
  std::atomic<bool> m_cut_next_commit{false};
  std::atomic<int> m_commits_cut{0};
  std::vector<Pipe> m_pipes; // the proxy thread's, until stop() has joined it
  std::thread m_thread;
};

// The seed of a test's random fault schedule: $FOODPIPE_CHAOS_SEED or a new
// one, printed (and recorded in the XML report) so that a failure can be replayed.
std::uint64_t chaos_seed() {
  std::uint64_t seed = std::random_device{}();
  if (const char* fixed = std::getenv("FOODPIPE_CHAOS_SEED"); fixed != nullptr && *fixed != '\0') {
    seed = std::stoull(fixed);
  }
  std::cout << "[ seed     ] FOODPIPE_CHAOS_SEED=" << seed << '\n';
  ::testing::Test::RecordProperty("chaos_seed", std::to_string(seed));
  return seed;
}

class ConsumeChaosTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
    m_started = Clock::now();
  }

  void TearDown() override {
    std::cout << "[ timing   ] " << ::testing::UnitTest::GetInstance()->current_test_info()->name() << ": "
              << seconds_since(m_started) << " s after seed-db\n";
  }

  // Appends `count` orders of generator seed `seed` to the topic (creating it).
  void produce(std::uint64_t count, std::uint64_t seed) {
    const auto produced = test::run_foodpipe({"produce", "--topic", m_topic, "--rate", "0", "--count",
                                              std::to_string(count), "--seed", std::to_string(seed), "--quiet"});
    ASSERT_EQ(produced.exit_code, 0) << produced.err;
  }

  // `foodpipe consume` on this test's database, topic and group, with the
  // short session timeout that lets dead members go within seconds. `name`
  // becomes the client.id, so that the process can be told apart in /proc and
  // in the broker's logs.
  std::vector<std::string> consume_args(const std::string& name, std::vector<std::string> extra) const {
    std::vector<std::string> args = {"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group,
                                     "--quiet", "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=1000",
                                     "-X", "client.id=" + m_topic + "-" + name};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  // The same, with --db going through `proxy` to this test's database.
  std::vector<std::string> consume_args_through(const BlackholeProxy& proxy, const std::string& name,
                                                std::vector<std::string> extra) const {
    auto args = consume_args(name, std::move(extra));
    const auto db = std::find(args.begin(), args.end(), "--db");
    *(db + 1) = "postgresql://postgres@127.0.0.1:" + std::to_string(proxy.port()) + "/" + m_db.name();
    return args;
  }
  // A consume through the proxy whose first COMMIT reply, once rows arrive,
  // never comes back; `result` is its run, which must end with exit 0.
  void consume_losing_a_commit_reply(const std::string& name, std::vector<std::string> extra,
                                     test::CommandResult& result) {
    BlackholeProxy proxy(5432);
    test::BackgroundFoodpipe consumer(consume_args_through(proxy, name, std::move(extra)));
    ASSERT_TRUE(wait_for_rows(30s)) << consumer.stderr_so_far();
    proxy.lose_next_commit_reply();
    result = consumer.wait(60);
    proxy.stop();
    ASSERT_EQ(proxy.commits_cut(), 1) << "the fault was not injected (the run ended first?)";
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  std::string marker(const std::string& name) const { return "client.id=" + m_topic + "-" + name; }

  std::string sql(const std::string& query) const { return test::query_value(m_db.conninfo(), query); }
  std::int64_t rows() const { return std::stoll(sql("SELECT count(*) FROM orders")); }
  std::int64_t distinct_rows() const { return std::stoll(sql("SELECT count(DISTINCT order_id) FROM orders")); }
  std::int64_t dead_letters() const { return std::stoll(sql("SELECT count(*) FROM dead_letters")); }

  std::vector<std::int64_t> watermarks() const {
    kafka::Reader reader(settings());
    std::vector<std::int64_t> highs;
    for (int p = 0; p < k_partitions; ++p) {
      highs.push_back(reader.watermarks(m_topic, p, 10s).high);
    }
    return highs;
  }
  std::int64_t log_end_total() const {
    std::int64_t total = 0;
    for (const auto high : watermarks()) {
      total += high;
    }
    return total;
  }

  // The group's stored next offsets per partition (-1: no row).
  std::vector<std::int64_t> stored_offsets() const {
    std::vector<std::int64_t> offsets(k_partitions, -1);
    const auto text = sql("SELECT string_agg(partition || ':' || next_offset, ',' ORDER BY partition) "
                          "FROM consumer_offsets WHERE group_id = '" + m_group + "' AND topic = '" + m_topic + "'");
    std::istringstream entries(text);
    for (std::string entry; std::getline(entries, entry, ',');) {
      const auto colon = entry.find(':');
      const auto partition = std::stoi(entry.substr(0, colon));
      if (partition >= 0 && partition < k_partitions) {
        offsets[static_cast<std::size_t>(partition)] = std::stoll(entry.substr(colon + 1));
      }
    }
    return offsets;
  }
  bool offsets_at_watermarks() const { return stored_offsets() == watermarks(); }
  void expect_offsets_at_watermarks() const {
    const auto stored = stored_offsets();
    const auto highs = watermarks();
    for (std::size_t p = 0; p < highs.size(); ++p) {
      EXPECT_EQ(stored[p], highs[p]) << "partition " << p << ": stored next_offset vs high watermark";
    }
  }

  // Partitions where the rows and the stored offset disagree (see the file
  // comment); "" when every partition is consistent. A dead letter accounts
  // for its position just as an order does.
  std::string ledger_mismatches() const {
    const std::string topic = "'" + m_topic + "'";
    return sql("SELECT string_agg(format('partition %s: %s rows (%s distinct offsets, %s..%s), next_offset %s', "
               "coalesce(o.p, c.p), coalesce(o.n, 0), coalesce(o.d, 0), o.lo, o.hi, c.next_offset), '; ') "
               "FROM (SELECT p, count(*) AS n, count(DISTINCT off) AS d, min(off) AS lo, max(off) AS hi "
               "      FROM (SELECT source_partition AS p, source_offset AS off FROM orders WHERE source_topic = " +
               topic + "            UNION ALL SELECT source_partition, source_offset FROM dead_letters "
               "            WHERE source_topic = " + topic + ") x GROUP BY p) o "
               "FULL JOIN (SELECT partition AS p, next_offset FROM consumer_offsets "
               "           WHERE group_id = '" + m_group + "' AND topic = " + topic + ") c ON o.p = c.p "
               "WHERE coalesce(o.n, 0) <> coalesce(c.next_offset, 0) OR coalesce(o.d, 0) <> coalesce(c.next_offset, 0) "
               "   OR (o.n > 0 AND (o.lo <> 0 OR o.hi <> c.next_offset - 1))");
  }

  // Consumers started and SIGKILLed `kills` times; after each kill the rows
  // and offsets must agree. The moments are random but tied to progress, not
  // to the clock alone, so that a fast machine cannot finish the run before
  // the kills: every third kill comes after a random 50-400 ms (start-up,
  // joining, the first assignment), the others once the member has stored a
  // random 1..3 batches' worth of new rows, plus 0-30 ms (polling, in the
  // middle of a COPY, between the write and the COMMIT). Returns how many
  // kills hit a member that had made progress while rows_or_letters() < total,
  // and prints the schedule.
  int kill_repeatedly(std::mt19937_64& random, int kills, std::int64_t batch_size, std::int64_t total) {
    // Static membership: a restarted member with the same group.instance.id
    // takes over its predecessor's partitions at once. Without it each new
    // member waits for the dead one's session to expire (6 s), and a member
    // killed sooner never gets a partition: the kills would hit idle processes.
    const auto uniform = [&random](std::int64_t low, std::int64_t high) {
      return low + static_cast<std::int64_t>(random() % static_cast<std::uint64_t>(high - low + 1));
    };
    int mid_run_kills = 0;
    std::int64_t before = rows_or_letters();
    std::string history;
    for (int kill = 1; kill <= kills; ++kill) {
      std::string name = "k"; // not "k" + std::to_string(): GCC 12 -O2 -Wrestrict false positive
      name += std::to_string(kill);
      test::BackgroundFoodpipe consumer(consume_args(
          name, {"--batch-size", std::to_string(batch_size), "-X", "group.instance.id=killed"}));
      std::string moment;
      if (kill % 3 == 0) {
        const auto delay = std::chrono::milliseconds(uniform(50, 400));
        std::this_thread::sleep_for(delay);
        moment = std::to_string(delay.count()) + "ms";
      } else {
        const std::int64_t target = std::min(total, before + uniform(1, 3 * batch_size));
        (void)wait_until([&] { return rows_or_letters() >= target; }, 30s, 2ms);
        const auto extra = std::chrono::milliseconds(uniform(0, 30));
        std::this_thread::sleep_for(extra);
        moment = std::to_string(target - before) + "rows+" + std::to_string(extra.count()) + "ms";
      }
      consumer.signal(SIGKILL);
      const auto result = consumer.wait(30);
      EXPECT_EQ(result.exit_code, 128 + SIGKILL) << "kill " << kill << " came too late: " << result.err;

      const auto now = rows_or_letters();
      if (now > before && now < total) {
        ++mid_run_kills;
      }
      history += moment + "->" + std::to_string(now) +
                 (result.err.find("partitions assigned") == std::string::npos ? "(unassigned) " : " ");
      if (std::getenv("FOODPIPE_CHAOS_VERBOSE") != nullptr) {
        std::cout << "--- kill " << kill << " stderr:\n" << result.err;
      }
      EXPECT_EQ(ledger_mismatches(), "") << "after kill " << kill << " (" << moment << ")";
      before = now;
    }
    std::cout << "[ kills    ] (moment: Nms after start, or N new rows + Nms; ->rows; (unassigned) = killed before it had partitions) " << history << '\n';
    return mid_run_kills;
  }
  std::int64_t rows_or_letters() const {
    return std::stoll(sql("SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM dead_letters)"));
  }

  // The final state every test must reach: each produced order exactly once,
  // no dead letters, offsets at the log end, rows and offsets in agreement.
  void expect_exactly(std::int64_t total) const {
    EXPECT_EQ(log_end_total(), total) << "the topic should hold what the test produced";
    EXPECT_EQ(rows(), total);
    EXPECT_EQ(distinct_rows(), total);
    EXPECT_EQ(dead_letters(), 0);
    expect_offsets_at_watermarks();
    EXPECT_EQ(ledger_mismatches(), "");
  }

  // The state of this test's foodpipe sessions, for messages.
  std::string sessions() const {
    return admin_sql("SELECT string_agg(pid || ' ' || state || coalesce(' wait ' || wait_event_type || '/' || "
                     "wait_event, '') || coalesce(' xact ' || round(extract(epoch FROM now() - xact_start)) || 's', "
                     "'') || ' (' || left(query, 50) || ')', '; ') FROM pg_stat_activity WHERE datname = '" +
                     m_db.name() + "' AND application_name = 'foodpipe'");
  }

  // SIGSTOPs `member` (the only foodpipe connected to the database) at a
  // moment when its session is, or is not, inside a write transaction that
  // waits for it: stop, look, and if the moment was wrong continue it and try again.
  // Returns false when no such moment came (or the member finished first).
  bool freeze(const test::BackgroundFoodpipe& member, bool inside_transaction, std::int64_t total) const {
    // Inside: one of its sessions is past its first write (the offset rows, or
    // the rows of a batch written beside another), so that it holds locks; a
    // transaction that only began holds nothing. Between: none of its (one or
    // two) sessions is in a transaction.
    const std::string wanted =
        inside_transaction ? "state = 'idle in transaction' AND backend_xid IS NOT NULL" : "xact_start IS NULL";
    std::mt19937 random(42);
    for (int attempt = 0; attempt < 300; ++attempt) {
      member.signal(SIGSTOP);
      std::this_thread::sleep_for(60ms); // whatever the server was executing for it completes
      const auto matching = admin_sql("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + m_db.name() +
                                      "' AND application_name = 'foodpipe' AND " + wanted);
      const auto connected = foodpipe_backends(m_db.name());
      const bool frozen_there = inside_transaction ? std::stoi(matching) >= 1
                                                   : connected >= 1 && std::stoi(matching) == connected;
      if (frozen_there && rows() < total) {
        return true;
      }
      member.signal(SIGCONT);
      std::this_thread::sleep_for(std::chrono::milliseconds(5 + random() % 40));
    }
    return false;
  }

  // A member of the group as the broker and its own log report it.
  struct Member {
    std::vector<int> partitions; // of this test's topic
    std::uint64_t assigned = 0;  // "partitions assigned" lines in its log so far
  };

  // Waits until the broker reports the group Stable with exactly these members (names as
  // given to consume_args), each owning a partition, and each member's log shows that it
  // took that last assignment (eager rebalancing: every revocation is followed by one
  // assignment, so a member is settled when it has one assignment more than revocations).
  // Returns the members by name; empty when that did not happen in time.
  using Processes = std::map<std::string, const test::BackgroundFoodpipe*>;
  std::map<std::string, Member> wait_for_group(const Processes& expected,
                                               std::chrono::milliseconds timeout) const {
    std::map<std::string, Member> members;
    const bool settled = wait_until(
        [&] {
          members.clear();
          const auto result = test::run_foodpipe({"inspect", "group", "--json", "--db", m_db.uri(), "--topic",
                                                  m_topic, "--group", m_group});
          rapidjson::Document view;
          view.Parse(result.out.c_str());
          if (result.exit_code != 0 || view.HasParseError() || !view.IsObject() || !view.HasMember("state") ||
              !view.HasMember("members") || !view["members"].IsArray() ||
              std::string(view["state"].GetString()) != "Stable" ||
              view["members"].Size() != expected.size()) {
            return false;
          }
          for (const auto& member : view["members"].GetArray()) {
            const std::string client_id = member["client_id"].GetString();
            const auto name = client_id.substr(std::min(client_id.size(), m_topic.size() + 1));
            const auto process = expected.find(name);
            if (client_id.rfind(m_topic + "-", 0) != 0 || process == expected.end() ||
                !member["assignment"].HasMember(m_topic.c_str())) {
              return false;
            }
            auto& entry = members[name];
            for (const auto& partition : member["assignment"][m_topic.c_str()].GetArray()) {
              entry.partitions.push_back(partition.GetInt());
            }
            const auto err = process->second->stderr_so_far();
            entry.assigned = count_of(err, "partitions assigned");
            if (entry.partitions.empty() || entry.assigned != count_of(err, "partitions revoked") + 1) {
              return false;
            }
          }
          return members.size() == expected.size();
        },
        timeout, 200ms);
    if (!settled) {
      members.clear();
    }
    return members;
  }

  bool wait_for_rows(std::chrono::milliseconds timeout) const {
    return wait_until([this] { return rows() > 0; }, timeout, 10ms);
  }

  test::ScratchDatabase m_db{"fpchaos"};
  std::string m_topic = test::unique_name("chaos");
  std::string m_group = test::unique_name("chaosgroup");
  Clock::time_point m_started{};
};

// 1. SIGKILL at random moments of a run: whatever the moment (polling, in the
// middle of a COPY, between the write and the COMMIT, during a rebalance),
// the database holds each message once and the offsets agree with the rows.
TEST_F(ConsumeChaosTest, KillNineAtRandomMomentsLosesAndDoublesNothing) {
  constexpr std::int64_t k_total = 100'000;
  constexpr int k_kills = 12;
  produce(k_total, 101);

  std::mt19937_64 random(chaos_seed()); // its output (unlike the distributions') is the same everywhere

  const int mid_run_kills = kill_repeatedly(random, k_kills, 2000, k_total);
  EXPECT_GE(mid_run_kills, 2) << "the kills should have hit a consumer that was making progress";

  const auto rows_before_final = rows();
  const auto final_run = test::run_foodpipe(consume_args("final", {"--until-end", "--json"}));
  ASSERT_EQ(final_run.exit_code, 0) << final_run.err;
  const auto summary = parse_summary(final_run.out);
  EXPECT_EQ(summary_number(summary, "consumed"), static_cast<std::uint64_t>(k_total - rows_before_final))
      << "the last run consumes exactly what the killed ones did not commit";
  EXPECT_EQ(summary_string(summary, "stopped_by"), "end");
  expect_exactly(k_total);
}

// 2. The consumer's database sessions are terminated under it several times:
// it reconnects, retries the batch, and the result is exact.
TEST_F(ConsumeChaosTest, TerminatedDatabaseSessionsAreRetried) {
  constexpr std::int64_t k_total = 50'000;
  produce(k_total, 102);
  test::BackgroundFoodpipe consumer(
      consume_args("terminated", {"--until-end", "--json", "--batch-size", "1000"}));
  ASSERT_TRUE(wait_for_rows(30s)) << consumer.stderr_so_far();

  int terminated = 0;
  int rounds = 0;
  for (; rounds < 40 && (rounds < 5 || terminated == 0); ++rounds) {
    terminated += terminate_foodpipe_backends(m_db.name());
    std::this_thread::sleep_for(300ms);
  }
  std::cout << "[ faults   ] " << terminated << " backends terminated in " << rounds << " rounds\n";
  ASSERT_GT(terminated, 0) << "no session was ever terminated: the fault was not injected";

  const auto result = consumer.wait(120);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto summary = parse_summary(result.out);
  std::cout << "[ summary  ] " << result.out;
  EXPECT_EQ(summary_number(summary, "consumed"), static_cast<std::uint64_t>(k_total)) << result.err;
  EXPECT_GT(summary_number(summary, "database_retries"), 0U) << "the outage should show in the summary";
  EXPECT_GT(summary_number(summary, "batches_beside"), 0U) << "two batches in flight at a time, as by default";
  EXPECT_EQ(summary_string(summary, "stopped_by"), "end");
  expect_exactly(k_total);
}

// 3. No connection at all for 5 s, longer than the first backoff steps: the
// consumer waits (it neither exits nor skips the batch) and finishes exactly.
TEST_F(ConsumeChaosTest, LongDatabaseOutagePausesAndSkipsNothing) {
  constexpr std::int64_t k_total = 40'000;
  produce(k_total, 103);
  test::BackgroundFoodpipe consumer(consume_args("outage", {"--until-end", "--json", "--batch-size", "1000"}));
  ASSERT_TRUE(wait_for_rows(30s)) << consumer.stderr_so_far();

  std::int64_t rows_at_outage = 0;
  {
    rows_at_outage = rows();
    DatabaseOutage outage(m_db.name());
    EXPECT_GT(outage.terminated(), 0) << "the consumer had no session to lose";
    std::this_thread::sleep_for(5s);
    EXPECT_NE(child_with(marker("outage")), -1) << "the consumer exited during the outage: " << consumer.stderr_so_far();
    const auto log = consumer.stderr_so_far();
    EXPECT_GE(count_of(log, "database unavailable"), 2U) << "it should be retrying with backoff: " << log;
    EXPECT_EQ(log.find("foodpipe: error"), std::string::npos) << log;
  }
  std::cout << "[ faults   ] outage began at " << rows_at_outage << " rows of " << k_total << '\n';
  EXPECT_LT(rows_at_outage, k_total) << "the outage should begin mid-stream";

  const auto result = consumer.wait(120);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto summary = parse_summary(result.out);
  std::cout << "[ summary  ] " << result.out;
  EXPECT_EQ(summary_number(summary, "consumed"), static_cast<std::uint64_t>(k_total)) << result.err;
  EXPECT_GE(summary_number(summary, "database_retries"), 2U);
  EXPECT_EQ(summary_string(summary, "stopped_by"), "end");
  EXPECT_NE(result.err.find("database is back"), std::string::npos) << result.err;
  expect_exactly(k_total);
}

// 4. A group of three loses a member to SIGKILL and gains a fourth while
// orders keep arriving: the partitions move twice, and still every order is
// stored once. The group forms on an empty topic, so that what the killed
// member committed is exactly its partition's stored offset when it died, and
// every step waits for the broker to report the group it expects.
TEST_F(ConsumeChaosTest, GroupSurvivesAMemberKilledAndOneAdded) {
  constexpr std::int64_t k_backlog = 30'000;
  constexpr std::int64_t k_total = 60'000;
  {
    kafka::Admin admin(settings());
    for (const auto& name : {m_topic, m_topic + ".dlq"}) {
      admin.create_topic(name, k_partitions, 1, {}, 10s);
    }
  }
  const std::vector<std::string> options = {"--json", "--batch-size", "500", "--batch-ms", "20"};
  test::BackgroundFoodpipe first(consume_args("m1", options));
  test::BackgroundFoodpipe doomed(consume_args("m2", options));
  test::BackgroundFoodpipe third(consume_args("m3", options));
  auto group = wait_for_group({{"m1", &first}, {"m2", &doomed}, {"m3", &third}}, 60s);
  ASSERT_EQ(group.size(), 3U) << "the three never formed a stable group: " << first.stderr_so_far();
  // How often each was assigned while the group formed: 1 to 3 times, depending on
  // the order in which the three happened to join.
  const auto formed_m1 = group["m1"].assigned;
  const auto formed_m3 = group["m3"].assigned;
  ASSERT_EQ(group["m2"].partitions.size(), 1U);
  const auto doomed_partition = static_cast<std::size_t>(group["m2"].partitions.front());

  produce(k_backlog, 104);
  // The rest arrives during the churn, slowly enough that the fourth member,
  // which joins only after the killed one's session (6 s) has expired, still
  // finds work.
  test::BackgroundFoodpipe producer({"produce", "--topic", m_topic, "--rate", "2000", "--count",
                                     std::to_string(k_total - k_backlog), "--seed", "204", "--quiet"});
  ASSERT_TRUE(wait_for_rows(30s)) << first.stderr_so_far();
  doomed.signal(SIGKILL);
  EXPECT_EQ(doomed.wait(30).exit_code, 128 + SIGKILL);
  const auto rows_at_kill = rows();
  // Its partition had no other owner since the topic was empty: what is stored for
  // it is exactly what the killed member committed.
  const auto committed_by_doomed = std::max<std::int64_t>(stored_offsets()[doomed_partition], 0);
  std::cout << "[ faults   ] member killed at " << rows_at_kill << " rows of " << k_total
            << ", having committed " << committed_by_doomed << '\n';
  EXPECT_LT(rows_at_kill, k_total) << "the kill should happen while orders are still arriving";

  // The broker drops the dead member once its session expires: one rebalance.
  group = wait_for_group({{"m1", &first}, {"m3", &third}}, 60s);
  ASSERT_EQ(group.size(), 2U) << "the two survivors never formed a stable group";
  EXPECT_EQ(group["m1"].assigned, formed_m1 + 1);
  EXPECT_EQ(group["m3"].assigned, formed_m3 + 1);

  // A new member joins: a second rebalance.
  test::BackgroundFoodpipe fourth(consume_args("m4", options));
  group = wait_for_group({{"m1", &first}, {"m3", &third}, {"m4", &fourth}}, 60s);
  ASSERT_EQ(group.size(), 3U) << "the fourth member never joined";
  EXPECT_EQ(group["m1"].assigned, formed_m1 + 2);
  EXPECT_EQ(group["m3"].assigned, formed_m3 + 2);
  EXPECT_EQ(group["m4"].assigned, 1U);
  EXPECT_LT(rows(), k_total) << "the fourth member should join while orders are still arriving";

  const auto produced = producer.wait(60);
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  const bool drained = wait_until([this] { return offsets_at_watermarks(); }, 120s, 200ms);
  EXPECT_TRUE(drained) << "stored offsets " << ::testing::PrintToString(stored_offsets()) << " never reached "
                       << ::testing::PrintToString(watermarks());

  std::uint64_t consumed_by_survivors = 0;
  const std::pair<test::BackgroundFoodpipe*, const char*> survivors[] = {
      {&first, "m1"}, {&third, "m3"}, {&fourth, "m4"}};
  for (const auto& [member, name] : survivors) {
    member->signal(SIGTERM);
  }
  for (const auto& [member, name] : survivors) {
    const auto result = member->wait(60);
    EXPECT_EQ(result.exit_code, 128 + SIGTERM) << name << ": " << result.err;
    const auto summary = parse_summary(result.out);
    std::cout << "[ summary  ] " << name << ": " << result.out;
    const auto consumed = summary_number(summary, "consumed");
    const auto rebalances = summary_number(summary, "rebalances");
    consumed_by_survivors += consumed;
    EXPECT_EQ(summary_number(summary, "applied"), consumed) << name << ": every order is new to the database";
    EXPECT_EQ(summary_number(summary, "duplicates"), 0U) << name;
    EXPECT_EQ(rebalances, count_of(result.err, "partitions assigned")) << name << ": one per assignment";
    // The assignments seen above, and at most one more: the three are stopped one after
    // another, so one that sees another leave before its own SIGTERM is handled can be
    // assigned once more.
    const std::uint64_t seen = member == &first ? formed_m1 + 2 : member == &third ? formed_m3 + 2 : 1;
    EXPECT_GE(rebalances, seen) << name;
    EXPECT_LE(rebalances, seen + 1) << name;
    if (member == &fourth) {
      // Its share depends on how far the others had got when it joined; it joined
      // while orders were still arriving on its partition.
      EXPECT_GT(consumed, 0U) << "the late member should have been given work";
    }
    EXPECT_EQ(summary_string(summary, "stopped_by"), "signal");
  }
  // Each message is committed once: by the killed member before it died, or by a
  // survivor (a summary counts only what its member committed).
  EXPECT_EQ(consumed_by_survivors, static_cast<std::uint64_t>(k_total - committed_by_doomed));
  expect_exactly(k_total);
}

// 5. A member frozen mid-stream (SIGSTOP: it still believes it owns the
// partitions) is replaced; when it wakes up it must not move the offsets back
// or store anything twice.
TEST_F(ConsumeChaosTest, FrozenMemberCannotMoveOffsetsWhenItWakesUp) {
  produce(20'000, 105);
  test::BackgroundFoodpipe frozen(consume_args("frozen", {"--json", "--batch-size", "200"}));
  ASSERT_TRUE(wait_for_rows(30s)) << frozen.stderr_so_far();
  // Between two transactions: frozen inside one, it would hold the offset
  // rows locked and the replacement could not write at all (see
  // MemberFrozenInsideItsTransactionDoesNotBlockTheGroup).
  ASSERT_TRUE(freeze(frozen, /*inside_transaction=*/false, 20'000)) << "could not freeze it mid-stream";
  const auto rows_at_freeze = rows();
  std::cout << "[ faults   ] frozen at " << rows_at_freeze << " rows; its sessions: " << sessions() << '\n';

  // The replacement gets the partitions once the frozen member's session
  // times out, and drains the topic.
  test::BackgroundFoodpipe replacement(consume_args("replacement", {"--until-end", "--json"}));
  const bool replaced_in_time = wait_for_exit(marker("replacement"), 60s);
  const auto sessions_then = sessions();
  auto replaced = replacement.wait(1);
  EXPECT_TRUE(replaced_in_time) << "the replacement did not finish while the old member was frozen; sessions: "
                                << sessions_then << "\nits log:\n" << replaced.err;
  EXPECT_EQ(replaced.exit_code, 0) << replaced.err;
  std::cout << "[ summary  ] replacement: " << replaced.out;
  const auto after_replacement = stored_offsets();
  EXPECT_EQ(after_replacement, watermarks());
  EXPECT_EQ(ledger_mismatches(), "");

  produce(5'000, 205);
  frozen.signal(SIGCONT);
  // Awake, it finds its session gone, rejoins as the only member and takes the new orders
  // (whether or not it first wrote a batch it held: that batch would be refused as stale).
  const bool caught_up = wait_until([this] { return offsets_at_watermarks(); }, 90s, 200ms);
  EXPECT_TRUE(caught_up) << "the woken member did not take the new orders: stored offsets "
                         << ::testing::PrintToString(stored_offsets()) << ", watermarks "
                         << ::testing::PrintToString(watermarks()) << "\n" << frozen.stderr_so_far();
  frozen.signal(SIGTERM);
  const auto woken = frozen.wait(60);
  EXPECT_EQ(woken.exit_code, 128 + SIGTERM) << woken.err;
  const auto summary = parse_summary(woken.out);
  std::cout << "[ summary  ] woken member: " << woken.out;
  // 1 when it had messages in hand when it was frozen and tried to write them on waking (the
  // replacement had moved the stored offsets past them), 0 when its batch was empty or the
  // revocation reached it first; never more, since nobody else writes once the replacement is
  // gone. Which of the two depends on where its poll loop was when SIGSTOP came.
  EXPECT_LE(summary_number(summary, "stale_batches"), 1U) << woken.out;
  EXPECT_EQ(summary_number(summary, "duplicates"), 0U) << "a stale batch is refused, not re-applied";

  const auto after_wake = stored_offsets();
  for (std::size_t p = 0; p < after_wake.size(); ++p) {
    EXPECT_GE(after_wake[p], after_replacement[p]) << "partition " << p << " moved backwards";
  }
  EXPECT_EQ(rows(), distinct_rows());
  EXPECT_EQ(ledger_mismatches(), "") << "after the frozen member woke up";

  const auto last = test::run_foodpipe(consume_args("last", {"--until-end", "--json"}));
  ASSERT_EQ(last.exit_code, 0) << last.err;
  EXPECT_EQ(summary_number(parse_summary(last.out), "consumed"), 0U)
      << "the woken member had taken everything";
  expect_exactly(25'000);
}

// 6. SIGTERM while the database is away: the batch in flight cannot be written,
// so it is given up (not committed, not skipped), and the process exits 0 at
// once instead of waiting for the database.
TEST_F(ConsumeChaosTest, SigtermDuringAnOutageExitsPromptlyAndCommitsNothingUnwritten) {
  constexpr std::int64_t k_total = 10'000;
  produce(k_total, 106);
  test::BackgroundFoodpipe consumer(consume_args("sigterm", {"--json", "--batch-size", "200"}));
  ASSERT_TRUE(wait_for_rows(30s)) << consumer.stderr_so_far();

  test::CommandResult result;
  double exit_seconds = 0;
  std::int64_t rows_at_outage = 0;
  {
    rows_at_outage = rows();
    DatabaseOutage outage(m_db.name());
    EXPECT_GT(outage.terminated(), 0);
    std::this_thread::sleep_for(1s);
    EXPECT_NE(child_with(marker("sigterm")), -1) << consumer.stderr_so_far();
    const auto signalled = Clock::now();
    consumer.signal(SIGTERM);
    result = consumer.wait(30);
    exit_seconds = seconds_since(signalled);
  }
  std::cout << "[ faults   ] outage began at " << rows_at_outage << " rows of " << k_total << "; exit took "
            << exit_seconds << " s\n";
  EXPECT_LT(rows_at_outage, k_total) << "the outage should begin mid-stream";
  EXPECT_EQ(result.exit_code, 128 + SIGTERM) << result.err;
  EXPECT_LT(exit_seconds, 15.0) << "SIGTERM during an outage should not wait for the database";
  const auto summary = parse_summary(result.out);
  std::cout << "[ summary  ] " << result.out;
  EXPECT_EQ(summary_string(summary, "stopped_by"), "signal");

  // What it reports is what is stored, and no offset runs ahead of its rows.
  EXPECT_EQ(ledger_mismatches(), "");
  EXPECT_EQ(static_cast<std::int64_t>(summary_number(summary, "consumed")), rows());

  const auto rest = test::run_foodpipe(consume_args("rest", {"--until-end", "--json"}));
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  expect_exactly(k_total);
}

// 7. A rebalance while the database is away: the surviving member is assigned
// partitions it cannot look up, holds them, and once the database is back
// starts each exactly where the database says (not at the log end, which
// would skip, nor at the beginning, which would only re-count duplicates).
TEST_F(ConsumeChaosTest, PartitionsAssignedDuringAnOutageStartFromTheDatabase) {
  constexpr std::int64_t k_total = 30'000;
  produce(k_total, 107);
  const std::vector<std::string> options = {"--json", "--batch-size", "300"};
  test::BackgroundFoodpipe doomed(consume_args("r1", options));
  test::BackgroundFoodpipe survivor(consume_args("r2", options));
  ASSERT_TRUE(wait_until([&] { return count_of(survivor.stderr_so_far(), "partitions assigned") > 0 &&
                                     count_of(doomed.stderr_so_far(), "partitions assigned") > 0; },
                         30s))
      << survivor.stderr_so_far();
  ASSERT_TRUE(wait_for_rows(30s));

  std::int64_t rows_at_outage = 0;
  {
    const std::string all_three = "partitions assigned partitions=3";
    const auto assigned_before = count_of(survivor.stderr_so_far(), all_three);
    rows_at_outage = rows();
    DatabaseOutage outage(m_db.name());
    doomed.signal(SIGKILL);
    EXPECT_EQ(doomed.wait(30).exit_code, 128 + SIGKILL);
    // The dead member's session expires (6 s) and the survivor gets all three.
    const bool reassigned = wait_until(
        [&] { return count_of(survivor.stderr_so_far(), all_three) > assigned_before; }, 30s, 100ms);
    EXPECT_TRUE(reassigned) << survivor.stderr_so_far();
    std::this_thread::sleep_for(1s);
  }
  std::cout << "[ faults   ] outage began at " << rows_at_outage << " rows of " << k_total << '\n';
  EXPECT_LT(rows_at_outage, k_total) << "the outage should begin mid-stream";

  const bool drained = wait_until([this] { return offsets_at_watermarks(); }, 90s, 200ms);
  EXPECT_TRUE(drained) << "stored offsets " << ::testing::PrintToString(stored_offsets()) << " never reached "
                       << ::testing::PrintToString(watermarks()) << "\n" << survivor.stderr_so_far();
  survivor.signal(SIGTERM);
  const auto result = survivor.wait(60);
  EXPECT_EQ(result.exit_code, 128 + SIGTERM) << result.err;
  std::cout << "[ summary  ] survivor: " << result.out;
  EXPECT_NE(result.err.find("resumed from the offsets in the database"), std::string::npos)
      << "the partitions assigned during the outage should have been held, then resolved: " << result.err;
  const auto summary = parse_summary(result.out);
  EXPECT_EQ(summary_number(summary, "duplicates"), 0U) << "held partitions should not restart from the beginning";
  expect_exactly(k_total);
}

// 8. A member frozen INSIDE its batch transaction (a SIGSTOP, a long GC or VM
// pause, a hung host whose TCP connection stays up) holds the offset rows
// locked. Kafka gives its partitions to another member after the session
// timeout; the database must not let the frozen transaction block the new
// owner for ever (the partition would stall with no error anywhere), and the
// blocked new owner must still obey SIGTERM.
TEST_F(ConsumeChaosTest, MemberFrozenInsideItsTransactionDoesNotBlockTheGroup) {
  constexpr std::int64_t k_total = 30'000;
  produce(k_total, 108);
  // Large batches: most of the member's time is spent inside a transaction.
  test::BackgroundFoodpipe frozen(consume_args("frozen-tx", {"--json", "--batch-size", "5000"}));
  // After its first batch: the offset rows exist and the next batch UPDATEs them.
  ASSERT_TRUE(wait_for_rows(30s)) << frozen.stderr_so_far();
  ASSERT_TRUE(freeze(frozen, /*inside_transaction=*/true, k_total)) << "could not freeze it inside a transaction";
  std::cout << "[ faults   ] frozen at " << rows() << " rows; sessions: " << sessions() << '\n';

  test::BackgroundFoodpipe replacement(consume_args("replacement-tx", {"--until-end", "--json"}));
  // A generous bound: the frozen member's session expires after 6 s.
  const bool finished = wait_for_exit(marker("replacement-tx"), 60s);
  const auto sessions_then = sessions();
  std::cout << "[ result   ] replacement finished within 60 s: " << (finished ? "yes" : "no")
            << "; sessions: " << sessions_then << '\n';
  EXPECT_TRUE(finished) << "the replacement is blocked by the frozen member's open transaction; sessions: "
                        << sessions_then << "\nreplacement log:\n" << replacement.stderr_so_far();
  if (!finished) {
    // Blocked or not, SIGTERM must end it promptly.
    const auto signalled = Clock::now();
    replacement.signal(SIGTERM);
    const bool stopped = wait_for_exit(marker("replacement-tx"), 15s);
    std::cout << "[ result   ] blocked replacement obeyed SIGTERM: "
              << (stopped ? "yes, after " + std::to_string(seconds_since(signalled)) + " s" : "no (15 s)") << '\n';
    EXPECT_TRUE(stopped) << "SIGTERM did not stop a consumer blocked in PostgreSQL; sessions: " << sessions();
  }
  const auto replaced = replacement.wait(1);
  if (finished) {
    EXPECT_EQ(replaced.exit_code, 0) << replaced.err;
  }

  // Whatever happened, no order is doubled and the offsets agree with the rows,
  // also after the frozen member is let go (it dies: its transaction ends).
  frozen.signal(SIGKILL);
  (void)frozen.wait(10);
  EXPECT_EQ(ledger_mismatches(), "");
  const auto last = test::run_foodpipe(consume_args("last-tx", {"--until-end", "--json"}));
  ASSERT_EQ(last.exit_code, 0) << last.err;
  expect_exactly(k_total);
}

// 9. Bad messages among good ones, and kill -9 at random moments: every
// position ends up exactly once as an order or as a dead letter (nothing
// skipped silently, nothing twice in the table), and each dead letter reached
// the DLQ topic at least once.
TEST_F(ConsumeChaosTest, KillNineWithBadMessagesDeadLettersEachExactlyOnce) {
  constexpr int k_messages = 80'000;
  constexpr int k_bad_every = 40;
  kafka::Admin admin(settings());
  for (const auto& name : {m_topic, m_topic + ".dlq"}) {
    admin.create_topic(name, k_partitions, 1, {}, 10s);
  }
  domain::OrderGenerator generator(109, "chaosdl");
  std::int64_t bad = 0;
  std::map<std::string, std::int64_t> expected_reasons;
  {
    std::uint64_t failed = 0;
    kafka::Producer producer(settings(), {{"enable.idempotence", "true"}, {"linger.ms", "20"}},
                             [&failed](kafka::MessageView m) { failed += !m.ok() ? 1U : 0U; });
    domain::Order previous = generator.next();
    producer.produce(m_topic, previous.customer_id, domain::encode(previous), nullptr, nullptr);
    for (int i = 1; i < k_messages; ++i) {
      if (i % k_bad_every != 7) {
        previous = generator.next();
        producer.produce(m_topic, previous.customer_id, domain::encode(previous), nullptr, nullptr);
        continue;
      }
      ++bad;
      const std::string key = "BAD-" + std::to_string(i % 11);
      switch ((i / k_bad_every) % 4) {
      case 0:
        producer.produce(m_topic, key, "{\"order_id\": \"half a message", nullptr, nullptr);
        ++expected_reasons["invalid_json"];
        break;
      case 1:
        producer.produce(m_topic, key, "[1, 2, 3]", nullptr, nullptr);
        ++expected_reasons["not_an_object"];
        break;
      case 2:
        producer.produce(m_topic, key, std::string_view(), nullptr, nullptr); // a tombstone
        ++expected_reasons["null_value"];
        break;
      default: {
        // The order just sent, again under its id and key, with other content.
        auto conflict = previous;
        conflict.status = previous.status == domain::OrderStatus::cancelled ? domain::OrderStatus::delivered
                                                                           : domain::OrderStatus::cancelled;
        producer.produce(m_topic, conflict.customer_id, domain::encode(conflict), nullptr, nullptr);
        ++expected_reasons["conflicting_duplicate"];
        break;
      }
      }
    }
    ASSERT_EQ(producer.flush(60s), 0);
    ASSERT_EQ(failed, 0U);
  }

  std::mt19937_64 random(chaos_seed());
  const int mid_run_kills = kill_repeatedly(random, 10, 500, k_messages);
  EXPECT_GE(mid_run_kills, 3) << "the kills should have hit a consumer that was making progress";

  const auto final_run = test::run_foodpipe(consume_args("final", {"--until-end", "--json"}));
  ASSERT_EQ(final_run.exit_code, 0) << final_run.err;
  std::cout << "[ summary  ] final run: " << final_run.out;

  EXPECT_EQ(log_end_total(), k_messages);
  EXPECT_EQ(rows(), k_messages - bad);
  EXPECT_EQ(dead_letters(), bad);
  for (const auto& [reason, count] : expected_reasons) {
    EXPECT_EQ(sql("SELECT count(*) FROM dead_letters WHERE reason_code = '" + reason + "'"), std::to_string(count))
        << reason;
  }
  expect_offsets_at_watermarks();
  EXPECT_EQ(ledger_mismatches(), "");

  // On the DLQ topic: at least once (a kill between its publication and the
  // COMMIT publishes again), and every dead letter of the table is there.
  kafka::Reader reader(settings());
  std::vector<kafka::PartitionRange> ranges;
  for (int p = 0; p < k_partitions; ++p) {
    const auto marks = reader.watermarks(m_topic + ".dlq", p, 10s);
    ranges.push_back({p, marks.low, marks.high});
  }
  std::map<std::pair<std::string, std::string>, int> published; // (partition, offset) -> times
  reader.read(m_topic + ".dlq", ranges, [&](kafka::MessageView m) {
    std::string partition;
    std::string offset;
    for (const auto& [name, value] : m.headers()) {
      if (name == "original-partition") {
        partition = value;
      } else if (name == "original-offset") {
        offset = value;
      }
    }
    ++published[{partition, offset}];
    return true;
  });
  std::int64_t republished = 0;
  for (const auto& [position, times] : published) {
    republished += times - 1;
  }
  std::cout << "[ result   ] " << bad << " dead letters, " << published.size() << " distinct on the DLQ topic, "
            << republished << " published again after a kill\n";
  EXPECT_EQ(static_cast<std::int64_t>(published.size()), bad);
  const auto positions = sql("SELECT string_agg(source_partition || ':' || source_offset, ',') FROM dead_letters");
  std::istringstream entries(positions);
  int missing = 0;
  for (std::string entry; std::getline(entries, entry, ',');) {
    const auto colon = entry.find(':');
    if (published.count({entry.substr(0, colon), entry.substr(colon + 1)}) == 0) {
      ++missing;
    }
  }
  EXPECT_EQ(missing, 0) << "dead letters in the table but never published to " << m_topic << ".dlq";
}

// 10. The database stops answering without refusing anything (a network
// partition, a hung host): packets are dropped, sockets stay open. The
// consumer must still obey SIGTERM promptly, and whatever it leaves behind
// must be consistent.
TEST_F(ConsumeChaosTest, SigtermWhileTheDatabaseDoesNotAnswerExitsPromptly) {
  constexpr std::int64_t k_total = 10'000;
  produce(k_total, 110);
  BlackholeProxy proxy(5432);
  const auto args = consume_args_through(proxy, "unanswered", {"--json", "--batch-size", "200"});
  test::BackgroundFoodpipe consumer(args);
  ASSERT_TRUE(wait_for_rows(30s)) << consumer.stderr_so_far();

  const auto rows_at_partition = rows();
  proxy.blackhole(true);
  std::this_thread::sleep_for(1s);
  const auto signalled = Clock::now();
  consumer.signal(SIGTERM);
  const bool stopped = wait_for_exit(marker("unanswered"), 15s);
  const auto took = seconds_since(signalled);
  const auto sessions_then = sessions();
  std::cout << "[ faults   ] partition began at " << rows_at_partition << " rows of " << k_total
            << "; SIGTERM " << (stopped ? "obeyed after " + std::to_string(took) + " s" : "NOT obeyed within 15 s")
            << "; sessions: " << sessions_then << '\n';
  EXPECT_LT(rows_at_partition, k_total) << "the partition should begin mid-stream";
  EXPECT_TRUE(stopped) << "SIGTERM did not stop a consumer waiting for an unanswering database; sessions: "
                       << sessions_then << "\nlog:\n" << consumer.stderr_so_far();
  if (!stopped) {
    // Evidence for the report: does it get out once the network heals?
    proxy.blackhole(false);
    const bool after_heal = wait_for_exit(marker("unanswered"), 15s);
    std::cout << "[ result   ] after the partition healed it " << (after_heal ? "exited" : "still did not exit")
              << '\n';
  }
  const auto result = consumer.wait(5);
  if (stopped) {
    EXPECT_EQ(result.exit_code, 128 + SIGTERM) << result.err;
  }
  proxy.stop(); // the server ends whatever sessions were left open through it

  EXPECT_TRUE(wait_until([this] { return foodpipe_backends(m_db.name()) == 0; }, 10s));
  EXPECT_EQ(ledger_mismatches(), "");
  const auto rest = test::run_foodpipe(consume_args("rest", {"--until-end", "--json"}));
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  expect_exactly(k_total);
}

// 11. The server commits a batch but the acknowledgement never arrives (the
// connection dies in between). The data is right either way (the consume job
// re-reads from the stored offsets); what it reports, and --max-messages,
// must account for the batch that did commit.
TEST_F(ConsumeChaosTest, CommitWhoseReplyIsLostIsAccountedFor) {
  constexpr std::int64_t k_total = 20'000;
  constexpr std::int64_t k_limit = 5'000;
  produce(k_total, 111);
  test::CommandResult result;
  ASSERT_NO_FATAL_FAILURE(consume_losing_a_commit_reply(
      "cut", {"--json", "--batch-size", "1000", "--max-messages", std::to_string(k_limit)}, result));
  const auto summary = parse_summary(result.out);
  std::cout << "[ summary  ] " << result.out;
  std::cout << "[ result   ] rows " << rows() << " for --max-messages " << k_limit << ", summary consumed "
            << summary_number(summary, "consumed") << '\n';
  EXPECT_NE(result.err.find("the outcome of a commit is unknown"), std::string::npos) << result.err;
  EXPECT_EQ(ledger_mismatches(), "");
  EXPECT_EQ(rows(), k_limit) << "--max-messages " << k_limit << " stored more than that; log:\n" << result.err;
  EXPECT_EQ(static_cast<std::int64_t>(summary_number(summary, "consumed")), rows())
      << "the summary should count what it committed, including the batch whose COMMIT reply was lost";
  EXPECT_EQ(summary_number(summary, "duplicates"), 0U);

  const auto rest = test::run_foodpipe(consume_args("rest", {"--until-end", "--json"}));
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  expect_exactly(k_total);
}

// The same with two batches in flight (no --max-messages): the COMMIT whose
// reply is lost is the worker's or, for a batch written beside the one
// before, the polling thread's. The batch beside it is rolled back, and the
// summary still counts each message once.
TEST_F(ConsumeChaosTest, CommitWhoseReplyIsLostWithTwoBatchesInFlightIsAccountedFor) {
  constexpr std::int64_t k_total = 20'000;
  produce(k_total, 112);
  test::CommandResult result;
  ASSERT_NO_FATAL_FAILURE(
      consume_losing_a_commit_reply("cut2", {"--json", "--batch-size", "500", "--until-end"}, result));
  const auto summary = parse_summary(result.out);
  std::cout << "[ summary  ] " << result.out;
  EXPECT_NE(result.err.find("the outcome of a commit is unknown"), std::string::npos) << result.err;
  EXPECT_GT(summary_number(summary, "batches_beside"), 0U);
  EXPECT_EQ(summary_number(summary, "consumed"), static_cast<std::uint64_t>(k_total))
      << "each message counted once, the batch whose COMMIT reply was lost included; log:\n" << result.err;
  EXPECT_EQ(summary_number(summary, "duplicates"), 0U);
  EXPECT_EQ(ledger_mismatches(), "");
  expect_exactly(k_total);
}

} // namespace
} // namespace foodpipe
