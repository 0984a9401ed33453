#include "render/video/skip_frame.h"

#include <bit>
#include <optional>
#include <vector>

namespace smmhub::render::internal {

namespace {

// NAL unit types and the slice type, as ITU-T H.264 numbers them.
constexpr int kNalSlice = 1;
constexpr int kNalIdrSlice = 5;
constexpr int kNalSps = 7;
constexpr int kNalPps = 8;
// slice_type 5: P, and every other slice of the picture is P too. Types 2
// and 7 are I.
constexpr int kSliceTypeP = 5;
constexpr int kSliceTypeI = 2;
constexpr int kMaxPpsId = 255;

constexpr std::string_view kStartCode{"\0\0\0\1", 4};

// Writes RBSP bits, most significant first, with Exp-Golomb codes.
class BitWriter {
 public:
  void bits(std::uint32_t value, int count) {
    for (int i = count - 1; i >= 0; --i) {
      bit(static_cast<int>((value >> i) & 1u));
    }
  }

  // ue(v): unsigned Exp-Golomb.
  void ue(std::uint32_t value) {
    const std::uint64_t code = std::uint64_t{value} + 1;
    int length = 0;
    while ((code >> (length + 1)) != 0) {
      ++length;
    }
    bits(0, length);
    for (int i = length; i >= 0; --i) {
      bit(static_cast<int>((code >> i) & 1));
    }
  }

  // se(v): signed Exp-Golomb, only 0 here.
  void seZero() { ue(0); }

  // Copies bits BEGIN to END of RBSP.
  void copyBits(std::string_view rbsp, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      bit((static_cast<unsigned char>(rbsp[i / 8]) >> (7 - i % 8)) & 1);
    }
  }

  // cabac_alignment_one_bit: ones to the byte boundary.
  void alignWithOnes() {
    while (used_ != 0) {
      bit(1);
    }
  }

  // Returns the bytes written and then BYTES, which already end with the
  // RBSP's trailing bits.
  // REQUIRES: the bits written so far fill whole bytes.
  std::string finishWith(std::string_view bytes) {
    bytes_.append(bytes);
    return std::move(bytes_);
  }

  // rbsp_trailing_bits(): a one, then zeros to the byte boundary.
  std::string finish() {
    bit(1);
    while (used_ != 0) {
      bit(0);
    }
    return std::move(bytes_);
  }

 private:
  void bit(int value) {
    current_ = static_cast<std::uint8_t>((current_ << 1) | (value & 1));
    if (++used_ == 8) {
      bytes_.push_back(static_cast<char>(current_));
      current_ = 0;
      used_ = 0;
    }
  }

  std::string bytes_;
  std::uint8_t current_ = 0;
  int used_ = 0;
};

// Reads RBSP bits. Every read past the end returns nullopt.
class BitReader {
 public:
  explicit BitReader(std::string rbsp) : rbsp_(std::move(rbsp)) {}

  std::optional<std::uint32_t> bits(int count) {
    std::uint32_t value = 0;
    for (int i = 0; i < count; ++i) {
      if (position_ >= 8 * rbsp_.size()) {
        past_end_ = true;
        return std::nullopt;
      }
      const auto byte = static_cast<unsigned char>(rbsp_[position_ / 8]);
      value = (value << 1) | ((byte >> (7 - position_ % 8)) & 1);
      ++position_;
    }
    return value;
  }

  // The position of the next bit to read.
  size_t position() const { return position_; }
  // Whether any read went past the end.
  bool pastEnd() const { return past_end_; }

  // ue(v), for values up to 2^31 - 2.
  std::optional<std::uint32_t> ue() {
    int zeros = 0;
    while (true) {
      std::optional<std::uint32_t> bit = bits(1);
      if (!bit.has_value() || zeros > 30) {
        return std::nullopt;
      }
      if (*bit == 1) {
        break;
      }
      ++zeros;
    }
    std::optional<std::uint32_t> suffix = bits(zeros);
    if (!suffix.has_value()) {
      return std::nullopt;
    }
    return (std::uint32_t{1} << zeros) - 1 + *suffix;
  }

