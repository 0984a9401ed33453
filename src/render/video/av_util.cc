#include "render/video/av_util.h"

#include <cerrno>
#include <cstdarg>
#include <mutex>
#include <string>

#include "common/log.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

namespace smmhub::render::internal {

namespace {

StatusCode codeFor(int code) {
  if (code == AVERROR_INVALIDDATA || code == AVERROR_EOF) {
    return StatusCode::kDataLoss;
  }
  if (code == AVERROR(ENOMEM)) {
    return StatusCode::kResourceExhausted;
  }
  if (code == AVERROR(ENOENT)) {
    return StatusCode::kNotFound;
  }
  if (code == AVERROR(EACCES) || code == AVERROR(EPERM)) {
    return StatusCode::kPermissionDenied;
  }
  return StatusCode::kInternal;
}

void logLine(void* object, int level, const char* format, va_list arguments) {
  // Verbose and debug output of the codecs is too much even for trace.
  if (level > AV_LOG_INFO) {
    return;
  }
  char line[1024];
  int print_prefix = 1;
  av_log_format_line2(object, level, format, arguments, line, sizeof(line), &print_prefix);
  std::string_view text = line;
  while (!text.empty() && text.back() == '\n') {
    text.remove_suffix(1);
  }

  logger("render")->log(level <= AV_LOG_WARNING ? spdlog::level::debug : spdlog::level::trace,
                        "ffmpeg {}", text);
}

}  // namespace

void routeFfmpegLogs() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(logLine); });
}

Status avError(int code, std::string_view operation, const std::filesystem::path& file) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof(text));

  std::string message = file.string();
  message += ": ";
  message += operation;
  message += " failed: ";
  message += text;
  return {codeFor(code), std::move(message)};
}

void InputContextDeleter::operator()(AVFormatContext* context) const {
  avformat_close_input(&context);
}

void OutputContextDeleter::operator()(AVFormatContext* context) const {
  if (context->pb != nullptr && !(context->oformat->flags & AVFMT_NOFILE)) {
    avio_closep(&context->pb);
  }
  avformat_free_context(context);
}

void CodecContextDeleter::operator()(AVCodecContext* context) const {
  avcodec_free_context(&context);
}

void FrameDeleter::operator()(AVFrame* frame) const {
  av_frame_free(&frame);
}

void PacketDeleter::operator()(AVPacket* packet) const {
  av_packet_free(&packet);
}

void SwsContextDeleter::operator()(SwsContext* context) const {
  sws_freeContext(context);
}

void SwrContextDeleter::operator()(SwrContext* context) const {
  swr_free(&context);
}

void FilterGraphDeleter::operator()(AVFilterGraph* graph) const {
  avfilter_graph_free(&graph);
}

Result<FramePtr> allocFrame() {
  FramePtr frame(av_frame_alloc());
  if (frame == nullptr) {
    return Status::resourceExhausted("av_frame_alloc failed: out of memory");
  }
  return frame;
}

Result<PacketPtr> allocPacket() {
  PacketPtr packet(av_packet_alloc());
  if (packet == nullptr) {
    return Status::resourceExhausted("av_packet_alloc failed: out of memory");
  }
  return packet;
}

}  // namespace smmhub::render::internal
