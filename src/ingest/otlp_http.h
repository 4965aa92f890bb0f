#pragma once
// OtlpHttpReceiver: the OTLP/HTTP front door (docs: ../../docs/API.md; contract:
// opentelemetry-proto specification, OTLP/HTTP). It registers on an HttpServer's router:
//   POST    /v1/traces  /v1/metrics  /v1/logs    Export*ServiceRequest
//   OPTIONS (same paths)                          CORS preflight
// and handles each request as follows:
//   1. Content-Type application/x-protobuf or application/json (parameters such as charset are
//      allowed), else 415. Other methods get 405 from the router.
//   2. Content-Encoding gzip / deflate / zstd / identity (decompress.h), else 415; the body is
//      capped AFTER decompression at max_body_bytes (413, not retryable).
//   3. The body is adopted by the Batch's arena and decoded (otlp/decode.h); an undecodable
//      body is 400 with a google.rpc.Status naming the problem, in the request's encoding.
//      Items that decode but are invalid are dropped and reported as partial success.
//   4. A request with no items is answered 200 at once. Otherwise the batch is submitted to the
//      BatchSink (the pipeline) and the answer is sent ONLY from the sink's completion, i.e.
//      after the batch is durable: 200 with Export*ServiceResponse (partial_success when items
//      were rejected). Submit or commit failures map through core ToHttpStatus: queue full
//      (ResourceExhausted) 429 and shutdown/storage (Unavailable) 503, both with Retry-After.
// A bad request never affects data accepted earlier: each request is its own batch.
//
// CORS: an Origin matching options.cors_allowed_origins ("*" any; "https://*.example.com"
// wildcards) gets Access-Control-Allow-Origin (the origin echoed, with Vary: Origin) on both the
// preflight and the actual answer. A preflight from any other origin is 403 without CORS headers.
//
// Self-telemetry: FlowCounters("otlp_http", signal) count items: received (decoded, valid or
// not), accepted (durable), rejected{invalid_item}, dropped{queue_full, shutdown, store_error}.
// Requests rejected before their items are known count 1 each under rejected{reason} with
// reason decode, too_large, unsupported_media_type, unsupported_encoding.
// avtrace_otlp_http_request_duration_seconds{signal} observes the time to the answer.
//
// Ownership: the sink is shared with every pending completion, so a completion that runs after
// the receiver is gone (a pipeline draining at shutdown) still finds it and the counters.
// `registry` and `clock` must outlive the receiver and every such completion. The receiver must
// outlive the HttpServer whose router it registered on.
// Threads: handlers run on io threads; completions on the sink's thread; all thread-safe.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "ingest/http_types.h"
#include "ingest/router.h"
#include "ingest/series_guard.h"
#include "otlp/model.h"

namespace avtrace::metrics {
class Registry;
}

namespace avtrace::ingest {

// Where decoded batches go: the pipeline in production (pipeline_sink.h), a fake in tests.
// Contract as pipeline::Pipeline::Submit: on OK the batch is owned by the sink and `done` is
// called exactly once (any thread) when it is durable or failed; on error `done` is never called.
class BatchSink {
 public:
  using Done = std::function<void(const Status&)>;
  virtual ~BatchSink() = default;
  virtual Status Submit(otlp::Batch batch, otlp::Signal signal, Done done) = 0;
  virtual uint32_t RetryAfterSeconds() const = 0;
};

struct OtlpHttpOptions {
  uint64_t max_body_bytes = 64ull << 20;  // after decompression
  std::vector<std::string> cors_allowed_origins;
  // The metric cardinality guard (series_guard.h); max_active == 0 turns it off.
  SeriesLimits series_limits;

  static OtlpHttpOptions FromConfig(const Config& config);
};

enum class OtlpFormat : uint8_t { kProto, kJson };

// Parses a Content-Type header: the media type (case-insensitive, parameters ignored) must be
// application/x-protobuf or application/json.
bool ParseOtlpContentType(std::string_view header, OtlpFormat* format);
// Renders an error the HTTP server answers itself (413 while reading the body, 404, 405, ...)
// as google.rpc.Status in the request's encoding (JSON when the type is not OTLP protobuf).
// Plugs into HttpServerOptions::error_renderer of the OTLP listener.
HttpResponse RenderOtlpServerError(int http_status, std::string_view code,
                                   std::string_view message, std::string_view content_type);

// CORS origin matching: exact (ASCII case-insensitive), "*", or patterns with '*' wildcards.
bool OriginAllowed(const std::vector<std::string>& allowed, std::string_view origin);

class OtlpHttpReceiver {
 public:
  OtlpHttpReceiver(OtlpHttpOptions options, std::shared_ptr<BatchSink> sink,
                   metrics::Registry* registry, const Clock* clock);
  ~OtlpHttpReceiver();

  // Adds the POST and OPTIONS routes for the three signals.
  void RegisterRoutes(Router* router);

  void HandleExport(otlp::Signal signal, HttpRequest request, Responder responder);
  void HandlePreflight(HttpRequest request, Responder responder);

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace avtrace::ingest
