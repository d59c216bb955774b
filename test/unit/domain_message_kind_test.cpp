// What kind of message a record holds, from its type and schema-version headers.

#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "domain/message_kind.hpp"

namespace foodpipe::domain {
namespace {

using Header = std::optional<std::string_view>;
constexpr Header k_absent = std::nullopt;

MessageType type_of(Header type, Header version) {
  const MessageTypeResult result = classify_message(type, version);
  if (!result.ok()) {
    ADD_FAILURE() << "unsupported: " << result.rejection().detail;
    return {};
  }
  return result.type();
}

std::string unsupported(Header type, Header version) {
  const MessageTypeResult result = classify_message(type, version);
  if (result.ok()) {
    ADD_FAILURE() << "classified although it should not be";
    return {};
  }
  EXPECT_EQ(result.rejection().code, ReasonCode::unsupported_schema);
  return result.rejection().detail;
}

TEST(MessageKindHeaders, NoHeadersIsAnOrderOfVersionOne) {
  // Older foodpipe and the Python original wrote no headers at all.
  EXPECT_EQ(type_of(k_absent, k_absent), (MessageType{MessageKind::order, 1}));
}

TEST(MessageKindHeaders, WhatTodaysOrderProducerWritesIsAnOrder) {
  // schema-version=1 and content-type, no type: every topic written so far.
  EXPECT_EQ(type_of(k_absent, "1"), (MessageType{MessageKind::order, 1}));
}

TEST(MessageKindHeaders, NamedTypesAtVersionOne) {
  EXPECT_EQ(type_of("order", "1"), (MessageType{MessageKind::order, 1}));
  EXPECT_EQ(type_of("order_status", "1"), (MessageType{MessageKind::order_status, 1}));
  EXPECT_EQ(type_of("order", k_absent), (MessageType{MessageKind::order, 1}));
  EXPECT_EQ(type_of("order_status", k_absent), (MessageType{MessageKind::order_status, 1}));
}

constexpr std::string_view k_not_a_type = "\" is not a message type foodpipe reads (order, order_status)";

std::string not_a_type(std::string_view shown) {
  return "type \"" + std::string(shown) + std::string(k_not_a_type);
}

TEST(MessageKindHeaders, UnknownTypesAreUnsupported) {
  EXPECT_EQ(unsupported("invoice", "1"),
            "type \"invoice\" is not a message type foodpipe reads (order, order_status)");
  EXPECT_EQ(unsupported("Order", k_absent), not_a_type("Order"));
  EXPECT_EQ(unsupported("", "1"), not_a_type(""));
  // Raw header bytes are quoted printable and clipped.
  EXPECT_EQ(unsupported(std::string_view("a\xFF\n", 3), k_absent), not_a_type("a??"));
  EXPECT_EQ(unsupported(std::string(60, 't'), k_absent), not_a_type(std::string(40, 't') + "..."));
}

TEST(MessageKindHeaders, NewerVersionsAreUnsupportedNamingKindAndNewest) {
  EXPECT_EQ(unsupported("order_status", "2"),
            "schema-version 2 of order_status is newer than this foodpipe reads (1)");
  EXPECT_EQ(unsupported("order", "17"), "schema-version 17 of order is newer than this foodpipe reads (1)");
  EXPECT_EQ(unsupported(k_absent, "2"),
            "schema-version 2 of order (no type header) is newer than this foodpipe reads (1)");
  EXPECT_EQ(unsupported(k_absent, "999999999"),
            "schema-version 999999999 of order (no type header) is newer than this foodpipe reads (1)");
}

TEST(MessageKindHeaders, VersionsThatAreNotPlainNumbersAreUnsupported) {
  for (const std::string_view version : {"", "0", "01", "1.0", "v1", " 1", "1 ", "+1", "-1", "1000000000"}) {
    EXPECT_EQ(unsupported("order", version),
              "schema-version \"" + std::string(version) + "\" is not a version number")
        << version;
  }
}

TEST(MessageKindHeaders, TypeIsCheckedBeforeVersion) {
  EXPECT_EQ(unsupported("refund", "x"), not_a_type("refund"));
}

TEST(MessageKindHeaders, KindNamesRoundTripAndProducersHeaders) {
  EXPECT_EQ(to_string(MessageKind::order), "order");
  EXPECT_EQ(to_string(MessageKind::order_status), "order_status");
  EXPECT_EQ(parse_message_kind("order"), MessageKind::order);
  EXPECT_EQ(parse_message_kind("order_status"), MessageKind::order_status);
  EXPECT_EQ(parse_message_kind("orders"), std::nullopt);
  EXPECT_EQ(k_type_header, "type");
  EXPECT_EQ(k_schema_version_header, "schema-version");
  // What a producer writes is read back as what it wrote.
  for (const MessageKind kind : {MessageKind::order, MessageKind::order_status}) {
    const TypeHeaders headers = type_headers(kind);
    EXPECT_EQ(headers.type, to_string(kind));
    EXPECT_EQ(headers.schema_version, "1");
    EXPECT_EQ(type_of(headers.type, headers.schema_version), (MessageType{kind, 1}));
  }
}

} // namespace
} // namespace foodpipe::domain
