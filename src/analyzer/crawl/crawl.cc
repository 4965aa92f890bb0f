#include "analyzer/crawl/crawl.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>

#include "analyzer/analyze.h"
#include "analyzer/check.h"
#include "analyzer/cmaf/box.h"
#include "analyzer/crawl/sniff.h"
#include "analyzer/text.h"
#include "analyzer/url.h"

namespace avtrace::analyzer::crawl {
namespace {

using fetch::FetchKind;

std::string Kbps(double bps) { return FormatNumber(std::round(bps / 100.0) / 10.0) + " kbit/s"; }

std::string Join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ",") + x;
  return out;
}

std::string Range(const hls::ByteRange& r, uint64_t implied_offset) {
  uint64_t off = r.offset.value_or(implied_offset);
  return std::to_string(off) + "-" + std::to_string(off + r.length - 1);
}

// One fetched playlist of a multivariant crawl.
struct Child {
  std::string url;
  bool fetched = false, media = false;
  hls::Playlist model;
  size_t report = 0;  // index into the reports vector
  // Sampled segments.
  double peak_bps = 0, bytes = 0, seconds = 0;
  size_t sampled = 0;
  std::set<std::string> media_codecs;
  bool sampled_done = false;
};

class HlsCrawl {
 public:
  HlsCrawl(fetch::Fetcher& f, const CrawlOptions& o, std::vector<Report>* reports)
      : fetcher_(f), options_(o), reports_(reports) {}

  void Multivariant(const std::string& base, const hls::Playlist& master) {
    const auto& mv = master.multivariant;
    // Fetch every distinct playlist.
    auto add = [&](std::string_view uri, int line) -> Child* {
      if (uri.empty()) return nullptr;
      std::string url = ResolveUrl(base, uri);
      auto it = children_.find(url);
      if (it != children_.end()) return &it->second;
      if (children_.size() >= options_.max_playlists) return nullptr;
      Child& c = children_[url];
      c.url = url;
      FetchPlaylist(&c, line);
      return &c;
    };
    std::vector<std::pair<const hls::Variant*, Child*>> variants;
    for (const auto& v : mv.variants) variants.emplace_back(&v, add(v.uri, v.line));
    std::vector<std::pair<const hls::Rendition*, Child*>> renditions;
    for (const auto& r : mv.renditions) renditions.emplace_back(&r, add(r.uri, r.line));

    for (auto& [v, c] : variants)
      if (c) Sample(c, v->line);
    for (auto& [r, c] : renditions)
      if (c) Sample(c, r->line);

    // Bit rate and codecs per variant.
    for (auto& [v, c] : variants) {
      if (!c || !c->media || c->sampled == 0) continue;
      double peak = c->peak_bps, avg = c->bytes * 8 / std::max(c->seconds, 1e-9);
      std::set<std::string> media = c->media_codecs;
      if (!v->audio.empty()) {
        if (const Child* a = DefaultRendition(renditions, "AUDIO", v->audio)) {
          peak += a->peak_bps;
          if (a->seconds > 0) avg += a->bytes * 8 / a->seconds;
        }
      }
      if (v->bandwidth > 0 && peak > 1.1 * static_cast<double>(v->bandwidth))
        Master().Add(RuleId::kVariantBandwidthExceeded, v->line,
                     "Measured peak segment bit rate " + Kbps(peak) + " (" +
                         std::to_string(c->sampled) + " sampled segments) exceeds BANDWIDTH " +
                         Kbps(static_cast<double>(v->bandwidth)) + " by more than 10%.",
                     c->url);
      if (v->average_bandwidth && *v->average_bandwidth > 0 && c->seconds > 0) {
        double declared = static_cast<double>(*v->average_bandwidth);
        if (std::fabs(avg - declared) > 0.1 * declared)
          Master().Add(RuleId::kVariantAverageBandwidthMismatch, v->line,
                       "Measured average bit rate " + Kbps(avg) + " over " +
                           FormatNumber(c->seconds) + " s is more than 10% away from " +
                           "AVERAGE-BANDWIDTH " + Kbps(declared) + ".",
                       c->url);
      }
      std::set<std::string> declared = CodecFamilies(v->codecs);
      std::set<std::string> missing;
      for (const auto& m : media)
        if (!declared.count(m)) missing.insert(m);
      if (!declared.empty() && !missing.empty())
        Master().Add(RuleId::kVariantCodecsMismatchMedia, v->line,
                     "The media holds " + Join(missing) + " but CODECS lists " +
                         Join(declared) + ".",
                     c->url);
    }
    for (auto& [r, c] : renditions) {
      if (!c || c->media_codecs.empty()) continue;
      size_t failing = 0, checked = 0;
      std::string missing_text;
      for (const auto& v : mv.variants) {
        std::string_view group = r->type == "AUDIO"       ? v.audio
                                   : r->type == "VIDEO"     ? v.video
                                   : r->type == "SUBTITLES" ? v.subtitles
                                                            : v.closed_captions;
        if (group != r->group_id || v.codecs.empty()) continue;
        ++checked;
        std::set<std::string> declared = CodecFamilies(v.codecs), missing;
        for (const auto& m : c->media_codecs)
          if (!declared.count(m)) missing.insert(m);
        if (!missing.empty() && !declared.empty()) {
          ++failing;
          missing_text = Join(missing);
        }
      }
      if (failing > 0)
        Master().Add(RuleId::kVariantCodecsMismatchMedia, r->line,
                     "Rendition '" + std::string(r->name) + "' holds " + missing_text + ", which the CODECS of " +
                         std::to_string(failing) + " of " + std::to_string(checked) +
                         " variants using group '" + std::string(r->group_id) + "' do not list.",
                     c->url);
    }
    CompareVariants(variants);
    AudioCodecsPerGroup(mv);
  }

