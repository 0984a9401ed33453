// Helpers shared by the tests of SegmentEncoder and SegmentMuxer: test
// pictures, and decoding of segments and files to yuv420p planes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "common/status.h"
#include "render/raster.h"
#include "render/video/codec_setup.h"
#include "render/video/encode_settings.h"
#include "render/video/encoded_media.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

namespace smmhub::render::testing {

// A 180x320 video with B-frames (veryfast uses B-pyramid) and two-second
// GOPs, small enough for tests under the sanitizers.
inline EncodeSettings smallSegmentSettings() {
  EncodeSettings settings;
  settings.width = 180;
  settings.height = 320;
  settings.preset = "veryfast";
  settings.threads = 1;
  return settings;
}

// A square of colour (B, G, R) moved by FRAME over a gradient, so that every
// frame differs from the one before and scenes differ from each other.
inline Raster boxFrame(int width, int height, int frame, std::uint8_t b, std::uint8_t g,
                       std::uint8_t r) {
  Raster raster(width, height);
  const int box_x = (frame * 5) % width;
  const int box_y = height / 3 + (frame * 3) % (height / 3);
  for (int y = 0; y < height; ++y) {
    std::uint8_t* row = raster.row(y);
    for (int x = 0; x < width; ++x) {
      const bool box = std::abs(x - box_x) < width / 8 && std::abs(y - box_y) < width / 8;
      std::uint8_t* pixel = row + 4 * static_cast<size_t>(x);
      pixel[0] = box ? b : static_cast<std::uint8_t>(y * 255 / height);
      pixel[1] = box ? g : static_cast<std::uint8_t>(x * 255 / width);
      pixel[2] = box ? r : 96;
      pixel[3] = 255;
    }
  }
  return raster;
}

// The Y, U and V planes of a yuv420p picture, packed without row padding.
inline std::string packedPlanes(const AVFrame& frame) {
  std::string planes;
  for (int plane = 0; plane < 3; ++plane) {
    const int width = plane == 0 ? frame.width : (frame.width + 1) / 2;
    const int height = plane == 0 ? frame.height : (frame.height + 1) / 2;
    for (int y = 0; y < height; ++y) {
      const std::ptrdiff_t offset = static_cast<std::ptrdiff_t>(y) * frame.linesize[plane];
      planes.append(reinterpret_cast<const char*>(frame.data[plane] + offset),
                    static_cast<size_t>(width));
    }
  }
  return planes;
}

// Converts RASTER the way the encoders do, for comparison with decoded
// pictures.
inline Result<std::string> sourcePlanes(const Raster& raster) {
  const std::filesystem::path context = "test source";
  SMMHUB_ASSIGN_OR_RETURN(internal::SwsContextPtr converter,
                          internal::createYuvConverter(raster.width, raster.height, context));
  SMMHUB_ASSIGN_OR_RETURN(internal::FramePtr frame,
                          internal::convertToYuv(*converter, raster, context));
  return packedPlanes(*frame);
}

// Returns the PSNR in dB of the luma planes of two packed pictures of
// WIDTH x HEIGHT, or +infinity when they are equal.
inline double lumaPsnr(const std::string& a, const std::string& b, int width, int height) {
  const size_t luma = static_cast<size_t>(width) * height;
  double squared = 0;
  for (size_t i = 0; i < luma; ++i) {
    const double difference = static_cast<unsigned char>(a[i]) - static_cast<unsigned char>(b[i]);
    squared += difference * difference;
  }
  if (squared == 0) {
    return std::numeric_limits<double>::infinity();
  }
  return 10 * std::log10(255.0 * 255.0 * static_cast<double>(luma) / squared);
}

// Receives every picture the decoder has ready, in presentation order.
inline Status receivePictures(AVCodecContext& decoder, std::vector<std::string>& pictures) {
  SMMHUB_ASSIGN_OR_RETURN(internal::FramePtr frame, internal::allocFrame());
  while (true) {
    const int error = avcodec_receive_frame(&decoder, frame.get());
    if (error == AVERROR(EAGAIN) || error == AVERROR_EOF) {
      return okStatus();
    }
    if (error < 0) {
      return internal::avError(error, "decoding", "test");
    }
    pictures.push_back(packedPlanes(*frame));
    av_frame_unref(frame.get());
  }
}

// Opens FFmpeg's H.264 decoder with EXTRADATA, single-threaded and failing
// on any bitstream error instead of concealing it.
inline Result<internal::CodecContextPtr> openH264Decoder(const std::string& extradata) {
  const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_H264);
  internal::CodecContextPtr decoder(avcodec_alloc_context3(codec));
  decoder->thread_count = 1;
  decoder->err_recognition = AV_EF_EXPLODE;
  decoder->extradata =
      static_cast<std::uint8_t*>(av_mallocz(extradata.size() + AV_INPUT_BUFFER_PADDING_SIZE));
  std::copy(extradata.begin(), extradata.end(), decoder->extradata);
  decoder->extradata_size = static_cast<int>(extradata.size());
  const int error = avcodec_open2(decoder.get(), codec, nullptr);
  if (error < 0) {
    return internal::avError(error, "opening the h264 decoder", "test");
  }
  return decoder;
}

