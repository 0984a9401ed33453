#include "content/asset_check.h"

#include <algorithm>
#include <cctype>

#include "content/svg.h"

namespace smmhub::content {
namespace {

Status reject(AssetRejection* rejection, AssetRejection::Reason reason, Status status) {
  if (rejection != nullptr) {
    rejection->reason = reason;
  }
  return status;
}

std::string describe(std::optional<MediaType> type) {
  return std::string(mediaTypeName(*type));
}

}  // namespace

Status checkAssetName(std::string_view name) {
  if (name.empty()) {
    return Status::invalidArgument("asset name is empty; give 1 to 100 characters");
  }
  if (name.size() > 100) {
    return Status::invalidArgument("asset name has " + std::to_string(name.size()) +
                                   " bytes; the limit is 100");
  }
  if (name.find("..") != std::string_view::npos &&
      (name.find('/') != std::string_view::npos || name.find('\\') != std::string_view::npos)) {
    return Status::invalidArgument("asset name '" + std::string(name) +
                                   "' contains a path ('../'); give a plain name without '/' or "
                                   "'\\'");
  }
  if (name.find('/') != std::string_view::npos || name.find('\\') != std::string_view::npos) {
    return Status::invalidArgument("asset name '" + std::string(name) +
                                   "' contains '/' or '\\'; give a plain name, not a path");
  }
  for (size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) {
      return Status::invalidArgument("asset name contains the control character " +
                                     std::to_string(c) + " at byte " + std::to_string(i));
    }
  }
  if (name == "." || name == "..") {
    return Status::invalidArgument("asset name '" + std::string(name) + "' is not allowed");
  }
  if (name.front() == '.') {
    return Status::invalidArgument("asset name '" + std::string(name) +
                                   "' starts with a dot; hidden names are not allowed");
  }
  return okStatus();
}

Result<std::optional<MediaType>> declaredMediaType(std::string_view declared_type) {
  std::string base(declared_type.substr(0, declared_type.find(';')));
  std::transform(base.begin(), base.end(), base.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  base.erase(base.find_last_not_of(" \t") + 1);
  base.erase(0, base.find_first_not_of(" \t"));
  if (base.empty() || base == "application/octet-stream" ||
      base == "application/x-www-form-urlencoded") {
    return std::optional<MediaType>();
  }
  std::optional<MediaType> type = mediaTypeFromName(base);
  if (!type) {
    return Status::invalidArgument("declared Content-Type '" + std::string(declared_type) +
                                   "' is not a supported asset type; supported are image/png, "
                                   "image/jpeg, image/gif, image/webp, image/svg+xml, font/ttf, "
                                   "font/otf, font/woff, font/woff2, audio/wav, audio/mpeg, "
                                   "audio/mp4, audio/ogg and audio/flac");
  }
  return type;
}

Result<CheckedAsset> checkAsset(const AssetUpload& upload, const AssetLimits& limits,
                                AssetRejection* rejection) {
  if (Status name = checkAssetName(upload.name); !name.ok()) {
    return reject(rejection, AssetRejection::kInvalidName, name);
  }
  // Nothing is sniffed in a file above both limits.
  std::uint64_t max_bytes = std::max(limits.max_bytes, limits.max_audio_bytes);
  if (upload.bytes.size() > max_bytes) {
    return reject(rejection, AssetRejection::kTooLarge,
                  Status::resourceExhausted("asset '" + upload.name + "' has " +
                                            std::to_string(upload.bytes.size()) +
                                            " bytes; the limit is " + std::to_string(max_bytes)));
  }

  // The type comes from the bytes alone; the declared ones only have to agree.
  if (!detectMediaType(upload.bytes)) {
    return reject(rejection, AssetRejection::kUnsupportedType,
                  Status::invalidArgument("asset '" + upload.name +
                                          "': " + describeUnknownContent(upload.bytes)));
  }
  Result<MediaInfo> media = sniffMedia(upload.bytes);
  if (!media.ok()) {
    return reject(rejection, AssetRejection::kInvalidContent,
                  media.status().withContext("asset '" + upload.name + "'"));
  }
  Result<std::optional<MediaType>> declared = declaredMediaType(upload.declared_type);
  if (!declared.ok()) {
    return reject(rejection, AssetRejection::kUnsupportedType, declared.status());
  }
  if (*declared && **declared != media->type) {
    return reject(rejection, AssetRejection::kUnsupportedType,
                  Status::invalidArgument("asset '" + upload.name + "' is declared as " +
                                          describe(*declared) +
                                          " by its Content-Type but its "
                                          "content is " +
                                          describe(media->type)));
  }
  std::optional<MediaType> by_name = mediaTypeFromExtension(upload.name);
  if (by_name && *by_name != media->type) {
    return reject(
        rejection, AssetRejection::kUnsupportedType,
        Status::invalidArgument("asset '" + upload.name + "' is named as " + describe(by_name) +
                                " by its extension but its "
                                "content is " +
                                describe(media->type)));
  }

  std::uint64_t type_max_bytes = isAudio(media->type) ? limits.max_audio_bytes : limits.max_bytes;
  if (upload.bytes.size() > type_max_bytes) {
    return reject(
        rejection, AssetRejection::kTooLarge,
        Status::resourceExhausted("asset '" + upload.name + "' has " +
                                  std::to_string(upload.bytes.size()) + " bytes; the limit for " +
                                  (isAudio(media->type) ? "audio" : "images and fonts") + " is " +
                                  std::to_string(type_max_bytes)));
  }

  if (media->type == MediaType::kSvg) {
    Diagnostics problems;
    Result<SvgSize> size = checkSvg(upload.bytes, &problems);
    if (!size.ok()) {
      if (rejection != nullptr) {
        rejection->details = problems.items();
      }
      return reject(rejection, AssetRejection::kInvalidContent,
                    size.status().withContext("asset '" + upload.name + "'"));
    }
    media->width = size->width;
    media->height = size->height;
  }

  // Limits on the declared canvas stop decompression bombs: a small file
  // whose header promises more pixels than a worker should ever decode.
  if (!isFont(media->type) && !isAudio(media->type)) {
    std::string canvas = std::to_string(media->width) + "x" + std::to_string(media->height);
    if (media->width > limits.max_side || media->height > limits.max_side) {
      return reject(rejection, AssetRejection::kInvalidContent,
                    Status::invalidArgument("asset '" + upload.name + "' declares a canvas of " +
                                            canvas + " pixels; each side may be at most " +
                                            std::to_string(limits.max_side)));
    }
    if (media->width * media->height > limits.max_pixels) {
      return reject(
          rejection, AssetRejection::kInvalidContent,
          Status::invalidArgument("asset '" + upload.name + "' declares a canvas of " + canvas +
                                  " pixels (" + std::to_string(media->width * media->height) +
                                  "); the limit is " + std::to_string(limits.max_pixels)));
    }
    if (media->type != MediaType::kSvg && (media->width == 0 || media->height == 0)) {
      return reject(rejection, AssetRejection::kInvalidContent,
                    Status::invalidArgument("asset '" + upload.name +
                                            "' declares an empty canvas " + canvas));
    }
  }
  if (rejection != nullptr) {
    rejection->reason = AssetRejection::kNone;
  }
  return CheckedAsset{.media = *media};
}

}  // namespace smmhub::content