 private:
  std::string rbsp_;
  size_t position_ = 0;
  bool past_end_ = false;
};

// Returns the NAL units of an Annex B byte stream, without start codes.
std::vector<std::string_view> splitNalUnits(std::string_view stream) {
  constexpr std::string_view kPrefix{"\0\0\1", 3};
  std::vector<std::string_view> units;
  size_t start = stream.find(kPrefix);
  while (start != std::string_view::npos) {
    start += kPrefix.size();
    const size_t next = stream.find(kPrefix, start);
    std::string_view unit =
        stream.substr(start, next == std::string_view::npos ? next : next - start);
    // A four-byte start code leaves its first zero at the end of this unit.
    while (!unit.empty() && unit.back() == 0) {
      unit.remove_suffix(1);
    }
    units.push_back(unit);
    start = next;
  }
  return units;
}

// Removes the emulation prevention bytes (00 00 03 -> 00 00) of a NAL
// unit's payload.
std::string toRbsp(std::string_view payload) {
  std::string rbsp;
  int zeros = 0;
  for (char c : payload) {
    if (zeros >= 2 && c == 3) {
      zeros = 0;
      continue;
    }
    rbsp.push_back(c);
    zeros = c == 0 ? zeros + 1 : 0;
  }
  return rbsp;
}

// Returns an Annex B NAL unit: start code, HEADER, and RBSP with emulation
// prevention bytes inserted.
std::string toNalUnit(std::uint8_t header, std::string_view rbsp) {
  std::string unit(kStartCode);
  unit.push_back(static_cast<char>(header));
  int zeros = 0;
  for (char c : rbsp) {
    if (zeros >= 2 && static_cast<unsigned char>(c) <= 3) {
      unit.push_back(3);
      zeros = 0;
    }
    unit.push_back(c);
    zeros = c == 0 ? zeros + 1 : 0;
  }
  return unit;
}

Status unsupported(const std::string& what) {
  return Status::invalidArgument("skipped frames do not support this stream: " + what);
}

// The profiles whose SPS carries chroma_format_idc and bit depths.
bool hasChromaFormat(std::uint32_t profile_idc) {
  for (std::uint32_t profile :
       {100u, 110u, 122u, 244u, 44u, 83u, 86u, 118u, 128u, 138u, 139u, 134u, 135u}) {
    if (profile_idc == profile) {
      return true;
    }
  }
  return false;
}

// The SPS and PPS payloads of libx264's extradata, without emulation
// prevention bytes.
struct ParameterSets {
  std::string sps;
  std::string pps;
};

Result<ParameterSets> findParameterSets(std::string_view extradata) {
  std::optional<std::string> sps;
  std::optional<std::string> pps;
  for (std::string_view unit : splitNalUnits(extradata)) {
    if (unit.empty()) {
      continue;
    }
    const int type = static_cast<unsigned char>(unit[0]) & 0x1F;
    if (type == kNalSps && !sps.has_value()) {
      sps = toRbsp(unit.substr(1));
    } else if (type == kNalPps && !pps.has_value()) {
      pps = toRbsp(unit.substr(1));
    }
  }
  if (!sps.has_value() || !pps.has_value()) {
    return unsupported("the extradata has no SPS or no PPS");
  }
  return ParameterSets{std::move(*sps), std::move(*pps)};
}

// The fields of seq_parameter_set_data() that the skipped frames' slice
// headers depend on.
struct SpsFields {
  int sps_id = 0;
  int log2_max_frame_num = 0;
  int poc_type = 0;
  int log2_max_poc_lsb = 0;
  std::uint32_t macroblocks = 0;
};

// Reads past the chroma format, bit depths and scaling matrix flag that some
// profiles add to the SPS.
Status skipChromaFields(BitReader& reader) {
  const std::optional<std::uint32_t> chroma_format_idc = reader.ue();
  if (chroma_format_idc == 3u && reader.bits(1) != 0u) {
    return unsupported("separate colour planes");
  }
  reader.ue();     // bit_depth_luma_minus8
  reader.ue();     // bit_depth_chroma_minus8
  reader.bits(1);  // qpprime_y_zero_transform_bypass_flag
  if (reader.bits(1) != 0u) {
    return unsupported("scaling matrices, or a truncated SPS");
  }
  return okStatus();
}

Result<SpsFields> parseSps(std::string rbsp) {
  BitReader reader(std::move(rbsp));
  const std::optional<std::uint32_t> profile_idc = reader.bits(8);
  reader.bits(16);  // constraint_set flags, reserved_zero_2bits and level_idc.
  const std::optional<std::uint32_t> sps_id = reader.ue();
  if (!profile_idc.has_value() || !sps_id.has_value()) {
    return unsupported("the SPS is truncated");
  }
  if (hasChromaFormat(*profile_idc)) {
    SMMHUB_RETURN_IF_ERROR(skipChromaFields(reader));
  }

  const std::optional<std::uint32_t> log2_max_frame_num_minus4 = reader.ue();
  const std::optional<std::uint32_t> poc_type = reader.ue();
  std::optional<std::uint32_t> log2_max_poc_lsb_minus4 = 0;
  if (poc_type == 0u) {
    log2_max_poc_lsb_minus4 = reader.ue();
  } else if (poc_type != 2u) {
    return unsupported("picture order count type other than 0 or 2");
  }
  const std::optional<std::uint32_t> max_num_ref_frames = reader.ue();
  reader.bits(1);  // gaps_in_frame_num_value_allowed_flag
  const std::optional<std::uint32_t> width_minus1 = reader.ue();
  const std::optional<std::uint32_t> height_minus1 = reader.ue();
  const std::optional<std::uint32_t> frame_mbs_only = reader.bits(1);
  if (!frame_mbs_only.has_value() || !log2_max_poc_lsb_minus4.has_value() ||
      !log2_max_frame_num_minus4.has_value() || !max_num_ref_frames.has_value() ||
      !width_minus1.has_value() || !height_minus1.has_value()) {
    return unsupported("the SPS is truncated");
  }

  if (*frame_mbs_only != 1) {
    return unsupported("interlaced coding");
  }
  if (*max_num_ref_frames == 0) {
    return unsupported("no reference frames");
  }
  if (*log2_max_frame_num_minus4 > 12 || *log2_max_poc_lsb_minus4 > 12 || *width_minus1 > 1023 ||
      *height_minus1 > 1023) {
    return unsupported("SPS values out of range");
  }
  SpsFields fields;
  fields.sps_id = static_cast<int>(*sps_id);
  fields.log2_max_frame_num = static_cast<int>(*log2_max_frame_num_minus4) + 4;
  fields.poc_type = static_cast<int>(*poc_type);
  fields.log2_max_poc_lsb = static_cast<int>(*log2_max_poc_lsb_minus4) + 4;
  fields.macroblocks = (*width_minus1 + 1) * (*height_minus1 + 1);
  return fields;
}

// The fields of libx264's pic_parameter_set_rbsp() that its IDR slice
// headers depend on.
struct PpsFields {
  std::uint32_t pps_id = 0;
  bool cabac = false;
  bool bottom_field_poc = false;
  bool deblocking_control = false;
  bool redundant_pic_cnt = false;
};

Result<PpsFields> parsePps(std::string rbsp) {
  BitReader reader(std::move(rbsp));
  PpsFields fields;
  const std::optional<std::uint32_t> pps_id = reader.ue();
  reader.ue();  // seq_parameter_set_id
  const std::optional<std::uint32_t> cabac = reader.bits(1);
  const std::optional<std::uint32_t> bottom_field_poc = reader.bits(1);
  const std::optional<std::uint32_t> slice_groups_minus1 = reader.ue();
  reader.ue();     // num_ref_idx_l0_default_active_minus1
  reader.ue();     // num_ref_idx_l1_default_active_minus1
  reader.bits(3);  // weighted_pred_flag, weighted_bipred_idc
  reader.ue();     // pic_init_qp_minus26, se(v) as long as ue(v)
  reader.ue();     // pic_init_qs_minus26
  reader.ue();     // chroma_qp_index_offset
  const std::optional<std::uint32_t> deblocking_control = reader.bits(1);
  reader.bits(1);  // constrained_intra_pred_flag
  const std::optional<std::uint32_t> redundant_pic_cnt = reader.bits(1);
  if (reader.pastEnd() || !pps_id.has_value() || *pps_id >= kMaxPpsId) {
    return unsupported("the PPS is truncated or its id is 255");
  }
  if (slice_groups_minus1 != 0u) {
    return unsupported("slice groups");
  }
  fields.pps_id = *pps_id;
  fields.cabac = cabac == 1u;
  fields.bottom_field_poc = bottom_field_poc == 1u;
  fields.deblocking_control = deblocking_control == 1u;
  fields.redundant_pic_cnt = redundant_pic_cnt == 1u;
  return fields;
}

// Returns the position of the rbsp_stop_one_bit of RBSP: its last one bit.
std::optional<size_t> stopBit(std::string_view rbsp) {
  for (size_t bytes = rbsp.size(); bytes > 0; --bytes) {
    const auto byte = static_cast<unsigned char>(rbsp[bytes - 1]);
    if (byte != 0) {
      return 8 * bytes - 1 - static_cast<size_t>(std::countr_zero(byte));
    }
  }
  return std::nullopt;
}

bool bitAt(std::string_view rbsp, size_t position) {
  return ((static_cast<unsigned char>(rbsp[position / 8]) >> (7 - position % 8)) & 1) != 0;
}

// Returns the NAL unit of pic_parameter_set_rbsp() for the skipped frames:
// CAVLC, one reference, no weighted prediction, QP 26, and the deblocking
// filter control in the slice header so that skipped frames can turn it off.
std::string buildPps(int pps_id, int sps_id) {
  BitWriter out;
  out.ue(static_cast<std::uint32_t>(pps_id));
  out.ue(static_cast<std::uint32_t>(sps_id));
  out.bits(0, 1);  // entropy_coding_mode_flag: CAVLC
  out.bits(0, 1);  // bottom_field_pic_order_in_frame_present_flag
  out.ue(0);       // num_slice_groups_minus1
  out.ue(0);       // num_ref_idx_l0_default_active_minus1
  out.ue(0);       // num_ref_idx_l1_default_active_minus1
  out.bits(0, 1);  // weighted_pred_flag
  out.bits(0, 2);  // weighted_bipred_idc
  out.seZero();    // pic_init_qp_minus26
  out.seZero();    // pic_init_qs_minus26
  out.seZero();    // chroma_qp_index_offset
  out.bits(1, 1);  // deblocking_filter_control_present_flag
  out.bits(0, 1);  // constrained_intra_pred_flag
  out.bits(0, 1);  // redundant_pic_cnt_present_flag
  return toNalUnit(0x60 | kNalPps, out.finish());
}

}  // namespace

