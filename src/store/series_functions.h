#pragma once
// SeriesFunction evaluation over one series' stored points: the math behind Store::QuerySeries,
// kept apart from any backend so that every store computes exactly the same answers.
//
// Semantics (per step window [start + k*step, start + (k+1)*step), output time = window start,
// windows without data are omitted; points flagged "no recorded value" are ignored):
//   value of a point: Gauge/Sum -> its number; Histogram/ExponentialHistogram/Summary -> count.
//   kRaw       every point in [start, end); histogram types also fill count and sum.
//   kAvg/kMin/kMax/kSum/kLast   over the values of the points in each window.
//   kRate      increase per window / step seconds. Delta temporality: the sum of the values.
//              Cumulative: differences between consecutive points, credited to the window of the
//              later one; for monotonic series (monotonic sums, histogram counts) a decrease or
//              a newer start_time is a counter reset and the new value counts from zero. The
//              point just before `start` (if given) is the predecessor of the first one.
//   kQuantile  Histogram: bucket counts merged per window (cumulative: per-point increases as
//              for kRate; a point with no predecessor counts whole), then Prometheus
//              histogram_quantile: linear interpolation inside the bucket, the lowest bucket
//              starting at 0 when its upper bound is positive, the +Inf bucket answering its
//              lower bound. ExponentialHistogram: the same over exponential buckets merged at
//              the coarsest scale. Summary: the last point's quantiles, interpolated linearly.
//              Gauge/Sum: quantile of the window's values (like quantile_over_time).
// Threads: pure functions. Errors: InvalidArgument (step 0 for a non-raw function, quantile
// outside [0, 1]).

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "otlp/model.h"
#include "store/store.h"

namespace avtrace::store {

// `points` ascending by time; at most one of them before query.start_unix_nanos (the
// predecessor). `end` is the resolved exclusive end of the range.
Result<std::vector<SeriesPoint>> EvaluateSeries(const MetricInfo& metric,
                                                std::span<const otlp::MetricPoint> points,
                                                const SeriesQuery& query, uint64_t end);

struct QuantileBucket {
  double lower = 0, upper = 0;  // may be -inf / +inf
  double count = 0;
};
// Quantile over buckets in ascending order. NaN when they hold no observations.
double BucketQuantile(double q, const std::vector<QuantileBucket>& buckets);
// Prometheus histogram_quantile over OTLP explicit buckets (counts.size() == bounds.size() + 1).
double HistogramQuantile(double q, std::span<const double> bounds, std::span<const double> counts);

}  // namespace avtrace::store
