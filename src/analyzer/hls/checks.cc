#include "analyzer/hls/checks.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "analyzer/text.h"

namespace avtrace::analyzer::hls {
namespace {

// Floating-point slack for durations written with a few decimals (e.g. 0.33334 vs 1/3 s).
constexpr double kEpsilon = 0.0005;

std::string Sec(double v) { return FormatNumber(v) + " s"; }

bool IsVideoCodec(std::string_view c) {
  for (std::string_view p : {"avc1", "avc3", "hvc1", "hev1", "vp09", "vp08", "av01", "dvh1",
                             "dvhe", "dva1", "dvav", "mp4v", "vvc1", "vvi1"})
    if (StartsWith(c, p)) return true;
  return false;
}

bool IsAudioCodec(std::string_view c) {
  for (std::string_view p : {"mp4a", "ac-3", "ec-3", "ac-4", "opus", "Opus", "fLaC", "alac",
                             "mp3", ".mp3", "dtsc", "dtse", "dtsx", "mha1", "mhm1"})
    if (StartsWith(c, p)) return true;
  return false;
}

// What the one pass over the segments (CheckSegments) learns for the other rule groups, so that
// they need not walk the segments again.
struct SegmentSummary {
  const PartialSegment* first_part = nullptr;  // of the first segment that has parts
  bool any_pdt = false;                        // some segment has a PROGRAM-DATE-TIME
};

// std::llround(d) > target, without the libm call in the common case: llround rounds halves
// away from zero, so d < target + 0.5 never rounds above (target + 0.5 is exact below 2^52).
bool RoundsAbove(double d, uint64_t target) {
  if (target < (uint64_t{1} << 52) && d < static_cast<double>(target) + 0.5) return false;
  return std::llround(d) > static_cast<long long>(target);
}

SegmentSummary CheckSegments(const Playlist& pl, Findings* out) {
  SegmentSummary summary;
  const MediaPlaylist& m = pl.media;
  const auto& segs = m.segments;
  if (!m.target_duration && m.target_duration_line == 0)
    out->Add(RuleId::kHlsMissingTargetDuration, 1, "The Media Playlist has no EXT-X-TARGETDURATION.");
  if (segs.empty() && m.trailing_parts.empty())
    out->Add(RuleId::kHlsMediaEmpty, 1, "The Media Playlist lists no segments.");
  if (m.playlist_type == PlaylistType::kVod && !m.endlist)
    out->Add(RuleId::kHlsVodMissingEndlist, 1, "PLAYLIST-TYPE=VOD without EXT-X-ENDLIST.");

  // The mean segment duration only matters without a target duration.
  double mean = 0;
  if (!m.target_duration) {
    for (const auto& s : segs) mean += s.duration;
    if (!segs.empty()) mean /= static_cast<double>(segs.size());
  }
  const double td = m.target_duration ? static_cast<double>(*m.target_duration) : 0;
  const double outlier_floor = m.target_duration ? 0.5 * td : 0.5 * mean;

  // Loop invariants in locals: the Findings appends in the loop would otherwise make the
  // compiler reload them for every segment.
  const bool has_td = m.target_duration.has_value();
  const uint64_t td_int = m.target_duration.value_or(0);
  const bool endlist = m.endlist;
  const size_t count = segs.size();
  bool key_seen = false, disc_seen = false, pdt_seen = false, gap_seen = false;
  for (size_t i = 0; i < count; ++i) {
    const Segment& s = segs[i];
    if (has_td && RoundsAbove(s.duration, td_int))
      out->Add(RuleId::kHlsSegmentDurationExceedsTarget, s.line,
               "Segment duration " + Sec(s.duration) + " rounds above EXT-X-TARGETDURATION " +
                   Sec(td) + ".",
               std::string(s.uri));
    const bool last = i + 1 == count;
    if (s.duration < outlier_floor && outlier_floor > 0 && !s.gap && !(last && endlist) &&
        !(!last && (segs[i + 1].discontinuity || segs[i + 1].gap)))
      out->Add(RuleId::kHlsSegmentDurationOutlier, s.line,
               "Segment duration " + Sec(s.duration) + " is below half the " +
                   (has_td ? "target duration (" + Sec(td) + ")."
                           : "mean segment duration (" + Sec(mean) + ")."),
               std::string(s.uri));
    // The rules below only concern segments that carry something: most carry nothing.
    if (s.key < 0 && !s.discontinuity && !s.gap && !s.program_date_time && s.parts.empty())
      continue;
    if (!summary.first_part && !s.parts.empty()) summary.first_part = &s.parts.front();
    if (s.program_date_time) summary.any_pdt = true;
    if (s.key >= 0 && !key_seen) {
      key_seen = true;
      const Key& k = m.keys[static_cast<size_t>(s.key)];
      out->Add(RuleId::kHlsEncryptionPresent, k.line, "Segments are encrypted with METHOD=" + std::string(k.method) + ".");
    }
    if (s.discontinuity && !disc_seen) {
      disc_seen = true;
      out->Add(RuleId::kHlsDiscontinuityPresent, s.line, "The playlist has discontinuities.");
    }
    if (s.program_date_time && !pdt_seen) {
      pdt_seen = true;
      out->Add(RuleId::kHlsProgramDateTimePresent, s.line,
               "First PROGRAM-DATE-TIME is " + FormatIso8601(*s.program_date_time) + ".");
    }
    if (s.gap && !gap_seen) {
      gap_seen = true;
      out->Add(RuleId::kHlsGapPresent, s.line, "Segment is marked EXT-X-GAP.", std::string(s.uri));
    }
    if (i > 0 && s.program_date_time && segs[i - 1].program_date_time && !s.discontinuity) {
      double expected = *segs[i - 1].program_date_time + segs[i - 1].duration;
      double delta = *s.program_date_time - expected;
      if (std::fabs(delta) > 0.5)
        out->Add(RuleId::kHlsProgramDateTimeJump, s.line,
                 "PROGRAM-DATE-TIME " + FormatIso8601(*s.program_date_time) + " is " +
                     Sec(delta) + " off the previous segment's date plus duration.",
                 std::string(s.uri));
    }
  }
  if (!m.maps.empty())
    out->Add(RuleId::kHlsInitSegmentPresent, m.maps.front().line,
             "Segments have an initialization section \"" + std::string(m.maps.front().uri) + "\".");

  // §6.2.2: segments may not be removed below three target durations. A young stream (media
  // sequence 0, nothing removed yet) is allowed to be short.
  if (m.live() && !m.skip && m.target_duration && m.media_sequence > 0 && !segs.empty() &&
      m.TotalDuration() + kEpsilon < 3 * td)
    out->Add(RuleId::kHlsLivePlaylistTooShort, 1,
             "Live playlist holds " + Sec(m.TotalDuration()) + " of segments, less than 3 x " +
                 "EXT-X-TARGETDURATION (" + Sec(3 * td) + ").");
  return summary;
}

void CheckDateRanges(const Playlist& pl, const SegmentSummary& summary, Findings* out) {
  const MediaPlaylist& m = pl.media;
  if (m.dateranges.empty()) return;
  if (!summary.any_pdt)
    out->Add(RuleId::kHlsDaterangeWithoutPdt, m.dateranges.front().line,
             "EXT-X-DATERANGE is used but no segment has EXT-X-PROGRAM-DATE-TIME.");
  const auto& dr = m.dateranges;
  for (size_t i = 0; i < dr.size(); ++i) {
    if (dr[i].id.empty()) continue;
    bool closed = dr[i].end || dr[i].duration || dr[i].scte35_in;
    for (size_t j = 0; j < dr.size(); ++j) {
      if (i == j || dr[j].id != dr[i].id) continue;
      if (dr[j].end || dr[j].duration || dr[j].scte35_in) closed = true;
      if (j < i) continue;
      for (const auto& [k, v] : dr[i].attributes)
        for (const auto& [k2, v2] : dr[j].attributes)
          if (k == k2 && v != v2)
            out->Add(RuleId::kHlsDaterangeConflict, dr[j].line,
                     "EXT-X-DATERANGE ID=\"" + std::string(dr[i].id) + "\" changes " + std::string(k) +
                         " from \"" + std::string(v) + "\" (line " + std::to_string(dr[i].line) +
                         ") to \"" + std::string(v2) + "\".");
    }
    if (dr[i].scte35_out && !closed)
      out->Add(RuleId::kHlsScte35Unpaired, dr[i].line,
               "SCTE35-OUT range \"" + std::string(dr[i].id) + "\" has no SCTE35-IN, END-DATE or DURATION yet.");
  }
}

void CheckLowLatency(const Playlist& pl, const SegmentSummary& summary, Findings* out) {
  const MediaPlaylist& m = pl.media;
  const ServerControl& sc = m.server_control;
  const double td = m.target_duration ? static_cast<double>(*m.target_duration) : 0;
  const PartialSegment* first_part = summary.first_part;
  const bool segments_have_parts = first_part != nullptr;
  if (!first_part && !m.trailing_parts.empty()) first_part = &m.trailing_parts.front();
  if (first_part && !m.part_target && m.part_inf_line == 0)
    out->Add(RuleId::kLlhlsPartWithoutPartInf, first_part->line,
             "EXT-X-PART is used but the playlist has no EXT-X-PART-INF.");

  if (m.part_target) {
    const double pt = *m.part_target;
    auto check_parts = [&](const std::vector<PartialSegment>& parts, bool complete) {
      for (size_t i = 0; i < parts.size(); ++i) {
        const PartialSegment& p = parts[i];
        if (p.duration > pt + kEpsilon)
          out->Add(RuleId::kLlhlsPartExceedsTarget, p.line,
                   "Partial Segment duration " + Sec(p.duration) + " exceeds PART-TARGET " +
                       Sec(pt) + ".",
                   std::string(p.uri));
        bool final_part = i + 1 == parts.size();
        if (!p.independent && !final_part && p.duration + kEpsilon < 0.85 * pt)
          out->Add(RuleId::kLlhlsPartTooShort, p.line,
                   "Partial Segment duration " + Sec(p.duration) + " is below 85% of PART-TARGET " +
                       Sec(pt) + ".",
                   std::string(p.uri));
      }
      (void)complete;
    };
    if (segments_have_parts)
      for (const auto& s : m.segments) check_parts(s.parts, true);
    check_parts(m.trailing_parts, false);

    if (!sc.part_hold_back) {
      out->Add(RuleId::kLlhlsPartHoldBackMissing, sc.present ? sc.line : m.part_inf_line,
               "EXT-X-PART-INF is present but EXT-X-SERVER-CONTROL has no PART-HOLD-BACK.");
    } else if (*sc.part_hold_back + kEpsilon < 2 * pt) {
      out->Add(RuleId::kLlhlsPartHoldBackTooSmall, sc.line,
               "PART-HOLD-BACK " + Sec(*sc.part_hold_back) + " is less than 2 x PART-TARGET (" +
                   Sec(2 * pt) + ").");
    } else if (*sc.part_hold_back + kEpsilon < 3 * pt) {
      out->Add(RuleId::kLlhlsPartHoldBackLow, sc.line,
               "PART-HOLD-BACK " + Sec(*sc.part_hold_back) + " is less than 3 x PART-TARGET (" +
                   Sec(3 * pt) + ").");
    }
    if (m.live() && !sc.can_block_reload)
      out->Add(RuleId::kLlhlsBlockingReloadMissing, sc.present ? sc.line : m.part_inf_line,
               "The playlist has Partial Segments but no EXT-X-SERVER-CONTROL CAN-BLOCK-RELOAD=YES.");
    if (m.live() && m.rendition_reports.empty())
      out->Add(RuleId::kLlhlsRenditionReportAbsent, m.part_inf_line,
               "Low-latency playlist without EXT-X-RENDITION-REPORT tags.");
  }

  // Parts sum and staleness, for complete segments with parts.
  double from_end = 0;
  for (const auto& p : m.trailing_parts) from_end += p.duration;
  bool stale_reported = false;
  for (size_t i = segments_have_parts ? m.segments.size() : 0; i-- > 0;) {
    const Segment& s = m.segments[i];
    from_end += s.duration;
    if (s.parts.empty()) continue;
    double sum = 0;
    for (const auto& p : s.parts) sum += p.duration;
    if (std::fabs(sum - s.duration) > 0.1)
      out->Add(RuleId::kLlhlsPartsVsSegment, s.line,
               "Partial Segments add up to " + Sec(sum) + " but EXTINF is " + Sec(s.duration) + ".",
               std::string(s.uri));
    // The segment's start is `from_end` seconds before the end of the playlist.
    if (td > 0 && from_end > 3 * td + kEpsilon && !stale_reported) {
      stale_reported = true;
      out->Add(RuleId::kLlhlsPartStale, s.parts.front().line,
               "Partial Segments are still listed " + Sec(from_end) +
                   " from the end of the playlist (more than 3 target durations).",
               std::string(s.uri));
    }
  }

  if (sc.hold_back && td > 0 && *sc.hold_back + kEpsilon < 3 * td)
    out->Add(RuleId::kLlhlsHoldBackTooSmall, sc.line,
             "HOLD-BACK " + Sec(*sc.hold_back) + " is less than 3 x EXT-X-TARGETDURATION (" +
                 Sec(3 * td) + ").");
  if (sc.can_skip_until && td > 0 && *sc.can_skip_until + kEpsilon < 6 * td)
    out->Add(RuleId::kLlhlsCanSkipUntilTooSmall, sc.line,
             "CAN-SKIP-UNTIL " + Sec(*sc.can_skip_until) + " is less than 6 x "
             "EXT-X-TARGETDURATION (" + Sec(6 * td) + ").");

  if (m.skip) {
    if (!sc.can_skip_until) {
      out->Add(RuleId::kLlhlsSkipWithoutCanSkip, m.skip->line,
               "EXT-X-SKIP in a playlist whose EXT-X-SERVER-CONTROL has no CAN-SKIP-UNTIL.");
    } else if (m.TotalDuration() + td + kEpsilon < *sc.can_skip_until) {
      out->Add(RuleId::kLlhlsSkipTooMuch, m.skip->line,
               "Only " + Sec(m.TotalDuration()) + " of segments follow EXT-X-SKIP; CAN-SKIP-UNTIL "
               "is " + Sec(*sc.can_skip_until) + ".");
    }
    if (m.skip->has_recently_removed && !sc.can_skip_dateranges)
      out->Add(RuleId::kLlhlsSkipInvalid, m.skip->line,
               "RECENTLY-REMOVED-DATERANGES without CAN-SKIP-DATERANGES=YES.");
  }

  for (const auto& h : m.preload_hints) {
    if (h.type == "PART" && !m.part_target && m.part_inf_line == 0)
      out->Add(RuleId::kLlhlsPreloadHintWithoutParts, h.line,
               "EXT-X-PRELOAD-HINT TYPE=PART without EXT-X-PART-INF.", std::string(h.uri));
    if (!m.live())
      out->Add(RuleId::kLlhlsInVod, h.line,
               "EXT-X-PRELOAD-HINT in a playlist that has ended (EXT-X-ENDLIST or VOD).", std::string(h.uri));
  }

  const int64_t own_msn = m.LastMsn() + (m.trailing_parts.empty() ? 0 : 1);
  for (const auto& r : m.rendition_reports) {
    if (!r.last_msn || (m.part_target && !r.last_part))
      out->Add(RuleId::kLlhlsRenditionReportIncomplete, r.line,
               std::string("EXT-X-RENDITION-REPORT lacks ") + (!r.last_msn ? "LAST-MSN" : "LAST-PART") +
                   ".",
               std::string(r.uri));
    if (r.last_msn && !m.segments.empty() &&
        std::llabs(static_cast<long long>(*r.last_msn) - own_msn) > 1)
      out->Add(RuleId::kLlhlsRenditionReportOutOfSync, r.line,
               "Rendition report LAST-MSN=" + std::to_string(*r.last_msn) +
                   " is more than one segment from this playlist's " + std::to_string(own_msn) + ".",
               std::string(r.uri));
  }
}

void CheckMultivariant(const Playlist& pl, Findings* out) {
  const MultivariantPlaylist& mv = pl.multivariant;
  if (mv.StreamCount() == 0)
    out->Add(RuleId::kHlsMultivariantNoVariants, 1, "The Multivariant Playlist has no EXT-X-STREAM-INF.");
  auto group_defined = [&](std::string_view type, std::string_view group) {
    return std::any_of(mv.renditions.begin(), mv.renditions.end(), [&](const Rendition& r) {
      return r.type == type && r.group_id == group;
    });
  };
  for (const auto& v : mv.variants) {
    struct Ref {
      std::string_view attr, type;
      const std::string_view* value;
    };
    const Ref refs[] = {{"AUDIO", "AUDIO", &v.audio},
                        {"VIDEO", "VIDEO", &v.video},
                        {"SUBTITLES", "SUBTITLES", &v.subtitles},
                        {"CLOSED-CAPTIONS", "CLOSED-CAPTIONS", &v.closed_captions}};
    for (const auto& ref : refs)
      if (!ref.value->empty() && !group_defined(ref.type, *ref.value))
        out->Add(RuleId::kHlsVariantGroupUndefined, v.line,
                 std::string(ref.attr) + "=\"" + std::string(*ref.value) + "\" names no EXT-X-MEDIA TYPE=" +
                     std::string(ref.type) + " group.",
                 std::string(v.uri));
    if (v.iframe) continue;
    if (v.codecs.empty()) {
      out->Add(RuleId::kHlsVariantMissingCodecs, v.line, "EXT-X-STREAM-INF has no CODECS.", std::string(v.uri));
    } else {
      bool video = std::any_of(v.codecs.begin(), v.codecs.end(), [](auto& c) { return IsVideoCodec(c); });
      bool audio = std::any_of(v.codecs.begin(), v.codecs.end(), [](auto& c) { return IsAudioCodec(c); });
      if (video && !v.resolution_present)
        out->Add(RuleId::kHlsVariantMissingResolution, v.line,
                 "The variant carries video but has no RESOLUTION.", std::string(v.uri));
      if (!v.audio.empty() && !audio)
        out->Add(RuleId::kHlsVariantCodecsMissingGroupCodec, v.line,
                 "The variant uses AUDIO=\"" + std::string(v.audio) + "\" but CODECS lists no audio codec.", std::string(v.uri));
    }
    if (v.average_bandwidth && *v.average_bandwidth > v.bandwidth && v.bandwidth > 0)
      out->Add(RuleId::kHlsVariantAverageAbovePeak, v.line,
               "AVERAGE-BANDWIDTH " + std::to_string(*v.average_bandwidth) + " is above BANDWIDTH " +
                   std::to_string(v.bandwidth) + ".",
               std::string(v.uri));
  }
  // Per group: unique NAMEs, at most one DEFAULT.
  std::map<std::pair<std::string_view, std::string_view>, std::vector<const Rendition*>> groups;
  for (const auto& r : mv.renditions) groups[{r.type, r.group_id}].push_back(&r);
  for (const auto& [key, members] : groups) {
    int defaults = 0;
    for (size_t i = 0; i < members.size(); ++i) {
      if (members[i]->is_default && ++defaults == 2)
        out->Add(RuleId::kHlsRenditionMultipleDefaults, members[i]->line,
                 "Group \"" + std::string(key.second) + "\" has more than one DEFAULT=YES member.");
      for (size_t j = 0; j < i; ++j)
        if (!members[i]->name.empty() && members[i]->name == members[j]->name) {
          out->Add(RuleId::kHlsRenditionDuplicateName, members[i]->line,
                   "Group \"" + std::string(key.second) + "\" already has a member NAME=\"" + std::string(members[i]->name) +
                       "\" (line " + std::to_string(members[j]->line) + ").");
          break;
        }
    }
  }
}

}  // namespace

void Check(const Playlist& pl, Findings* out) {
  if (pl.kind == PlaylistKind::kMultivariant) CheckMultivariant(pl, out);
  if (pl.kind == PlaylistKind::kMedia ||
      (pl.kind == PlaylistKind::kMultivariant && !pl.media.segments.empty())) {
    SegmentSummary summary = CheckSegments(pl, out);
    CheckDateRanges(pl, summary, out);
    CheckLowLatency(pl, summary, out);
  }
}

}  // namespace avtrace::analyzer::hls