Result<SkipFrameWriter> SkipFrameWriter::create(std::string_view extradata) {
  SMMHUB_ASSIGN_OR_RETURN(ParameterSets sets, findParameterSets(extradata));
  SMMHUB_ASSIGN_OR_RETURN(SpsFields sps, parseSps(std::move(sets.sps)));
  SMMHUB_ASSIGN_OR_RETURN(PpsFields pps, parsePps(std::move(sets.pps)));

  SkipFrameWriter writer;
  writer.sps_id_ = sps.sps_id;
  writer.keyframe_pps_id_ = static_cast<int>(pps.pps_id);
  writer.cabac_ = pps.cabac;
  writer.bottom_field_poc_ = pps.bottom_field_poc;
  writer.deblocking_control_ = pps.deblocking_control;
  writer.redundant_pic_cnt_ = pps.redundant_pic_cnt;
  writer.pps_id_ = static_cast<int>(pps.pps_id) + 1;
  writer.log2_max_frame_num_ = sps.log2_max_frame_num;
  writer.poc_type_ = sps.poc_type;
  writer.log2_max_poc_lsb_ = sps.log2_max_poc_lsb;
  writer.macroblocks_ = sps.macroblocks;
  writer.pps_ = buildPps(writer.pps_id_, writer.sps_id_);
  return writer;
}

