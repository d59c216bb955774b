// librdkafka's statistics, parsed from documents librdkafka 2.0.2 emitted
// against the local broker (the topic renamed food-orders), and what the
// produce and consume metrics make of them.

#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/metrics.hpp"
#include "kafka/statistics.hpp"
#include "pipeline/metrics.hpp"

namespace foodpipe {
namespace {

// A group consumer of a three-partition topic on one broker, 1 s into its
// run, its application polling slowly: 5992 messages wait in the fetch queue
// (every partition reports the one queue they are forwarded to), and the
// round-trip times include the broker's wait for data to fetch (about 0.5 s).
constexpr const char* k_consumer_document = R"json({
  "name": "rdkafka#consumer-2", "client_id": "rdkafka", "type": "consumer", "ts": 490432121,
  "time": 1796626368, "age": 1007368, "replyq": 5992, "msg_cnt": 0, "msg_size": 0, "msg_max": 0,
  "msg_size_max": 0, "simple_cnt": 0, "metadata_cache_cnt": 1,
  "brokers": {
    "localhost:9092/1": {
      "name": "localhost:9092/1", "nodeid": 1, "nodename": "localhost:9092", "source": "configured",
      "state": "UP", "stateage": 995134, "outbuf_cnt": 0, "outbuf_msg_cnt": 0, "waitresp_cnt": 1,
      "waitresp_msg_cnt": 0, "tx": 12, "txbytes": 1086, "txerrs": 0, "txretries": 0, "txidle": 373966,
      "req_timeouts": 0, "rx": 11, "rxbytes": 108342, "rxerrs": 0, "rxcorriderrs": 0, "rxpartial": 0,
      "rxidle": 374019, "zbuf_grow": 0, "buf_grow": 0, "wakeups": 33, "connects": 1, "disconnects": 0,
      "int_latency": {
        "min": 0, "max": 0, "avg": 0, "sum": 0, "stddev": 0, "p50": 0, "p75": 0, "p90": 0, "p95": 0,
        "p99": 0, "p99_99": 0, "outofrange": 0, "hdrsize": 11376, "cnt": 0
      },
      "outbuf_latency": {
        "min": 4, "max": 944, "avg": 251, "sum": 3014, "stddev": 395, "p50": 26, "p75": 47, "p90": 943,
        "p95": 943, "p99": 947, "p99_99": 947, "outofrange": 0, "hdrsize": 11376, "cnt": 12
      },
      "rtt": {
        "min": 35, "max": 502018, "avg": 46681, "sum": 513497, "stddev": 144211, "p50": 983,
        "p75": 1463, "p90": 2863, "p95": 2863, "p99": 503807, "p99_99": 503807, "outofrange": 0,
        "hdrsize": 13424, "cnt": 11
      },
      "throttle": {
        "min": 0, "max": 0, "avg": 0, "sum": 0, "stddev": 0, "p50": 0, "p75": 0, "p90": 0, "p95": 0,
        "p99": 0, "p99_99": 0, "outofrange": 0, "hdrsize": 17520, "cnt": 0
      },
      "req": {
        "Fetch": 4, "ListOffsets": 3, "Metadata": 2, "OffsetCommit": 0, "OffsetFetch": 0,
        "FindCoordinator": 2, "JoinGroup": 0, "Heartbeat": 0, "LeaveGroup": 0, "SyncGroup": 0,
        "SaslHandshake": 0, "ApiVersion": 1, "SaslAuthenticate": 0, "OffsetDeleteRequest": 0,
        "DescribeClientQuotasRequest": 0, "AlterClientQuotasRequest": 0,
        "DescribeUserScramCredentialsRequest": 0
      },
      "toppars": {
        "food-orders-0": {"topic": "food-orders", "partition": 0},
        "food-orders-1": {"topic": "food-orders", "partition": 1},
        "food-orders-2": {"topic": "food-orders", "partition": 2}
      }
    },
    "GroupCoordinator": {
      "name": "GroupCoordinator", "nodeid": 1, "nodename": "localhost:9092", "source": "logical",
      "state": "UP", "stateage": 993640, "outbuf_cnt": 0, "outbuf_msg_cnt": 0, "waitresp_cnt": 0,
      "waitresp_msg_cnt": 0, "tx": 8, "txbytes": 969, "txerrs": 0, "txretries": 0, "txidle": 985855,
      "req_timeouts": 0, "rx": 8, "rxbytes": 1233, "rxerrs": 0, "rxcorriderrs": 0, "rxpartial": 0,
      "rxidle": 983788, "zbuf_grow": 0, "buf_grow": 0, "wakeups": 21, "connects": 1, "disconnects": 0,
      "int_latency": {
        "min": 0, "max": 0, "avg": 0, "sum": 0, "stddev": 0, "p50": 0, "p75": 0, "p90": 0, "p95": 0,
        "p99": 0, "p99_99": 0, "outofrange": 0, "hdrsize": 11376, "cnt": 0
      },
      "outbuf_latency": {
        "min": 14, "max": 25, "avg": 18, "sum": 147, "stddev": 3, "p50": 16, "p75": 19, "p90": 24,
        "p95": 25, "p99": 25, "p99_99": 25, "outofrange": 0, "hdrsize": 11376, "cnt": 8
      },
      "rtt": {
        "min": 464, "max": 2843, "avg": 1355, "sum": 10842, "stddev": 789, "p50": 1071, "p75": 1655,
        "p90": 2079, "p95": 2847, "p99": 2847, "p99_99": 2847, "outofrange": 0, "hdrsize": 13424,
        "cnt": 8
      },
      "throttle": {
        "min": 0, "max": 0, "avg": 0, "sum": 0, "stddev": 0, "p50": 0, "p75": 0, "p90": 0, "p95": 0,
        "p99": 0, "p99_99": 0, "outofrange": 0, "hdrsize": 17520, "cnt": 0
      },
      "req": {
        "Fetch": 0, "ListOffsets": 0, "Metadata": 2, "OffsetCommit": 0, "OffsetFetch": 1,
        "FindCoordinator": 0, "JoinGroup": 2, "Heartbeat": 1, "LeaveGroup": 0, "SyncGroup": 1,
        "SaslHandshake": 0, "ApiVersion": 1, "SaslAuthenticate": 0, "OffsetDeleteRequest": 0,
        "DescribeClientQuotasRequest": 0, "AlterClientQuotasRequest": 0,
        "DescribeUserScramCredentialsRequest": 0
      },
      "toppars": {}
    }
  },
  "topics": {
    "food-orders": {
      "topic": "food-orders", "age": 986, "metadata_age": 987,
      "batchsize": {
        "min": 18890, "max": 37780, "avg": 28335, "sum": 56670, "stddev": 9440, "p50": 18943,
        "p75": 37887, "p90": 37887, "p95": 37887, "p99": 37887, "p99_99": 37887, "outofrange": 0,
        "hdrsize": 14448, "cnt": 2
      },
      "batchcnt": {
        "min": 2000, "max": 4000, "avg": 3000, "sum": 6000, "stddev": 1002, "p50": 2007, "p75": 4015,
        "p90": 4015, "p95": 4015, "p99": 4015, "p99_99": 4015, "outofrange": 0, "hdrsize": 8304,
        "cnt": 2
      },
      "partitions": {
        "0": {
          "partition": 0, "broker": 1, "leader": 1, "desired": true, "unknown": false, "msgq_cnt": 0,
          "msgq_bytes": 0, "xmit_msgq_cnt": 0, "xmit_msgq_bytes": 0, "fetchq_cnt": 5992,
          "fetchq_size": 56614, "fetch_state": "active", "query_offset": -2, "next_offset": 0,
          "app_offset": -1001, "stored_offset": -1001, "commited_offset": -1001,
          "committed_offset": -1001, "eof_offset": 0, "lo_offset": 0, "hi_offset": 0, "ls_offset": 0,
          "consumer_lag": -1, "consumer_lag_stored": -1, "txmsgs": 0, "txbytes": 0, "rxmsgs": 0,
          "rxbytes": 0, "msgs": 0, "rx_ver_drops": 0, "msgs_inflight": 0, "next_ack_seq": 0,
          "next_err_seq": 0, "acked_msgid": 0
        },
        "1": {
          "partition": 1, "broker": 1, "leader": 1, "desired": true, "unknown": false, "msgq_cnt": 0,
          "msgq_bytes": 0, "xmit_msgq_cnt": 0, "xmit_msgq_bytes": 0, "fetchq_cnt": 5992,
          "fetchq_size": 56614, "fetch_state": "active", "query_offset": -2, "next_offset": 2000,
          "app_offset": -1001, "stored_offset": -1001, "commited_offset": -1001,
          "committed_offset": -1001, "eof_offset": 2000, "lo_offset": 0, "hi_offset": 2000,
          "ls_offset": 2000, "consumer_lag": -1, "consumer_lag_stored": -1, "txmsgs": 0, "txbytes": 0,
          "rxmsgs": 2000, "rxbytes": 18890, "msgs": 2000, "rx_ver_drops": 0, "msgs_inflight": 0,
          "next_ack_seq": 0, "next_err_seq": 0, "acked_msgid": 0
        },
        "2": {
          "partition": 2, "broker": 1, "leader": 1, "desired": true, "unknown": false, "msgq_cnt": 0,
          "msgq_bytes": 0, "xmit_msgq_cnt": 0, "xmit_msgq_bytes": 0, "fetchq_cnt": 5992,
          "fetchq_size": 56614, "fetch_state": "active", "query_offset": -2, "next_offset": 4000,
          "app_offset": 8, "stored_offset": 8, "commited_offset": -1001, "committed_offset": -1001,
          "eof_offset": 4000, "lo_offset": 0, "hi_offset": 4000, "ls_offset": 4000, "consumer_lag": -1,
          "consumer_lag_stored": 3992, "txmsgs": 0, "txbytes": 0, "rxmsgs": 4000, "rxbytes": 37780,
          "msgs": 4000, "rx_ver_drops": 0, "msgs_inflight": 0, "next_ack_seq": 0, "next_err_seq": 0,
          "acked_msgid": 0
        },
        "-1": {
          "partition": -1, "broker": -1, "leader": -1, "desired": false, "unknown": false,
          "msgq_cnt": 0, "msgq_bytes": 0, "xmit_msgq_cnt": 0, "xmit_msgq_bytes": 0, "fetchq_cnt": 0,
          "fetchq_size": 0, "fetch_state": "none", "query_offset": -1001, "next_offset": 0,
          "app_offset": -1001, "stored_offset": -1001, "commited_offset": -1001,
          "committed_offset": -1001, "eof_offset": -1001, "lo_offset": -1001, "hi_offset": -1001,
          "ls_offset": -1001, "consumer_lag": -1, "consumer_lag_stored": -1, "txmsgs": 0, "txbytes": 0,
          "rxmsgs": 0, "rxbytes": 0, "msgs": 0, "rx_ver_drops": 0, "msgs_inflight": 0,
          "next_ack_seq": 0, "next_err_seq": 0, "acked_msgid": 0
        }
      }
    }
  },
  "cgrp": {
    "state": "up", "stateage": 993, "join_state": "steady", "rebalance_age": 986, "rebalance_cnt": 1,
    "rebalance_reason": "Metadata for subscribed topic(s) has changed", "assignment_size": 3
  },
  "tx": 20, "tx_bytes": 2055, "rx": 19, "rx_bytes": 109575, "txmsgs": 0, "txmsg_bytes": 0,
  "rxmsgs": 6000, "rxmsg_bytes": 56670
})json";