  // A Media Playlist as the target: check that its first segments can be fetched.
  void MediaOnly(Child* c) {
    c->report = 0;
    Sample(c, 0);
  }

  Findings& Master() { return master_; }
  size_t sampled_segments() const { return sampled_segments_; }
  size_t crawled_playlists() const { return children_.size(); }

 private:
  void FetchPlaylist(Child* c, int line) {
    auto resp = fetcher_.Fetch(c->url, FetchKind::kManifest);
    if (!resp.ok()) {
      master_.Add(RuleId::kCrawlFetchFailed, line, resp.status().message(), c->url);
      return;
    }
    c->fetched = true;
    Report r = AnalyzeHlsText(c->url, resp->body, &c->model);
    if (resp->content_type_tolerated)
      r.findings.push_back(Finding{RuleId::kFetchContentTypeTolerated, 0,
                                   "Served as '" + resp->content_type + "'; expected " +
                                       "application/vnd.apple.mpegurl.",
                                   resp->url});
    c->url = resp->url;
    c->media = c->model.kind == hls::PlaylistKind::kMedia;
    if (!c->media)
      master_.Add(RuleId::kCrawlNotMediaPlaylist, line,
                  "The URI leads to a " + std::string(c->model.kind == hls::PlaylistKind::kMultivariant
                                                          ? "Multivariant Playlist"
                                                          : "document that is no playlist") +
                      ", not a Media Playlist.",
                  c->url);
    c->report = reports_->size();
    reports_->push_back(std::move(r));
  }

  void SegmentFailure(Child* c, int line, const Status& s, const std::string& url) {
    (*reports_)[c->report].findings.push_back(
        Finding{RuleId::kCrawlFetchFailed, line, s.message(), url});
  }

