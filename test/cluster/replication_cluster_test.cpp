// Replication on the three-broker cluster of compose/up --brokers 3: produce
// creates its topics with three copies and min.insync.replicas 2 and says so;
// inspect topic shows them in sync; a broker killed with kill -9 moves the
// leadership of the partitions it led, inspect topic flags the partitions it
// left under-replicated (at the minimum ISR) or offline and doctor warns;
// brought back, every ISR is full again and the flags go.

#include <algorithm>
#include <csignal>
#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <thread>

#include <librdkafka/rdkafka.h>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "kafka/admin.hpp"
#include "kafka/error.hpp"
#include "kafka/group_admin.hpp"
#include "support/stack.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

kafka::ClientSettings cluster_settings() { return {test::cluster_bootstrap_servers(), {}}; }

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Polls `done` every 200 ms until it holds; false at `timeout`.
bool wait_until(const std::function<bool()>& done, std::chrono::seconds timeout) {
  for (const auto deadline = Clock::now() + timeout;; std::this_thread::sleep_for(200ms)) {
    if (done()) {
      return true;
    }
    if (Clock::now() >= deadline) {
      return false;
    }
  }
}

// foodpipe against the cluster.
test::CommandResult foodpipe(std::vector<std::string> args) {
  args.emplace_back("--bootstrap-servers");
  args.emplace_back(test::cluster_bootstrap_servers());
  return test::run_foodpipe(args);
}

std::vector<kafka::PartitionInfo> partitions_of(const std::string& topic) {
  kafka::Admin admin(cluster_settings());
  const auto metadata = admin.metadata(10s, topic);
  if (metadata.topics.size() != 1 || metadata.topics[0].error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return {};
  }
  return metadata.topics[0].partitions;
}

