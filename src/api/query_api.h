#pragma once
// QueryApi: the REST routes of the http port (docs/API.md): trace lookup and search, metric
// catalogue and series, log search, server status, Prometheus /metrics, /healthz and /readyz.
// JSON everywhere; errors are {"error":{"code":"invalid_argument","message":"..."}} with the
// status from core ToHttpStatus, and messages name the parameter and the expected form.
//
// Request flow: the handler (on an io thread) parses and validates the query string, then hands
// the store call to `run_query` so that a slow query never holds an io thread that OTLP ingest
// also needs; the store call and the rendering run there and answer through the Responder.
// `run_query` returns false when its queue is full: the answer is then 503 with Retry-After.
// An empty `run_query` runs queries inline (tests).
//
// Ownership: every pointer in QueryApiDeps is borrowed and must outlive the QueryApi and any
// query still queued in `run_query`. The QueryApi must outlive the router it registered on.
// Threads: handlers run on io threads, queries on the runner's threads; the store's read
// methods are thread-safe (store.h). SetReady/SetEndpoints are thread-safe.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/render.h"
#include "core/clock.h"
#include "ingest/http_types.h"
#include "ingest/router.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

namespace avtrace::metrics {
class Registry;
}

namespace avtrace::api {

// Runs `work` somewhere; false if it cannot be accepted now (overloaded).
using QueryRunner = std::function<bool(std::function<void()> work)>;

struct QueryApiDeps {
  store::Store* store = nullptr;
  metrics::Registry* registry = nullptr;
  const Clock* clock = nullptr;
  std::string version = "dev";
  // Pipeline statistics for /api/v1/status; empty when there is no pipeline.
  std::function<pipeline::PipelineStats()> pipeline_stats;
  QueryRunner run_query;
};

class QueryApi {
 public:
  explicit QueryApi(QueryApiDeps deps);

  void RegisterRoutes(ingest::Router* router);

  // /readyz answers 200 only while ready (set once listening, cleared when shutdown begins).
  void SetReady(bool ready) { ready_.store(ready); }
  // The bound addresses reported by /api/v1/status.
  void SetEndpoints(std::vector<std::pair<std::string, std::string>> endpoints);

  // Handlers, public for tests.
  void GetTrace(ingest::HttpRequest req, ingest::Responder r);
  void SearchTraces(ingest::HttpRequest req, ingest::Responder r);
  void ListMetrics(ingest::HttpRequest req, ingest::Responder r);
  void MetricSeries(ingest::HttpRequest req, ingest::Responder r);
  void SearchLogs(ingest::HttpRequest req, ingest::Responder r);
  void ServerStatusRoute(ingest::HttpRequest req, ingest::Responder r);
  void PrometheusMetrics(ingest::HttpRequest req, ingest::Responder r);
  void Healthz(ingest::HttpRequest req, ingest::Responder r);
  void Readyz(ingest::HttpRequest req, ingest::Responder r);

 private:
  // Runs `work` via run_query (or inline), answering 503 if it is refused.
  void Run(const ingest::Responder& r, std::function<void()> work);

  QueryApiDeps deps_;
  uint64_t start_unix_nanos_;
  std::atomic<bool> ready_{false};
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> endpoints_;  // guarded by mu_
};

// Query parsing, exposed for tests: the store query a request's parameters describe.
Result<store::TraceQuery> ParseTraceQuery(std::string_view query_string);
Result<store::LogQuery> ParseLogQuery(std::string_view query_string);
Result<store::MetricListQuery> ParseMetricListQuery(std::string_view query_string);
// `metric` is the percent-decoded name from the path; `now` fills default times.
Result<store::SeriesQuery> ParseSeriesQuery(std::string metric, std::string_view query_string,
                                            uint64_t now_unix_nanos);
// "raw", "rate", ... as in SeriesFunction.
bool ParseSeriesFunction(std::string_view name, store::SeriesFunction* out);
// Severity number 0..24 or a name: trace, debug, info, warn, error, fatal (any case).
bool ParseSeverity(std::string_view text, int32_t* out);

}  // namespace avtrace::api