// An idempotent producer's next document, 2000 messages enqueued and no
// request answered in the interval (the rtt window is empty).
constexpr const char* k_producer_document = R"json({
  "name": "rdkafka#producer-1", "client_id": "rdkafka", "type": "producer", "ts": 487220284,
  "time": 1796626365, "age": 2003321, "replyq": 0, "msg_cnt": 2000, "msg_size": 18890,
  "msg_max": 100000, "msg_size_max": 1073741824, "simple_cnt": 0, "metadata_cache_cnt": 0,
  "brokers": {
    "localhost:9092/1": {
      "name": "localhost:9092/1", "nodeid": 1, "nodename": "localhost:9092", "source": "configured",
      "state": "UP", "stateage": 1987220, "outbuf_cnt": 0, "outbuf_msg_cnt": 0, "waitresp_cnt": 0,
      "waitresp_msg_cnt": 0, "tx": 3, "txbytes": 138, "txerrs": 0, "txretries": 0, "txidle": 1986953,
      "req_timeouts": 0, "rx": 3, "rxbytes": 620, "rxerrs": 0, "rxcorriderrs": 0, "rxpartial": 0,
      "rxidle": 1952350, "zbuf_grow": 0, "buf_grow": 0, "wakeups": 10, "connects": 1, "disconnects": 0,
      "int_latency": {
        "min": 0, "max": 0, "avg": 0, "sum": 0, "stddev": 0, "p50": 0, "p75": 0, "p90": 0, "p95": 0,
        "p99": 0, "p99_99": 0, "outofrange": 0, "hdrsize": 11376, "cnt": 0
      },
      "outbuf_latency": {
        "min": 0, "max": 0, "avg": 0, "sum": 0, "stddev": 0, "p50": 0, "p75": 0, "p90": 0, "p95": 0,
        "p99": 0, "p99_99": 0, "outofrange": 0, "hdrsize": 11376, "cnt": 0
      },
      "rtt": {
        "min": 0, "max": 0, "avg": 0, "sum": 0, "stddev": 0, "p50": 0, "p75": 0, "p90": 0, "p95": 0,
        "p99": 0, "p99_99": 0, "outofrange": 0, "hdrsize": 13424, "cnt": 0
      },
      "throttle": {
        "min": 0, "max": 0, "avg": 0, "sum": 0, "stddev": 0, "p50": 0, "p75": 0, "p90": 0, "p95": 0,
        "p99": 0, "p99_99": 0, "outofrange": 0, "hdrsize": 17520, "cnt": 0
      },
      "req": {
        "Produce": 0, "ListOffsets": 0, "Metadata": 1, "FindCoordinator": 0, "SaslHandshake": 0,
        "ApiVersion": 1, "CreateTopics": 1, "InitProducerId": 0, "AddPartitionsToTxn": 0,
        "AddOffsetsToTxn": 0, "EndTxn": 0, "TxnOffsetCommit": 0, "SaslAuthenticate": 0,
        "OffsetDeleteRequest": 0, "DescribeClientQuotasRequest": 0, "AlterClientQuotasRequest": 0,
        "DescribeUserScramCredentialsRequest": 0
      },
      "toppars": {}
    }
  },
  "topics": {
    "food-orders": {
      "topic": "food-orders", "age": 952, "metadata_age": 0,
      "batchsize": {
        "min": 0, "max": 0, "avg": 0, "sum": 0, "stddev": 0, "p50": 0, "p75": 0, "p90": 0, "p95": 0,
        "p99": 0, "p99_99": 0, "outofrange": 0, "hdrsize": 14448, "cnt": 0
      },
      "batchcnt": {
        "min": 0, "max": 0, "avg": 0, "sum": 0, "stddev": 0, "p50": 0, "p75": 0, "p90": 0, "p95": 0,
        "p99": 0, "p99_99": 0, "outofrange": 0, "hdrsize": 8304, "cnt": 0
      },
      "partitions": {
        "-1": {
          "partition": -1, "broker": -1, "leader": -1, "desired": false, "unknown": false,
          "msgq_cnt": 2000, "msgq_bytes": 18890, "xmit_msgq_cnt": 0, "xmit_msgq_bytes": 0,
          "fetchq_cnt": 0, "fetchq_size": 0, "fetch_state": "none", "query_offset": -1001,
          "next_offset": 0, "app_offset": -1001, "stored_offset": -1001, "commited_offset": -1001,
          "committed_offset": -1001, "eof_offset": -1001, "lo_offset": -1001, "hi_offset": -1001,
          "ls_offset": -1001, "consumer_lag": -1, "consumer_lag_stored": -1, "txmsgs": 0, "txbytes": 0,
          "rxmsgs": 0, "rxbytes": 0, "msgs": 2000, "rx_ver_drops": 0, "msgs_inflight": 0,
          "next_ack_seq": 0, "next_err_seq": 0, "acked_msgid": 0
        }
      }
    }
  },
  "tx": 3, "tx_bytes": 138, "rx": 3, "rx_bytes": 620, "txmsgs": 0, "txmsg_bytes": 0, "rxmsgs": 0,
  "rxmsg_bytes": 0
})json";

