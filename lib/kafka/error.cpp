#include "kafka/error.hpp"

#include <librdkafka/rdkafka.h>

namespace foodpipe::kafka {

static_assert(errc::none == RD_KAFKA_RESP_ERR_NO_ERROR);
static_assert(errc::timed_out == RD_KAFKA_RESP_ERR__TIMED_OUT);
static_assert(errc::message_timed_out == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);
static_assert(errc::unsupported_feature == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE);
static_assert(errc::unknown_topic_or_partition == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
static_assert(errc::message_too_large == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
static_assert(errc::record_list_too_large == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE);
static_assert(errc::topic_authorization_failed == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);

KafkaError make_error(const std::string& context, const rd_kafka_error_t* error) {
  return KafkaError(context + ": " + rd_kafka_error_string(error), rd_kafka_error_code(error),
                    rd_kafka_error_is_fatal(error) != 0, rd_kafka_error_is_retriable(error) != 0);
}

} // namespace foodpipe::kafka
