#include "api/query_api.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>

#include "api/render.h"
#include "metrics/registry.h"
#include "otlp/attributes.h"
#include "otlp/encode.h"

namespace avtrace::api {
namespace {

using ingest::HttpRequest;
using ingest::HttpResponse;
using ingest::Responder;

otlp::TraceId TestTraceId() {
  otlp::TraceId id;
  EXPECT_TRUE(otlp::ParseHexId("4bf92f3577b34da6a3ce929d0e0e4736", id.data(), id.size()));
  return id;
}

// Canned answers; records the last query of each kind.
class FakeStore : public store::Store {
 public:
  Status Append(std::span<const otlp::Batch* const>) override { return Status::Ok(); }
  Result<bool> Maintain(uint32_t) override { return false; }
  Result<store::RetentionResult> ApplyRetention(const store::RetentionCutoffs&, uint32_t) override {
    return store::RetentionResult{};
  }
  Result<otlp::Batch> GetTrace(const otlp::TraceId& id) override {
    if (id != TestTraceId()) return NotFound("no such trace");
    otlp::Batch b;
    std::string attrs;
    otlp::AttrWriter(&attrs).String("service.name", "player");
    b.resources.push_back(otlp::Resource{{b.arena.Copy(attrs), 1}, 0, {}});
    b.scopes.push_back(otlp::Scope{});
    otlp::Span s;
    s.trace_id = id;
    s.span_id = {1, 2, 3, 4, 5, 6, 7, 8};
    s.name = b.arena.Copy("session.start");
    s.start_time_unix_nano = 1714564800'000000000;
    s.end_time_unix_nano = 1714564801'000000000;
    b.spans.push_back(std::move(s));
    return b;
  }
  Result<store::TraceSearchResult> SearchTraces(const store::TraceQuery& q) override {
    last_trace_query = q;
    store::TraceSearchResult r;
    store::TraceSummary t;
    t.trace_id = TestTraceId();
    t.root_service = "player";
    t.root_span_name = "session.start";
    t.start_unix_nanos = 1714564800'000000001;
    t.duration_nanos = 1'500'000;
    t.span_count = 3;
    t.error_count = 1;
    t.services = {"player", "cdn"};
    r.traces.push_back(t);
    r.next_cursor = "c2";
    return r;
  }
  Result<std::vector<store::MetricInfo>> ListMetrics(const store::MetricListQuery& q) override {
    last_metric_list = q;
    store::MetricInfo m;
    m.name = "player.ttff";
    m.unit = "ms";
    m.type = otlp::MetricType::kHistogram;
    m.temporality = otlp::Temporality::kCumulative;
    m.series_count = 2;
    m.last_seen_unix_nanos = 1714564800'000000000;
    return std::vector<store::MetricInfo>{m};
  }
  Result<store::SeriesResult> QuerySeries(const store::SeriesQuery& q) override {
    last_series = q;
    if (q.metric == "missing") return NotFound("no metric");
    store::SeriesResult r;
    r.metric.name = q.metric;
    r.metric.type = otlp::MetricType::kHistogram;
    store::Series s;
    s.labels = {{"stream", "live-1"}};
    s.points.push_back({1000, 2.5, 4, 10.0});
    s.points.push_back({2000, std::nan(""), 0, 0});
    r.series.push_back(s);
    r.truncated = true;
    return r;
  }
  Result<store::LogSearchResult> SearchLogs(const store::LogQuery& q) override {
    last_log_query = q;
    store::LogSearchResult r;
    r.logs.resources.push_back(otlp::Resource{});
    r.logs.scopes.push_back(otlp::Scope{});
    otlp::LogRecord l;
    l.severity_number = 17;
    l.severity_text = r.logs.arena.Copy("ERROR");
    l.body = r.logs.arena.Copy(otlp::EncodeStringValue("stall detected"));
    r.logs.logs.push_back(l);
    r.next_cursor = "next";
    return r;
  }
  Result<store::StoreStats> Stats() override {
    if (stats_fail) return Internal("stats unavailable");
    store::StoreStats s;
    s.spans = 10;
    s.logs = 3;
    return s;
  }
  void Close() override {}

  store::TraceQuery last_trace_query;
  store::MetricListQuery last_metric_list;
  store::SeriesQuery last_series;
  store::LogQuery last_log_query;
  bool stats_fail = false;
};

bool ValidJson(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  return parser.parse(text).get(doc) == simdjson::SUCCESS;
}

class QueryApiTest : public ::testing::Test {
 protected:
  QueryApiTest() { Make({}); }
  void Make(QueryRunner runner) {
    QueryApiDeps deps;
    deps.store = &store_;
    deps.registry = &registry_;
    deps.clock = &clock_;
    deps.version = "1.2.3";
    deps.pipeline_stats = [] {
      pipeline::PipelineStats s;
      s.queued_items = 5;
      s.commits = 2;
      return s;
    };
    deps.run_query = std::move(runner);
    api_ = std::make_unique<QueryApi>(std::move(deps));
    router_ = ingest::Router();
    api_->RegisterRoutes(&router_);
  }