// Three brokers, as a client sees them when its bootstrap address matched none
// of them by name: that entry keeps node id -1, the brokers are "learned", and
// the group coordinator is repeated as a "logical" one.
constexpr const char* k_cluster_document = R"json({
  "name": "rdkafka#consumer-1", "type": "consumer", "msg_cnt": 0, "msg_size": 0,
  "brokers": {
    "127.0.0.1:9092/bootstrap": {
      "name": "127.0.0.1:9092/bootstrap", "nodeid": -1, "source": "configured", "state": "UP",
      "rtt": {"avg": 900, "p99": 1000, "cnt": 2}
    },
    "localhost:9292/3": {
      "name": "localhost:9292/3", "nodeid": 3, "source": "learned", "state": "DOWN",
      "rtt": {"avg": 0, "p99": 0, "cnt": 0}
    },
    "localhost:9192/2": {
      "name": "localhost:9192/2", "nodeid": 2, "source": "learned", "state": "UP",
      "rtt": {"avg": 2500, "p99": 7999, "cnt": 40}
    },
    "GroupCoordinator": {
      "name": "GroupCoordinator", "nodeid": 2, "source": "logical", "state": "UP",
      "rtt": {"avg": 1200, "p99": 1500, "cnt": 3}
    },
    ":0/internal": {"name": ":0/internal", "nodeid": -1, "source": "internal", "state": "UP"}
  },
  "topics": {
    "food-orders": {
      "partitions": {
        "0": {"partition": 0, "fetchq_cnt": 10, "fetchq_size": 4000},
        "-1": {"partition": -1, "fetchq_cnt": 99, "fetchq_size": 99999}
      }
    }
  }
})json";

