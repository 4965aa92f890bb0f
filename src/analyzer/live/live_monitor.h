#pragma once
// Live monitoring: reloads a live HLS Media Playlist or dynamic DASH MPD at its own cadence for
// a while and reports what only time shows (the live_* rules): staleness, Media Sequence
// regressions, segments that change, vanish or come back, Discontinuity Sequence mistakes, MPD
// publishTime regressions, failed reloads, and outside-in latency (wall clock minus the end of
// the newest segment by PROGRAM-DATE-TIME / DASH availability timeline).
//
// LiveTracker is the I/O-free core: feed it each reload (Observe / ObserveFailure) with the wall
// clock of that reload; it returns when to reload next (HLS: the target duration after a change,
// half of it otherwise, the part target for LL-HLS; DASH: minimumUpdatePeriod, else the segment
// duration) and NextUrl() says what to request: once an LL-HLS playlist advertises
// CAN-BLOCK-RELOAD=YES, a blocking reload for the next part (_HLS_msn/_HLS_part, §6.2.5.2), sent
// after 3/4 of a part target so the server holds it only briefly, whose answer is then checked (it must contain what was asked for, within 3 x the target duration).
// After a reload that brought new segments, new_segment_url() names the newest one so the
// driver can fetch it and report the outcome (ObserveSegment): listed-but-unavailable segments
// are what viewers see as errors. New EXT-X-DISCONTINUITYs not announced by a DATERANGE at the
// same time (an ad break, a SCTE-35 splice) are reported as unexpected.
//
// Two ways to read the results: Finish() once at the end (the CLI), or, for a probe that runs
// for days, TakeFindings() after each reload plus Snapshot() for the current state; then
// Finish() is never needed and nothing grows (findings are handed out, histories are bounded).
//
// LiveMonitor drives a tracker with an injected fetch function, clock and sleep, so
// `avtrace check --live-duration` and the server's live probes share it, and tests run it on a
// fake clock. Neither keeps more than a bounded history (kMaxTracked segments).
//
// Threads: neither class is thread-safe; one per monitored URL. Errors: fetch failures become
// live_reload_failed findings; Run() always returns a report.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/fetch/fetcher.h"
#include "analyzer/finding.h"
#include "core/clock.h"
#include "core/status.h"

namespace avtrace::analyzer::hls {
struct MediaPlaylist;
}

namespace avtrace::analyzer::live {

inline constexpr size_t kMaxTracked = 20000;

// The tracker's state after the latest reload (for probes' metrics and the API).
struct LiveSnapshot {
  std::string format;  // "hls", "dash", "none" or "" before the first reload
  uint64_t reloads = 0, failures = 0, new_segments = 0, segment_failures = 0;
  uint64_t consecutive_failures = 0;
  std::optional<uint64_t> media_sequence;  // HLS
  std::optional<double> latency_seconds;   // newest outside-in latency
  double seconds_since_new_segment = 0;    // 0 before the first successful reload
  double stale_after_seconds = 0;          // 0: staleness not judged
  bool stale = false;
  bool blocking_reloads = false;  // LL-HLS CAN-BLOCK-RELOAD in use
  bool ended = false;
};

class LiveTracker {
 public:
  // `url` resolves DASH BaseURLs and segment URIs and names the report.
  explicit LiveTracker(std::string url) : url_(std::move(url)) {}

  // What to request next: the URL, or with _HLS_msn/_HLS_part for a blocking reload.
  std::string NextUrl() const;
  // One successful reload at `now_unix` (seconds) of NextUrl(); `fetch_seconds` is how long the
  // request took (judged for blocking reloads). Returns the delay until the next reload.
  double Observe(std::string_view body, double now_unix, double fetch_seconds = 0);
  // A failed reload. Returns the delay until the next attempt.
  double ObserveFailure(const Status& status, double now_unix);
  // The newest segment that appeared in the last reload (absolute URL); empty when none did.
  const std::string& new_segment_url() const { return new_segment_url_; }
  // The outcome of fetching new_segment_url().
  void ObserveSegment(const std::string& url, const Status& status);
  // True once the presentation ended (ENDLIST, static MPD) or the input is not live at all.
  bool done() const { return done_; }
  // Hands out the findings collected since the last call (probes call it after each reload).
  std::vector<Finding> TakeFindings() { return findings_.Take(); }
  LiveSnapshot Snapshot(double now_unix) const;
  // Final staleness check at the end of monitoring, then the report (kind "live") with the
  // findings not yet taken.
  Report Finish(double now_unix);

