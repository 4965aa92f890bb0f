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
// duration). LiveMonitor drives a tracker with an injected fetch function, clock and sleep, so
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

namespace avtrace::analyzer::live {

inline constexpr size_t kMaxTracked = 20000;

class LiveTracker {
 public:
  // `url` resolves DASH BaseURLs and names the report.
  explicit LiveTracker(std::string url) : url_(std::move(url)) {}

  // One successful reload at `now_unix` (seconds). Returns the delay until the next reload.
  double Observe(std::string_view body, double now_unix);
  // A failed reload. Returns the delay until the next attempt.
  double ObserveFailure(const Status& status, double now_unix);
  // True once the presentation ended (ENDLIST, static MPD) or the input is not live at all.
  bool done() const { return done_; }
  // Final staleness check at the end of monitoring, then the report (kind "live").
  Report Finish(double now_unix);

 private:
  struct Seen {
    std::string uri;
    double duration = 0;
    uint64_t discontinuity_sequence = 0;
  };
  double ObserveHls(std::string_view body, double now);
  double ObserveDash(std::string_view body, double now);
  // Common bookkeeping for one reload's segment list, keyed by MSN (HLS) or start time (DASH).
  void Track(const std::map<uint64_t, Seen>& current, uint64_t window_start, double now,
             std::string_view key_name);
  void CheckStale(double now);

  std::string url_;
  Findings findings_;
  std::map<uint64_t, Seen> present_;
  std::set<uint64_t> removed_;
  bool started_ = false, done_ = false, stale_reported_ = false;
  std::string format_;  // "hls" or "dash"
  double first_time_ = 0, last_new_time_ = 0, stale_after_ = 0;
  std::optional<uint64_t> last_msn_;
  std::optional<double> last_publish_time_;
  uint64_t reloads_ = 0, failures_ = 0, new_segments_ = 0;
  std::vector<double> latencies_;
};

struct LiveOptions {
  double duration_seconds = 30;
  double min_interval_seconds = 0.2;  // never reload faster than this
  double max_interval_seconds = 10;
};

class LiveMonitor {
 public:
  using FetchFn = std::function<Result<fetch::FetchResponse>(const std::string& url)>;
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

}  // namespace avtrace::analyzer::live
