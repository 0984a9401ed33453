#include "render/video/video_clip.h"

#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include "common/check.h"
#include "common/log.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
}

namespace smmhub::render {

namespace {

using internal::avError;

// Returns the clockwise rotation, a multiple of 90 degrees, that turns the
// coded picture upright.
int displayRotation(const AVStream& stream) {
  size_t size = 0;
  const std::uint8_t* matrix = av_stream_get_side_data(&stream, AV_PKT_DATA_DISPLAYMATRIX, &size);
  if (matrix == nullptr || size < 9 * sizeof(std::int32_t)) {
    return 0;
  }

  // av_display_rotation_get() returns degrees counterclockwise.
  const double counterclockwise =
      av_display_rotation_get(reinterpret_cast<const std::int32_t*>(matrix));
  if (std::isnan(counterclockwise)) {
    return 0;
  }
  const std::int64_t quarter_turns = std::llround(-counterclockwise / 90.0);
  return static_cast<int>(((quarter_turns % 4) + 4) % 4) * 90;
}

// Filters that turn the picture upright, as a filter-graph fragment.
std::string rotationFilters(int rotation_degrees) {
  switch (rotation_degrees) {
    case 90:
      return "transpose=clock,";
    case 180:
      return "hflip,vflip,";
    case 270:
      return "transpose=cclock,";
    default:
      return "";
  }
}

// HLG or PQ to SDR BT.709: linear light, BT.709 primaries, Hable tone curve,
// then the BT.709 transfer.
constexpr const char* kToneMapFilters =
    "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=hable:desat=0,"
    "zscale=t=bt709:m=bt709:r=tv,";

struct FilterInOutDeleter {
  void operator()(AVFilterInOut* inout) const { avfilter_inout_free(&inout); }
};
using FilterInOutPtr = std::unique_ptr<AVFilterInOut, FilterInOutDeleter>;

}  // namespace

VideoClip::VideoClip(std::filesystem::path path) : path_(std::move(path)) {}

VideoClip::~VideoClip() = default;

Result<std::unique_ptr<VideoClip>> VideoClip::open(const std::filesystem::path& path,
                                                   const MediaInputLimits& limits) {
  std::unique_ptr<VideoClip> clip(new VideoClip(path));
  SMMHUB_RETURN_IF_ERROR(clip->openDecoder(limits));
  SMMHUB_ASSIGN_OR_RETURN(clip->packet_, internal::allocPacket());
  logger("render")->debug("video clip open path={} size={}x{} rotation={} hdr={} duration_s={}",
                          path.string(), clip->display_width_, clip->display_height_,
                          clip->rotation_degrees_, clip->hdr_, clip->duration_s_);
  return clip;
}

Status VideoClip::openDecoder(const MediaInputLimits& limits) {
  SMMHUB_ASSIGN_OR_RETURN(input_, openMediaInput(path_, limits));
  const AVCodec* codec = nullptr;
  const int index = av_find_best_stream(input_.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (index < 0) {
    return Status::invalidArgument(path_.string() +
                                   ": file has no decodable video stream; use a video file");
  }
  stream_ = input_->streams[index];

  decoder_.reset(avcodec_alloc_context3(codec));
  if (decoder_ == nullptr) {
    return Status::resourceExhausted(path_.string() + ": cannot allocate a video decoder");
  }
  int error = avcodec_parameters_to_context(decoder_.get(), stream_->codecpar);
  if (error < 0) {
    return avError(error, "reading video codec parameters", path_);
  }
  decoder_->thread_count = 0;
  error = avcodec_open2(decoder_.get(), codec, nullptr);
  if (error < 0) {
    return avError(error, std::string("opening the ") + codec->name + " decoder", path_);
  }

  // Orientation, dynamic range and duration, from the container.
  const AVCodecParameters& params = *stream_->codecpar;
  rotation_degrees_ = displayRotation(*stream_);
  const bool sideways = rotation_degrees_ == 90 || rotation_degrees_ == 270;
  display_width_ = sideways ? params.height : params.width;
  display_height_ = sideways ? params.width : params.height;
  hdr_ = params.color_trc == AVCOL_TRC_ARIB_STD_B67 || params.color_trc == AVCOL_TRC_SMPTE2084;
  duration_s_ = stream_->duration != AV_NOPTS_VALUE
                    ? static_cast<double>(stream_->duration) * av_q2d(stream_->time_base)
                    : static_cast<double>(input_->duration) / AV_TIME_BASE;
  return okStatus();
}

double VideoClip::frameTime(const AVFrame& frame) const {
  const std::int64_t start = stream_->start_time == AV_NOPTS_VALUE ? 0 : stream_->start_time;
  const std::int64_t pts = frame.best_effort_timestamp;
  if (pts == AV_NOPTS_VALUE) {
    // No timestamp: assume the nominal rate after the previous frame.
    const double rate = av_q2d(stream_->avg_frame_rate);
    return current_time_s_ + (rate > 0 ? 1.0 / rate : 0.0);
  }
  return static_cast<double>(pts - start) * av_q2d(stream_->time_base);
}

Result<internal::FramePtr> VideoClip::decodeNext() {
  SMMHUB_ASSIGN_OR_RETURN(internal::FramePtr frame, internal::allocFrame());
  while (true) {
    int error = avcodec_receive_frame(decoder_.get(), frame.get());
    if (error >= 0) {
      return frame;
    }
    if (error == AVERROR_EOF) {
      return internal::FramePtr();
    }
    if (error != AVERROR(EAGAIN)) {
      return avError(error, "decoding video", path_);
    }

    // The decoder needs input: the next packet of our stream, or the flush.
    if (demuxer_done_) {
      return internal::FramePtr();
    }
    error = av_read_frame(input_.get(), packet_.get());
    if (error == AVERROR_EOF) {
      demuxer_done_ = true;
      error = avcodec_send_packet(decoder_.get(), nullptr);
    } else if (error < 0) {
      return avError(error, "reading video packets", path_);
    } else if (packet_->stream_index == stream_->index) {
      error = avcodec_send_packet(decoder_.get(), packet_.get());
    }
    av_packet_unref(packet_.get());
    if (error < 0) {
      return avError(error, "decoding video", path_);
    }
  }
}

Status VideoClip::seekTo(double t_s) {
  const std::int64_t start = stream_->start_time == AV_NOPTS_VALUE ? 0 : stream_->start_time;
  const auto target = start + static_cast<std::int64_t>(t_s / av_q2d(stream_->time_base));
  int error = av_seek_frame(input_.get(), stream_->index, target, AVSEEK_FLAG_BACKWARD);
  if (error < 0) {
    return avError(error, "seeking to " + std::to_string(t_s) + " s", path_);
  }

  avcodec_flush_buffers(decoder_.get());
  demuxer_done_ = false;
  current_.reset();
  next_.reset();
  return okStatus();
}

Status VideoClip::advanceTo(double t_s) {
  // Move forward while the next frame is due at or before T_S.
  while (true) {
    if (next_ == nullptr) {
      SMMHUB_ASSIGN_OR_RETURN(next_, decodeNext());
      if (next_ == nullptr) {
        return okStatus();
      }
      next_time_s_ = frameTime(*next_);
    }
    if (current_ != nullptr && next_time_s_ > t_s) {
      return okStatus();
    }
    current_ = std::move(next_);
    current_time_s_ = next_time_s_;
    ++current_serial_;
  }
}

Status VideoClip::buildFilterGraph(int out_width, int out_height) {
  graph_.reset(avfilter_graph_alloc());
  if (graph_ == nullptr) {
    return Status::resourceExhausted(path_.string() + ": cannot allocate a filter graph");
  }
  const AVFrame& frame = *current_;
  const AVRational time_base = stream_->time_base;
  const std::string source_args =
      "video_size=" + std::to_string(frame.width) + "x" + std::to_string(frame.height) +
      ":pix_fmt=" + std::to_string(frame.format) + ":time_base=" + std::to_string(time_base.num) +
      "/" + std::to_string(time_base.den) + ":pixel_aspect=1/1";
  int error = avfilter_graph_create_filter(&graph_source_, avfilter_get_by_name("buffer"), "in",
                                           source_args.c_str(), nullptr, graph_.get());
  if (error < 0) {
    return avError(error, "creating the filter graph source", path_);
  }
  error = avfilter_graph_create_filter(&graph_sink_, avfilter_get_by_name("buffersink"), "out",
                                       nullptr, nullptr, graph_.get());
  if (error < 0) {
    return avError(error, "creating the filter graph sink", path_);
  }

  // Tone mapping first, at the source size, then rotation, then scaling.
  const std::string description = std::string(hdr_ ? kToneMapFilters : "") +
                                  rotationFilters(rotation_degrees_) +
                                  "scale=" + std::to_string(out_width) + ":" +
                                  std::to_string(out_height) + ":flags=bicubic,format=bgra";
  FilterInOutPtr outputs(avfilter_inout_alloc());
  FilterInOutPtr inputs(avfilter_inout_alloc());
  if (outputs == nullptr || inputs == nullptr) {
    return Status::resourceExhausted(path_.string() + ": cannot allocate filter pads");
  }
  outputs->name = av_strdup("in");
  outputs->filter_ctx = graph_source_;
  inputs->name = av_strdup("out");
  inputs->filter_ctx = graph_sink_;

  AVFilterInOut* raw_inputs = inputs.release();
  AVFilterInOut* raw_outputs = outputs.release();
  error = avfilter_graph_parse_ptr(graph_.get(), description.c_str(), &raw_inputs, &raw_outputs,
                                   nullptr);
  inputs.reset(raw_inputs);
  outputs.reset(raw_outputs);
  if (error < 0) {
    return avError(error, "parsing the filter graph '" + description + "'", path_);
  }
  error = avfilter_graph_config(graph_.get(), nullptr);
  if (error < 0) {
    return avError(error, "configuring the filter graph '" + description + "'", path_);
  }

  graph_input_width_ = frame.width;
  graph_input_height_ = frame.height;
  graph_input_format_ = frame.format;
  graph_output_width_ = out_width;
  graph_output_height_ = out_height;
  logger("render")->debug("video clip filters path={} graph={}", path_.string(), description);
  return okStatus();
}

Result<RasterPtr> VideoClip::convertCurrent(int out_width, int out_height) {
  const AVFrame& frame = *current_;
  const bool same_input = frame.width == graph_input_width_ &&
                          frame.height == graph_input_height_ &&
                          frame.format == graph_input_format_;
  if (graph_ == nullptr || !same_input || out_width != graph_output_width_ ||
      out_height != graph_output_height_) {
    SMMHUB_RETURN_IF_ERROR(buildFilterGraph(out_width, out_height));
  }

  // The filters are one frame in, one frame out.
  int error =
      av_buffersrc_add_frame_flags(graph_source_, current_.get(), AV_BUFFERSRC_FLAG_KEEP_REF);
  if (error < 0) {
    return avError(error, "filtering a video frame", path_);
  }
  SMMHUB_ASSIGN_OR_RETURN(internal::FramePtr filtered, internal::allocFrame());
  error = av_buffersink_get_frame(graph_sink_, filtered.get());
  if (error < 0) {
    return avError(error, "filtering a video frame", path_);
  }

  // BGRA from the filters is opaque, so it is already premultiplied.
  auto raster = std::make_shared<Raster>(out_width, out_height);
  for (int y = 0; y < out_height; ++y) {
    std::memcpy(raster->row(y),
                filtered->data[0] + static_cast<std::ptrdiff_t>(y) * filtered->linesize[0],
                static_cast<size_t>(raster->stride()));
  }
  return RasterPtr(std::move(raster));
}

Result<RasterPtr> VideoClip::frameAt(double t_s, int out_width, int out_height) {
  SMMHUB_CHECK(out_width > 0 && out_height > 0);

  // Decoding runs forward, so an earlier time needs a seek.
  if (current_ != nullptr && t_s < current_time_s_) {
    SMMHUB_RETURN_IF_ERROR(seekTo(t_s));
  }
  SMMHUB_RETURN_IF_ERROR(advanceTo(t_s));
  if (current_ == nullptr) {
    return Status::dataLoss(path_.string() + ": no video frame could be decoded");
  }

  const bool cached = cached_ != nullptr && cached_serial_ == current_serial_ &&
                      cached_->width == out_width && cached_->height == out_height;
  if (!cached) {
    SMMHUB_ASSIGN_OR_RETURN(cached_, convertCurrent(out_width, out_height));
    cached_serial_ = current_serial_;
  }
  return cached_;
}

}  // namespace smmhub::render
