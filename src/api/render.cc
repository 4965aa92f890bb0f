#include "api/render.h"

#include "ingest/json_writer.h"
#include "otlp/encode.h"

namespace avtrace::api {
namespace {

using ingest::JsonWriter;

// Inserts `fields` (already rendered as `"k":v,...`, no trailing comma) as the first members of
// the encoded JSON object `object`; `fallback_key` is added as an empty array if the object has
// no members (so the documented shape holds even for an empty encoding).
std::string SpliceFront(std::string_view fields, std::string_view object,
                        std::string_view fallback_key) {
  std::string out;
  out.reserve(object.size() + fields.size() + 32);
  size_t open = object.find('{');
  std::string_view rest =
      open == std::string_view::npos ? std::string_view("}") : object.substr(open + 1);
  size_t first = rest.find_first_not_of(" \t\r\n");
  out += '{';
  out += fields;
  if (first == std::string_view::npos || rest[first] == '}') {
    out += ",\"";
    out += fallback_key;
    out += "\":[]}";
    return out;
  }
  out += ',';
  out += rest;
  return out;
}

// Appends `fields` as the last members of the encoded JSON object `object`.
std::string SpliceBack(std::string_view object, std::string_view fields,
                       std::string_view fallback_key) {
  size_t close = object.rfind('}');
  std::string_view head =
      close == std::string_view::npos ? std::string_view("{") : object.substr(0, close);
  size_t last = head.find_last_not_of(" \t\r\n");
  std::string out(head);
  if (last == std::string_view::npos || head[last] == '{') {
    out = "{\"" + std::string(fallback_key) + "\":[]";
  }
  out += ',';
  out += fields;
  out += '}';
  return out;
}

void MetricInfoObject(JsonWriter& w, const store::MetricInfo& m) {
  w.BeginObject();
  w.Field("name", m.name);
  w.Field("description", m.description);
  w.Field("unit", m.unit);
  w.Field("type", MetricTypeName(m.type));
  w.Field("temporality", TemporalityName(m.temporality));
  w.FieldBool("monotonic", m.is_monotonic);
  w.FieldUint("seriesCount", m.series_count);
  w.Key("lastSeenUnixNano");
  w.UintString(m.last_seen_unix_nanos);
  w.EndObject();
}

bool HasCountAndSum(otlp::MetricType t) {
  return t == otlp::MetricType::kHistogram || t == otlp::MetricType::kExponentialHistogram ||
         t == otlp::MetricType::kSummary;
}

}  // namespace

std::string_view MetricTypeName(otlp::MetricType type) {
  switch (type) {
    case otlp::MetricType::kGauge:
      return "gauge";
    case otlp::MetricType::kSum:
      return "sum";
    case otlp::MetricType::kHistogram:
      return "histogram";
    case otlp::MetricType::kExponentialHistogram:
      return "exponential_histogram";
    case otlp::MetricType::kSummary:
      return "summary";
  }
  return "gauge";
}

std::string_view TemporalityName(otlp::Temporality t) {
  switch (t) {
    case otlp::Temporality::kUnspecified:
      return "unspecified";
    case otlp::Temporality::kDelta:
      return "delta";
    case otlp::Temporality::kCumulative:
      return "cumulative";
  }
  return "unspecified";
}

std::string RenderTrace(const otlp::TraceId& id, const otlp::Batch& trace) {
  std::string fields;
  JsonWriter w(&fields);
  w.Key("traceId");
  w.String(otlp::HexId(id));
  return SpliceFront(fields, otlp::EncodeJson(otlp::Signal::kTraces, trace), "resourceSpans");
}

std::string RenderTraceSearch(const store::TraceSearchResult& result) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("traces");
  w.BeginArray();
  for (const store::TraceSummary& t : result.traces) {
    w.BeginObject();
    w.Field("traceId", otlp::HexId(t.trace_id));
    w.Field("rootServiceName", t.root_service);
    w.Field("rootSpanName", t.root_span_name);
    w.Key("startTimeUnixNano");
    w.UintString(t.start_unix_nanos);
    w.Key("durationNanos");
    w.UintString(t.duration_nanos);
    w.FieldUint("spanCount", t.span_count);
    w.FieldUint("errorCount", t.error_count);
    w.Key("services");
    w.BeginArray();
    for (const std::string& s : t.services) w.String(s);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Field("nextCursor", result.next_cursor);
  w.EndObject();
  return out;
}

std::string RenderMetricList(const std::vector<store::MetricInfo>& metrics) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("metrics");
  w.BeginArray();
  for (const store::MetricInfo& m : metrics) MetricInfoObject(w, m);
  w.EndArray();
  w.EndObject();
  return out;
}

std::string RenderSeries(const store::SeriesResult& result, store::SeriesFunction function) {
  const bool count_and_sum =
      function == store::SeriesFunction::kRaw && HasCountAndSum(result.metric.type);
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("metric");
  MetricInfoObject(w, result.metric);
  w.Key("series");
  w.BeginArray();
  for (const store::Series& s : result.series) {
    w.BeginObject();
    w.Key("labels");
    w.BeginObject();
    for (const auto& [k, v] : s.labels) w.Field(k, v);
    w.EndObject();
    w.Key("points");
    w.BeginArray();
    for (const store::SeriesPoint& p : s.points) {
      w.BeginObject();
      w.Key("t");
      w.UintString(p.time_unix_nanos);
      w.Key("v");
      w.Double(p.value);
      if (count_and_sum) {
        w.FieldUint("count", p.count);
        w.Key("sum");
        w.Double(p.sum);
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.FieldBool("truncated", result.truncated);
  w.EndObject();
  return out;
}

std::string RenderLogs(const store::LogSearchResult& result) {
  std::string fields;
  JsonWriter w(&fields);
  w.Field("nextCursor", result.next_cursor);
  return SpliceBack(otlp::EncodeJson(otlp::Signal::kLogs, result.logs), fields, "resourceLogs");
}

std::string RenderStatus(const ServerStatus& s) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Field("version", s.version);
  w.Key("startTimeUnixNano");
  w.UintString(s.start_unix_nanos);
  w.Key("uptimeSeconds");
  w.Double(s.now_unix_nanos > s.start_unix_nanos
               ? static_cast<double>((s.now_unix_nanos - s.start_unix_nanos) / 1'000'000) / 1e3
               : 0.0);
  w.Key("endpoints");
  w.BeginObject();
  for (const auto& [name, address] : s.endpoints) w.Field(name, address);
  w.EndObject();
  w.Key("store");
  w.BeginObject();
  if (s.store.ok()) {
    const store::StoreStats& st = *s.store;
    w.FieldUint("spans", st.spans);
    w.FieldUint("metricPoints", st.metric_points);
    w.FieldUint("metricSeries", st.metric_series);
    w.FieldUint("logs", st.logs);
    w.FieldUint("sizeBytes", st.size_bytes);
    w.FieldUint("unindexedSpans", st.unindexed_spans);
  } else {
    w.Field("error", s.store.status().ToString());
  }
  w.EndObject();
  if (s.pipeline) {
    const pipeline::PipelineStats& p = *s.pipeline;
    w.Key("pipeline");
    w.BeginObject();
    w.FieldUint("queuedItems", p.queued_items);
    w.FieldUint("queuedBytes", p.queued_bytes);
    w.FieldUint("committedItems", p.committed_items);
    w.FieldUint("commits", p.commits);
    w.Key("drainItemsPerSecond");
    w.Double(p.drain_items_per_second);
    w.EndObject();
  }
  w.EndObject();
  return out;
}

}  // namespace avtrace::api
