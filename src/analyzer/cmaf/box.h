#pragma once
// ISO-BMFF box reader and fragmented-MP4 / CMAF checks (ISO/IEC 14496-12, ISO/IEC 23000-19).
//
// ParseInit() reads an initialization segment (ftyp, moov/trak/mdhd, mvex/trex); ParseMedia()
// reads a media segment (styp, sidx, moof/mfhd/traf/tfhd/tfdt/trun, mdat) and computes each track
// fragment's duration from trun / tfhd / trex defaults. CheckSequence() checks mfhd sequence
// numbers and tfdt continuity across consecutive segments.
//
// "Valid fragmented MP4" and "CMAF-branded" are separate questions: stock ffmpeg output (brands
// iso5/iso6/mp41, no cmfc) passes every error and warning rule and only gets cmaf_brand_absent.
//
// Ownership: results own their data; the input bytes are only read during the call. Threads:
// pure. Errors: findings; nesting depth and box counts are bounded for hostile input.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/finding.h"

namespace avtrace::analyzer::cmaf {

struct Box {
  std::string type;  // four characters
  uint64_t offset = 0, size = 0;
  std::string path;  // e.g. "moof[0]/traf[0]/tfdt"
};

struct TrackInfo {
  uint32_t track_id = 0;
  uint32_t timescale = 0;       // mdhd
  uint32_t default_sample_duration = 0;  // trex
  std::string handler;          // vide, soun, ...
};

struct InitSegment {
  std::vector<std::string> brands;  // major first, then compatible
  std::map<uint32_t, TrackInfo> tracks;
  bool fragmented = false;
  std::vector<Box> boxes;
};

struct TrackFragment {
  uint32_t track_id = 0;
  std::optional<uint64_t> base_decode_time;  // tfdt
  uint64_t duration = 0;                     // sum of sample durations, timescale units
  uint32_t samples = 0;
};

struct MediaSegment {
  std::vector<std::string> brands;  // styp
  std::vector<uint32_t> sequence_numbers;  // mfhd, one per moof
  std::vector<TrackFragment> fragments;    // one per traf, in order
  std::vector<Box> boxes;
};

// True when the bytes start with a plausible top-level box (ftyp, styp, moov, moof, sidx, ...).
bool LooksLikeMp4(std::string_view bytes);

// `init` may be null (then track ids and default durations cannot be checked).
InitSegment ParseInit(std::string_view bytes, Findings* out);
MediaSegment ParseMedia(std::string_view bytes, const InitSegment* init, Findings* out);

// Consecutive media segments of one track: sequence numbers increase, tfdt is continuous.
// `names` label each segment in the findings' location.
void CheckSequence(const std::vector<MediaSegment>& segments, const std::vector<std::string>& names,
                   Findings* out);

// A Segment Index (sidx, ISO/IEC 14496-12 §8.16.3): what DASH SegmentBase@indexRange points at.
// Each reference gives a subsegment's exact size and duration, so bit rates can be measured
// without downloading the media.
struct SidxReference {
  bool is_index = false;     // reference_type 1: points at another sidx (hierarchical index)
  uint32_t size = 0;         // referenced_size, bytes
  uint32_t duration = 0;     // subsegment_duration, sidx timescale units
};
struct Sidx {
  uint32_t timescale = 0;
  uint64_t earliest_presentation_time = 0, first_offset = 0;
  std::vector<SidxReference> references;
};
// The first top-level sidx in `bytes` (which may hold other boxes before it); nullopt when there
// is none or it is truncated. Pure; bounded by the input size.
std::optional<Sidx> ParseSidx(std::string_view bytes);

// Total duration in seconds of `track_id` in the segment, using the init's timescale.
std::optional<double> SegmentDuration(const MediaSegment& seg, const InitSegment& init,
                                      uint32_t track_id);

}  // namespace avtrace::analyzer::cmaf
