#pragma once
// The m-trace-compatible beacon front door: decodes and validates one
// `POST /api/playback-events` request into a Batch of PlaybackEvents and SessionBoundaries,
// with m-trace's check order, status codes and bodies (docs/PLAYER_API.md):
//
//   1. no credentials                    -> 401 {}   (before the body is read; see
//                                                      HasCredentials for the route)
//   2. body > 262144 bytes               -> 413 {}
//   3. not JSON / wrong JSON types        -> 400 {}   (Go encoding/json semantics)
//   4. unknown token                      -> 401 {}
//   5. Origin not allowed by the project  -> 403 {}   (an empty Origin is allowed)
//   6. rate limit (n events = n tokens)   -> 429 {} + Retry-After (seconds, from the bucket)
//   7. schema_version != "1.0"            -> 400 {}
//   8. events missing/empty/more than 100 -> 422 {}
//   9. per event, in order: required fields (422), project_id != token's project (401),
//      RFC 3339 client_timestamp (422), reserved meta (422); then URL redaction of meta
//  10. session_boundaries invalid         -> 422 {}   (nothing of the batch is kept)
//  11. success                            -> 202 {"accepted":N}\n
//
// Decode is a pure function of its inputs plus the rate limiter's state: no sockets, no store.
// The caller (HTTP route) adds ProjectRegistry::CorsHeaders to every answer, hands an accepted
// Batch to the Sessionizer and the pipeline, and counts nothing itself (Decode updates
// PlayerMetrics when given one).
//
// Ownership: the returned BeaconResponse owns its Batch (all views point into batch.arena).
// Threads: Decode is thread-safe (thread-local parser; the limiter and metrics are
// thread-safe). Lifecycle: registry, limiter and metrics must outlive the decoder.

#include <cstdint>
#include <string>
#include <string_view>

#include "otlp/model.h"
#include "player/player_metrics.h"
#include "player/projects.h"
#include "player/rate_limit.h"
#include "player/session_tokens.h"

namespace avtrace::player {

inline constexpr size_t kMaxBeaconBodyBytes = 262144;
inline constexpr size_t kMaxBeaconEvents = 100;
inline constexpr size_t kMaxSessionBoundaries = 20;
inline constexpr uint64_t kTimeSkewNanos = 60ull * 1'000'000'000ull;

struct BeaconRequest {
  std::string_view authorization;  // Authorization (only "Bearer mtr_st_..." counts)
  std::string_view session_token;  // X-MTrace-Session-Token
  std::string_view mtrace_token;   // X-MTrace-Token
  std::string_view origin;         // Origin ("" = none)
  std::string_view traceparent;    // traceparent ("" = none)
  std::string_view body;
  bool body_too_large = false;     // the route stopped reading after kMaxBeaconBodyBytes
  std::string_view client_address; // for the rate limiter only; never stored
  uint64_t now_unix_nanos = 0;
};

enum class BeaconOutcome {
  kAccepted, kUnauthorized, kForbidden, kTooLarge, kInvalid, kRateLimited
};
// accepted | unauthorized | forbidden | too_large | invalid | rate_limited (m-trace batch.outcome).
std::string_view BeaconOutcomeName(BeaconOutcome o);

struct BeaconResponse {
  int status = 0;
  std::string body;
  HeaderList headers;           // Content-Type, and Retry-After on 429
  BeaconOutcome outcome = BeaconOutcome::kInvalid;
  otlp::Batch batch;            // on 202: the events and boundaries
  const Project* project = nullptr;  // once the token resolved
  int64_t batch_size = -1;      // events in the request; -1 before the JSON was parsed
  bool trace_parse_error = false;
  bool time_skew_warning = false;  // any event skewed
  std::string detail;           // why it was refused, for debug logs and tests; never sent
};

// W3C traceparent as m-trace accepts it: 55 chars, version "00", lower-case hex, non-zero ids.
bool ParseTraceparent(std::string_view header, otlp::TraceId* trace_id, otlp::SpanId* span_id,
                      uint8_t* flags);

// `s` without leading and trailing ASCII whitespace (as m-trace trims header values).
std::string_view TrimAscii(std::string_view s);

class BeaconDecoder {
 public:
  // `metrics` may be null; without `session_keys` session tokens are refused (401).
  BeaconDecoder(const ProjectRegistry* projects, RateLimiter* limiter, PlayerMetrics* metrics,
                const SessionTokenKeys* session_keys = nullptr);

  // Step 1 on its own, so the route can answer 401 before reading the body: true if the request
  // carries a credential that the decoder will go on to check.
  static bool HasCredentials(std::string_view authorization, std::string_view session_token,
                             std::string_view mtrace_token);

  BeaconResponse Decode(const BeaconRequest& request) const;

 private:
  const ProjectRegistry* projects_;
  RateLimiter* limiter_;
  PlayerMetrics* metrics_;
  const SessionTokenKeys* session_keys_;
};

}  // namespace avtrace::player
