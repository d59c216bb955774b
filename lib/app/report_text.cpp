#include "app/report_text.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/progress.hpp"
#include "app/table.hpp"
#include "pipeline/consume.hpp"
#include "pipeline/doctor.hpp"
#include "pipeline/inspect.hpp"
#include "pipeline/offsets.hpp"
#include "pipeline/produce.hpp"
#include "pipeline/replay.hpp"
#include "pipeline/seed_db.hpp"
#include "pipeline/verify.hpp"
#include "pipeline/vocabulary.hpp"

namespace foodpipe::app {
namespace {

// ---------------------------------------------------------------------------
// Bytes from Kafka and bytea are not always UTF-8, and terminals need it
// (pipeline::replace_invalid_utf8).

// One line for a table cell: control characters escaped, cut to `max_chars`.
std::string one_line(std::string_view bytes, std::size_t max_chars) {
  const auto text = pipeline::replace_invalid_utf8(bytes);
  std::string out;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0U) != 0x80U) {
      if (chars == max_chars) {
        out += "...";
        return out;
      }
      ++chars;
    }
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20U || c == 0x7FU) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string retention_text(const std::optional<std::int64_t>& ms) {
  if (!ms) {
    return "?";
  }
  if (*ms < 0) {
    return "forever";
  }
  const std::int64_t hour = 3'600'000;
  if (*ms % (24 * hour) == 0) {
    return std::to_string(*ms / (24 * hour)) + "d";
  }
  if (*ms % hour == 0) {
    return std::to_string(*ms / hour) + "h";
  }
  if (*ms % 1000 == 0) {
    return std::to_string(*ms / 1000) + "s";
  }
  return std::to_string(*ms) + "ms";
}

std::string optional_number(const std::optional<std::int64_t>& value) {
  return value ? std::to_string(*value) : std::string("-");
}