  void Sample(Child* c, int) {
    if (c->sampled_done || !c->media) return;
    c->sampled_done = true;
    const hls::MediaPlaylist& m = c->model.media;
    double td = m.target_duration ? static_cast<double>(*m.target_duration) : 0;
    // Codecs from the first EXT-X-MAP.
    if (!m.maps.empty()) {
      const hls::InitSection& map = m.maps.front();
      std::string url = ResolveUrl(c->url, map.uri);
      auto resp = fetcher_.Fetch(url, FetchKind::kSegment, map.range ? Range(*map.range, 0) : "");
      if (resp.ok()) c->media_codecs = SniffMp4Codecs(resp->body);
      else SegmentFailure(c, map.line, resp.status(), url);
    }
    uint64_t next_offset = 0;
    std::string prev_uri;
    for (const auto& seg : m.segments) {
      if (c->sampled >= options_.segments_per_variant) break;
      uint64_t implied = seg.uri == prev_uri ? next_offset : 0;
      prev_uri = seg.uri;
      if (seg.range) next_offset = seg.range->offset.value_or(implied) + seg.range->length;
      if (seg.gap || seg.duration <= 0) continue;
      std::string url = ResolveUrl(c->url, seg.uri);
      double bytes;
      bool need_body = c->sampled == 0 && m.maps.empty();  // TS: sniff the first segment
      if (seg.range && !need_body) {
        bytes = static_cast<double>(seg.range->length);
      } else {
        auto resp = fetcher_.Fetch(url, FetchKind::kSegment,
                                   seg.range ? Range(*seg.range, implied) : "");
        if (!resp.ok()) {
          SegmentFailure(c, seg.uri_line, resp.status(), url);
          continue;
        }
        bytes = static_cast<double>(resp->body.size());
        if (need_body && !resp->body.empty() && resp->body[0] == 0x47)
          c->media_codecs = SniffTsCodecs(resp->body);
        ++sampled_segments_;
      }
      ++c->sampled;
      c->bytes += bytes;
      c->seconds += seg.duration;
      // Peak segment bit rate counts segments of a useful length only (§4.4.6.2 measures over
      // 0.5-1.5 target durations), so a short last segment does not inflate it.
      if (td <= 0 || seg.duration >= 0.5 * td)
        c->peak_bps = std::max(c->peak_bps, bytes * 8 / seg.duration);
    }
  }

  static const Child* DefaultRendition(
      const std::vector<std::pair<const hls::Rendition*, Child*>>& renditions,
      std::string_view type, std::string_view group) {
    const Child* first = nullptr;
    for (const auto& [r, c] : renditions) {
      if (r->type != type || r->group_id != group || !c || c->sampled == 0) continue;
      if (r->is_default) return c;
      if (!first) first = c;
    }
    return first;
  }

  void CompareVariants(const std::vector<std::pair<const hls::Variant*, Child*>>& variants) {
    std::vector<std::pair<const hls::Variant*, const Child*>> streams;
    std::set<const Child*> seen;
    for (const auto& [v, c] : variants)
      if (!v->iframe && c && c->media && seen.insert(c).second) streams.emplace_back(v, c);
    if (streams.size() < 2) return;
    std::map<uint64_t, std::vector<std::string>> tds;
    for (const auto& [v, c] : streams)
      if (c->model.media.target_duration) tds[*c->model.media.target_duration].push_back(c->url);
    if (tds.size() > 1) {
      std::string list;
      for (const auto& [td, urls] : tds)
        list += (list.empty() ? "" : ", ") + std::to_string(td) + " s (" +
                std::to_string(urls.size()) + " variants)";
      master_.Add(RuleId::kVariantTargetDurationMismatch, 0,
                  "The variants' EXT-X-TARGETDURATION differ: " + list + ".");
    }
    const auto& [ref_v, ref] = streams.front();
    for (size_t i = 1; i < streams.size(); ++i) {
      const auto& [v, c] = streams[i];
      const auto& a = ref->model.media;
      const auto& b = c->model.media;
      if (!a.live() && !b.live() && a.segments.size() != b.segments.size()) {
        master_.Add(RuleId::kVariantSegmentsMisaligned, v->line,
                    "This variant has " + std::to_string(b.segments.size()) +
                        " segments, the first variant " + std::to_string(a.segments.size()) + ".",
                    c->url);
        continue;
      }
      // Segments with the same Media Sequence Number, timed from the first one both have.
      uint64_t first = std::max(a.media_sequence, b.media_sequence);
      double ta = 0, tb = 0;
      bool misaligned = false, dsn = false;
      for (const auto& sa : a.segments) {
        if (sa.sequence < first) continue;
        uint64_t k = sa.sequence - b.media_sequence;
        if (k >= b.segments.size()) break;
        const hls::Segment& sb = b.segments[k];
        if (!misaligned && std::fabs(ta - tb) > 0.25) {
          misaligned = true;
          master_.Add(RuleId::kVariantSegmentsMisaligned, v->line,
                      "Segment " + std::to_string(sa.sequence) + " starts " +
                          FormatNumber(tb - ta) + " s later than in the first variant.",
                      c->url);
        }
        if (!dsn && sa.discontinuity_sequence != sb.discontinuity_sequence) {
          dsn = true;
          master_.Add(RuleId::kVariantDiscontinuitySequenceMismatch, v->line,
                      "Segment " + std::to_string(sa.sequence) +
                          " has Discontinuity Sequence Number " +
                          std::to_string(sb.discontinuity_sequence) + ", the first variant " +
                          std::to_string(sa.discontinuity_sequence) + ".",
                      c->url);
        }
        ta += sa.duration;
        tb += sb.duration;
      }
    }
  }