 private:
  struct Seen {
    std::string uri;
    double duration = 0;
    uint64_t discontinuity_sequence = 0;
    bool discontinuity = false;
  };
  double ObserveHls(std::string_view body, double now, double fetch_seconds);
  void AddLatency(double seconds);
  double ObserveDash(std::string_view body, double now);
  // Common bookkeeping for one reload's segment list, keyed by MSN (HLS) or start time (DASH).
  void Track(const std::map<uint64_t, Seen>& current, uint64_t window_start, double now,
             std::string_view key_name);
  void CheckStale(double now);
  void CheckBlockingAnswer(const hls::MediaPlaylist& m, double fetch_seconds);
  void CheckDiscontinuities(const hls::MediaPlaylist& m, uint64_t first_new_msn);
  void PlanBlockingReload(const hls::MediaPlaylist& m);

  std::string url_;
  Findings findings_;
  std::map<uint64_t, Seen> present_;
  std::set<uint64_t> removed_;
  bool started_ = false, done_ = false, stale_reported_ = false;
  std::string format_;  // "hls" or "dash"
  double first_time_ = 0, last_new_time_ = 0, stale_after_ = 0;
  std::optional<uint64_t> last_msn_;
  std::optional<double> last_publish_time_;
  uint64_t reloads_ = 0, failures_ = 0, new_segments_ = 0, segment_failures_ = 0;
  uint64_t consecutive_failures_ = 0;
  std::vector<double> latencies_;  // at most kMaxTracked, for Finish's min/median/max
  std::optional<double> last_latency_;
  std::string new_segment_url_;
  // LL-HLS blocking reloads: what the next request asks for, and what the last one asked for.
  bool can_block_ = false;
  uint64_t next_msn_ = 0, next_part_ = 0;
  bool next_has_part_ = false;
  std::optional<std::pair<uint64_t, std::optional<uint64_t>>> pending_block_;
  double target_duration_ = 0;
};

struct LiveOptions {
  double duration_seconds = 30;
  double min_interval_seconds = 0.2;  // never reload faster than this
  double max_interval_seconds = 10;
};

class LiveMonitor {
 public:
  // Manifests are fetched with FetchKind::kManifest; new segments with kSegment and a small
  // byte range (availability, not content).
  using FetchFn = std::function<Result<fetch::FetchResponse>(const std::string& url,
                                                             fetch::FetchKind kind)>;
  using SleepFn = std::function<void(double seconds)>;

  // `clock` must outlive the monitor. `sleep` blocks for the given seconds (tests advance a
  // FakeClock instead).
  LiveMonitor(LiveOptions options, FetchFn fetch, const Clock& clock, SleepFn sleep)
      : options_(options), fetch_(std::move(fetch)), clock_(clock), sleep_(std::move(sleep)) {}

  // Monitors `url` for options.duration_seconds (less if the presentation ends).
  Report Run(const std::string& url);

 private:
  LiveOptions options_;
  FetchFn fetch_;
  const Clock& clock_;
  SleepFn sleep_;
};

// The fetch LiveMonitor wants from a real Fetcher: manifests whole, segments as their first
// kilobyte (availability and type, not content; a server without ranges sends it all).
Result<fetch::FetchResponse> FetchForLive(fetch::Fetcher& fetcher, const std::string& url,
                                          fetch::FetchKind kind);

}  // namespace avtrace::analyzer::live