std::string plural(std::int64_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// ---------------------------------------------------------------------------
// Pieces of the inspect views.

struct Style {
  bool colour = false;
  [[nodiscard]] std::string operator()(std::string_view text, Colour c) const { return paint(text, c, colour); }
};

std::string id_list(const std::vector<std::int32_t>& ids) {
  std::string text;
  for (const auto id : ids) {
    if (!text.empty()) {
      text += ',';
    }
    text += std::to_string(id);
  }
  return text;
}

void print_brokers(const pipeline::TopicView& v, const Style& style, std::ostream& out) {
  out << style("brokers", Colour::bold) << " of cluster " << v.cluster_id << " (bootstrap " << v.bootstrap_servers
      << ")\n";
  Table table({{"ID", Align::right}, {"ADDRESS", Align::left}, {"ROLE", Align::left}});
  for (const auto& b : v.brokers) {
    table.add_row({std::to_string(b.id), b.host + ":" + std::to_string(b.port),
                   b.id == v.controller_id ? "controller" : ""});
  }
  table.print(out, style.colour, "  ");
  if (!v.missing_brokers.empty()) {
    const bool one = v.missing_brokers.size() == 1;
    out << "  " << style("! ", Colour::red) << (one ? "broker " : "brokers ") << id_list(v.missing_brokers)
        << (one ? " holds replicas below but is" : " hold replicas below but are")
        << " not in the cluster's metadata: down or fenced\n";
  }
}

// The STATUS column: the worst of offline, below min ISR, under-replicated;
// "at min ISR" only beside under-replicated (a topic whose every replica is
// in sync, with min.insync.replicas equal to its replication factor, is a
// choice doctor speaks of, not a failure).
Cell partition_status(const pipeline::TopicState& t, const pipeline::PartitionState& p) {
  if (p.offline()) {
    return {"offline", Colour::red};
  }
  if (t.below_min_insync(p)) {
    return {"below min ISR", Colour::red};
  }
  if (p.under_replicated()) {
    return {t.at_min_insync(p) ? "under-replicated, at min ISR" : "under-replicated", Colour::yellow};
  }
  return {"ok", Colour::none};
}

// One note per kind of trouble, naming the partitions and what it means.
void print_replication_notes(const pipeline::TopicState& t, const Style& style, std::ostream& out) {
  std::vector<std::int32_t> offline;
  std::vector<std::int32_t> below;
  std::vector<std::int32_t> at_min;
  std::vector<std::int32_t> under;
  std::vector<std::int32_t> unknown;
  std::vector<std::int32_t> missing; // replicas out of the ISR, over all partitions
  for (const auto& p : t.partitions) {
    if (p.offline()) {
      offline.push_back(p.partition);
    } else if (t.below_min_insync(p)) {
      below.push_back(p.partition);
    } else if (p.under_replicated() && t.at_min_insync(p)) {
      at_min.push_back(p.partition);
    }
    if (p.under_replicated()) {
      under.push_back(p.partition);
      for (const auto replica : p.replicas) {
        const auto& isr = p.in_sync_replicas;
        if (std::find(isr.begin(), isr.end(), replica) == isr.end() &&
            std::find(missing.begin(), missing.end(), replica) == missing.end()) {
          missing.push_back(replica);
        }
      }
    }
    if (!p.offsets_known && !p.offline()) {
      unknown.push_back(p.partition);
    }
  }
  std::sort(missing.begin(), missing.end());
  const auto note = [&](const std::vector<std::int32_t>& partitions, const std::string& text, Colour colour) {
    if (!partitions.empty()) {
      out << "  " << style("! ", colour) << (partitions.size() == 1 ? "partition " : "partitions ")
          << id_list(partitions) << ": " << text << '\n';
    }
  };
  note(offline, "offline (no leader): no reads or writes until a broker holding a replica returns",
       Colour::red);
  note(under,
       "under-replicated (ISR smaller than replicas; broker" + std::string(missing.size() == 1 ? " " : "s ") +
           id_list(missing) + " not in sync): Kafka refills the ISR once the broker is back and caught up",
       Colour::yellow);
  if (t.min_insync_replicas) {
    const auto min = std::to_string(*t.min_insync_replicas);
    note(below,
         "fewer in sync than min.insync.replicas " + min + ": acks=all writes are refused (NOT_ENOUGH_REPLICAS)",
         Colour::red);
    note(at_min,
         "exactly min.insync.replicas " + min + " in sync: one more broker lost and acks=all writes stop",
         Colour::yellow);
  }
  note(unknown,
       "offsets unknown: the leader did not answer (a broker that just went away; ask again in a few seconds)",
       Colour::yellow);
}

void print_topic_state(const pipeline::TopicState& t, const Style& style, std::ostream& out) {
  out << '\n' << style("topic " + t.name, Colour::bold);
  if (!t.exists) {
    out << "  " << style("does not exist", Colour::yellow) << '\n';
    return;
  }
  const bool all_known = std::all_of(t.partitions.begin(), t.partitions.end(),
                                     [](const pipeline::PartitionState& p) { return p.offsets_known; });
  out << "  " << plural(static_cast<std::int64_t>(t.partitions.size()), "partition") << ", "
      << plural(t.messages(), "message") << (all_known ? " in the log" : " in the partitions that answered")
      << ", retention " << retention_text(t.retention_ms) << ", replication factor " << t.replication_factor() << ", min.insync.replicas "
      << (t.min_insync_replicas ? std::to_string(*t.min_insync_replicas) : std::string("?")) << '\n';
  Table table({{"PARTITION", Align::right},
               {"LEADER", Align::right},
               {"REPLICAS", Align::left},
               {"ISR", Align::left},
               {"STATUS", Align::left},
               {"LOW", Align::right},
               {"HIGH", Align::right},
               {"MESSAGES", Align::right}});
  for (const auto& p : t.partitions) {
    const auto known = [&p](std::int64_t value) {
      return p.offsets_known ? std::to_string(value) : std::string("-");
    };
    table.add_row({std::to_string(p.partition), p.offline() ? std::string("none") : std::to_string(p.leader),
                   id_list(p.replicas),
                   Cell(id_list(p.in_sync_replicas), p.under_replicated() ? Colour::red : Colour::none),
                   partition_status(t, p), known(p.low), known(p.high), known(p.messages())});
  }
  table.print(out, style.colour, "  ");
  print_replication_notes(t, style, out);
}

void print_group(const pipeline::GroupView& g, const Style& style, std::ostream& out) {
  out << style("group " + g.group, Colour::bold) << " on " << g.topic << ": ";
  if (g.description.known) {
    out << g.description.state << ", " << plural(static_cast<std::int64_t>(g.description.members.size()), "member");
    if (!g.description.protocol.empty()) {
      out << " (assignor " << g.description.protocol << ")";
    }
  } else {
    out << "unknown to the broker (no member has joined it)";
  }
  out << ", total lag " << style(std::to_string(g.total_lag), g.total_lag > 0 ? Colour::yellow : Colour::green)
      << '\n';
  Table table({{"PARTITION", Align::right},
               {"STORED (DB)", Align::right},
               {"COMMITTED (KAFKA)", Align::right},
               {"LOG START", Align::right},
               {"LOG END", Align::right},
               {"LAG", Align::right}});
  for (const auto& p : g.partitions) {
    table.add_row({std::to_string(p.partition), optional_number(p.stored), optional_number(p.committed),
                   std::to_string(p.log_start), std::to_string(p.log_end),
                   Cell(std::to_string(p.lag), p.lag > 0 ? Colour::yellow : Colour::green)});
  }
  table.print(out, style.colour, "  ");
  if (!g.description.members.empty()) {
    out << '\n' << style("members", Colour::bold) << '\n';
    Table members({{"CLIENT ID", Align::left}, {"HOST", Align::left}, {"PARTITIONS", Align::left},
                   {"MEMBER ID", Align::left}});
    for (const auto& m : g.description.members) {
      std::string assigned;
      for (const auto& [topic, partitions] : m.assignment) {
        for (const auto partition : partitions) {
          if (!assigned.empty()) {
            assigned += ',';
          }
          if (topic != g.topic) {
            assigned += topic;
            assigned += '/';
          }
          assigned += std::to_string(partition);
        }
      }
      members.add_row({m.client_id, m.client_host, assigned.empty() ? "-" : assigned, m.member_id});
    }
    members.print(out, style.colour, "  ");
  }
}

// Every status with its count, 0 included, in lifecycle order.
void print_orders_by_status(const pipeline::DatabaseView& d, const Style& style, std::ostream& out) {
  Table table({{"STATUS", Align::left}, {"ORDERS", Align::right}});
  for (const auto& [status, count] : d.summary.orders_by_status) {
    table.add_row({status, std::to_string(count)});
  }
  table.print(out, style.colour, "    ");
}

// Time from an order's created_at, e.g. "+0s", "+0.085s", "+13s", "+2m13s",
// "+1h02m05s": milliseconds only under a minute, where a scaled lifecycle
// (--time-scale 0.01) puts its first events.
std::string since_created_text(std::int64_t ms) {
  const char* sign = ms < 0 ? "-" : "+";
  const auto magnitude = ms < 0 ? -static_cast<std::uint64_t>(ms) : static_cast<std::uint64_t>(ms);
  const auto seconds = magnitude / 1000;
  char text[64];
  if (seconds < 60) {
    if (magnitude % 1000 == 0) {
      std::snprintf(text, sizeof text, "%s%" PRIu64 "s", sign, seconds);
    } else {
      std::snprintf(text, sizeof text, "%s%" PRIu64 ".%03" PRIu64 "s", sign, seconds, magnitude % 1000);
    }
  } else if (seconds < 3600) {
    std::snprintf(text, sizeof text, "%s%" PRIu64 "m%02" PRIu64 "s", sign, seconds / 60, seconds % 60);
  } else {
    std::snprintf(text, sizeof text, "%s%" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s", sign, seconds / 3600,
                  seconds / 60 % 60, seconds % 60);
  }
  return text;
}

// The order's creation, then each status event applied to it, with where its
// message was; a reason column only when some entry has a reason.
void print_timeline(const std::vector<pipeline::TimelineEntry>& timeline, const Style& style,
                    std::ostream& out) {
  const auto events = timeline.empty() ? 0 : static_cast<std::int64_t>(timeline.size()) - 1;
  out << style("timeline", Colour::bold) << " (" << (events == 0 ? "no" : std::to_string(events))
      << (events == 1 ? " status event" : " status events") << " applied)\n";
  const bool reasons = std::any_of(timeline.begin(), timeline.end(),
                                   [](const pipeline::TimelineEntry& e) { return e.reason.has_value(); });
  std::vector<Table::Column> columns{{"SINCE CREATED", Align::right}, {"STATUS", Align::left},
                                     {"OCCURRED AT", Align::left},   {"PARTITION", Align::right},
                                     {"OFFSET", Align::right},       {"FROM", Align::left}};
  if (reasons) {
    columns.push_back({"REASON", Align::left});
  }
  Table table(std::move(columns));
  for (const auto& e : timeline) {
    const auto partition = e.partition ? std::optional<std::int64_t>(*e.partition) : std::nullopt;
    std::vector<Cell> row{since_created_text(e.since_created_ms),
                          {e.status, e.status == "cancelled" ? Colour::yellow : Colour::none},
                          e.occurred_at,
                          optional_number(partition),
                          optional_number(e.offset),
                          e.event_id ? *e.event_id : std::string("the order (created)")};
    if (reasons) {
      row.emplace_back(e.reason ? one_line(*e.reason, 80) : std::string());
    }
    table.add_row(std::move(row));
  }
  table.print(out, style.colour, "  ");
}

void print_database(const pipeline::DatabaseView& d, const Style& style, std::ostream& out) {
  out << style("database " + d.target, Colour::bold) << ": schema version " << d.summary.schema_version << '\n';
  out << "  orders        " << d.summary.orders;
  if (d.summary.newest_processed_at) {
    out << " (newest processed at " << *d.summary.newest_processed_at << ")";
  }
  out << '\n';
  print_orders_by_status(d, style, out);
  out << "  order events  " << d.summary.order_events << " (status events applied)\n";
  out << "  dead letters  " << d.summary.dead_letters() << '\n';
  if (!d.summary.dead_letters_by_reason.empty()) {
    Table table({{"REASON", Align::left}, {"COUNT", Align::right}});
    for (const auto& [reason, count] : d.summary.dead_letters_by_reason) {
      table.add_row({reason, std::to_string(count)});
    }
    table.print(out, style.colour, "    ");
  }
}

void print_dead_letters(const std::vector<pipeline::DeadLetterRow>& rows, const Style& style, std::ostream& out) {
  Table table({{"ID", Align::right},
               {"REASON", Align::left},
               {"SOURCE", Align::left},
               {"FAILED AT", Align::left},
               {"DETAIL", Align::left},
               {"PAYLOAD", Align::left}});
  for (const auto& d : rows) {
    table.add_row({std::to_string(d.id), Cell(d.reason_code, Colour::red),
                   d.source_topic + "/" + std::to_string(d.source_partition) + "@" + std::to_string(d.source_offset),
                   d.failed_at, one_line(d.reason_detail, 50),
                   d.payload ? one_line(*d.payload, 60) : std::string("(null)")});
  }
  table.print(out, style.colour, "  ");
}

void print_message(const pipeline::KafkaMessage& m, const Style& style, std::ostream& out) {
  out << style(m.topic + "/" + std::to_string(m.partition) + "@" + std::to_string(m.offset), Colour::cyan) << "  "
      << pipeline::format_timestamp(pipeline::Timestamp(std::chrono::milliseconds(m.timestamp_ms))) << " (" << m.timestamp_type << " time)  key "
      << (m.key ? one_line(*m.key, 80) : std::string("(none)")) << '\n';
  if (!m.headers.empty()) {
    out << "  headers:";
    for (const auto& [name, value] : m.headers) {
      const auto shown = one_line(value, 80);
      const bool quote = shown.empty() || shown.find(' ') != std::string::npos;
      out << ' ' << one_line(name, 40) << '=' << (quote ? '"' + shown + '"' : shown);
    }
    out << '\n';
  }
  // Untrusted bytes: escaped, so that a payload cannot drive the terminal.
  out << "  " << (m.payload ? one_line(*m.payload, std::string::npos) : std::string("(null: a tombstone)")) << '\n';
}

// ---------------------------------------------------------------------------
// Pieces of the commands' reports.

double ms(std::int64_t us) { return static_cast<double>(us) / 1000.0; }

std::string join_migrations(const std::vector<pipeline::MigrationRef>& migrations) {
  std::string text;
  for (const auto& migration : migrations) {
    char version[16];
    std::snprintf(version, sizeof version, "%03d", migration.version);
    text += (text.empty() ? "" : ", ") + std::string(version) + "_" + migration.name;
  }
  return text;
}

std::string counts_text(const pipeline::UpsertCounts& counts, bool dry_run) {
  if (dry_run) {
    return "would insert " + std::to_string(counts.inserted) + ", update " +
           std::to_string(counts.updated) + "; " + std::to_string(counts.unchanged) + " unchanged";
  }
  return std::to_string(counts.inserted) + " inserted, " + std::to_string(counts.updated) +
         " updated, " + std::to_string(counts.unchanged) + " unchanged";
}

std::string span_text(std::int64_t from, std::int64_t to) {
  return "offsets " + std::to_string(from) + ".." + std::to_string(to) + " (exclusive)";
}

} // namespace