  void AudioCodecsPerGroup(const hls::MultivariantPlaylist& mv) {
    static const std::set<std::string> kAudio = {"aac", "ac3", "eac3", "ac4", "mp3", "opus", "flac"};
    std::map<std::string, std::map<std::string, int>> by_group;  // group -> audio codecs -> line
    for (const auto& v : mv.variants) {
      if (v.iframe || v.audio.empty() || v.codecs.empty()) continue;
      std::set<std::string> audio;
      for (const auto& f : CodecFamilies(v.codecs))
        if (kAudio.count(f)) audio.insert(f);
      by_group[std::string(v.audio)].emplace(Join(audio), v.line);
    }
    for (const auto& [group, sets] : by_group) {
      if (sets.size() < 2) continue;
      std::string list;
      for (const auto& [codecs, line] : sets)
        list += (list.empty() ? "" : "; ") + (codecs.empty() ? "none" : codecs) + " (line " +
                std::to_string(line) + ")";
      master_.Add(RuleId::kVariantCodecsInconsistent, std::next(sets.begin())->second,
                  "Variants using AUDIO group '" + group + "' declare different audio codecs: " +
                      list + ".");
    }
  }

  fetch::Fetcher& fetcher_;
  const CrawlOptions& options_;
  std::vector<Report>* reports_;
  std::map<std::string, Child> children_;
  Findings master_;
  size_t sampled_segments_ = 0;
};

// One measured media segment (or sidx subsegment) of a Representation.
struct BitrateSample {
  uint64_t number = 0;  // segment number, or subsegment index for a sidx
  double bits = 0, seconds = 0;
};

