#include "api/query_api.h"

#include "api/query_params.h"
#include "ingest/json_writer.h"
#include "metrics/registry.h"
#include "otlp/encode.h"

namespace avtrace::api {
namespace {

using ingest::HttpRequest;
using ingest::HttpResponse;
using ingest::JsonError;
using ingest::Responder;

constexpr std::string_view kTracePrefix = "/api/v1/traces/";
constexpr std::string_view kMetricPrefix = "/api/v1/metrics/";
constexpr std::string_view kSeriesSuffix = "/series";
constexpr uint64_t kDefaultSeriesWindow = 3600ull * 1'000'000'000;  // 1 h
constexpr uint64_t kMaxPointsPerSeries = 11'000;                    // as Prometheus' query_range
constexpr size_t kMaxCursor = 4096;
constexpr size_t kMaxText = 1024;

HttpResponse Json(std::string body) {
  HttpResponse r = HttpResponse::Json(200, std::move(body));
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

HttpResponse Error(const Status& s) {
  HttpResponse r = JsonError(s);
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

Status TimeRange(uint64_t start, uint64_t end) {
  if (end != 0 && start >= end) {
    return InvalidArgument("parameter 'start' must be before 'end' (got start=" +
                           std::to_string(start) + ", end=" + std::to_string(end) + ")");
  }
  return Status::Ok();
}

Result<std::string> Cursor(const QueryParams& p) {
  ASSIGN_OR_RETURN(std::string cursor, p.String("cursor"));
  if (cursor.size() > kMaxCursor) {
    return InvalidArgument("parameter 'cursor': too long; pass the nextCursor of a previous page");
  }
  return cursor;
}

Result<std::string> BoundedText(const QueryParams& p, std::string_view name) {
  ASSIGN_OR_RETURN(std::string v, p.String(name));
  if (v.size() > kMaxText) {
    return InvalidArgument("parameter '" + std::string(name) + "': longer than " +
                           std::to_string(kMaxText) + " bytes");
  }
  return v;
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

}  // namespace

bool ParseSeriesFunction(std::string_view name, store::SeriesFunction* out) {
  using F = store::SeriesFunction;
  static constexpr std::pair<std::string_view, F> kNames[] = {
      {"raw", F::kRaw}, {"rate", F::kRate}, {"quantile", F::kQuantile}, {"avg", F::kAvg},
      {"min", F::kMin}, {"max", F::kMax},   {"sum", F::kSum},           {"last", F::kLast}};
  for (const auto& [n, f] : kNames) {
    if (n == name) {
      *out = f;
      return true;
    }
  }
  return false;
}

bool ParseSeverity(std::string_view text, int32_t* out) {
  // The first severity number of each OTLP range (logs data model).
  static constexpr std::pair<std::string_view, int32_t> kNames[] = {
      {"trace", 1},    {"debug", 5},  {"info", 9},  {"warn", 13},
      {"warning", 13}, {"error", 17}, {"fatal", 21}};
  std::string lower;
  for (char c : text) lower.push_back(Lower(c));
  for (const auto& [n, v] : kNames) {
    if (lower == n) {
      *out = v;
      return true;
    }
  }
  if (text.empty() || text.size() > 2) return false;
  int32_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > 24) return false;
  *out = v;
  return true;
}

Result<store::TraceQuery> ParseTraceQuery(std::string_view query_string) {
  ASSIGN_OR_RETURN(QueryParams p, QueryParams::Parse(query_string));
  RETURN_IF_ERROR(p.CheckKnown({"service", "name", "attr", "minDuration", "maxDuration", "status",
                                "start", "end", "limit", "cursor"}));
  store::TraceQuery q;
  ASSIGN_OR_RETURN(q.service, BoundedText(p, "service"));
  ASSIGN_OR_RETURN(q.span_name, BoundedText(p, "name"));
  ASSIGN_OR_RETURN(q.attributes, p.AttributeFilters("attr"));
  ASSIGN_OR_RETURN(q.min_duration_nanos, p.DurationNanos("minDuration", 0));
  ASSIGN_OR_RETURN(q.max_duration_nanos, p.DurationNanos("maxDuration", 0));
  if (q.max_duration_nanos != 0 && q.min_duration_nanos > q.max_duration_nanos) {
    return InvalidArgument("parameter 'minDuration' must not exceed 'maxDuration'");
  }
  ASSIGN_OR_RETURN(std::string status, p.String("status"));
  if (status.empty()) {
    q.status = store::SpanStatusFilter::kAny;
  } else if (status == "ok") {
    q.status = store::SpanStatusFilter::kOk;
  } else if (status == "error") {
    q.status = store::SpanStatusFilter::kError;
  } else if (status == "unset") {
    q.status = store::SpanStatusFilter::kUnset;
  } else {
    return InvalidArgument("parameter 'status': expected one of ok, error, unset, got '" +
                           status.substr(0, 100) + "'");
  }
  ASSIGN_OR_RETURN(q.start_unix_nanos, p.TimeUnixNanos("start", 0));
  ASSIGN_OR_RETURN(q.end_unix_nanos, p.TimeUnixNanos("end", 0));
  RETURN_IF_ERROR(TimeRange(q.start_unix_nanos, q.end_unix_nanos));
  ASSIGN_OR_RETURN(uint64_t limit, p.Uint("limit", 20, 1, 1000));
  q.limit = static_cast<uint32_t>(limit);
  ASSIGN_OR_RETURN(q.cursor, Cursor(p));
  return q;
}

Result<store::LogQuery> ParseLogQuery(std::string_view query_string) {
  ASSIGN_OR_RETURN(QueryParams p, QueryParams::Parse(query_string));
  RETURN_IF_ERROR(p.CheckKnown(
      {"service", "minSeverity", "q", "attr", "traceId", "start", "end", "limit", "cursor"}));
  store::LogQuery q;
  ASSIGN_OR_RETURN(q.service, BoundedText(p, "service"));
  ASSIGN_OR_RETURN(std::string severity, p.String("minSeverity"));
  if (!severity.empty() && !ParseSeverity(severity, &q.min_severity)) {
    return InvalidArgument(
        "parameter 'minSeverity': expected a severity number from 0 to 24 or one of trace, "
        "debug, info, warn, error, fatal, got '" +
        severity.substr(0, 100) + "'");
  }
  ASSIGN_OR_RETURN(q.body_contains, BoundedText(p, "q"));
  ASSIGN_OR_RETURN(q.attributes, p.AttributeFilters("attr"));
  ASSIGN_OR_RETURN(std::string trace_id, p.String("traceId"));
  if (!trace_id.empty()) {
    otlp::TraceId id;
    if (!otlp::ParseHexId(trace_id, id.data(), id.size())) {
      return InvalidArgument("parameter 'traceId': expected 32 hex digits, got '" +
                             trace_id.substr(0, 100) + "'");
    }
    q.trace_id = id;
  }
  ASSIGN_OR_RETURN(q.start_unix_nanos, p.TimeUnixNanos("start", 0));
  ASSIGN_OR_RETURN(q.end_unix_nanos, p.TimeUnixNanos("end", 0));
  RETURN_IF_ERROR(TimeRange(q.start_unix_nanos, q.end_unix_nanos));
  ASSIGN_OR_RETURN(uint64_t limit, p.Uint("limit", 100, 1, 1000));
  q.limit = static_cast<uint32_t>(limit);
  ASSIGN_OR_RETURN(q.cursor, Cursor(p));
  return q;
}

Result<store::MetricListQuery> ParseMetricListQuery(std::string_view query_string) {
  ASSIGN_OR_RETURN(QueryParams p, QueryParams::Parse(query_string));
  RETURN_IF_ERROR(p.CheckKnown({"prefix", "service", "limit"}));
  store::MetricListQuery q;
  ASSIGN_OR_RETURN(q.name_prefix, BoundedText(p, "prefix"));
  ASSIGN_OR_RETURN(q.service, BoundedText(p, "service"));
  ASSIGN_OR_RETURN(uint64_t limit, p.Uint("limit", 1000, 1, 10000));
  q.limit = static_cast<uint32_t>(limit);
  return q;
}

Result<store::SeriesQuery> ParseSeriesQuery(std::string metric, std::string_view query_string,
                                            uint64_t now_unix_nanos) {
  ASSIGN_OR_RETURN(QueryParams p, QueryParams::Parse(query_string));
  RETURN_IF_ERROR(p.CheckKnown({"start", "end", "step", "fn", "q", "match", "maxSeries"}));
  store::SeriesQuery q;
  q.metric = std::move(metric);
  ASSIGN_OR_RETURN(q.end_unix_nanos, p.TimeUnixNanos("end", now_unix_nanos));
  const uint64_t default_start =
      q.end_unix_nanos > kDefaultSeriesWindow ? q.end_unix_nanos - kDefaultSeriesWindow : 0;
  ASSIGN_OR_RETURN(q.start_unix_nanos, p.TimeUnixNanos("start", default_start));
  RETURN_IF_ERROR(TimeRange(q.start_unix_nanos, q.end_unix_nanos));
  ASSIGN_OR_RETURN(std::string fn, p.String("fn", "raw"));
  if (!ParseSeriesFunction(fn, &q.function)) {
    return InvalidArgument(
        "parameter 'fn': expected one of raw, rate, quantile, avg, min, max, sum, last, got '" +
        fn.substr(0, 100) + "'");
  }
  ASSIGN_OR_RETURN(q.step_nanos, p.DurationNanos("step", 0));
  if (q.function != store::SeriesFunction::kRaw && q.step_nanos == 0) {
    return InvalidArgument("parameter 'step' is required (a duration such as 30s) when fn=" + fn);
  }
  if (q.step_nanos != 0) {
    const uint64_t points = (q.end_unix_nanos - q.start_unix_nanos) / q.step_nanos;
    if (points > kMaxPointsPerSeries) {
      const uint64_t min_step = (q.end_unix_nanos - q.start_unix_nanos) / kMaxPointsPerSeries + 1;
      return InvalidArgument("parameter 'step': " + std::to_string(points) +
                             " points per series exceed the limit of " +
                             std::to_string(kMaxPointsPerSeries) + "; use a step of at least " +
                             std::to_string(min_step) + " nanoseconds or a shorter range");
    }
  }
  ASSIGN_OR_RETURN(auto quantile, p.Single("q"));
  if (quantile && q.function != store::SeriesFunction::kQuantile) {
    return InvalidArgument("parameter 'q' applies only to fn=quantile");
  }
  ASSIGN_OR_RETURN(q.quantile, p.Double("q", 0.5, 0.0, 1.0));
  ASSIGN_OR_RETURN(q.match, p.AttributeFilters("match"));
  ASSIGN_OR_RETURN(uint64_t max_series, p.Uint("maxSeries", 100, 1, 10000));
  q.max_series = static_cast<uint32_t>(max_series);
  return q;
}

QueryApi::QueryApi(QueryApiDeps deps)
    : deps_(std::move(deps)), start_unix_nanos_(deps_.clock->NowUnixNanos()) {}

void QueryApi::SetEndpoints(std::vector<std::pair<std::string, std::string>> endpoints) {
  std::lock_guard lock(mu_);
  endpoints_ = std::move(endpoints);
}

void QueryApi::RegisterRoutes(ingest::Router* router) {
  auto bind = [this](void (QueryApi::*fn)(HttpRequest, Responder)) {
    return [this, fn](HttpRequest req, Responder r) { (this->*fn)(std::move(req), std::move(r)); };
  };
  router->Prefix("GET", std::string(kTracePrefix), bind(&QueryApi::GetTrace));
  router->Exact("GET", "/api/v1/traces", bind(&QueryApi::SearchTraces));
  router->Exact("GET", "/api/v1/metrics", bind(&QueryApi::ListMetrics));
  router->Prefix("GET", std::string(kMetricPrefix), bind(&QueryApi::MetricSeries));
  router->Exact("GET", "/api/v1/logs", bind(&QueryApi::SearchLogs));
  router->Exact("GET", "/api/v1/status", bind(&QueryApi::ServerStatusRoute));
  router->Exact("GET", "/metrics", bind(&QueryApi::PrometheusMetrics));
  router->Exact("GET", "/healthz", bind(&QueryApi::Healthz));
  // m-trace's names for the same two endpoints, so its tooling works unchanged.
  router->Exact("GET", "/api/health", bind(&QueryApi::Healthz));
  router->Exact("GET", "/api/metrics", bind(&QueryApi::PrometheusMetrics));
  router->Exact("GET", "/readyz", bind(&QueryApi::Readyz));
}

void QueryApi::Run(const Responder& r, std::function<void()> work) {
  auto guarded = [r, work = std::move(work)] {
    try {
      work();
    } catch (const std::exception& e) {
      r.Send(Error(Internal(std::string("query failed: ") + e.what())));
    } catch (...) {
      r.Send(Error(Internal("query failed")));
    }
  };
  if (!deps_.run_query) return guarded();
  if (!deps_.run_query(guarded)) {
    HttpResponse busy = Error(Unavailable("too many queries in progress; retry shortly"));
    busy.headers.Set("Retry-After", "1");
    r.Send(std::move(busy));
  }
}

void QueryApi::GetTrace(HttpRequest req, Responder r) {
  std::string_view hex = std::string_view(req.path).substr(kTracePrefix.size());
  otlp::TraceId id;
  if (!otlp::ParseHexId(hex, id.data(), id.size())) {
    return r.Send(Error(InvalidArgument("trace id '" + std::string(hex.substr(0, 100)) +
                                        "': expected 32 hex digits")));
  }
  auto params = QueryParams::Parse(req.query);
  Status known = params.ok() ? params->CheckKnown({}) : params.status();
  if (!known.ok()) return r.Send(Error(known));
  if (otlp::IsZeroId(id)) {
    return r.Send(Error(InvalidArgument("trace id must not be all zeros")));
  }
  store::Store* store = deps_.store;
  Run(r, [store, id, r] {
    auto trace = store->GetTrace(id);
    if (!trace.ok()) {
      if (trace.status().code() == StatusCode::kNotFound) {
        return r.Send(Error(NotFound("trace " + otlp::HexId(id) + " not found")));
      }
      return r.Send(Error(trace.status()));
    }
    r.Send(Json(RenderTrace(id, *trace)));
  });
}

void QueryApi::SearchTraces(HttpRequest req, Responder r) {
  auto query = ParseTraceQuery(req.query);
  if (!query.ok()) return r.Send(Error(query.status()));
  store::Store* store = deps_.store;
  Run(r, [store, q = std::move(*query), r] {
    auto result = store->SearchTraces(q);
    r.Send(result.ok() ? Json(RenderTraceSearch(*result)) : Error(result.status()));
  });
}

void QueryApi::ListMetrics(HttpRequest req, Responder r) {
  auto query = ParseMetricListQuery(req.query);
  if (!query.ok()) return r.Send(Error(query.status()));
  store::Store* store = deps_.store;
  Run(r, [store, q = std::move(*query), r] {
    auto result = store->ListMetrics(q);
    r.Send(result.ok() ? Json(RenderMetricList(*result)) : Error(result.status()));
  });
}

void QueryApi::MetricSeries(HttpRequest req, Responder r) {
  std::string_view rest = std::string_view(req.path).substr(kMetricPrefix.size());
  if (!rest.ends_with(kSeriesSuffix) || rest.size() == kSeriesSuffix.size()) {
    return r.Send(Error(NotFound("no route for " + req.path +
                                 "; metric series are at /api/v1/metrics/{name}/series")));
  }
  std::string name;
  if (!PercentDecode(rest.substr(0, rest.size() - kSeriesSuffix.size()), false, &name)) {
    return r.Send(Error(InvalidArgument("metric name: malformed percent-encoding")));
  }
  auto query = ParseSeriesQuery(std::move(name), req.query, deps_.clock->NowUnixNanos());
  if (!query.ok()) return r.Send(Error(query.status()));
  store::Store* store = deps_.store;
  Run(r, [store, q = std::move(*query), r] {
    auto result = store->QuerySeries(q);
    if (!result.ok()) {
      if (result.status().code() == StatusCode::kNotFound) {
        return r.Send(Error(NotFound("metric '" + q.metric + "' not found")));
      }
      return r.Send(Error(result.status()));
    }
    r.Send(Json(RenderSeries(*result, q.function)));
  });
}

void QueryApi::SearchLogs(HttpRequest req, Responder r) {
  auto query = ParseLogQuery(req.query);
  if (!query.ok()) return r.Send(Error(query.status()));
  store::Store* store = deps_.store;
  Run(r, [store, q = std::move(*query), r] {
    auto result = store->SearchLogs(q);
    r.Send(result.ok() ? Json(RenderLogs(*result)) : Error(result.status()));
  });
}

void QueryApi::ServerStatusRoute(HttpRequest req, Responder r) {
  auto params = QueryParams::Parse(req.query);
  Status known = params.ok() ? params->CheckKnown({}) : params.status();
  if (!known.ok()) return r.Send(Error(known));
  ServerStatus status;
  status.version = deps_.version;
  status.start_unix_nanos = start_unix_nanos_;
  {
    std::lock_guard lock(mu_);
    status.endpoints = endpoints_;
  }
  if (deps_.pipeline_stats) status.pipeline = deps_.pipeline_stats();
  store::Store* store = deps_.store;
  const Clock* clock = deps_.clock;
  Run(r, [store, clock, status = std::move(status), r]() mutable {
    status.store = store->Stats();
    status.now_unix_nanos = clock->NowUnixNanos();
    r.Send(Json(RenderStatus(status)));
  });
}

void QueryApi::PrometheusMetrics(HttpRequest, Responder r) {
  metrics::Registry* registry = deps_.registry;
  // Collect callbacks may read the store size; keep them off the io threads too.
  Run(r, [registry, r] {
    HttpResponse resp = HttpResponse::WithBody(200, "text/plain; version=0.0.4; charset=utf-8",
                                               registry->Serialize());
    resp.headers.Set("Cache-Control", "no-store");
    r.Send(std::move(resp));
  });
}

void QueryApi::Healthz(HttpRequest, Responder r) { r.Send(Json("{\"status\":\"ok\"}")); }

void QueryApi::Readyz(HttpRequest, Responder r) {
  if (ready_.load()) return r.Send(Json("{\"status\":\"ready\"}"));
  HttpResponse resp = HttpResponse::Json(503, "{\"status\":\"not_ready\"}");
  resp.headers.Set("Cache-Control", "no-store");
  r.Send(std::move(resp));
}

}  // namespace avtrace::api