// ---------------------------------------------------------------------------
// The commands' reports.

std::string failure_line(const pipeline::ProduceReport& r) {
  std::string line =
      "foodpipe: error: " + std::to_string(r.failed) + " of " + std::to_string(r.sent) + " orders";
  // A file's events as a lifecycle run's (a file of orders alone reads as it always did).
  if (r.lifecycle || r.events_sent > 0) {
    line += " and " + std::to_string(r.events_failed) + " of " + std::to_string(r.events_sent) +
            " status events";
  }
  line += " were not acknowledged by the brokers (";
  const char* separator = "";
  for (const auto& [error, count] : r.failed_by_error) {
    line += separator + error + ": " + std::to_string(count);
    separator = ", ";
  }
  return line + "); a timed-out one may still have been written: see foodpipe inspect topic --topic " + r.topic +
         " and foodpipe doctor";
}

void print_text(std::ostream& out, const pipeline::ProduceReport& r) {
  const double elapsed = seconds_of(r.elapsed);
  // Records are messages: orders and, in a lifecycle run, status events (0 otherwise).
  const double per_second = elapsed > 0 ? static_cast<double>(r.delivered + r.events_delivered) / elapsed : 0;
  const double mb = elapsed > 0 ? static_cast<double>(r.bytes) / elapsed / (1024.0 * 1024.0) : 0;
  char line[512];
  // The shape of kafka-producer-perf-test's summary, so the numbers compare at a glance.
  std::snprintf(line, sizeof line,
                "%" PRIu64 " records sent, %.1f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, "
                "%.2f ms 50th, %.2f ms 95th, %.2f ms 99th, %.2f ms 99.9th.\n",
                r.sent + r.events_sent, per_second, mb, r.latency_us.mean() / 1000.0, ms(r.latency_us.max()),
                ms(r.latency_us.percentile(0.50)), ms(r.latency_us.percentile(0.95)),
                ms(r.latency_us.percentile(0.99)), ms(r.latency_us.percentile(0.999)));
  out << line;
  out << "delivered " << r.delivered << ", failed " << r.failed;
  if (r.lifecycle || r.events_sent > 0) { // a --lifecycle run, or a --from-file with events
    // Orders first, as always; the status events after them.
    out << "; events sent " << r.events_sent << ", delivered " << r.events_delivered << ", failed "
        << r.events_failed;
    if (r.events_unsent > 0) {
      out << ", unsent " << r.events_unsent;
    }
  }
  for (const auto& [error, count] : r.failed_by_error) {
    out << " (" << error << ": " << count << ")";
  }
  if (r.invalid_lines > 0) {
    out << ", invalid input lines " << r.invalid_lines;
  }
  out << "; topic " << r.topic << ", run id " << r.run_id;
  if (r.seed) {
    out << ", seed " << *r.seed;
  }
  out << (r.interrupted ? " (interrupted)" : "") << '\n';
}

