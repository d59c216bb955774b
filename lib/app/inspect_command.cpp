// foodpipe inspect: topics, partitions, watermarks, group lag, database
// counts, dead letters and one order's trail, as tables or JSON.

#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "app/commands.hpp"
#include "app/inspect_verify.hpp"
#include "app/number.hpp"
#include "app/settings.hpp"
#include "app/table.hpp"
#include "app/text.hpp"
#include "core/defaults.hpp"
#include "domain/timestamp.hpp"
#include "domain/utf8.hpp"
#include "pipeline/inspect.hpp"

namespace foodpipe::app {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr std::string_view k_views = "topic, group, db, dlq, order, messages (none: the overview)";

// ---------------------------------------------------------------------------
// Bytes from Kafka and bytea are not always UTF-8; JSON and terminals need it
// (domain::replace_invalid_utf8).

// One line for a table cell: control characters escaped, cut to `max_chars`.
std::string one_line(std::string_view bytes, std::size_t max_chars) {
  const auto text = domain::replace_invalid_utf8(bytes);
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
// JSON pieces shared by the views.

void json_string(Writer& w, std::string_view text) {
  const auto valid = domain::replace_invalid_utf8(text);
  w.String(valid.c_str(), static_cast<rapidjson::SizeType>(valid.size()));
}

void json_optional_string(Writer& w, const std::optional<std::string>& text) {
  if (text) {
    json_string(w, *text);
  } else {
    w.Null();
  }
}

void json_optional_int(Writer& w, const std::optional<std::int64_t>& value) {
  if (value) {
    w.Int64(*value);
  } else {
    w.Null();
  }
}

void json_ints(Writer& w, const std::vector<std::int32_t>& values) {
  w.StartArray();
  for (const auto value : values) {
    w.Int(value);
  }
  w.EndArray();
}

void json_brokers(Writer& w, const std::vector<kafka::BrokerInfo>& brokers) {
  w.StartArray();
  for (const auto& broker : brokers) {
    w.StartObject();
    w.Key("id");
    w.Int(broker.id);
    w.Key("host");
    json_string(w, broker.host);
    w.Key("port");
    w.Int(broker.port);
    w.EndObject();
  }
  w.EndArray();
}

// The kcat -J envelope.
void json_message(Writer& w, const pipeline::KafkaMessage& m) {
  w.StartObject();
  w.Key("topic");
  json_string(w, m.topic);
  w.Key("partition");
  w.Int(m.partition);
  w.Key("offset");
  w.Int64(m.offset);
  w.Key("tstype");
  json_string(w, m.timestamp_type);
  w.Key("ts");
  w.Int64(m.timestamp_ms);
  w.Key("broker");
  w.Int(m.broker);
  w.Key("headers");
  w.StartArray();
  for (const auto& [name, value] : m.headers) {
    json_string(w, name);
    json_string(w, value);
  }
  w.EndArray();
  w.Key("key");
  json_optional_string(w, m.key);
  w.Key("payload");
  json_optional_string(w, m.payload);
  w.EndObject();
}

void json_dead_letter(Writer& w, const db::DeadLetterRow& d) {
  w.StartObject();
  w.Key("id");
  w.Int64(d.id);
  w.Key("reason");
  json_string(w, d.reason_code);
  w.Key("detail");
  json_string(w, d.reason_detail);
  w.Key("source_topic");
  json_string(w, d.source_topic);
  w.Key("source_partition");
  w.Int(d.source_partition);
  w.Key("source_offset");
  w.Int64(d.source_offset);
  w.Key("key");
  json_optional_string(w, d.key);
  w.Key("payload_excerpt");
  json_optional_string(w, d.payload);
  w.Key("payload_bytes");
  w.Int64(d.payload_bytes);
  w.Key("consumer_group");
  json_string(w, d.consumer_group);
  w.Key("failed_at");
  json_string(w, d.failed_at);
  w.EndObject();
}

void json_topic(Writer& w, const pipeline::TopicState& t) {
  w.StartObject();
  w.Key("name");
  json_string(w, t.name);
  w.Key("exists");
  w.Bool(t.exists);
  w.Key("retention_ms");
  json_optional_int(w, t.retention_ms);
  w.Key("messages");
  w.Int64(t.messages());
  w.Key("log_end_total");
  w.Int64(t.high_total());
  w.Key("replication_factor");
  w.Int(t.replication_factor());
  w.Key("min_insync_replicas");
  if (t.min_insync_replicas) {
    w.Int(*t.min_insync_replicas);
  } else {
    w.Null();
  }
  w.Key("under_replicated_partitions");
  w.Int64(std::count_if(t.partitions.begin(), t.partitions.end(),
                        [](const pipeline::PartitionState& p) { return p.under_replicated(); }));
  w.Key("offline_partitions");
  w.Int64(std::count_if(t.partitions.begin(), t.partitions.end(),
                        [](const pipeline::PartitionState& p) { return p.offline(); }));
  w.Key("partitions");
  w.StartArray();
  for (const auto& p : t.partitions) {
    w.StartObject();
    w.Key("partition");
    w.Int(p.partition);
    w.Key("leader");
    w.Int(p.leader);
    w.Key("replicas");
    json_ints(w, p.replicas);
    w.Key("isr");
    json_ints(w, p.in_sync_replicas);
    w.Key("under_replicated");
    w.Bool(p.under_replicated());
    w.Key("offline");
    w.Bool(p.offline());
    w.Key("isr_at_min");
    w.Bool(t.at_min_insync(p));
    w.Key("isr_below_min");
    w.Bool(t.below_min_insync(p));
    // null: the leader could not be asked (offline, or its broker just went away).
    const auto known = [&p](std::int64_t value) {
      return p.offsets_known ? std::optional(value) : std::nullopt;
    };
    w.Key("low");
    json_optional_int(w, known(p.low));
    w.Key("high");
    json_optional_int(w, known(p.high));
    w.Key("messages");
    json_optional_int(w, known(p.messages()));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void json_group(Writer& w, const pipeline::GroupView& g) {
  w.Key("group");
  json_string(w, g.group);
  w.Key("topic");
  json_string(w, g.topic);
  w.Key("known_to_broker");
  w.Bool(g.description.known);
  w.Key("state");
  json_string(w, g.description.state);
  w.Key("protocol_type");
  json_string(w, g.description.protocol_type);
  w.Key("protocol");
  json_string(w, g.description.protocol);
  w.Key("members");
  w.StartArray();
  for (const auto& m : g.description.members) {
    w.StartObject();
    w.Key("member_id");
    json_string(w, m.member_id);
    w.Key("client_id");
    json_string(w, m.client_id);
    w.Key("client_host");
    json_string(w, m.client_host);
    w.Key("assignment");
    w.StartObject();
    for (const auto& [topic, partitions] : m.assignment) {
      w.Key(topic.c_str());
      json_ints(w, partitions);
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.Key("partitions");
  w.StartArray();
  for (const auto& p : g.partitions) {
    w.StartObject();
    w.Key("partition");
    w.Int(p.partition);
    w.Key("stored_offset");
    json_optional_int(w, p.stored);
    w.Key("committed_offset");
    json_optional_int(w, p.committed);
    w.Key("log_start");
    w.Int64(p.log_start);
    w.Key("log_end");
    w.Int64(p.log_end);
    w.Key("lag");
    w.Int64(p.lag);
    w.EndObject();
  }
  w.EndArray();
  w.Key("total_lag");
  w.Int64(g.total_lag);
}

void json_database(Writer& w, const pipeline::DatabaseView& d) {
  w.Key("target");
  json_string(w, d.target);
  w.Key("schema_version");
  w.Int(d.summary.schema_version);
  w.Key("orders");
  w.Int64(d.summary.orders);
  w.Key("newest_processed_at");
  json_optional_string(w, d.summary.newest_processed_at);
  w.Key("dead_letters");
  w.Int64(d.summary.dead_letters());
  w.Key("dead_letters_by_reason");
  w.StartObject();
  for (const auto& [reason, count] : d.summary.dead_letters_by_reason) {
    w.Key(reason.c_str());
    w.Int64(count);
  }
  w.EndObject();
}

// Runs `fill` inside one top-level object and prints it as one line.
template <typename Fill> void print_json_object(std::ostream& out, std::string_view view, Fill fill) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("view");
  json_string(w, view);
  fill(w);
  w.EndObject();
  out << buffer.GetString() << '\n';
}

// ---------------------------------------------------------------------------
// Text output.

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

void print_database(const pipeline::DatabaseView& d, const Style& style, std::ostream& out) {
  out << style("database " + d.target, Colour::bold) << ": schema version " << d.summary.schema_version << '\n';
  out << "  orders        " << d.summary.orders;
  if (d.summary.newest_processed_at) {
    out << " (newest processed at " << *d.summary.newest_processed_at << ")";
  }
  out << '\n';
  out << "  dead letters  " << d.summary.dead_letters() << '\n';
  if (!d.summary.dead_letters_by_reason.empty()) {
    Table table({{"REASON", Align::left}, {"COUNT", Align::right}});
    for (const auto& [reason, count] : d.summary.dead_letters_by_reason) {
      table.add_row({reason, std::to_string(count)});
    }
    table.print(out, style.colour, "    ");
  }
}

void print_dead_letters(const std::vector<db::DeadLetterRow>& rows, const Style& style, std::ostream& out) {
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
      << domain::format_timestamp(domain::Timestamp(std::chrono::milliseconds(m.timestamp_ms))) << " (" << m.timestamp_type << " time)  key "
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
// The views.

struct Request {
  std::string view;
  pipeline::InspectOptions options;
  bool json = false;
  Style style;
};

ExitCode run_overview(const Request& r, std::ostream& out) {
  const auto o = pipeline::inspect_overview(r.options);
  if (r.json) {
    print_json_object(out, "overview", [&o](Writer& w) {
      w.Key("bootstrap_servers");
      json_string(w, o.topic.bootstrap_servers);
      w.Key("brokers");
      json_brokers(w, o.topic.brokers);
      w.Key("topic");
      json_topic(w, o.topic.topic);
      w.Key("dlq");
      json_topic(w, o.topic.dlq);
      w.Key("group");
      w.StartObject();
      w.Key("name");
      json_string(w, o.group.group);
      w.Key("state");
      json_string(w, o.group.description.state);
      w.Key("members");
      w.Uint64(o.group.description.members.size());
      w.Key("total_lag");
      w.Int64(o.group.total_lag);
      w.Key("lag_from");
      json_string(w, o.lag_from_kafka ? "kafka_committed_offsets" : "database_stored_offsets");
      w.EndObject();
      w.Key("database");
      w.StartObject();
      if (o.database) {
        json_database(w, *o.database);
      } else {
        w.Key("error");
        json_string(w, o.database_problem);
      }
      w.EndObject();
    });
    if (!o.database) {
      std::cerr << "foodpipe: error: " << o.database_problem << '\n';
      return ExitCode::failure;
    }
    return ExitCode::ok;
  }
  const auto& s = r.style;
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
    out << "\nMore: foodpipe inspect topic | group | db | dlq | order ID | messages --partition P\n";
    return ExitCode::failure;
  }
  const auto& d = o.database->summary;
  out << label("database") << "  " << o.database->target << ": schema version " << d.schema_version << ", "
      << plural(d.orders, "order") << ", "
      << s(plural(d.dead_letters(), "dead letter"), d.dead_letters() > 0 ? Colour::red : Colour::none);
  if (d.newest_processed_at) {
    out << ", newest processed at " << *d.newest_processed_at;
  }
  out << "\n\nMore: foodpipe inspect topic | group | db | dlq | order ID | messages --partition P\n";
  return ExitCode::ok;
}

ExitCode run_topic(const Request& r, std::ostream& out) {
  const auto v = pipeline::inspect_topic(r.options);
  if (r.json) {
    print_json_object(out, "topic", [&v](Writer& w) {
      w.Key("bootstrap_servers");
      json_string(w, v.bootstrap_servers);
      w.Key("cluster_id");
      json_string(w, v.cluster_id);
      w.Key("controller_id");
      w.Int(v.controller_id);
      w.Key("brokers");
      json_brokers(w, v.brokers);
      w.Key("missing_brokers");
      json_ints(w, v.missing_brokers);
      w.Key("topics");
      w.StartArray();
      json_topic(w, v.topic);
      json_topic(w, v.dlq);
      w.EndArray();
    });
    return ExitCode::ok;
  }
  print_brokers(v, r.style, out);
  print_topic_state(v.topic, r.style, out);
  print_topic_state(v.dlq, r.style, out);
  return ExitCode::ok;
}

ExitCode run_group(const Request& r, const std::optional<std::uint64_t>& max_lag, std::ostream& out) {
  const auto g = pipeline::inspect_group(r.options);
  if (r.json) {
    print_json_object(out, "group", [&g](Writer& w) { json_group(w, g); });
  } else {
    print_group(g, r.style, out);
  }
  if (max_lag && g.total_lag > static_cast<std::int64_t>(*max_lag)) {
    out.flush();
    std::cerr << "foodpipe: total lag " << g.total_lag << " of group " << g.group << " on " << g.topic
              << " exceeds --max-lag " << *max_lag << '\n';
    return ExitCode::failure;
  }
  return ExitCode::ok;
}

ExitCode run_db(const Request& r, std::ostream& out) {
  const auto d = pipeline::inspect_database(r.options);
  if (r.json) {
    print_json_object(out, "db", [&d](Writer& w) { json_database(w, d); });
  } else {
    print_database(d, r.style, out);
  }
  return ExitCode::ok;
}

ExitCode run_dlq(const Request& r, const std::optional<std::string>& reason, std::int64_t limit, std::ostream& out) {
  const auto v = pipeline::inspect_dead_letters(r.options, reason, limit);
  if (r.json) {
    print_json_object(out, "dlq", [&v](Writer& w) {
      w.Key("reason");
      json_optional_string(w, v.reason);
      w.Key("limit");
      w.Int64(v.limit);
      w.Key("total");
      w.Int64(v.total);
      w.Key("dead_letters");
      w.StartArray();
      for (const auto& d : v.dead_letters) {
        json_dead_letter(w, d);
      }
      w.EndArray();
    });
    return ExitCode::ok;
  }
  out << r.style("dead letters", Colour::bold) << (v.reason ? " with reason " + *v.reason : std::string()) << ": "
      << v.total << " in the table, showing the newest " << v.dead_letters.size() << '\n';
  if (!v.dead_letters.empty()) {
    print_dead_letters(v.dead_letters, r.style, out);
  }
  return ExitCode::ok;
}

ExitCode run_order(const Request& r, const std::string& order_id, std::ostream& out) {
  const auto v = pipeline::inspect_order(r.options, order_id);
  if (!v.found()) {
    throw Error("order " + order_id + " is in neither orders nor dead_letters; check the id, or consume the topic " +
                "first ('foodpipe consume --until-end')");
  }
  if (r.json) {
    print_json_object(out, "order", [&v](Writer& w) {
      w.Key("order_id");
      json_string(w, v.order_id);
      w.Key("row");
      if (v.row) {
        const auto& o = *v.row;
        w.StartObject();
        w.Key("order_id");
        json_string(w, o.order_id);
        w.Key("customer_id");
        json_string(w, o.customer_id);
        w.Key("customer_name");
        json_string(w, o.customer_name);
        w.Key("customer_email");
        json_string(w, o.customer_email);
        w.Key("items");
        w.RawValue(o.items_json.c_str(), o.items_json.size(), rapidjson::kArrayType);
        w.Key("total_amount");
        json_string(w, o.total_amount);
        w.Key("status");
        json_string(w, o.status);
        w.Key("created_at");
        json_string(w, o.created_at);
        w.Key("processed_at");
        json_string(w, o.processed_at);
        w.Key("source_topic");
        json_optional_string(w, o.source_topic);
        w.Key("source_partition");
        json_optional_int(w, o.source_partition);
        w.Key("source_offset");
        json_optional_int(w, o.source_offset);
        w.EndObject();
      } else {
        w.Null();
      }
      w.Key("message");
      if (v.message) {
        json_message(w, *v.message);
      } else {
        w.Null();
      }
      w.Key("message_note");
      json_string(w, v.message_note);
      w.Key("dead_letters");
      w.StartArray();
      for (const auto& d : v.dead_letters) {
        json_dead_letter(w, d);
      }
      w.EndArray();
    });
    return ExitCode::ok;
  }
  const auto& s = r.style;
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
  } else {
    out << "  " << s("not in orders", Colour::yellow) << '\n';
  }
  if (!v.dead_letters.empty()) {
    out << '\n' << s("dead letters mentioning it", Colour::bold) << '\n';
    print_dead_letters(v.dead_letters, s, out);
  }
  return ExitCode::ok;
}

ExitCode run_messages(const Request& r, const pipeline::MessagesRequest& request, std::ostream& out) {
  const auto messages = pipeline::read_messages(r.options, request);
  for (const auto& m : messages) {
    if (r.json) {
      rapidjson::StringBuffer buffer;
      Writer w(buffer);
      json_message(w, m);
      out << buffer.GetString() << '\n';
    } else {
      print_message(m, r.style, out);
    }
  }
  if (!r.json && messages.empty()) {
    std::cerr << "foodpipe: no messages at " << r.options.topic << "/" << request.partition << " from offset "
              << request.offset << '\n';
  }
  return ExitCode::ok;
}

// A whole number that may be negative (--offset -5).
std::int64_t parse_offset(const std::string& text) {
  std::int64_t value = 0;
  const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || parsed.ec != std::errc() || parsed.ptr != text.data() + text.size()) {
    throw UsageError("--offset " + text + ": expected a whole number (negative: that many before the end)");
  }
  return value;
}

// Options that belong to one view only are refused elsewhere, so that a typo
// in the view name does not silently ignore them.
void refuse_unless(const po::variables_map& vm, const std::string& view, const std::vector<std::string>& options,
                   const std::string& owner) {
  for (const auto& option : options) {
    if (vm.count(option) != 0U && !vm[option].defaulted() && view != owner) {
      throw UsageError("--" + option + " belongs to 'foodpipe inspect " + owner + "'");
    }
  }
}

ExitCode run_inspect(const Context& context, const po::variables_map& vm) {
  const std::string view = vm.count("view") != 0U ? vm["view"].as<std::string>() : std::string();
  const bool has_argument = vm.count("order-id") != 0U;
  if (vm["verify"].as<bool>()) {
    if (!view.empty()) {
      throw UsageError("--verify is a view of its own; run 'foodpipe inspect --verify' without '" + view + "'");
    }
    return run_inspect_verify(context, vm);
  }
  if (vm["strict"].as<bool>()) {
    throw UsageError("--strict belongs to 'foodpipe inspect --verify'");
  }
  static const std::vector<std::string> k_known = {"", "topic", "group", "db", "dlq", "order", "messages"};
  if (std::find(k_known.begin(), k_known.end(), view) == k_known.end()) {
    std::string hint;
    for (const auto& known : k_known) {
      if (!known.empty() && edit_distance(view, known) <= 2) {
        hint = "did you mean '" + known + "'? ";
        break;
      }
    }
    throw UsageError("unknown view '" + view + "'; " + hint + "the views are " + std::string(k_views));
  }
  if (view == "order" && !has_argument) {
    throw UsageError("inspect order needs an order id, e.g. 'foodpipe inspect order ORD-20261201-demo-0000001'");
  }
  if (view != "order" && has_argument) {
    throw UsageError("unexpected '" + vm["order-id"].as<std::string>() + "' after 'inspect " + view +
                     "'; the views are " + std::string(k_views));
  }
  refuse_unless(vm, view, {"max-lag"}, "group");
  refuse_unless(vm, view, {"reason"}, "dlq");
  refuse_unless(vm, view, {"partition", "offset", "count"}, "messages");

  Request request;
  request.view = view;
  request.json = context.json;
  request.style.colour = context.stdout_is_terminal && std::getenv("NO_COLOR") == nullptr;
  request.options.kafka = {context.bootstrap_servers, context.kafka_properties};
  request.options.db_conninfo = context.db_conninfo;
  request.options.topic = vm["topic"].as<std::string>();
  request.options.group = vm["group"].as<std::string>();
  const auto value = [&](const std::string& name) { return option_value(context, vm, name); };
  request.options.connect_timeout =
      parse_seconds(value("connect-timeout"), k_connect_timeout_range);
  const auto limit = parse_count(value("limit"), {1, 100'000});

  auto& out = std::cout;
  if (view.empty()) {
    return run_overview(request, out);
  }
  if (view == "topic") {
    return run_topic(request, out);
  }
  if (view == "group") {
    std::optional<std::uint64_t> max_lag;
    if (vm.count("max-lag") != 0U) {
      max_lag = parse_count(value("max-lag"), {0, INT64_MAX});
    }
    return run_group(request, max_lag, out);
  }
  if (view == "db") {
    return run_db(request, out);
  }
  if (view == "dlq") {
    std::optional<std::string> reason;
    if (vm.count("reason") != 0U) {
      reason = vm["reason"].as<std::string>();
    }
    return run_dlq(request, reason, static_cast<std::int64_t>(limit), out);
  }
  if (view == "order") {
    return run_order(request, vm["order-id"].as<std::string>(), out);
  }
  // messages
  if (vm.count("partition") == 0U) {
    throw UsageError("inspect messages needs --partition, e.g. 'foodpipe inspect messages --partition 0 --offset 0'");
  }
  pipeline::MessagesRequest messages;
  messages.partition = static_cast<std::int32_t>(parse_count(value("partition"), {0, INT32_MAX}));
  messages.offset = parse_offset(vm["offset"].as<std::string>());
  messages.count = parse_count(value("count"));
  return run_messages(request, messages, out);
}

} // namespace

Command make_inspect_command() {
  Command command;
  command.name = "inspect";
  command.summary = "look into the pipeline: topic, group lag, database, dead letters, one order's trail";
  command.usage = "foodpipe inspect [VIEW [ORDER_ID]] [options]   (VIEW: topic, group, db, dlq, order, messages)";
  command.details =
      "Without a view: one screen with the brokers, the topic and its dead-letter topic,\n"
      "the group's total lag and the database's counts. Every view reads only; nothing is\n"
      "created, joined, committed or written. --json prints one JSON object per line.\n\n"
      "Views:\n"
      "  topic     brokers, then per partition of --topic and <topic>.dlq: leader, replicas,\n"
      "            low and high watermark (first offset still kept, next offset to be written),\n"
      "            messages in the log, retention.\n"
      "              foodpipe inspect topic --topic food-orders\n"
      "  group     per partition: the next offset stored in the database (where the consumer\n"
      "            resumes), the one committed to Kafka (what Kafka's tools see), the log end\n"
      "            and the lag; the group's state and members. --max-lag N exits 1 when the\n"
      "            total lag is above N (for CI).\n"
      "              foodpipe inspect group --group order-processors --max-lag 0\n"
      "  db        orders, newest processed_at, dead letters by reason, schema version.\n"
      "              foodpipe inspect db --json\n"
      "  dlq       the newest dead letters: reason, detail, source position, payload excerpt.\n"
      "              foodpipe inspect dlq --reason invalid_json --limit 5\n"
      "  order ID  the stored row, the Kafka message it came from, dead letters naming it.\n"
      "              foodpipe inspect order ORD-20261201-demo-0000001\n"
      "  messages  raw messages of one partition, like kcat -J with --json.\n"
      "              foodpipe inspect messages --partition 0 --offset 100 --count 3 --json\n"
      "              foodpipe inspect messages --partition 0 --offset=-5    # the last 5\n\n"
      "  --verify  audit: is every message below the stored offsets an order or a dead letter?\n"
      "            Offsets without a message (transaction markers, aborted records, compacted\n"
      "            keys) are counted, not problems. Ranges the group never read because retention\n"
      "            removed them first (table skipped_offsets) are reported as a warning: exit 0\n"
      "            when everything still in the log is accounted for; --strict makes them exit 1.\n"
      "              foodpipe inspect --verify\n"
      "              foodpipe inspect --verify --strict --json\n\n"
      "Exit status: 0 ok, 1 unreachable service, database not seeded, unknown order or lag\n"
      "above --max-lag, 2 bad options or an unknown view. Stopped by SIGINT/SIGTERM (--verify\n"
      "prints its report, marked interrupted): 128 + the signal's number, 130 or 143.\n"
      "Numbers: --limit 1 to 100000, --max-lag 0 to 9223372036854775807, --connect-timeout\n"
      "0.001 to 86400 s (a day).\n";
  command.offers_json = true;
  command.env = {{"KAFKA_TOPIC_ORDERS", "topic"}, {"CONSUMER_GROUP_ID", "group"}};
  command.options = [](po::options_description& desc, po::positional_options_description& positional) {
    // clang-format off
    desc.add_options()
      ("view", po::value<std::string>()->value_name("VIEW"), "topic, group, db, dlq, order, messages (positional)")
      ("order-id", po::value<std::string>()->value_name("ID"), "the order of 'inspect order' (positional)")
      ("topic", po::value<std::string>()->default_value(std::string(defaults::k_topic))->value_name("T"),
         "the orders topic")
      ("group", po::value<std::string>()->default_value(std::string(defaults::k_group))->value_name("G"),
         "the consumer group")
      ("max-lag", po::value<std::string>()->value_name("N"), "group: exit 1 when the total lag is above N")
      ("reason", po::value<std::string>()->value_name("CODE"), "dlq: only dead letters with this reason code")
      ("limit", po::value<std::string>()->default_value("20")->value_name("N"),
         "dlq: how many dead letters to show (--verify: problems to name)")
      ("partition", po::value<std::string>()->value_name("P"), "messages: the partition to read")
      ("offset", po::value<std::string>()->default_value("0")->value_name("N"),
         "messages: first offset; negative (--offset=-5) counts back from the log end")
      ("count", po::value<std::string>()->default_value("10")->value_name("C"), "messages: how many at most")
      ("connect-timeout", po::value<std::string>()->default_value(connect_timeout_default())->value_name("S"),
         "seconds to wait for the brokers and the database")
      ("verify", po::bool_switch(), "audit the group's stored progress against the topic")
      ("strict", po::bool_switch(), "--verify: also exit 1 when offsets were removed by retention before consumption")
      ("quiet,q", po::bool_switch(), "no progress output (--verify)");
    // clang-format on
    positional.add("view", 1).add("order-id", 1);
  };
  command.run = run_inspect;
  return command;
}

} // namespace foodpipe::app
