// --metrics-port on produce and consume against the real broker and
// PostgreSQL: the scraped counters equal the command's --json summary,
// histogram counts equal what they time, lag is reported per assigned
// partition, and the endpoint speaks HTTP properly (404, 405, HEAD, a port in
// use is an error before any work).

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <map>
#include <regex>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "domain/generator.hpp"
#include "domain/message_kind.hpp"
#include "domain/order_event_json.hpp"
#include "domain/order_json.hpp"
#include "kafka/admin.hpp"
#include "kafka/producer.hpp"
#include "kafka/reader.hpp"
#include "support/foreign_topic.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

kafka::ClientSettings settings() { return {test::bootstrap_servers(), {}}; }

using test::parse_json;

struct Reply {
  unsigned status = 0;
  std::string content_type;
  std::string allow;
  std::string content_length;
  std::string body;
};

// One request on a fresh connection, with Beast as the client.
Reply request(std::uint16_t port, http::verb method, const std::string& target) {
  net::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  http::request<http::empty_body> req(method, target, 11);
  req.set(http::field::host, "127.0.0.1");
  req.keep_alive(false);
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(16 * 1024 * 1024);
  parser.skip(method == http::verb::head);
  http::read(socket, buffer, parser);
  const auto& response = parser.get();
  Reply reply;
  reply.status = response.result_int();
  reply.content_type = std::string(response[http::field::content_type]);
  reply.allow = std::string(response[http::field::allow]);
  reply.content_length = std::string(response[http::field::content_length]);
  reply.body = response.body();
  return reply;
}

// The text exposition format, read strictly enough to catch a malformed
// line: every sample belongs to a family declared by a # TYPE line before it.
struct Exposition {
  std::map<std::string, double> samples; // `name{labels}` as written -> value
  std::map<std::string, std::string> types;

  [[nodiscard]] bool has(const std::string& key) const { return samples.count(key) != 0; }
  [[nodiscard]] double at(const std::string& key) const {
    const auto it = samples.find(key);
    if (it == samples.end()) {
      ADD_FAILURE() << "no sample " << key;
      return -1;
    }
    return it->second;
  }
  [[nodiscard]] std::uint64_t count(const std::string& key) const { return static_cast<std::uint64_t>(at(key)); }
  // Samples whose key starts with `prefix`.
  [[nodiscard]] std::map<std::string, double> with_prefix(const std::string& prefix) const {
    std::map<std::string, double> found;
    for (const auto& [key, value] : samples) {
      if (key.rfind(prefix, 0) == 0) {
        found[key] = value;
      }
    }
    return found;
  }
};

Exposition parse_exposition(const std::string& text) {
  Exposition exposition;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    EXPECT_NE(end, std::string::npos) << "the last line must end with a newline";
    if (end == std::string::npos) {
      end = text.size();
    }
    const auto line = text.substr(start, end - start);
    start = end + 1;
    if (line.rfind("# TYPE ", 0) == 0) {
      const auto rest = line.substr(7);
      const auto space = rest.find(' ');
      exposition.types[rest.substr(0, space)] = rest.substr(space + 1);
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0) {
      continue;
    }
    EXPECT_FALSE(line.empty() || line[0] == '#') << "unexpected line: " << line;
    const auto space = line.rfind(' ');
    const auto key = line.substr(0, space);
    const auto value = line.substr(space + 1);
    exposition.samples[key] = value == "+Inf" ? HUGE_VAL : std::stod(value);
    auto name = key.substr(0, key.find('{'));
    if (exposition.types.count(name) == 0) {
      for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
        if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
          name.resize(name.size() - suffix.size());
          EXPECT_EQ(exposition.types[name], "histogram") << key;
          break;
        }
      }
    }
    EXPECT_EQ(exposition.types.count(name), 1U) << "sample before its # TYPE: " << line;
  }
  return exposition;
}

Exposition scrape(std::uint16_t port) {
  const auto reply = request(port, http::verb::get, "/metrics");
  EXPECT_EQ(reply.status, 200U);
  EXPECT_EQ(reply.content_type, "text/plain; version=0.0.4; charset=utf-8");
  return parse_exposition(reply.body);
}

// Waits until the process's stderr matches `pattern` and returns the first group.
std::string wait_for_log(const test::BackgroundFoodpipe& process, const std::string& pattern,
                         std::chrono::seconds timeout) {
  const std::regex regex(pattern);
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    std::smatch match;
    const auto err = process.stderr_so_far();
    if (std::regex_search(err, match, regex)) {
      return match.size() > 1 ? match[1].str() : match[0].str();
    }
    std::this_thread::sleep_for(50ms);
  }
  ADD_FAILURE() << "no log line matching " << pattern << " within " << timeout.count() << " s; stderr:\n"
                << process.stderr_so_far();
  return {};
}