void print_text(std::ostream& out, const pipeline::ConsumeReport& r) {
  const double elapsed = seconds_of(r.elapsed);
  char line[256];
  std::snprintf(line, sizeof line,
                "%" PRIu64 " consumed in %.1f s (%.0f orders/s): %" PRIu64 " applied, %" PRIu64 " duplicates, %" PRIu64
                " dead letters; %" PRIu64 " batches; latency created->processed p50 %" PRId64 " ms, p99 %" PRId64
                " ms\n",
                r.consumed, elapsed, elapsed > 0 ? static_cast<double>(r.consumed) / elapsed : 0.0, r.applied,
                r.duplicates, r.dead_letters(), r.batches, r.latency_ms.percentile(0.50), r.latency_ms.percentile(0.99));
  out << line;
  // Only when there were events, so that an orders-only run prints what it always did.
  if (r.events_applied > 0 || r.event_duplicates > 0) {
    out << "status events: " << r.events_applied << " applied, " << r.event_duplicates << " duplicates\n";
  }
  if (!r.dead_letters_by_reason.empty()) {
    out << "dead letters by reason:";
    for (const auto& [reason, count] : r.dead_letters_by_reason) {
      out << ' ' << reason << '=' << count;
    }
    out << '\n';
  }
  if (r.skipped_offsets > 0) {
    out << r.skipped_offsets << " offsets removed by retention before they were read (recorded in skipped_offsets)\n";
  }
  if (r.dead_letters_truncated > 0) {
    out << r.dead_letters_truncated << " dead letters too large for the DLQ topic were published cut (whole in dead_letters)\n";
  }
  out << "stopped by " << r.stopped_by << '\n';
}

