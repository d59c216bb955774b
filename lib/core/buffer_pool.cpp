#include "core/buffer_pool.hpp"

#include <cstring>

namespace foodpipe {

std::string_view BufferPool::fill(std::string_view bytes) {
  // Class c holds the sizes [c * k_class_bytes, (c + 1) * k_class_bytes).
  const std::size_t size_class = bytes.size() / k_class_bytes;
  char* buffer = nullptr;
  if (size_class >= k_classes) {
    auto large = std::make_unique_for_overwrite<char[]>(bytes.size());
    buffer = large.get();
    m_large.emplace(buffer, std::move(large));
  } else if (auto& spare = m_spare[size_class]; !spare.empty()) {
    buffer = spare.back();
    spare.pop_back();
  } else {
    buffer = m_pooled.emplace_back(std::make_unique_for_overwrite<char[]>((size_class + 1) * k_class_bytes)).get();
  }
  if (!bytes.empty()) {
    std::memcpy(buffer, bytes.data(), bytes.size());
  }
  return {buffer, bytes.size()};
}

void BufferPool::give_back(std::string_view filled) {
  const std::size_t size_class = filled.size() / k_class_bytes;
  if (size_class >= k_classes) {
    m_large.erase(filled.data());
  } else {
    // fill() handed out this very buffer; only the pool writes to it again.
    m_spare[size_class].push_back(const_cast<char*>(filled.data()));
  }
}

} // namespace foodpipe
