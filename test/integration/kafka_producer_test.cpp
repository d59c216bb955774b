// kafka::Producer against the real broker: the two ways it avoids per-message
// allocations (recycled common headers, lent values) must never let one
// message's bytes or headers leak into another's.

#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include <librdkafka/rdkafka.h>

#include <gtest/gtest.h>

#include "core/buffer_pool.hpp"
#include "kafka/admin.hpp"
#include "kafka/producer.hpp"
#include "kafka/reader.hpp"
#include "support/test_env.hpp"

namespace foodpipe::kafka {
namespace {

using namespace std::chrono_literals;

ClientSettings settings() { return {test::bootstrap_servers(), {}}; }

Headers run_headers(const std::string& run) {
  Headers headers(2);
  headers.add("content-type", "text/plain").add("run-id", run);
  return headers;
}

std::string topic_with_one_partition(const std::string& prefix) {
  const auto topic = test::unique_name(prefix);
  Admin admin(settings());
  (void)admin.create_topic(topic, 1, 1, {}, 10s);
  for (int i = 0; i < 50; ++i) {
    const auto metadata = admin.metadata(10s, topic);
    if (!metadata.topics.empty() && metadata.topics[0].error == RD_KAFKA_RESP_ERR_NO_ERROR) {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  return topic;
}

// Many more messages than the local queue holds, so that every header copy
// and every value buffer is reused many times while others are in flight.
TEST(KafkaProducer, LentValuesAndRecycledHeadersStayWithTheirMessage) {
  constexpr int k_messages = 30000;
  const auto topic = topic_with_one_partition("producer_lend");
  BufferPool buffers;
  int delivered = 0;
  int payload_was_the_lent_buffer = 0;
  Producer producer(
      settings(), {{"enable.idempotence", "true"}, {"linger.ms", "5"}, {"queue.buffering.max.messages", "1000"}},
      [&](kafka::MessageView message) {
        delivered += message.ok() ? 1 : 0;
        payload_was_the_lent_buffer += message.value().data() == message.opaque() ? 1 : 0;
        buffers.give_back({static_cast<const char*>(message.opaque()), message.value().size()});
      },
      run_headers("lend-test"));

  for (int i = 0; i < k_messages; ++i) {
    // Sizes vary over several of the pool's classes.
    const std::string value = "message " + std::to_string(i) + " " + std::string(static_cast<std::size_t>(i % 300), '.');
    const auto lent = buffers.fill(value);
    ASSERT_TRUE(producer.produce(topic, std::to_string(i), lent, nullptr, const_cast<char*>(lent.data()), {},
                                 Producer::Value::lend));
    if (i % 100 == 0) {
      producer.poll(0ms);
    }
  }
  ASSERT_EQ(producer.flush(30s), 0);
  EXPECT_EQ(delivered, k_messages);
  EXPECT_EQ(payload_was_the_lent_buffer, k_messages) << "a lent value is sent from where it is, not copied";
  EXPECT_LT(buffers.size(), 3000U) << "buffers come back and are reused: about one per message in flight";

  Reader reader(settings());
  const auto marks = reader.watermarks(topic, 0, 10s);
  ASSERT_EQ(marks.high - marks.low, k_messages);
  int checked = 0;
  reader.read(topic, {{0, marks.low, marks.high}}, [&](kafka::MessageView message) {
    const std::string key(message.key());
    const int i = std::stoi(key);
    const std::string expected = "message " + key + " " + std::string(static_cast<std::size_t>(i % 300), '.');
    EXPECT_EQ(std::string(message.value()), expected);
    const auto headers = message.headers();
    EXPECT_EQ(headers.size(), 2U) << "message " << i;
    if (headers.size() == 2U) {
      EXPECT_EQ(headers[0], (std::pair<std::string, std::string>{"content-type", "text/plain"}));
      EXPECT_EQ(headers[1], (std::pair<std::string, std::string>{"run-id", "lend-test"}));
    }
    ++checked;
    return true;
  });
  EXPECT_EQ(checked, k_messages);
}

TEST(KafkaProducer, APerMessageHeaderListIsRefusedWhenThereAreCommonHeaders) {
  Producer producer(settings(), {}, [](kafka::MessageView) {}, run_headers("x"));
  const auto own = run_headers("y");
  EXPECT_THROW((void)producer.produce("any-topic", "k", "v", &own, nullptr), std::invalid_argument);
}

TEST(KafkaProducer, WithoutCommonHeadersEachMessageKeepsItsOwn) {
  const auto topic = topic_with_one_partition("producer_own_headers");
  Producer producer(settings(), {{"enable.idempotence", "true"}}, [](kafka::MessageView) {});
  for (int i = 0; i < 100; ++i) {
    const auto headers = run_headers("run-" + std::to_string(i));
    ASSERT_TRUE(producer.produce(topic, std::to_string(i), "v", &headers, nullptr));
  }
  ASSERT_EQ(producer.flush(30s), 0);
  Reader reader(settings());
  const auto marks = reader.watermarks(topic, 0, 10s);
  std::set<std::string> runs;
  reader.read(topic, {{0, marks.low, marks.high}}, [&](kafka::MessageView message) {
    const auto headers = message.headers();
    EXPECT_EQ(headers.at(1).second, "run-" + std::string(message.key()));
    runs.insert(headers.at(1).second);
    return true;
  });
  EXPECT_EQ(runs.size(), 100U);
}

} // namespace
} // namespace foodpipe::kafka
