// The Store contract suite: behaviour every backend must show. See contract_test.h.

#include "store/contract_test.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <tuple>
#include <thread>

#include "otlp/attributes.h"

namespace avtrace::store {
namespace {

constexpr uint64_t kT0 = 1'700'000'000'000'000'000ULL;
constexpr uint64_t kMs = 1'000'000ULL;
constexpr uint64_t kSec = 1'000'000'000ULL;

otlp::TraceId Tid(uint32_t n) {
  otlp::TraceId t{};
  for (size_t i = 0; i < 16; ++i) t[i] = static_cast<uint8_t>((n * 131 + i * 17 + 0xA5) & 0xff);
  std::memcpy(t.data() + 12, &n, 4);
  return t;
}

otlp::SpanId Sid(uint64_t n) {
  otlp::SpanId s{};
  for (int i = 7; i >= 0; --i) {
    s[i] = static_cast<uint8_t>(n);
    n >>= 8;
  }
  s[0] |= 0x40;  // never all zeros
  return s;
}

using Fill = std::function<void(otlp::AttrWriter&)>;

// Builds a Batch whose views all point into its own arena.
class BatchMaker {
 public:
  otlp::Batch& batch() { return b_; }
  std::string_view Str(std::string_view s) { return b_.arena.Copy(s); }
  otlp::AttrList Attrs(const Fill& fill) {
    std::string enc;
    otlp::AttrWriter w(&enc);
    if (fill) fill(w);
    return {b_.arena.Copy(enc), w.count()};
  }
  uint32_t AddResource(std::string_view service, const Fill& more = {}, uint32_t dropped = 0,
                       std::string_view schema = "") {
    otlp::Resource r;
    r.attributes = Attrs([&](otlp::AttrWriter& w) {
      if (!service.empty()) w.String("service.name", service);
      if (more) more(w);
    });
    r.dropped_attributes_count = dropped;
    r.schema_url = Str(schema);
    b_.resources.push_back(r);
    return static_cast<uint32_t>(b_.resources.size() - 1);
  }
  uint32_t AddScope(std::string_view name, std::string_view version = "1.0", const Fill& attrs = {},
                    uint32_t dropped = 0, std::string_view schema = "") {
    otlp::Scope s;
    s.name = Str(name);
    s.version = Str(version);
    s.attributes = Attrs(attrs);
    s.dropped_attributes_count = dropped;
    s.schema_url = Str(schema);
    b_.scopes.push_back(s);
    return static_cast<uint32_t>(b_.scopes.size() - 1);
  }
  otlp::Span& AddSpan(const otlp::TraceId& t, uint64_t id, uint64_t parent, std::string_view name,
                      uint64_t start, uint64_t duration, uint32_t resource, uint32_t scope,
                      const Fill& attrs = {}) {
    otlp::Span s;
    s.trace_id = t;
    s.span_id = Sid(id);
    if (parent) s.parent_span_id = Sid(parent);
    s.name = Str(name);
    s.kind = otlp::SpanKind::kInternal;
    s.start_time_unix_nano = start;
    s.end_time_unix_nano = start + duration;
    s.attributes = Attrs(attrs);
    s.resource_index = resource;
    s.scope_index = scope;
    b_.spans.push_back(std::move(s));
    return b_.spans.back();
  }
  uint32_t AddMetric(std::string_view name, otlp::MetricType type, otlp::Temporality temporality,
                     bool monotonic, uint32_t resource, uint32_t scope, std::string_view unit = "",
                     std::string_view description = "") {
    otlp::Metric m;
    m.name = Str(name);
    m.type = type;
    m.temporality = temporality;
    m.is_monotonic = monotonic;
    m.unit = Str(unit);
    m.description = Str(description);
    m.resource_index = resource;
    m.scope_index = scope;
    b_.metrics.push_back(m);
    return static_cast<uint32_t>(b_.metrics.size() - 1);
  }
  otlp::MetricPoint& AddPoint(uint32_t metric, uint64_t time, const Fill& attrs = {}) {
    otlp::MetricPoint p;
    p.metric_index = metric;
    p.time_unix_nano = time;
    p.start_time_unix_nano = kT0;
    p.attributes = Attrs(attrs);
    b_.points.push_back(std::move(p));
    return b_.points.back();
  }
  otlp::LogRecord& AddLog(uint64_t time, int32_t severity, std::string_view severity_text,
                          std::string_view encoded_body, uint32_t resource, uint32_t scope,
                          const Fill& attrs = {}) {
    otlp::LogRecord r;
    r.time_unix_nano = time;
    r.observed_time_unix_nano = time ? time + kMs : 0;
    r.severity_number = severity;
    r.severity_text = Str(severity_text);
    r.body = Str(encoded_body);
    r.attributes = Attrs(attrs);
    r.resource_index = resource;
    r.scope_index = scope;
    b_.logs.push_back(r);
    return b_.logs.back();
  }

