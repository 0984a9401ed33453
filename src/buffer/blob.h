// The stored form of one render buffer value: a header that names the
// engine version and carries a checksum, then the zstd-compressed bytes.
//
//   std::string stored = encodeBlob(bytes, {.engine_version = "smmhub-engine-2",
//                                           .cost_us = 41'000});
//   Result<DecodedBlob> value = decodeBlob(stored, "smmhub-engine-2");
//
// A value whose checksum, length or version does not match is refused, so
// that a truncated or corrupt entry, or one from another engine version, is
// rendered again instead of used.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace smmhub::buffer {

struct BlobInfo {
  std::string engine_version;
  // CPU microseconds that making the value cost; a hit saves them.
  std::uint64_t cost_us = 0;
};

struct DecodedBlob {
  std::string bytes;
  BlobInfo info;
};

// Compresses BYTES with zstd at a fast level and frames them.
std::string encodeBlob(std::string_view bytes, const BlobInfo& info);

// Checks and decompresses STORED. Errors: dataLoss for a bad magic, a
// truncated or corrupt value or a checksum mismatch; failedPrecondition for
// a value written by an engine version other than ENGINE_VERSION.
Result<DecodedBlob> decodeBlob(std::string_view stored, std::string_view engine_version);

}  // namespace smmhub::buffer