// Decodes SEGMENT on its own and returns its pictures in presentation order.
inline Result<std::vector<std::string>> decodeSegment(const EncodedSegment& segment) {
  SMMHUB_ASSIGN_OR_RETURN(internal::CodecContextPtr decoder, openH264Decoder(segment.extradata));
  SMMHUB_ASSIGN_OR_RETURN(internal::PacketPtr packet, internal::allocPacket());
  std::vector<std::string> pictures;
  for (const EncodedPacket& encoded : segment.packets) {
    av_new_packet(packet.get(), static_cast<int>(encoded.data.size()));
    std::copy(encoded.data.begin(), encoded.data.end(), packet->data);
    packet->pts = encoded.pts;
    packet->dts = encoded.dts;
    packet->flags = encoded.keyframe ? AV_PKT_FLAG_KEY : 0;
    const int error = avcodec_send_packet(decoder.get(), packet.get());
    av_packet_unref(packet.get());
    if (error < 0) {
      return internal::avError(error, "decoding a segment packet", "test");
    }
    SMMHUB_RETURN_IF_ERROR(receivePictures(*decoder, pictures));
  }
  const int error = avcodec_send_packet(decoder.get(), nullptr);
  if (error < 0) {
    return internal::avError(error, "flushing the decoder", "test");
  }
  SMMHUB_RETURN_IF_ERROR(receivePictures(*decoder, pictures));
  return pictures;
}

// The packets of one stream of a file, as libavformat reads them.
struct DemuxedStream {
  AVRational time_base{0, 1};
  std::vector<EncodedPacket> packets;
};

// The streams of a file and the pictures of its video stream.
struct DemuxedFile {
  DemuxedStream video;
  DemuxedStream audio;
  std::string video_extradata;
  std::string audio_extradata;
  int video_profile = 0;
  int audio_profile = 0;
  int audio_frame_size = 0;
  std::vector<std::string> pictures;
};

// Returns a copy of PACKET's bytes, timestamps and key flag.
inline EncodedPacket copyPacket(const AVPacket& packet) {
  EncodedPacket copy;
  copy.data.assign(reinterpret_cast<const char*>(packet.data), static_cast<size_t>(packet.size));
  copy.pts = packet.pts;
  copy.dts = packet.dts;
  copy.duration = packet.duration;
  copy.keyframe = (packet.flags & AV_PKT_FLAG_KEY) != 0;
  return copy;
}

// Copies the stream parameters that the tests compare into FILE.
inline void describeStreams(const AVStream& video, const AVStream& audio, DemuxedFile& file) {
  file.video.time_base = video.time_base;
  file.audio.time_base = audio.time_base;
  file.video_extradata.assign(reinterpret_cast<const char*>(video.codecpar->extradata),
                              static_cast<size_t>(video.codecpar->extradata_size));
  file.audio_extradata.assign(reinterpret_cast<const char*>(audio.codecpar->extradata),
                              static_cast<size_t>(audio.codecpar->extradata_size));
  file.video_profile = video.codecpar->profile;
  file.audio_profile = audio.codecpar->profile;
  file.audio_frame_size = audio.codecpar->frame_size;
}

// Opens FFmpeg's decoder for STREAM, single-threaded and failing on any
// bitstream error.
inline Result<internal::CodecContextPtr> openStreamDecoder(const AVStream& stream) {
  const AVCodec* codec = avcodec_find_decoder(stream.codecpar->codec_id);
  internal::CodecContextPtr decoder(avcodec_alloc_context3(codec));
  avcodec_parameters_to_context(decoder.get(), stream.codecpar);
  decoder->thread_count = 1;
  decoder->err_recognition = AV_EF_EXPLODE;
  const int error = avcodec_open2(decoder.get(), codec, nullptr);
  if (error < 0) {
    return internal::avError(error, "opening the decoder", "test");
  }
  return decoder;
}

// Reads every packet of PATH through libavformat and decodes its video.
inline Result<DemuxedFile> demuxAndDecode(const std::filesystem::path& path) {
  AVFormatContext* raw = nullptr;
  int error = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (error < 0) {
    return internal::avError(error, "opening", path);
  }
  internal::InputContextPtr input(raw);
  error = avformat_find_stream_info(input.get(), nullptr);
  if (error < 0) {
    return internal::avError(error, "reading stream info", path);
  }
  const int video_index = av_find_best_stream(input.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  const int audio_index = av_find_best_stream(input.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (video_index < 0 || audio_index < 0) {
    return Status::notFound(path.string() + ": no video or no audio stream");
  }
  DemuxedFile file;
  describeStreams(*input->streams[video_index], *input->streams[audio_index], file);
  SMMHUB_ASSIGN_OR_RETURN(internal::CodecContextPtr decoder,
                          openStreamDecoder(*input->streams[video_index]));

  SMMHUB_ASSIGN_OR_RETURN(internal::PacketPtr packet, internal::allocPacket());
  while ((error = av_read_frame(input.get(), packet.get())) >= 0) {
    if (packet->stream_index == audio_index) {
      file.audio.packets.push_back(copyPacket(*packet));
    } else if (packet->stream_index == video_index) {
      file.video.packets.push_back(copyPacket(*packet));
      error = avcodec_send_packet(decoder.get(), packet.get());
    }
    av_packet_unref(packet.get());
    if (error < 0) {
      return internal::avError(error, "decoding", path);
    }
    SMMHUB_RETURN_IF_ERROR(receivePictures(*decoder, file.pictures));
  }
  if (error != AVERROR_EOF) {
    return internal::avError(error, "reading packets", path);
  }
  avcodec_send_packet(decoder.get(), nullptr);
  SMMHUB_RETURN_IF_ERROR(receivePictures(*decoder, file.pictures));
  return file;
}

}  // namespace smmhub::render::testing