 private:
  otlp::Batch b_;
};

// Attributes as "key:type=text" strings, so backends may re-encode but not change meaning.
std::vector<std::string> AttrTexts(std::string_view encoded) {
  std::vector<std::string> out;
  Status s = otlp::VisitAttributes(encoded, [&](std::string_view k, const otlp::ValueView& v) {
    out.push_back(std::string(k) + ":" + std::to_string(static_cast<int>(v.type)) + "=" +
                  otlp::ValueToText(v));
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

void ExpectSameAttrs(const otlp::AttrList& want, const otlp::AttrList& got,
                     const std::string& what) {
  EXPECT_EQ(AttrTexts(want.encoded), AttrTexts(got.encoded)) << what;
  EXPECT_EQ(want.count, got.count) << what;
}

void ExpectSameResource(const otlp::Resource& want, const otlp::Resource& got) {
  ExpectSameAttrs(want.attributes, got.attributes, "resource attributes");
  EXPECT_EQ(want.dropped_attributes_count, got.dropped_attributes_count);
  EXPECT_EQ(want.schema_url, got.schema_url);
}

void ExpectSameScope(const otlp::Scope& want, const otlp::Scope& got) {
  EXPECT_EQ(want.name, got.name);
  EXPECT_EQ(want.version, got.version);
  ExpectSameAttrs(want.attributes, got.attributes, "scope attributes");
  EXPECT_EQ(want.dropped_attributes_count, got.dropped_attributes_count);
  EXPECT_EQ(want.schema_url, got.schema_url);
}

// Every span of `want` (all of one trace) must be in `got` with identical fields.
void ExpectSameTrace(const otlp::Batch& want, const otlp::Batch& got) {
  ASSERT_EQ(want.spans.size(), got.spans.size());
  for (const otlp::Span& w : want.spans) {
    auto it = std::find_if(got.spans.begin(), got.spans.end(),
                           [&](const otlp::Span& g) { return g.span_id == w.span_id; });
    ASSERT_NE(it, got.spans.end()) << "span " << w.name << " missing";
    const otlp::Span& g = *it;
    SCOPED_TRACE(std::string(w.name));
    EXPECT_EQ(w.trace_id, g.trace_id);
    EXPECT_EQ(w.parent_span_id, g.parent_span_id);
    EXPECT_EQ(w.trace_state, g.trace_state);
    EXPECT_EQ(w.flags, g.flags);
    EXPECT_EQ(w.name, g.name);
    EXPECT_EQ(w.kind, g.kind);
    EXPECT_EQ(w.start_time_unix_nano, g.start_time_unix_nano);
    EXPECT_EQ(w.end_time_unix_nano, g.end_time_unix_nano);
    ExpectSameAttrs(w.attributes, g.attributes, "span attributes");
    EXPECT_EQ(w.dropped_attributes_count, g.dropped_attributes_count);
    EXPECT_EQ(w.dropped_events_count, g.dropped_events_count);
    EXPECT_EQ(w.dropped_links_count, g.dropped_links_count);
    EXPECT_EQ(w.status_code, g.status_code);
    EXPECT_EQ(w.status_message, g.status_message);
    ASSERT_EQ(w.events.size(), g.events.size());
    for (size_t i = 0; i < w.events.size(); ++i) {
      EXPECT_EQ(w.events[i].time_unix_nano, g.events[i].time_unix_nano);
      EXPECT_EQ(w.events[i].name, g.events[i].name);
      ExpectSameAttrs(w.events[i].attributes, g.events[i].attributes, "event attributes");
      EXPECT_EQ(w.events[i].dropped_attributes_count, g.events[i].dropped_attributes_count);
    }
    ASSERT_EQ(w.links.size(), g.links.size());
    for (size_t i = 0; i < w.links.size(); ++i) {
      EXPECT_EQ(w.links[i].trace_id, g.links[i].trace_id);
      EXPECT_EQ(w.links[i].span_id, g.links[i].span_id);
      EXPECT_EQ(w.links[i].trace_state, g.links[i].trace_state);
      ExpectSameAttrs(w.links[i].attributes, g.links[i].attributes, "link attributes");
      EXPECT_EQ(w.links[i].dropped_attributes_count, g.links[i].dropped_attributes_count);
      EXPECT_EQ(w.links[i].flags, g.links[i].flags);
    }
    ASSERT_LT(g.resource_index, got.resources.size());
    ASSERT_LT(g.scope_index, got.scopes.size());
    ExpectSameResource(want.resources[w.resource_index], got.resources[g.resource_index]);
    ExpectSameScope(want.scopes[w.scope_index], got.scopes[g.scope_index]);
  }
}

std::string AllTypesArray() {
  std::string elems;
  otlp::AppendArrayElement(&elems, otlp::EncodeStringValue("a"));
  otlp::AppendArrayElement(&elems, otlp::EncodeIntValue(7));
  otlp::AppendArrayElement(&elems, otlp::EncodeBoolValue(false));
  return otlp::EncodeArrayValue(elems);
}

std::string NestedKvList() {
  std::string inner;
  otlp::AttrWriter w(&inner);
  w.String("codec", "avc1");
  w.Double("fps", 29.97);
  w.Raw("tags", AllTypesArray());
  return otlp::EncodeKvListValue(inner);
}

}  // namespace

void StoreContractTest::SetUp() {
  static std::atomic<int> counter{0};
  dir_ = (std::filesystem::temp_directory_path() /
          ("avtrace_store_" + GetParam().name + "_" + std::to_string(getpid()) + "_" +
           std::to_string(counter++)))
             .string();
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  store_ = GetParam().open(dir_);
  ASSERT_NE(store_, nullptr);
}

void StoreContractTest::TearDown() {
  if (store_) store_->Close();
  store_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void StoreContractTest::Reopen() {
  store_->Close();
  store_->Close();  // safe twice
  store_.reset();
  store_ = GetParam().open(dir_);
  ASSERT_NE(store_, nullptr);
}

void StoreContractTest::MaintainAll() {
  for (int i = 0; i < 100'000; ++i) {
    auto more = store_->Maintain(1 << 20);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) return;
  }
  FAIL() << "Maintain never finished";
}

void StoreContractTest::Append(std::initializer_list<const otlp::Batch*> batches) {
  std::vector<const otlp::Batch*> v(batches);
  Status s = store_->Append(v);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

namespace {

// ---------------------------------------------------------------------------------------------
// Traces: round trip.

TEST_P(StoreContractTest, GetTraceReturnsEveryFieldFromTailIndexAndAfterReopen) {
  BatchMaker m;
  uint32_t r1 = m.AddResource(
      "packager",
      [](otlp::AttrWriter& w) {
        w.String("host.name", "node-1");
        w.Int("process.pid", 4242);
      },
      3, "https://opentelemetry.io/schemas/1.21.0");
  uint32_t r2 = m.AddResource("origin");
  uint32_t s1 = m.AddScope(
      "avtrace.test", "2.1", [](otlp::AttrWriter& w) { w.Bool("scope.flag", true); }, 1,
      "https://example.com/scope-schema");
  uint32_t s2 = m.AddScope("other.lib", "");
  const otlp::TraceId t = Tid(1);
  otlp::Span& root =
      m.AddSpan(t, 1, 0, "GET /manifest", kT0, 50 * kMs, r1, s1, [](otlp::AttrWriter& w) {
        w.String("http.method", "GET");
        w.Bool("cache.hit", true);
        w.Int("http.status_code", -503);
        w.Double("ratio", 0.125);
        w.Bytes("raw", std::string("\x00\x01\xfe", 3));
        w.Raw("list", AllTypesArray());
        w.Raw("map", NestedKvList());
        w.Raw("empty", "");
      });
  root.kind = otlp::SpanKind::kServer;
  root.flags = 0x301;
  root.trace_state = m.Str("vendor=abc,other=1");
  root.dropped_attributes_count = 2;
  root.dropped_events_count = 1;
  root.dropped_links_count = 4;
  root.status_code = otlp::SpanStatusCode::kError;
  root.status_message = m.Str("upstream timeout");
  root.events.push_back({kT0 + kMs, m.Str("segment.fetch"),
                         m.Attrs([](otlp::AttrWriter& w) { w.Int("seq", 7); }), 1});
  root.events.push_back({kT0 + 2 * kMs, m.Str("retry"), {}, 0});
  otlp::SpanLink link;
  link.trace_id = Tid(99);
  link.span_id = Sid(9);
  link.trace_state = m.Str("ts=1");
  link.attributes = m.Attrs([](otlp::AttrWriter& w) { w.String("link.kind", "follows"); });
  link.dropped_attributes_count = 5;
  link.flags = 1;
  root.links.push_back(link);
  otlp::Span& child = m.AddSpan(t, 2, 1, "db.query", kT0 + 5 * kMs, 10 * kMs, r1, s2);
  child.kind = otlp::SpanKind::kClient;
  child.status_code = otlp::SpanStatusCode::kOk;
  m.AddSpan(t, 3, 1, "cache.get", kT0 + 6 * kMs, kMs, r2, s1);
  // Another trace in the same batch must not leak into the answer.
  BatchMaker other;
  other.AddResource("noise");
  other.AddScope("noise");
  other.AddSpan(Tid(2), 1, 0, "noise", kT0, kMs, 0, 0);
  Append({&m.batch(), &other.batch()});

  auto check = [&](const char* phase) {
    SCOPED_TRACE(phase);
    auto got = store_->GetTrace(t);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ExpectSameTrace(m.batch(), *got);
  };
  check("unindexed tail");
  MaintainAll();
  check("indexed");
  Reopen();
  check("after reopen");
}

TEST_P(StoreContractTest, TraceSplitAcrossIndexAndTailIsWhole) {
  BatchMaker a, b;
  a.AddResource("svc");
  a.AddScope("lib");
  b.AddResource("svc");
  b.AddScope("lib");
  const otlp::TraceId t = Tid(7);
  for (int i = 0; i < 5; ++i) a.AddSpan(t, 10 + i, i ? 10 : 0, "early", kT0 + i * kMs, kMs, 0, 0);
  Append({&a.batch()});
  MaintainAll();
  for (int i = 0; i < 3; ++i) b.AddSpan(t, 20 + i, 10, "late", kT0 + (10 + i) * kMs, kMs, 0, 0);
  Append({&b.batch()});
  auto got = store_->GetTrace(t);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->spans.size(), 8u);
  MaintainAll();
  got = store_->GetTrace(t);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->spans.size(), 8u);
}

TEST_P(StoreContractTest, TracesSharingAnIdPrefixStayApart) {
  otlp::TraceId t1 = Tid(5), t2 = Tid(5);
  t2[15] ^= 0xff;  // same first 8 bytes, different id
  BatchMaker m;
  m.AddResource("svc");
  m.AddScope("lib");
  m.AddSpan(t1, 1, 0, "one", kT0, kMs, 0, 0);
  m.AddSpan(t2, 2, 0, "two", kT0, kMs, 0, 0);
  m.AddSpan(t2, 3, 2, "two.child", kT0, kMs, 0, 0);
  Append({&m.batch()});
  for (int phase = 0; phase < 2; ++phase) {
    auto a = store_->GetTrace(t1);
    auto b = store_->GetTrace(t2);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->spans.size(), 1u);
    EXPECT_EQ(b->spans.size(), 2u);
    MaintainAll();
  }
}

// A retried export stores the same spans again; reads show each span once, whether the copies
// are in the index, the tail, or one in each. A different span that reuses an id (other times)
// is not hidden.
TEST_P(StoreContractTest, RetriedExportsDoNotDuplicateSpans) {
  BatchMaker m;
  m.AddResource("svc");
  m.AddScope("lib");
  m.AddSpan(Tid(77), 1, 0, "root", kT0, 10 * kMs, 0, 0);
  m.AddSpan(Tid(77), 2, 1, "child", kT0 + kMs, kMs, 0, 0);
  BatchMaker odd;
  odd.AddResource("svc");
  odd.AddScope("lib");
  odd.AddSpan(Tid(77), 2, 1, "child-again-later", kT0 + 5 * kMs, kMs, 0, 0);
  Append({&m.batch()});
  MaintainAll();           // first copy indexed
  Append({&m.batch()});    // second copy in the tail
  Append({&odd.batch()});
  for (int phase = 0; phase < 2; ++phase) {
    auto got = store_->GetTrace(Tid(77));
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->spans.size(), 3u);
    EXPECT_EQ(got->spans[0].name, "root");
    EXPECT_EQ(got->spans[1].name, "child");
    EXPECT_EQ(got->spans[2].name, "child-again-later");
    auto search = store_->SearchTraces({});
    ASSERT_TRUE(search.ok());
    ASSERT_EQ(search->traces.size(), 1u);
    EXPECT_EQ(search->traces[0].span_count, 3u);
    MaintainAll();  // now every copy is indexed
  }
}

TEST_P(StoreContractTest, UnknownTraceIsNotFound) {
  auto got = store_->GetTrace(Tid(12345));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, GroupCommitOfMixedBatches) {
  BatchMaker a, b, c;
  a.AddResource("a");
  a.AddScope("s");
  a.AddSpan(Tid(1), 1, 0, "x", kT0, kMs, 0, 0);
  b.AddResource("b");
  b.AddScope("s");
  uint32_t g =
      b.AddMetric("temp", otlp::MetricType::kGauge, otlp::Temporality::kUnspecified, false, 0, 0);
  auto& p = b.AddPoint(g, kT0);
  p.value_kind = otlp::NumberKind::kDouble;
  p.as_double = 21.5;
  c.AddResource("c");
  c.AddScope("s");
  c.AddLog(kT0, 9, "INFO", otlp::EncodeStringValue("hello"), 0, 0);
  otlp::Batch empty;
  Append({&a.batch(), &empty, &b.batch(), &c.batch()});
  auto st = store_->Stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->spans, 1u);
  EXPECT_EQ(st->metric_points, 1u);
  EXPECT_EQ(st->metric_series, 1u);
  EXPECT_EQ(st->logs, 1u);
  EXPECT_GT(st->size_bytes, 0u);
  Status none = store_->Append({});
  EXPECT_TRUE(none.ok());
}

// ---------------------------------------------------------------------------------------------
// Traces: search.

// Five traces (see the table in each expectation):
//   A packager  GET /segment  t+10s 100ms unset ep-1 ; child transcode t+10.01s 2s ERROR
//   B origin    GET /manifest t+20s  30ms OK    ep-2 (resource podcast.id=pod-2)
//   C packager  GET /segment  t+30s 500ms unset ep-1 protocol=hls ; child cache.get (origin,
//               podcast.id=pod-9) t+30.1s 1ms
//   D player-api auth.check   t+40s   5ms ERROR (scope attribute scope.team=media)
//   E origin    GET /manifest t+5s   80ms unset custom.key=xyz (resource podcast.id=pod-2)
// Resources of A and C's root also carry deployment.environment=prod (not an indexed key).
class SearchData {
 public:
  static void Build(BatchMaker& first, BatchMaker& second) {
    auto prod = [](otlp::AttrWriter& w) {
      w.String("podcast.id", "pod-1");
      w.String("deployment.environment", "prod");
    };
    auto pod2 = [](otlp::AttrWriter& w) {
      w.String("podcast.id", "pod-2");
      w.String("deployment.environment", "staging");
    };
    {
      BatchMaker& m = first;
      uint32_t pk = m.AddResource("packager", prod);
      uint32_t og = m.AddResource("origin", pod2);
      uint32_t og9 =
          m.AddResource("origin", [](otlp::AttrWriter& w) { w.String("podcast.id", "pod-9"); });
      uint32_t sc = m.AddScope("lib");
      m.AddSpan(Tid(0xA), 1, 0, "GET /segment", kT0 + 10 * kSec, 100 * kMs, pk, sc,
                [](otlp::AttrWriter& w) { w.String("episode.id", "ep-1"); });
      m.AddSpan(Tid(0xA), 2, 1, "transcode", kT0 + 10 * kSec + 10 * kMs, 2 * kSec, pk, sc)
          .status_code = otlp::SpanStatusCode::kError;
      m.AddSpan(Tid(0xB), 1, 0, "GET /manifest", kT0 + 20 * kSec, 30 * kMs, og, sc,
                [](otlp::AttrWriter& w) { w.String("episode.id", "ep-2"); })
          .status_code = otlp::SpanStatusCode::kOk;
      m.AddSpan(Tid(0xC), 1, 0, "GET /segment", kT0 + 30 * kSec, 500 * kMs, pk, sc,
                [](otlp::AttrWriter& w) {
                  w.String("episode.id", "ep-1");
                  w.String("protocol", "hls");
                });
      m.AddSpan(Tid(0xC), 2, 1, "cache.get", kT0 + 30 * kSec + 100 * kMs, kMs, og9, sc);
    }
    {
      BatchMaker& m = second;
      uint32_t pa = m.AddResource("player-api");
      uint32_t og = m.AddResource("origin", pod2);
      uint32_t team =
          m.AddScope("auth", "1", [](otlp::AttrWriter& w) { w.String("scope.team", "media"); });
      uint32_t sc = m.AddScope("lib");
      m.AddSpan(Tid(0xD), 1, 0, "auth.check", kT0 + 40 * kSec, 5 * kMs, pa, team).status_code =
          otlp::SpanStatusCode::kError;
      m.AddSpan(Tid(0xE), 1, 0, "GET /manifest", kT0 + 5 * kSec, 80 * kMs, og, sc,
                [](otlp::AttrWriter& w) {
                  w.Int("custom.key", 0);
                  w.String("custom.key2", "xyz");
                });
    }
  }
};

std::vector<uint32_t> Ids(const TraceSearchResult& r) {
  std::vector<uint32_t> out;
  for (const auto& t : r.traces) {
    uint32_t n;
    std::memcpy(&n, t.trace_id.data() + 12, 4);
    out.push_back(n);
  }
  return out;
}

void RunSearchExpectations(Store* store) {
  auto q = [] {
    TraceQuery t;
    t.start_unix_nanos = kT0;
    t.end_unix_nanos = kT0 + 100 * kSec;
    return t;
  };
  auto expect = [&](const TraceQuery& query, std::vector<uint32_t> want, const char* what) {
    auto got = store->SearchTraces(query);
    ASSERT_TRUE(got.ok()) << what << ": " << got.status().ToString();
    EXPECT_EQ(Ids(*got), want) << what;
  };
  expect(q(), {0xD, 0xC, 0xB, 0xA, 0xE}, "no filter");
  {
    TraceQuery t;  // end 0 means now; start 0 means the beginning
    expect(t, {0xD, 0xC, 0xB, 0xA, 0xE}, "default range");
  }
  auto t = q();
  t.service = "packager";
  expect(t, {0xC, 0xA}, "service packager");
  t = q();
  t.service = "origin";
  expect(t, {0xC, 0xB, 0xE}, "service origin");
  t = q();
  t.service = "nobody";
  expect(t, {}, "unknown service");
  t = q();
  t.span_name = "GET /manifest";
  expect(t, {0xB, 0xE}, "span name");
  t = q();
  t.attributes = {{"episode.id", "ep-1"}};
  expect(t, {0xC, 0xA}, "indexed span attribute");
  t = q();
  t.attributes = {{"podcast.id", "pod-2"}};
  expect(t, {0xB, 0xE}, "indexed resource attribute");
  t = q();
  t.attributes = {{"deployment.environment", "prod"}};
  expect(t, {0xC, 0xA}, "unindexed resource attribute");
  t = q();
  t.attributes = {{"custom.key2", "xyz"}};
  expect(t, {0xE}, "unindexed span attribute");
  t = q();
  t.attributes = {{"custom.key", "0"}};
  expect(t, {0xE}, "int attribute by text");
  t = q();
  t.attributes = {{"scope.team", "media"}};
  expect(t, {0xD}, "scope attribute");
  t = q();
  t.attributes = {{"episode.id", "ep-1"}, {"protocol", "hls"}};
  expect(t, {0xC}, "two attributes on one span");
  t = q();
  t.attributes = {{"episode.id", "ep-1"}, {"podcast.id", "pod-9"}};
  expect(t, {}, "two attributes on different spans do not match");
  t = q();
  t.status = SpanStatusFilter::kError;
  expect(t, {0xD, 0xA}, "status error");
  t = q();
  t.status = SpanStatusFilter::kOk;
  expect(t, {0xB}, "status ok");
  t = q();
  t.status = SpanStatusFilter::kUnset;
  expect(t, {0xC, 0xA, 0xE}, "status unset");
  t = q();
  t.min_duration_nanos = kSec;
  expect(t, {0xA}, "min duration");
  t = q();
  t.max_duration_nanos = 10 * kMs;
  expect(t, {0xD, 0xC}, "max duration");
  t = q();
  t.min_duration_nanos = 50 * kMs;
  t.max_duration_nanos = 200 * kMs;
  expect(t, {0xA, 0xE}, "duration band");
  t = q();
  t.start_unix_nanos = kT0 + 15 * kSec;
  t.end_unix_nanos = kT0 + 35 * kSec;
  expect(t, {0xC, 0xB}, "time range");
  t = q();
  t.service = "packager";
  t.status = SpanStatusFilter::kError;
  expect(t, {0xA}, "service and status");
  t = q();
  t.service = "origin";
  t.span_name = "GET /manifest";
  t.end_unix_nanos = kT0 + 10 * kSec;
  expect(t, {0xE}, "service, name and time");

  // Summaries.
  auto all = store->SearchTraces(q());
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->traces.size(), 5u);
  const TraceSummary& a = all->traces[3];
  EXPECT_EQ(a.trace_id, Tid(0xA));
  EXPECT_EQ(a.span_count, 2u);
  EXPECT_EQ(a.error_count, 1u);
  EXPECT_EQ(a.root_service, "packager");
  EXPECT_EQ(a.root_span_name, "GET /segment");
  EXPECT_EQ(a.start_unix_nanos, kT0 + 10 * kSec);
  EXPECT_EQ(a.duration_nanos, 10 * kMs + 2 * kSec);
  EXPECT_EQ(a.services, std::vector<std::string>{"packager"});
  const TraceSummary& c = all->traces[1];
  EXPECT_EQ(c.services, (std::vector<std::string>{"origin", "packager"}));
  EXPECT_EQ(c.root_span_name, "GET /segment");
  EXPECT_EQ(c.span_count, 2u);
  EXPECT_EQ(c.error_count, 0u);
}