// The DASH bit-rate rules for one Representation (ISO/IEC 23009-1 §5.3.5.2). @bandwidth B is
// not a peak: delivered continuously at B from the start of any segment, the Representation
// plays out without stalling once B x minBufferTime (M) bits have been received. The last byte of
// a run of consecutive segments k..i is needed at the latest when the run's playout ends, so the
// run must satisfy bits(k..i) <= B x (M + duration(k..i)). With the 10% tolerance of the HLS
// rule (variant_bandwidth_exceeded; encoders' rate control, e.g. ffmpeg's -b:v, is nominal) the
// check is bits(k..i) - 1.1 B duration(k..i) <= 1.1 B M for every run; the worst run ending at i
// is found in one pass (x_i + max(0, worst run ending at i-1)). A short segment that is dense
// but small is absorbed by the buffer; only a sustained or large excess fires.
// The warning fires when the measured average is below 10% of B: a declaration ten times too
// high (a unit slip, a copy-pasted value) that makes clients pick this Representation wrongly.
void CheckBandwidth(const dash::Representation& rep, const std::vector<BitrateSample>& samples,
                    double min_buffer, const std::string& source, const std::string& location,
                    Findings* f) {
  if (rep.bandwidth == 0 || samples.empty()) return;
  const double bw = static_cast<double>(rep.bandwidth), allowed = 1.1 * bw;
  double total_bits = 0, total_seconds = 0, peak = 0;
  double worst = 0;  // worst excess of a run ending at the current sample
  size_t run_start = 0;
  double reported_excess = allowed * min_buffer;
  std::optional<std::pair<size_t, size_t>> violation;  // the worst violating run [k, i]
  double vbits = 0, vseconds = 0;
  double run_bits = 0, run_seconds = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    const BitrateSample& s = samples[i];
    total_bits += s.bits;
    total_seconds += s.seconds;
    if (s.seconds > 0) peak = std::max(peak, s.bits / s.seconds);
    double x = s.bits - allowed * s.seconds;
    if (i == 0 || worst <= 0) {
      worst = x;
      run_start = i;
      run_bits = s.bits;
      run_seconds = s.seconds;
    } else {
      worst += x;
      run_bits += s.bits;
      run_seconds += s.seconds;
    }
    if (worst > reported_excess) {
      reported_excess = worst;
      violation = std::make_pair(run_start, i);
      vbits = run_bits;
      vseconds = run_seconds;
    }
  }
  std::string count = std::to_string(samples.size()) + " " + source;
  if (violation) {
    auto [k, i] = *violation;
    std::string run = k == i ? "segment " + std::to_string(samples[k].number)
                             : "segments " + std::to_string(samples[k].number) + "-" +
                                   std::to_string(samples[i].number);
    f->Add(RuleId::kDashBandwidthExceeded, rep.line,
           "Representation '" + rep.id + "': " + run + (k == i ? " carries " : " carry ") +
               FormatNumber(std::round(vbits / 100.0) / 10.0) + " kbit in " +
               FormatNumber(vseconds) + " s (" + Kbps(vbits / std::max(vseconds, 1e-9)) +
               "; peak segment " + Kbps(peak) + ", " + count + "), more than 110% of @bandwidth " +
               Kbps(bw) + " delivers in that time plus minBufferTime " +
               FormatNumber(min_buffer) + " s.",
           location);
  }
  if (total_seconds > 0 && total_bits / total_seconds < 0.1 * bw)
    f->Add(RuleId::kDashBandwidthOverstated, rep.line,
           "Representation '" + rep.id + "': measured " + Kbps(total_bits / total_seconds) +
               " over " + FormatNumber(total_seconds) + " s (" + count +
               ") is below 10% of @bandwidth " + Kbps(bw) + ".",
           location);
}

