#include "analyzer/live/live_monitor.h"

#include <algorithm>
#include <cmath>

#include "analyzer/dash/mpd.h"
#include "analyzer/hls/playlist.h"
#include "analyzer/text.h"
#include "analyzer/url.h"

namespace avtrace::analyzer::live {

void LiveTracker::CheckStale(double now) {
  if (stale_after_ <= 0 || stale_reported_) return;
  double quiet = now - last_new_time_;
  if (quiet > stale_after_) {
    stale_reported_ = true;
    findings_.Add(RuleId::kLivePlaylistStale, 0,
                  "No new segment for " + FormatNumber(std::round(quiet * 10) / 10) +
                      " s (limit " + FormatNumber(stale_after_) + " s).",
                  url_);
  }
}

void LiveTracker::Track(const std::map<uint64_t, Seen>& current, uint64_t window_start,
                        double now, std::string_view key_name) {
  bool any_new = false;
  for (const auto& [key, seg] : current) {
    auto it = present_.find(key);
    if (it == present_.end()) {
      if (removed_.count(key)) {
        findings_.Add(RuleId::kLiveSegmentReappeared, 0,
                      "Segment " + std::string(key_name) + " " + std::to_string(key) + " (" +
                          seg.uri + ") was removed and is back.",
                      url_);
        removed_.erase(key);
      } else if (started_ && (present_.empty() || key > present_.rbegin()->first)) {
        any_new = true;
        ++new_segments_;
      }
      continue;
    }
    if (it->second.uri != seg.uri || std::fabs(it->second.duration - seg.duration) > 0.0005) {
      findings_.Add(RuleId::kLiveSegmentChanged, 0,
                    "Segment " + std::string(key_name) + " " + std::to_string(key) + " changed from " +
                        it->second.uri + " (" + FormatNumber(it->second.duration) + " s) to " +
                        seg.uri + " (" + FormatNumber(seg.duration) + " s).",
                    url_);
    }
    if (it->second.discontinuity_sequence != seg.discontinuity_sequence) {
      findings_.Add(RuleId::kLiveDiscontinuitySequenceInconsistent, 0,
                    "Segment " + std::to_string(key) + " had Discontinuity Sequence Number " +
                        std::to_string(it->second.discontinuity_sequence) + ", now " +
                        std::to_string(seg.discontinuity_sequence) + ".",
                    url_);
    }
  }
  for (const auto& [key, seg] : present_) {
    if (current.count(key)) continue;
    if (key < window_start) {
      removed_.insert(key);
    } else {
      findings_.Add(RuleId::kLiveSegmentVanished, 0,
                    "Segment " + std::string(key_name) + " " + std::to_string(key) + " (" +
                        seg.uri + ") disappeared although later segments were not removed.",
                    url_);
      removed_.insert(key);
    }
  }
  present_ = current;
  while (removed_.size() > kMaxTracked) removed_.erase(removed_.begin());
  if (!started_ || any_new) {
    last_new_time_ = now;
    stale_reported_ = false;
  }
  started_ = true;
}

std::string LiveTracker::NextUrl() const {
  if (!can_block_ || done_) return url_;
  // §6.2.5.1: Delivery Directives go after the URL's own query, _HLS_msn before _HLS_part.
  std::string u = url_ + (url_.find('?') == std::string::npos ? "?" : "&") + "_HLS_msn=" +
                  std::to_string(next_msn_);
  if (next_has_part_) u += "&_HLS_part=" + std::to_string(next_part_);
  return u;
}

void LiveTracker::CheckBlockingAnswer(const hls::MediaPlaylist& m, double fetch_seconds) {
  if (!pending_block_) return;
  const auto [msn, part] = *pending_block_;
  pending_block_.reset();
  const int64_t last = m.LastMsn();
  // Satisfied by the complete segment `msn` (or any later one), or by enough parts of it.
  bool satisfied = last >= static_cast<int64_t>(msn) ||
                   (part && last + 1 == static_cast<int64_t>(msn) && m.trailing_parts.size() > *part);
  std::string asked = "_HLS_msn=" + std::to_string(msn) +
                      (part ? "&_HLS_part=" + std::to_string(*part) : std::string());
  if (!satisfied)
    findings_.Add(RuleId::kLiveBlockingReloadUnsatisfied, 0,
                  "The blocking reload " + asked + " was answered with a playlist whose last " +
                      "segment is " + std::to_string(last) + " (" +
                      std::to_string(m.trailing_parts.size()) + " parts of the next).",
                  url_);
  if (target_duration_ > 0 && fetch_seconds > 3 * target_duration_)
    findings_.Add(RuleId::kLiveBlockingReloadSlow, 0,
                  "The blocking reload " + asked + " took " +
                      FormatNumber(std::round(fetch_seconds * 1000) / 1000) + " s (limit " +
                      FormatNumber(3 * target_duration_) + " s).",
                  url_);
}

void LiveTracker::PlanBlockingReload(const hls::MediaPlaylist& m) {
  can_block_ = m.server_control.can_block_reload && m.live();
  if (!can_block_) return;
  // Ask for the next part when the playlist has parts, else for the next segment.
  next_msn_ = static_cast<uint64_t>(m.LastMsn() + 1);
  next_has_part_ = m.part_target.has_value();
  next_part_ = m.trailing_parts.size();
  pending_block_.emplace(next_msn_, next_has_part_ ? std::optional<uint64_t>(next_part_)
                                                   : std::nullopt);
}

void LiveTracker::CheckDiscontinuities(const hls::MediaPlaylist& m, uint64_t first_new_msn) {
  // Dates of the segments (last explicit PROGRAM-DATE-TIME plus the durations after it).
  std::optional<double> date;
  const double tolerance = std::max(target_duration_, 1.0);
  for (const auto& s : m.segments) {
    if (s.program_date_time) date = *s.program_date_time;
    if (s.sequence >= first_new_msn && s.discontinuity) {
      bool announced = false;
      for (const auto& d : m.dateranges) {
        if (date && d.start) announced = std::fabs(*d.start - *date) <= tolerance;
        else announced = d.scte35_out || d.scte35_in || d.scte35_cmd;  // no dates to compare
        if (announced) break;
      }
      if (!announced)
        findings_.Add(RuleId::kLiveUnexpectedDiscontinuity, s.line,
                      "New segment " + std::to_string(s.sequence) + " (" + std::string(s.uri) +
                          ") starts a discontinuity that no EXT-X-DATERANGE announces.",
                      url_);
    }
    if (date) *date += s.duration;
  }
}

void LiveTracker::ObserveSegment(const std::string& url, const Status& status) {
  if (status.ok()) return;
  ++segment_failures_;
  findings_.Add(RuleId::kLiveSegmentUnavailable, 0,
                "The newest segment " + url + " could not be fetched: " + status.message(), url_);
}

void LiveTracker::AddLatency(double seconds) {
  last_latency_ = seconds;
  if (latencies_.size() >= kMaxTracked)
    latencies_.erase(latencies_.begin(), latencies_.begin() + static_cast<long>(kMaxTracked / 2));
  latencies_.push_back(seconds);
}

double LiveTracker::ObserveHls(std::string_view body, double now, double fetch_seconds) {
  Findings ignored;
  hls::Playlist p = hls::Parse(body, &ignored);
  if (p.kind != hls::PlaylistKind::kMedia) {
    done_ = true;
    return 0;
  }
  const hls::MediaPlaylist& m = p.media;
  double td = m.target_duration ? static_cast<double>(*m.target_duration) : 6;
  target_duration_ = td;
  stale_after_ = 1.5 * td;
  CheckBlockingAnswer(m, fetch_seconds);
  if (last_msn_ && m.media_sequence < *last_msn_)
    findings_.Add(RuleId::kLiveMediaSequenceRegressed, 0,
                  "EXT-X-MEDIA-SEQUENCE went from " + std::to_string(*last_msn_) + " to " +
                      std::to_string(m.media_sequence) + ".",
                  url_);
  last_msn_ = m.media_sequence;
  std::map<uint64_t, Seen> current;
  for (const auto& s : m.segments)
    current[s.sequence] = Seen{std::string(s.uri), s.duration, s.discontinuity_sequence, s.discontinuity};
  uint64_t before = new_segments_;
  std::optional<uint64_t> newest_before;
  if (!present_.empty()) newest_before = present_.rbegin()->first;
  Track(current, m.media_sequence, now, "MSN");
  if (newest_before && new_segments_ > before) CheckDiscontinuities(m, *newest_before + 1);
  if (!m.segments.empty() && (!newest_before || m.segments.back().sequence > *newest_before))
    new_segment_url_ = ResolveUrl(url_, m.segments.back().uri);
  // Latency: the wall clock minus the end of the newest segment, dated by the last explicit
  // PROGRAM-DATE-TIME plus the durations after it.
  std::optional<double> end;
  for (const auto& s : m.segments) {
    if (s.program_date_time) end = *s.program_date_time;
    if (end) *end += s.duration;
  }
  if (end) AddLatency(now - *end);
  if (!m.live()) {
    findings_.Add(RuleId::kLiveStreamEnded, 0, "The playlist ended (EXT-X-ENDLIST).", url_);
    done_ = true;
  }
  // §6.3.4: reload after the target duration when the playlist changed, half of it when not;
  // LL-HLS clients reload at the part target.
  double next = new_segments_ > before ? td : td / 2;
  if (m.part_target) next = std::min(next, *m.part_target);
  // A blocking reload is held by the server until the next part (segment) exists. Asking after
  // three quarters of a part (segment) keeps the client's wait, and the connection held, short
  // without missing the part: the server answers as soon as it is published.
  PlanBlockingReload(m);
  if (can_block_) next = 0.75 * (m.part_target ? *m.part_target : td);
  return next;
}

double LiveTracker::ObserveDash(std::string_view body, double now) {
  Findings ignored;
  dash::Mpd mpd = dash::Parse(body, url_, &ignored);
  if (!mpd.parsed || !mpd.dynamic) {
    if (mpd.parsed && started_)
      findings_.Add(RuleId::kLiveStreamEnded, 0, "The MPD became static.", url_);
    done_ = true;
    return 0;
  }
  if (mpd.publish_time && last_publish_time_ && *mpd.publish_time < *last_publish_time_)
    findings_.Add(RuleId::kLivePublishTimeRegressed, 0,
                  "MPD@publishTime went from " + FormatIso8601(*last_publish_time_) + " to " +
                      FormatIso8601(*mpd.publish_time) + ".",
                  url_);
  if (mpd.publish_time) last_publish_time_ = mpd.publish_time;
  double mup = mpd.minimum_update_period.value_or(0);
  // The first Representation of the last Period stands for the presentation.
  const dash::Period* period = nullptr;
  const dash::Representation* rep = nullptr;
  for (const auto& p : mpd.periods)
    for (const auto& as : p.adaptation_sets)
      if (!as.representations.empty()) {
        period = &p;
        rep = &as.representations.front();
        break;
      }
  double seg_seconds = 2;
  if (period && rep) {
    const dash::SegmentInfo& si = rep->segments;
    auto segs = dash::ExpandSegments(mpd, *period, *rep, now);
    std::map<uint64_t, Seen> current;
    double max_d = 0;
    for (const auto& s : segs) {
      double d = static_cast<double>(s.duration) / static_cast<double>(std::max<uint64_t>(si.timescale, 1));
      max_d = std::max(max_d, d);
      current[si.has_timeline ? s.time : s.number] = Seen{s.url, d, 0};
    }
    if (max_d > 0) seg_seconds = max_d;
    // Without a timeline the segment list is computed from the clock and cannot go stale.
    stale_after_ = si.has_timeline || !si.list_media.empty() ? std::max(mup, 1.5 * seg_seconds) : 0;
    std::optional<uint64_t> newest_before;
    if (!present_.empty()) newest_before = present_.rbegin()->first;
    if (!current.empty()) {
      Track(current, current.begin()->first, now, si.has_timeline ? "t=" : "number");
      if (!newest_before || current.rbegin()->first > *newest_before)
        new_segment_url_ = current.rbegin()->second.uri;
    }
    if (!segs.empty() && mpd.availability_start_time)
      AddLatency(now - (*mpd.availability_start_time + period->computed_start +
                                  segs.back().start +
                                  static_cast<double>(segs.back().duration) /
                                      static_cast<double>(std::max<uint64_t>(si.timescale, 1))));
  }
  return mup > 0 ? mup : seg_seconds;
}

double LiveTracker::Observe(std::string_view body, double now_unix, double fetch_seconds) {
  if (reloads_ == 0) first_time_ = now_unix;
  ++reloads_;
  consecutive_failures_ = 0;
  new_segment_url_.clear();
  if (format_.empty()) format_ = hls::LooksLikeHls(body) ? "hls" : dash::LooksLikeMpd(body) ? "dash" : "none";
  double next = 0;
  if (format_ == "hls") next = ObserveHls(body, now_unix, fetch_seconds);
  else if (format_ == "dash") next = ObserveDash(body, now_unix);
  else done_ = true;
  CheckStale(now_unix);
  return next;
}

double LiveTracker::ObserveFailure(const Status& status, double now_unix) {
  if (reloads_ == 0) first_time_ = now_unix;
  ++reloads_;
  ++failures_;
  ++consecutive_failures_;
  new_segment_url_.clear();
  findings_.Add(RuleId::kLiveReloadFailed, 0, status.message(), url_);
  CheckStale(now_unix);
  return stale_after_ > 0 ? stale_after_ / 3 : 1;
}

LiveSnapshot LiveTracker::Snapshot(double now_unix) const {
  LiveSnapshot s;
  s.format = format_;
  s.reloads = reloads_;
  s.failures = failures_;
  s.new_segments = new_segments_;
  s.segment_failures = segment_failures_;
  s.consecutive_failures = consecutive_failures_;
  if (format_ == "hls") s.media_sequence = last_msn_;
  s.latency_seconds = last_latency_;
  if (started_) s.seconds_since_new_segment = std::max(0.0, now_unix - last_new_time_);
  s.stale_after_seconds = stale_after_;
  s.stale = started_ && !done_ && stale_after_ > 0 && s.seconds_since_new_segment > stale_after_;
  s.blocking_reloads = can_block_;
  s.ended = done_;
  return s;
}

Report LiveTracker::Finish(double now_unix) {
  if (!done_) CheckStale(now_unix);
  Report r;
  r.target = url_;
  r.kind = "live";
  r.AddFact("format", format_.empty() ? "none" : format_);
  r.AddNumber("monitored_seconds", std::round((now_unix - first_time_) * 1000) / 1000);
  r.AddNumber("reloads", static_cast<double>(reloads_));
  r.AddNumber("reload_failures", static_cast<double>(failures_));
  r.AddNumber("new_segments", static_cast<double>(new_segments_));
  if (!latencies_.empty()) {
    std::vector<double> l = latencies_;
    std::sort(l.begin(), l.end());
    auto ms = [](double s) { return std::round(s * 1000) / 1000; };
    r.AddNumber("latency_min_seconds", ms(l.front()));
    r.AddNumber("latency_median_seconds", ms(l[l.size() / 2]));
    r.AddNumber("latency_max_seconds", ms(l.back()));
  }
  r.findings = findings_.Take();
  SortFindings(&r.findings);
  return r;
}

Result<fetch::FetchResponse> FetchForLive(fetch::Fetcher& fetcher, const std::string& url,
                                          fetch::FetchKind kind) {
  return fetcher.Fetch(url, kind, kind == fetch::FetchKind::kSegment ? "0-1023" : "");
}

Report LiveMonitor::Run(const std::string& url) {
  LiveTracker tracker(url);
  const uint64_t start = clock_.MonotonicNanos();
  auto elapsed = [&] { return static_cast<double>(clock_.MonotonicNanos() - start) / 1e9; };
  auto wall = [&] { return static_cast<double>(clock_.NowUnixNanos()) / 1e9; };
  while (true) {
    auto resp = fetch_(tracker.NextUrl(), fetch::FetchKind::kManifest);
    double delay = resp.ok() ? tracker.Observe(resp->body, wall(), resp->seconds)
                             : tracker.ObserveFailure(resp.status(), wall());
    if (!tracker.new_segment_url().empty()) {
      const std::string segment = tracker.new_segment_url();
      auto got = fetch_(segment, fetch::FetchKind::kSegment);
      tracker.ObserveSegment(segment, got.status());
    }
    if (tracker.done()) break;
    delay = std::clamp(delay, options_.min_interval_seconds, options_.max_interval_seconds);
    double left = options_.duration_seconds - elapsed();
    if (left <= 0) break;
    if (delay >= left) {
      sleep_(left);
      break;
    }
    sleep_(delay);
  }
  return tracker.Finish(wall());
}

}  // namespace avtrace::analyzer::live