std::string SkipFrameWriter::skipFrame(int frames_after_idr) const {
  const auto frame = static_cast<std::uint32_t>(frames_after_idr);

  // slice_header() for a P reference frame (nal_ref_idc 2).
  BitWriter out;
  out.ue(0);  // first_mb_in_slice
  out.ue(kSliceTypeP);
  out.ue(static_cast<std::uint32_t>(pps_id_));
  out.bits(frame & ((1u << log2_max_frame_num_) - 1), log2_max_frame_num_);
  if (poc_type_ == 0) {
    // Two per frame, as libx264 counts for progressive frames.
    out.bits((2 * frame) & ((1u << log2_max_poc_lsb_) - 1), log2_max_poc_lsb_);
  }
  out.bits(0, 1);  // num_ref_idx_active_override_flag
  out.bits(0, 1);  // ref_pic_list_modification_flag_l0
  out.bits(0, 1);  // adaptive_ref_pic_marking_mode_flag: sliding window
  out.seZero();    // slice_qp_delta
  out.ue(1);       // disable_deblocking_filter_idc: off, as no edge has a residual

  // slice_data(): one run of skipped macroblocks over the whole picture.
  // Each copies the co-located block of reference 0, because a P_Skip vector
  // is zero when the left or upper neighbour is missing or is itself skipped
  // with a zero vector, which holds for every block here.
  out.ue(macroblocks_);
  return toNalUnit(0x40 | kNalSlice, out.finish());
}

// Positions in bits in the RBSP of an IDR slice.
struct SkipFrameWriter::IdrSliceHeader {
  std::uint32_t idr_pic_id = 0;
  size_t id_begin = 0;
  size_t id_end = 0;
  // The first bit after slice_header().
  size_t end = 0;
};