void CrawlDash(const std::string& final_url, const dash::Mpd& mpd, double now,
               fetch::Fetcher& fetcher, const CrawlOptions& options, Report* report) {
  Findings f;
  size_t reps = 0, segments = 0;
  const double min_buffer = mpd.min_buffer_time.value_or(0);
  for (const auto& period : mpd.periods) {
    for (const auto& as : period.adaptation_sets) {
      for (const auto& rep : as.representations) {
        if (reps >= options.max_representations) break;
        ++reps;
        const dash::SegmentInfo& si = rep.segments;
        const double timescale = static_cast<double>(si.timescale);
        // The sampled segments: the first segments_per_representation of a static MPD, the
        // newest ones up to the live edge of a dynamic MPD. `primary` (the first of a static
        // MPD, the live edge of a dynamic one) also goes through the ISO-BMFF rules.
        std::vector<dash::Segment> sample;
        size_t primary = 0;
        if (mpd.dynamic) {
          if (mpd.availability_start_time) {
            std::vector<dash::Segment> all = dash::ExpandSegments(mpd, period, rep, now);
            const double base = *mpd.availability_start_time + period.computed_start;
            // As dash::LiveEdge: the newest segment fully available at `now`.
            for (size_t i = all.size(); i-- > 0;) {
              double end = base + all[i].start + static_cast<double>(all[i].duration) / timescale;
              if (end - si.availability_time_offset > now + 1e-9) continue;
              size_t n = std::min(i + 1, std::max<size_t>(options.segments_per_representation, 1));
              sample.assign(all.begin() + static_cast<std::ptrdiff_t>(i + 1 - n),
                            all.begin() + static_cast<std::ptrdiff_t>(i + 1));
              primary = sample.size() - 1;
              break;
            }
          }
        } else {
          std::vector<dash::Segment> all = dash::ExpandSegments(mpd, period, rep);
          size_t n = std::min(all.size(), std::max<size_t>(options.segments_per_representation, 1));
          sample.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n));
        }
        cmaf::InitSegment init;
        bool have_init = false;
        if (!si.initialization.empty()) {
          auto name = dash::FormatTemplate(si.initialization, rep, 0, 0);
          std::string url = ResolveUrl(rep.base_url.empty() ? final_url : rep.base_url,
                                       name.value_or(si.initialization));
          auto resp = fetcher.Fetch(url, FetchKind::kSegment);
          if (!resp.ok()) {
            f.Add(RuleId::kCrawlFetchFailed, rep.line, resp.status().message(), url);
          } else {
            Findings box;
            init = cmaf::ParseInit(resp->body, &box);
            for (auto x : box.Take()) {
              x.location = url;
              x.line = rep.line;
              f.Append({std::move(x)});
            }
            have_init = true;
            std::set<std::string> media = SniffMp4Codecs(resp->body), missing;
            std::set<std::string> declared = CodecFamilies(hls::SplitCodecs(rep.codecs));
            for (const auto& m : media)
              if (!declared.count(m)) missing.insert(m);
            if (!declared.empty() && !missing.empty())
              f.Add(RuleId::kDashCodecsMismatchMedia, rep.line,
                    "The initialization segment holds " + Join(missing) + " but @codecs is '" +
                        rep.codecs + "'.",
                    url);
          }
        }
        const bool init_timed = have_init && !init.tracks.empty();
        std::vector<BitrateSample> rates;
        // SegmentBase: the sidx at @indexRange gives every subsegment's exact size and duration,
        // so the whole Representation is measured without downloading any media.
        if (si.kind == dash::SegmentInfo::Kind::kBase && !si.index_range.empty() &&
            !rep.base_url.empty() && rep.base_url != final_url) {
          auto resp = fetcher.Fetch(rep.base_url, FetchKind::kSegment, si.index_range);
          if (!resp.ok()) {
            f.Add(RuleId::kCrawlFetchFailed, rep.line, resp.status().message(), rep.base_url);
          } else if (auto sidx = cmaf::ParseSidx(resp->body); sidx && sidx->timescale > 0) {
            bool hierarchical = false;
            for (const auto& r : sidx->references) hierarchical |= r.is_index;
            for (size_t i = 0; i < sidx->references.size() && !hierarchical; ++i) {
              const auto& r = sidx->references[i];
              rates.push_back({i + 1, 8.0 * r.size, r.duration / static_cast<double>(sidx->timescale)});
            }
            CheckBandwidth(rep, rates, min_buffer, "subsegments in the sidx", rep.base_url, &f);
          }
          continue;
        }
        for (size_t k = 0; k < sample.size(); ++k) {
          const dash::Segment& seg = sample[k];
          if (seg.url.empty()) continue;
          double want = si.timescale > 0 && seg.duration > 0
                            ? static_cast<double>(seg.duration) / timescale
                            : 0;
          // SegmentURL@mediaRange: the size is known without a fetch (as HLS byte ranges).
          uint64_t first = 0, last = 0;
          size_t dash_pos = seg.range.find('-');
          bool sized = dash_pos != std::string::npos &&
                       ParseDecimalInt(std::string_view(seg.range).substr(0, dash_pos), &first) &&
                       ParseDecimalInt(std::string_view(seg.range).substr(dash_pos + 1), &last) &&
                       first <= last;
          if (k != primary && sized && want > 0) {
            rates.push_back({seg.number, 8.0 * static_cast<double>(last - first + 1), want});
            continue;
          }
          auto resp = fetcher.Fetch(seg.url, FetchKind::kSegment, seg.range);
          if (!resp.ok()) {
            f.Add(RuleId::kCrawlFetchFailed, rep.line, resp.status().message(), seg.url);
            continue;
          }
          ++segments;
          Findings box;
          cmaf::MediaSegment media = cmaf::ParseMedia(resp->body, have_init ? &init : nullptr, &box);
          std::optional<double> measured;
          if (init_timed) measured = cmaf::SegmentDuration(media, init, init.tracks.begin()->first);
          if (k == primary) {
            for (auto x : box.Take()) {
              x.location = seg.url;
              x.line = rep.line;
              f.Append({std::move(x)});
            }
            if (measured && want > 0 && std::fabs(*measured - want) > std::max(0.05, 0.05 * want))
              f.Add(RuleId::kDashSegmentDurationMismatch, rep.line,
                    "Segment " + std::to_string(seg.number) + " lasts " + FormatNumber(*measured) +
                        " s; the MPD says " + FormatNumber(want) + " s.",
                    seg.url);
          }
          // The bit rate uses the MPD's duration, else the segment's own (trun) duration.
          double seconds = want > 0 ? want : measured.value_or(0);
          if (seconds > 0)
            // A server that ignores Range answers 200 with the whole file: count the range.
            rates.push_back({seg.number,
                             8.0 * static_cast<double>(sized ? last - first + 1 : resp->body.size()),
                             seconds});
        }
        CheckBandwidth(rep, rates, min_buffer, "sampled segments",
                       sample.empty() ? rep.base_url : sample.front().url, &f);
      }
    }
  }
  report->AddNumber("crawled_representations", static_cast<double>(reps));
  report->AddNumber("sampled_segments", static_cast<double>(segments));
  report->findings.insert(report->findings.end(), f.items().begin(), f.items().end());
}

}  // namespace

