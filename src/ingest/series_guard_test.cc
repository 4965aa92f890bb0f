// SeriesGuard: per-metric and total limits on active series, known series always pass, idle
// series stop counting, refusals reported as partial success.
#include "ingest/series_guard.h"

#include <gtest/gtest.h>

#include "metrics/registry.h"
#include "otlp/attributes.h"

namespace avtrace::ingest {
namespace {

// A batch of one gauge `metric` with points whose attribute "k" takes each of `values`.
otlp::Batch Points(std::string_view metric, std::initializer_list<int> values,
                   std::string_view service = "svc") {
  otlp::Batch b;
  std::string res;
  otlp::AttrWriter(&res).String("service.name", service);
  b.resources.push_back(otlp::Resource{{b.arena.Copy(res), 1}, 0, ""});
  b.scopes.push_back(otlp::Scope{});
  otlp::Metric m;
  m.name = b.arena.Copy(metric);
  b.metrics.push_back(m);
  for (int v : values) {
    otlp::MetricPoint p;
    std::string a;
    otlp::AttrWriter(&a).Int("k", v);
    p.attributes = otlp::AttrList{b.arena.Copy(a), 1};
    p.value_kind = otlp::NumberKind::kInt;
    p.as_int = v;
    b.points.push_back(std::move(p));
  }
  return b;
}

std::vector<int64_t> Values(const otlp::Batch& b) {
  std::vector<int64_t> v;
  for (const auto& p : b.points) v.push_back(p.as_int);
  return v;
}

TEST(SeriesGuard, PerMetricLimitRefusesOnlyNewSeries) {
  FakeClock clock(1'000'000'000'000ULL);
  metrics::Registry registry;
  SeriesGuard g({3, 100, 3600}, &registry, &clock);
  otlp::DecodeOutcome out;
  auto b = Points("http.requests", {1, 2, 3, 4, 5});
  EXPECT_EQ(g.Filter(&b, &out), 2);
  EXPECT_EQ(Values(b), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(out.rejected, 2);
  EXPECT_NE(out.error_message.find("metric 'http.requests' has 3 active series"), std::string::npos)
      << out.error_message;
  EXPECT_NE(out.error_message.find("storage.max_series_per_metric"), std::string::npos);
  // Known series keep flowing; another metric has its own budget; another resource is a new series.
  otlp::DecodeOutcome out2;
  auto again = Points("http.requests", {3, 1, 9});
  EXPECT_EQ(g.Filter(&again, &out2), 1);
  EXPECT_EQ(Values(again), (std::vector<int64_t>{3, 1}));
  auto other = Points("queue.depth", {1, 2});
  EXPECT_EQ(g.Filter(&other, &out2), 0);
  auto other_service = Points("http.requests", {1}, "svc-2");
  EXPECT_EQ(g.Filter(&other_service, &out2), 1);
  EXPECT_EQ(g.active(), 5u);
  EXPECT_NE(registry.Serialize().find(
                "avtrace_metric_series_refused_total{limit=\"max_series_per_metric\"} 4"),
            std::string::npos);
}

TEST(SeriesGuard, TotalLimitAndIdleSeriesStopCounting) {
  FakeClock clock(1'000'000'000'000ULL);
  SeriesGuard g({100, 4, 600}, nullptr, &clock);
  otlp::DecodeOutcome out;
  auto a = Points("a", {1, 2, 3});
  auto b = Points("b", {1, 2, 3});
  EXPECT_EQ(g.Filter(&a, &out), 0);
  EXPECT_EQ(g.Filter(&b, &out), 2);
  EXPECT_NE(out.error_message.find("storage.max_active_series"), std::string::npos);
  EXPECT_EQ(g.active(), 4u);
  // Ten minutes later series a/1 is still sending; the others went idle and make room.
  clock.Advance(300'000'000'000ULL);
  auto keep = Points("a", {1});
  EXPECT_EQ(g.Filter(&keep, &out), 0);
  clock.Advance(400'000'000'000ULL);
  auto c = Points("c", {1, 2, 3, 4});
  EXPECT_EQ(g.Filter(&c, &out), 1);  // a/1 (seen 400 s ago) still counts: room for 3
  EXPECT_EQ(g.active(), 4u);
}

TEST(SeriesGuard, EmptyAndPointlessBatchesPass) {
  FakeClock clock(1);
  SeriesGuard g({1, 1, 60}, nullptr, &clock);
  otlp::DecodeOutcome out;
  otlp::Batch empty;
  EXPECT_EQ(g.Filter(&empty, &out), 0);
  auto b = Points("m", {1});
  b.points[0].metric_index = 7;  // out of range: left for the store to skip
  EXPECT_EQ(g.Filter(&b, &out), 0);
  EXPECT_EQ(b.points.size(), 1u);
  EXPECT_EQ(out.rejected, 0);
}

}  // namespace
}  // namespace avtrace::ingest
