#pragma once
// PlayerMetrics: the player module's series on /metrics. Labels are bounded by construction:
//   project   — a configured project id (operator-defined set), never a client-chosen value;
//   player    — the SDK/player family, folded to [a-z0-9._-]{1,32} and capped at kMaxPlayers
//               distinct values per process ("other" beyond);
//   protocol  — hls | dash | smooth | webrtc | progressive | other | unknown;
//   reason, outcome, direction, end_source, path_group — small fixed vocabularies.
// Never session ids, URLs, user agents, addresses, tokens, correlation or trace ids (m-trace's
// forbidden-label policy, checked by player_metrics_test).
//
// Threads: thread-safe. Lifecycle: the Registry must outlive this object.

#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "metrics/registry.h"

namespace avtrace::player {

struct QoeSummary;  // qoe.h

class PlayerMetrics {
 public:
  static constexpr size_t kMaxPlayers = 16;

  explicit PlayerMetrics(metrics::Registry* registry);

  // Beacon/CMCD front-door outcomes (m-trace counter semantics, see PLAYER_API.md).
  void Received(double events) { flow_.Received(events); }
  void Accepted(double events);
  void Rejected(std::string_view reason, double events);  // reason: a fixed vocabulary
  void RateLimited(double events);
  void CorsPreflightRefused(std::string_view path_group);
  void SampleRateDrift();
  void PlaybackError() { playback_errors_->Increment(); }
  void RebufferEvent() { rebuffer_events_->Increment(); }
  void SessionEnded(std::string_view end_source);  // client | sweeper
  void SetActiveSessions(double n) { active_sessions_->Set(n); }

  // Per-session QoE aggregates, recorded once when a session ends.
  void RecordSessionQoe(std::string_view project, std::string_view sdk_name,
                        std::string_view protocol, const QoeSummary& qoe);

  // Folds a client-supplied player name into the bounded label set.
  std::string PlayerLabel(std::string_view sdk_name);
  static std::string_view ProtocolLabel(std::string_view protocol);

 private:
  metrics::Registry* registry_;
  metrics::FlowCounters flow_;
  prometheus::Counter* invalid_events_;
  prometheus::Counter* rate_limited_events_;
  prometheus::Counter* dropped_events_;
  prometheus::Counter* playback_errors_;
  prometheus::Counter* rebuffer_events_;
  prometheus::Counter* sample_rate_drift_;
  prometheus::Gauge* active_sessions_;
  std::mutex mu_;
  std::map<std::string, bool, std::less<>> players_;
};

}  // namespace avtrace::player