  // Routes a GET like the server does and returns the answer (handlers here answer inline).
  HttpResponse Get(const std::string& target) {
    HttpRequest req;
    req.method = "GET";
    req.target = target;
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    auto match = router_.Find("GET", req.path);
    EXPECT_EQ(match.kind, ingest::Router::Match::Kind::kFound) << target;
    if (match.kind != ingest::Router::Match::Kind::kFound) return {};
    HttpResponse got;
    got.status = -1;
    (*match.handler)(std::move(req), Responder([&](HttpResponse r) { got = std::move(r); }));
    EXPECT_NE(got.status, -1) << "no inline answer for " << target;
    if (got.headers.Get("Content-Type") == "application/json") {
      EXPECT_TRUE(ValidJson(got.body)) << got.body;
    }
    return got;
  }

  FakeStore store_;
  metrics::Registry registry_;
  FakeClock clock_{1714564800'000000000};
  ingest::Router router_;
  std::unique_ptr<QueryApi> api_;
};

TEST_F(QueryApiTest, GetTraceSplicesOtlpJson) {
  HttpResponse r = Get("/api/v1/traces/4BF92F3577B34DA6A3CE929D0E0E4736");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(
      r.body.starts_with("{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"resourceSpans\":[{"))
      << r.body;
  EXPECT_NE(r.body.find("\"name\":\"session.start\""), std::string::npos);
  EXPECT_NE(r.body.find("\"startTimeUnixNano\":\"1714564800000000000\""), std::string::npos);
  EXPECT_EQ(r.headers.Get("Cache-Control"), "no-store");
}

TEST_F(QueryApiTest, GetTraceErrors) {
  HttpResponse r = Get("/api/v1/traces/00000000000000000000000000000001");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("\"code\":\"not_found\""), std::string::npos);
  r = Get("/api/v1/traces/xyz");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            "{\"error\":{\"code\":\"invalid_argument\",\"message\":\"trace id 'xyz': expected 32 "
            "hex digits\"}}");
  r = Get("/api/v1/traces/4bf92f3577b34da6a3ce929d0e0e4736?foo=1");
  EXPECT_EQ(r.status, 400);
}

TEST_F(QueryApiTest, SearchTracesParsesEveryParameter) {
  HttpResponse r =
      Get("/api/v1/traces?service=player&name=session.start&attr=stream.id%3Dlive-1&attr=cdn=a"
          "&minDuration=150ms&maxDuration=2s&status=error&start=1000&end=2024-05-01T12:00:00Z"
          "&limit=50&cursor=abc");
  EXPECT_EQ(r.status, 200) << r.body;
  const store::TraceQuery& q = store_.last_trace_query;
  EXPECT_EQ(q.service, "player");
  EXPECT_EQ(q.span_name, "session.start");
  ASSERT_EQ(q.attributes.size(), 2u);
  EXPECT_EQ(q.attributes[0].key, "stream.id");
  EXPECT_EQ(q.attributes[0].value, "live-1");
  EXPECT_EQ(q.min_duration_nanos, 150'000'000u);
  EXPECT_EQ(q.max_duration_nanos, 2'000'000'000u);
  EXPECT_EQ(q.status, store::SpanStatusFilter::kError);
  EXPECT_EQ(q.start_unix_nanos, 1000u);
  EXPECT_EQ(q.end_unix_nanos, 1714564800'000000000u);
  EXPECT_EQ(q.limit, 50u);
  EXPECT_EQ(q.cursor, "abc");
  EXPECT_EQ(r.body,
            "{\"traces\":[{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\","
            "\"rootServiceName\":\"player\",\"rootSpanName\":\"session.start\","
            "\"startTimeUnixNano\":\"1714564800000000001\",\"durationNanos\":\"1500000\","
            "\"spanCount\":3,\"errorCount\":1,\"services\":[\"player\",\"cdn\"]}],"
            "\"nextCursor\":\"c2\"}");
}

TEST_F(QueryApiTest, SearchTracesErrors) {
  struct Case {
    const char* query;
    const char* message_part;
  };
  for (const Case& c :
       {Case{"status=bad", "parameter 'status': expected one of ok, error, unset, got 'bad'"},
        Case{"minDuration=2s&maxDuration=1s", "'minDuration' must not exceed 'maxDuration'"},
        Case{"limit=1001", "parameter 'limit': expected an integer from 1 to 1000"},
        Case{"start=5&end=5", "parameter 'start' must be before 'end'"},
        Case{"servce=x", "unknown parameter 'servce'"},
        Case{"minDuration=abc", "parameter 'minDuration'"}}) {
    HttpResponse r = Get(std::string("/api/v1/traces?") + c.query);
    EXPECT_EQ(r.status, 400) << c.query;
    EXPECT_NE(r.body.find(c.message_part), std::string::npos) << c.query << ": " << r.body;
  }
}

TEST_F(QueryApiTest, ListMetrics) {
  HttpResponse r = Get("/api/v1/metrics?prefix=player.&service=web");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(store_.last_metric_list.name_prefix, "player.");
  EXPECT_EQ(store_.last_metric_list.service, "web");
  EXPECT_EQ(r.body,
            "{\"metrics\":[{\"name\":\"player.ttff\",\"description\":\"\",\"unit\":\"ms\","
            "\"type\":\"histogram\",\"temporality\":\"cumulative\",\"monotonic\":false,"
            "\"seriesCount\":2,\"lastSeenUnixNano\":\"1714564800000000000\"}]}");
}

TEST_F(QueryApiTest, MetricSeries) {
  HttpResponse r =
      Get("/api/v1/metrics/http.server%2Fduration/series?fn=quantile&q=0.95&step=30s"
          "&match=stream=live-1&maxSeries=10&start=2024-05-01T11:00:00Z");
  EXPECT_EQ(r.status, 200) << r.body;
  const store::SeriesQuery& q = store_.last_series;
  EXPECT_EQ(q.metric, "http.server/duration");
  EXPECT_EQ(q.function, store::SeriesFunction::kQuantile);
  EXPECT_DOUBLE_EQ(q.quantile, 0.95);
  EXPECT_EQ(q.step_nanos, 30'000'000'000u);
  EXPECT_EQ(q.max_series, 10u);
  EXPECT_EQ(q.end_unix_nanos, clock_.NowUnixNanos());
  EXPECT_EQ(q.start_unix_nanos, clock_.NowUnixNanos() - 3600'000000000);
  ASSERT_EQ(q.match.size(), 1u);
  EXPECT_EQ(q.match[0].key, "stream");
  // Quantile series carry values only.
  EXPECT_NE(r.body.find("\"points\":[{\"t\":\"1000\",\"v\":2.5},{\"t\":\"2000\",\"v\":null}]"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("\"truncated\":true"), std::string::npos);

  r = Get("/api/v1/metrics/player.ttff/series");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(store_.last_series.function, store::SeriesFunction::kRaw);
  EXPECT_NE(r.body.find("{\"t\":\"1000\",\"v\":2.5,\"count\":4,\"sum\":10}"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("\"labels\":{\"stream\":\"live-1\"}"), std::string::npos);
}

TEST_F(QueryApiTest, MetricSeriesErrors) {
  struct Case {
    const char* target;
    int status;
    const char* message_part;
  };
  for (const Case& c : {
           Case{"/api/v1/metrics/m/series?fn=rate", 400, "parameter 'step' is required"},
           Case{"/api/v1/metrics/m/series?fn=median", 400, "parameter 'fn': expected one of"},
           Case{"/api/v1/metrics/m/series?q=0.9", 400, "'q' applies only to fn=quantile"},
           Case{"/api/v1/metrics/m/series?fn=quantile&step=1m&q=1.5", 400, "parameter 'q'"},
           Case{"/api/v1/metrics/m/series?fn=avg&step=1ms&start=0&end=3600000000000", 400,
                "points per series exceed the limit"},
           Case{"/api/v1/metrics/missing/series", 404, "metric 'missing' not found"},
           Case{"/api/v1/metrics/m/points", 404, "/api/v1/metrics/{name}/series"},
           Case{"/api/v1/metrics/%zz/series", 400, "percent-encoding"},
       }) {
    HttpResponse r = Get(c.target);
    EXPECT_EQ(r.status, c.status) << c.target << ": " << r.body;
    EXPECT_NE(r.body.find(c.message_part), std::string::npos) << c.target << ": " << r.body;
  }
}

TEST_F(QueryApiTest, SearchLogs) {
  HttpResponse r =
      Get("/api/v1/logs?service=player&minSeverity=warn&q=stall&attr=session.id=s1"
          "&traceId=4bf92f3577b34da6a3ce929d0e0e4736&limit=10");
  EXPECT_EQ(r.status, 200) << r.body;
  const store::LogQuery& q = store_.last_log_query;
  EXPECT_EQ(q.service, "player");
  EXPECT_EQ(q.min_severity, 13);
  EXPECT_EQ(q.body_contains, "stall");
  ASSERT_TRUE(q.trace_id.has_value());
  EXPECT_EQ(*q.trace_id, TestTraceId());
  EXPECT_EQ(q.limit, 10u);
  EXPECT_TRUE(r.body.starts_with("{\"resourceLogs\":[")) << r.body;
  EXPECT_TRUE(r.body.ends_with(",\"nextCursor\":\"next\"}")) << r.body;
  EXPECT_NE(r.body.find("stall detected"), std::string::npos);

  r = Get("/api/v1/logs?minSeverity=17");
  EXPECT_EQ(store_.last_log_query.min_severity, 17);
  r = Get("/api/v1/logs?minSeverity=loud");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("parameter 'minSeverity'"), std::string::npos);
  r = Get("/api/v1/logs?traceId=123");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("parameter 'traceId': expected 32 hex digits"), std::string::npos);
}

TEST_F(QueryApiTest, StatusHealthAndReadiness) {
  api_->SetEndpoints({{"otlpHttp", "127.0.0.1:4318"}, {"http", "127.0.0.1:8080"}});
  clock_.Advance(90'500'000'000);
  HttpResponse r = Get("/api/v1/status");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"version\":\"1.2.3\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"uptimeSeconds\":90.5"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"otlpHttp\":\"127.0.0.1:4318\""), std::string::npos);
  EXPECT_NE(r.body.find("\"store\":{\"spans\":10,"), std::string::npos);
  EXPECT_NE(r.body.find("\"pipeline\":{\"queuedItems\":5,"), std::string::npos);
  store_.stats_fail = true;
  r = Get("/api/v1/status");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"store\":{\"error\":\"Internal: stats unavailable\"}"), std::string::npos)
      << r.body;

  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Get("/readyz").status, 503);
  api_->SetReady(true);
  EXPECT_EQ(Get("/readyz").status, 200);
}

TEST_F(QueryApiTest, PrometheusExposition) {
  registry_.Counter("avtrace_test_total", "help").Increment(3);
  HttpResponse r = Get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.Get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r.body.find("avtrace_test_total 3"), std::string::npos);
}