TEST_P(StoreContractTest, SearchTracesByEveryFilterFromTailThenIndexThenReopen) {
  BatchMaker first, second;
  SearchData::Build(first, second);
  Append({&first.batch(), &second.batch()});
  {
    SCOPED_TRACE("all in the tail");
    RunSearchExpectations(store_.get());
  }
  MaintainAll();
  {
    SCOPED_TRACE("all indexed");
    RunSearchExpectations(store_.get());
  }
  Reopen();
  {
    SCOPED_TRACE("after reopen");
    RunSearchExpectations(store_.get());
  }
}

TEST_P(StoreContractTest, SearchTracesByEveryFilterAcrossIndexAndTail) {
  BatchMaker first, second;
  SearchData::Build(first, second);
  Append({&first.batch()});
  MaintainAll();
  Append({&second.batch()});
  RunSearchExpectations(store_.get());
}

TEST_P(StoreContractTest, SearchRejectsABadCursor) {
  TraceQuery q;
  q.cursor = "not a cursor!";
  auto got = store_->SearchTraces(q);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
}

// 57 traces (some sharing a start time), appended in several commits with Maintain between some
// of them; paging with a small limit must return each exactly once, newest first.
TEST_P(StoreContractTest, SearchPaginationHasNoDuplicatesOrGaps) {
  std::mt19937 rng(3);
  std::vector<uint64_t> starts;
  for (int i = 0; i < 57; ++i) starts.push_back(kT0 + (rng() % 40) * kSec);
  int next = 0;
  for (int commit = 0; commit < 5; ++commit) {
    BatchMaker m;
    m.AddResource(commit % 2 ? "odd" : "even");
    m.AddScope("lib");
    for (int k = 0; k < 12 && next < 57; ++k, ++next) {
      m.AddSpan(Tid(1000 + next), 1, 0, "root", starts[next], 10 * kMs, 0, 0);
      // The child starts later: the trace's key is the child's start, in the same order.
      m.AddSpan(Tid(1000 + next), 2, 1, "child", starts[next] + kMs, kMs, 0, 0);
    }
    Append({&m.batch()});
    if (commit == 1 || commit == 3) MaintainAll();
  }
  for (const char* service : {"", "odd"}) {
    SCOPED_TRACE(service);
    std::set<uint32_t> seen;
    std::vector<uint64_t> order;
    TraceQuery q;
    q.service = service;
    q.limit = 10;
    for (int page = 0; page < 20; ++page) {
      auto got = store_->SearchTraces(q);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_LE(got->traces.size(), 10u);
      for (uint32_t id : Ids(*got)) EXPECT_TRUE(seen.insert(id).second) << "duplicate " << id;
      for (const auto& t : got->traces) order.push_back(t.start_unix_nanos);
      if (got->next_cursor.empty()) break;
      q.cursor = got->next_cursor;
    }
    size_t want = 0;
    for (int i = 0; i < 57; ++i) want += (*service == 0 || (i / 12) % 2 == 1) ? 1 : 0;
    EXPECT_EQ(seen.size(), want);
    EXPECT_TRUE(std::is_sorted(order.rbegin(), order.rend())) << "not newest first";
  }
}

// ---------------------------------------------------------------------------------------------
// Metrics.

