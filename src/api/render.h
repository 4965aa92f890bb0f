#pragma once
// JSON rendering of query results for the REST API (docs/API.md shows every shape).
//
// Conventions: keys are lowerCamelCase; Unix-nanosecond times and other 64-bit quantities that
// can pass 2^53 are decimal strings (as in OTLP/JSON, since JavaScript numbers lose precision);
// counts are numbers; ids are lowercase hex; a non-finite value is null. Stored traces and log
// records are rendered as OTLP/JSON by otlp::EncodeJson so the API and the receivers speak one
// format.
//
// Threads: pure functions. Errors: none.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "otlp/model.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

namespace avtrace::api {

std::string_view MetricTypeName(otlp::MetricType type);  // "gauge", "sum", "histogram", ...
std::string_view TemporalityName(otlp::Temporality t);   // "delta", "cumulative", "unspecified"

// {"traceId":"…","resourceSpans":[…]}
std::string RenderTrace(const otlp::TraceId& id, const otlp::Batch& trace);
// {"traces":[{…}],"nextCursor":"…"}
std::string RenderTraceSearch(const store::TraceSearchResult& result);
// {"metrics":[{…}]}
std::string RenderMetricList(const std::vector<store::MetricInfo>& metrics);
// {"metric":{…},"series":[{"labels":{…},"points":[{"t":"…","v":…}]}],"truncated":false}
// Points carry "count" and "sum" too for raw histogram and summary series.
std::string RenderSeries(const store::SeriesResult& result, store::SeriesFunction function);
// {"resourceLogs":[…],"nextCursor":"…"}
std::string RenderLogs(const store::LogSearchResult& result);

struct ServerStatus {
  std::string version;
  uint64_t start_unix_nanos = 0;
  uint64_t now_unix_nanos = 0;
  Result<store::StoreStats> store = store::StoreStats{};
  std::optional<pipeline::PipelineStats> pipeline;
  std::vector<std::pair<std::string, std::string>>
      endpoints;  // e.g. {"otlpHttp", "127.0.0.1:4318"}
};
// {"version":"…","uptimeSeconds":…,"startTimeUnixNano":"…","endpoints":{…},"store":{…},
//  "pipeline":{…}}; a store that cannot report is {"error":"…"}.
std::string RenderStatus(const ServerStatus& status);

}  // namespace avtrace::api
