#include "db/sha256.hpp"

#include <cstring>

namespace foodpipe::db {
namespace {

constexpr std::array<std::uint32_t, 64> k_round_constants{
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

constexpr std::array<std::uint32_t, 8> k_initial_state{
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

constexpr std::uint32_t rotr(std::uint32_t x, int n) noexcept {
  return (x >> n) | (x << (32 - n));
}

} // namespace

Sha256::Sha256() noexcept : m_state(k_initial_state) {}

void Sha256::compress(const std::uint8_t* block) noexcept {
  std::array<std::uint32_t, 64> w{};
  for (std::size_t i = 0; i < 16; ++i) {
    w[i] = (std::uint32_t{block[4 * i]} << 24) | (std::uint32_t{block[4 * i + 1]} << 16) |
           (std::uint32_t{block[4 * i + 2]} << 8) | std::uint32_t{block[4 * i + 3]};
  }
  for (std::size_t i = 16; i < 64; ++i) {
    const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  auto [a, b, c, d, e, f, g, h] = m_state;
  for (std::size_t i = 0; i < 64; ++i) {
    const std::uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
    const std::uint32_t choose = (e & f) ^ (~e & g);
    const std::uint32_t t1 = h + s1 + choose + k_round_constants[i] + w[i];
    const std::uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
    const std::uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
    const std::uint32_t t2 = s0 + majority;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  const std::array<std::uint32_t, 8> round_result{a, b, c, d, e, f, g, h};
  for (std::size_t i = 0; i < 8; ++i) {
    m_state[i] += round_result[i];
  }
}

void Sha256::update(std::string_view bytes) noexcept {
  m_total_bytes += bytes.size();
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  std::size_t remaining = bytes.size();
  while (remaining > 0) {
    const std::size_t take = std::min(remaining, m_block.size() - m_block_size);
    std::memcpy(m_block.data() + m_block_size, data, take);
    m_block_size += take;
    data += take;
    remaining -= take;
    if (m_block_size == m_block.size()) {
      compress(m_block.data());
      m_block_size = 0;
    }
  }
}

std::array<std::uint8_t, 32> Sha256::finish() noexcept {
  const std::uint64_t total_bits = m_total_bytes * 8;
  // Padding: 0x80, zeros up to 56 mod 64, then the bit length big-endian.
  m_block[m_block_size++] = 0x80;
  if (m_block_size > 56) {
    std::fill(m_block.begin() + static_cast<std::ptrdiff_t>(m_block_size), m_block.end(), 0);
    compress(m_block.data());
    m_block_size = 0;
  }
  std::fill(m_block.begin() + static_cast<std::ptrdiff_t>(m_block_size), m_block.begin() + 56, 0);
  for (std::size_t i = 0; i < 8; ++i) {
    m_block[56 + i] = static_cast<std::uint8_t>(total_bits >> (56 - 8 * i));
  }
  compress(m_block.data());
  std::array<std::uint8_t, 32> digest{};
  for (std::size_t i = 0; i < 8; ++i) {
    for (std::size_t j = 0; j < 4; ++j) {
      digest[4 * i + j] = static_cast<std::uint8_t>(m_state[i] >> (24 - 8 * j));
    }
  }
  return digest;
}

std::string sha256_hex(std::string_view bytes) {
  Sha256 hasher;
  hasher.update(bytes);
  constexpr std::string_view k_digits = "0123456789abcdef";
  std::string hex;
  hex.reserve(64);
  for (const std::uint8_t byte : hasher.finish()) {
    hex.push_back(k_digits[byte >> 4]);
    hex.push_back(k_digits[byte & 0x0f]);
  }
  return hex;
}

} // namespace foodpipe::db
