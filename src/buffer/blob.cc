#include "buffer/blob.h"

#include <xxhash.h>
#include <zstd.h>

#include "common/bytes.h"

namespace smmhub::buffer {
namespace {

constexpr std::string_view kMagic = "SMBF";
constexpr std::uint8_t kFormat = 1;
constexpr std::uint8_t kCodecZstd = 1;
// zstd level 1 compresses a 1080x1920 plate at several hundred MB/s; higher
// levels save little on rendered pixels and cost a multiple of the time.
constexpr int kZstdLevel = 1;
// A value larger than this is refused when read, so that a corrupt length
// never makes the reader allocate gigabytes.
constexpr std::uint64_t kMaxRawBytes = std::uint64_t{1} << 30;
// magic, format, codec, version length, raw size, cost, checksum
constexpr size_t kHeaderBytes = 4 + 1 + 1 + 2 + 8 + 8 + 8;

}  // namespace

std::string encodeBlob(std::string_view bytes, const BlobInfo& info) {
  std::string out;
  size_t bound = ZSTD_compressBound(bytes.size());
  out.reserve(kHeaderBytes + info.engine_version.size() + bound);
  out.append(kMagic);
  out.push_back(static_cast<char>(kFormat));
  out.push_back(static_cast<char>(kCodecZstd));
  appendLittle(out, info.engine_version.size(), 2);
  appendLittle(out, bytes.size(), 8);
  appendLittle(out, info.cost_us, 8);
  appendLittle(out, XXH3_64bits(bytes.data(), bytes.size()), 8);
  out.append(info.engine_version);
  size_t header = out.size();
  out.resize(header + bound);
  size_t compressed =
      ZSTD_compress(out.data() + header, bound, bytes.data(), bytes.size(), kZstdLevel);
  // zstd.h documents that compressing into ZSTD_compressBound() bytes succeeds.
  out.resize(header + (ZSTD_isError(compressed) != 0 ? 0 : compressed));
  return out;
}

Result<DecodedBlob> decodeBlob(std::string_view stored, std::string_view engine_version) {
  if (stored.size() < kHeaderBytes || stored.substr(0, kMagic.size()) != kMagic) {
    return Status::dataLoss("not a render buffer value (no header)");
  }
  auto format = static_cast<std::uint8_t>(stored[4]);
  auto codec = static_cast<std::uint8_t>(stored[5]);
  if (format != kFormat || codec != kCodecZstd) {
    return Status::dataLoss("render buffer value has format " + std::to_string(format) +
                            " and codec " + std::to_string(codec) + "; expected 1 and 1");
  }
  size_t version_bytes = readLittle(stored, 6, 2);
  std::uint64_t raw_size = readLittle(stored, 8, 8);
  DecodedBlob blob;
  blob.info.cost_us = readLittle(stored, 16, 8);
  std::uint64_t checksum = readLittle(stored, 24, 8);

  if (stored.size() < kHeaderBytes + version_bytes) {
    return Status::dataLoss("render buffer value is truncated in its header");
  }
  blob.info.engine_version = std::string(stored.substr(kHeaderBytes, version_bytes));
  if (blob.info.engine_version != engine_version) {
    return Status::failedPrecondition("render buffer value was made by engine '" +
                                      blob.info.engine_version + "', not '" +
                                      std::string(engine_version) + "'");
  }

  if (raw_size > kMaxRawBytes) {
    return Status::dataLoss("render buffer value claims " + std::to_string(raw_size) +
                            " bytes, over the limit of " + std::to_string(kMaxRawBytes));
  }

  std::string_view payload = stored.substr(kHeaderBytes + version_bytes);
  unsigned long long content_size = ZSTD_getFrameContentSize(payload.data(), payload.size());
  if (content_size != raw_size) {
    return Status::dataLoss("render buffer value is truncated or corrupt (zstd frame)");
  }
  blob.bytes.resize(raw_size);
  size_t got =
      ZSTD_decompress(blob.bytes.data(), blob.bytes.size(), payload.data(), payload.size());
  if (ZSTD_isError(got) != 0 || got != raw_size) {
    return Status::dataLoss(std::string("render buffer value is corrupt: ") +
                            (ZSTD_isError(got) != 0 ? ZSTD_getErrorName(got) : "short"));
  }
  if (XXH3_64bits(blob.bytes.data(), blob.bytes.size()) != checksum) {
    return Status::dataLoss("render buffer value fails its checksum");
  }
  return blob;
}

}  // namespace smmhub::buffer