class MetricsData {
 public:
  // See each test for the points.
  static void Build(BatchMaker& m) {
    uint32_t pk = m.AddResource("packager");
    uint32_t og = m.AddResource("origin");
    uint32_t sc = m.AddScope("meter");
    using otlp::MetricType;
    using otlp::Temporality;
    uint32_t depth = m.AddMetric("queue_depth", MetricType::kGauge, Temporality::kUnspecified,
                                 false, pk, sc, "{items}", "Items waiting");
    const uint64_t t[] = {1, 2, 3, 11};
    const int64_t v[] = {5, 7, 3, 10};
    for (int i = 0; i < 4; ++i) {
      auto& p = m.AddPoint(depth, kT0 + t[i] * kSec,
                           [](otlp::AttrWriter& w) { w.String("queue", "ingest"); });
      p.value_kind = otlp::NumberKind::kInt;
      p.as_int = v[i];
      auto& q = m.AddPoint(depth, kT0 + t[i] * kSec,
                           [](otlp::AttrWriter& w) { w.String("queue", "publish"); });
      q.value_kind = otlp::NumberKind::kInt;
      q.as_int = 100 + v[i];
    }
    uint32_t cpu =
        m.AddMetric("cpu_ratio", MetricType::kGauge, Temporality::kUnspecified, false, og, sc, "1");
    auto& c = m.AddPoint(cpu, kT0 + kSec);
    c.value_kind = otlp::NumberKind::kDouble;
    c.as_double = 0.75;

    uint32_t req =
        m.AddMetric("requests_total", MetricType::kSum, Temporality::kCumulative, true, pk, sc);
    struct {
      uint64_t t, start;
      int64_t v;
    } counter[] = {{10, 0, 100}, {20, 0, 150}, {30, 25, 20}, {40, 25, 60}, {50, 25, 160}};
    for (auto& e : counter) {
      auto& p = m.AddPoint(req, kT0 + e.t * kSec);
      p.start_time_unix_nano = kT0 + e.start * kSec;
      p.value_kind = otlp::NumberKind::kInt;
      p.as_int = e.v;
    }
    uint32_t bytes =
        m.AddMetric("bytes_delta", MetricType::kSum, Temporality::kDelta, true, pk, sc, "By");
    for (auto [tt, vv] : {std::pair<uint64_t, double>{16, 10}, {18, 30}, {40, 5}}) {
      auto& p = m.AddPoint(bytes, kT0 + tt * kSec);
      p.value_kind = otlp::NumberKind::kDouble;
      p.as_double = vv;
    }

    uint32_t lat = m.AddMetric("latency", MetricType::kHistogram, Temporality::kCumulative, false,
                               pk, sc, "s");
    auto& h1 = m.AddPoint(lat, kT0 + 10 * kSec);
    h1.explicit_bounds = {1, 2, 5, 10};
    h1.bucket_counts = {1, 1, 0, 0, 0};
    h1.count = 2;
    h1.has_sum = true;
    h1.sum = 3;
    h1.has_min = h1.has_max = true;
    h1.min = 0.5;
    h1.max = 1.5;
    otlp::Exemplar ex;
    ex.time_unix_nano = kT0 + 9 * kSec;
    ex.value_kind = otlp::NumberKind::kDouble;
    ex.as_double = 1.2;
    ex.trace_id = Tid(1);
    ex.span_id = Sid(1);
    ex.filtered_attributes = m.Attrs([](otlp::AttrWriter& w) { w.String("user", "u1"); });
    h1.exemplars.push_back(ex);
    auto& h2 = m.AddPoint(lat, kT0 + 20 * kSec);
    h2.explicit_bounds = {1, 2, 5, 10};
    h2.bucket_counts = {3, 5, 2, 0, 0};
    h2.count = 10;
    h2.has_sum = true;
    h2.sum = 20;

    uint32_t latd = m.AddMetric("latency_delta", MetricType::kHistogram, Temporality::kDelta, false,
                                pk, sc, "s");
    auto& d1 = m.AddPoint(latd, kT0 + 10 * kSec);
    d1.explicit_bounds = {1, 2, 5, 10};
    d1.bucket_counts = {2, 4, 4, 0, 0};
    d1.count = 10;
    auto& d2 = m.AddPoint(latd, kT0 + 30 * kSec);
    d2.explicit_bounds = {1, 2, 5, 10};
    d2.bucket_counts = {0, 0, 0, 0, 5};
    d2.count = 5;

    uint32_t ex_lat = m.AddMetric("exp_latency", MetricType::kExponentialHistogram,
                                  Temporality::kDelta, false, pk, sc, "s");
    auto& e1 = m.AddPoint(ex_lat, kT0 + 10 * kSec);
    e1.scale = 0;
    e1.positive.offset = 0;
    e1.positive.bucket_counts = {4, 4};  // (1,2]: 4, (2,4]: 4
    e1.count = 8;
    e1.zero_threshold = 1e-9;

    uint32_t rtt = m.AddMetric("rtt_summary", MetricType::kSummary, Temporality::kUnspecified,
                               false, og, sc, "ms");
    auto& s1 = m.AddPoint(rtt, kT0 + 10 * kSec);
    s1.count = 100;
    s1.has_sum = true;
    s1.sum = 1200;
    s1.quantile_values = {{0.5, 10}, {0.9, 20}};
  }
};

std::vector<std::pair<uint64_t, double>> Values(const Series& s) {
  std::vector<std::pair<uint64_t, double>> out;
  for (const auto& p : s.points) out.emplace_back((p.time_unix_nanos - kT0) / kSec, p.value);
  return out;
}

using V = std::vector<std::pair<uint64_t, double>>;

// Times (seconds after kT0) exactly, values within 1e-9.
void ExpectV(const V& got, const V& want, const std::string& what = "") {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].first, want[i].first) << what << " point " << i;
    EXPECT_NEAR(got[i].second, want[i].second, 1e-9) << what << " point " << i;
  }
}

SeriesQuery SQ(const char* metric, SeriesFunction f, uint64_t start_s, uint64_t end_s,
               uint64_t step_s) {
  SeriesQuery q;
  q.metric = metric;
  q.function = f;
  q.start_unix_nanos = kT0 + start_s * kSec;
  q.end_unix_nanos = kT0 + end_s * kSec;
  q.step_nanos = step_s * kSec;
  return q;
}

void RunMetricExpectations(Store* store) {
  auto one = [&](SeriesQuery q) -> Series {
    auto r = store->QuerySeries(q);
    EXPECT_TRUE(r.ok()) << q.metric << ": " << r.status().ToString();
    if (!r.ok() || r->series.size() != 1) {
      ADD_FAILURE() << q.metric << ": expected one series";
      return {};
    }
    return r->series[0];
  };
  // Gauge, raw and per-step aggregations; match and labels.
  SeriesQuery q = SQ("queue_depth", SeriesFunction::kRaw, 0, 20, 0);
  q.match = {{"queue", "ingest"}};
  Series s = one(q);
  ExpectV(Values(s), V{{1, 5}, {2, 7}, {3, 3}, {11, 10}});
  EXPECT_EQ(s.labels, (std::vector<std::pair<std::string, std::string>>{
                          {"queue", "ingest"}, {"service.name", "packager"}}));
  const std::pair<SeriesFunction, V> aggs[] = {
      {SeriesFunction::kAvg, {{0, 5}, {10, 10}}},  {SeriesFunction::kMin, {{0, 3}, {10, 10}}},
      {SeriesFunction::kMax, {{0, 7}, {10, 10}}},  {SeriesFunction::kSum, {{0, 15}, {10, 10}}},
      {SeriesFunction::kLast, {{0, 3}, {10, 10}}}, {SeriesFunction::kQuantile, {{0, 5}, {10, 10}}},
  };
  for (const auto& [f, want] : aggs) {
    q = SQ("queue_depth", f, 0, 20, 10);
    q.match = {{"queue", "ingest"}};
    ExpectV(Values(one(q)), want, "function " + std::to_string(static_cast<int>(f)));
  }
  {
    auto r = store->QuerySeries(SQ("queue_depth", SeriesFunction::kRaw, 0, 20, 0));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->series.size(), 2u);
    EXPECT_FALSE(r->truncated);
    EXPECT_EQ(r->metric.series_count, 2u);
    EXPECT_EQ(r->metric.unit, "{items}");
    EXPECT_EQ(r->metric.description, "Items waiting");
    EXPECT_EQ(r->metric.type, otlp::MetricType::kGauge);
    q = SQ("queue_depth", SeriesFunction::kRaw, 0, 20, 0);
    q.max_series = 1;
    r = store->QuerySeries(q);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->series.size(), 1u);
    EXPECT_TRUE(r->truncated);
    q.max_series = 100;
    q.match = {{"service.name", "packager"}};  // a resource attribute
    r = store->QuerySeries(q);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->series.size(), 2u);
    q.match = {{"service.name", "origin"}};
    r = store->QuerySeries(q);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->series.size(), 0u);
  }
  ExpectV(Values(one(SQ("cpu_ratio", SeriesFunction::kRaw, 0, 20, 0))), V{{1, 0.75}});

  // Counter with a reset between 20s and 30s (start time moved, value dropped).
  ExpectV(Values(one(SQ("requests_total", SeriesFunction::kRate, 15, 55, 20))),
          V{{15, 70.0 / 20}, {35, 140.0 / 20}});
  ExpectV(Values(one(SQ("bytes_delta", SeriesFunction::kRate, 15, 55, 20))),
          V{{15, 40.0 / 20}, {35, 5.0 / 20}});

  // Histograms.
  Series h = one(SQ("latency", SeriesFunction::kRaw, 0, 60, 0));
  ASSERT_EQ(h.points.size(), 2u);
  EXPECT_EQ(h.points[0].count, 2u);
  EXPECT_DOUBLE_EQ(h.points[0].sum, 3);
  EXPECT_EQ(h.points[1].count, 10u);
  EXPECT_DOUBLE_EQ(h.points[1].sum, 20);
  EXPECT_DOUBLE_EQ(h.points[1].value, 10);
  ExpectV(Values(one(SQ("latency", SeriesFunction::kRate, 15, 35, 20))), V{{15, 8.0 / 20}});
  auto quant = [&](const char* metric, double quantile, uint64_t a, uint64_t b, uint64_t step) {
    SeriesQuery qq = SQ(metric, SeriesFunction::kQuantile, a, b, step);
    qq.quantile = quantile;
    return Values(one(qq));
  };
  // [15,25): h2 minus h1 = {2,4,2,0,0}.
  ExpectV(quant("latency", 0.5, 15, 25, 10), V{{15, 1.5}});
  ExpectV(quant("latency", 0.9, 15, 25, 10), V{{15, 3.8}});
  // [5,25): h1 whole plus that increase = {3,5,2,0,0}.
  ExpectV(quant("latency", 0.5, 5, 25, 20), V{{5, 1.4}});
  ExpectV(quant("latency_delta", 0.5, 0, 20, 20), V{{0, 1.75}});
  ExpectV(quant("latency_delta", 0.1, 0, 20, 20), V{{0, 0.5}});
  ExpectV(quant("latency_delta", 0.5, 20, 40, 20), V{{20, 10}});  // all in +Inf
  ExpectV(quant("exp_latency", 0.5, 0, 20, 20), V{{0, 2}});
  ExpectV(quant("exp_latency", 0.75, 0, 20, 20), V{{0, 3}});
  ExpectV(quant("rtt_summary", 0.5, 0, 20, 20), V{{0, 10}});
  ExpectV(quant("rtt_summary", 0.7, 0, 20, 20), V{{0, 15}});
  Series sm = one(SQ("rtt_summary", SeriesFunction::kRaw, 0, 20, 0));
  ASSERT_EQ(sm.points.size(), 1u);
  EXPECT_EQ(sm.points[0].count, 100u);
  EXPECT_DOUBLE_EQ(sm.points[0].sum, 1200);

  // Errors.
  auto bad = store->QuerySeries(SQ("queue_depth", SeriesFunction::kAvg, 0, 20, 0));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  SeriesQuery badq = SQ("latency", SeriesFunction::kQuantile, 0, 20, 10);
  badq.quantile = 1.5;
  EXPECT_EQ(store->QuerySeries(badq).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->QuerySeries(SQ("nope", SeriesFunction::kRaw, 0, 20, 0)).status().code(),
            StatusCode::kNotFound);
}

