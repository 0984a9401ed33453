// The checks every uploaded asset passes before it is stored: its name, its
// size in bytes and pixels, its type against what the client declared, and
// for SVG the safety rules of svg.h.
//
//   AssetRejection rejection;
//   Result<CheckedAsset> checked = checkAsset(
//       {.name = "crest.png", .declared_type = "image/png", .bytes = body}, {}, &rejection);
//   if (!checked.ok() && rejection.reason == AssetRejection::kUnsupportedType) { ... 415 ... }
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostics.h"
#include "common/status.h"
#include "content/media.h"

namespace smmhub::content {

// Limits of one upload.
struct AssetLimits {
  // Images and fonts.
  std::uint64_t max_bytes = 20 * 1024 * 1024;
  // Audio files. 50 MiB is the size of media file that the render engine
  // opens (render::MediaInputLimits), about 4.5 minutes of 16-bit 48 kHz
  // stereo WAV; compressed formats hold far more.
  std::uint64_t max_audio_bytes = 50 * 1024 * 1024;
  // Width times height of an image's canvas; a 4-byte pixel format makes
  // 40 megapixels 160 MB once decoded.
  std::int64_t max_pixels = 40'000'000;
  std::int64_t max_side = 16384;
};

struct AssetUpload {
  std::string name;           // the asset's name in the tenant's library
  std::string declared_type;  // the request's Content-Type; may be empty
  std::string_view bytes;
};

// Why checkAsset() rejected an upload, so that the API can choose its status.
struct AssetRejection {
  enum Reason {
    kNone,
    kInvalidName,      // the name breaks checkAssetName()
    kTooLarge,         // more bytes than AssetLimits allows for its type
    kUnsupportedType,  // unknown type, or one that disagrees with the declared type
    kInvalidContent,   // malformed header, too many pixels, or an unsafe SVG
  };
  Reason reason = kNone;
  // Each SVG problem with "line N" as its place; empty for other reasons.
  std::vector<Diagnostic> details;
};

struct CheckedAsset {
  MediaInfo media;
};

// Checks that NAME can name an asset: 1 to 100 characters (bytes of UTF-8),
// none of them '/', '\', NUL or another control character, not "." or "..",
// and no leading dot. Errors: invalidArgument naming the rule broken; a name
// with "../" or "/" gets a message that path parts are not allowed.
Status checkAssetName(std::string_view name);

// Returns the media type that UPLOAD's declared type names, or nullopt when
// it declares none. application/octet-stream and
// application/x-www-form-urlencoded (what curl's --data-binary sends by
// default) declare none. Errors: invalidArgument for a declared type that is
// neither generic nor a supported type.
Result<std::optional<MediaType>> declaredMediaType(std::string_view declared_type);

// Runs every check on UPLOAD in this order: name, bytes (the larger of the
// two limits), sniffed type, the type the Content-Type and the name's
// extension declare, bytes for the type, SVG safety and size, pixel limits.
// Errors: invalidArgument for every problem but the byte limits, which are
// resourceExhausted; REJECTION (may be null) gets the reason and the SVG
// problems.
Result<CheckedAsset> checkAsset(const AssetUpload& upload, const AssetLimits& limits,
                                AssetRejection* rejection);

}  // namespace smmhub::content
