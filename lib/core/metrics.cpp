#include "core/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace foodpipe::metrics {
namespace {

bool is_name(std::string_view name, bool allow_colon) {
  if (name.empty()) {
    return false;
  }
  const auto allowed = [allow_colon](char c, bool first) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    return letter || (!first && c >= '0' && c <= '9');
  };
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!allowed(name[i], i == 0)) {
      return false;
    }
  }
  return true;
}

// `a="x",b="y"` plus an optional extra pair (a histogram's le).
std::string label_text(const std::vector<std::string>& names, const LabelValues& values) {
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) {
      text += ',';
    }
    text += names[i];
    text += "=\"";
    text += escape_label_value(values[i]);
    text += '"';
  }
  return text;
}

void append_sample(std::string& out, std::string_view name, std::string_view labels, std::string_view value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

} // namespace

// ---------------------------------------------------------------------------

Histogram::Histogram(std::vector<double> upper_bounds) : m_bounds(std::move(upper_bounds)) {
  if (m_bounds.empty()) {
    throw std::invalid_argument("a histogram needs at least one bucket bound");
  }
  for (std::size_t i = 0; i < m_bounds.size(); ++i) {
    if (!std::isfinite(m_bounds[i]) || (i > 0 && m_bounds[i] <= m_bounds[i - 1])) {
      throw std::invalid_argument("histogram bucket bounds must be finite and strictly increasing");
    }
  }
  m_counts = std::make_unique<std::atomic<std::uint64_t>[]>(m_bounds.size() + 1);
}

void Histogram::observe(double value) noexcept {
  // Bounds are inclusive (le): the first bound >= value, or +Inf past the last.
  const auto bucket = static_cast<std::size_t>(std::lower_bound(m_bounds.begin(), m_bounds.end(), value) -
                                               m_bounds.begin());
  m_counts[bucket].fetch_add(1, std::memory_order_relaxed);
  m_sum.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  snapshot.cumulative.reserve(m_bounds.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= m_bounds.size(); ++i) {
    running += m_counts[i].load(std::memory_order_relaxed);
    snapshot.cumulative.push_back(running);
  }
  snapshot.count = running;
  snapshot.sum = m_sum.load(std::memory_order_relaxed);
  return snapshot;
}

std::vector<double> seconds_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

// ---------------------------------------------------------------------------

FamilyBase::FamilyBase(std::string name, std::string help, std::string_view type,
                       std::vector<std::string> label_names)
    : m_name(std::move(name)), m_help(std::move(help)), m_type(type), m_label_names(std::move(label_names)) {
  if (!is_name(m_name, /*allow_colon=*/true)) {
    throw std::invalid_argument("invalid metric name: " + m_name);
  }
  for (const auto& label : m_label_names) {
    if (!is_name(label, /*allow_colon=*/false) || label.rfind("__", 0) == 0 || (type == "histogram" && label == "le")) {
      throw std::invalid_argument("invalid label name " + label + " for metric " + m_name);
    }
  }
}

void FamilyBase::check_values(const LabelValues& values) const {
  if (values.size() != m_label_names.size()) {
    throw std::invalid_argument("metric " + m_name + " takes " + std::to_string(m_label_names.size()) +
                                " label values, got " + std::to_string(values.size()));
  }
}

void FamilyBase::render(std::string& out) const {
  out += "# HELP ";
  out += m_name;
  out += ' ';
  out += escape_help(m_help);
  out += "\n# TYPE ";
  out += m_name;
  out += ' ';
  out += m_type;
  out += '\n';
  for_each([&](const LabelValues& values, const void* series) {
    render_series(out, label_text(m_label_names, values), series);
  });
}

void render_samples(std::string& out, const std::string& name, const std::string& labels, const Counter& series) {
  append_sample(out, name, labels, std::to_string(series.value()));
}

void render_samples(std::string& out, const std::string& name, const std::string& labels, const Gauge& series) {
  append_sample(out, name, labels, format_value(series.value()));
}

