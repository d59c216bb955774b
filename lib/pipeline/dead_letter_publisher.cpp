#include "pipeline/dead_letter_publisher.hpp"


#include "core/log.hpp"
#include "db/sha256.hpp"
#include "domain/order_json.hpp"
#include "kafka/error.hpp"
#include "kafka/handles.hpp"
#include "kafka/producer.hpp"

namespace foodpipe::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

} // namespace

DeadLetterPublisher::DeadLetterPublisher(const kafka::ClientSettings& settings, const std::string& source_topic,
                                         std::string group)
    : m_topic(source_topic + ".dlq"), m_group(std::move(group)) {
  m_producer = std::make_unique<kafka::Producer>(
      settings,
      kafka::Properties{{"enable.idempotence", "true"},
                        {"acks", "all"},
                        {"linger.ms", "5"},
                        // A failure (topic deleted, brokers gone) is reported within
                        // half a minute and the batch retried, rather than after
                        // librdkafka's five minutes.
                        {"message.timeout.ms", "30000"}},
      [this](kafka::MessageView message) {
        const auto id = reinterpret_cast<std::uintptr_t>(message.opaque());
        on_delivery(id, message.ok(), message.too_large(), message.ok() ? std::string() : message.error_name());
      });
}

DeadLetterPublisher::~DeadLetterPublisher() = default;

void DeadLetterPublisher::on_delivery(std::uint64_t id, bool delivered, bool too_large, const std::string& error) {
  const auto it = m_in_flight.find(id);
  if (it == m_in_flight.end()) {
    return; // a letter of a batch that is over
  }
  const auto letter = m_letters.find(it->second);
  m_in_flight.erase(it);
  if (letter == m_letters.end()) {
    return;
  }
  if (delivered) {
    letter->second.state = State::delivered;
    return;
  }
  letter->second.state = State::failed;
  if (too_large && letter->second.cut < 2) {
    // The broker refused it (the topic's max.message.bytes): cut it further.
    ++letter->second.cut;
    letter->second.refused_for_size = true;
  }
  log::warning("consume", "dead letter not delivered",
               {{"topic", m_topic},
                {"partition", std::to_string(letter->first.first)},
                {"offset", std::to_string(letter->first.second)},
                {"error", error}});
}

void DeadLetterPublisher::send(const db::DeadLetter& letter, Letter& state, const Timestamps& timestamps) {
  for (;;) {
    kafka::Headers headers(10);
    const auto add = [&headers](std::string_view name, std::string_view value) { headers.add(name, value); };
    add("original-topic", letter.source_topic);
    add("original-partition", std::to_string(letter.partition));
    add("original-offset", std::to_string(letter.offset));
    const auto timestamp = timestamps.find({letter.partition, letter.offset});
    add("original-timestamp", timestamp == timestamps.end() ? std::string() : std::to_string(timestamp->second));
    add("reason-code", domain::to_string(letter.reason));
    add("reason-detail", state.cut < 2 ? std::string_view(letter.detail)
                                       : std::string_view(letter.detail).substr(0, 1024));
    add("consumer-group", m_group);

    std::string_view key = letter.key ? std::string_view(*letter.key) : std::string_view();
    std::string_view value = letter.payload ? std::string_view(*letter.payload) : std::string_view();
    if (state.cut > 0 && letter.payload) {
      add("payload-truncated", "true");
      add("original-size", std::to_string(letter.payload->size()));
      add("original-sha256", db::sha256_hex(*letter.payload));
      // Still a value (not a tombstone), shortened.
      value = state.cut == 1 ? value.substr(0, k_preview_bytes) : std::string_view("", 0);
      if (state.cut == 2) {
        key = letter.key ? std::string_view("", 0) : std::string_view();
      }
    }
    const std::uint64_t id = m_next_id++;
    try {
      (void)m_producer->produce(m_topic, key, value, &headers, reinterpret_cast<void*>(id));
    } catch (const kafka::KafkaError& error) {
      // Over librdkafka's own message.max.bytes: refused before it is queued.
      if (!error.too_large() || state.cut >= 2) {
        throw;
      }
      ++state.cut;
      continue;
    }
    if (state.cut > 0) {
      ++m_truncated;
      log::warning("consume", "dead letter too large for its topic; published cut, the table keeps it whole",
                   {{"topic", m_topic},
                    {"partition", std::to_string(letter.partition)},
                    {"offset", std::to_string(letter.offset)},
                    {"bytes", std::to_string(letter.payload ? letter.payload->size() : 0)}});
    }
    state.state = State::in_flight;
    state.refused_for_size = false;
    m_in_flight.emplace(id, Position{letter.partition, letter.offset});
    return;
  }
}

DeadLetterPublisher::Outcome DeadLetterPublisher::publish(const std::vector<db::DeadLetter>& letters,
                                                          const Timestamps& timestamps,
                                                          std::chrono::milliseconds wait,
                                                          const std::function<bool()>& keep_waiting) {
  const auto deadline = Clock::now() + wait;
  // New letters, and those that failed in an earlier attempt of this batch;
  // never one that is delivered or still in flight.
  for (const auto& letter : letters) {
    auto& state = m_letters[{letter.partition, letter.offset}];
    if (state.state == State::failed) {
      send(letter, state, timestamps);
    }
  }
  for (;;) {
    std::size_t in_flight = 0;
    bool failed = false;
    for (const auto& letter : letters) {
      auto& state = m_letters[{letter.partition, letter.offset}];
      if (state.state == State::failed && state.refused_for_size) {
        send(letter, state, timestamps); // the broker refused its size: at once, cut further
      }
      in_flight += state.state == State::in_flight ? 1 : 0;
      failed = failed || state.state == State::failed;
    }
    if (in_flight == 0) {
      return failed ? Outcome::failed : Outcome::delivered;
    }
    if (!keep_waiting()) {
      return Outcome::gave_up;
    }
    if (Clock::now() >= deadline) {
      return Outcome::failed; // the next attempt waits for these again, without re-sending them
    }
    (void)m_producer->poll(100ms);
    m_producer->throw_if_fatal();
  }
}

void DeadLetterPublisher::forget() noexcept {
  m_letters.clear();
  m_in_flight.clear();
}

void DeadLetterPublisher::poll() { m_producer->poll(0ms); }

void DeadLetterPublisher::close(std::chrono::milliseconds timeout) { (void)m_producer->close(timeout); }

} // namespace foodpipe::pipeline