void print_text(std::ostream& out, const pipeline::DoctorReport& report) {
  const auto& k = report.kafka;
  out << "kafka      " << (k.problem.empty() ? "ok    " : "FAILED") << "  " << k.bootstrap_servers;
  if (k.reachable) {
    out << "  cluster " << k.cluster_id << ", " << k.brokers << (k.brokers == 1 ? " broker" : " brokers");
    if (k.groups_supported) {
      out << ", consumer groups " << (*k.groups_supported ? "supported" : "NOT supported");
    }
    out << " (librdkafka " << k.librdkafka_version << ")";
  }
  out << '\n';
  if (!k.problem.empty()) {
    out << "           " << k.problem << '\n';
  }
  for (const auto& warning : k.warnings) {
    out << "  warning  " << warning << '\n';
  }
  const auto& p = report.postgres;
  out << "postgres   " << (p.problem.empty() ? "ok    " : "FAILED") << "  " << p.target;
  if (!p.server_version.empty()) {
    out << "  PostgreSQL " << p.server_version;
  }
  if (p.schema_version) {
    out << ", schema version " << *p.schema_version;
  }
  out << '\n';
  if (!p.problem.empty()) {
    out << "           " << p.problem << '\n';
  }
}

void print_text(std::ostream& out, const pipeline::SeedDbReport& report) {
  if (report.dry_run) {
    out << "dry run: nothing was changed\n";
  }
  out << "database " << report.database << " at " << report.server << ": ";
  if (report.database_created) {
    out << "created\n";
  } else if (!report.database_existed) {
    out << (report.dry_run ? "does not exist yet; would create it\n" : "created by another process\n");
  } else {
    out << "exists\n";
  }
  const auto& changes = report.dry_run ? report.migrations_pending : report.migrations_applied;
  out << "migrations: ";
  if (changes.empty()) {
    out << "none pending";
  } else {
    out << (report.dry_run ? "would apply " : "applied ") << changes.size() << " ("
        << join_migrations(changes) << ")";
  }
  out << "; " << report.migrations_already_applied << " already applied\n";
  out << "schema version: " << report.schema_version;
  if (report.dry_run && !changes.empty()) {
    out << " (" << changes.back().version << " after applying)";
  }
  out << '\n';
  if (report.reference_data) {
    out << "customers: " << counts_text(report.reference_data->customers, report.dry_run) << '\n';
    out << "menu items: " << counts_text(report.reference_data->menu_items, report.dry_run) << '\n';
  } else {
    out << "reference data: skipped (--no-reference-data)\n";
  }
  out << "done in " << report.elapsed.count() << " ms\n";
}

