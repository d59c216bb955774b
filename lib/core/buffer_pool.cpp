#include "core/buffer_pool.hpp"

#include <cstring>

namespace foodpipe {

std::string_view BufferPool::fill(std::string_view bytes) {
  const std::size_t which = size_class(bytes.size());
  char* buffer = nullptr;
  if (which >= k_classes) {
    auto large = std::make_unique_for_overwrite<char[]>(bytes.size());
    buffer = large.get();
    m_large.emplace(buffer, std::move(large));
  } else if (auto& spare = m_spare[which]; !spare.empty()) {
    buffer = spare.back();
    spare.pop_back();
  } else {
    buffer = m_pooled.emplace_back(std::make_unique_for_overwrite<char[]>((which + 1) * k_class_bytes)).get();
  }
  if (!bytes.empty()) {
    std::memcpy(buffer, bytes.data(), bytes.size());
  }
  return {buffer, bytes.size()};
}

void BufferPool::give_back(std::string_view filled) {
  const std::size_t which = size_class(filled.size());
  if (which >= k_classes) {
    m_large.erase(filled.data());
  } else {
    // fill() handed out this very buffer; only the pool writes to it again.
    m_spare[which].push_back(const_cast<char*>(filled.data()));
  }
}

} // namespace foodpipe
