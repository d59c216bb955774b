#include "db/sha256.hpp"

#include <array>
#include <stdexcept>

#include <openssl/evp.h>

namespace foodpipe::db {

std::string sha256_hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL could not compute a SHA-256 digest");
  }
  constexpr std::string_view k_digits = "0123456789abcdef";
  std::string hex;
  hex.reserve(2U * size);
  for (unsigned int i = 0; i < size; ++i) {
    hex.push_back(k_digits[digest[i] >> 4U]);
    hex.push_back(k_digits[digest[i] & 0x0FU]);
  }
  return hex;
}

} // namespace foodpipe::db