Result<std::vector<Report>> Crawl(std::string_view url, fetch::Fetcher& fetcher, double now_unix,
                                  const CrawlOptions& options) {
  ASSIGN_OR_RETURN(fetch::FetchResponse top, fetcher.Fetch(url, FetchKind::kManifest));
  std::vector<Report> reports;
  Finding tolerated{RuleId::kFetchContentTypeTolerated, 0,
                    "Served as '" + (top.content_type.empty() ? std::string("(none)")
                                                              : top.content_type) +
                        "' instead of the manifest's registered media type.",
                    top.url};
  if (hls::LooksLikeHls(top.body)) {
    hls::Playlist model;
    reports.push_back(AnalyzeHlsText(url, top.body, &model));
    if (top.content_type_tolerated) reports[0].findings.push_back(tolerated);
    HlsCrawl crawl(fetcher, options, &reports);
    if (model.kind == hls::PlaylistKind::kMultivariant) {
      crawl.Multivariant(top.url, model);
      reports[0].AddNumber("crawled_playlists", static_cast<double>(crawl.crawled_playlists()));
    } else if (model.kind == hls::PlaylistKind::kMedia) {
      // The target itself is the one child.
      Child self;
      self.url = top.url;
      self.fetched = self.media = true;
      self.model = std::move(model);
      crawl.MediaOnly(&self);
    }
    reports[0].AddNumber("sampled_segments", static_cast<double>(crawl.sampled_segments()));
    reports[0].findings.insert(reports[0].findings.end(), crawl.Master().items().begin(),
                               crawl.Master().items().end());
  } else if (dash::LooksLikeMpd(top.body)) {
    dash::Mpd mpd;
    reports.push_back(AnalyzeDashText(url, top.url, top.body, now_unix, &mpd));
    if (top.content_type_tolerated) reports[0].findings.push_back(tolerated);
    if (mpd.parsed) CrawlDash(top.url, mpd, now_unix, fetcher, options, &reports[0]);
  } else {
    reports = AnalyzeBytes(url, top.body);
  }
  for (auto& r : reports) SortFindings(&r.findings);
  return reports;
}

}  // namespace avtrace::analyzer::crawl