TEST_P(StoreContractTest, MetricsOfEveryTypeAndEverySeriesFunction) {
  BatchMaker m;
  MetricsData::Build(m);
  Append({&m.batch()});
  {
    SCOPED_TRACE("fresh");
    RunMetricExpectations(store_.get());
  }
  Reopen();
  {
    SCOPED_TRACE("after reopen");
    RunMetricExpectations(store_.get());
  }
}

TEST_P(StoreContractTest, ListMetricsFiltersAndCounts) {
  BatchMaker m;
  MetricsData::Build(m);
  Append({&m.batch()});
  auto all = store_->ListMetrics({});
  ASSERT_TRUE(all.ok());
  std::vector<std::string> names;
  for (const auto& i : *all) names.push_back(i.name);
  EXPECT_EQ(names, (std::vector<std::string>{"bytes_delta", "cpu_ratio", "exp_latency", "latency",
                                             "latency_delta", "queue_depth", "requests_total",
                                             "rtt_summary"}));
  for (const auto& i : *all) {
    if (i.name == "queue_depth") {
      EXPECT_EQ(i.series_count, 2u);
    }
    if (i.name == "requests_total") {
      EXPECT_EQ(i.type, otlp::MetricType::kSum);
      EXPECT_EQ(i.temporality, otlp::Temporality::kCumulative);
      EXPECT_TRUE(i.is_monotonic);
      EXPECT_EQ(i.series_count, 1u);
    }
    if (i.name == "exp_latency") {
      EXPECT_EQ(i.type, otlp::MetricType::kExponentialHistogram);
    }
    if (i.name == "rtt_summary") {
      EXPECT_EQ(i.type, otlp::MetricType::kSummary);
    }
    EXPECT_GT(i.last_seen_unix_nanos, 0u);
  }
  MetricListQuery q;
  q.name_prefix = "latency";
  auto pre = store_->ListMetrics(q);
  ASSERT_TRUE(pre.ok());
  ASSERT_EQ(pre->size(), 2u);
  EXPECT_EQ((*pre)[0].name, "latency");
  EXPECT_EQ((*pre)[1].name, "latency_delta");
  q = {};
  q.service = "origin";
  auto svc = store_->ListMetrics(q);
  ASSERT_TRUE(svc.ok());
  ASSERT_EQ(svc->size(), 2u);
  EXPECT_EQ((*svc)[0].name, "cpu_ratio");
  EXPECT_EQ((*svc)[1].name, "rtt_summary");
  q = {};
  q.limit = 3;
  auto lim = store_->ListMetrics(q);
  ASSERT_TRUE(lim.ok());
  EXPECT_EQ(lim->size(), 3u);
}

TEST_P(StoreContractTest, RepeatedSeriesAreInterned) {
  for (int i = 0; i < 3; ++i) {
    BatchMaker m;
    uint32_t r = m.AddResource("svc");
    uint32_t s = m.AddScope("meter");
    uint32_t g =
        m.AddMetric("temp", otlp::MetricType::kGauge, otlp::Temporality::kUnspecified, false, r, s);
    auto& p = m.AddPoint(g, kT0 + i * kSec, [](otlp::AttrWriter& w) { w.String("room", "a"); });
    p.value_kind = otlp::NumberKind::kDouble;
    p.as_double = i;
    Append({&m.batch()});
    if (i == 1) Reopen();
  }
  auto st = store_->Stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->metric_series, 1u);
  EXPECT_EQ(st->metric_points, 3u);
}

// ---------------------------------------------------------------------------------------------
// Logs.

//   L1 t+1s INFO(9)  "segment published seq=1" packager episode.id=ep-1 trace 1 span 1
//   L2 t+2s ERROR(17) "upload failed: timeout" packager episode.id=ep-2
//   L3 t+3s WARN(13) kvlist {msg: "slow manifest", ms: 1200} origin trace 2
//   L4 time 0, observed t+4s DEBUG(5) int 42 origin, event_name player.stall, flags 1, dropped 2
//   L5 t+5s FATAL(21) "disk full" player-api (resource region=eu)
void BuildLogs(BatchMaker& m) {
  uint32_t pk = m.AddResource("packager");
  uint32_t og = m.AddResource("origin");
  uint32_t pa = m.AddResource("player-api", [](otlp::AttrWriter& w) { w.String("region", "eu"); });
  uint32_t sc = m.AddScope("logger", "3");
  auto& l1 = m.AddLog(kT0 + kSec, 9, "INFO", otlp::EncodeStringValue("segment published seq=1"), pk,
                      sc, [](otlp::AttrWriter& w) { w.String("episode.id", "ep-1"); });
  l1.trace_id = Tid(1);
  l1.span_id = Sid(1);
  m.AddLog(kT0 + 2 * kSec, 17, "ERROR", otlp::EncodeStringValue("upload failed: timeout"), pk, sc,
           [](otlp::AttrWriter& w) { w.String("episode.id", "ep-2"); });
  std::string kv;
  otlp::AttrWriter w(&kv);
  w.String("msg", "slow manifest");
  w.Int("ms", 1200);
  m.AddLog(kT0 + 3 * kSec, 13, "WARN", otlp::EncodeKvListValue(kv), og, sc).trace_id = Tid(2);
  auto& l4 = m.AddLog(0, 5, "DEBUG", otlp::EncodeIntValue(42), og, sc);
  l4.observed_time_unix_nano = kT0 + 4 * kSec;
  l4.event_name = m.Str("player.stall");
  l4.flags = 1;
  l4.dropped_attributes_count = 2;
  m.AddLog(kT0 + 5 * kSec, 21, "FATAL", otlp::EncodeStringValue("disk full"), pa, sc);
}

std::vector<int32_t> Severities(const LogSearchResult& r) {
  std::vector<int32_t> out;
  for (const auto& l : r.logs.logs) out.push_back(l.severity_number);
  return out;
}

void RunLogExpectations(Store* store) {
  auto expect = [&](LogQuery q, std::vector<int32_t> want, const char* what) {
    if (!q.end_unix_nanos) q.end_unix_nanos = kT0 + 100 * kSec;
    auto got = store->SearchLogs(q);
    ASSERT_TRUE(got.ok()) << what << ": " << got.status().ToString();
    EXPECT_EQ(Severities(*got), want) << what;
  };
  expect({}, {21, 5, 13, 17, 9}, "all, newest first");
  LogQuery q;
  q.min_severity = 13;
  expect(q, {21, 13, 17}, "min severity");
  q = {};
  q.service = "origin";
  expect(q, {5, 13}, "service");
  q = {};
  q.body_contains = "timeout";
  expect(q, {17}, "string body");
  q = {};
  q.body_contains = "slow manifest";
  expect(q, {13}, "kvlist body");
  q = {};
  q.body_contains = "42";
  expect(q, {5}, "int body");
  q = {};
  q.attributes = {{"episode.id", "ep-1"}};
  expect(q, {9}, "log attribute");
  q = {};
  q.attributes = {{"region", "eu"}};
  expect(q, {21}, "resource attribute");
  q = {};
  q.trace_id = Tid(2);
  expect(q, {13}, "trace id");
  q = {};
  q.trace_id = Tid(3);
  expect(q, {}, "unknown trace id");
  q = {};
  q.start_unix_nanos = kT0 + 2 * kSec;
  q.end_unix_nanos = kT0 + 4 * kSec;
  expect(q, {13, 17}, "time range");
  q = {};
  q.service = "packager";
  q.min_severity = 10;
  expect(q, {17}, "service and severity");

  // Pagination.
  q = {};
  q.limit = 2;
  q.end_unix_nanos = kT0 + 100 * kSec;
  std::vector<int32_t> all;
  for (int page = 0; page < 10; ++page) {
    auto got = store->SearchLogs(q);
    ASSERT_TRUE(got.ok());
    EXPECT_LE(got->logs.logs.size(), 2u);
    for (int32_t s : Severities(*got)) all.push_back(s);
    if (got->next_cursor.empty()) break;
    q.cursor = got->next_cursor;
  }
  EXPECT_EQ(all, (std::vector<int32_t>{21, 5, 13, 17, 9}));
  q.cursor = "%%%";
  EXPECT_EQ(store->SearchLogs(q).status().code(), StatusCode::kInvalidArgument);

  // Fields.
  LogQuery one;
  one.end_unix_nanos = kT0 + 100 * kSec;
  auto got = store->SearchLogs(one);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->logs.logs.size(), 5u);
  const otlp::Batch& b = got->logs;
  const otlp::LogRecord& l4 = b.logs[1];
  EXPECT_EQ(l4.time_unix_nano, 0u);
  EXPECT_EQ(l4.observed_time_unix_nano, kT0 + 4 * kSec);
  EXPECT_EQ(l4.severity_text, "DEBUG");
  EXPECT_EQ(l4.event_name, "player.stall");
  EXPECT_EQ(l4.flags, 1u);
  EXPECT_EQ(l4.dropped_attributes_count, 2u);
  otlp::ValueView body;
  const char* err = nullptr;
  ASSERT_TRUE(otlp::ParseAnyValue(l4.body, &body, &err));
  EXPECT_EQ(body.type, otlp::ValueType::kInt);
  EXPECT_EQ(body.int_value, 42);
  ASSERT_LT(l4.resource_index, b.resources.size());
  EXPECT_EQ(AttrTexts(b.resources[l4.resource_index].attributes.encoded),
            std::vector<std::string>{"service.name:1=origin"});
  ASSERT_LT(l4.scope_index, b.scopes.size());
  EXPECT_EQ(b.scopes[l4.scope_index].name, "logger");
  EXPECT_EQ(b.scopes[l4.scope_index].version, "3");
  const otlp::LogRecord& l1 = b.logs[4];
  EXPECT_EQ(l1.trace_id, Tid(1));
  EXPECT_EQ(l1.span_id, Sid(1));
  EXPECT_EQ(l1.observed_time_unix_nano, kT0 + kSec + kMs);
  EXPECT_EQ(AttrTexts(l1.attributes.encoded), std::vector<std::string>{"episode.id:1=ep-1"});
  ASSERT_TRUE(otlp::ParseAnyValue(b.logs[2].body, &body, &err));
  EXPECT_EQ(body.type, otlp::ValueType::kKvList);
  EXPECT_TRUE(otlp::IsZeroId(b.logs[0].trace_id));
}

