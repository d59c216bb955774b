// Decoding the consumer protocol's member assignment bytes that
// rd_kafka_list_groups hands back (what `inspect group` shows per member).

#include <librdkafka/rdkafka.h>

#include <gtest/gtest.h>

#include "kafka/group_admin.hpp"

namespace foodpipe::kafka {
namespace {

void put_i16(std::string& out, int value) {
  out.push_back(static_cast<char>((value >> 8) & 0xFF));
  out.push_back(static_cast<char>(value & 0xFF));
}

void put_i32(std::string& out, std::int32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((static_cast<std::uint32_t>(value) >> shift) & 0xFFU));
  }
}

void put_string(std::string& out, const std::string& text) {
  put_i16(out, static_cast<int>(text.size()));
  out += text;
}

// Version 1, two topics, then empty user data (length -1 would be null; 0 is empty).
std::string sample_assignment() {
  std::string bytes;
  put_i16(bytes, 1);
  put_i32(bytes, 2);
  put_string(bytes, "food-orders");
  put_i32(bytes, 2);
  put_i32(bytes, 0);
  put_i32(bytes, 2);
  put_string(bytes, "other");
  put_i32(bytes, 1);
  put_i32(bytes, 7);
  put_i32(bytes, 0); // user data length
  return bytes;
}

TEST(KafkaGroupAssignment, DecodesTopicsAndPartitions) {
  const auto decoded = decode_member_assignment(sample_assignment());
  ASSERT_TRUE(decoded.has_value());
  ASSERT_EQ(decoded->size(), 2U);
  EXPECT_EQ(decoded->at("food-orders"), (std::vector<std::int32_t>{0, 2}));
  EXPECT_EQ(decoded->at("other"), (std::vector<std::int32_t>{7}));
}

TEST(KafkaGroupAssignment, NoBytesIsNoAssignment) {
  const auto decoded = decode_member_assignment("");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_TRUE(decoded->empty());
}

TEST(KafkaGroupAssignment, TruncatedBytesAreRefusedNotOverread) {
  const auto bytes = sample_assignment();
  // Every cut inside the topic list must fail cleanly (the user data at the end is not needed).
  for (std::size_t size = 1; size < bytes.size() - 4; ++size) {
    EXPECT_FALSE(decode_member_assignment(std::string_view(bytes).substr(0, size)).has_value()) << size;
  }
}

TEST(KafkaGroupAssignment, NegativeCountsAreRefused) {
  std::string bytes;
  put_i16(bytes, 0);
  put_i32(bytes, -1);
  EXPECT_FALSE(decode_member_assignment(bytes).has_value());
}

} // namespace
} // namespace foodpipe::kafka
