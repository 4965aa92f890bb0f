#include "player/player_metrics.h"

#include "player/qoe.h"

namespace avtrace::player {
namespace {
std::vector<double> StartupBuckets() { return {0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60}; }
std::vector<double> RatioBuckets() { return {0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1}; }
std::vector<double> ScoreBuckets() { return {10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100}; }
std::vector<double> BitrateBuckets() {
  return {250, 500, 1000, 2000, 3000, 4500, 6000, 8000, 12000, 20000, 40000};
}
}  // namespace

PlayerMetrics::PlayerMetrics(metrics::Registry* registry)
    : registry_(registry), flow_(registry, "player", "playback_events") {
  invalid_events_ = &registry->Counter("avtrace_player_invalid_events_total",
                                       "Events in batches rejected with 400 or 422");
  rate_limited_events_ = &registry->Counter("avtrace_player_rate_limited_events_total",
                                            "Events in batches refused with 429");
  dropped_events_ = &registry->Counter("avtrace_player_dropped_events_total",
                                       "Accepted events dropped before storage");
  playback_errors_ =
      &registry->Counter("avtrace_player_playback_errors_total", "playback_error events");
  rebuffer_events_ =
      &registry->Counter("avtrace_player_rebuffer_events_total", "rebuffer_started events");
  sample_rate_drift_ = &registry->Counter(
      "avtrace_player_sample_rate_drift_total",
      "Sessions whose session_sample_rate drifted more than 100 ppm from the stored one");
  active_sessions_ =
      &registry->Gauge("avtrace_player_active_sessions", "Sessions in state active");
}

void PlayerMetrics::Accepted(double events) { flow_.Accepted(events); }

void PlayerMetrics::Rejected(std::string_view reason, double events) {
  flow_.Rejected(std::string(reason), events);
  if (reason == "invalid") invalid_events_->Increment(events);
}

void PlayerMetrics::RateLimited(double events) {
  flow_.Rejected("rate_limited", events);
  rate_limited_events_->Increment(events);
}

void PlayerMetrics::CorsPreflightRefused(std::string_view path_group) {
  registry_
      ->Counter("avtrace_player_cors_preflight_refused_total",
                "Preflights from origins no project allows", {{"path_group", std::string(path_group)}})
      .Increment();
}

void PlayerMetrics::SampleRateDrift() { sample_rate_drift_->Increment(); }

void PlayerMetrics::SessionEnded(std::string_view end_source) {
  registry_
      ->Counter("avtrace_player_sessions_ended_total", "Sessions ended, by who ended them",
                {{"end_source", std::string(end_source)}})
      .Increment();
}

std::string PlayerMetrics::PlayerLabel(std::string_view sdk_name) {
  std::string folded;
  for (char c : sdk_name) {
    if (folded.size() == 32) break;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return "other";  // anything unusual (URLs, spaces, slashes) is not a player name
    folded.push_back(c);
  }
  if (folded.empty()) return "unknown";
  std::lock_guard<std::mutex> lock(mu_);
  if (players_.count(folded)) return folded;
  if (players_.size() >= kMaxPlayers) return "other";
  players_.emplace(folded, true);
  return folded;
}

std::string_view PlayerMetrics::ProtocolLabel(std::string_view p) {
  if (p == "hls" || p == "h") return "hls";
  if (p == "dash" || p == "d") return "dash";
  if (p == "smooth" || p == "s") return "smooth";
  if (p == "webrtc" || p == "whep") return "webrtc";
  if (p == "progressive") return "progressive";
  if (p.empty()) return "unknown";
  return "other";
}

void PlayerMetrics::RecordSessionQoe(std::string_view project, std::string_view sdk_name,
                                     std::string_view protocol, const QoeSummary& q) {
  metrics::Labels labels{{"project", std::string(project)},
                         {"player", PlayerLabel(sdk_name)},
                         {"protocol", std::string(ProtocolLabel(protocol))}};
  const char* outcome = q.video_start_failure       ? "video_start_failure"
                        : q.exit_before_video_start ? "exit_before_video_start"
                        : q.playback_failure        ? "playback_failure"
                                                    : "played";
  metrics::Labels with_outcome = labels;
  with_outcome["outcome"] = outcome;
  registry_->Counter("avtrace_player_sessions_total", "Ended sessions by QoE outcome", with_outcome)
      .Increment();
  if (q.has_startup)
    registry_
        ->Histogram("avtrace_player_startup_seconds", "Play intent to first frame",
                    StartupBuckets(), labels)
        .Observe(q.startup_ms / 1000.0);
  if (!q.exit_before_video_start && !q.video_start_failure) {
    registry_
        ->Histogram("avtrace_player_rebuffer_ratio", "Rebuffer time / (playing + rebuffer time)",
                    RatioBuckets(), labels)
        .Observe(q.rebuffer_ratio);
    registry_->Counter("avtrace_player_rebuffers_total", "Counted rebuffers", labels)
        .Increment(static_cast<double>(q.rebuffer_count));
    registry_->Counter("avtrace_player_rebuffer_seconds_total", "Counted rebuffer time", labels)
        .Increment(q.rebuffer_ms / 1000.0);
    registry_->Counter("avtrace_player_playing_seconds_total", "Playing time", labels)
        .Increment(q.playing_ms / 1000.0);
  }
  for (auto [dir, n] : {std::pair<const char*, uint64_t>{"up", q.bitrate_switches_up},
                        {"down", q.bitrate_switches_down}}) {
    metrics::Labels l = labels;
    l["direction"] = dir;
    registry_->Counter("avtrace_player_bitrate_switches_total", "Bitrate switches", l)
        .Increment(static_cast<double>(n));
  }
  if (q.has_avg_bitrate)
    registry_
        ->Histogram("avtrace_player_avg_bitrate_kbps", "Time-weighted average bitrate per session",
                    BitrateBuckets(), labels)
        .Observe(q.avg_bitrate_kbps);
  registry_->Counter("avtrace_player_dropped_frames_total", "Dropped video frames", labels)
      .Increment(static_cast<double>(q.dropped_frames));
  if (q.has_score)
    registry_->Histogram("avtrace_player_qoe_score", "Session QoE score 0-100", ScoreBuckets(), labels)
        .Observe(q.score);
}

}  // namespace avtrace::player
