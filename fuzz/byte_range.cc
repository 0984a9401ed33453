// Fuzzes parseByteRange() with any Range header value for a file whose size
// comes from the first 8 bytes of the input (little-endian).
//
// Invariants: a part lies inside the file; a range is served only for the
// unit "bytes" and one range; a part reads back the same when written as
// "bytes=FIRST-LAST"; a request that cannot be served is 416 only when the
// file is empty or the range starts past its end.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "api/router.h"
#include "fuzz_check.h"

namespace {

using namespace smmhub::api;

std::string describe(std::string_view value, std::uint64_t size, const ByteRange& range) {
  return "'" + std::string(value) + "' of " + std::to_string(size) + " bytes: kind " +
         std::to_string(range.kind) + ", " + std::to_string(range.first) + "-" +
         std::to_string(range.last);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::uint64_t file_size = 0;
  size_t header = std::min(size, sizeof file_size);
  std::memcpy(&file_size, data, header);
  std::string_view value(reinterpret_cast<const char*>(data) + header, size - header);

  ByteRange range = parseByteRange(value, file_size);
  std::string what = describe(value, file_size, range);
  if (!value.starts_with("bytes=") || value.find(',') != std::string_view::npos) {
    SMMHUB_FUZZ_CHECK(range.kind == ByteRange::kWhole, what);
  }
  switch (range.kind) {
    case ByteRange::kWhole:
      break;
    case ByteRange::kPart: {
      SMMHUB_FUZZ_CHECK(range.first <= range.last && range.last < file_size, what);
      std::string again_text =
          "bytes=" + std::to_string(range.first) + "-" + std::to_string(range.last);
      ByteRange again = parseByteRange(again_text, file_size);
      SMMHUB_FUZZ_CHECK(
          again.kind == ByteRange::kPart && again.first == range.first && again.last == range.last,
          what + " then " + describe(again_text, file_size, again));
      break;
    }
    case ByteRange::kUnsatisfiable: {
      // "bytes=-0" asks for no bytes at all; otherwise the file is empty or
      // the range starts at or past its end. The parser read the numbers.
      std::string_view spec = value.substr(6);
      bool suffix = spec.starts_with('-');
      std::uint64_t number = std::stoull(std::string(suffix ? spec.substr(1) : spec));
      SMMHUB_FUZZ_CHECK(
          file_size == 0 || (suffix && number == 0) || (!suffix && number >= file_size), what);
      break;
    }
  }
  return 0;
}
