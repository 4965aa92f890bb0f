// Real OTLP bodies from the OpenTelemetry JS SDK (test/tools/capture_otlp.mjs): the protobuf and
// JSON exporters were attached to the same providers, so each .pb / .json pair describes the same
// data. Checked three ways: both decode cleanly, both give the same canonical dump, and the proto
// decode agrees with protoc's independent `--decode_raw` rendering of the same bytes.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "otlp/otlp_testing.h"

namespace avtrace::otlp {
namespace {

using testing::DataPath;
using testing::Decoded;
using testing::DecodeWith;
using testing::ReadFile;

// ---- a reader for `protoc --decode_raw` output -------------------------------------------------
struct RawNode {
  int field = 0;
  bool message = false;
  std::string value;  // leaf text as printed (quoted strings keep their quotes)
  std::vector<std::unique_ptr<RawNode>> children;

  std::vector<const RawNode*> All(int f) const {
    std::vector<const RawNode*> out;
    for (const auto& c : children)
      if (c->field == f) out.push_back(c.get());
    return out;
  }
  const RawNode* Last(int f) const {
    const RawNode* out = nullptr;
    for (const auto& c : children)
      if (c->field == f) out = c.get();
    return out;
  }
};

std::unique_ptr<RawNode> ParseDecodeRaw(const std::string& text) {
  auto root = std::make_unique<RawNode>();
  root->message = true;
  std::vector<RawNode*> stack{root.get()};
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t b = line.find_first_not_of(' ');
    if (b == std::string::npos) continue;
    line = line.substr(b);
    if (line == "}") {
      stack.pop_back();
      continue;
    }
    auto node = std::make_unique<RawNode>();
    if (line.size() > 2 && line.compare(line.size() - 2, 2, " {") == 0) {
      node->field = std::stoi(line.substr(0, line.size() - 2));
      node->message = true;
      RawNode* raw = node.get();
      stack.back()->children.push_back(std::move(node));
      stack.push_back(raw);
      continue;
    }
    size_t colon = line.find(": ");
    node->field = std::stoi(line.substr(0, colon));
    node->value = line.substr(colon + 2);
    stack.back()->children.push_back(std::move(node));
  }
  return root;
}

// protoc prints strings C-escaped: \n \t \" \\ and octal for everything else.
std::optional<std::string> RawString(const RawNode* n) {
  if (!n || n->message || n->value.size() < 2 || n->value.front() != '"') return std::nullopt;
  std::string_view v(n->value);
  v = v.substr(1, v.size() - 2);
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\') {
      out += v[i];
      continue;
    }
    char c = v[++i];
    if (c >= '0' && c <= '7') {
      int x = 0, k = 0;
      while (k < 3 && i < v.size() && v[i] >= '0' && v[i] <= '7') x = x * 8 + (v[i++] - '0'), ++k;
      --i;
      out += static_cast<char>(x);
    } else {
      out += c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
    }
  }
  return out;
}
uint64_t RawNumber(const RawNode* n) {
  if (!n) return 0;
  return std::stoull(n->value, nullptr, n->value.rfind("0x", 0) == 0 ? 16 : 10);
}

std::vector<std::string> Keys(const AttrList& list) {
  std::vector<std::string> keys;
  EXPECT_TRUE(VisitAttributes(list.encoded, [&](std::string_view k, const ValueView&) {
                keys.emplace_back(k);
              }).ok());
  return keys;
}
// Attribute keys of the KeyValue entries with field number `f` under `n`; nullopt if protoc
// happened to render one of them as a nested message (it guesses).
std::optional<std::vector<std::string>> RawKeys(const RawNode& n, int f) {
  std::vector<std::string> keys;
  for (const RawNode* kv : n.All(f)) {
    auto key = RawString(kv->Last(1));
    if (!kv->message || !key) return std::nullopt;
    keys.push_back(*key);
  }
  return keys;
}

struct Pair {
  Decoded pb;
  Decoded json;
};
Pair DecodePair(Signal s) {
  std::string name = std::string("js_") + std::string(SignalName(s));
  std::string pb = ReadFile(DataPath(name + ".pb"));
  std::string json = ReadFile(DataPath(name + ".json"));
  EXPECT_FALSE(pb.empty()) << "missing " << DataPath(name + ".pb");
  EXPECT_FALSE(json.empty()) << "missing " << DataPath(name + ".json");
  return {DecodeWith(false, s, pb), DecodeWith(true, s, json)};
}

