#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/buffer_pool.hpp"

namespace foodpipe {
namespace {

TEST(BufferPool, FillCopiesTheBytes) {
  BufferPool pool;
  std::string source = "{\"order_id\":\"ORD-1\"}";
  const auto filled = pool.fill(source);
  source.assign(source.size(), 'x'); // the copy does not follow its source
  EXPECT_EQ(filled, "{\"order_id\":\"ORD-1\"}");
  EXPECT_EQ(pool.size(), 1U);
}

TEST(BufferPool, AGivenBackBufferServesTheNextValueOfItsSizeClass) {
  BufferPool pool;
  const auto first = pool.fill(std::string(100, 'a'));
  pool.give_back(first);
  // 100 and 127 bytes share the class [64, 128).
  const auto second = pool.fill(std::string(127, 'b'));
  EXPECT_EQ(second.data(), first.data());
  EXPECT_EQ(second, std::string(127, 'b'));
  EXPECT_EQ(pool.size(), 1U);
}

TEST(BufferPool, ABufferInUseIsNeverHandedOutAgain) {
  BufferPool pool;
  const auto first = pool.fill("one");
  const auto second = pool.fill("two");
  EXPECT_NE(first.data(), second.data());
  EXPECT_EQ(first, "one");
  EXPECT_EQ(second, "two");
  EXPECT_EQ(pool.size(), 2U);
}

TEST(BufferPool, ALargerValueNeverReusesASmallerBuffer) {
  BufferPool pool;
  const auto small = pool.fill(std::string(63, 's'));
  pool.give_back(small);
  const auto large = pool.fill(std::string(64, 'l'));
  EXPECT_NE(large.data(), small.data()) << "64 bytes are the next class: a 64-byte buffer cannot hold them";
  EXPECT_EQ(large, std::string(64, 'l'));
  // And a smaller value does not take a larger class's buffer either.
  pool.give_back(large);
  const auto again = pool.fill(std::string(10, 'a'));
  EXPECT_EQ(again.data(), small.data());
  EXPECT_EQ(pool.size(), 2U);
}

TEST(BufferPool, ValuesAboveTheLargestClassGetTheirOwnBufferAndFreeIt) {
  BufferPool pool;
  const std::string big(BufferPool::k_classes * BufferPool::k_class_bytes + 1, 'B');
  const auto filled = pool.fill(big);
  EXPECT_EQ(filled, big);
  EXPECT_EQ(pool.size(), 1U);
  pool.give_back(filled);
  EXPECT_EQ(pool.size(), 0U) << "a large buffer is freed, not kept";
  // The largest pooled size still comes from a class.
  const auto pooled = pool.fill(std::string(BufferPool::k_classes * BufferPool::k_class_bytes - 1, 'p'));
  pool.give_back(pooled);
  EXPECT_EQ(pool.size(), 1U);
}

TEST(BufferPool, AnEmptyValueHasABufferToo) {
  BufferPool pool;
  const auto empty = pool.fill("");
  EXPECT_TRUE(empty.empty());
  EXPECT_NE(empty.data(), nullptr) << "the buffer identifies the value when it is given back";
  pool.give_back(empty);
  EXPECT_EQ(pool.fill("x").data(), empty.data());
}

TEST(BufferPool, ASteadyStreamNeedsOnlyAsManyBuffersAsAreInUse) {
  BufferPool pool;
  std::vector<std::string_view> in_use;
  for (int i = 0; i < 10000; ++i) {
    in_use.push_back(pool.fill(std::string(static_cast<std::size_t>(400 + (i % 100)), 'v')));
    if (in_use.size() == 50) {
      for (const auto buffer : in_use) {
        pool.give_back(buffer);
      }
      in_use.clear();
    }
  }
  // 50 in use at a time, spread over the two classes [384, 448) and [448, 512):
  // at most 50 buffers per class, however many values went through.
  EXPECT_LE(pool.size(), 100U);
}

} // namespace
} // namespace foodpipe
