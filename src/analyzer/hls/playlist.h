#pragma once
// HLS playlist model and parser (RFC 8216bis-16, "HTTP Live Streaming 2nd Edition").
//
// Parse() reads a Multivariant ("master") or Media Playlist in one pass into the value types
// below and reports every syntax- and tag-level finding; Check() (checks.h) adds the rules that
// need the whole playlist. Every model element remembers its 1-based source line.
//
// Ownership: zero-copy. Parse copies the input once into Playlist::text (a shared, immutable
// buffer) and every std::string_view in the model points into that buffer or into the few strings
// the parser had to build there (values after variable substitution). The input may be released
// after Parse; copies and moves of a Playlist share the buffer, so their views stay valid. A view
// (or an element such as a Segment) copied out of the model is only valid while some Playlist
// (or a copy of its `text` pointer) that owns the buffer is alive.
// Threads: values only; the shared buffer is never written after Parse returns.
// Errors: Parse never fails: malformed input becomes findings and the model keeps whatever could
// be read (lenient like players, strict in what it reports).
// Input size is the caller's business (the fetcher caps it).

#include <cstdint>
#include <forward_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyzer/finding.h"

namespace avtrace::analyzer::hls {

enum class PlaylistKind : uint8_t { kUnknown, kMultivariant, kMedia };
enum class PlaylistType : uint8_t { kNone, kEvent, kVod };

struct ByteRange {
  uint64_t length = 0;
  std::optional<uint64_t> offset;  // absent: continues after the previous sub-range
};

struct Key {
  std::string_view method;  // NONE, AES-128, SAMPLE-AES, ...
  std::string_view uri;
  std::string_view iv;
  std::string_view keyformat;
  int line = 0;
};

struct InitSection {  // EXT-X-MAP
  std::string_view uri;
  std::optional<ByteRange> range;
  int line = 0;
};

struct PartialSegment {  // EXT-X-PART
  double duration = 0;
  std::string_view uri;
  bool independent = false;
  bool gap = false;
  std::optional<ByteRange> range;
  int line = 0;
};

struct Segment {
  double duration = 0;  // EXTINF
  std::string_view title;
  std::string_view uri;
  int line = 0;      // the EXTINF line (the URI line when EXTINF is missing)
  int uri_line = 0;
  uint64_t sequence = 0;               // Media Sequence Number
  uint64_t discontinuity_sequence = 0;
  bool discontinuity = false;
  bool gap = false;
  std::optional<ByteRange> range;
  std::optional<double> program_date_time;  // explicit EXT-X-PROGRAM-DATE-TIME, Unix seconds
  uint64_t bitrate_kbps = 0;               // EXT-X-BITRATE in effect, 0 when none
  int key = -1;  // index into MediaPlaylist::keys of the key in effect, -1 when clear
  int map = -1;  // index into MediaPlaylist::maps, -1 when none
  std::vector<PartialSegment> parts;
};

struct DateRange {
  std::string_view id;
  std::string_view klass;  // CLASS
  std::optional<double> start, end, duration, planned_duration;
  bool end_on_next = false;
  bool scte35_out = false, scte35_in = false, scte35_cmd = false;
  std::vector<std::pair<std::string_view, std::string_view>> attributes;  // raw, for conflict checks
  int line = 0;
};

struct ServerControl {
  bool present = false;
  bool can_block_reload = false;
  std::optional<double> can_skip_until, hold_back, part_hold_back;
  bool can_skip_dateranges = false;
  int line = 0;
};

struct Skip {
  uint64_t skipped_segments = 0;
  bool has_recently_removed = false;
  int line = 0;
};

struct PreloadHint {
  std::string_view type;  // PART or MAP
  std::string_view uri;
  int line = 0;
};

struct RenditionReport {
  std::string_view uri;
  std::optional<uint64_t> last_msn, last_part;
  int line = 0;
};

struct MediaPlaylist {
  std::optional<uint64_t> target_duration;
  int target_duration_line = 0;
  uint64_t media_sequence = 0;
  uint64_t discontinuity_sequence = 0;
  PlaylistType playlist_type = PlaylistType::kNone;
  bool endlist = false;
  bool iframes_only = false;
  std::optional<double> part_target;
  int part_inf_line = 0;
  ServerControl server_control;
  std::optional<Skip> skip;
  std::vector<Key> keys;
  std::vector<InitSection> maps;
  std::vector<Segment> segments;
  std::vector<PartialSegment> trailing_parts;  // parts of the segment still being produced
  std::vector<DateRange> dateranges;
  std::vector<PreloadHint> preload_hints;
  std::vector<RenditionReport> rendition_reports;

  bool live() const { return !endlist && playlist_type != PlaylistType::kVod; }
  double TotalDuration() const;
  // Media Sequence Number of the last complete segment (media_sequence - 1 when empty).
  int64_t LastMsn() const;
};

struct Resolution {
  uint64_t width = 0, height = 0;
};

struct Variant {  // EXT-X-STREAM-INF or EXT-X-I-FRAME-STREAM-INF
  bool iframe = false;
  uint64_t bandwidth = 0;
  std::optional<uint64_t> average_bandwidth;
  std::vector<std::string_view> codecs;
  std::optional<Resolution> resolution;
  bool resolution_present = false;  // the attribute was there, even if malformed
  std::optional<double> frame_rate;
  std::string_view audio, video, subtitles, closed_captions;
  std::string_view uri;
  int line = 0;
  int uri_line = 0;
};

struct Rendition {  // EXT-X-MEDIA
  std::string_view type, group_id, name, language, uri, instream_id, channels;
  bool is_default = false, autoselect = false, forced = false;
  int line = 0;
};

struct MultivariantPlaylist {
  std::vector<Variant> variants;  // stream variants and I-frame variants, in file order
  std::vector<Rendition> renditions;
  size_t StreamCount() const;
};

// The bytes the model's string_views point into (see Ownership above).
struct PlaylistText {
  std::string input;                   // the parsed text, copied once
  std::forward_list<std::string> built;  // strings built while parsing; nodes never move
};

struct Playlist {
  PlaylistKind kind = PlaylistKind::kUnknown;
  uint64_t version = 1;  // EXT-X-VERSION, 1 when absent
  int version_line = 0;  // 0 when absent
  bool independent_segments = false;
  MediaPlaylist media;
  MultivariantPlaylist multivariant;
  // Owner of every string_view above; null for a default-constructed Playlist.
  std::shared_ptr<const PlaylistText> text;
};

// True when the text (after an optional BOM and blank lines) starts with #EXTM3U.
bool LooksLikeHls(std::string_view text);

// Parses `text` and appends the parse-time findings to `out`.
Playlist Parse(std::string_view text, Findings* out);

// Parse() followed by Check(): the full rule set on one playlist.
Playlist Analyze(std::string_view text, Findings* out);

// Splits a CODECS value "avc1.64001f,mp4a.40.2" into trimmed entries: views into `codecs`.
std::vector<std::string_view> SplitCodecs(std::string_view codecs);

}  // namespace avtrace::analyzer::hls
