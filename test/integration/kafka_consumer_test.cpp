// kafka::Consumer's contract with its owner, on the real broker: what assign()
// promises holds across the rebalances a real group goes through.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "kafka/consumer.hpp"
#include "support/foreign_topic.hpp"
#include "support/test_env.hpp"

namespace foodpipe::kafka {
namespace {

using namespace std::chrono_literals;

// Starts every assigned partition at the log start; on revocation it pauses
// what it loses, as the consume job does when it rewinds a batch found stale
// while its partitions were being revoked.
class PausingOwner : public RebalanceHandler {
public:
  explicit PausingOwner(std::string topic) : m_topic(std::move(topic)) {}
  void attach(Consumer& consumer) { m_consumer = &consumer; }

  void on_assign(const std::vector<std::int32_t>& partitions) override {
    std::map<std::int32_t, std::int64_t> starts;
    for (const auto partition : partitions) {
      starts[partition] = k_offset_beginning;
    }
    m_consumer->assign(m_topic, starts);
    assigned = partitions;
    ++assignments;
    seen.clear();
  }
  void on_revoke(const std::vector<std::int32_t>& partitions) override { m_consumer->pause(m_topic, partitions); }

  std::vector<std::int32_t> assigned;
  int assignments = 0;
  std::set<std::pair<std::int32_t, std::int64_t>> seen; // since the last assignment

private:
  std::string m_topic;
  Consumer* m_consumer = nullptr;
};

Properties quick_group() { return {{"heartbeat.interval.ms", "300"}, {"session.timeout.ms", "6000"}}; }

// Polls until `done` or the deadline; true when `done`.
bool poll_until(Consumer& consumer, PausingOwner& owner, const std::function<bool()>& done,
                std::chrono::seconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (const auto message = consumer.poll(100ms); message && message.ok()) {
      owner.seen.emplace(message.partition(), message.offset());
    }
    if (done()) {
      return true;
    }
  }
  return false;
}

TEST(KafkaConsumer, APartitionPausedAtRevocationFetchesAgainWhenItIsAssignedBack) {
  const auto topic = test::unique_name("consumer_pause");
  const auto group = test::unique_name("consumer_pause_group");
  test::create_topic(topic, 2);
  // 40 orders keyed by customer: both partitions get some.
  const auto lines = test::order_lines(40, 7, "pause");
  {
    Producer producer(test::kafka_settings(), {{"linger.ms", "0"}}, [](MessageView /*report*/) {});
    for (const auto& line : lines) {
      const auto tab = line.find('\t');
      producer.produce(topic, line.substr(0, tab), line.substr(tab + 1), nullptr, nullptr);
    }
    ASSERT_EQ(producer.flush(30s), 0);
  }
  const auto settings = ClientSettings{test::bootstrap_servers(), quick_group()};

  PausingOwner owner(topic);
  Consumer consumer(settings, group, owner);
  owner.attach(consumer);
  consumer.subscribe(topic);
  ASSERT_TRUE(poll_until(consumer, owner, [&] { return owner.seen.size() == lines.size(); }, 30s))
      << "read " << owner.seen.size() << " of " << lines.size() << " before any rebalance";

  // A second member joins: the first is revoked (and pauses both), then given one partition.
  PausingOwner other_owner(topic);
  {
    Consumer other(settings, group, other_owner);
    other_owner.attach(other);
    other.subscribe(topic);
    const auto split = [&] { return owner.assigned.size() == 1 && other_owner.assigned.size() == 1; };
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (!split() && std::chrono::steady_clock::now() < until) {
      (void)consumer.poll(50ms);
      (void)other.poll(50ms);
    }
    ASSERT_TRUE(split()) << "the group did not split the partitions between its two members";
    // The second member leaves: the first is revoked again, pausing its partition, and
    // gets both back.
    other.close();
  }
  const auto assignments_before = owner.assignments;
  ASSERT_TRUE(poll_until(consumer, owner, [&] { return owner.assignments > assignments_before; }, 30s))
      << "the remaining member was not given the partitions back";
  ASSERT_EQ(owner.assigned.size(), 2U);

  // Each partition it holds now is read again from the start: neither stays paused.
  EXPECT_TRUE(poll_until(consumer, owner, [&] { return owner.seen.size() == lines.size(); }, 20s))
      << "after the rebalance only " << owner.seen.size() << " of " << lines.size()
      << " messages arrived: a partition paused at revocation stayed paused";
  consumer.close();
}

} // namespace
} // namespace foodpipe::kafka
