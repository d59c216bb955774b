#include "app/watch_screen.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string_view>
#include <vector>

#include "app/table.hpp"
#include "pipeline/vocabulary.hpp"

namespace foodpipe::app {
namespace {

using pipeline::RateGap;
using pipeline::WatchSample;

struct Style {
  bool colour = false;
  [[nodiscard]] std::string operator()(std::string_view text, Colour c) const {
    return paint(text, c, colour);
  }
};

// The width a layout has to fit: no limit counts as the full layout.
bool narrow(ScreenSize size) {
  return size.columns != 0 && size.columns < k_narrow_columns;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

// "<label>: unreachable (<why>)" on one line; when that is wider than the
// screen, the why folded at spaces onto at most three indented lines of its
// own, since the why is what the reader needs.
std::vector<std::string> away_lines(const std::string& label, const std::string& why, std::size_t columns,
                                    const Style& s) {
  const auto head = label + ": " + s("unreachable", Colour::red);
  const auto whole = head + " (" + why + ")";
  if (columns == 0 || display_width(whole) <= columns || columns <= 12) {
    return {whole};
  }
  std::vector<std::string> lines{head};
  std::istringstream words(why);
  std::string line = "  ";
  for (std::string word; words >> word;) {
    if (line.size() > 2 && display_width(line) + 1 + display_width(word) > columns) {
      if (lines.size() == 3) {
        lines.push_back(line + " ...");
        return lines;
      }
      lines.push_back(line);
      line = "  ";
    }
    line += (line.size() > 2 ? " " : "") + word;
  }
  lines.push_back(line);
  return lines;
}

std::string plural(std::int64_t n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

std::string count_and_rate(std::int64_t count, const std::optional<double>& per_s) {
  return std::to_string(count) + (per_s ? " (" + rate_text(per_s) + ")" : std::string());
}

// "HH:MM:SS" of an RFC 3339 time, for a header that has little room.
std::string clock_of(const std::string& rfc3339) {
  return rfc3339.size() >= 19 ? rfc3339.substr(11, 8) + "Z" : rfc3339;
}

// The one-line header: the totals first, so that a narrow screen keeps them.
std::string header_line(const WatchFrame& f, bool small, const Style& s) {
  const auto& sample = *f.sample;
  std::string line;
  if (f.paused) {
    line += s("PAUSED", Colour::yellow) + "  ";
  }
  if (sample.kafka_ok() && sample.topic_exists) {
    const auto lag = sample.group.total_lag;
    line += s("lag " + std::to_string(lag), lag > 0 ? Colour::yellow : Colour::green);
    line += "  in " + rate_text(f.rates->in_per_s) + "  out " + rate_text(f.rates->out_per_s);
  } else if (sample.kafka_ok()) {
    line += "lag -"; // no topic yet: nothing to be behind on
  } else {
    line += s("lag ?", Colour::red);
  }
  if (sample.database) {
    line +=
        "  orders " + count_and_rate(sample.database->orders, small ? std::nullopt : f.rates->orders_per_s);
    line += (small ? "  dl " : "  dead letters ") + std::to_string(sample.database->dead_letters());
  }
  line += "  " + clock_of(sample.taken_at);
  if (!small) {
    char every[32];
    std::snprintf(every, sizeof every, "  every %gs", f.interval_s);
    line += every;
  }
  return line;
}

std::string sparkline_line(const WatchFrame& f, ScreenSize size, const Style& s) {
  const std::size_t width = !narrow(size) ? 60 : size.columns > 36 ? size.columns - 26 : 10;
  const auto highest = f.history->highest();
  return (narrow(size) ? "lag 1m " : "lag, last minute  ") + s(f.history->sparkline(width), Colour::cyan) +
         (highest ? "  max " + std::to_string(*highest) : std::string());
}

// Where the numbers come from: the broker, the topic, the database. The
// narrow layout leaves out the names the user typed.
std::vector<std::string> service_lines(const WatchFrame& f, ScreenSize size, const Style& s) {
  const auto& sample = *f.sample;
  const bool small = narrow(size);
  std::vector<std::string> lines;
  if (!sample.kafka_ok()) {
    lines = away_lines("broker", sample.kafka_problem, size.columns, s);
  } else {
    std::string line = "broker: " + (small ? std::string("ok") : f.bootstrap_servers) + ", " +
                       plural(static_cast<std::int64_t>(sample.brokers), "broker") + "; topic " +
                       (small ? std::string() : sample.group.topic + ": ");
    line += sample.topic_exists
                ? plural(static_cast<std::int64_t>(sample.group.partitions.size()), "partition")
                : s("does not exist (yet)", Colour::yellow);
    if (f.view == pipeline::WatchView::overview) {
      line += "; " + (small ? std::string("dlq") : sample.group.topic + ".dlq") + ": " +
              (sample.dlq_messages ? plural(*sample.dlq_messages, "message") : std::string("does not exist"));
    }
    lines.push_back(line);
  }
  if (!sample.database) {
    for (auto& line : away_lines("database", sample.database_problem, size.columns, s)) {
      lines.push_back(std::move(line));
    }
    if (sample.kafka_ok()) {
      lines.emplace_back("  (the lag counts from Kafka's committed offsets meanwhile)");
    }
  } else {
    lines.push_back("database: " + (small ? std::string("ok") : sample.database_target) +
                    ", schema version " + std::to_string(sample.database->schema_version));
  }
  return lines;
}

std::string gap_or_rate(const pipeline::PartitionRates* rates, bool in) {
  if (rates == nullptr) {
    return "-";
  }
  return in ? rate_text(rates->in_per_s, rates->in_gap) : rate_text(rates->out_per_s, rates->out_gap);
}

std::string optional_number(const std::optional<std::int64_t>& value) {
  return value ? std::to_string(*value) : std::string("-");
}

// One row per partition; the narrow table keeps the position the lag counts from.
std::vector<std::string> partition_lines(const WatchFrame& f, bool small, bool colour) {
  const auto& sample = *f.sample;
  std::vector<Table::Column> columns;
  if (small) {
    columns = {{"P", Align::right},   {"END", Align::right},  {"AT", Align::right},
               {"LAG", Align::right}, {"IN/s", Align::right}, {"OUT/s", Align::right}};
  } else {
    columns = {{"PARTITION", Align::right}, {"LOG START", Align::right}, {"LOG END", Align::right},
               {"STORED", Align::right},    {"COMMITTED", Align::right}, {"LAG", Align::right},
               {"IN/s", Align::right},      {"OUT/s", Align::right}};
  }
  Table table(std::move(columns));
  for (const auto& p : sample.group.partitions) {
    const auto* rates = f.rates->find(p.partition);
    const Cell lag(std::to_string(p.lag), p.lag > 0 ? Colour::yellow : Colour::green);
    if (small) {
      table.add_row({std::to_string(p.partition), std::to_string(p.log_end),
                     optional_number(sample.lag_from_kafka ? p.committed : p.stored), lag,
                     gap_or_rate(rates, true), gap_or_rate(rates, false)});
    } else {
      table.add_row({std::to_string(p.partition), std::to_string(p.log_start), std::to_string(p.log_end),
                     optional_number(p.stored), optional_number(p.committed), lag, gap_or_rate(rates, true),
                     gap_or_rate(rates, false)});
    }
  }
  return split_lines(table.to_string(colour, "  "));
}

std::string assigned_partitions(const pipeline::GroupMember& member, const std::string& topic) {
  std::string assigned;
  for (const auto& [name, partitions] : member.assignment) {
    for (const auto partition : partitions) {
      assigned += assigned.empty() ? "" : ",";
      assigned += (name == topic ? "" : name + "/") + std::to_string(partition);
    }
  }
  return assigned.empty() ? "-" : assigned;
}

std::vector<std::string> group_lines(const WatchFrame& f, bool small, const Style& s) {
  const auto& g = f.sample->group;
  std::string head = s("group " + g.group, Colour::bold) + ": ";
  if (!f.sample->kafka_ok()) {
    return {head + "?"};
  }
  head += g.description.known ? g.description.state + ", " +
                                    plural(static_cast<std::int64_t>(g.description.members.size()), "member")
                              : std::string("unknown to the broker (no member has joined it)");
  std::vector<std::string> lines{head};
  if (small) {
    for (const auto& m : g.description.members) {
      lines.push_back("  " + m.client_id + ": " + assigned_partitions(m, g.topic));
    }
    return lines;
  }
  if (!g.description.members.empty()) {
    Table members({{"CLIENT ID", Align::left}, {"HOST", Align::left}, {"PARTITIONS", Align::left}});
    for (const auto& m : g.description.members) {
      members.add_row({m.client_id, m.client_host, assigned_partitions(m, g.topic)});
    }
    for (auto& line : split_lines(members.to_string(s.colour, "  "))) {
      lines.push_back(std::move(line));
    }
  }
  return lines;
}

std::vector<std::string> dead_letter_lines(const WatchFrame& f, bool small, const Style& s) {
  if (!f.sample->database) {
    return {};
  }
  const auto& by_reason = f.sample->database->dead_letters_by_reason;
  const auto rate_of = [&f](const std::string& reason) {
    const auto it = f.rates->dead_letters_per_reason.find(reason);
    return it == f.rates->dead_letters_per_reason.end() ? std::optional<double>() : it->second;
  };
  const auto total = f.sample->database->dead_letters();
  std::vector<std::string> lines{s("dead letters", Colour::bold) + ": " +
                                 count_and_rate(total, f.rates->dead_letters_per_s)};
  if (by_reason.empty()) {
    return lines;
  }
  if (small) {
    std::string line = " ";
    for (const auto& [reason, count] : by_reason) {
      line += " " + reason + " " + count_and_rate(count, rate_of(reason));
    }
    lines.push_back(line);
    return lines;
  }
  Table table({{"REASON", Align::left}, {"COUNT", Align::right}, {"RATE", Align::right}});
  for (const auto& [reason, count] : by_reason) {
    table.add_row({Cell(reason), Cell(std::to_string(count), count > 0 ? Colour::red : Colour::none),
                   Cell(rate_text(rate_of(reason)))});
  }
  for (auto& line : split_lines(table.to_string(s.colour, "  "))) {
    lines.push_back(std::move(line));
  }
  return lines;
}

// Everything but the keys line; the partition rows are cut to `partition_rows`
// (the table's header included), with a line counting the rest.
std::vector<std::string> body_lines(const WatchFrame& f, ScreenSize size, bool colour,
                                    std::optional<std::size_t> partition_rows) {
  const Style s{colour};
  const bool small = narrow(size);
  std::vector<std::string> lines{header_line(f, small, s), sparkline_line(f, size, s)};
  for (auto& line : service_lines(f, size, s)) {
    lines.push_back(std::move(line));
  }
  if (f.sample->kafka_ok() && f.sample->topic_exists) {
    auto rows = partition_lines(f, small, colour);
    if (partition_rows && rows.size() > *partition_rows) {
      const auto shown = std::max<std::size_t>(*partition_rows, 2) - 1;
      const auto hidden = rows.size() - shown; // data rows only: the header is among the shown
      rows.resize(shown);
      rows.push_back("  ... " + plural(static_cast<std::int64_t>(hidden), "more partition"));
    }
    lines.insert(lines.end(), rows.begin(), rows.end());
  }
  for (auto* section : {&group_lines, &dead_letter_lines}) {
    for (auto& line : section(f, small, s)) {
      lines.push_back(std::move(line));
    }
  }
  return lines;
}

std::string join(const std::vector<std::string>& lines, std::size_t columns) {
  std::string text;
  for (const auto& line : lines) {
    if (!text.empty()) {
      text += '\n';
    }
    text += fit_to_width(line, columns);
  }
  return text;
}

} // namespace

std::string rate_text(const std::optional<double>& per_s, RateGap gap) {
  if (!per_s) {
    return gap == RateGap::new_partition ? "new" : gap == RateGap::reset ? "reset" : "-";
  }
  char text[48];
  std::snprintf(text, sizeof text, *per_s < 100 ? "%.1f/s" : "%.0f/s", *per_s);
  return text;
}

std::string fit_to_width(const std::string& line, std::size_t columns) {
  if (columns == 0 || display_width(line) <= columns) {
    return line;
  }
  std::string out;
  std::size_t used = 0;
  bool painted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c == 0x1B) { // an escape: ESC [ parameters final-byte, copied whole, no width
      const auto end = line.find_first_of("ABCDEFGHJKSTfmnsu", i);
      const auto last = end == std::string::npos ? line.size() - 1 : end;
      out.append(line, i, last - i + 1);
      painted = true;
      i = last;
      continue;
    }
    if ((c & 0xC0U) != 0x80U && used++ == columns) {
      break;
    }
    out += static_cast<char>(c);
  }
  return painted ? out + "\033[0m" : out;
}

std::string render_watch_screen(const WatchFrame& frame, ScreenSize size, bool colour) {
  auto lines = body_lines(frame, size, colour, std::nullopt);
  const std::string keys = "q quit  p " + std::string(frame.paused ? "resume" : "pause");
  if (size.rows != 0) {
    const auto room = size.rows - 1; // the last row stays empty: nothing scrolls
    if (lines.size() + 1 > room) {
      const auto partitions = frame.sample->group.partitions.size() + 1;
      const auto others = lines.size() + 1 - std::min(lines.size(), partitions);
      lines = body_lines(frame, size, colour, room > others ? room - others : 1);
    }
    lines.push_back(paint(keys, Colour::dim, colour));
    if (lines.size() > room) {
      lines.resize(room);
    }
  } else {
    lines.push_back(paint(keys, Colour::dim, colour));
  }
  return join(lines, size.columns);
}

std::string render_watch_snapshot(const WatchFrame& frame) {
  std::string text =
      "--- sample " + std::to_string(frame.number) + " at " + frame.sample->taken_at + " ---\n";
  text += join(body_lines(frame, {}, false, std::nullopt), 0);
  return text + '\n';
}

} // namespace foodpipe::app