TEST(KafkaStatistics, ConsumerDocument) {
  const auto s = kafka::parse_statistics(k_consumer_document);
  EXPECT_EQ(s.type, "consumer");
  EXPECT_EQ(s.producer_queue_messages, 0);
  EXPECT_EQ(s.producer_queue_bytes, 0);
  EXPECT_EQ(s.fetch_queue_messages, 5992);
  EXPECT_EQ(s.fetch_queue_bytes, 56614);
  ASSERT_EQ(s.brokers.size(), 1U) << "the GroupCoordinator entry is the same broker again";
  const auto& broker = s.brokers[0];
  EXPECT_EQ(broker.id, 1);
  EXPECT_EQ(broker.name, "localhost:9092/1");
  EXPECT_EQ(broker.state, "UP");
  ASSERT_TRUE(broker.rtt_avg_seconds.has_value());
  ASSERT_TRUE(broker.rtt_p99_seconds.has_value());
  EXPECT_DOUBLE_EQ(*broker.rtt_avg_seconds, 0.046681);
  EXPECT_DOUBLE_EQ(*broker.rtt_p99_seconds, 0.503807);
}

TEST(KafkaStatistics, ProducerDocument) {
  const auto s = kafka::parse_statistics(k_producer_document);
  EXPECT_EQ(s.type, "producer");
  EXPECT_EQ(s.producer_queue_messages, 2000);
  EXPECT_EQ(s.producer_queue_bytes, 18890);
  EXPECT_EQ(s.fetch_queue_messages, 0);
  EXPECT_EQ(s.fetch_queue_bytes, 0);
  ASSERT_EQ(s.brokers.size(), 1U);
  EXPECT_EQ(s.brokers[0].id, 1);
  EXPECT_FALSE(s.brokers[0].rtt_avg_seconds.has_value()) << "an empty window is no round-trip time";
  EXPECT_FALSE(s.brokers[0].rtt_p99_seconds.has_value());
}