void render_samples(std::string& out, const std::string& name, const std::string& labels, const Histogram& series) {
  const auto snapshot = series.snapshot();
  const auto& bounds = series.upper_bounds();
  const std::string bucket = name + "_bucket";
  const std::string prefix = labels.empty() ? std::string() : labels + ",";
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    const std::string le = i < bounds.size() ? format_value(bounds[i]) : std::string("+Inf");
    append_sample(out, bucket, prefix + "le=\"" + le + "\"", std::to_string(snapshot.cumulative[i]));
  }
  append_sample(out, name + "_sum", labels, format_value(snapshot.sum));
  append_sample(out, name + "_count", labels, std::to_string(snapshot.count));
}

void render_samples(std::string& out, const std::string& name, const std::string& labels,
                    const Sampled& series) {
  append_sample(out, name, labels, format_value(series.value()));
}

// ---------------------------------------------------------------------------

template <typename Series>
Family<Series>& Registry::add(std::unique_ptr<Family<Series>> family) {
  for (const auto& existing : m_families) {
    if (existing->name() == family->name()) {
      throw std::invalid_argument("metric " + family->name() + " is registered twice");
    }
  }
  auto& result = *family;
  m_families.push_back(std::move(family));
  return result;
}

Family<Counter>& Registry::counter_family(const std::string& name, const std::string& help,
                                          std::vector<std::string> label_names) {
  return add(std::make_unique<Family<Counter>>(name, help, "counter", std::move(label_names),
                                               [] { return std::make_unique<Counter>(); }));
}

Family<Gauge>& Registry::gauge_family(const std::string& name, const std::string& help,
                                      std::vector<std::string> label_names) {
  return add(std::make_unique<Family<Gauge>>(name, help, "gauge", std::move(label_names),
                                             [] { return std::make_unique<Gauge>(); }));
}

Family<Histogram>& Registry::histogram_family(const std::string& name, const std::string& help,
                                              std::vector<std::string> label_names, std::vector<double> upper_bounds) {
  (void)Histogram(upper_bounds); // reject bad bounds now rather than at the first with()
  return add(std::make_unique<Family<Histogram>>(
      name, help, "histogram", std::move(label_names),
      [bounds = std::move(upper_bounds)] { return std::make_unique<Histogram>(bounds); }));
}

Counter& Registry::counter(const std::string& name, const std::string& help) {
  return counter_family(name, help, {}).with({});
}

Gauge& Registry::gauge(const std::string& name, const std::string& help) {
  return gauge_family(name, help, {}).with({});
}

Histogram& Registry::histogram(const std::string& name, const std::string& help, std::vector<double> upper_bounds) {
  return histogram_family(name, help, {}, std::move(upper_bounds)).with({});
}

// A family of one series, made at once: it is reported from the start.
void Registry::add_sampled(const std::string& name, const std::string& help, std::string_view type,
                           std::function<double()> read) {
  auto make = [read = std::move(read)] { return std::make_unique<Sampled>(read); };
  (void)add(std::make_unique<Family<Sampled>>(name, help, type, std::vector<std::string>{}, std::move(make)))
      .with({});
}

void Registry::counter_function(const std::string& name, const std::string& help,
                                std::function<double()> read) {
  add_sampled(name, help, "counter", std::move(read));
}

void Registry::gauge_function(const std::string& name, const std::string& help, std::function<double()> read) {
  add_sampled(name, help, "gauge", std::move(read));
}

std::string Registry::render() const {
  std::string out;
  for (const auto& family : m_families) {
    family->render(out);
  }
  return out;
}

// ---------------------------------------------------------------------------

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    switch (c) {
    case '\\': out += "\\\\"; break;
    case '"': out += "\\\""; break;
    case '\n': out += "\\n"; break;
    default: out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (const char c : help) {
    switch (c) {
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    default: out += c;
    }
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  // Shortest text that reads back as the same double; whole numbers print
  // without a fraction or exponent up to 2^53, where doubles stop being exact.
  char text[32];
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) {
    const auto whole = static_cast<std::int64_t>(value);
    const auto [end, error] = std::to_chars(text, text + sizeof text, whole);
    (void)error;
    return std::string(text, end);
  }
  // Plain decimals for the usual magnitudes (le="0.0005", not "5e-04").
  const double magnitude = std::fabs(value);
  const auto format = magnitude >= 1e-6 && magnitude < 1e15 ? std::chars_format::fixed : std::chars_format::general;
  char wide[64];
  const auto [end, error] = std::to_chars(wide, wide + sizeof wide, value, format);
  (void)error;
  return std::string(wide, end);
}

} // namespace foodpipe::metrics