TEST_P(StoreContractTest, SearchLogsByEveryFilterWithCursor) {
  BatchMaker m;
  BuildLogs(m);
  Append({&m.batch()});
  {
    SCOPED_TRACE("fresh");
    RunLogExpectations(store_.get());
  }
  MaintainAll();
  Reopen();
  {
    SCOPED_TRACE("after reopen");
    RunLogExpectations(store_.get());
  }
}

// A trace id's logs are found wherever they are: indexed (after Maintain), in the unindexed tail,
// across a reopen, after retention deleted some, and after retention deleted every log (ids of
// deleted rows must not come back unfindable). Tid(1) and its twin share their first 8 bytes.
TEST_P(StoreContractTest, SearchLogsByTraceIdInIndexAndTail) {
  otlp::TraceId twin = Tid(1);
  twin[15] ^= 0xff;
  auto make = [](std::vector<std::pair<uint64_t, otlp::TraceId>> logs) {
    auto m = std::make_unique<BatchMaker>();
    uint32_t r = m->AddResource("svc");
    uint32_t s = m->AddScope("lib");
    for (const auto& [t, tid] : logs) {
      m->AddLog(t, 9, "INFO", otlp::EncodeStringValue("x"), r, s).trace_id = tid;
      m->AddLog(t, 9, "INFO", otlp::EncodeStringValue("no trace"), r, s);
    }
    return m;
  };
  // Seconds after kT0 of the logs of `tid`, newest first, read in pages of `limit`.
  auto times = [&](const otlp::TraceId& tid, uint32_t limit = 0, uint64_t start = 0,
                   uint64_t end = kT0 + 1000 * kSec) {
    std::vector<uint64_t> out;
    LogQuery q;
    q.trace_id = tid;
    q.limit = limit;
    q.start_unix_nanos = start;
    q.end_unix_nanos = end;
    for (int page = 0; page < 20; ++page) {
      auto got = store_->SearchLogs(q);
      EXPECT_TRUE(got.ok()) << got.status().ToString();
      if (!got.ok()) break;
      for (const auto& l : got->logs.logs) {
        EXPECT_EQ(l.trace_id, tid);
        out.push_back((l.time_unix_nano - kT0) / kSec);
      }
      if (got->next_cursor.empty()) break;
      q.cursor = got->next_cursor;
    }
    return out;
  };
  using T = std::vector<uint64_t>;
  auto a = make({{kT0 + 1 * kSec, Tid(1)}, {kT0 + 2 * kSec, twin}, {kT0 + 3 * kSec, Tid(1)},
                 {kT0 + 4 * kSec, Tid(2)}});
  Append({&a->batch()});
  MaintainAll();
  auto b = make({{kT0 + 5 * kSec, Tid(1)}, {kT0 + 6 * kSec, twin}, {kT0 + 7 * kSec, Tid(1)}});
  Append({&b->batch()});  // stays in the tail
  auto check = [&](const char* what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(times(Tid(1)), (T{7, 5, 3, 1}));
    EXPECT_EQ(times(Tid(1), 1), (T{7, 5, 3, 1}));
    EXPECT_EQ(times(Tid(1), 3), (T{7, 5, 3, 1}));
    EXPECT_EQ(times(twin), (T{6, 2}));
    EXPECT_EQ(times(Tid(2)), (T{4}));
    EXPECT_EQ(times(Tid(3)), (T{}));
    EXPECT_EQ(times(Tid(1), 0, kT0 + 3 * kSec, kT0 + 7 * kSec), (T{5, 3}));
    EXPECT_EQ(times(Tid(1), 0, kT0 + 4 * kSec, kT0 + 5 * kSec), (T{}));
  };
  check("index and tail");
  Reopen();
  check("after reopen");
  MaintainAll();
  check("all indexed");

  // Retention deletes the logs before t+3.5s; later logs stay findable.
  bool more = true;
  for (int i = 0; i < 100 && more; ++i) {
    RetentionCutoffs c;
    c.logs = kT0 + 3 * kSec + kSec / 2;
    auto r = store_->ApplyRetention(c, 1);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    more = r->more;
  }
  EXPECT_FALSE(more);
  EXPECT_EQ(times(Tid(1)), (T{7, 5}));
  EXPECT_EQ(times(twin), (T{6}));
  EXPECT_EQ(times(Tid(2)), (T{4}));

  // Retention deletes every log, including the newest indexed ones; new logs get fresh ids.
  RetentionCutoffs all;
  all.logs = kT0 + 100 * kSec;
  for (int i = 0; i < 100; ++i) {
    auto r = store_->ApplyRetention(all, 1000);
    ASSERT_TRUE(r.ok());
    if (!r->more) break;
  }
  EXPECT_EQ(times(Tid(1)), (T{}));
  auto c = make({{kT0 + 200 * kSec, Tid(1)}});
  Append({&c->batch()});
  EXPECT_EQ(times(Tid(1)), (T{200}));
  Reopen();
  EXPECT_EQ(times(Tid(1)), (T{200}));
  MaintainAll();
  EXPECT_EQ(times(Tid(1)), (T{200}));
  auto d = make({{kT0 + 201 * kSec, Tid(1)}});
  Append({&d->batch()});
  EXPECT_EQ(times(Tid(1)), (T{201, 200}));
  auto st = store_->Stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->logs, 4u);
}

// ---------------------------------------------------------------------------------------------
// Retention, durability, concurrency.

TEST_P(StoreContractTest, RetentionDeletesOldDataInChunks) {
  const uint64_t cutoff = kT0 + 50 * kSec;
  auto make = [](uint32_t trace, uint64_t t, int spans) {
    auto m = std::make_unique<BatchMaker>();
    uint32_t r = m->AddResource("svc");
    uint32_t s = m->AddScope("lib");
    for (int i = 0; i < spans; ++i)
      m->AddSpan(Tid(trace), i + 1, i ? 1 : 0, "op", t + i * kMs, kMs, r, s);
    uint32_t g = m->AddMetric("temp", otlp::MetricType::kGauge, otlp::Temporality::kUnspecified,
                              false, r, s);
    auto& p = m->AddPoint(g, t);
    p.value_kind = otlp::NumberKind::kInt;
    p.as_int = trace;
    m->AddLog(t, 9, "INFO", otlp::EncodeStringValue("x"), r, s);
    return m;
  };
  auto old1 = make(1, kT0, 4);
  auto fresh = make(2, kT0 + 100 * kSec, 3);
  auto old2 = make(3, kT0 + kSec, 2);  // arrives late, stays in the unindexed tail
  Append({&old1->batch()});
  MaintainAll();
  Append({&fresh->batch()});
  MaintainAll();
  Append({&old2->batch()});

  RetentionResult total;
  bool done = false;
  for (int i = 0; i < 1000 && !done; ++i) {
    auto r = store_->ApplyRetention(RetentionCutoffs::All(cutoff), 1);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    total.spans_deleted += r->spans_deleted;
    total.points_deleted += r->points_deleted;
    total.logs_deleted += r->logs_deleted;
    EXPECT_LE(r->spans_deleted, 1u);
    EXPECT_LE(r->points_deleted, 1u);
    EXPECT_LE(r->logs_deleted, 1u);
    done = !r->more;
  }
  ASSERT_TRUE(done);
  EXPECT_EQ(total.spans_deleted, 6u);
  EXPECT_EQ(total.points_deleted, 2u);
  EXPECT_EQ(total.logs_deleted, 2u);
  EXPECT_EQ(store_->GetTrace(Tid(1)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetTrace(Tid(3)).status().code(), StatusCode::kNotFound);
  auto kept = store_->GetTrace(Tid(2));
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->spans.size(), 3u);
  auto search = store_->SearchTraces({});
  ASSERT_TRUE(search.ok());
  EXPECT_EQ(Ids(*search), std::vector<uint32_t>{2});
  auto logs = store_->SearchLogs({});
  ASSERT_TRUE(logs.ok());
  EXPECT_EQ(logs->logs.logs.size(), 1u);
  auto series = store_->QuerySeries(SQ("temp", SeriesFunction::kRaw, 0, 1000, 0));
  ASSERT_TRUE(series.ok());
  ASSERT_EQ(series->series.size(), 1u);
  ExpectV(Values(series->series[0]), V{{100, 2}});
  auto st = store_->Stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->spans, 3u);
  EXPECT_EQ(st->metric_points, 1u);
  EXPECT_EQ(st->logs, 1u);
  // Nothing left to delete; new data after retention still works.
  auto again = store_->ApplyRetention(RetentionCutoffs::All(cutoff), 100);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->spans_deleted + again->points_deleted + again->logs_deleted, 0u);
  EXPECT_FALSE(again->more);
  auto late = make(4, kT0 + 200 * kSec, 2);
  Append({&late->batch()});
  MaintainAll();
  EXPECT_TRUE(store_->GetTrace(Tid(4)).ok());
}