TEST(KafkaStatistics, ClusterBrokersByIdWithoutBootstrapOrLogicalEntries) {
  const auto s = kafka::parse_statistics(k_cluster_document);
  ASSERT_EQ(s.brokers.size(), 2U);
  EXPECT_EQ(s.brokers[0].id, 2);
  EXPECT_EQ(s.brokers[0].state, "UP");
  EXPECT_DOUBLE_EQ(s.brokers[0].rtt_avg_seconds.value_or(-1), 0.0025);
  EXPECT_DOUBLE_EQ(s.brokers[0].rtt_p99_seconds.value_or(-1), 0.007999);
  EXPECT_EQ(s.brokers[1].id, 3);
  EXPECT_EQ(s.brokers[1].state, "DOWN");
  EXPECT_FALSE(s.brokers[1].rtt_avg_seconds.has_value());
  EXPECT_EQ(s.fetch_queue_messages, 10) << "the unassigned pseudo-partition is not a queue of ours";
  EXPECT_EQ(s.fetch_queue_bytes, 4000);
}

TEST(KafkaStatistics, MissingFieldsReadAsNothingAndNonObjectsThrow) {
  const auto s = kafka::parse_statistics(R"({"type": "producer", "brokers": {"x": 1}, "topics": []})");
  EXPECT_EQ(s.type, "producer");
  EXPECT_EQ(s.producer_queue_messages, 0);
  EXPECT_TRUE(s.brokers.empty());
  EXPECT_THROW((void)kafka::parse_statistics(""), std::invalid_argument);
  EXPECT_THROW((void)kafka::parse_statistics("[1, 2]"), std::invalid_argument);
  EXPECT_THROW((void)kafka::parse_statistics(R"({"type": "producer")"), std::invalid_argument);
}