TEST_F(QueryApiTest, RefusedQueryIs503WithRetryAfter) {
  Make([](std::function<void()>) { return false; });
  HttpResponse r = Get("/api/v1/traces");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.headers.Get("Retry-After"), "1");
  EXPECT_NE(r.body.find("\"code\":\"unavailable\""), std::string::npos);
}

TEST_F(QueryApiTest, QueriesRunOnTheRunner) {
  std::vector<std::function<void()>> queued;
  Make([&](std::function<void()> work) {
    queued.push_back(std::move(work));
    return true;
  });
  HttpRequest req;
  req.path = "/api/v1/metrics";
  bool answered = false;
  api_->ListMetrics(std::move(req), Responder([&](HttpResponse r) {
                      answered = true;
                      EXPECT_EQ(r.status, 200);
                    }));
  EXPECT_FALSE(answered);
  ASSERT_EQ(queued.size(), 1u);
  queued[0]();
  EXPECT_TRUE(answered);
}

TEST(RenderTest, EmptyResultsKeepTheirShape) {
  otlp::Batch empty;
  EXPECT_EQ(RenderTrace(TestTraceId(), empty),
            "{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"resourceSpans\":[]}");
  store::LogSearchResult logs;
  EXPECT_EQ(RenderLogs(logs), "{\"resourceLogs\":[],\"nextCursor\":\"\"}");
  EXPECT_EQ(RenderTraceSearch({}), "{\"traces\":[],\"nextCursor\":\"\"}");
  EXPECT_EQ(RenderMetricList({}), "{\"metrics\":[]}");
}

TEST(RenderTest, StringsAreEscaped) {
  store::TraceSearchResult r;
  store::TraceSummary t;
  t.root_service = "a\"b\\c\x01\xff";
  r.traces.push_back(t);
  std::string json = RenderTraceSearch(r);
  EXPECT_TRUE(ValidJson(json)) << json;
  EXPECT_NE(json.find("\"rootServiceName\":\"a\\\"b\\\\c\\u0001\\ufffd\""), std::string::npos)
      << json;
}

TEST(ParseSeverityTest, NamesAndNumbers) {
  int32_t v = -1;
  EXPECT_TRUE(ParseSeverity("ERROR", &v));
  EXPECT_EQ(v, 17);
  EXPECT_TRUE(ParseSeverity("0", &v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(ParseSeverity("24", &v));
  EXPECT_FALSE(ParseSeverity("25", &v));
  EXPECT_FALSE(ParseSeverity("-1", &v));
  EXPECT_FALSE(ParseSeverity("", &v));
}

}  // namespace
}  // namespace avtrace::api
