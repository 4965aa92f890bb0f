#pragma once
// Test helpers for the OTLP module: batches that use every field and every AnyValue type,
// protobuf request builders for hand-made (often broken) inputs, and file reading.
// Header-only; included by *_test.cc only.

#include <cmath>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <string>

#include "otlp/attributes.h"
#include "otlp/decode.h"
#include "otlp/dump.h"
#include "otlp/encode.h"
#include "otlp/model.h"
#include "otlp/wire.h"

namespace avtrace::otlp::testing {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline std::string DataPath(const std::string& name) {
  return std::string(AVTRACE_SOURCE_DIR) + "/test/data/otlp/" + name;
}

template <size_t N>
std::array<uint8_t, N> MakeId(uint8_t seed) {
  std::array<uint8_t, N> id{};
  for (size_t i = 0; i < N; ++i) id[i] = static_cast<uint8_t>(seed + i * 17 + 1);
  return id;
}

// An attribute list with every AnyValue type, nested arrays and kvlists included.
inline std::string AllTypesAttributes(std::string_view prefix) {
  std::string enc;
  AttrWriter w(&enc);
  std::string p(prefix);
  w.String(p + "str", "value ünïcödé 🎬 \"quoted\" \\ \n\t");
  w.String(p + "empty", "");
  w.Bool(p + "true", true);
  w.Bool(p + "false", false);
  w.Int(p + "int", 42);
  w.Int(p + "negative", -9007199254740993LL);
  w.Int(p + "max", std::numeric_limits<int64_t>::max());
  w.Int(p + "min", std::numeric_limits<int64_t>::min());
  w.Double(p + "double", 0.1);
  w.Double(p + "negzero", -0.0);
  w.Double(p + "big", 1e300);
  w.Double(p + "nan", std::nan(""));
  w.Double(p + "inf", std::numeric_limits<double>::infinity());
  w.Double(p + "-inf", -std::numeric_limits<double>::infinity());
  w.Bytes(p + "bytes", std::string("\x00\x01\xfe\xff", 4));
  w.Bytes(p + "bytes1", "x");
  std::string elems;
  AppendArrayElement(&elems, EncodeStringValue("a"));
  AppendArrayElement(&elems, EncodeIntValue(-1));
  AppendArrayElement(&elems, EncodeDoubleValue(2.5));
  AppendArrayElement(&elems, EncodeBoolValue(true));
  AppendArrayElement(&elems, EncodeBytesValue("zz"));
  AppendArrayElement(&elems, "");  // an empty AnyValue
  std::string inner_kv;
  AttrWriter(&inner_kv).String("deep", "yes");
  AppendArrayElement(&elems, EncodeKvListValue(inner_kv));
  std::string inner_arr;
  AppendArrayElement(&inner_arr, EncodeIntValue(7));
  AppendArrayElement(&elems, EncodeArrayValue(inner_arr));
  w.Raw(p + "array", EncodeArrayValue(elems));
  w.Raw(p + "empty_array", EncodeArrayValue(""));
  std::string kvs;
  AttrWriter kw(&kvs);
  kw.String("k", "v");
  kw.Int("n", 3);
  kw.Raw("list", EncodeArrayValue(elems));
  kw.Raw("nothing", "");
  w.Raw(p + "map", EncodeKvListValue(kvs));
  w.Raw(p + "empty_map", EncodeKvListValue(""));
  w.Raw(p + "no_value", "");
  w.String("", "empty key");
  return enc;
}

inline AttrList Attrs(Batch& b, const std::string& encoded) {
  uint32_t n = 0;
  (void)VisitAttributes(encoded, [&](std::string_view, const ValueView&) { ++n; });
  return AttrList{b.arena.Copy(encoded), n};
}
inline AttrList SimpleAttrs(Batch& b, std::string_view key, std::string_view value) {
  std::string enc;
  AttrWriter(&enc).String(key, value);
  return Attrs(b, enc);
}

inline void AddResourcesAndScopes(Batch& b) {
  Resource r0;
  r0.attributes = Attrs(b, AllTypesAttributes("res."));
  r0.dropped_attributes_count = 3;
  r0.schema_url = b.arena.Copy("https://opentelemetry.io/schemas/1.26.0");
  b.resources.push_back(r0);
  Resource r1;
  r1.attributes = SimpleAttrs(b, "service.name", "second");
  b.resources.push_back(r1);
  Scope s0;
  s0.name = b.arena.Copy("scope.zero");
  s0.version = b.arena.Copy("1.0.0");
  s0.attributes = SimpleAttrs(b, "scope.attr", "x");
  s0.dropped_attributes_count = 1;
  s0.schema_url = b.arena.Copy("https://example.com/scope-schema");
  b.scopes.push_back(s0);
  Scope s1;
  s1.name = b.arena.Copy("scope.one");
  b.scopes.push_back(s1);
  b.scopes.push_back(Scope{});  // an anonymous scope
}

// Spans under (resource, scope) = (0,0), (0,1), (1,2), every field set somewhere.
inline Batch MakeTraceBatch() {
  Batch b;
  AddResourcesAndScopes(b);
  Span s;
  s.trace_id = MakeId<16>(1);
  s.span_id = MakeId<8>(2);
  s.parent_span_id = MakeId<8>(3);
  s.trace_state = b.arena.Copy("vendor=abc,cdn=edge-7");
  s.flags = 0x301;
  s.name = b.arena.Copy("segment.fetch");
  s.kind = SpanKind::kClient;
  s.start_time_unix_nano = 1795446817857000000ull;
  s.end_time_unix_nano = 1795446817857377684ull;
  s.attributes = Attrs(b, AllTypesAttributes("span."));
  s.dropped_attributes_count = 4;
  SpanEvent e1;
  e1.time_unix_nano = 1795446817857150465ull;
  e1.name = b.arena.Copy("retry");
  e1.attributes = Attrs(b, AllTypesAttributes("ev."));
  e1.dropped_attributes_count = 2;
  s.events.push_back(e1);
  SpanEvent e2;
  e2.name = b.arena.Copy("timeout");
  s.events.push_back(e2);
  s.dropped_events_count = 5;
  SpanLink l1;
  l1.trace_id = MakeId<16>(9);
  l1.span_id = MakeId<8>(10);
  l1.trace_state = b.arena.Copy("other=1");
  l1.attributes = SimpleAttrs(b, "link.kind", "foreign");
  l1.dropped_attributes_count = 1;
  l1.flags = 0x101;
  s.links.push_back(l1);
  s.links.push_back(SpanLink{});  // a link with absent ids
  s.dropped_links_count = 6;
  s.status_code = SpanStatusCode::kError;
  s.status_message = b.arena.Copy("HTTP 503 from edge-1");
  b.spans.push_back(s);

  for (int k = 0; k <= 5; ++k) {
    Span t;
    t.trace_id = MakeId<16>(20);
    t.span_id = MakeId<8>(static_cast<uint8_t>(30 + k));
    t.name = b.arena.Copy("kind." + std::to_string(k));
    t.kind = static_cast<SpanKind>(k);
    t.status_code = static_cast<SpanStatusCode>(k % 3);
    t.start_time_unix_nano = 1;
    t.end_time_unix_nano = std::numeric_limits<uint64_t>::max();
    t.scope_index = k % 2;
    b.spans.push_back(t);
  }
  Span u;
  u.trace_id = MakeId<16>(40);
  u.span_id = MakeId<8>(41);
  u.name = b.arena.Copy("other resource");
  u.resource_index = 1;
  u.scope_index = 2;
  b.spans.push_back(u);
  return b;
}

inline Batch MakeMetricsBatch() {
  Batch b;
  AddResourcesAndScopes(b);
  auto add_metric = [&](const char* name, MetricType type, Temporality t, bool mono, uint32_t r,
                        uint32_t s) {
    Metric m;
    m.name = b.arena.Copy(name);
    m.description = b.arena.Copy(std::string("about ") + name);
    m.unit = b.arena.Copy("ms");
    m.type = type;
    m.temporality = t;
    m.is_monotonic = mono;
    m.resource_index = r;
    m.scope_index = s;
    b.metrics.push_back(m);
    return static_cast<uint32_t>(b.metrics.size() - 1);
  };
  uint32_t gauge =
      add_metric("player.buffer", MetricType::kGauge, Temporality::kUnspecified, false, 0, 0);
  b.metrics[gauge].metadata = SimpleAttrs(b, "meta.key", "meta value");
  uint32_t sum =
      add_metric("player.stalls", MetricType::kSum, Temporality::kCumulative, true, 0, 0);
  uint32_t updown =
      add_metric("player.inflight", MetricType::kSum, Temporality::kDelta, false, 0, 1);
  uint32_t hist =
      add_metric("player.ttff", MetricType::kHistogram, Temporality::kCumulative, false, 0, 1);
  uint32_t exp = add_metric("player.latency", MetricType::kExponentialHistogram,
                            Temporality::kDelta, false, 1, 2);
  uint32_t summary =
      add_metric("player.summary", MetricType::kSummary, Temporality::kUnspecified, false, 1, 2);

  MetricPoint g1;
  g1.metric_index = gauge;
  g1.attributes = Attrs(b, AllTypesAttributes("pt."));
  g1.start_time_unix_nano = 10;
  g1.time_unix_nano = 20;
  g1.value_kind = NumberKind::kDouble;
  g1.as_double = 6.5;
  Exemplar ex;
  ex.filtered_attributes = SimpleAttrs(b, "ex", "1");
  ex.time_unix_nano = 15;
  ex.value_kind = NumberKind::kDouble;
  ex.as_double = 0.0;
  ex.span_id = MakeId<8>(50);
  ex.trace_id = MakeId<16>(51);
  g1.exemplars.push_back(ex);
  Exemplar ex2;
  ex2.value_kind = NumberKind::kInt;
  ex2.as_int = -12;
  g1.exemplars.push_back(ex2);
  g1.exemplars.push_back(Exemplar{});  // no value, no ids
  b.points.push_back(g1);
  MetricPoint g2;
  g2.metric_index = gauge;
  g2.value_kind = NumberKind::kDouble;
  g2.as_double = std::nan("");
  b.points.push_back(g2);
  MetricPoint g3;
  g3.metric_index = gauge;
  g3.flags = 1;  // no recorded value
  b.points.push_back(g3);

  MetricPoint s1;
  s1.metric_index = sum;
  s1.value_kind = NumberKind::kInt;
  s1.as_int = std::numeric_limits<int64_t>::min();
  s1.time_unix_nano = std::numeric_limits<uint64_t>::max();
  b.points.push_back(s1);
  MetricPoint s2;
  s2.metric_index = updown;
  s2.value_kind = NumberKind::kInt;
  s2.as_int = 0;
  b.points.push_back(s2);

  MetricPoint h;
  h.metric_index = hist;
  h.count = 5;
  h.has_sum = true;
  h.sum = 2397.5;
  h.has_min = true;
  h.min = 42;
  h.has_max = true;
  h.max = 1800;
  h.explicit_bounds = {0, 5, 10, 25.5, 1e9};
  h.bucket_counts = {0, 1, 0, 3, 1, std::numeric_limits<uint64_t>::max()};
  h.flags = 0;
  b.points.push_back(h);
  MetricPoint h2;  // no buckets at all, no sum
  h2.metric_index = hist;
  h2.count = 0;
  b.points.push_back(h2);

  MetricPoint e;
  e.metric_index = exp;
  e.count = 7;
  e.has_sum = true;
  e.sum = 4.311;
  e.has_min = true;
  e.min = -0.0;
  e.scale = -3;
  e.zero_count = 1;
  e.zero_threshold = 1e-9;
  e.positive.offset = -27;
  e.positive.bucket_counts = {1, 0, 300, 1ull << 40};
  e.negative.offset = 5;
  e.negative.bucket_counts = {2};
  e.exemplars.push_back(ex);
  b.points.push_back(e);

  MetricPoint q;
  q.metric_index = summary;
  q.count = 100;
  q.has_sum = true;
  q.sum = 12.75;
  q.quantile_values = {{0, 0.5}, {0.5, 1.25}, {0.99, 9.5}, {1, 10}};
  q.flags = 1;
  b.points.push_back(q);
  return b;
}

inline Batch MakeLogsBatch() {
  Batch b;
  AddResourcesAndScopes(b);
  auto body = [&](const std::string& encoded) { return b.arena.Copy(encoded); };
  LogRecord l;
  l.time_unix_nano = 1795446817863000000ull;
  l.observed_time_unix_nano = 1795446817863000001ull;
  l.severity_number = 17;
  l.severity_text = b.arena.Copy("ERROR");
  std::string kvs = AllTypesAttributes("body.");
  l.body = body(EncodeKvListValue(kvs));
  l.attributes = Attrs(b, AllTypesAttributes("log."));
  l.dropped_attributes_count = 2;
  l.flags = 1;
  l.trace_id = MakeId<16>(60);
  l.span_id = MakeId<8>(61);
  l.event_name = b.arena.Copy("player.stall");
  b.logs.push_back(l);
  const std::string bodies[] = {EncodeStringValue("playback started"),
                                EncodeIntValue(42),
                                EncodeDoubleValue(-1.5),
                                EncodeBoolValue(false),
                                EncodeBytesValue(std::string("\xde\xad\xbe\xef", 4)),
                                EncodeStringValue("")};
  uint32_t k = 0;
  for (const std::string& bb : bodies) {
    LogRecord m;
    m.body = body(bb);
    m.severity_number = static_cast<int32_t>(k * 4);
    m.scope_index = k % 2;
    ++k;
    b.logs.push_back(m);
  }
  std::string elems;
  AppendArrayElement(&elems, EncodeStringValue("a"));
  AppendArrayElement(&elems, EncodeKvListValue(kvs));
  LogRecord arr;
  arr.body = body(EncodeArrayValue(elems));
  arr.resource_index = 1;
  arr.scope_index = 2;
  arr.severity_number = -3;  // out of the enum's range, still an int32
  b.logs.push_back(arr);
  LogRecord empty;  // no body at all
  empty.time_unix_nano = 5;
  empty.resource_index = 1;
  empty.scope_index = 2;
  b.logs.push_back(empty);
  return b;
}

// The shape of a player / CDN trace export: `spans` client spans with ~10 attributes each, a
// quarter with an event. Used by the throughput test and decode_bench.cc.
inline Batch TypicalTraceBatch(int spans) {
  Batch b;
  std::string res;
  AttrWriter rw(&res);
  rw.String("service.name", "player-web");
  rw.String("service.version", "4.2.0");
  rw.String("deployment.environment.name", "production");
  rw.String("telemetry.sdk.language", "webjs");
  b.resources.push_back(Resource{Attrs(b, res), 0, ""});
  Scope scope;
  scope.name = "avtrace.player";
  scope.version = "1.0.0";
  b.scopes.push_back(scope);
  for (int i = 0; i < spans; ++i) {
    Span s;
    s.trace_id = MakeId<16>(static_cast<uint8_t>(i / 10 + 1));
    s.span_id = MakeId<8>(static_cast<uint8_t>(i + 1));
    if (i % 10) s.parent_span_id = MakeId<8>(static_cast<uint8_t>(i - i % 10 + 1));
    s.name = i % 3 ? "segment.fetch" : "manifest.fetch";
    s.kind = SpanKind::kClient;
    s.start_time_unix_nano = 1795446817857000000ull + i * 1000000ull;
    s.end_time_unix_nano = s.start_time_unix_nano + 35000000ull;
    std::string attrs;
    AttrWriter a(&attrs);
    a.String("http.request.method", "GET");
    a.String("url.full", "https://edge-" + std::to_string(i % 4) +
                             ".cdn.example.com/live/stream42/720p/segment_" +
                             std::to_string(1000 + i) + ".m4s");
    a.Int("http.response.status_code", 200);
    a.Int("http.response.body.size", 812345 + i);
    a.String("server.address", "edge-" + std::to_string(i % 4) + ".cdn.example.com");
    a.String("cdn.pop", "fra" + std::to_string(i % 3));
    a.String("media.rendition", "720p");
    a.Double("media.segment.duration_s", 2.002);
    a.Bool("cache.hit", i % 5 != 0);
    a.String("session.id", "c0ffee-" + std::to_string(i / 10));
    s.attributes = Attrs(b, attrs);
    if (i % 4 == 0) {
      SpanEvent e;
      e.time_unix_nano = s.start_time_unix_nano + 1000;
      e.name = "first.byte";
      std::string ea;
      AttrWriter(&ea).Int("ttfb_ms", 12);
      e.attributes = Attrs(b, ea);
      s.events.push_back(e);
    }
    b.spans.push_back(s);
  }
  return b;
}

inline Batch MakeBatch(Signal s) {
  switch (s) {
    case Signal::kTraces: return MakeTraceBatch();
    case Signal::kMetrics: return MakeMetricsBatch();
    case Signal::kLogs: return MakeLogsBatch();
  }
  return Batch{};
}

// Decodes `body` (copied into a fresh batch's arena) with the proto or JSON decoder.
struct Decoded {
  Status status;
  Batch batch;
  DecodeOutcome outcome;
};
inline Decoded DecodeWith(bool json, Signal s, std::string_view body) {
  Decoded d;
  std::string_view owned = d.batch.arena.Adopt(std::string(body));
  d.status = json ? DecodeJson(s, owned, &d.batch, &d.outcome)
                  : DecodeProto(s, owned, &d.batch, &d.outcome);
  return d;
}

// Protobuf request builders: wrap one item (built by `item`) into resource/scope envelopes.
using Build = std::function<void(WireWriter&)>;
inline std::string Request(const Build& item) {
  std::string out;
  WireWriter w(&out);
  w.Message(1, [&](WireWriter& r) {
    r.Message(2, [&](WireWriter& s) { s.Message(2, [&](WireWriter& i) { item(i); }); });
  });
  return out;
}
inline void ValidSpanIds(WireWriter& w) {
  w.BytesField(1, std::string(16, '\x11'));
  w.BytesField(2, std::string(8, '\x22'));
}

}  // namespace avtrace::otlp::testing
