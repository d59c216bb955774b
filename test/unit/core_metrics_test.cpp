// The metrics registry: exact text exposition output, escaping, histogram
// buckets, labelled series coming and going, updates from several threads.

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/metrics.hpp"

namespace foodpipe::metrics {
namespace {

TEST(MetricsTest, RendersCountersAndGaugesExactly) {
  Registry registry;
  auto& messages = registry.counter_family("foodpipe_consumer_messages_total", "Messages committed, by outcome.",
                                           {"result"});
  auto& batches = registry.counter("foodpipe_consumer_batches_total", "Batches committed.");
  auto& in_flight = registry.gauge("foodpipe_producer_in_flight", "Messages awaiting a delivery report.");
  messages.with({"applied"}).inc(40);
  messages.with({"duplicate"}).inc();
  messages.with({"dead_letter"}).inc(2);
  batches.inc(3);
  in_flight.add(5);
  in_flight.add(-2);

  EXPECT_EQ(registry.render(),
            "# HELP foodpipe_consumer_messages_total Messages committed, by outcome.\n"
            "# TYPE foodpipe_consumer_messages_total counter\n"
            "foodpipe_consumer_messages_total{result=\"applied\"} 40\n"
            "foodpipe_consumer_messages_total{result=\"dead_letter\"} 2\n"
            "foodpipe_consumer_messages_total{result=\"duplicate\"} 1\n"
            "# HELP foodpipe_consumer_batches_total Batches committed.\n"
            "# TYPE foodpipe_consumer_batches_total counter\n"
            "foodpipe_consumer_batches_total 3\n"
            "# HELP foodpipe_producer_in_flight Messages awaiting a delivery report.\n"
            "# TYPE foodpipe_producer_in_flight gauge\n"
            "foodpipe_producer_in_flight 3\n");
}

TEST(MetricsTest, SampledMetricsAreReadAtEachRender) {
  Registry registry;
  double cpu = 0.25;
  int reads = 0;
  registry.counter_function("process_cpu_seconds_total", "CPU time.", [&] {
    ++reads;
    return cpu;
  });
  registry.gauge_function("process_resident_memory_bytes", "Resident memory.", [] { return 4096.0; });
  EXPECT_EQ(reads, 0) << "nothing is read before a scrape";

  const std::string tail = "# HELP process_resident_memory_bytes Resident memory.\n"
                           "# TYPE process_resident_memory_bytes gauge\n"
                           "process_resident_memory_bytes 4096\n";
  EXPECT_EQ(registry.render(), "# HELP process_cpu_seconds_total CPU time.\n"
                               "# TYPE process_cpu_seconds_total counter\n"
                               "process_cpu_seconds_total 0.25\n" +
                                   tail);
  cpu = 1.5;
  EXPECT_EQ(registry.render(), "# HELP process_cpu_seconds_total CPU time.\n"
                               "# TYPE process_cpu_seconds_total counter\n"
                               "process_cpu_seconds_total 1.5\n" +
                                   tail);
  EXPECT_EQ(reads, 2);
  EXPECT_THROW(registry.gauge_function("process_cpu_seconds_total", "again", [] { return 0.0; }),
               std::invalid_argument);
}

TEST(MetricsTest, AFamilyWithNoSeriesYetStillDeclaresItself) {
  Registry registry;
  (void)registry.gauge_family("foodpipe_consumer_lag", "Messages behind.", {"partition"});
  EXPECT_EQ(registry.render(), "# HELP foodpipe_consumer_lag Messages behind.\n"
                               "# TYPE foodpipe_consumer_lag gauge\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry registry;
  auto& latency = registry.histogram("foodpipe_producer_delivery_latency_seconds", "Enqueue to delivery report.",
                                     {0.01, 0.1, 1});
  latency.observe(0.005);
  latency.observe(0.01); // a bound is inclusive: counts in le="0.01"
  latency.observe(0.5);
  latency.observe(7);

  EXPECT_EQ(registry.render(),
            "# HELP foodpipe_producer_delivery_latency_seconds Enqueue to delivery report.\n"
            "# TYPE foodpipe_producer_delivery_latency_seconds histogram\n"
            "foodpipe_producer_delivery_latency_seconds_bucket{le=\"0.01\"} 2\n"
            "foodpipe_producer_delivery_latency_seconds_bucket{le=\"0.1\"} 2\n"
            "foodpipe_producer_delivery_latency_seconds_bucket{le=\"1\"} 3\n"
            "foodpipe_producer_delivery_latency_seconds_bucket{le=\"+Inf\"} 4\n"
            "foodpipe_producer_delivery_latency_seconds_sum 7.515\n"
            "foodpipe_producer_delivery_latency_seconds_count 4\n");
}

TEST(MetricsTest, LabelledHistogramPutsLeLast) {
  Registry registry;
  auto& family = registry.histogram_family("commit_seconds", "Commit time.", {"db"}, {0.5});
  family.with({"main"}).observe(0.25);
  EXPECT_EQ(registry.render(), "# HELP commit_seconds Commit time.\n"
                               "# TYPE commit_seconds histogram\n"
                               "commit_seconds_bucket{db=\"main\",le=\"0.5\"} 1\n"
                               "commit_seconds_bucket{db=\"main\",le=\"+Inf\"} 1\n"
                               "commit_seconds_sum{db=\"main\"} 0.25\n"
                               "commit_seconds_count{db=\"main\"} 1\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  Registry registry;
  auto& info = registry.gauge_family("foodpipe_build_info", "Build.\\ One line\nanother \"quoted\"",
                                     {"version", "note"});
  info.with({"1.0", "a \"b\" c\\d\ne"}).set(1);
  EXPECT_EQ(registry.render(), "# HELP foodpipe_build_info Build.\\\\ One line\\nanother \"quoted\"\n"
                               "# TYPE foodpipe_build_info gauge\n"
                               "foodpipe_build_info{version=\"1.0\",note=\"a \\\"b\\\" c\\\\d\\ne\"} 1\n");
  EXPECT_EQ(escape_label_value("plain"), "plain");
  EXPECT_EQ(escape_help("say \"hi\""), "say \"hi\"");
}

TEST(MetricsTest, FormatsValues) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(-3), "-3");
  EXPECT_EQ(format_value(1764633600), "1764633600");
  EXPECT_EQ(format_value(0.0005), "0.0005");
  EXPECT_EQ(format_value(2.5), "2.5");
  EXPECT_EQ(format_value(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(format_value(1.5e-7), "1.5e-07");
  EXPECT_EQ(format_value(123456.789), "123456.789");
  EXPECT_EQ(format_value(1e300), "1e+300");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
}

TEST(MetricsTest, RemovedSeriesAreNoLongerReported) {
  Registry registry;
  auto& lag = registry.gauge_family("lag", "Behind.", {"partition"});
  lag.with({"0"}).set(10);
  lag.with({"1"}).set(20);
  lag.with({"2"}).set(0);
  lag.remove({"1"});
  EXPECT_EQ(registry.render(), "# HELP lag Behind.\n"
                               "# TYPE lag gauge\n"
                               "lag{partition=\"0\"} 10\n"
                               "lag{partition=\"2\"} 0\n");
  lag.with({"5"}).set(1);
  lag.remove_if([](const LabelValues& values) { return values[0] != "2"; });
  EXPECT_EQ(registry.render(), "# HELP lag Behind.\n"
                               "# TYPE lag gauge\n"
                               "lag{partition=\"2\"} 0\n");
  lag.clear();
  EXPECT_EQ(registry.render(), "# HELP lag Behind.\n# TYPE lag gauge\n");
}

TEST(MetricsTest, RejectsBadNamesRepeatsAndLabelCounts) {
  Registry registry;
  EXPECT_THROW((void)registry.counter("2bad", "x"), std::invalid_argument);
  EXPECT_THROW((void)registry.counter("bad-name", "x"), std::invalid_argument);
  EXPECT_THROW((void)registry.counter_family("ok_total", "x", {"bad label"}), std::invalid_argument);
  EXPECT_THROW((void)registry.histogram_family("h", "x", {"le"}, {1}), std::invalid_argument);
  EXPECT_THROW((void)registry.histogram("h2", "x", {1, 1}), std::invalid_argument);
  EXPECT_THROW((void)registry.histogram("h3", "x", {}), std::invalid_argument);
  auto& family = registry.counter_family("twice_total", "x", {"a"});
  EXPECT_THROW((void)registry.counter("twice_total", "x"), std::invalid_argument);
  EXPECT_THROW((void)family.with({"a", "b"}), std::invalid_argument);
  EXPECT_NO_THROW((void)registry.counter("name:with_colon_total", "x"));
}

TEST(MetricsTest, ConcurrentUpdatesAreAllCounted) {
  Registry registry;
  auto& counter = registry.counter("c_total", "x");
  auto& gauge = registry.gauge("g", "x");
  auto& histogram = registry.histogram("h", "x", {1});
  constexpr int k_threads = 4;
  constexpr int k_each = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < k_each; ++i) {
        counter.inc();
        gauge.add(1);
        histogram.observe(i % 2 == 0 ? 0.5 : 2.0);
      }
    });
  }
  // Scrapes while the writers run: every snapshot is internally consistent.
  for (int i = 0; i < 50; ++i) {
    const auto snapshot = histogram.snapshot();
    EXPECT_EQ(snapshot.cumulative.back(), snapshot.count);
    EXPECT_LE(snapshot.cumulative[0], snapshot.cumulative[1]);
  }
  for (auto& thread : threads) {
    thread.join();
  }
  const auto total = static_cast<std::uint64_t>(k_threads) * k_each;
  EXPECT_EQ(counter.value(), total);
  EXPECT_EQ(gauge.value(), static_cast<double>(total));
  const auto snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.count, total);
  EXPECT_EQ(snapshot.cumulative[0], total / 2);
  EXPECT_DOUBLE_EQ(snapshot.sum, 0.5 * static_cast<double>(total / 2) + 2.0 * static_cast<double>(total / 2));
}

} // namespace
} // namespace foodpipe::metrics