TEST(CapturedPayloads, ProtoAndJsonDecodeToTheSameBatch) {
  for (Signal s : {Signal::kTraces, Signal::kMetrics, Signal::kLogs}) {
    SCOPED_TRACE(std::string(SignalName(s)));
    Pair p = DecodePair(s);
    ASSERT_TRUE(p.pb.status.ok()) << p.pb.status.ToString();
    ASSERT_TRUE(p.json.status.ok()) << p.json.status.ToString();
    EXPECT_EQ(p.pb.outcome.rejected, 0) << p.pb.outcome.error_message;
    EXPECT_EQ(p.json.outcome.rejected, 0) << p.json.outcome.error_message;
    EXPECT_GT(p.pb.batch.ItemCount(), 0u);
    if (s == Signal::kMetrics) {
      // Each reader collected on its own, so point timestamps may differ by a few ms.
      for (Batch* b : {&p.pb.batch, &p.json.batch}) {
        for (MetricPoint& pt : b->points) pt.start_time_unix_nano = pt.time_unix_nano = 0;
      }
    }
    EXPECT_EQ(CanonicalDump(s, p.pb.batch), CanonicalDump(s, p.json.batch));
    // Our own encodings of the captured data decode back to the same thing.
    auto again = DecodeWith(false, s, EncodeProto(s, p.json.batch));
    ASSERT_TRUE(again.status.ok());
    EXPECT_EQ(CanonicalDump(s, again.batch), CanonicalDump(s, p.json.batch));
    auto again_json = DecodeWith(true, s, EncodeJson(s, p.pb.batch));
    ASSERT_TRUE(again_json.status.ok());
    EXPECT_EQ(CanonicalDump(s, again_json.batch), CanonicalDump(s, p.pb.batch));
  }
}