TEST_P(StoreContractTest, RetentionCutoffsArePerSignal) {
  // Metrics are typically kept longer than traces and logs: each signal has its own cutoff, and
  // a zero cutoff keeps that signal.
  BatchMaker m;
  uint32_t r = m.AddResource("svc");
  uint32_t s = m.AddScope("lib");
  m.AddSpan(Tid(5), 1, 0, "op", kT0, kMs, r, s);
  uint32_t g = m.AddMetric("temp", otlp::MetricType::kGauge, otlp::Temporality::kUnspecified,
                           false, r, s);
  auto& p = m.AddPoint(g, kT0);
  p.value_kind = otlp::NumberKind::kInt;
  p.as_int = 7;
  m.AddLog(kT0, 9, "INFO", otlp::EncodeStringValue("x"), r, s);
  Append({&m.batch()});
  MaintainAll();
  RetentionCutoffs only_traces;
  only_traces.traces = kT0 + kSec;
  auto res = store_->ApplyRetention(only_traces, 100);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->spans_deleted, 1u);
  EXPECT_EQ(res->points_deleted, 0u);
  EXPECT_EQ(res->logs_deleted, 0u);
  EXPECT_EQ(store_->GetTrace(Tid(5)).status().code(), StatusCode::kNotFound);
  auto st = store_->Stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->metric_points, 1u);
  EXPECT_EQ(st->logs, 1u);
  RetentionCutoffs only_logs;
  only_logs.logs = kT0 + kSec;
  res = store_->ApplyRetention(only_logs, 100);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->logs_deleted, 1u);
  EXPECT_EQ(res->points_deleted, 0u);
  st = store_->Stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->metric_points, 1u);
  EXPECT_EQ(st->logs, 0u);
}

TEST_P(StoreContractTest, DataSurvivesCloseAndReopen) {
  BatchMaker m;
  uint32_t r = m.AddResource("svc");
  uint32_t s = m.AddScope("lib");
  for (int i = 0; i < 20; ++i) m.AddSpan(Tid(77), i + 1, i ? 1 : 0, "op", kT0 + i * kMs, kMs, r, s);
  m.AddLog(kT0, 9, "INFO", otlp::EncodeStringValue("kept"), r, s);
  Append({&m.batch()});
  Reopen();
  auto got = store_->GetTrace(Tid(77));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->spans.size(), 20u);
  MaintainAll();
  BatchMaker more;
  more.AddResource("svc");
  more.AddScope("lib");
  more.AddSpan(Tid(77), 100, 1, "after", kT0 + kSec, kMs, 0, 0);
  Append({&more.batch()});
  Reopen();
  got = store_->GetTrace(Tid(77));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->spans.size(), 21u);
  auto st = store_->Stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->spans, 21u);
  EXPECT_EQ(st->logs, 1u);
}