Result<SkipFrameWriter::IdrSliceHeader> SkipFrameWriter::readIdrSliceHeader(
    std::string_view rbsp) const {
  BitReader reader{std::string(rbsp)};
  reader.ue();  // first_mb_in_slice
  const std::optional<std::uint32_t> slice_type = reader.ue();
  const std::optional<std::uint32_t> pps_id = reader.ue();
  if (!slice_type.has_value() || *slice_type % 5 != kSliceTypeI) {
    return unsupported("an IDR slice that is not an I slice");
  }
  if (pps_id != static_cast<std::uint32_t>(keyframe_pps_id_)) {
    return unsupported("an IDR slice that refers to another PPS than libx264's");
  }
  reader.bits(log2_max_frame_num_);  // frame_num

  IdrSliceHeader header;
  header.id_begin = reader.position();
  const std::optional<std::uint32_t> idr_pic_id = reader.ue();
  header.id_end = reader.position();
  header.idr_pic_id = idr_pic_id.value_or(0);

  // The rest of slice_header() for an I slice of an IDR picture. Each se(v)
  // is as long as the ue(v) read in its place.
  if (poc_type_ == 0) {
    reader.bits(log2_max_poc_lsb_);  // pic_order_cnt_lsb
    if (bottom_field_poc_) {
      reader.ue();  // delta_pic_order_cnt_bottom
    }
  }
  if (redundant_pic_cnt_) {
    reader.ue();  // redundant_pic_cnt
  }
  reader.bits(2);  // no_output_of_prior_pics_flag, long_term_reference_flag
  reader.ue();     // slice_qp_delta
  if (deblocking_control_ && reader.ue() != 1u) {
    reader.ue();  // slice_alpha_c0_offset_div2
    reader.ue();  // slice_beta_offset_div2
  }
  header.end = reader.position();
  if (reader.pastEnd()) {
    return unsupported("a truncated IDR slice header");
  }
  return header;
}

Result<std::string> SkipFrameWriter::rewriteIdrSlice(std::string_view rbsp,
                                                     std::uint32_t idr_pic_id) const {
  SMMHUB_ASSIGN_OR_RETURN(IdrSliceHeader header, readIdrSliceHeader(rbsp));
  BitWriter out;
  out.copyBits(rbsp, 0, header.id_begin);
  out.ue(idr_pic_id);
  out.copyBits(rbsp, header.id_end, header.end);

  // CABAC slice data starts at the byte after cabac_alignment_one_bits, so
  // its bytes stay as they are. Ones up to there also confirm that the
  // header was read to its end.
  if (cabac_) {
    const size_t data_begin = (header.end + 7) / 8;
    for (size_t i = header.end; i < 8 * data_begin; ++i) {
      if (!bitAt(rbsp, i)) {
        return unsupported("an IDR slice whose cabac_alignment_one_bit is 0");
      }
    }
    out.alignWithOnes();
    return out.finishWith(rbsp.substr(data_begin));
  }

  // CAVLC slice data follows the header bit by bit and moves with it.
  const std::optional<size_t> stop = stopBit(rbsp);
  if (!stop.has_value() || *stop < header.end) {
    return unsupported("an IDR slice without rbsp_stop_one_bit");
  }
  out.copyBits(rbsp, header.end, *stop);
  return out.finish();
}

Result<int> SkipFrameWriter::idrPicId(std::string_view access_unit) const {
  for (std::string_view unit : splitNalUnits(access_unit)) {
    if (!unit.empty() && (static_cast<unsigned char>(unit[0]) & 0x1F) == kNalIdrSlice) {
      SMMHUB_ASSIGN_OR_RETURN(IdrSliceHeader header, readIdrSliceHeader(toRbsp(unit.substr(1))));
      return static_cast<int>(header.idr_pic_id);
    }
  }
  return unsupported("an access unit without an IDR slice");
}

Result<std::string> SkipFrameWriter::withIdrPicId(std::string_view access_unit,
                                                  int idr_pic_id) const {
  std::string rewritten;
  bool found = false;
  for (std::string_view unit : splitNalUnits(access_unit)) {
    if (unit.empty()) {
      continue;
    }
    const auto nal_header = static_cast<std::uint8_t>(unit[0]);
    if ((nal_header & 0x1F) != kNalIdrSlice) {
      rewritten.append(kStartCode).append(unit);
      continue;
    }
    found = true;
    SMMHUB_ASSIGN_OR_RETURN(
        std::string rbsp,
        rewriteIdrSlice(toRbsp(unit.substr(1)), static_cast<std::uint32_t>(idr_pic_id)));
    rewritten += toNalUnit(nal_header, rbsp);
  }
  if (!found) {
    return unsupported("an access unit without an IDR slice");
  }
  return rewritten;
}

}  // namespace smmhub::render::internal
