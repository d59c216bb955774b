#include "db/copy_buffer.hpp"

namespace foodpipe::db {

void CopyBuffer::separate() {
  if (m_row_started) {
    m_data.push_back('\t');
  }
  m_row_started = true;
}

void CopyBuffer::field(std::optional<std::string_view> value) {
  separate();
  if (!value) {
    m_data.append("\\N");
    return;
  }
  for (const char c : *value) {
    switch (c) {
    case '\\': m_data.append("\\\\"); break;
    case '\t': m_data.append("\\t"); break;
    case '\n': m_data.append("\\n"); break;
    case '\r': m_data.append("\\r"); break;
    default: m_data.push_back(c); break;
    }
  }
}

void CopyBuffer::bytea(std::string_view raw) {
  separate();
  constexpr std::string_view k_digits = "0123456789abcdef";
  // bytea's text form is \x<hex>; COPY needs its backslash doubled.
  m_data.append("\\\\x");
  for (const char c : raw) {
    const auto byte = static_cast<unsigned char>(c);
    m_data.push_back(k_digits[byte >> 4U]);
    m_data.push_back(k_digits[byte & 0x0FU]);
  }
}

void CopyBuffer::end_row() {
  m_data.push_back('\n');
  ++m_rows;
  m_row_started = false;
}

void CopyBuffer::clear() noexcept {
  m_data.clear();
  m_rows = 0;
  m_row_started = false;
}

} // namespace foodpipe::db
