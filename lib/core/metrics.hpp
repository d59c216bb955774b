#pragma once

// A small metrics registry rendered in Prometheus' text exposition format
// (version 0.0.4): counters, gauges and histograms with fixed buckets, each
// either a single series or a family labelled by values chosen at run time.
//
//   metrics::Registry registry;
//   auto& batches = registry.counter("foodpipe_consumer_batches_total", "Batches committed.");
//   auto& lag = registry.gauge_family("foodpipe_consumer_lag", "Messages behind.", {"partition"});
//   batches.inc();
//   lag.with({"0"}).set(42);
//   std::string text = registry.render();
//
// Threading: updating a series (inc, set, observe) is a relaxed atomic
// operation, safe from any thread and cheap enough for a per-message hot path.
// Looking up or removing a labelled series takes the family's mutex, so hot
// paths keep the reference that with() returns (it stays valid until that
// series is removed). render() may run on another thread at any time; it reads
// each value once, so a scrape is consistent per series (a histogram's _count
// always equals its +Inf bucket) though not across series.
//
// Registration is not thread-safe and happens before render() is first called.
// Names are checked when registered; a bad or repeated name is a programming
// error and throws std::invalid_argument.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace foodpipe::metrics {

// A value that only goes up (messages, batches, retries).
class Counter {
public:
  void inc(std::uint64_t by = 1) noexcept { m_value.fetch_add(by, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const noexcept { return m_value.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> m_value{0};
};

// A value that goes up and down (lag, messages in flight).
class Gauge {
public:
  void set(double value) noexcept { m_value.store(value, std::memory_order_relaxed); }
  void add(double by) noexcept { m_value.fetch_add(by, std::memory_order_relaxed); }
  [[nodiscard]] double value() const noexcept { return m_value.load(std::memory_order_relaxed); }

private:
  std::atomic<double> m_value{0.0};
};

// Observations counted in fixed buckets (upper bounds, inclusive), plus their
// sum. Unlike core/histogram.hpp this one is thread-safe and coarse: it exists
// to be scraped, not to compute exact percentiles.
class Histogram {
public:
  // upper_bounds: finite, strictly increasing, at least one; +Inf is implied.
  explicit Histogram(std::vector<double> upper_bounds);

  void observe(double value) noexcept;

  struct Snapshot {
    std::vector<std::uint64_t> cumulative; // one per upper bound, then +Inf (== count)
    double sum = 0.0;
    std::uint64_t count = 0;
  };
  [[nodiscard]] Snapshot snapshot() const;
  [[nodiscard]] const std::vector<double>& upper_bounds() const noexcept { return m_bounds; }

private:
  std::vector<double> m_bounds;
  std::unique_ptr<std::atomic<std::uint64_t>[]> m_counts; // per bucket (not cumulative), +Inf last
  std::atomic<double> m_sum{0.0};
};

// Bucket bounds for durations in seconds, from 0.5 ms to 10 s.
[[nodiscard]] std::vector<double> seconds_buckets();

// A value read when the registry is rendered rather than kept up to date by
// the code it describes (the process's CPU time and memory, which the kernel
// keeps). `read` runs on the thread that renders, once per scrape.
class Sampled {
public:
  explicit Sampled(std::function<double()> read) : m_read(std::move(read)) {}
  [[nodiscard]] double value() const { return m_read(); }

private:
  std::function<double()> m_read;
};

using LabelValues = std::vector<std::string>;

// One metric name with its help text, type and label names; its series are
// created on first use of a set of label values.
class FamilyBase {
public:
  FamilyBase(std::string name, std::string help, std::string_view type, std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  [[nodiscard]] const std::string& name() const noexcept { return m_name; }
  // Appends the # HELP and # TYPE lines and every series' samples.
  void render(std::string& out) const;

protected:
  // Appends one series' samples; `labels` is the rendered label set without
  // braces ("" for none, otherwise e.g. `partition="0"`).
  virtual void render_series(std::string& out, const std::string& labels, const void* series) const = 0;
  void check_values(const LabelValues& values) const;

  mutable std::mutex m_mutex; // guards the series map of the subclass

  // Visits every series in label-value order, under the mutex.
  virtual void for_each(const std::function<void(const LabelValues&, const void*)>& visit) const = 0;

private:
  std::string m_name;
  std::string m_help;
  std::string m_type;
  std::vector<std::string> m_label_names;
};

// One series' sample lines; `labels` as in FamilyBase::render_series.
void render_samples(std::string& out, const std::string& name, const std::string& labels, const Counter& series);
void render_samples(std::string& out, const std::string& name, const std::string& labels, const Gauge& series);
void render_samples(std::string& out, const std::string& name, const std::string& labels, const Histogram& series);
void render_samples(std::string& out, const std::string& name, const std::string& labels,
                    const Sampled& series);

template <typename Series>
class Family final : public FamilyBase {
public:
  using Make = std::function<std::unique_ptr<Series>()>;
  Family(std::string name, std::string help, std::string_view type, std::vector<std::string> label_names, Make make)
      : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)), m_make(std::move(make)) {}

  // The series with these label values (one per label name), created at 0 if
  // new. The reference stays valid until remove() or clear() drops it.
  Series& with(const LabelValues& values) {
    check_values(values);
    const std::lock_guard lock(m_mutex);
    auto& slot = m_series[values];
    if (!slot) {
      slot = m_make();
    }
    return *slot;
  }
  // Stops reporting a series (e.g. a partition this consumer no longer owns).
  void remove(const LabelValues& values) {
    const std::lock_guard lock(m_mutex);
    m_series.erase(values);
  }
  // Drops every series whose label values `drop` returns true for.
  void remove_if(const std::function<bool(const LabelValues&)>& drop) {
    const std::lock_guard lock(m_mutex);
    std::erase_if(m_series, [&drop](const auto& entry) { return drop(entry.first); });
  }
  void clear() {
    const std::lock_guard lock(m_mutex);
    m_series.clear();
  }

protected:
  void render_series(std::string& out, const std::string& labels, const void* series) const override {
    render_samples(out, name(), labels, *static_cast<const Series*>(series));
  }
  void for_each(const std::function<void(const LabelValues&, const void*)>& visit) const override {
    const std::lock_guard lock(m_mutex);
    for (const auto& [values, series] : m_series) {
      visit(values, series.get());
    }
  }

private:
  Make m_make;
  std::map<LabelValues, std::unique_ptr<Series>> m_series;
};

class Registry {
public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // A family with label names; use with() to get a series.
  Family<Counter>& counter_family(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names);
  Family<Gauge>& gauge_family(const std::string& name, const std::string& help, std::vector<std::string> label_names);
  Family<Histogram>& histogram_family(const std::string& name, const std::string& help,
                                      std::vector<std::string> label_names, std::vector<double> upper_bounds);

  // A metric without labels: its only series, reported from the start.
  Counter& counter(const std::string& name, const std::string& help);
  Gauge& gauge(const std::string& name, const std::string& help);
  Histogram& histogram(const std::string& name, const std::string& help, std::vector<double> upper_bounds);

  // A metric without labels whose value `read` returns at each render(): a
  // counter (`read` must never go down, e.g. CPU seconds) or a gauge.
  void counter_function(const std::string& name, const std::string& help, std::function<double()> read);
  void gauge_function(const std::string& name, const std::string& help, std::function<double()> read);

  // Every family in registration order, in the text exposition format.
  [[nodiscard]] std::string render() const;

private:
  template <typename Series>
  Family<Series>& add(std::unique_ptr<Family<Series>> family);
  void add_sampled(const std::string& name, const std::string& help, std::string_view type,
                   std::function<double()> read);

  std::vector<std::unique_ptr<FamilyBase>> m_families;
};

// The Content-Type of render()'s output.
inline constexpr std::string_view k_content_type = "text/plain; version=0.0.4; charset=utf-8";

// Text-format helpers, exposed for tests: a label value with \, " and newline
// escaped; HELP text with \ and newline escaped; a sample value (integers
// without a fraction, shortest round-trip otherwise, +Inf, -Inf, NaN).
[[nodiscard]] std::string escape_label_value(std::string_view value);
[[nodiscard]] std::string escape_help(std::string_view help);
[[nodiscard]] std::string format_value(double value);

} // namespace foodpipe::metrics