void print_text(std::ostream& out, const pipeline::OffsetsReport& r, bool colour) {
  out << paint("group " + r.group, Colour::bold, colour) << " on " << r.topic << ": "
      << (r.executed ? "moved in the database and in Kafka"
                     : "dry run, nothing changed (add --execute to apply)")
      << '\n';
  Table table({{"PARTITION", Align::right},
               {r.executed ? "DATABASE BEFORE" : "DATABASE", Align::right},
               {r.executed ? "KAFKA BEFORE" : "KAFKA", Align::right},
               {"LOG START", Align::right},
               {"LOG END", Align::right},
               {r.executed ? "NOW" : "NEW OFFSET", Align::right}});
  for (const auto& p : r.partitions) {
    table.add_row({std::to_string(p.partition), optional_number(p.database_before), optional_number(p.kafka_before),
                   std::to_string(p.log_start), std::to_string(p.log_end),
                   Cell(std::to_string(p.after) + (p.clamped ? "*" : ""), p.clamped ? Colour::yellow : Colour::none)});
  }
  table.print(out, colour, "  ");
  for (const auto& p : r.partitions) {
    if (p.clamped) {
      out << "* partition " << p.partition << ": " << p.requested << " is "
          << (p.requested > p.log_end ? "above the log end" : "below the log start") << ", so " << p.after
          << " (clamped, as kafka-consumer-groups does)\n";
    }
  }
  if (r.executed) {
    out << "start the consumers of group " << r.group << " again: they begin at the new offsets\n";
  }
}

void print_text(std::ostream& out, const pipeline::ReplayReport& r,
                const pipeline::ReplayOptions& options) {
  for (const auto& range : r.ranges) {
    out << options.topic << " partition " << range.partition << ": offsets " << range.from << " to " << range.to
        << " (exclusive): " << range.count() << " offsets\n";
  }
  for (const auto& span : r.gone) {
    out << options.topic << " partition " << span.partition << ": offsets " << span.from << " to " << span.to
        << " (exclusive) were already removed from the log (retention or delete-records): not replayed\n";
  }
  if (r.dry_run) {
    out << "dry run: " << r.planned << " offsets would be replayed "
        << (options.to_topic ? "onto topic " + *options.to_topic : std::string("into the database"))
        << (options.reason ? " (before the --reason filter)" : "")
        << "; offsets without a message (transaction markers, aborted or compacted records) are passed over;"
           " nothing was changed\n";
    return;
  }
  char line[400];
  std::snprintf(line, sizeof line,
                "read %" PRIu64 " of %" PRIu64 " in %.1f s: %" PRIu64 " applied, %" PRIu64 " already present, %" PRIu64
                " restored, %" PRIu64 " dead-lettered (%" PRIu64 " newly recorded), %" PRIu64 " republished, %" PRIu64
                " failed, %" PRIu64 " skipped by filter\n",
                r.read, r.planned, seconds_of(r.elapsed), r.applied, r.already_present, r.restored, r.dead_lettered,
                r.dead_letters_recorded, r.republished, r.failed, r.skipped_by_filter);
  out << line;
  if (r.events.read > 0) {
    const auto& e = r.events;
    std::snprintf(line, sizeof line,
                  "  of which %" PRIu64 " order status events: %" PRIu64 " applied, %" PRIu64 " already present, %" PRIu64
                  " dead-lettered, %" PRIu64 " order statuses restored, %" PRIu64 " not repaired\n",
                  e.read, e.applied, e.already_present, e.dead_lettered, e.statuses_restored, e.not_repaired);
    out << line;
  }
  if (r.events.not_repaired > 0) {
    out << r.events.not_repaired
        << " applied events have lost their order_events row and were NOT re-applied (named on stderr): delete"
           " their orders and replay the range from the order messages to rebuild them\n";
  }
  if (r.without_message > 0) {
    out << r.without_message << " offsets held no message (transaction markers, aborted or compacted records)\n";
  }
  if (r.skipped_truncated > 0) {
    out << r.skipped_truncated
        << " dead letters were on the topic cut (too large for it): not replayed; their whole payloads are in the"
           " dead_letters table\n";
  }
  for (const auto& span : r.unread) {
    out << options.topic << " partition " << span.partition << ": offsets " << span.from << " to " << span.to
        << " (exclusive) NOT READ: the log ends at " << span.from
        << " (an open transaction holds it back); run the replay of that range again once it ends\n";
  }
  if (r.interrupted) {
    out << "interrupted before the end\n";
  }
}