bool contains(const std::vector<std::int32_t>& ids, std::int32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// The topic's configuration once a broker that knows the topic answers (each
// learns of it from the metadata log in its own time).
std::map<std::string, std::string> config_of(const std::string& topic) {
  kafka::GroupAdmin admin(cluster_settings());
  std::map<std::string, std::string> config;
  EXPECT_TRUE(wait_until(
      [&] {
        try {
          config = admin.topic_config(topic, 10s);
          return true;
        } catch (const kafka::KafkaError&) {
          return false;
        }
      },
      30s))
      << "no configuration for " << topic;
  return config;
}

// `inspect topic --json` of `topic`; its first entry of "topics" is the topic, the second its .dlq.
rapidjson::Document inspect_json(const std::string& topic) {
  const auto result = foodpipe({"inspect", "topic", "--topic", topic, "--json"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return test::parse_json(result.out);
}

TEST(ClusterReplication, ProduceChoosesThreeCopiesAndTwoInSyncAndSetsThemOnTheBroker) {
  ASSERT_TRUE(test::wait_until_fully_replicated(60s)) << "the cluster did not start with full ISRs";
  const auto topic = test::unique_name("cluster_replication");
  const auto result = foodpipe({"produce", "--topic", topic, "--count", "300", "--rate", "0", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto summary = test::parse_json(result.out);
  EXPECT_EQ(summary["delivered"].GetUint64(), 300U);
  EXPECT_EQ(summary["replication_factor"].GetInt(), 3);
  EXPECT_EQ(summary["min_insync_replicas"].GetInt(), 2);
  EXPECT_EQ(summary["cluster_brokers"].GetInt(), 3);
  EXPECT_NE(result.err.find("info [produce] replication of created topics replication_factor=3 "
                            "min_insync_replicas=2 brokers=3 requested=none\n"),
            std::string::npos)
      << result.err;

  for (const auto& name : {topic, topic + ".dlq"}) {
    std::vector<kafka::PartitionInfo> partitions;
    EXPECT_TRUE(wait_until(
        [&] {
          partitions = partitions_of(name);
          return partitions.size() == 3 &&
                 std::all_of(partitions.begin(), partitions.end(),
                             [](const kafka::PartitionInfo& p) { return p.in_sync_replicas.size() == 3; });
        },
        30s))
        << name << ": three partitions with three replicas in sync";
    for (const auto& partition : partitions) {
      EXPECT_EQ(partition.replicas.size(), 3U) << name << "/" << partition.id;
    }
    EXPECT_EQ(config_of(name)["min.insync.replicas"], "2") << name;
  }

  // inspect topic: three replicas, all in sync, the minimum of 2.
  const auto view = inspect_json(topic);
  const auto& t = view["topics"][0];
  EXPECT_EQ(t["replication_factor"].GetInt(), 3);
  EXPECT_EQ(t["min_insync_replicas"].GetInt(), 2);
  EXPECT_EQ(t["under_replicated_partitions"].GetInt(), 0);
  EXPECT_EQ(t["offline_partitions"].GetInt(), 0);
  EXPECT_EQ(t["messages"].GetInt64(), 300);
  for (const auto& p : t["partitions"].GetArray()) {
    EXPECT_EQ(p["replicas"].Size(), 3U);
    EXPECT_EQ(p["isr"].Size(), 3U);
    EXPECT_FALSE(p["under_replicated"].GetBool());
    EXPECT_FALSE(p["isr_at_min"].GetBool());
  }
  const auto text = foodpipe({"inspect", "topic", "--topic", topic});
  EXPECT_NE(text.out.find("replication factor 3, min.insync.replicas 2\n"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("under-replicated"), std::string::npos) << text.out;
}

TEST(ClusterReplication, WhatIsAskedForIsSetAndNoMoreThanThreeCopies) {
  const auto topic = test::unique_name("cluster_replication_asked");
  // min.insync.replicas 1 differs from the cluster's default of 2: seeing it proves it was set on the topic.
  const auto asked = foodpipe({"produce", "--topic", topic, "--count", "1", "--rate", "0", "--json",
                               "--replication-factor", "2", "--min-insync-replicas", "1"});
  ASSERT_EQ(asked.exit_code, 0) << asked.err;
  EXPECT_EQ(test::parse_json(asked.out)["replication_factor"].GetInt(), 2);
  EXPECT_EQ(config_of(topic)["min.insync.replicas"], "1");
  for (const auto& partition : partitions_of(topic)) {
    EXPECT_EQ(partition.replicas.size(), 2U) << partition.id;
  }

  const auto refused = foodpipe({"produce", "--topic", test::unique_name("cluster_replication_refused"), "--count",
                                 "1", "--replication-factor", "4"});
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_EQ(refused.err, "foodpipe: error: --replication-factor 4: the cluster at " +
                             test::cluster_bootstrap_servers() + " has only 3 brokers; use at most 3\n");
}

// A topic someone else made (three copies, no .dlq): consume creates the .dlq
// with the topic's copies and two of them in sync.
TEST(ClusterReplication, ConsumeGivesTheDeadLetterTopicItCreatesTheTopicsCopies) {
  const auto topic = test::unique_name("cluster_foreign");
  kafka::Admin(cluster_settings()).create_topic(topic, 3, 3, {}, 30s);
  test::ScratchDatabase db{"fpclusterdlq"};
  ASSERT_EQ(test::run_foodpipe({"seed-db", "--db", db.uri()}).exit_code, 0);
  const auto consumed = foodpipe({"consume", "--topic", topic, "--db", db.uri(), "--group",
                                  test::unique_name("group"), "--until-end"});
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  EXPECT_NE(consumed.err.find("created the dead-letter topic"), std::string::npos) << consumed.err;
  const auto dlq = topic + ".dlq";
  // Created moments ago: each broker learns of it from the controller at its own pace.
  std::vector<kafka::PartitionInfo> partitions;
  ASSERT_TRUE(wait_until([&] { return !(partitions = partitions_of(dlq)).empty(); }, 30s)) << dlq;
  ASSERT_EQ(partitions.size(), 3U);
  for (const auto& partition : partitions) {
    EXPECT_EQ(partition.replicas.size(), 3U) << partition.id;
  }
  EXPECT_EQ(config_of(dlq)["min.insync.replicas"], "2");
}

// The SASL_SSL listeners of compose/up --brokers 3 --secure: the client file
// names all three, and the pipeline runs through them end to end.
TEST(ClusterReplication, ThePipelineRunsOverSaslSslOnThreeBrokers) {
  const auto config = test::secure_client_properties();
  const auto topic = test::unique_name("cluster_secure");
  const auto group = test::unique_name("group");
  test::ScratchDatabase db{"fpclustersecure"};
  ASSERT_EQ(test::run_foodpipe({"seed-db", "--db", db.uri()}).exit_code, 0);
  const auto secure = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--config", config});
    return test::run_foodpipe(args);
  };

  const auto produced = secure({"produce", "--topic", topic, "--count", "3000", "--rate", "0", "--json", "--quiet"});
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  EXPECT_EQ(test::parse_json(produced.out)["delivered"].GetUint64(), 3000U);
  EXPECT_EQ(test::parse_json(produced.out)["replication_factor"].GetInt(), 3);

  const auto consumed = secure({"consume", "--topic", topic, "--db", db.uri(), "--group", group, "--until-end",
                                "--json", "--quiet"});
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  EXPECT_EQ(test::query_value(db.conninfo(), "SELECT count(*) FROM orders"), "3000");

  const auto verify = secure({"inspect", "--verify", "--db", db.uri(), "--topic", topic, "--group", group, "--quiet"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;

  const auto view = secure({"inspect", "topic", "--topic", topic, "--json"});
  ASSERT_EQ(view.exit_code, 0) << view.err;
  const auto json = test::parse_json(view.out);
  EXPECT_EQ(json["brokers"].Size(), 3U);
  EXPECT_EQ(json["topics"][0]["replication_factor"].GetInt(), 3);

  const auto doctor = secure({"doctor", "--db", db.uri(), "--json"});
  EXPECT_EQ(doctor.exit_code, 0) << doctor.out << doctor.err;
  EXPECT_EQ(test::parse_json(doctor.out)["kafka"]["brokers"].GetInt(), 3) << doctor.out;
}

TEST(ClusterReplication, AKilledBrokerIsFlaggedByInspectAndDoctorUntilItIsBack) {
  test::RestartKilledBrokers restore;
  ASSERT_TRUE(test::wait_until_fully_replicated(60s)) << "the cluster did not start with full ISRs";
  test::ScratchDatabase db("fpreplication");
  ASSERT_EQ(test::run_foodpipe({"seed-db", "--db", db.uri()}).exit_code, 0);

  const auto topic = test::unique_name("cluster_failover");
  const auto single = test::unique_name("cluster_single_copy"); // one copy: offline with its broker
  for (const auto& [name, factor] : {std::pair{topic, "3"}, std::pair{single, "1"}}) {
    const auto produced = foodpipe({"produce", "--topic", name, "--count", "300", "--rate", "0", "--quiet",
                                    "--replication-factor", factor});
    ASSERT_EQ(produced.exit_code, 0) << produced.err;
  }
  std::vector<kafka::PartitionInfo> before;
  ASSERT_TRUE(wait_until(
      [&] {
        before = partitions_of(topic);
        return before.size() == 3 && std::all_of(before.begin(), before.end(), [](const kafka::PartitionInfo& p) {
                 return p.in_sync_replicas.size() == 3;
               });
      },
      30s));

  // The broker that leads partition 0: the one whose loss moves leadership.
  const std::int32_t victim = before[0].leader;
  ASSERT_GE(victim, 1);
  ASSERT_LE(victim, test::k_cluster_nodes);
  std::vector<std::int32_t> led;
  for (const auto& partition : before) {
    if (partition.leader == victim) {
      led.push_back(partition.id);
    }
  }
  std::int32_t single_on_victim = -1;
  for (const auto& partition : partitions_of(single)) {
    if (partition.replicas == std::vector<std::int32_t>{victim}) {
      single_on_victim = partition.id;
    }
  }
  ASSERT_GE(single_on_victim, 0) << "three partitions of one copy: one of them on each broker";

  ASSERT_GT(test::kill_broker(victim), 0);
  const auto killed_at = Clock::now();

  // At once, before the controller has fenced it, the dead broker is still
  // named leader and controller: the view answers all the same, within its
  // timeouts (librdkafka 2.0's watermark query alone would wait for the
  // broker's return), and says what it could not read.
  {
    const auto asked_at = Clock::now();
    const double after_s = seconds_since(killed_at);
    const auto early = foodpipe({"inspect", "topic", "--topic", topic, "--connect-timeout", "3"});
    const double took_s = seconds_since(asked_at);
    EXPECT_EQ(early.exit_code, 0) << early.err;
    EXPECT_LT(took_s, 20.0) << early.out;
    std::cout << "[replication] inspect topic " << after_s << " s after the kill took " << took_s
              << " s\n";
  }

  // The controller fences the dead broker: its partitions get other leaders, it leaves every ISR.
  std::vector<kafka::PartitionInfo> after;
  ASSERT_TRUE(wait_until(
      [&] {
        after = partitions_of(topic);
        const auto single_now = partitions_of(single);
        return after.size() == 3 &&
               std::all_of(after.begin(), after.end(),
                           [&](const kafka::PartitionInfo& p) {
                             return p.leader >= 0 && p.leader != victim && !contains(p.in_sync_replicas, victim);
                           }) &&
               single_now.size() == 3 && single_now[static_cast<std::size_t>(single_on_victim)].leader < 0;
      },
      60s))
      << "node " << victim << " still leads or is in sync " << seconds_since(killed_at) << " s after kill -9";
  const double moved_s = seconds_since(killed_at);

  // inspect topic: every partition under-replicated at the minimum ISR, none offline, offsets readable.
  // Each broker's metadata cache catches up in its own time: ask until the one that answers has.
  {
    rapidjson::Document view;
    EXPECT_TRUE(wait_until(
        [&] {
          view = inspect_json(topic);
          const auto& partitions = view["topics"][0]["partitions"].GetArray();
          return view["missing_brokers"].Size() == 1 &&
                 view["topics"][0]["under_replicated_partitions"].GetInt() == 3 &&
                 std::all_of(partitions.begin(), partitions.end(),
                             [](const rapidjson::Value& p) { return p["high"].IsInt64(); });
        },
        30s))
        << "inspect topic never showed node " << victim << " missing and every partition under-replicated";
    ASSERT_EQ(view["missing_brokers"].Size(), 1U);
    EXPECT_EQ(view["missing_brokers"][0].GetInt(), victim);
    const auto& t = view["topics"][0];
    EXPECT_EQ(t["replication_factor"].GetInt(), 3);
    EXPECT_EQ(t["under_replicated_partitions"].GetInt(), 3);
    EXPECT_EQ(t["offline_partitions"].GetInt(), 0);
    EXPECT_EQ(t["messages"].GetInt64(), 300) << "every message is still there";
    for (const auto& p : t["partitions"].GetArray()) {
      const auto id = p["partition"].GetInt();
      EXPECT_TRUE(p["under_replicated"].GetBool()) << id;
      EXPECT_TRUE(p["isr_at_min"].GetBool()) << id << ": two of three in sync, the minimum";
      EXPECT_FALSE(p["isr_below_min"].GetBool()) << id;
      EXPECT_FALSE(p["offline"].GetBool()) << id;
      EXPECT_NE(p["leader"].GetInt(), victim) << id;
      EXPECT_EQ(p["isr"].Size(), 2U) << id;
      EXPECT_TRUE(p["high"].IsInt64()) << id;
    }
    const auto broker_note =
        "  ! broker " + std::to_string(victim) + " holds replicas below but is not in the cluster's metadata";
    test::CommandResult text;
    EXPECT_TRUE(wait_until(
        [&] {
          text = foodpipe({"inspect", "topic", "--topic", topic});
          return text.out.find(broker_note) != std::string::npos &&
                 text.out.find("offsets unknown") == std::string::npos;
        },
        30s))
        << text.out;
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("under-replicated, at min ISR"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("  ! partitions 0,1,2: under-replicated (ISR smaller than replicas; broker " +
                            std::to_string(victim) + " not in sync)"),
              std::string::npos)
        << text.out;
    EXPECT_NE(text.out.find("  ! partitions 0,1,2: exactly min.insync.replicas 2 in sync"), std::string::npos)
        << text.out;
    std::cout << "[replication] inspect topic with node " << victim << " killed:\n" << text.out;
  }
  // The topic with one copy: that partition is offline, its offsets unknown, the view still answers.
  {
    const auto view = inspect_json(single);
    const auto& t = view["topics"][0];
    EXPECT_EQ(t["offline_partitions"].GetInt(), 1);
    const auto& p = t["partitions"][static_cast<rapidjson::SizeType>(single_on_victim)];
    EXPECT_TRUE(p["offline"].GetBool());
    EXPECT_EQ(p["leader"].GetInt(), -1);
    EXPECT_TRUE(p["high"].IsNull()) << "no leader to ask";
    const auto text = foodpipe({"inspect", "topic", "--topic", single});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("  ! partition " + std::to_string(single_on_victim) + ": offline (no leader)"),
              std::string::npos)
        << text.out;
    std::cout << "[replication] inspect topic of one copy with node " << victim << " killed:\n" << text.out;
  }
  // doctor: warns about both, and still passes.
  {
    test::CommandResult result;
    EXPECT_TRUE(wait_until(
        [&] {
          result = foodpipe({"doctor", "--json", "--db", db.uri()});
          return test::parse_json(result.out)["kafka"]["missing_brokers"].Size() == 1;
        },
        30s))
        << result.out;
    EXPECT_EQ(result.exit_code, 0) << "warnings do not fail doctor: " << result.out;
    const auto report = test::parse_json(result.out);
    const auto& kafka = report["kafka"];
    EXPECT_EQ(kafka["brokers"].GetInt(), 2) << "the metadata lists the brokers alive";
    ASSERT_EQ(kafka["missing_brokers"].Size(), 1U) << result.out;
    EXPECT_EQ(kafka["missing_brokers"][0].GetInt(), victim) << "named among the replicas, absent from the metadata";
    EXPECT_EQ(kafka["expected_replication_factor"].GetInt(), 3) << "the dead broker still counts";
    bool saw_topic = false;
    bool saw_single = false;
    for (const auto& entry : kafka["replication"].GetArray()) {
      const std::string name = entry["topic"].GetString();
      if (name == topic) {
        saw_topic = true;
        EXPECT_EQ(entry["under_replicated_partitions"].Size(), 3U);
        EXPECT_EQ(entry["offline_partitions"].Size(), 0U);
      } else if (name == single) {
        saw_single = true;
        ASSERT_EQ(entry["offline_partitions"].Size(), 1U);
        EXPECT_EQ(entry["offline_partitions"][0].GetInt(), single_on_victim);
      }
    }
    EXPECT_TRUE(saw_topic) << result.out;
    EXPECT_TRUE(saw_single) << result.out;
    std::string warnings;
    for (const auto& warning : kafka["warnings"].GetArray()) {
      warnings += std::string(warning.GetString()) + "\n";
    }
    EXPECT_NE(warnings.find("under-replicated (fewer replicas in sync than assigned)"), std::string::npos)
        << warnings;
    EXPECT_NE(warnings.find("offline (no leader)"), std::string::npos) << warnings;
    EXPECT_NE(warnings.find("broker " + std::to_string(victim) + " holds replicas but is not in the cluster's metadata"),
              std::string::npos)
        << warnings;

    const auto text = foodpipe({"doctor", "--db", db.uri()});
    EXPECT_EQ(text.exit_code, 0) << text.out;
    EXPECT_NE(text.out.find("  warning  "), std::string::npos) << text.out;
    std::cout << "[replication] doctor with node " << victim << " killed:\n" << text.out;
  }

  // Back: every ISR full again, and the flags go.
  const auto restart_at = Clock::now();
  ASSERT_TRUE(test::start_broker(victim, /*wait_for_isr=*/true));
  rapidjson::Document view;
  const bool healed = wait_until(
      [&] {
        view = inspect_json(topic);
        return view["missing_brokers"].Size() == 0 &&
               view["topics"][0]["under_replicated_partitions"].GetInt() == 0 &&
               inspect_json(single)["topics"][0]["offline_partitions"].GetInt() == 0;
      },
      60s);
  const double healed_s = seconds_since(restart_at);
  EXPECT_TRUE(healed) << topic << " or " << single << " still flagged 60 s after node " << victim << " started";
  for (const auto& p : view["topics"][0]["partitions"].GetArray()) {
    EXPECT_EQ(p["isr"].Size(), 3U) << p["partition"].GetInt();
    EXPECT_FALSE(p["isr_at_min"].GetBool());
  }
  test::CommandResult text;
  EXPECT_TRUE(wait_until(
      [&] {
        text = foodpipe({"inspect", "topic", "--topic", topic});
        return text.exit_code == 0 && text.out.find("under-replicated") == std::string::npos &&
               text.out.find("  ! ") == std::string::npos;
      },
      30s))
      << text.out;
  test::CommandResult result;
  EXPECT_TRUE(wait_until(
      [&] {
        result = foodpipe({"doctor", "--json", "--db", db.uri()});
        const auto report = test::parse_json(result.out);
        return report["kafka"]["brokers"].GetInt() == 3 && report["kafka"]["missing_brokers"].Size() == 0;
      },
      30s))
      << result.out;
  const auto report = test::parse_json(result.out);
  for (const auto& entry : report["kafka"]["replication"].GetArray()) {
    EXPECT_NE(std::string(entry["topic"].GetString()), topic) << result.out;
    if (std::string(entry["topic"].GetString()) == single) {
      EXPECT_EQ(entry["offline_partitions"].Size(), 0U);
      EXPECT_TRUE(entry["below_cluster_size"].GetBool()) << "one copy on three brokers is still a finding";
    }
  }
  std::cout << "[replication] node " << victim << " killed: the partitions it led (" << led.size()
            << " of 3) had new leaders and every ISR had shrunk after " << moved_s
            << " s; after compose/broker start the flags cleared in " << healed_s << " s\n";
}


// The last whole line a background command has written (a line still being
// written is not taken); empty when there is none yet.
std::string last_line(const test::BackgroundFoodpipe& command) {
  auto text = command.stdout_so_far();
  if (const auto end = text.rfind('\n'); end != std::string::npos) {
    text.resize(end);
  } else {
    return {};
  }
  const auto start = text.rfind('\n');
  return start == std::string::npos ? text : text.substr(start + 1);
}

// inspect --watch follows the cluster through a total outage: every broker is
// killed, each sample says that Kafka is away (the database half goes on), and
// once the brokers are back the samples have the group's lag again, from the
// same process and the same clients.
TEST(ClusterReplication, AWatchShowsEveryBrokerAwayAndFollowsThemBack) {
  test::RestartKilledBrokers restore;
  ASSERT_TRUE(test::wait_until_fully_replicated(60s)) << "the cluster did not start with full ISRs";
  test::ScratchDatabase db("fpwatchcluster");
  ASSERT_EQ(test::run_foodpipe({"seed-db", "--db", db.uri()}).exit_code, 0);
  const auto topic = test::unique_name("cluster_watch");
  const auto group = test::unique_name("cluster_watch_group");
  const auto produced =
      foodpipe({"produce", "--topic", topic, "--count", "50", "--rate", "0", "--quiet", "--replication-factor", "3"});
  ASSERT_EQ(produced.exit_code, 0) << produced.err;

  test::BackgroundFoodpipe watch({"inspect", "group", "--watch", "--json", "--interval", "0.5", "--connect-timeout",
                                  "3", "--bootstrap-servers", test::cluster_bootstrap_servers(), "--db", db.uri(),
                                  "--topic", topic, "--group", group});
  // Polls the newest sample until `holds`; false at `timeout`.
  const auto newest_sample = [&watch](const std::function<bool(const rapidjson::Document&)>& holds,
                                      std::chrono::seconds timeout) {
    return wait_until(
        [&] {
          const auto line = last_line(watch);
          if (line.empty()) {
            return false;
          }
          const auto sample = test::parse_json(line);
          return sample.IsObject() && holds(sample);
        },
        timeout);
  };
  const auto lag_is_50 = [](const rapidjson::Document& sample) {
    return sample["kafka"]["ok"].GetBool() && sample["group"].IsObject() &&
           sample["group"]["total_lag"].GetInt64() == 50;
  };
  ASSERT_TRUE(newest_sample(lag_is_50, 30s)) << "before the outage\n" << watch.stdout_so_far() << watch.stderr_so_far();

  for (int node = 1; node <= test::k_cluster_nodes; ++node) {
    ASSERT_GT(test::kill_broker(node), 0) << "node " << node;
  }
  const auto killed_at = Clock::now();
  EXPECT_TRUE(newest_sample(
      [](const rapidjson::Document& sample) {
        return !sample["kafka"]["ok"].GetBool() && sample["kafka"]["error"].IsString() && sample["group"].IsNull() &&
               sample["database"]["ok"].GetBool();
      },
      60s))
      << "every broker away: the samples say so and the database half goes on\n"
      << last_line(watch);
  std::cout << "[watch] Kafka shown away " << seconds_since(killed_at) << " s after the kills\n";
  const auto lines_while_away = test::lines_of(watch.stdout_so_far()).size();
  ASSERT_TRUE(wait_until([&] { return test::lines_of(watch.stdout_so_far()).size() >= lines_while_away + 3; }, 30s))
      << "the watch stopped sampling while the brokers were away";

  ASSERT_TRUE(test::start_broker(1)) << "the brokers did not come back";
  const auto back_at = Clock::now();
  EXPECT_TRUE(newest_sample(lag_is_50, 90s)) << "the brokers are back: so is the group's lag\n" << last_line(watch);
  std::cout << "[watch] the lag shown again " << seconds_since(back_at) << " s after the brokers answered\n";

  watch.signal(SIGINT);
  const auto stopped = watch.wait(30);
  EXPECT_EQ(stopped.exit_code, 130) << stopped.err;
}

} // namespace
} // namespace foodpipe
