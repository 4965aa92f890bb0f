#pragma once
// DASH MPD model, parser and rules (ISO/IEC 23009-1), on pugixml.
//
// Parse() reads the MPD (namespace prefixes are ignored: elements and attributes are matched by
// local name) into Period / AdaptationSet / Representation with the segment information merged
// down the hierarchy (Period -> AdaptationSet -> Representation; the lower level overrides per
// attribute, as §5.3.9.1 requires) and BaseURL chains resolved. ExpandSegments() turns a
// Representation's SegmentTemplate (with or without SegmentTimeline) or SegmentList into concrete
// segments; LiveEdge() finds the newest available segment of a dynamic MPD at a wall-clock time.
//
// Ownership: the model owns its strings. Threads: values only. Errors: never fails; problems
// become findings. Expansion is capped (kMaxSegments) so hostile timelines cannot exhaust memory.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/finding.h"

namespace avtrace::analyzer::dash {

inline constexpr size_t kMaxSegments = 200000;

struct TimelineEntry {  // one S element
  std::optional<uint64_t> t;
  uint64_t d = 0;
  int64_t r = 0;
  int line = 0;
};

struct SegmentInfo {
  enum class Kind : uint8_t { kNone, kBase, kList, kTemplate };
  Kind kind = Kind::kNone;
  uint64_t timescale = 1;
  std::optional<uint64_t> duration;  // in timescale units
  uint64_t start_number = 1;
  uint64_t presentation_time_offset = 0;
  double availability_time_offset = 0;
  std::string media, initialization;  // templates or URLs
  std::string index_range;
  std::vector<TimelineEntry> timeline;
  bool has_timeline = false;
  std::vector<std::string> list_media;  // SegmentList SegmentURL@media
  std::vector<std::string> list_media_range;  // SegmentURL@mediaRange ("" when absent), same order
  int line = 0;
};

struct Representation {
  std::string id;
  uint64_t bandwidth = 0;
  uint64_t width = 0, height = 0;
  std::string codecs, mime_type, frame_rate;
  std::string base_url;  // resolved chain MPD -> Period -> AdaptationSet -> Representation
  SegmentInfo segments;  // merged
  std::string path;      // MPD/Period[0]/AdaptationSet[id=v]/Representation[id=v0]
  int line = 0;
};

struct AdaptationSet {
  std::string id, content_type, mime_type, codecs, lang;
  std::vector<std::string> protection_schemes;
  std::vector<Representation> representations;
  int line = 0;
};

struct Period {
  std::string id;
  std::optional<double> start, duration;  // seconds, as written
  double computed_start = 0;              // §5.3.2.1 rules applied
  std::vector<AdaptationSet> adaptation_sets;
  int line = 0;
};

struct UtcTiming {
  std::string scheme, value;
  int line = 0;
};

struct Mpd {
  bool dynamic = false;
  std::string type = "static";
  std::string profiles;
  std::optional<double> availability_start_time, publish_time;  // Unix seconds
  std::optional<double> media_presentation_duration, minimum_update_period,
      time_shift_buffer_depth, suggested_presentation_delay, min_buffer_time;
  std::vector<UtcTiming> utc_timings;
  std::vector<Period> periods;
  bool parsed = false;  // false when the XML was unusable
};

struct Segment {
  uint64_t number = 0;
  uint64_t time = 0;      // timescale units (template $Time$)
  uint64_t duration = 0;  // timescale units
  double start = 0;       // seconds in the period (after presentationTimeOffset)
  std::string url;        // resolved against the BaseURL chain
  std::string range;      // SegmentURL@mediaRange ("first-last" bytes of url), "" for all of it
};

bool LooksLikeMpd(std::string_view text);

// `base_url` resolves relative BaseURLs and segment templates (the MPD's own URL or path).
Mpd Parse(std::string_view text, std::string_view base_url, Findings* out);

// Whole-MPD rules. `reference_time` (Unix seconds) is "now" for live-edge rules: the wall clock
// for a fetched MPD, publishTime for a file; without it the time-dependent rules are skipped.
void Check(const Mpd& mpd, std::optional<double> reference_time, Findings* out);

// Expands a template ($Number$, $Time$, $Bandwidth$, $RepresentationID$, %0Nd widths, $$).
// nullopt when the template uses an identifier or format the standard does not allow.
std::optional<std::string> FormatTemplate(std::string_view tmpl, const Representation& rep,
                                          uint64_t number, uint64_t time);

// The Representation's media segments. For a SegmentTemplate with @duration in a dynamic MPD
// the list ends at `now` (required then); for static MPDs at the Period's end.
std::vector<Segment> ExpandSegments(const Mpd& mpd, const Period& period, const Representation& rep,
                                    std::optional<double> now = std::nullopt);

// The newest segment fully available at `now` (dynamic MPDs), honouring availabilityTimeOffset.
std::optional<Segment> LiveEdge(const Mpd& mpd, const Period& period, const Representation& rep,
                                double now);

}  // namespace avtrace::analyzer::dash
