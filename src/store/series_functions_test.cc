#include "store/series_functions.h"

#include <gtest/gtest.h>

#include <cmath>

namespace avtrace::store {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr uint64_t kSec = 1'000'000'000ULL;

TEST(BucketQuantile, PrometheusEdgeCases) {
  // Lowest bucket starts at 0 when its bound is positive; +Inf answers its lower bound.
  const double bounds[] = {1, 2, 5};
  const double counts[] = {2, 4, 4, 0};
  EXPECT_DOUBLE_EQ(HistogramQuantile(0.1, bounds, counts), 0.5);
  EXPECT_DOUBLE_EQ(HistogramQuantile(0.5, bounds, counts), 1.75);
  EXPECT_DOUBLE_EQ(HistogramQuantile(1.0, bounds, counts), 5);
  const double inf_only[] = {0, 0, 0, 3};
  EXPECT_DOUBLE_EQ(HistogramQuantile(0.5, bounds, inf_only), 5);
  const double none[] = {0, 0, 0, 0};
  EXPECT_TRUE(std::isnan(HistogramQuantile(0.5, bounds, none)));
  // A non-positive first bound cannot be interpolated below: answer the bound.
  const double neg_bounds[] = {-1, 0};
  const double neg_counts[] = {4, 0, 0};
  EXPECT_DOUBLE_EQ(HistogramQuantile(0.5, neg_bounds, neg_counts), -1);
  EXPECT_EQ(BucketQuantile(-0.1, {{0, 1, 1}}), -kInf);
  EXPECT_EQ(BucketQuantile(1.1, {{0, 1, 1}}), kInf);
}

MetricInfo Info(otlp::MetricType t, otlp::Temporality temp, bool mono) {
  MetricInfo m;
  m.type = t;
  m.temporality = temp;
  m.is_monotonic = mono;
  return m;
}

otlp::MetricPoint Num(uint64_t t_s, double v, uint32_t flags = 0) {
  otlp::MetricPoint p;
  p.time_unix_nano = t_s * kSec;
  p.value_kind = otlp::NumberKind::kDouble;
  p.as_double = v;
  p.flags = flags;
  return p;
}

TEST(EvaluateSeries, NonMonotonicRateKeepsNegativeChangesAndSkipsNoValuePoints) {
  std::vector<otlp::MetricPoint> pts = {Num(0, 10), Num(5, 4), Num(6, 1000, 1), Num(10, 8)};
  SeriesQuery q;
  q.function = SeriesFunction::kRate;
  q.start_unix_nanos = 0;
  q.step_nanos = 10 * kSec;
  auto r = EvaluateSeries(Info(otlp::MetricType::kGauge, otlp::Temporality::kUnspecified, false),
                          pts, q, 20 * kSec);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_DOUBLE_EQ((*r)[0].value, -0.6);  // 10 -> 4 in [0,10)
  EXPECT_DOUBLE_EQ((*r)[1].value, 0.4);   // 4 -> 8 in [10,20); the flagged point is ignored
}

TEST(EvaluateSeries, ExponentialBucketsMergeAtTheCoarsestScale) {
  otlp::MetricPoint a, b;
  a.time_unix_nano = 1 * kSec;
  a.scale = 1;  // base sqrt(2): index 2 is (2, 2.83], index 3 is (2.83, 4]
  a.positive = {2, {3, 1}};
  b.time_unix_nano = 2 * kSec;
  b.scale = 0;  // index 1 is (2, 4]
  b.positive = {1, {4}};
  SeriesQuery q;
  q.function = SeriesFunction::kQuantile;
  q.quantile = 0.5;
  q.step_nanos = 10 * kSec;
  std::vector<otlp::MetricPoint> pts = {a, b};
  auto r = EvaluateSeries(
      Info(otlp::MetricType::kExponentialHistogram, otlp::Temporality::kDelta, false), pts, q,
      10 * kSec);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_DOUBLE_EQ((*r)[0].value, 3);  // 8 observations in (2,4] at scale 0: the middle
}

TEST(EvaluateSeries, RequiresAStepAndAValidQuantile) {
  SeriesQuery q;
  q.function = SeriesFunction::kAvg;
  MetricInfo m = Info(otlp::MetricType::kGauge, otlp::Temporality::kUnspecified, false);
  std::vector<otlp::MetricPoint> pts = {Num(1, 1)};
  EXPECT_EQ(EvaluateSeries(m, pts, q, 10 * kSec).status().code(), StatusCode::kInvalidArgument);
  q.function = SeriesFunction::kQuantile;
  q.step_nanos = kSec;
  q.quantile = -1;
  EXPECT_EQ(EvaluateSeries(m, pts, q, 10 * kSec).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace avtrace::store