void print_text(std::ostream& out, const pipeline::VerifyReport& r, const std::string& topic,
                bool strict) {
  char line[400];
  std::snprintf(line, sizeof line,
                "checked %" PRIu64 " messages in %.1f s (read %.1f s, compare %.1f s): %" PRIu64 " ok, %" PRIu64
                " duplicates, %" PRIu64 " dead-lettered, %" PRIu64 " missing, %" PRIu64 " different\n",
                r.checked, seconds_of(r.elapsed), seconds_of(r.read_time), seconds_of(r.compare_time), r.ok,
                r.duplicates, r.dead_lettered, r.missing, r.different);
  out << line;
  if (r.events.checked > 0) {
    const auto& e = r.events;
    std::snprintf(line, sizeof line,
                  "  of which %" PRIu64 " order status events: %" PRIu64 " applied, %" PRIu64 " duplicates, %" PRIu64
                  " dead-lettered, %" PRIu64 " missing, %" PRIu64 " different\n",
                  e.checked, e.ok, e.duplicates, e.dead_lettered, e.missing, e.different);
    out << line;
  }
  if (r.without_message > 0) {
    out << "  " << r.without_message
        << " offsets without a message (transaction markers, aborted records, compacted keys): nothing to check\n";
  }
  if (r.refused_by_database > 0) {
    out << "  " << r.refused_by_database
        << " messages hold values PostgreSQL refuses: only a dead letter accounts for them\n";
  }
  for (const auto& p : r.partitions) {
    out << "  partition " << p.partition << ": ";
    if (p.log_start > p.to) {
      out << "nothing to check: the log starts at " << p.log_start << ", past the stored offset " << p.to << '\n';
      continue;
    }
    out << span_text(p.from, p.to) << ": " << p.messages << " messages";
    if (p.without_message > 0) {
      out << ", " << p.without_message << " offsets without a message";
    }
    if (p.gone > 0) {
      out << ", " << p.gone << " removed by retention during the audit";
    }
    if (!p.fully_read()) {
      out << "; " << span_text(p.unread_from, p.to) << " NOT READABLE: the log ends at " << p.unread_from
          << " (an open transaction holds it back, or the topic is shorter than the stored offset)";
    }
    out << '\n';
  }
  for (const auto& problem : r.problems) {
    out << problem.kind << ' ' << pipeline::describe_position(topic, problem.partition, problem.offset) << ' '
        << (problem.order_id.empty() ? std::string("(no order_id)") : problem.order_id)
        << (problem.event_id.empty() ? std::string() : " event " + problem.event_id) << ": " << problem.detail
        << '\n';
  }
  const auto problems = r.missing + r.different;
  if (problems > r.problems.size()) {
    out << "... and " << problems - r.problems.size() << " more (--limit)\n";
  }
  for (const auto& skipped : r.skipped) {
    out << (strict ? "error: " : "warning: ") << "partition " << skipped.partition << ": "
        << span_text(skipped.from, skipped.to) << ", " << skipped.to - skipped.from
        << " offsets removed by retention before consumption (recorded " << skipped.detected_at << ")\n";
  }
  if (r.interrupted) {
    out << "interrupted before the end: nothing concluded\n";
    return;
  }
  if (!r.all_accounted_for()) {
    out << "FAILED: " << problems << " messages not accounted for";
    if (r.unread > 0) {
      out << ", " << r.unread << " offsets not readable (run again once open transactions end)";
    }
    out << '\n';
    return;
  }
  const auto skipped = r.skipped_offsets();
  if (strict && skipped > 0) {
    out << "FAILED (--strict): " << skipped << " offsets in " << r.skipped.size()
        << (r.skipped.size() == 1 ? " range" : " ranges") << " were removed by retention before consumption\n";
    return;
  }
  out << "OK: every message below the stored offsets is accounted for";
  if (skipped > 0) {
    out << "; " << skipped << " offsets were removed by retention before consumption (--strict fails on them)";
  }
  out << '\n';
}

