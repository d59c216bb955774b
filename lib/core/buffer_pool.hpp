#pragma once

// Byte buffers that are reused instead of allocated per use: the values that
// `foodpipe produce` lends to librdkafka (kafka::Producer::Value::lend) live
// in them from enqueue to delivery report.
//
// A buffer is nothing but its bytes: the pool keeps no per-buffer record
// that a hot loop would have to touch (at 300,000 messages a second and
// 20,000 in flight, every buffer is cold in the cache by the time it comes
// back). Buffers come in size classes of k_class_bytes, so that a buffer
// holds its value plus less than one class of slack and never grows, and the
// size of what was put in says which class a buffer is in. Values larger than
// the largest class get a buffer of their own, freed when given back. Every
// buffer lives at most as long as the pool, so the pool must outlive whoever
// borrows its buffers. Not thread-safe.

#include <cstddef>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace foodpipe {

class BufferPool {
public:
  static constexpr std::size_t k_class_bytes = 64;
  static constexpr std::size_t k_classes = 64; // pooled up to 4 KiB

  BufferPool() = default;
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // A buffer holding a copy of `bytes`: a given-back one of the same size
  // class when there is one, else a new one. The view is the buffer.
  [[nodiscard]] std::string_view fill(std::string_view bytes);
  // Makes a buffer from fill() available again; `filled` is exactly what
  // fill() returned. Anything else is a bug the pool does not detect.
  void give_back(std::string_view filled);

  // Buffers made so far (in use or given back), large ones included.
  [[nodiscard]] std::size_t size() const noexcept { return m_pooled.size() + m_large.size(); }

private:
  // Class c holds the sizes [c * k_class_bytes, (c + 1) * k_class_bytes);
  // k_classes and above are the large ones, not pooled.
  static constexpr std::size_t size_class(std::size_t size) noexcept { return size / k_class_bytes; }

  std::vector<std::unique_ptr<char[]>> m_pooled;
  std::vector<std::vector<char*>> m_spare = std::vector<std::vector<char*>>(k_classes);
  std::unordered_map<const char*, std::unique_ptr<char[]>> m_large;
};

} // namespace foodpipe
