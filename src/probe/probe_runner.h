#pragma once
// ProbeRunner: the server's live probes (config `probes:` and /api/v1/probes, docs/PROBES.md).
//
// A probe polls one live HLS playlist or DASH MPD with the analyzer's LiveTracker (the same
// rules as `avtrace check --live-duration`): stale playlists, Media Sequence regressions,
// segments that change or vanish, unexpected discontinuities, LL-HLS blocking reloads, the newest
// segment's availability and outside-in latency. Behind a Multivariant Playlist it follows up to
// max_playlists variants and renditions, each polled at its own cadence. The first load of every
// playlist also runs the full static rule set once.
//
// Results go through the pipeline like any other data, so they are stored, queryable and usable
// by alert rules (resource service.name = "avtrace-probe", attributes probe.name and
// probe.playlist):
//   metrics (at most one batch per playlist per metrics_interval, and at once when up/stale
//   flip): avtrace.probe.up, .stale, .playlist.age, .latency, .media_sequence, .reload.duration
//   (gauges) and .reloads, .reload.failures, .segments.new, .segment.failures, .findings{level}
//   (cumulative sums);
//   logs: one record per finding (event_name avtrace.probe.finding; severity from the rule's
//   level; attributes rule.id, rule.level, rule.spec, finding.location, finding.line).
// The runner also keeps each probe's current state and its last kRecentFindings findings in
// memory for GET /api/v1/probes.
//
// Scheduling: a min-heap of playlists by due time, served by `workers` threads; a playlist is
// out of the heap while a worker fetches it, so its tracker and fetcher are never shared. With
// workers == 0 nothing runs by itself and tests call RunDue() on their own (fake) clock.
//
// Probes added through the API are persisted in `state_path` (YAML, the config's `probes:`
// shape) and come back after a restart; probes from the config cannot be removed by the API.
// allow_private comes only from the server's config (ProbeRunnerOptions), never from a request.
//
// Ownership: borrows the sink's target, registry and clock (must outlive the runner).
// Threads: every public method is thread-safe. Lifecycle: construct, Start(), ..., Stop() (aborts
// the fetches in flight and joins the workers; the destructor calls it). Errors: Status codes, see
// each method; fetch and submit failures become findings and counters, never exceptions.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "analyzer/fetch/fetcher.h"
#include "analyzer/live/live_monitor.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "otlp/model.h"

namespace avtrace::metrics {
class Registry;
}

namespace avtrace::probe {

inline constexpr size_t kRecentFindings = 50;

struct ProbeSpec {
  std::string name;
  std::string url;
  uint64_t max_playlists = 4;
  bool check_segments = true;
  bool from_config = false;
};

struct ProbeFinding {
  uint64_t time_unix_nanos = 0;
  std::string playlist;
  std::string rule_id;
  std::string level;
  std::string spec_ref;
  std::string message;
  std::string location;
  int line = 0;
};

struct PlaylistStatus {
  std::string url;
  std::string role;  // "playlist" (the probe's own URL), "variant", "rendition"
  analyzer::live::LiveSnapshot live;
  uint64_t last_reload_unix_nanos = 0;  // 0: never
  double last_fetch_seconds = 0;
  std::string last_error;  // empty after a successful reload
};

struct ProbeStatus {
  ProbeSpec spec;
  // "starting" (no reload yet), "ok", "stale", "failing" (last reload failed), "ended".
  std::string state;
  std::string kind;  // "hls-multivariant", "hls-media", "dash", "" before the first load
  std::vector<PlaylistStatus> playlists;
  uint64_t findings_error = 0, findings_warning = 0, findings_info = 0;
  std::vector<ProbeFinding> recent_findings;  // newest first
};

// What the probes produce; the server passes the pipeline's Submit (dropping is counted).
using SubmitFn = std::function<Status(otlp::Batch batch, otlp::Signal signal)>;
using FetcherFactory = std::function<std::unique_ptr<analyzer::fetch::Fetcher>()>;

struct ProbeRunnerOptions {
  uint32_t workers = 2;
  bool allow_private = false;
  double timeout_seconds = 10;
  double metrics_interval_seconds = 10;
  uint64_t max_probes = 64;
  std::string state_path;  // empty: API probes are not persisted
  // Tests substitute fetchers; default: a CurlFetcher per playlist with the options above.
  FetcherFactory fetcher_factory;
  static ProbeRunnerOptions FromConfig(const Config& config);
};

class ProbeRunner {
 public:
  ProbeRunner(ProbeRunnerOptions options, SubmitFn submit, metrics::Registry* registry,
              const Clock* clock);
  ~ProbeRunner();
  ProbeRunner(const ProbeRunner&) = delete;
  ProbeRunner& operator=(const ProbeRunner&) = delete;

  // Adds the config's probes and the persisted API probes, then starts the workers.
  // InvalidArgument for a bad config probe; a bad state file is logged and skipped.
  Status Start(const std::vector<Config::Probe>& config_probes);
  // API: InvalidArgument (name, url, max_playlists), AlreadyExists-like FailedPrecondition when
  // the name is taken, ResourceExhausted at max_probes, Unavailable after Stop.
  Status Add(ProbeSpec spec);
  // NotFound; FailedPrecondition for a config probe.
  Status Remove(const std::string& name);
  std::vector<ProbeStatus> List() const;
  Result<ProbeStatus> Get(const std::string& name) const;
  // Runs every playlist that is due now on the calling thread (tests, workers == 0).
  void RunDue();
  void Stop();

 private:
  struct Target;
  struct Probe;
  Status AddLocked(ProbeSpec spec);
  void Persist();
  void WorkerLoop();
  void Step(const std::shared_ptr<Target>& target);
  void Schedule(const std::shared_ptr<Target>& target, double delay_seconds);
  std::shared_ptr<Target> PopDue(bool wait);
  ProbeStatus StatusOf(const Probe& probe) const;

  ProbeRunnerOptions options_;
  SubmitFn submit_;
  const Clock* clock_;
  struct Counters;
  std::unique_ptr<Counters> counters_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<bool> cancel_{false};  // aborts fetches in flight on Stop()
  std::vector<std::shared_ptr<Probe>> probes_;
  std::vector<std::shared_ptr<Target>> heap_;  // min-heap by due time
  std::vector<std::thread> workers_;
};

}  // namespace avtrace::probe