TEST(CapturedPayloads, TracesHaveWhatTheScriptEmitted) {
  auto d = DecodePair(Signal::kTraces).pb;
  ASSERT_TRUE(d.status.ok());
  const Batch& b = d.batch;
  ASSERT_EQ(b.spans.size(), 5u);
  std::map<std::string, const Span*> by_name;
  for (const Span& s : b.spans) by_name[std::string(s.name)] = &s;
  const Span* session = by_name.at("session.start");
  EXPECT_EQ(session->kind, SpanKind::kServer);
  EXPECT_EQ(HexId(session->trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(HexId(session->parent_span_id), "00f067aa0ba902b7");
  EXPECT_EQ(session->trace_state, "vendor=abc,cdn=edge-7");
  ValueView v;
  ASSERT_TRUE(FindAttribute(session->attributes.encoded, "unicode.text", &v));
  EXPECT_EQ(v.bytes, "Grüße, 世界 🎬");
  ASSERT_TRUE(FindAttribute(session->attributes.encoded, "rendition.heights", &v));
  EXPECT_EQ(ValueToText(v), "[240,360,720,1080]");
  ASSERT_TRUE(FindAttribute(session->attributes.encoded, "player.volume", &v));
  EXPECT_EQ(v.type, ValueType::kDouble);
  ASSERT_TRUE(FindAttribute(session->attributes.encoded, "flags.seen", &v));
  EXPECT_EQ(ValueToText(v), "[true,false,true]");
  const Span* fetch = by_name.at("segment.fetch");
  EXPECT_EQ(fetch->kind, SpanKind::kClient);
  EXPECT_EQ(fetch->status_code, SpanStatusCode::kError);
  EXPECT_EQ(fetch->status_message, "HTTP 503 from edge-1");
  ASSERT_EQ(fetch->events.size(), 3u);
  EXPECT_EQ(fetch->events[2].name, "exception");
  const Span* consume = by_name.at("beacon.consume");
  EXPECT_EQ(consume->kind, SpanKind::kConsumer);
  ASSERT_EQ(consume->links.size(), 2u);
  EXPECT_EQ(HexId(consume->links[1].trace_id), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(consume->links[1].trace_state, "other=1");
  const Span* abr = by_name.at("abr.decide");
  EXPECT_EQ(abr->status_code, SpanStatusCode::kOk);
  EXPECT_EQ(abr->attributes.count, 16u);
  EXPECT_EQ(abr->dropped_attributes_count, 4u);
  EXPECT_EQ(by_name.at("beacon.publish")->kind, SpanKind::kProducer);
  EXPECT_EQ(b.resources.size(), 1u);
  EXPECT_EQ(b.resources[0].schema_url, "https://opentelemetry.io/schemas/1.26.0");
  EXPECT_EQ(b.scopes[0].name, "avtrace.capture");
  EXPECT_EQ(b.scopes[0].version, "1.2.3");
}

TEST(CapturedPayloads, MetricsHaveEveryInstrument) {
  auto d = DecodePair(Signal::kMetrics).pb;
  ASSERT_TRUE(d.status.ok());
  std::map<std::string, const Metric*> by_name;
  for (const Metric& m : d.batch.metrics) by_name[std::string(m.name)] = &m;
  EXPECT_EQ(by_name.at("player.stalls")->type, MetricType::kSum);
  EXPECT_TRUE(by_name.at("player.stalls")->is_monotonic);
  EXPECT_EQ(by_name.at("player.stalls")->temporality, Temporality::kCumulative);
  EXPECT_FALSE(by_name.at("player.requests.inflight")->is_monotonic);
  EXPECT_EQ(by_name.at("player.ttff")->type, MetricType::kHistogram);
  EXPECT_EQ(by_name.at("player.segment.latency")->type, MetricType::kExponentialHistogram);
  EXPECT_EQ(by_name.at("player.buffer")->type, MetricType::kGauge);
  EXPECT_EQ(by_name.at("player.frames.dropped")->type, MetricType::kSum);
  for (const MetricPoint& p : d.batch.points) {
    const Metric& m = d.batch.metrics[p.metric_index];
    if (m.type == MetricType::kHistogram) {
      EXPECT_EQ(p.bucket_counts.size(), p.explicit_bounds.size() + 1);
      EXPECT_EQ(p.count, 5u);
    }
    if (m.type == MetricType::kExponentialHistogram) {
      EXPECT_EQ(p.count, 6u);
      EXPECT_EQ(p.zero_count, 1u);
      EXPECT_FALSE(p.positive.bucket_counts.empty());
    }
    if (m.name == "player.frames.dropped") {
      EXPECT_EQ(p.value_kind, NumberKind::kInt);
      EXPECT_EQ(p.as_int, 17);
    }
  }
}

TEST(CapturedPayloads, LogsHaveEveryBodyType) {
  auto d = DecodePair(Signal::kLogs).pb;
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.batch.logs.size(), 4u);
  std::vector<std::string> bodies;
  for (const LogRecord& l : d.batch.logs) {
    ValueView v;
    const char* err = nullptr;
    ASSERT_TRUE(ParseAnyValue(l.body, &v, &err));
    bodies.push_back(ValueToText(v));
  }
  EXPECT_EQ(bodies[0], "playback started");
  EXPECT_EQ(bodies[1],
            "{\"event\":\"stall\",\"durations\":[1.5,2,\"long\"],\"nested\":{\"ok\":false,"
            "\"count\":3}}");
  EXPECT_EQ(bodies[2], "42");
  EXPECT_EQ(bodies[3], "\"3q2+7w==\"");
  EXPECT_EQ(d.batch.logs[1].severity_number, 17);
  EXPECT_EQ(HexId(d.batch.logs[1].trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(d.batch.logs[1].flags, 1u);
  EXPECT_EQ(d.batch.logs[2].event_name, "player.rendition_switch");
  EXPECT_EQ(d.batch.logs[2].severity_number, 14);
  ValueView v;
  ASSERT_TRUE(FindAttribute(d.batch.logs[1].attributes.encoded, "bytes.sample", &v));
  EXPECT_EQ(v.type, ValueType::kBytes);
  EXPECT_EQ(v.bytes, std::string("\x00\x01\x02\xfa\xff", 5));
  ASSERT_TRUE(FindAttribute(d.batch.scopes[0].attributes.encoded, "scope.kind", &v));
}

// ---- against protoc --decode_raw
// -----------------------------------------------------------------

// The items of a request in wire order: root -> 1 (resource*) -> 2 (scope*) -> 2 (item*).
std::vector<const RawNode*> RawItems(const RawNode& root) {
  std::vector<const RawNode*> items;
  for (const RawNode* r : root.All(1))
    for (const RawNode* s : r->All(2))
      for (const RawNode* i : s->All(2)) items.push_back(i);
  return items;
}

TEST(CapturedPayloads, TracesAgreeWithProtocDecodeRaw) {
  auto raw = ParseDecodeRaw(ReadFile(DataPath("js_traces.decode_raw.txt")));
  auto d = DecodePair(Signal::kTraces).pb;
  ASSERT_TRUE(d.status.ok());
  std::vector<const RawNode*> spans = RawItems(*raw);
  ASSERT_EQ(spans.size(), d.batch.spans.size());
  int keys_checked = 0;
  for (size_t i = 0; i < spans.size(); ++i) {
    const RawNode& rs = *spans[i];
    const Span& s = d.batch.spans[i];
    SCOPED_TRACE(std::string(s.name));
    EXPECT_EQ(RawString(rs.Last(5)), std::string(s.name));
    auto trace_id = RawString(rs.Last(1));
    ASSERT_TRUE(trace_id.has_value());
    EXPECT_EQ(*trace_id, std::string(reinterpret_cast<const char*>(s.trace_id.data()), 16));
    EXPECT_EQ(RawNumber(rs.Last(6)), static_cast<uint64_t>(s.kind));
    EXPECT_EQ(RawNumber(rs.Last(7)), s.start_time_unix_nano);
    EXPECT_EQ(RawNumber(rs.Last(8)), s.end_time_unix_nano);
    EXPECT_EQ(RawNumber(rs.Last(16)), s.flags);
    EXPECT_EQ(rs.All(9).size(), s.attributes.count);
    if (auto keys = RawKeys(rs, 9)) {
      EXPECT_EQ(*keys, Keys(s.attributes));
      keys_checked += static_cast<int>(keys->size());
    }
    auto events = rs.All(11);
    ASSERT_EQ(events.size(), s.events.size());
    for (size_t e = 0; e < events.size(); ++e) {
      EXPECT_EQ(RawString(events[e]->Last(2)), std::string(s.events[e].name));
      EXPECT_EQ(RawNumber(events[e]->Last(1)), s.events[e].time_unix_nano);
      if (auto keys = RawKeys(*events[e], 3)) {
        EXPECT_EQ(*keys, Keys(s.events[e].attributes));
      }
    }
    EXPECT_EQ(rs.All(13).size(), s.links.size());
  }
  EXPECT_GT(keys_checked, 10);
  // Resource attributes.
  const RawNode* resource = raw->All(1)[0]->Last(1);
  ASSERT_NE(resource, nullptr);
  auto keys = RawKeys(*resource, 1);
  ASSERT_TRUE(keys.has_value());
  EXPECT_EQ(*keys, Keys(d.batch.resources[0].attributes));
}

TEST(CapturedPayloads, MetricsAgreeWithProtocDecodeRaw) {
  auto raw = ParseDecodeRaw(ReadFile(DataPath("js_metrics.decode_raw.txt")));
  auto d = DecodePair(Signal::kMetrics).pb;
  ASSERT_TRUE(d.status.ok());
  std::vector<const RawNode*> metrics = RawItems(*raw);
  ASSERT_EQ(metrics.size(), d.batch.metrics.size());
  size_t raw_points = 0;
  for (size_t i = 0; i < metrics.size(); ++i) {
    if (auto name = RawString(metrics[i]->Last(1))) {
      EXPECT_EQ(*name, std::string(d.batch.metrics[i].name));
    }
    for (int f : {5, 7, 9, 10, 11}) {
      if (const RawNode* data = metrics[i]->Last(f)) {
        raw_points += data->All(1).size();
        int expected = static_cast<int>(d.batch.metrics[i].type);
        int got = f == 5 ? 1 : f == 7 ? 2 : f == 9 ? 3 : f == 10 ? 4 : 5;
        EXPECT_EQ(got, expected);
      }
    }
  }
  EXPECT_EQ(raw_points, d.batch.points.size());
}

TEST(CapturedPayloads, LogsAgreeWithProtocDecodeRaw) {
  auto raw = ParseDecodeRaw(ReadFile(DataPath("js_logs.decode_raw.txt")));
  auto d = DecodePair(Signal::kLogs).pb;
  ASSERT_TRUE(d.status.ok());
  std::vector<const RawNode*> logs = RawItems(*raw);
  ASSERT_EQ(logs.size(), d.batch.logs.size());
  for (size_t i = 0; i < logs.size(); ++i) {
    const LogRecord& l = d.batch.logs[i];
    EXPECT_EQ(RawNumber(logs[i]->Last(2)), static_cast<uint64_t>(l.severity_number));
    EXPECT_EQ(RawNumber(logs[i]->Last(1)), l.time_unix_nano);
    EXPECT_EQ(RawNumber(logs[i]->Last(11)), l.observed_time_unix_nano);
    if (auto text = RawString(logs[i]->Last(3))) {
      EXPECT_EQ(*text, l.severity_text);
    }
    if (auto name = RawString(logs[i]->Last(12))) {
      EXPECT_EQ(*name, l.event_name);
    }
    EXPECT_EQ(logs[i]->All(6).size(), l.attributes.count);
    if (auto keys = RawKeys(*logs[i], 6)) {
      EXPECT_EQ(*keys, Keys(l.attributes));
    }
  }
}

}  // namespace
}  // namespace avtrace::otlp