TEST_P(StoreContractTest, ReadersRunConcurrentlyWithTheWriter) {
  BatchMaker known;
  known.AddResource("svc");
  known.AddScope("lib");
  for (int i = 0; i < 10; ++i)
    known.AddSpan(Tid(1), i + 1, i ? 1 : 0, "known", kT0 + i * kMs, kMs, 0, 0);
  Append({&known.batch()});
  MaintainAll();

  std::atomic<bool> stop{false};
  std::atomic<uint32_t> committed{0};  // traces 2..committed+1 are durable, 5 spans each
  std::atomic<int> errors{0}, reads{0};
  auto reader = [&] {
    std::mt19937 rng(std::hash<std::thread::id>()(std::this_thread::get_id()));
    while (!stop.load()) {
      auto k = store_->GetTrace(Tid(1));
      if (!k.ok() || k->spans.size() != 10) ++errors;
      uint32_t n = committed.load();
      if (n > 0) {
        uint32_t pick = 2 + rng() % n;
        auto t = store_->GetTrace(Tid(pick));
        if (!t.ok() || t->spans.size() != 5) ++errors;
      }
      TraceQuery q;
      q.limit = 5;
      if (!store_->SearchTraces(q).ok()) ++errors;
      ++reads;
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) readers.emplace_back(reader);
  for (uint32_t i = 0; i < 150; ++i) {
    BatchMaker m;
    m.AddResource("svc");
    m.AddScope("lib");
    for (int k = 0; k < 5; ++k)
      m.AddSpan(Tid(2 + i), k + 1, k ? 1 : 0, "w", kT0 + i * kMs, kMs, 0, 0);
    Append({&m.batch()});
    committed.store(i + 1);
    if (i % 10 == 0) MaintainAll();
  }
  // Let the readers see the final state too.
  while (reads.load() < 50) std::this_thread::yield();
  stop.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GE(reads.load(), 50);
}

// ---------------------------------------------------------------------------------------------
// Player telemetry: sessions and playback events.

void AddEvent(otlp::Batch* b, std::string_view project, std::string_view session,
              std::string_view name, uint64_t received, int64_t seq,
              std::string_view meta = "") {
  otlp::PlaybackEvent e;
  e.event_name = b->arena.Copy(name);
  e.project_id = b->arena.Copy(project);
  e.session_id = b->arena.Copy(session);
  e.client_timestamp = b->arena.Copy("2023-11-14T22:13:20.000Z");
  e.client_unix_nanos = kT0;
  e.has_sequence_number = seq >= 0;
  e.sequence_number = seq >= 0 ? seq : 0;
  e.sdk_name = b->arena.Copy("@avtrace/player");
  e.sdk_version = b->arena.Copy("1.2.3");
  e.schema_version = b->arena.Copy("1.0");
  e.meta_json = b->arena.Copy(meta);
  e.server_received_unix_nanos = received;
  e.trace_id = Tid(9);
  e.span_id = Sid(3);
  e.time_skew_warning = seq == 2;
  e.source = otlp::PlaybackSource::kCmcd;
  e.delivery_status =
      seq == 3 ? otlp::DeliveryStatus::kDuplicateSuspected : otlp::DeliveryStatus::kAccepted;
  e.correlation_id = b->arena.Copy("ignored-the-store-takes-the-session-one");
  b->playback_events.push_back(e);
}

player::SessionState MakeSession(std::string project, std::string session, uint64_t started) {
  player::SessionState s;
  s.project_id = std::move(project);
  s.session_id = std::move(session);
  s.started_at_unix_nanos = started;
  s.last_event_at_unix_nanos = started + kSec;
  s.event_count = 3;
  s.correlation_id = "0b6c6a0e-3a53-4c1b-9d5e-5c1e8d0b7a11";
  s.sample_rate_ppm = 250'000;
  s.sdk_name = "hls.js";
  s.protocol = "hls";
  s.network_signal_absent = {{"segment", "native_hls", "native_hls_unavailable"}};
  s.qoe.rebuffer_count = 2;
  s.qoe.reported_startup_ms = 1234;
  s.qoe.phase = player::PlayPhase::kRebuffering;
  s.qoe.fatal_after_start = true;
  s.qoe.cmcd_starvation_ms_absolute = 77;
  return s;
}

TEST_P(StoreContractTest, PlaybackSessionsAndEventsRoundTrip) {
  otlp::Batch b;
  // Out of canonical order on purpose: received times and sequence numbers interleave.
  AddEvent(&b, "demo", "s1", "segment_loaded", kT0 + 2 * kSec, 2, R"({"k":1})");
  AddEvent(&b, "demo", "s1", "manifest_loaded", kT0 + kSec, 1);
  AddEvent(&b, "demo", "s1", "no_seq", kT0 + 2 * kSec, -1);
  AddEvent(&b, "demo", "s1", "dup", kT0 + 2 * kSec, 3);
  std::vector<player::SessionState> sessions = {MakeSession("demo", "s1", kT0)};
  std::vector<const otlp::Batch*> v = {&b};
  ASSERT_TRUE(store_->AppendWithSessions(v, sessions).ok());

  for (int round = 0; round < 2; ++round) {
    auto got = store_->GetSession("demo", "s1", 100);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->correlation_id, sessions[0].correlation_id);
    EXPECT_EQ(got->sample_rate_ppm, 250'000u);
    EXPECT_EQ(got->started_at_unix_nanos, kT0);
    EXPECT_EQ(got->event_count, 3u);
    EXPECT_EQ(got->sdk_name, "hls.js");
    EXPECT_EQ(got->protocol, "hls");
    EXPECT_EQ(got->network_signal_absent, sessions[0].network_signal_absent);
    EXPECT_EQ(got->qoe.rebuffer_count, 2u);
    EXPECT_EQ(got->qoe.reported_startup_ms, 1234);
    EXPECT_EQ(got->qoe.phase, player::PlayPhase::kRebuffering);
    EXPECT_TRUE(got->qoe.fatal_after_start);
    EXPECT_EQ(got->qoe.cmcd_starvation_ms_absolute, 77u);
    EXPECT_EQ(got->seen_sequence_numbers, (std::vector<int64_t>{2, 1, 3}));
    EXPECT_EQ(store_->GetSession("demo", "nope").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(store_->GetSession("other", "s1").status().code(), StatusCode::kNotFound);

    // Events: server_received_at, sequence_number (absent first), ingest_sequence.
    auto page = store_->ListSessionEvents({"demo", "s1", 100, std::nullopt});
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    const auto& ev = page->events.playback_events;
    ASSERT_EQ(ev.size(), 4u);
    EXPECT_EQ(ev[0].event_name, "manifest_loaded");
    EXPECT_EQ(ev[1].event_name, "no_seq");
    EXPECT_FALSE(ev[1].has_sequence_number);
    EXPECT_EQ(ev[2].event_name, "segment_loaded");
    EXPECT_EQ(ev[3].event_name, "dup");
    EXPECT_EQ(ev[3].delivery_status, otlp::DeliveryStatus::kDuplicateSuspected);
    EXPECT_EQ(ev[2].meta_json, R"({"k":1})");
    EXPECT_TRUE(ev[2].time_skew_warning);
    EXPECT_EQ(ev[2].source, otlp::PlaybackSource::kCmcd);
    EXPECT_EQ(ev[2].trace_id, Tid(9));
    EXPECT_EQ(ev[2].span_id, Sid(3));
    EXPECT_EQ(ev[2].correlation_id, sessions[0].correlation_id);
    EXPECT_EQ(ev[2].sdk_version, "1.2.3");
    EXPECT_EQ(ev[2].project_id, "demo");
    EXPECT_EQ(ev[2].session_id, "s1");
    // ingest_sequence follows the append order.
    EXPECT_EQ(ev[2].ingest_sequence + 1, ev[0].ingest_sequence);
    EXPECT_FALSE(page->more);
    Reopen();
  }
}

// Playback retention: ended sessions whose last event is older than the cutoff go with every
// event; open sessions (however old) and recent ended ones stay; the walk is chunked.
TEST_P(StoreContractTest, PlaybackRetentionDeletesOldEndedSessionsWhole) {
  otlp::Batch b;
  std::vector<player::SessionState> sessions;
  for (int i = 0; i < 6; ++i) {
    const std::string id = "s" + std::to_string(i);
    // s0..s3 old (last event kT0 + 1 s), s4 and s5 recent; s3 is old but still active.
    const uint64_t started = i < 4 ? kT0 : kT0 + 1000 * kSec;
    player::SessionState s = MakeSession("demo", id, started);
    s.status = i == 3 ? player::SessionStatus::kActive : player::SessionStatus::kEnded;
    sessions.push_back(s);
    for (int e = 0; e < 5; ++e) AddEvent(&b, "demo", id, "e", started + e * kMs, e);
  }
  std::vector<const otlp::Batch*> v = {&b};
  ASSERT_TRUE(store_->AppendWithSessions(v, sessions).ok());

  RetentionResult total;
  bool done = false;
  RetentionCutoffs cut;
  cut.playback = kT0 + 500 * kSec;
  for (int i = 0; i < 100 && !done; ++i) {
    auto r = store_->ApplyRetention(cut, 1);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    total.sessions_deleted += r->sessions_deleted;
    total.playback_events_deleted += r->playback_events_deleted;
    done = !r->more;
  }
  ASSERT_TRUE(done);
  EXPECT_EQ(total.sessions_deleted, 3u);
  EXPECT_EQ(total.playback_events_deleted, 15u);
  for (const char* gone : {"s0", "s1", "s2"}) {
    EXPECT_EQ(store_->GetSession("demo", gone).status().code(), StatusCode::kNotFound) << gone;
    auto ev = store_->ListSessionEvents({"demo", gone, 100, std::nullopt});
    EXPECT_TRUE(!ev.ok() || ev->events.playback_events.empty()) << gone;
  }
  for (const char* kept : {"s3", "s4", "s5"}) {
    ASSERT_TRUE(store_->GetSession("demo", kept).ok()) << kept;
    auto ev = store_->ListSessionEvents({"demo", kept, 100, std::nullopt});
    ASSERT_TRUE(ev.ok());
    EXPECT_EQ(ev->events.playback_events.size(), 5u) << kept;
  }
  // Later events keep strictly increasing ingest sequences after the deletion and a reopen, even
  // when the newest events were the ones deleted.
  auto before = store_->EventsAfter(0, 1000);
  ASSERT_TRUE(before.ok());
  const uint64_t last = before->events.playback_events.back().ingest_sequence;
  RetentionCutoffs all;
  all.playback = kT0 + 5000 * kSec;
  for (int i = 0; i < 100; ++i) {
    auto r = store_->ApplyRetention(all, 1000);
    ASSERT_TRUE(r.ok());
    if (!r->more) break;
  }
  EXPECT_EQ(store_->GetSession("demo", "s5").status().code(), StatusCode::kNotFound);
  Reopen();
  otlp::Batch more;
  AddEvent(&more, "demo", "s3", "late", kT0 + 1001 * kSec, 9);
  std::vector<const otlp::Batch*> v2 = {&more};
  ASSERT_TRUE(store_->AppendWithSessions(v2, {}).ok());
  auto after = store_->EventsAfter(last, 10);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->events.playback_events.size(), 1u);
  EXPECT_GT(after->events.playback_events[0].ingest_sequence, last);
}

TEST_P(StoreContractTest, PlaybackPagesHaveNoGapsOrDuplicates) {
  otlp::Batch b;
  std::vector<player::SessionState> sessions;
  for (int i = 0; i < 25; ++i) {
    // Pairs share started_at so the session_id tie-break matters.
    sessions.push_back(MakeSession(i % 3 ? "demo" : "other", "s" + std::to_string(100 + i),
                                   kT0 + static_cast<uint64_t>(i / 2) * kSec));
  }
  for (int i = 0; i < 57; ++i) AddEvent(&b, "demo", "s101", "e", kT0 + (i % 5) * kSec, i % 7);
  std::vector<const otlp::Batch*> v = {&b};
  ASSERT_TRUE(store_->AppendWithSessions(v, sessions).ok());

  SessionListQuery q;
  q.limit = 4;
  std::vector<std::string> seen;
  uint64_t prev_started = UINT64_MAX;
  for (int guard = 0; guard < 20; ++guard) {
    auto page = store_->ListSessions(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& s : page->sessions) {
      EXPECT_LE(s.started_at_unix_nanos, prev_started);
      prev_started = s.started_at_unix_nanos;
      seen.push_back(s.project_id + "/" + s.session_id);
      EXPECT_TRUE(s.seen_sequence_numbers.empty());
    }
    if (!page->more) break;
    const auto& last = page->sessions.back();
    q.after = SessionPosition{last.started_at_unix_nanos, last.session_id, last.project_id};
  }
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 25u);

  SessionListQuery f;
  f.project_id = "other";
  f.started_from_unix_nanos = kT0 + 3 * kSec;
  auto filtered = store_->ListSessions(f);
  ASSERT_TRUE(filtered.ok());
  for (const auto& s : filtered->sessions) {
    EXPECT_EQ(s.project_id, "other");
    EXPECT_GE(s.started_at_unix_nanos, kT0 + 3 * kSec);
  }
  EXPECT_EQ(filtered->sessions.size(), 7u);  // i % 3 == 0 and i / 2 >= 3: 6, 9, ..., 24
  SessionListQuery zero;
  zero.limit = 0;
  EXPECT_FALSE(store_->ListSessions(zero).ok());

  SessionEventsQuery eq{"demo", "s101", 10, std::nullopt};
  std::vector<uint64_t> ids;
  EventPosition prev{};
  for (int guard = 0; guard < 20; ++guard) {
    auto page = store_->ListSessionEvents(eq);
    ASSERT_TRUE(page.ok());
    for (const auto& e : page->events.playback_events) {
      EventPosition pos{e.server_received_unix_nanos,
                        e.has_sequence_number ? e.sequence_number : -1, e.ingest_sequence};
      EXPECT_TRUE(std::tie(prev.server_received_unix_nanos, prev.sequence_number,
                           prev.ingest_sequence) <
                  std::tie(pos.server_received_unix_nanos, pos.sequence_number,
                           pos.ingest_sequence));
      prev = pos;
      ids.push_back(e.ingest_sequence);
    }
    if (!page->more) break;
    eq.after = prev;
  }
  EXPECT_EQ(ids.size(), 57u);
  EXPECT_EQ(std::set<uint64_t>(ids.begin(), ids.end()).size(), 57u);

  // SSE backfill: strictly after a sequence, ascending, bounded.
  const uint64_t first = *std::min_element(ids.begin(), ids.end());
  auto after = store_->EventsAfter(first + 49, 5);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->events.playback_events.size(), 5u);
  EXPECT_EQ(after->events.playback_events[0].ingest_sequence, first + 50);
  EXPECT_EQ(after->events.playback_events[0].session_id, "s101");
  EXPECT_TRUE(after->more);
  auto tail = store_->EventsAfter(first + 55, 5);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail->events.playback_events.size(), 1u);
  EXPECT_FALSE(tail->more);
}

TEST_P(StoreContractTest, PlaybackSessionUpsertAndOpenSessionsAndSequenceAfterReopen) {
  otlp::Batch b;
  AddEvent(&b, "demo", "orphan", "e", kT0, 5);  // no session state given: a minimal row
  std::vector<const otlp::Batch*> v = {&b};
  ASSERT_TRUE(store_->Append(v).ok());
  auto orphan = store_->GetSession("demo", "orphan", 10);
  ASSERT_TRUE(orphan.ok());
  EXPECT_EQ(orphan->status, player::SessionStatus::kActive);
  EXPECT_EQ(orphan->seen_sequence_numbers, (std::vector<int64_t>{5}));

  auto s = MakeSession("demo", "live", kT0);
  auto e = MakeSession("demo", "done", kT0);
  e.status = player::SessionStatus::kEnded;
  e.end_source = player::EndSource::kSweeper;
  e.ended_at_unix_nanos = kT0 + 400 * kSec;
  std::vector<player::SessionState> sessions = {s, e};
  ASSERT_TRUE(store_->AppendWithSessions({}, sessions).ok());
  s.status = player::SessionStatus::kStalled;
  s.event_count = 9;
  ASSERT_TRUE(store_->AppendWithSessions({}, std::vector<player::SessionState>{s}).ok());
  Reopen();
  auto open = store_->OpenSessions(100);
  ASSERT_TRUE(open.ok());
  std::set<std::string> names;
  for (const auto& o : *open) {
    names.insert(o.session_id);
    if (o.session_id == "live") {
      EXPECT_EQ(o.status, player::SessionStatus::kStalled);
      EXPECT_EQ(o.event_count, 9u);
    }
  }
  EXPECT_EQ(names, (std::set<std::string>{"live", "orphan"}));
  auto done = store_->GetSession("demo", "done");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->end_source, player::EndSource::kSweeper);
  EXPECT_EQ(done->ended_at_unix_nanos, kT0 + 400 * kSec);

  // ingest_sequence keeps increasing across a reopen.
  otlp::Batch more;
  AddEvent(&more, "demo", "orphan", "e2", kT0 + kSec, 6);
  std::vector<const otlp::Batch*> v2 = {&more};
  ASSERT_TRUE(store_->Append(v2).ok());
  auto all = store_->EventsAfter(0, 10);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->events.playback_events.size(), 2u);
  EXPECT_LT(all->events.playback_events[0].ingest_sequence,
            all->events.playback_events[1].ingest_sequence);
}

}  // namespace
}  // namespace avtrace::store
