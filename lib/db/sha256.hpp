#pragma once

// SHA-256 (FIPS 180-4), for migration checksums that a user can compare with
// `sha256sum sql/001_*.sql`. Not constant-time; not for secrets.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace foodpipe::db {

// Incremental hasher. Not thread-safe; cheap to create.
class Sha256 {
public:
  Sha256() noexcept;
  void update(std::string_view bytes) noexcept;
  // The 32-byte digest. Call once; the hasher is spent afterwards.
  [[nodiscard]] std::array<std::uint8_t, 32> finish() noexcept;

private:
  void compress(const std::uint8_t* block) noexcept;

  std::array<std::uint32_t, 8> m_state;
  std::array<std::uint8_t, 64> m_block{};
  std::size_t m_block_size = 0;
  std::uint64_t m_total_bytes = 0;
};

// Lower-case hex digest of bytes, as sha256sum prints it.
[[nodiscard]] std::string sha256_hex(std::string_view bytes);

} // namespace foodpipe::db