// True (with a failure naming the error) once the command has reported a fatal
// error, e.g. an unreachable broker: scraping it further would only say
// "connection refused".
bool died(const test::BackgroundFoodpipe& process) {
  const auto err = process.stderr_so_far();
  if (err.find("foodpipe: error:") == std::string::npos) {
    return false;
  }
  ADD_FAILURE() << "foodpipe failed:\n" << err;
  return true;
}

std::uint16_t wait_for_port(const test::BackgroundFoodpipe& process) {
  const auto port = wait_for_log(process, R"(serving Prometheus metrics address=127\.0\.0\.1 port=(\d+))", 30s);
  return port.empty() ? 0 : static_cast<std::uint16_t>(std::stoul(port));
}

// The histogram's buckets are cumulative, end in +Inf, and +Inf == _count.
void expect_well_formed_histogram(const Exposition& e, const std::string& name) {
  EXPECT_EQ(e.types.at(name), "histogram");
  // Cumulative in the order of the bounds (the map orders keys as text, so
  // sort them by number first).
  std::vector<std::pair<double, double>> by_bound;
  const std::regex le(R"(le="([^"]+)\")");
  for (const auto& [key, value] : e.with_prefix(name + "_bucket{")) {
    std::smatch match;
    ASSERT_TRUE(std::regex_search(key, match, le)) << key;
    by_bound.emplace_back(match[1].str() == "+Inf" ? HUGE_VAL : std::stod(match[1].str()), value);
  }
  ASSERT_GE(by_bound.size(), 2U) << name;
  std::sort(by_bound.begin(), by_bound.end());
  for (std::size_t i = 1; i < by_bound.size(); ++i) {
    EXPECT_LE(by_bound[i - 1].second, by_bound[i].second) << name << " buckets must be cumulative";
  }
  EXPECT_EQ(by_bound.back().first, HUGE_VAL) << name;
  EXPECT_EQ(by_bound.back().second, e.at(name + "_count")) << name;
  EXPECT_TRUE(e.has(name + "_sum")) << name;
}

void expect_process_metrics(const Exposition& e) {
  EXPECT_EQ(e.with_prefix("foodpipe_build_info{version=\"").size(), 1U);
  EXPECT_EQ(e.types.at("process_cpu_seconds_total"), "counter");
  EXPECT_GT(e.at("process_cpu_seconds_total"), 0);
  EXPECT_LT(e.at("process_cpu_seconds_total"), 3600);
  EXPECT_EQ(e.types.at("process_resident_memory_bytes"), "gauge");
  EXPECT_GT(e.at("process_resident_memory_bytes"), 1 << 20) << "a foodpipe with librdkafka holds megabytes";
  EXPECT_LT(e.at("process_resident_memory_bytes"), 4.0 * (1 << 30));
  EXPECT_GE(e.at("process_open_fds"), 3);
  EXPECT_LE(e.at("process_open_fds"), e.at("process_max_fds"));
  const auto now = static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  const auto started = e.at("process_start_time_seconds");
  EXPECT_LE(started, now + 1);
  EXPECT_GE(started, now - 600);
}

TEST(Metrics, ProducerCountersEqualTheSummary) {
  const auto topic = test::unique_name("metrics_produce");
  // 1000 orders at 250/s: four seconds to scrape while it runs, then it
  // lingers so the final values can be read before it exits.
  test::BackgroundFoodpipe produce({"produce", "--topic", topic, "--rate", "250", "--count", "1000", "--seed", "9",
                                    "--json", "--quiet", "--metrics-port", "0", "--metrics-linger", "60", "-X",
                                    "statistics.interval.ms=500"});
  const auto port = wait_for_port(produce);
  ASSERT_NE(port, 0);

  // While running: the counters only grow and never pass what was asked for.
  double last_delivered = 0;
  int scrapes = 0;
  while (produce.stderr_so_far().find("still serving metrics") == std::string::npos && scrapes < 400) {
    if (died(produce)) {
      return;
    }
    const auto e = scrape(port);
    const auto delivered = e.at("foodpipe_producer_messages_total{result=\"delivered\"}");
    EXPECT_GE(delivered, last_delivered);
    EXPECT_LE(delivered, 1000);
    EXPECT_GE(e.at("foodpipe_producer_in_flight"), 0);
    last_delivered = delivered;
    ++scrapes;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GE(scrapes, 5) << "the run should be slow enough to scrape while it works";
  wait_for_log(produce, "(still serving metrics)", 60s);

  const auto final_scrape = scrape(port);
  // The other paths and methods, while the server is still up.
  EXPECT_EQ(request(port, http::verb::get, "/").status, 404U);
  EXPECT_EQ(request(port, http::verb::get, "/metricsx").status, 404U);
  const auto post = request(port, http::verb::post, "/metrics");
  EXPECT_EQ(post.status, 405U);
  EXPECT_EQ(post.allow, "GET, HEAD");
  const auto head = request(port, http::verb::head, "/metrics");
  EXPECT_EQ(head.status, 200U);
  EXPECT_TRUE(head.body.empty());
  EXPECT_GT(std::stoul(head.content_length), 0U);
  EXPECT_EQ(request(port, http::verb::get, "/metrics?name[]=x").status, 200U) << "a query string is ignored";

  produce.signal(SIGTERM); // ends the linger, and a signal's end is 128 + its number
  const auto result = produce.wait(60);
  ASSERT_EQ(result.exit_code, 128 + SIGTERM) << result.err;
  const auto summary = parse_json(result.out);
  ASSERT_EQ(summary["delivered"].GetUint64(), 1000U);

  const auto& e = final_scrape;
  EXPECT_EQ(e.types.at("foodpipe_producer_messages_total"), "counter");
  EXPECT_EQ(e.count("foodpipe_producer_messages_total{result=\"delivered\"}"), summary["delivered"].GetUint64());
  EXPECT_EQ(e.count("foodpipe_producer_messages_total{result=\"failed\"}"), summary["failed"].GetUint64());
  EXPECT_EQ(e.count("foodpipe_producer_delivered_bytes_total"), summary["bytes"].GetUint64());
  EXPECT_EQ(e.count("foodpipe_producer_delivery_latency_seconds_count"), summary["delivered"].GetUint64());
  expect_well_formed_histogram(e, "foodpipe_producer_delivery_latency_seconds");
  // The mean delivery latency, from the histogram and from the summary.
  const double mean_s = e.at("foodpipe_producer_delivery_latency_seconds_sum") / 1000.0;
  EXPECT_NEAR(mean_s * 1000.0, summary["latency_ms"]["avg"].GetDouble(), 0.01);
  EXPECT_EQ(e.types.at("foodpipe_producer_in_flight"), "gauge");
  EXPECT_EQ(e.at("foodpipe_producer_in_flight"), 0);
  // librdkafka's statistics, every 0.5 s for four seconds: the one broker's
  // round-trip time, and its queue (which cannot have held more than was sent).
  EXPECT_EQ(e.types.at("foodpipe_kafka_producer_queue_messages"), "gauge");
  EXPECT_LE(e.at("foodpipe_kafka_producer_queue_messages"), 1000);
  EXPECT_GE(e.at("foodpipe_kafka_producer_queue_bytes"), 0);
  EXPECT_EQ(e.with_prefix("foodpipe_kafka_broker_rtt_avg_seconds{broker=\"").size(), 1U);
  EXPECT_GT(e.at("foodpipe_kafka_broker_rtt_avg_seconds{broker=\"1\"}"), 0);
  EXPECT_LT(e.at("foodpipe_kafka_broker_rtt_avg_seconds{broker=\"1\"}"), 10);
  EXPECT_GE(e.at("foodpipe_kafka_broker_rtt_p99_seconds{broker=\"1\"}"),
            e.at("foodpipe_kafka_broker_rtt_avg_seconds{broker=\"1\"}") / 2)
      << "p99 comes from a histogram of coarse buckets, the mean is exact";
  expect_process_metrics(e);
}

TEST(Metrics, PortInUseOrBadOptionsFailBeforeAnyWork) {
  net::io_context io;
  tcp::acceptor taken(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  const auto port = std::to_string(taken.local_endpoint().port());
  const auto topic = test::unique_name("metrics_busy");

  const auto busy = test::run_foodpipe({"produce", "--topic", topic, "--count", "5", "--metrics-port", port});
  EXPECT_EQ(busy.exit_code, 1) << busy.err;
  EXPECT_NE(busy.err.find("cannot serve metrics on 127.0.0.1:" + port), std::string::npos) << busy.err;
  EXPECT_NE(busy.err.find("--metrics-port"), std::string::npos) << busy.err;
  EXPECT_EQ(busy.err.find("generating orders"), std::string::npos) << "no work before the port is known: " << busy.err;
  EXPECT_TRUE(busy.out.empty()) << busy.out;

  const auto consume = test::run_foodpipe({"consume", "--topic", topic, "--metrics-port", port, "--idle-timeout", "1"});
  EXPECT_EQ(consume.exit_code, 1) << consume.err;
  EXPECT_NE(consume.err.find("cannot serve metrics"), std::string::npos) << consume.err;

  EXPECT_EQ(test::run_foodpipe({"produce", "--count", "1", "--metrics-port", "65536"}).exit_code, 2);
  EXPECT_EQ(test::run_foodpipe({"produce", "--count", "1", "--metrics-port", "-1"}).exit_code, 2);
  EXPECT_EQ(test::run_foodpipe({"produce", "--count", "1", "--metrics-linger", "5"}).exit_code, 2);
  EXPECT_EQ(
      test::run_foodpipe({"produce", "--count", "1", "--metrics-port", "0", "--metrics-address", "localhost"}).exit_code,
      2);
}

class ConsumerMetrics : public ::testing::Test {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
    kafka::Admin admin(settings());
    for (const auto& name : {m_topic, m_topic + ".dlq"}) {
      admin.create_topic(name, 3, 1, {}, 10s);
    }
  }

  // `orders` good orders, each sent twice (the second an exact duplicate),
  // and `garbage` unparseable messages; returns how many were sent.
  std::uint64_t publish(int orders, int garbage) {
    std::uint64_t failed = 0;
    kafka::Producer producer(settings(), {{"enable.idempotence", "true"}, {"partitioner", "murmur2_random"}},
                             [&failed](kafka::MessageView m) { failed += !m.ok() ? 1U : 0U; });
    domain::OrderGenerator generator(21, "metrics");
    std::uint64_t sent = 0;
    for (int i = 0; i < orders; ++i) {
      const auto order = generator.next();
      const auto value = domain::encode(order);
      producer.produce(m_topic, order.customer_id, value, nullptr, nullptr);
      producer.produce(m_topic, order.customer_id, value, nullptr, nullptr);
      sent += 2;
    }
    for (int i = 0; i < garbage; ++i) {
      producer.produce(m_topic, "CUST-" + std::to_string(i), "not an order {", nullptr, nullptr);
      ++sent;
    }
    EXPECT_EQ(producer.flush(30s), 0);
    EXPECT_EQ(failed, 0U);
    return sent;
  }

  test::ScratchDatabase m_db{"fpmetrics"};
  std::string m_topic = test::unique_name("metrics_consume");
  std::string m_group = test::unique_name("group");
};

TEST_F(ConsumerMetrics, CountersLagAndCommitTimesEqualTheSummary) {
  const auto total = publish(400, 7);

  // The run ends by itself (so that the metrics linger) only at one message more than was
  // published: it cannot end while the lag is being looked at, however slow the machine;
  // that last message is sent once the lag has been seen at 0.
  test::BackgroundFoodpipe consume({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group,
                                    "--batch-size", "100", "--max-messages", std::to_string(total + 1),
                                    "--json", "--quiet", "--metrics-port", "0", "--metrics-linger", "60"});
  const auto port = wait_for_port(consume);
  ASSERT_NE(port, 0);

  // While running: all messages committed, then the lag of every partition at 0.
  bool caught_up = false;
  for (int i = 0; i < 300 && !caught_up; ++i) {
    if (died(consume)) {
      return;
    }
    const auto e = scrape(port);
    const auto committed = e.at("foodpipe_consumer_messages_total{result=\"applied\"}") +
                           e.at("foodpipe_consumer_messages_total{result=\"duplicate\"}") +
                           e.at("foodpipe_consumer_messages_total{result=\"dead_letter\"}");
    EXPECT_LE(committed, static_cast<double>(total));
    const auto lag = e.with_prefix("foodpipe_consumer_lag{");
    caught_up = committed == static_cast<double>(total) && lag.size() == 3 &&
                std::all_of(lag.begin(), lag.end(), [](const auto& entry) { return entry.second == 0; });
    if (caught_up) {
      EXPECT_EQ(e.types.at("foodpipe_consumer_lag"), "gauge");
      for (const auto* partition : {"0", "1", "2"}) {
        const auto key = "foodpipe_consumer_lag{topic=\"" + m_topic + "\",group=\"" + m_group +
                         "\",partition=\"" + partition + "\"}";
        EXPECT_TRUE(e.has(key)) << key;
      }
      EXPECT_EQ(e.at("foodpipe_consumer_waiting_for_database"), 0);
    }
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(caught_up) << "expected all " << total << " messages committed and lag 0 on 3 partitions; stderr:\n"
                         << consume.stderr_so_far();

  EXPECT_EQ(publish(0, 1), 1U); // one more dead letter: the run's last message
  wait_for_log(consume, "(still serving metrics)", 60s);
  const auto e = scrape(port);
  consume.signal(SIGTERM);
  const auto result = consume.wait(60);
  ASSERT_EQ(result.exit_code, 128 + SIGTERM) << result.err;
  const auto summary = parse_json(result.out);
  ASSERT_EQ(summary["consumed"].GetUint64(), total + 1);
  ASSERT_EQ(summary["applied"].GetUint64(), 400U);
  ASSERT_EQ(summary["duplicates"].GetUint64(), 400U);
  ASSERT_EQ(summary["dead_letters"].GetUint64(), 8U);
  EXPECT_STREQ(summary["stopped_by"].GetString(), "max-messages");

  EXPECT_EQ(e.types.at("foodpipe_consumer_messages_total"), "counter");
  EXPECT_EQ(e.count("foodpipe_consumer_messages_total{result=\"applied\"}"), summary["applied"].GetUint64());
  EXPECT_EQ(e.count("foodpipe_consumer_messages_total{result=\"duplicate\"}"), summary["duplicates"].GetUint64());
  EXPECT_EQ(e.count("foodpipe_consumer_messages_total{result=\"dead_letter\"}"), summary["dead_letters"].GetUint64());
  ASSERT_TRUE(summary["dead_letters_by_reason"].HasMember("invalid_json")) << result.out;
  EXPECT_EQ(e.count("foodpipe_consumer_dead_letters_total{reason=\"invalid_json\"}"),
            summary["dead_letters_by_reason"]["invalid_json"].GetUint64());
  EXPECT_EQ(e.count("foodpipe_consumer_batches_total"), summary["batches"].GetUint64());
  EXPECT_GE(summary["batches"].GetUint64(), 8U) << "--batch-size 100";
  EXPECT_EQ(e.count("foodpipe_consumer_batch_commit_seconds_count"), summary["batches"].GetUint64());
  expect_well_formed_histogram(e, "foodpipe_consumer_batch_commit_seconds");
  EXPECT_GT(e.at("foodpipe_consumer_batch_commit_seconds_sum"), 0);
  EXPECT_EQ(e.count("foodpipe_consumer_stale_batches_total"), summary["stale_batches"].GetUint64());
  EXPECT_EQ(e.count("foodpipe_consumer_database_retries_total"), summary["database_retries"].GetUint64());
  EXPECT_EQ(e.count("foodpipe_consumer_rebalances_total"), summary["rebalances"].GetUint64());
  EXPECT_EQ(summary["rebalances"].GetUint64(), 1U) << "the only member of its group is assigned once";
  // The consumer has left the group: no partition is reported any more.
  EXPECT_TRUE(e.with_prefix("foodpipe_consumer_lag{").empty()) << "revoked partitions must not be reported";
  expect_process_metrics(e);
}

// Offsets removed by retention before the group read them are counted, as in
// the summary (and recorded in skipped_offsets, see consume_foreign_test).
TEST_F(ConsumerMetrics, OffsetsRemovedByRetentionAreCounted) {
  publish(5, 0);
  const auto first = test::run_foodpipe({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group,
                                         "--until-end", "--quiet"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto unread = publish(5, 2);
  // Kafka's own tool removes everything not read yet: the log start of every
  // partition moves to its end.
  for (int p = 0; p < 3; ++p) {
    test::delete_records(m_topic, p, test::watermarks(m_topic, p).high);
  }

  test::BackgroundFoodpipe consume({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group,
                                    "--until-end", "--json", "--quiet", "--metrics-port", "0", "--metrics-linger",
                                    "60"});
  const auto port = wait_for_port(consume);
  ASSERT_NE(port, 0);
  wait_for_log(consume, "(still serving metrics)", 60s);
  const auto e = scrape(port);
  consume.signal(SIGTERM);
  const auto result = consume.wait(60);
  const auto summary = parse_json(result.out);
  ASSERT_EQ(summary["skipped_offsets"].GetUint64(), unread) << result.err;
  EXPECT_EQ(summary["consumed"].GetUint64(), 0U);
  EXPECT_EQ(e.types.at("foodpipe_consumer_skipped_offsets_total"), "counter");
  EXPECT_EQ(e.count("foodpipe_consumer_skipped_offsets_total"), unread);
  EXPECT_EQ(e.count("foodpipe_consumer_dead_letters_truncated_total"),
            summary["dead_letters_truncated"].GetUint64());
}

// Many idle TCP connections to the metrics port while consume works: they
// used to hold a file descriptor each until the process, which shares its
// limit with librdkafka and libpq, had none left, and accept() then failed in
// a tight loop with a warning each time. Now at most 32 are kept, and only
// for 3 s without a request.

// The open file descriptors of a process, from /proc/<pid>/fd.
int open_fds(int pid) {
  std::error_code error;
  int count = 0;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", error), end;
       !error && it != end; it.increment(error)) {
    ++count;
  }
  return count;
}

// Sets the soft limit on open files; returns the one before.
rlim_t set_open_file_limit(rlim_t wanted) {
  rlimit limit{};
  EXPECT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  const auto before = limit.rlim_cur;
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0) << std::strerror(errno);
  return before;
}

// A TCP connection to 127.0.0.1:port that sends nothing; -1 (with a test
// failure) when it cannot be made within 5 s.
int idle_connection(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ADD_FAILURE() << "socket: " << std::strerror(errno);
    return -1;
  }
  timeval timeout{5, 0}; // connect() gives up after SO_SNDTIMEO
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ADD_FAILURE() << "connect: " << std::strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

// How many of `fds` the other end has closed (readable with EOF or an error).
std::size_t closed_by_peer(const std::vector<int>& fds) {
  std::vector<pollfd> polled;
  for (const int fd : fds) {
    polled.push_back({fd, POLLIN | POLLRDHUP, 0});
  }
  poll(polled.data(), polled.size(), 0);
  std::size_t closed = 0;
  for (const auto& entry : polled) {
    closed += (entry.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) != 0 ? 1U : 0U;
  }
  return closed;
}

std::size_t count_lines(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    end = end == std::string::npos ? text.size() : end;
    count += text.substr(start, end - start).find(part) != std::string::npos ? 1U : 0U;
    start = end + 1;
  }
  return count;
}

TEST_F(ConsumerMetrics, ThousandIdleConnectionsNeitherExhaustDescriptorsNorStopTheWork) {
  constexpr int k_orders = 3000;
  constexpr int k_connections = 1100;
  // The usual default limit, which 1,100 connections exceed; the children
  // inherit it, the test takes its own back for its side of the connections.
  const auto own_limit = set_open_file_limit(1024);
  test::BackgroundFoodpipe consume({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group,
                                    "--max-messages", std::to_string(k_orders), "--json", "--quiet",
                                    "--metrics-port", "0", "--metrics-linger", "60", "-X",
                                    "statistics.interval.ms=1000"});
  // 3000 orders at 200/s: fifteen seconds of work during which the connections come.
  test::BackgroundFoodpipe produce({"produce", "--topic", m_topic, "--rate", "200", "--count",
                                    std::to_string(k_orders), "--seed", "13", "--json", "--quiet"});
  set_open_file_limit(own_limit);
  const auto port = wait_for_port(consume);
  ASSERT_NE(port, 0);
  // The descriptors of a consumer at work: in the group, writing batches.
  bool working = false;
  const auto start_deadline = std::chrono::steady_clock::now() + 60s;
  while (!working && std::chrono::steady_clock::now() < start_deadline && !died(consume)) {
    const auto e = scrape(port);
    EXPECT_EQ(e.at("process_max_fds"), 1024);
    working = e.at("foodpipe_consumer_batches_total") > 0;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(working) << consume.stderr_so_far();
  const int fds_before = open_fds(consume.pid());
  ASSERT_GT(fds_before, 0);

  std::vector<int> connections;
  int most_fds = 0;
  for (int i = 0; i < k_connections; ++i) {
    const int fd = idle_connection(port);
    if (fd < 0) {
      break;
    }
    connections.push_back(fd);
    if (i % 50 == 0) {
      most_fds = std::max(most_fds, open_fds(consume.pid()));
    }
  }
  EXPECT_EQ(connections.size(), static_cast<std::size_t>(k_connections));

  // The server closes its side of every one, the client's side staying open:
  // those over the limit at once, the others once idle for 3 s.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (closed_by_peer(connections) < connections.size() && std::chrono::steady_clock::now() < deadline) {
    most_fds = std::max(most_fds, open_fds(consume.pid()));
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(closed_by_peer(connections), connections.size()) << "the server must close idle connections";
  // 32 connections and the listener over what the pipeline holds, and a
  // little room for librdkafka's own connections coming and going.
  EXPECT_LE(most_fds, fds_before + 32 + 8) << "before: " << fds_before;

  // Scrapes work again while the idle connections are still open on this
  // side, and show the lag with its topic and group while the partitions are
  // assigned, and librdkafka's round-trip time once its statistics came.
  const auto labels =
      "foodpipe_consumer_lag{topic=\"" + m_topic + "\",group=\"" + m_group + "\",partition=\"";
  bool seen = false;
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (!seen && std::chrono::steady_clock::now() < until) {
    const auto e = scrape(port);
    seen = e.with_prefix(labels).size() == 3 && e.has("foodpipe_kafka_broker_rtt_avg_seconds{broker=\"1\"}");
    if (seen) {
      EXPECT_EQ(e.types.at("foodpipe_consumer_lag"), "gauge");
      EXPECT_EQ(e.with_prefix("foodpipe_consumer_lag{").size(), 3U) << "no lag without topic and group";
      EXPECT_EQ(e.types.at("foodpipe_kafka_broker_rtt_avg_seconds"), "gauge");
      EXPECT_GT(e.at("foodpipe_kafka_broker_rtt_avg_seconds{broker=\"1\"}"), 0);
      EXPECT_TRUE(e.has("foodpipe_kafka_broker_rtt_p99_seconds{broker=\"1\"}"));
      EXPECT_EQ(e.types.at("foodpipe_kafka_consumer_fetch_queue_messages"), "gauge");
      EXPECT_GE(e.at("foodpipe_kafka_consumer_fetch_queue_messages"), 0);
      expect_process_metrics(e);
    }
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(seen) << "expected lag labelled with topic and group on 3 partitions, and a round-trip time";
  for (const int fd : connections) {
    close(fd);
  }

  const auto produced = produce.wait(120);
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  EXPECT_EQ(parse_json(produced.out)["delivered"].GetUint64(), static_cast<std::uint64_t>(k_orders));
  wait_for_log(consume, "(still serving metrics)", 120s);

  // After the work, the group left: the last round-trip time stays.
  const auto e = scrape(port);
  EXPECT_TRUE(e.with_prefix("foodpipe_consumer_lag{").empty());
  EXPECT_GT(e.at("foodpipe_kafka_broker_rtt_avg_seconds{broker=\"1\"}"), 0);
  expect_process_metrics(e);
  EXPECT_EQ(e.at("process_max_fds"), 1024);
  EXPECT_LE(e.at("process_open_fds"), fds_before + 8);

  consume.signal(SIGTERM);
  const auto result = consume.wait(60);
  ASSERT_EQ(result.exit_code, 128 + SIGTERM) << result.err;
  const auto summary = parse_json(result.out);
  EXPECT_EQ(summary["consumed"].GetUint64(), static_cast<std::uint64_t>(k_orders));
  EXPECT_EQ(summary["applied"].GetUint64(), static_cast<std::uint64_t>(k_orders));
  EXPECT_EQ(test::query_value(m_db.conninfo(), "SELECT count(*) FROM orders"), std::to_string(k_orders));

  // The limit was met and said so, without a line per connection; accept()
  // never failed.
  EXPECT_GE(count_lines(result.err, "too many open metrics connections"), 1U) << result.err;
  EXPECT_LE(count_lines(result.err, "too many open metrics connections"), 4U) << result.err;
  EXPECT_EQ(count_lines(result.err, "cannot accept"), 0U) << result.err;
  EXPECT_LE(test::problem_lines(result.err).size(), 4U) << result.err;
}

// foodpipe_consumer_events_total{status, result} over a lifecycle topic
// (issue 14): the applied series, status by status, are the rows of
// order_events; an event delivered again is counted under its status as a
// duplicate, and an event the state machine refuses as a dead letter.
TEST_F(ConsumerMetrics, EventCountersPerStatusEqualTheStoredEvents) {
  const auto produced = test::run_foodpipe({"produce", "--topic", m_topic, "--lifecycle", "--count", "60", "--rate",
                                            "0", "--time-scale", "0", "--seed", "1414", "--quiet"});
  ASSERT_EQ(produced.exit_code, 0) << produced.err;

  // The first event on partition 0, to send again as it is (a duplicate) and
  // to move its order back to pending under a new id (illegal: backwards,
  // or the status it already has, whichever it is in by then).
  kafka::Reader reader(settings());
  std::optional<domain::OrderStatusEvent> first;
  std::string first_value;
  const auto marks = reader.watermarks(m_topic, 0, 10s);
  reader.read(m_topic, {{0, marks.low, marks.high}}, [&](kafka::MessageView m) {
    if (m.header(domain::k_type_header.data()) == std::optional<std::string_view>("order_status")) {
      first_value = std::string(m.value());
      first = domain::decode_event(first_value).event();
      return false;
    }
    return true;
  });
  ASSERT_TRUE(first.has_value()) << "partition 0 should hold events";
  auto illegal = *first;
  illegal.event_id += "-again";
  illegal.status = domain::OrderStatus::pending;
  {
    std::uint64_t failed = 0;
    kafka::Producer producer(settings(), {{"enable.idempotence", "true"}, {"partitioner", "murmur2_random"}},
                             [&failed](kafka::MessageView m) { failed += !m.ok() ? 1U : 0U; });
    const auto type = domain::type_headers(domain::MessageKind::order_status);
    for (const auto& value : {first_value, domain::encode(illegal)}) {
      kafka::Headers headers;
      headers.add(domain::k_type_header, type.type).add(domain::k_schema_version_header, type.schema_version);
      producer.produce(m_topic, first->customer_id, value, &headers, nullptr);
    }
    ASSERT_EQ(producer.flush(30s), 0);
    ASSERT_EQ(failed, 0U);
  }

  test::BackgroundFoodpipe consume({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group,
                                    "--until-end", "--json", "--quiet", "--metrics-port", "0",
                                    "--metrics-linger", "60"});
  const auto port = wait_for_port(consume);
  ASSERT_NE(port, 0);
  wait_for_log(consume, "(still serving metrics)", 120s);
  const auto e = scrape(port);
  consume.signal(SIGTERM);
  const auto result = consume.wait(60);
  ASSERT_EQ(result.exit_code, 128 + SIGTERM) << result.err;
  const auto summary = parse_json(result.out);

  EXPECT_EQ(e.types.at("foodpipe_consumer_events_total"), "counter");
  const auto series = [&e](const std::string& status, const std::string& result_label) -> std::uint64_t {
    const auto key = "foodpipe_consumer_events_total{status=\"" + status + "\",result=\"" + result_label + "\"}";
    return e.has(key) ? e.count(key) : 0;
  };
  const auto sql = [this](const std::string& query) { return test::query_value(m_db.conninfo(), query); };
  std::uint64_t applied = 0;
  for (const auto* status : {"pending", "confirmed", "preparing", "out_for_delivery", "delivered", "cancelled"}) {
    const auto stored = std::stoull(sql(std::string("SELECT count(*) FROM order_events WHERE status = '") + status +
                                        "'"));
    EXPECT_EQ(series(status, "applied"), stored) << status;
    applied += series(status, "applied");
  }
  EXPECT_EQ(applied, std::stoull(sql("SELECT count(*) FROM order_events")));
  EXPECT_GE(applied, 60U) << "every generated order has at least one event";
  EXPECT_EQ(applied, summary["events_applied"].GetUint64());
  EXPECT_GE(series("delivered", "applied"), 1U) << "60 orders: most of them are delivered";

  // The copy, under its own status; the backwards one, under pending.
  const std::string first_status(domain::to_string(first->status));
  EXPECT_EQ(series(first_status, "duplicate"), 1U) << first_status;
  EXPECT_EQ(summary["event_duplicates"].GetUint64(), 1U);
  EXPECT_EQ(series("pending", "dead_letter"), 1U);
  EXPECT_EQ(series("pending", "applied"), 0U);
  EXPECT_EQ(e.count("foodpipe_consumer_dead_letters_total{reason=\"illegal_transition\"}"), 1U);
  EXPECT_EQ(summary["dead_letters"].GetUint64(), 1U);
  EXPECT_EQ(sql("SELECT reason_code FROM dead_letters"), "illegal_transition");
  // No other series: every committed event is one of these.
  std::uint64_t all = 0;
  for (const auto& [key, value] : e.with_prefix("foodpipe_consumer_events_total{")) {
    all += static_cast<std::uint64_t>(value);
  }
  EXPECT_EQ(all, applied + 2);
}

} // namespace
} // namespace foodpipe
