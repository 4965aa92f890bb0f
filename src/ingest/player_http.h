#pragma once
// Player telemetry front doors (docs/PLAYER_API.md, docs/API.md) and their runtime:
//
//   POST    /api/playback-events   m-trace beacons (player::BeaconDecoder, exact check order)
//   OPTIONS /api/playback-events   CORS preflight (ProjectRegistry::Preflight, always 204)
//   GET|POST /api/cmcd             CMCD v1 (`CMCD=` query or CMCD-* headers) and v2 event
//                                  reports (body) -> playback events of session `sid`
//   OPTIONS /api/cmcd              CORS preflight
//   POST    /api/auth/session-tokens  with player.session_tokens configured: a project token
//                                  (X-MTrace-Token) buys a short-lived HS256 session token
//                                  (player/session_tokens.h) that beacons may use instead
//   OPTIONS /api/auth/session-tokens  CORS preflight
//
// Beacons: a request without any credential is refused with 401 from CheckHead, which the
// HttpServer runs after the headers and BEFORE reading the body (so an oversized body without a
// token is 401, as in m-trace); a body over 256 KiB is 413; everything else is the decoder's.
// Besides the m-trace headers the token may come as `?access_token=` (navigator.sendBeacon
// cannot set headers) and the body may be sent as text/plain (no Content-Type check at all).
// An accepted batch is submitted to the pipeline and 202 {"accepted":N} is sent only from the
// pipeline's completion, i.e. after the batch is durable; a full queue is 429 and shutdown or a
// storage error 503, both with Retry-After and an empty JSON object. Every answer carries the
// CORS headers of the contract plus Access-Control-Expose-Headers: Retry-After.
//
// PlayerRuntime owns the player state of one server: project registry, rate limiter, metrics,
// the Sessionizer and the pipeline CommitHook that runs it on the writer thread (sessions are
// upserted in the same transaction as their events; the sweeper runs every
// player.session.sweep_interval_ms). Build it before Pipeline::Start (SetCommitHook).
//
// Ownership: PlayerRuntime is owned by `serve`; it must outlive the pipeline's writer (Shutdown)
// and the PlayerReceiver, which borrows it. Completions capture only shared state.
// Threads: handlers run on io threads; the hook on the writer thread; all thread-safe.
// Errors: PlayerRuntime::Create fails (InvalidArgument) on a bad `projects:` config.

#include <functional>
#include <memory>
#include <optional>

#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "ingest/http_types.h"
#include "ingest/router.h"
#include "ingest/session_events.h"
#include "pipeline/pipeline.h"
#include "player/beacon.h"
#include "player/player_metrics.h"
#include "player/projects.h"
#include "player/rate_limit.h"
#include "player/sessionizer.h"
#include "store/store.h"

namespace avtrace::metrics {
class Registry;
}

namespace avtrace::ingest {

// Runs the Sessionizer on the pipeline's writer thread.
class PlayerCommitHook final : public pipeline::CommitHook {
 public:
  // Called after each successful commit with the committed batches (SSE fan-out).
  using CommittedListener = std::function<void(std::span<otlp::Batch* const>)>;

  PlayerCommitHook(player::Sessionizer* sessionizer, player::PlayerMetrics* metrics,
                   uint64_t sweep_interval_nanos)
      : sessionizer_(sessionizer), metrics_(metrics), sweep_interval_nanos_(sweep_interval_nanos) {}

  void BeforeCommit(std::span<otlp::Batch* const> batches,
                    std::vector<player::SessionState>* sessions) override;
  void AfterCommit(std::span<otlp::Batch* const> batches, const Status& status) override;
  uint64_t PeriodNanos() const override { return sweep_interval_nanos_; }
  void Periodic(std::vector<player::SessionState>* sessions) override;
  void SetCommittedListener(CommittedListener l) { listener_ = std::move(l); }  // before Start

 private:
  player::Sessionizer* sessionizer_;
  player::PlayerMetrics* metrics_;
  uint64_t sweep_interval_nanos_;
  CommittedListener listener_;
};

struct PlayerRuntime {
  // Builds everything from config; restores open sessions from `store`. Logs a warning in lab
  // mode. Never logs tokens.
  static Result<std::unique_ptr<PlayerRuntime>> Create(const Config& config, store::Store* store,
                                                       metrics::Registry* registry,
                                                       const Clock* clock);

  std::unique_ptr<player::ProjectRegistry> projects;
  std::unique_ptr<player::PlayerMetrics> metrics;
  std::unique_ptr<player::RateLimiter> limiter;
  // Session tokens (player.session_tokens); null when no key is configured.
  std::unique_ptr<player::SessionTokenKeys> session_keys;
  std::unique_ptr<player::RateLimiter> issue_global, issue_project;
  std::unique_ptr<player::BeaconDecoder> decoder;
  std::unique_ptr<player::Sessionizer> sessionizer;
  // SSE fan-out of committed events (fed by `hook`, declared before it so it outlives it).
  std::unique_ptr<SessionEvents> events;
  std::unique_ptr<PlayerCommitHook> hook;
  uint64_t sse_heartbeat_ms = 15'000;
};

class PlayerReceiver {
 public:
  // `runtime` and `pipeline` must outlive the receiver and every pending completion.
  PlayerReceiver(PlayerRuntime* runtime, pipeline::Pipeline* pipeline, const Clock* clock);

  void RegisterRoutes(Router* router);
  // For HttpServerOptions::head_check: the early 401 of a credential-less beacon.
  std::optional<HttpResponse> CheckHead(const HttpRequest& head) const;

 private:
  void HandleBeacon(HttpRequest request, Responder responder);
  void HandleCmcd(HttpRequest request, Responder responder);
  void HandleIssueSessionToken(HttpRequest request, Responder responder);
  void HandlePreflight(player::CorsGroup group, std::string_view path_group,
                       const HttpRequest& request, const Responder& responder);
  // Submits an accepted batch; answers 202 {"accepted":n} after the commit.
  void Submit(otlp::Batch batch, size_t n, std::string_view origin, const Responder& responder);
  HttpResponse WithCors(HttpResponse r, std::string_view origin) const;

  PlayerRuntime* runtime_;
  pipeline::Pipeline* pipeline_;
  const Clock* clock_;
};

// The value of query argument `name` (percent-decoded), or empty.
std::string QueryArg(std::string_view query, std::string_view name);

}  // namespace avtrace::ingest
