#include "kafka/statistics.hpp"

#include <algorithm>
#include <stdexcept>

#include <rapidjson/document.h>

namespace foodpipe::kafka {
namespace {

// librdkafka writes every number as a 64-bit integer; a missing or odd field
// reads as 0 rather than failing the whole document.
std::int64_t integer(const rapidjson::Value& object, const char* key) {
  if (!object.IsObject()) {
    return 0;
  }
  const auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsNumber()) {
    return 0;
  }
  return it->value.IsInt64() ? it->value.GetInt64() : static_cast<std::int64_t>(it->value.GetDouble());
}

std::string text(const rapidjson::Value& object, const char* key) {
  if (!object.IsObject()) {
    return {};
  }
  const auto it = object.FindMember(key);
  return it != object.MemberEnd() && it->value.IsString()
             ? std::string(it->value.GetString(), it->value.GetStringLength())
             : std::string();
}

const rapidjson::Value* member(const rapidjson::Value& object, const char* key) {
  if (!object.IsObject()) {
    return nullptr;
  }
  const auto it = object.FindMember(key);
  return it != object.MemberEnd() && it->value.IsObject() ? &it->value : nullptr;
}

BrokerStatistics broker(const rapidjson::Value& entry) {
  BrokerStatistics result;
  result.id = static_cast<std::int32_t>(integer(entry, "nodeid"));
  result.name = text(entry, "name");
  result.state = text(entry, "state");
  // A window without samples reports zeros, which are not a round-trip time.
  if (const auto* rtt = member(entry, "rtt"); rtt != nullptr && integer(*rtt, "cnt") > 0) {
    constexpr double k_microseconds = 1e6;
    result.rtt_avg_seconds = static_cast<double>(integer(*rtt, "avg")) / k_microseconds;
    result.rtt_p99_seconds = static_cast<double>(integer(*rtt, "p99")) / k_microseconds;
  }
  return result;
}

} // namespace

Statistics parse_statistics(std::string_view json) {
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  if (document.HasParseError() || !document.IsObject()) {
    throw std::invalid_argument("librdkafka's statistics are not a JSON object");
  }
  Statistics result;
  result.type = text(document, "type");
  result.producer_queue_messages = integer(document, "msg_cnt");
  result.producer_queue_bytes = integer(document, "msg_size");

  if (const auto* brokers = member(document, "brokers")) {
    for (const auto& [name, entry] : brokers->GetObject()) {
      // A bootstrap address not matched to a broker yet has node id -1. One
      // that was keeps source "configured" with the broker's id (a single
      // broker is listed only so), the others are "learned". "logical" ones
      // (GroupCoordinator) repeat a real broker's connection, and "internal"
      // is librdkafka's own queue.
      const auto source = text(entry, "source");
      const bool a_broker = source == "learned" || source == "configured";
      if (!entry.IsObject() || integer(entry, "nodeid") < 0 || !a_broker) {
        continue;
      }
      result.brokers.push_back(broker(entry));
    }
  }
  std::sort(result.brokers.begin(), result.brokers.end(),
            [](const BrokerStatistics& a, const BrokerStatistics& b) { return a.id < b.id; });

  // A consumer's partition fetch queues are forwarded to the one queue that
  // Consumer::poll reads, and librdkafka reports each forwarded queue's length
  // as that queue's: every partition shows the same figure. Summing would
  // count it once per partition, so the largest one is taken (equal to the
  // sum when the queues are not forwarded and only one holds messages).
  if (const auto* topics = member(document, "topics")) {
    for (const auto& [topic_name, topic] : topics->GetObject()) {
      const auto* partitions = member(topic, "partitions");
      if (partitions == nullptr) {
        continue;
      }
      for (const auto& [id, partition] : partitions->GetObject()) {
        if (integer(partition, "partition") < 0) {
          continue; // the unassigned pseudo-partition
        }
        result.fetch_queue_messages = std::max(result.fetch_queue_messages, integer(partition, "fetchq_cnt"));
        result.fetch_queue_bytes = std::max(result.fetch_queue_bytes, integer(partition, "fetchq_size"));
      }
    }
  }
  return result;
}

} // namespace foodpipe::kafka
