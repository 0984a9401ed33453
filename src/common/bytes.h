// Little-endian integers in byte strings, for the binary forms that the
// render buffer stores.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace smmhub {

// Appends the low BYTES bytes of VALUE to OUT, least significant first.
inline void appendLittle(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  }
}

// Returns the BYTES-byte little-endian integer at offset AT of IN.
// REQUIRES: AT + BYTES <= IN.size().
inline std::uint64_t readLittle(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    auto byte = static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)]);
    value |= static_cast<std::uint64_t>(byte) << (8 * i);
  }
  return value;
}

}  // namespace smmhub
