// Media types of uploaded assets, found from the bytes themselves.
//
//   Result<MediaInfo> info = sniffMedia(bytes);
//   // info->type == MediaType::kPng, info->width == 360, info->height == 432
//
// The type comes from the file's signature, never from its name or from a
// Content-Type header, and the size from the image's own header (PNG IHDR,
// JPEG SOF marker, GIF logical screen descriptor, WebP VP8, VP8L or VP8X
// chunk, SVG width, height or viewBox). Nothing is decoded, so a small file
// that declares a huge canvas costs no memory here; checkAsset() rejects it
// before anything decodes it.
//
// Audio is accepted in the containers and codecs that the render engine
// decodes (render/video/media_input.h and audio_track.h): WAV (PCM, float,
// A-law or mu-law), MP3, AAC or ALAC in M4A, Vorbis or Opus in Ogg, and
// FLAC. Its header is checked, but the length of the sound is not read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace smmhub::content {

enum class MediaType {
  kPng,
  kJpeg,
  kGif,
  kWebp,
  kSvg,
  kTtf,
  kOtf,
  kWoff,
  kWoff2,
  kWav,
  kMp3,
  kM4a,
  kOgg,
  kFlac,
};

// The IANA media type, such as "image/png" or "font/woff2".
std::string_view mediaTypeName(MediaType type);

// The extension of stored files, without the dot: "png", "jpg", "svg", ...
std::string_view mediaTypeExtension(MediaType type);

// Whether TYPE is a font (TTF, OTF, WOFF, WOFF2).
bool isFont(MediaType type);

// Whether TYPE is audio (WAV, MP3, M4A, Ogg, FLAC).
bool isAudio(MediaType type);

// Returns the type that a media type name stands for, accepting common
// aliases ("image/jpg", "image/x-png", "application/font-woff",
// "audio/x-wav"). Parameters
// after ';' and letter case are ignored. Returns nullopt for other names.
std::optional<MediaType> mediaTypeFromName(std::string_view name);

// Returns the type that a file name's extension stands for ("crest.PNG" ->
// kPng), or nullopt when it has no extension or one of another kind.
std::optional<MediaType> mediaTypeFromExtension(std::string_view file_name);

struct MediaInfo {
  MediaType type = MediaType::kPng;
  // Pixels of the image's canvas. 0 for fonts and audio, and for an SVG
  // without a usable width, height or viewBox (it is drawn at the size of
  // its layer).
  std::int64_t width = 0;
  std::int64_t height = 0;
};

// Returns the type whose signature BYTES start with; an SVG is recognised by
// its root element after the XML prolog. Returns nullopt for other content.
std::optional<MediaType> detectMediaType(std::string_view bytes);

// Says what BYTES of no supported type look like ("the content is an HTML
// document, not an image, font or audio file"), for error messages.
std::string describeUnknownContent(std::string_view bytes);

// Finds the type and size of BYTES. Errors: invalidArgument when the bytes
// match no supported type (naming what the first bytes look like, such as
// HTML), or when a known type's header is truncated or malformed (naming the
// type and the field), or when a WAV file's codec is not one the render
// engine decodes.
Result<MediaInfo> sniffMedia(std::string_view bytes);

}  // namespace smmhub::content