// ---------------------------------------------------------------------------
// The inspect views.

void print_text(std::ostream& out, const pipeline::Overview& o, bool colour) {
  const Style s{colour};
  const auto label = [&s](std::string_view text) { return s(std::string(text), Colour::bold); };
  out << label("kafka   ") << "  " << o.topic.bootstrap_servers << ", cluster " << o.topic.cluster_id << ", "
      << plural(static_cast<std::int64_t>(o.topic.brokers.size()), "broker") << '\n';
  for (const auto* t : {&o.topic.topic, &o.topic.dlq}) {
    out << label(t == &o.topic.topic ? "topic   " : "dlq     ") << "  " << t->name;
    if (t->exists) {
      out << ": " << plural(static_cast<std::int64_t>(t->partitions.size()), "partition") << ", "
          << plural(t->messages(), "message") << " (log end total " << t->high_total() << "), retention "
          << retention_text(t->retention_ms) << '\n';
    } else {
      out << ": " << s("does not exist", Colour::yellow) << '\n';
    }
  }
  out << label("group   ") << "  " << o.group.group << ": "
      << (o.group.description.known ? o.group.description.state : std::string("unknown to the broker")) << ", "
      << plural(static_cast<std::int64_t>(o.group.description.members.size()), "member") << ", lag "
      << s(std::to_string(o.group.total_lag), o.group.total_lag > 0 ? Colour::yellow : Colour::green)
      << (o.lag_from_kafka ? " (from the offsets committed to Kafka)" : "") << '\n';
  if (!o.database) {
    out << label("database") << "  " << s(o.database_problem, Colour::red) << '\n';
  } else {
    const auto& d = o.database->summary;
    out << label("database") << "  " << o.database->target << ": schema version " << d.schema_version << ", "
        << plural(d.orders, "order") << ", "
        << s(plural(d.dead_letters(), "dead letter"), d.dead_letters() > 0 ? Colour::red : Colour::none);
    if (d.newest_processed_at) {
      out << ", newest processed at " << *d.newest_processed_at;
    }
    out << '\n';
  }
  out << "\nMore: foodpipe inspect topic | group | db | dlq | order ID | messages --partition P\n";
}

void print_text(std::ostream& out, const pipeline::TopicView& v, bool colour) {
  const Style style{colour};
  print_brokers(v, style, out);
  print_topic_state(v.topic, style, out);
  print_topic_state(v.dlq, style, out);
}

void print_text(std::ostream& out, const pipeline::GroupView& g, bool colour) {
  print_group(g, Style{colour}, out);
}

void print_text(std::ostream& out, const pipeline::DatabaseView& d, bool colour) {
  print_database(d, Style{colour}, out);
}

void print_text(std::ostream& out, const pipeline::DeadLetterView& v, bool colour) {
  const Style style{colour};
  out << style("dead letters", Colour::bold) << (v.reason ? " with reason " + *v.reason : std::string()) << ": "
      << v.total << " in the table, showing the newest " << v.dead_letters.size() << '\n';
  if (!v.dead_letters.empty()) {
    print_dead_letters(v.dead_letters, style, out);
  }
}

void print_text(std::ostream& out, const pipeline::OrderView& v, bool colour) {
  const Style s{colour};
  out << s("order " + v.order_id, Colour::bold) << '\n';
  if (v.row) {
    const auto& o = *v.row;
    out << "  in orders: " << o.status << ", " << o.total_amount << ", customer " << o.customer_id << " ("
        << one_line(o.customer_name, 80) << ")\n"
        << "  created " << o.created_at << ", processed " << o.processed_at << '\n'
        << "  from " << o.source_topic.value_or("?") << " partition "
        << optional_number(o.source_partition ? std::optional<std::int64_t>(*o.source_partition) : std::nullopt)
        << " offset " << optional_number(o.source_offset) << '\n'
        << "  items " << o.items_json << '\n';
    out << '\n' << s("the Kafka message at that position", Colour::bold) << '\n';
    if (v.message) {
      print_message(*v.message, s, out);
    } else {
      out << "  " << v.message_note << '\n';
    }
    out << '\n';
    print_timeline(v.timeline, s, out);
  } else {
    out << "  " << s("not in orders", Colour::yellow) << '\n';
  }
  if (!v.dead_letters.empty()) {
    out << '\n' << s("dead letters mentioning it", Colour::bold) << '\n';
    print_dead_letters(v.dead_letters, s, out);
  }
}

void print_text(std::ostream& out, const pipeline::KafkaMessage& message, bool colour) {
  print_message(message, Style{colour}, out);
}

} // namespace foodpipe::app
