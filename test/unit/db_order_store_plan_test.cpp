// The parts of OrderStore that need no server: batch rules, in-batch
// deduplication, the exact COPY bytes, and how refusals are described.

#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "db/copy_buffer.hpp"
#include "db/error.hpp"
#include "db/order_batch.hpp"
#include "db/order_copy.hpp"
#include "db/order_store.hpp"
#include "domain/order.hpp"

namespace foodpipe::db {
namespace {

using domain::Money;

domain::Order order(const std::string& id, std::int64_t cents = 899) {
  domain::Order result;
  result.order_id = id;
  result.customer_id = "CUST-00001";
  result.customer_name = "Ada";
  result.customer_email = "ada@example.com";
  result.items.push_back({"ITEM-001", "Classic Burger", 1, Money::from_cents(cents), Money::from_cents(cents)});
  result.total_amount = Money::from_cents(cents);
  result.created_at = domain::Timestamp{std::chrono::milliseconds{1'767'323'045'678}};
  return result;
}

IncomingOrder at(domain::Order value, std::int32_t partition, std::int64_t offset) {
  const std::string raw = "raw:" + value.order_id + ":" + std::to_string(partition) + "@" + std::to_string(offset);
  return IncomingOrder{std::move(value), partition, offset, "key", raw};
}

Batch batch_of(std::vector<IncomingOrder> orders, std::vector<OffsetAdvance> offsets = {}) {
  Batch batch;
  batch.group = "g";
  batch.topic = "t";
  batch.orders = std::move(orders);
  batch.offsets = std::move(offsets);
  return batch;
}

TEST(DbOrderBatch, ValidBatchesPass) {
  EXPECT_NO_THROW(validate_batch(Batch{}));
  EXPECT_NO_THROW(validate_batch(batch_of({at(order("A"), 0, 4), at(order("B"), 1, 0)},
                                          {{0, 4, 5}, {1, std::nullopt, 1}})));
  // A replay: no offsets at all, or a partition without an advance.
  EXPECT_NO_THROW(validate_batch(batch_of({at(order("A"), 0, 4)})));
  EXPECT_NO_THROW(validate_batch(batch_of({at(order("A"), 2, 4)}, {{0, 0, 1}})));
  // Nothing consumed from a partition: next == expected.
  EXPECT_NO_THROW(validate_batch(batch_of({}, {{0, 7, 7}})));
}

// What validate_batch says about a batch: its message, or "<accepted>".
std::string refused(const Batch& batch) {
  try {
    validate_batch(batch);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "<accepted>";
}

TEST(DbOrderBatch, CallerMistakesAreRefused) {
  Batch no_topic = batch_of({at(order("A"), 0, 0)});
  no_topic.topic.clear();
  EXPECT_NE(refused(no_topic).find("without a topic"), std::string::npos);
  Batch no_group = batch_of({}, {{0, std::nullopt, 1}});
  no_group.group.clear();
  EXPECT_NE(refused(no_group).find("without a group"), std::string::npos);
  EXPECT_NE(refused(batch_of({}, {{0, 5, 4}})).find("backwards from 5 to 4"), std::string::npos);
  EXPECT_NE(refused(batch_of({}, {{1, 0, 1}, {1, 1, 2}})).find("advanced twice"), std::string::npos);
  EXPECT_NE(refused(batch_of({}, {{-1, 0, 1}})).find("negative partition"), std::string::npos);
  EXPECT_NE(refused(batch_of({}, {{0, -1, 1}})).find("negative offset"), std::string::npos);
  EXPECT_NE(refused(batch_of({at(order("A"), 0, -1)})).find("negative offset"), std::string::npos);
  EXPECT_NE(refused(batch_of({at(order("A"), 0, 3), at(order("B"), 0, 3)})).find("two orders at t[0]@3"),
            std::string::npos);
  // Positions outside the advance: their offset would be stored without them, or they twice.
  EXPECT_NE(refused(batch_of({at(order("A"), 0, 5)}, {{0, 4, 5}})).find("t[0]@5 lies outside"), std::string::npos);
  EXPECT_NE(refused(batch_of({at(order("A"), 0, 3)}, {{0, 4, 5}})).find("[4, 5)"), std::string::npos);
  EXPECT_NE(refused(batch_of({at(order("A"), 0, 9)}, {{0, std::nullopt, 5}})).find("[none, 5)"), std::string::npos);
  Batch letter_outside = batch_of({}, {{0, 0, 1}});
  letter_outside.dead_letters.push_back({"t", 0, 1, std::nullopt, "x", domain::ReasonCode::invalid_json, ""});
  EXPECT_NE(refused(letter_outside).find("dead letter"), std::string::npos);
  // A dead letter of another topic is not the advance's business.
  letter_outside.dead_letters[0].source_topic = "elsewhere";
  EXPECT_EQ(refused(letter_outside), "<accepted>");
}

TEST(DbOrderBatch, ReadFromAndRetentionGapsAreChecked) {
  // Retention: the log start (10) lies past the stored offset (4): [4, 10) skipped.
  Batch retention = batch_of({at(order("A"), 0, 10)}, {{0, 4, 11, 10}});
  retention.skipped.push_back({0, 4, 10});
  EXPECT_EQ(refused(retention), "<accepted>");
  // A log recreated under the stored offset (50): reading resumed at 0, the offset moves back.
  EXPECT_EQ(refused(batch_of({at(order("A"), 0, 0)}, {{0, 50, 1, 0}})), "<accepted>");
  EXPECT_NE(refused(batch_of({at(order("A"), 0, 0)}, {{0, 50, 1}})).find("backwards from 50 to 1"),
            std::string::npos);
  EXPECT_NE(refused(batch_of({}, {{0, 50, 1, 2}})).find("backwards from 2 to 1"), std::string::npos);
  EXPECT_NE(refused(batch_of({at(order("A"), 0, 3)}, {{0, 0, 5, 4}})).find("[4, 5)"), std::string::npos);
  // A gap must be inside an advance of its partition, and not empty.
  Batch outside = batch_of({}, {{0, 4, 11}});
  outside.skipped.push_back({0, 4, 12});
  EXPECT_NE(refused(outside).find("skipped range"), std::string::npos);
  Batch elsewhere = batch_of({}, {{0, 4, 11}});
  elsewhere.skipped.push_back({1, 4, 10});
  EXPECT_NE(refused(elsewhere).find("skipped range"), std::string::npos);
  Batch empty = batch_of({}, {{0, 4, 11}});
  empty.skipped.push_back({0, 6, 6});
  EXPECT_NE(refused(empty).find("skipped range"), std::string::npos);
}

TEST(DbOrderBatch, PlanKeepsTheLowestPositionOfEachOrderId) {
  domain::Order changed = order("A");
  changed.status = domain::OrderStatus::cancelled;
  const Batch batch = batch_of({
      at(changed, 1, 0),    // after 0@4 by position although given first: a conflict
      at(order("B"), 0, 9),
      at(order("A"), 0, 6), // exact duplicate of 0@4
      at(order("A"), 0, 4), // the candidate
      at(order("C"), 0, 5),
  });
  const BatchPlan plan = plan_batch(batch);
  EXPECT_EQ(plan.candidates, (std::vector<std::size_t>{3, 4, 1})); // 0@4, 0@5, 0@9
  EXPECT_EQ(plan.duplicates, 1U);
  // The copy at 0@6 (index 2) belongs to candidate seq 0 (0@4): it fares as that one does.
  EXPECT_EQ(plan.copies, (std::vector<std::pair<std::size_t, std::size_t>>{{0, 2}}));
  ASSERT_EQ(plan.conflicts.size(), 1U);
  const DeadLetter& letter = plan.conflicts[0];
  EXPECT_EQ(letter.source_topic, "t");
  EXPECT_EQ(letter.partition, 1);
  EXPECT_EQ(letter.offset, 0);
  EXPECT_EQ(letter.key, "key");
  EXPECT_EQ(letter.payload, batch.orders[0].value);
  EXPECT_EQ(letter.reason, domain::ReasonCode::conflicting_duplicate);
  EXPECT_EQ(letter.detail, "order_id \"A\" was already used by t[0]@4 in the same batch, with different content");
}

TEST(DbOrderBatch, PlanComparesContentNotBytes) {
  // Different raw bytes, same content: a duplicate; same bytes are irrelevant too.
  IncomingOrder first = at(order("A"), 0, 0);
  IncomingOrder second = at(order("A"), 0, 1);
  second.value = "{ \"order_id\": \"A\" ... other spelling }";
  IncomingOrder third = at(order("A", 900), 0, 2);
  third.value = first.value; // same bytes cannot happen with other content, but content decides
  const BatchPlan plan = plan_batch(batch_of({first, second, third}));
  EXPECT_EQ(plan.candidates, std::vector<std::size_t>{0});
  EXPECT_EQ(plan.duplicates, 1U);
  ASSERT_EQ(plan.conflicts.size(), 1U);
  EXPECT_EQ(plan.conflicts[0].offset, 2);
  EXPECT_TRUE(plan_batch(Batch{}).candidates.empty());
}

TEST(DbOrderCopy, ItemsJson) {
  std::string out = "keep:";
  std::vector<domain::LineItem> items;
  items.push_back({"ITEM-003", "Bacon Burger", 2, Money::from_cents(1099), Money::from_cents(2198)});
  constexpr char k_name[] = "q\"b\\s/t\tn\nr\rnul\0x\x01\x1f\x7f é😀";
  items.push_back({"I\"2", std::string(k_name, sizeof k_name - 1), 1000, Money::from_cents(5), Money::from_cents(5000)});
  append_items_json(items, out);
  EXPECT_EQ(out, "keep:[{\"item_id\":\"ITEM-003\",\"name\":\"Bacon Burger\",\"quantity\":2,\"price\":10.99,"
                 "\"subtotal\":21.98},{\"item_id\":\"I\\\"2\",\"name\":\"q\\\"b\\\\s/t\\tn\\nr\\rnul\\u0000x\\u0001"
                 "\\u001f\x7f é😀\",\"quantity\":1000,\"price\":0.05,\"subtotal\":50.00}]");
  out.clear();
  append_items_json({}, out);
  EXPECT_EQ(out, "[]");
}

TEST(DbOrderCopy, OrderRowIsCopyTextInColumnOrder) {
  domain::Order value = order("ORD-1");
  value.customer_name = "Tab\there \\N\nnew";
  value.customer_email = "x@y";
  value.status = domain::OrderStatus::out_for_delivery;
  value.total_amount = Money::from_cents(10'000'000'000);
  const IncomingOrder incoming{value, 2, 1234567890123, std::nullopt, "raw"};
  CopyBuffer rows;
  std::string scratch;
  append_order_row(rows, incoming, "food-orders", std::nullopt, scratch);
  append_order_row(rows, incoming, "food-orders", std::size_t{17}, scratch);
  const std::string line = "ORD-1\tCUST-00001\tTab\\there \\\\N\\nnew\tx@y\t"
                           "[{\"item_id\":\"ITEM-001\",\"name\":\"Classic Burger\",\"quantity\":1,\"price\":8.99,"
                           "\"subtotal\":8.99}]\t100000000.00\tout_for_delivery\t2026-01-02T03:04:05.678Z\t"
                           "food-orders\t2\t1234567890123";
  EXPECT_EQ(rows.data(), line + "\n" + line + "\t17\n");
  EXPECT_EQ(rows.rows(), 2U);
  // A JSON escape's backslash is escaped again for COPY.
  value.items[0].name = "a\"b";
  rows.clear();
  append_order_row(rows, IncomingOrder{value, 0, 0, std::nullopt, ""}, "t", std::nullopt, scratch);
  EXPECT_NE(rows.data().find("\"name\":\"a\\\\\"b\""), std::string::npos) << rows.data();
}

TEST(DbOrderCopy, DeadLetterRow) {
  CopyBuffer rows;
  std::string scratch;
  append_dead_letter_stage_row(rows,
                               DeadLetter{"food-orders", 1, 42, std::nullopt, std::string("\0\xff{", 3),
                                          domain::ReasonCode::invalid_utf8, std::string("bad\0\xfe", 5)},
                               scratch);
  append_dead_letter_stage_row(
      rows, DeadLetter{"t", 0, 0, std::string("k"), std::nullopt, domain::ReasonCode::null_value, "tomb\tstone"},
      scratch);
  EXPECT_EQ(rows.data(), "food-orders\t1\t42\t\\N\t\\\\x00ff7b\tinvalid_utf8\tbad\xEF\xBF\xBD\xEF\xBF\xBD\n"
                         "t\t0\t0\t\\\\x6b\t\\N\tnull_value\ttomb\\tstone\n");
}

TEST(DbOrderCopy, StorableText) {
  EXPECT_EQ(storable_text(""), "");
  EXPECT_EQ(storable_text("plain Zoë 😀"), "plain Zoë 😀");
  EXPECT_EQ(storable_text(std::string("a\0b", 3)), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(storable_text("\xff\xfe"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(storable_text("ok\xC3"), "ok\xEF\xBF\xBD");           // truncated sequence at the end
  EXPECT_EQ(storable_text("\xED\xA0\x80x"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDx"); // a surrogate
}

TEST(DbOrderStoreErrors, DataSqlstates) {
  for (const char* code : {"22001", "22003", "22021", "22P05", "22008", "23505", "23514", "23502"}) {
    EXPECT_TRUE(is_data_sqlstate(code)) << code;
  }
  for (const char* code : {"", "22", "2200", "220011", "40001", "40P01", "08006", "57P01", "55P03", "42P01", "XX000"}) {
    EXPECT_FALSE(is_data_sqlstate(code)) << code;
  }
}

TEST(DbOrderStoreErrors, RejectionDetail) {
  DbError overflow("COPY failed on h:5432/db: numeric field overflow (...) [SQLSTATE 22003]", "22003");
  overflow.set_diagnostics({"numeric field overflow",
                            "A field with precision 10, scale 2 must round to an absolute value less than 10^8.",
                            "COPY orders, line 1, column total_amount: \"100000000.00\""});
  EXPECT_EQ(db_rejection_detail(overflow),
            "SQLSTATE 22003: numeric field overflow (column total_amount): A field with precision 10, scale 2 "
            "must round to an absolute value less than 10^8.");

  DbError check("INSERT failed", "23514");
  check.set_diagnostics({"new row for relation \"orders\" violates check constraint \"orders_total_amount_check\"",
                         "Failing row contains (ORD-1, ...).", ""});
  EXPECT_EQ(db_rejection_detail(check),
            "SQLSTATE 23514: new row for relation \"orders\" violates check constraint \"orders_total_amount_check\"");

  DbError json("x", "22P05");
  json.set_diagnostics({"unsupported Unicode escape sequence", "\\u0000 cannot be converted to text.",
                        "JSON data, line 1: [{\"item_id\":\"ITEM-001\",\"name\":\"Nul\\u0000...\n"
                        "COPY foodpipe_order_stage, line 1, column items: \"[...]\""});
  EXPECT_EQ(db_rejection_detail(json),
            "SQLSTATE 22P05: unsupported Unicode escape sequence (column items): \\u0000 cannot be converted to text.");

  EXPECT_EQ(db_rejection_detail(DbError("client side", "")), "SQLSTATE ?????: client side");
}

TEST(DbOrderBatch, DescribePosition) {
  EXPECT_EQ(describe_position("food-orders", 2, 1234), "food-orders[2]@1234");
}

} // namespace
} // namespace foodpipe::db