// What a scrape shows of the consumer's document, and of the lag, which is
// labelled with the topic and the group.
TEST(KafkaStatistics, ConsumerMetricsShowTheDocumentAndLabelledLag) {
  metrics::Registry registry;
  pipeline::ConsumerMetrics consumer(registry);
  consumer.update(kafka::parse_statistics(k_consumer_document));
  consumer.set_lag("food-orders", "order-processors", {{0, 12}, {2, 0}});
  const auto text = registry.render();
  const std::string lag = R"(foodpipe_consumer_lag{topic="food-orders",group="order-processors",partition=)";
  const std::vector<std::string> lines{"foodpipe_kafka_broker_rtt_avg_seconds{broker=\"1\"} 0.046681\n",
                                      "foodpipe_kafka_broker_rtt_p99_seconds{broker=\"1\"} 0.503807\n",
                                      "foodpipe_kafka_consumer_fetch_queue_messages 5992\n",
                                      "foodpipe_kafka_consumer_fetch_queue_bytes 56614\n",
                                      lag + "\"0\"} 12\n",
                                      lag + "\"2\"} 0\n"};
  for (const auto& line : lines) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "in:\n" << text;
  }

  // Partition 0 revoked; an interval without requests keeps the last times;
  // a broker no longer listed goes.
  consumer.set_lag("food-orders", "order-processors", {{2, 5}});
  consumer.update(kafka::parse_statistics(k_producer_document));
  auto after = registry.render();
  EXPECT_EQ(after.find("partition=\"0\""), std::string::npos) << after;
  EXPECT_NE(after.find(lag + "\"2\"} 5\n"), std::string::npos) << after;
  EXPECT_NE(after.find("foodpipe_kafka_broker_rtt_avg_seconds{broker=\"1\"} 0.046681\n"), std::string::npos)
      << after;
  consumer.update(kafka::parse_statistics(k_cluster_document));
  after = registry.render();
  EXPECT_EQ(after.find("broker=\"1\""), std::string::npos) << after;
  EXPECT_NE(after.find("foodpipe_kafka_broker_rtt_p99_seconds{broker=\"2\"} 0.007999\n"), std::string::npos)
      << after;
  EXPECT_EQ(after.find("broker=\"3\""), std::string::npos) << "no sample yet, no series: " << after;
}

TEST(KafkaStatistics, ProducerMetricsShowTheQueue) {
  metrics::Registry registry;
  pipeline::ProducerMetrics producer(registry);
  producer.update(kafka::parse_statistics(k_producer_document));
  const auto text = registry.render();
  EXPECT_NE(text.find("\nfoodpipe_kafka_producer_queue_messages 2000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nfoodpipe_kafka_producer_queue_bytes 18890\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("foodpipe_kafka_broker_rtt_avg_seconds{"), std::string::npos) << text;
}

} // namespace
} // namespace foodpipe
