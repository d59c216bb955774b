#pragma once

// librdkafka's types, named the way rdkafka.h declares them but not defined:
// lib/kafka's public headers hold pointers to them without including
// rdkafka.h, so that nothing outside lib/kafka can call librdkafka. Only
// lib/kafka's .cpp files include rdkafka.h.

// NOLINTBEGIN(modernize-use-using): C declarations, as rdkafka.h has them
extern "C" {
typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_topic_s rd_kafka_topic_t;
typedef struct rd_kafka_conf_s rd_kafka_conf_t;
typedef struct rd_kafka_topic_conf_s rd_kafka_topic_conf_t;
typedef struct rd_kafka_queue_s rd_kafka_queue_t;
typedef struct rd_kafka_op_s rd_kafka_event_t;
typedef struct rd_kafka_error_s rd_kafka_error_t;
typedef struct rd_kafka_headers_s rd_kafka_headers_t;
typedef struct rd_kafka_topic_partition_list_s rd_kafka_topic_partition_list_t;
typedef struct rd_kafka_message_s rd_kafka_message_t;
typedef struct rd_kafka_metadata rd_kafka_metadata_t;
typedef struct rd_kafka_AdminOptions_s rd_kafka_AdminOptions_t;
typedef struct rd_kafka_NewTopic_s rd_kafka_NewTopic_t;
}
// NOLINTEND(modernize-use-using)
