// Opening user-supplied media files safely.
//
// A user uploads the clips and music a template uses, so the file is untrusted.
// libavformat can follow references inside a file: an HLS playlist or a concat
// script names other files or URLs, and the image2 demuxer expands patterns.
// openMediaInput() therefore allows only local files, only plain container
// demuxers, and only files up to a size limit. The format is detected before
// the demuxer reads any header, so a rejected demuxer never runs.
//
//   SMMHUB_ASSIGN_OR_RETURN(auto input, openMediaInput(path));
//   int count = input->nb_streams;
#pragma once

#include <cstdint>
#include <filesystem>

#include "common/status.h"
#include "render/video/av_util.h"

namespace smmhub::render {

struct MediaInputLimits {
  // Files larger than this are rejected before any parsing.
  std::uintmax_t max_bytes = std::uintmax_t{50} * 1024 * 1024;
};

// Demuxers that openMediaInput() accepts, as a libavformat format_whitelist.
inline constexpr const char* kAllowedDemuxers =
    "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,wav,flac,mp3,ogg,aac";

// Opens PATH for demuxing with protocol_whitelist=file and the demuxer
// allowlist above, then reads the stream information.
// Errors: not found when the file is missing. Invalid argument when the file
// is too large, its format is not recognized, or its format is not allowed,
// with the file and the detected format in the message. Data loss when the
// container is corrupt, such as a text file named .mp4.
Result<internal::InputContextPtr> openMediaInput(const std::filesystem::path& path,
                                                 const MediaInputLimits& limits = {});

}  // namespace smmhub::render
