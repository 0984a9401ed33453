// Internal to src/render/video: RAII owners for FFmpeg objects and the one
// helper that turns an AVERROR code into a Status.
//
// Only forward declarations appear here, so that the public headers of this
// folder compile without the libav* headers.
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>

#include "common/status.h"

struct AVCodecContext;
struct AVFilterGraph;
struct AVFormatContext;
struct AVFrame;
struct AVPacket;
struct SwrContext;
struct SwsContext;

namespace smmhub::render::internal {

// Returns a Status for the FFmpeg error CODE: "FILE: OPERATION failed: TEXT",
// where TEXT comes from av_strerror. AVERROR_INVALIDDATA and AVERROR_EOF map
// to data loss, AVERROR(ENOMEM) to resource exhausted, file-system errors to
// not found or permission denied, and the rest to internal.
// REQUIRES: code < 0.
Status avError(int code, std::string_view operation, const std::filesystem::path& file);

// Sends FFmpeg's log lines to the "render" logger. Warnings and errors go out
// at debug level, because the caller gets them as a Status, and info lines at
// trace. Safe to call more than once and from any thread.
void routeFfmpegLogs();

// Closes an input context (avformat_close_input).
struct InputContextDeleter {
  void operator()(AVFormatContext* context) const;
};
// Closes the output file and frees an output context.
struct OutputContextDeleter {
  void operator()(AVFormatContext* context) const;
};
struct CodecContextDeleter {
  void operator()(AVCodecContext* context) const;
};
struct FrameDeleter {
  void operator()(AVFrame* frame) const;
};
struct PacketDeleter {
  void operator()(AVPacket* packet) const;
};
struct SwsContextDeleter {
  void operator()(SwsContext* context) const;
};
struct SwrContextDeleter {
  void operator()(SwrContext* context) const;
};
struct FilterGraphDeleter {
  void operator()(AVFilterGraph* graph) const;
};

using InputContextPtr = std::unique_ptr<AVFormatContext, InputContextDeleter>;
using OutputContextPtr = std::unique_ptr<AVFormatContext, OutputContextDeleter>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using SwsContextPtr = std::unique_ptr<SwsContext, SwsContextDeleter>;
using SwrContextPtr = std::unique_ptr<SwrContext, SwrContextDeleter>;
using FilterGraphPtr = std::unique_ptr<AVFilterGraph, FilterGraphDeleter>;

// Allocates a frame or a packet. FFmpeg fails here only when out of memory.
Result<FramePtr> allocFrame();
Result<PacketPtr> allocPacket();

}  // namespace smmhub::render::internal
