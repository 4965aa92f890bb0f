#include "ingest/otlp_http.h"

#include <array>

#include "ingest/decompress.h"
#include "metrics/registry.h"
#include "otlp/decode.h"

namespace avtrace::ingest {
namespace {

constexpr std::string_view kProtoType = "application/x-protobuf";
constexpr std::string_view kJsonType = "application/json";
// What a browser may send besides the CORS-safelisted headers; requested extras are added.
constexpr std::string_view kDefaultAllowHeaders =
    "Content-Type, Content-Encoding, Authorization, X-Requested-With, traceparent, tracestate";
constexpr std::string_view kPreflightMaxAge = "7200";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// Glob match with '*' (any run of characters), ASCII case-insensitive.
bool GlobMatch(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && Lower(pattern[p]) == Lower(text[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

// The default allow-list plus the headers a preflight asks for, if they are plain tokens.
std::string AllowHeaders(std::string_view requested) {
  std::string out(kDefaultAllowHeaders);
  while (!requested.empty()) {
    size_t comma = requested.find(',');
    std::string_view name = Trim(requested.substr(0, comma));
    requested = comma == std::string_view::npos ? std::string_view() : requested.substr(comma + 1);
    if (name.empty() || name.size() > 64) continue;
    bool token = true;
    for (char c : name) token = token && IsTokenChar(c);
    if (!token) continue;
    bool known = false;
    std::string_view rest = kDefaultAllowHeaders;
    while (!rest.empty() && !known) {
      size_t c = rest.find(',');
      known = EqualsIgnoreCase(Trim(rest.substr(0, c)), name);
      rest = c == std::string_view::npos ? std::string_view() : rest.substr(c + 1);
    }
    if (known) continue;
    out += ", ";
    out += name;
  }
  return out;
}

std::string_view SignalPath(otlp::Signal s) {
  switch (s) {
    case otlp::Signal::kTraces:
      return "/v1/traces";
    case otlp::Signal::kMetrics:
      return "/v1/metrics";
    case otlp::Signal::kLogs:
      return "/v1/logs";
  }
  return "/";
}

}  // namespace

OtlpHttpOptions OtlpHttpOptions::FromConfig(const Config& config) {
  OtlpHttpOptions o;
  o.max_body_bytes = config.otlp_http.max_body_bytes;
  o.cors_allowed_origins = config.otlp_http.cors_allowed_origins;
  o.series_limits.max_per_metric = config.storage.max_series_per_metric;
  o.series_limits.max_active = config.storage.max_active_series;
  o.series_limits.idle_seconds = config.storage.series_idle_seconds;
  return o;
}

bool ParseOtlpContentType(std::string_view header, OtlpFormat* format) {
  std::string_view type = Trim(header.substr(0, header.find(';')));
  if (EqualsIgnoreCase(type, kProtoType)) {
    *format = OtlpFormat::kProto;
    return true;
  }
  if (EqualsIgnoreCase(type, kJsonType)) {
    *format = OtlpFormat::kJson;
    return true;
  }
  return false;
}

HttpResponse RenderOtlpServerError(int http_status, std::string_view /*code*/,
                                   std::string_view message, std::string_view content_type) {
  // gRPC codes for the statuses the server answers itself.
  int grpc = 2;  // UNKNOWN
  switch (http_status) {
    case 400: grpc = 3; break;   // INVALID_ARGUMENT
    case 404: case 405: grpc = 12; break;  // UNIMPLEMENTED
    case 413: case 431: grpc = 8; break;   // RESOURCE_EXHAUSTED
    case 503: grpc = 14; break;  // UNAVAILABLE
    default: break;
  }
  OtlpFormat format = OtlpFormat::kJson;
  if (!ParseOtlpContentType(content_type, &format)) format = OtlpFormat::kJson;
  return format == OtlpFormat::kProto
             ? HttpResponse::WithBody(http_status, std::string(kProtoType),
                                      otlp::EncodeRpcStatusProto(grpc, message))
             : HttpResponse::WithBody(http_status, std::string(kJsonType),
                                      otlp::EncodeRpcStatusJson(grpc, message));
}

bool OriginAllowed(const std::vector<std::string>& allowed, std::string_view origin) {
  if (origin.empty()) return false;
  for (const std::string& pattern : allowed) {
    if (pattern == "*" || GlobMatch(pattern, origin)) return true;
  }
  return false;
}

// State shared with completions that may run after the receiver is gone.
struct OtlpHttpReceiver::Shared {
  struct PerSignal {
    PerSignal(metrics::Registry* registry, otlp::Signal signal)
        : flow(registry, "otlp_http", std::string(otlp::SignalName(signal))),
          latency(&registry->Histogram("avtrace_otlp_http_request_duration_seconds",
                                       "OTLP/HTTP export requests: time to the answer",
                                       metrics::LatencyBuckets(),
                                       {{"signal", std::string(otlp::SignalName(signal))}})) {}
    metrics::FlowCounters flow;
    prometheus::Histogram* latency;
  };

  Shared(OtlpHttpOptions o, std::shared_ptr<BatchSink> s, metrics::Registry* registry,
         const Clock* c)
      : options(std::move(o)),
        sink(std::move(s)),
        clock(c),
        guard(options.series_limits.max_active > 0
                  ? std::make_unique<SeriesGuard>(options.series_limits, registry, c)
                  : nullptr),
        signals{PerSignal(registry, otlp::Signal::kTraces),
                PerSignal(registry, otlp::Signal::kMetrics),
                PerSignal(registry, otlp::Signal::kLogs)} {}

  PerSignal& For(otlp::Signal s) { return signals[static_cast<size_t>(s)]; }

  // The CORS headers for an actual (non-preflight) request from `origin`, if allowed.
  void AddCors(std::string_view origin, HttpResponse* r) const {
    if (!OriginAllowed(options.cors_allowed_origins, origin)) return;
    r->headers.Set("Access-Control-Allow-Origin", std::string(origin));
    r->headers.Set("Vary", "Origin");
    r->headers.Set("Access-Control-Expose-Headers", "Retry-After");
  }

  // Answers with `r`, adding CORS headers and observing latency.
  void Answer(otlp::Signal signal, const std::string& origin, uint64_t started, HttpResponse r,
              const Responder& responder) {
    AddCors(origin, &r);
    uint64_t now = clock->MonotonicNanos();
    For(signal).latency->Observe(now > started ? static_cast<double>(now - started) / 1e9 : 0.0);
    responder.Send(std::move(r));
  }

  // A google.rpc.Status answer in the request's encoding.
  static HttpResponse ErrorResponse(OtlpFormat format, const Status& status,
                                    uint32_t retry_after = 0) {
    const int grpc = ToGrpcStatus(status.code());
    HttpResponse r =
        format == OtlpFormat::kProto
            ? HttpResponse::WithBody(ToHttpStatus(status.code()), std::string(kProtoType),
                                     otlp::EncodeRpcStatusProto(grpc, status.message()))
            : HttpResponse::WithBody(ToHttpStatus(status.code()), std::string(kJsonType),
                                     otlp::EncodeRpcStatusJson(grpc, status.message()));
    if (retry_after > 0) r.headers.Set("Retry-After", std::to_string(retry_after));
    return r;
  }

  static HttpResponse SuccessResponse(OtlpFormat format, otlp::Signal signal,
                                      const otlp::DecodeOutcome& outcome) {
    return format == OtlpFormat::kProto
               ? HttpResponse::WithBody(200, std::string(kProtoType),
                                        otlp::EncodeExportResponseProto(signal, outcome))
               : HttpResponse::WithBody(200, std::string(kJsonType),
                                        otlp::EncodeExportResponseJson(signal, outcome));
  }

  // Retry-After for throttling answers; 0 for answers that are not retryable.
  uint32_t RetryAfterFor(StatusCode code) const {
    if (code == StatusCode::kResourceExhausted || code == StatusCode::kUnavailable) {
      return std::max<uint32_t>(1, sink->RetryAfterSeconds());
    }
    return 0;
  }

  const OtlpHttpOptions options;
  const std::shared_ptr<BatchSink> sink;
  const Clock* const clock;
  const std::unique_ptr<SeriesGuard> guard;  // metrics only; null when off
  std::array<PerSignal, 3> signals;
};

OtlpHttpReceiver::OtlpHttpReceiver(OtlpHttpOptions options, std::shared_ptr<BatchSink> sink,
                                   metrics::Registry* registry, const Clock* clock)
    : shared_(std::make_shared<Shared>(std::move(options), sink, registry, clock)) {}

OtlpHttpReceiver::~OtlpHttpReceiver() = default;

void OtlpHttpReceiver::RegisterRoutes(Router* router) {
  for (otlp::Signal signal : {otlp::Signal::kTraces, otlp::Signal::kMetrics, otlp::Signal::kLogs}) {
    std::string path(SignalPath(signal));
    router->Exact("POST", path, [this, signal](HttpRequest req, Responder r) {
      HandleExport(signal, std::move(req), std::move(r));
    });
    router->Exact("OPTIONS", path, [this](HttpRequest req, Responder r) {
      HandlePreflight(std::move(req), std::move(r));
    });
  }
}

void OtlpHttpReceiver::HandlePreflight(HttpRequest request, Responder responder) {
  std::string_view origin = request.headers.Get("Origin");
  if (origin.empty()) {  // a plain OPTIONS, not a CORS preflight
    HttpResponse r;
    r.status = 204;
    r.headers.Set("Allow", "POST, OPTIONS");
    return responder.Send(std::move(r));
  }
  if (!OriginAllowed(shared_->options.cors_allowed_origins, origin)) {
    return responder.Send(JsonError(403, "permission_denied",
                                    "origin '" + std::string(origin.substr(0, 200)) +
                                        "' is not in otlp_http.cors_allowed_origins"));
  }
  HttpResponse r;
  r.status = 204;
  r.headers.Set("Access-Control-Allow-Origin", std::string(origin));
  r.headers.Set("Vary", "Origin");
  r.headers.Set("Access-Control-Allow-Methods", "POST, OPTIONS");
  r.headers.Set("Access-Control-Allow-Headers",
                AllowHeaders(request.headers.Get("Access-Control-Request-Headers")));
  r.headers.Set("Access-Control-Max-Age", std::string(kPreflightMaxAge));
  responder.Send(std::move(r));
}

void OtlpHttpReceiver::HandleExport(otlp::Signal signal, HttpRequest request, Responder responder) {
  Shared& s = *shared_;
  Shared::PerSignal& counters = s.For(signal);
  const std::string origin(request.headers.Get("Origin"));
  const uint64_t started = request.received_mono_nanos;

  OtlpFormat format;
  if (!ParseOtlpContentType(request.headers.Get("Content-Type"), &format)) {
    counters.flow.Rejected("unsupported_media_type", 1);
    std::string got(request.headers.Get("Content-Type").substr(0, 100));
    Status st(StatusCode::kUnsupportedMediaType,
              "unsupported Content-Type '" + got +
                  "'; OTLP/HTTP accepts application/x-protobuf or application/json");
    return s.Answer(signal, origin, started, Shared::ErrorResponse(OtlpFormat::kJson, st),
                    responder);
  }
  auto fail = [&](std::string_view reason, const Status& st) {
    counters.flow.Rejected(std::string(reason), 1);
    s.Answer(signal, origin, started, Shared::ErrorResponse(format, st), responder);
  };

  auto encodings = ParseContentEncoding(request.headers.Get("Content-Encoding"));
  if (!encodings.ok()) return fail("unsupported_encoding", encodings.status());
  auto body = DecodeBody(*encodings, std::move(request.body), s.options.max_body_bytes);
  if (!body.ok()) {
    const Status& st = body.status();
    if (st.code() == StatusCode::kPayloadTooLarge) return fail("too_large", st);
    if (st.code() == StatusCode::kInvalidArgument) {
      return fail("decode", st.WithContext("request body"));
    }
    return fail("decode", st);
  }

  otlp::Batch batch;
  otlp::DecodeOutcome outcome;
  if (!body->empty()) {  // an empty body is an empty request, which succeeds
    std::string_view view = batch.arena.Adopt(std::move(*body));
    Status decoded = format == OtlpFormat::kProto
                         ? otlp::DecodeProto(signal, view, &batch, &outcome)
                         : otlp::DecodeJson(signal, view, &batch, &outcome);
    if (!decoded.ok()) {
      const Status st(StatusCode::kInvalidArgument, decoded.message());
      return fail("decode", st);
    }
  }
  batch.received_unix_nanos = s.clock->NowUnixNanos();
  const int64_t invalid = outcome.rejected;
  const int64_t over_limit =
      signal == otlp::Signal::kMetrics && s.guard ? s.guard->Filter(&batch, &outcome) : 0;
  const size_t items = batch.ItemCount();
  counters.flow.Received(static_cast<double>(items + static_cast<size_t>(outcome.rejected)));
  if (invalid > 0) counters.flow.Rejected("invalid_item", static_cast<double>(invalid));
  if (over_limit > 0) counters.flow.Rejected("series_limit", static_cast<double>(over_limit));
  if (items == 0) {
    return s.Answer(signal, origin, started, Shared::SuccessResponse(format, signal, outcome),
                    responder);
  }

  auto shared = shared_;
  Status submitted = s.sink->Submit(
      std::move(batch), signal,
      [shared, signal, format, items, origin, started, responder,
       outcome = std::move(outcome)](const Status& st) {
        Shared::PerSignal& c = shared->For(signal);
        if (st.ok()) {
          c.flow.Accepted(static_cast<double>(items));
          return shared->Answer(signal, origin, started,
                                Shared::SuccessResponse(format, signal, outcome), responder);
        }
        c.flow.Dropped(st.code() == StatusCode::kResourceExhausted ? "queue_full" : "store_error",
                       static_cast<double>(items));
        shared->Answer(signal, origin, started,
                       Shared::ErrorResponse(format, st, shared->RetryAfterFor(st.code())),
                       responder);
      });
  if (!submitted.ok()) {
    const StatusCode code = submitted.code();
    counters.flow.Dropped(code == StatusCode::kResourceExhausted ? "queue_full"
                          : code == StatusCode::kUnavailable     ? "shutdown"
                                                                 : "error",
                          static_cast<double>(items));
    s.Answer(signal, origin, started,
             Shared::ErrorResponse(format, submitted, s.RetryAfterFor(code)), responder);
  }
}

}  // namespace avtrace::ingest
