#include "store/series_functions.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace avtrace::store {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr uint32_t kNoRecordedValue = 1;

bool IsHistogramType(otlp::MetricType t) {
  return t == otlp::MetricType::kHistogram || t == otlp::MetricType::kExponentialHistogram ||
         t == otlp::MetricType::kSummary;
}

bool ValueOf(const MetricInfo& m, const otlp::MetricPoint& p, double* v) {
  if (p.flags & kNoRecordedValue) return false;
  if (IsHistogramType(m.type)) {
    *v = static_cast<double>(p.count);
    return true;
  }
  switch (p.value_kind) {
    case otlp::NumberKind::kInt:
      *v = static_cast<double>(p.as_int);
      return true;
    case otlp::NumberKind::kDouble:
      *v = p.as_double;
      return true;
    default:
      return false;
  }
}

// Window arithmetic over [start, end) in steps.
struct Windows {
  uint64_t start, end, step;
  bool In(uint64_t t) const { return t >= start && t < end; }
  size_t Index(uint64_t t) const { return static_cast<size_t>((t - start) / step); }
  size_t Count() const { return static_cast<size_t>((end - start + step - 1) / step); }
  uint64_t Time(size_t i) const { return start + i * step; }
};

double QuantileOfValues(double q, std::vector<double> v) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  double rank = q * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(rank));
  size_t hi = std::min(lo + 1, v.size() - 1);
  double w = rank - static_cast<double>(lo);
  return v[lo] * (1 - w) + v[hi] * w;
}

double SummaryQuantile(double q, const std::vector<std::pair<double, double>>& qv_in) {
  if (qv_in.empty()) return kNaN;
  auto qv = qv_in;
  std::sort(qv.begin(), qv.end());
  if (q <= qv.front().first) return qv.front().second;
  if (q >= qv.back().first) return qv.back().second;
  for (size_t i = 1; i < qv.size(); ++i) {
    if (q <= qv[i].first) {
      double span = qv[i].first - qv[i - 1].first;
      double w = span > 0 ? (q - qv[i - 1].first) / span : 1;
      return qv[i - 1].second + (qv[i].second - qv[i - 1].second) * w;
    }
  }
  return qv.back().second;
}

// Exponential histogram buckets at one scale: index -> count, plus the zero bucket.
struct ExpBuckets {
  int32_t scale = 0;
  double zero_threshold = 0;
  double zero = 0;
  std::map<int64_t, double> pos, neg;

  static ExpBuckets From(const otlp::MetricPoint& p) {
    ExpBuckets b;
    b.scale = p.scale;
    b.zero_threshold = p.zero_threshold;
    b.zero = static_cast<double>(p.zero_count);
    for (size_t i = 0; i < p.positive.bucket_counts.size(); ++i)
      if (p.positive.bucket_counts[i])
        b.pos[p.positive.offset + static_cast<int64_t>(i)] +=
            static_cast<double>(p.positive.bucket_counts[i]);
    for (size_t i = 0; i < p.negative.bucket_counts.size(); ++i)
      if (p.negative.bucket_counts[i])
        b.neg[p.negative.offset + static_cast<int64_t>(i)] +=
            static_cast<double>(p.negative.bucket_counts[i]);
    return b;
  }
  void Downscale(int32_t to) {
    if (to >= scale) return;
    int shift = scale - to;
    auto down = [&](std::map<int64_t, double>& m) {
      std::map<int64_t, double> out;
      for (auto& [i, c] : m) out[i >> shift] += c;  // arithmetic shift: floor division
      m.swap(out);
    };
    down(pos);
    down(neg);
    scale = to;
  }
  void Add(ExpBuckets other, double sign) {
    if (other.scale > scale) other.Downscale(scale);
    if (other.scale < scale) Downscale(other.scale);
    zero += sign * other.zero;
    zero_threshold = std::max(zero_threshold, other.zero_threshold);
    for (auto& [i, c] : other.pos) pos[i] += sign * c;
    for (auto& [i, c] : other.neg) neg[i] += sign * c;
  }
  bool AnyNegative() const {
    if (zero < 0) return true;
    for (auto& [i, c] : pos)
      if (c < 0) return true;
    for (auto& [i, c] : neg)
      if (c < 0) return true;
    return false;
  }
  std::vector<QuantileBucket> Ascending() const {
    std::vector<QuantileBucket> out;
    auto bound = [&](int64_t i) { return std::exp2(static_cast<double>(i) * std::exp2(-scale)); };
    for (auto it = neg.rbegin(); it != neg.rend(); ++it)
      out.push_back({-bound(it->first + 1), -bound(it->first), it->second});
    if (zero > 0) out.push_back({-zero_threshold, zero_threshold, zero});
    for (auto& [i, c] : pos) out.push_back({bound(i), bound(i + 1), c});
    return out;
  }
};

bool IsReset(const otlp::MetricPoint& prev, const otlp::MetricPoint& cur) {
  return cur.start_time_unix_nano > prev.start_time_unix_nano;
}

}  // namespace

double BucketQuantile(double q, const std::vector<QuantileBucket>& buckets) {
  double total = 0;
  for (const auto& b : buckets) total += b.count;
  if (!(total > 0)) return kNaN;
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  const double rank = q * total;
  double below = 0;
  for (const auto& b : buckets) {
    if (b.count > 0 && below + b.count >= rank) {
      if (std::isinf(b.upper)) return b.lower;
      if (std::isinf(b.lower)) return b.upper;
      return b.lower + (b.upper - b.lower) * (rank - below) / b.count;
    }
    below += b.count;
  }
  for (auto it = buckets.rbegin(); it != buckets.rend(); ++it)
    if (it->count > 0) return std::isinf(it->upper) ? it->lower : it->upper;
  return kNaN;
}

double HistogramQuantile(double q, std::span<const double> bounds, std::span<const double> counts) {
  std::vector<QuantileBucket> b;
  for (size_t i = 0; i < counts.size(); ++i) {
    double upper = i < bounds.size() ? bounds[i] : kInf;
    double lower;
    if (i == 0)
      lower = upper > 0 ? 0 : -kInf;
    else
      lower = i - 1 < bounds.size() ? bounds[i - 1] : kInf;
    b.push_back({lower, upper, counts[i]});
  }
  return BucketQuantile(q, b);
}

Result<std::vector<SeriesPoint>> EvaluateSeries(const MetricInfo& metric,
                                                std::span<const otlp::MetricPoint> points,
                                                const SeriesQuery& query, uint64_t end) {
  std::vector<SeriesPoint> out;
  const uint64_t start = query.start_unix_nanos;
  if (end <= start) return out;

  if (query.function == SeriesFunction::kRaw && query.step_nanos == 0) {
    for (const auto& p : points) {
      double v;
      if (p.time_unix_nano < start || p.time_unix_nano >= end || !ValueOf(metric, p, &v)) continue;
      SeriesPoint sp{p.time_unix_nano, v, 0, 0};
      if (IsHistogramType(metric.type)) {
        sp.count = p.count;
        sp.sum = p.sum;
      }
      out.push_back(sp);
    }
    return out;
  }
  if (query.step_nanos == 0) return InvalidArgument("series query: step is required");
  if (query.function == SeriesFunction::kQuantile &&
      !(query.quantile >= 0 && query.quantile <= 1)) {
    return InvalidArgument("series query: quantile must be within [0, 1]");
  }
  const Windows w{start, end, query.step_nanos};
  if (w.Count() > 1'000'000) return InvalidArgument("series query: more than 1e6 steps");
  const double step_seconds = static_cast<double>(query.step_nanos) / 1e9;

  switch (query.function) {
    case SeriesFunction::kRaw:  // with a step: the last value per window
    case SeriesFunction::kLast:
    case SeriesFunction::kAvg:
    case SeriesFunction::kMin:
    case SeriesFunction::kMax:
    case SeriesFunction::kSum: {
      struct Acc {
        size_t n = 0;
        double sum = 0, min = kInf, max = -kInf, last = 0;
        uint64_t count = 0;
        double hsum = 0;
      };
      std::map<size_t, Acc> acc;
      for (const auto& p : points) {
        double v;
        if (!w.In(p.time_unix_nano) || !ValueOf(metric, p, &v)) continue;
        Acc& a = acc[w.Index(p.time_unix_nano)];
        ++a.n;
        a.sum += v;
        a.min = std::min(a.min, v);
        a.max = std::max(a.max, v);
        a.last = v;
        a.count = p.count;
        a.hsum = p.sum;
      }
      for (const auto& [i, a] : acc) {
        SeriesPoint sp{w.Time(i), 0, 0, 0};
        switch (query.function) {
          case SeriesFunction::kAvg:
            sp.value = a.sum / static_cast<double>(a.n);
            break;
          case SeriesFunction::kMin:
            sp.value = a.min;
            break;
          case SeriesFunction::kMax:
            sp.value = a.max;
            break;
          case SeriesFunction::kSum:
            sp.value = a.sum;
            break;
          default:
            sp.value = a.last;
            if (IsHistogramType(metric.type)) {
              sp.count = a.count;
              sp.sum = a.hsum;
            }
        }
        out.push_back(sp);
      }
      return out;
    }

    case SeriesFunction::kRate: {
      const bool monotonic = IsHistogramType(metric.type) ||
                             (metric.type == otlp::MetricType::kSum && metric.is_monotonic);
      const bool delta = metric.temporality == otlp::Temporality::kDelta;
      std::map<size_t, double> inc;
      const otlp::MetricPoint* prev = nullptr;
      double prev_v = 0;
      for (const auto& p : points) {
        double v;
        if (!ValueOf(metric, p, &v)) continue;
        if (w.In(p.time_unix_nano)) {
          size_t i = w.Index(p.time_unix_nano);
          if (delta) {
            inc[i] += v;
          } else if (prev) {
            bool reset = monotonic && (v < prev_v || IsReset(*prev, p));
            inc[i] += reset ? v : v - prev_v;
          }
        }
        prev = &p;
        prev_v = v;
      }
      for (const auto& [i, d] : inc) out.push_back({w.Time(i), d / step_seconds, 0, 0});
      return out;
    }

    case SeriesFunction::kQuantile: {
      const double q = query.quantile;
      const bool cumulative = metric.temporality != otlp::Temporality::kDelta;
      if (metric.type == otlp::MetricType::kHistogram) {
        struct Merged {
          std::vector<double> bounds, counts;
        };
        std::map<size_t, Merged> merged;
        const otlp::MetricPoint* prev = nullptr;
        for (const auto& p : points) {
          if ((p.flags & kNoRecordedValue) || p.bucket_counts.empty()) continue;
          std::vector<double> d(p.bucket_counts.begin(), p.bucket_counts.end());
          if (cumulative && prev && prev->explicit_bounds == p.explicit_bounds &&
              prev->bucket_counts.size() == p.bucket_counts.size() && !IsReset(*prev, p)) {
            bool decreased = false;
            for (size_t k = 0; k < d.size(); ++k)
              decreased |= p.bucket_counts[k] < prev->bucket_counts[k];
            if (!decreased)
              for (size_t k = 0; k < d.size(); ++k)
                d[k] -= static_cast<double>(prev->bucket_counts[k]);
          }
          if (cumulative) prev = &p;
          if (!w.In(p.time_unix_nano)) continue;
          Merged& m = merged[w.Index(p.time_unix_nano)];
          if (m.counts.empty()) {
            m.bounds = p.explicit_bounds;
            m.counts = d;
          } else if (m.bounds == p.explicit_bounds && m.counts.size() == d.size()) {
            for (size_t k = 0; k < d.size(); ++k) m.counts[k] += d[k];
          }  // a window mixing bucket layouts keeps the first layout
        }
        for (const auto& [i, m] : merged) {
          double v = HistogramQuantile(q, m.bounds, m.counts);
          if (!std::isnan(v)) out.push_back({w.Time(i), v, 0, 0});
        }
        return out;
      }
      if (metric.type == otlp::MetricType::kExponentialHistogram) {
        std::map<size_t, ExpBuckets> merged;
        const otlp::MetricPoint* prev = nullptr;
        for (const auto& p : points) {
          if (p.flags & kNoRecordedValue) continue;
          ExpBuckets d = ExpBuckets::From(p);
          if (cumulative && prev && !IsReset(*prev, p)) {
            ExpBuckets diff = d;
            diff.Add(ExpBuckets::From(*prev), -1);
            if (!diff.AnyNegative()) d = std::move(diff);
          }
          if (cumulative) prev = &p;
          if (!w.In(p.time_unix_nano)) continue;
          size_t i = w.Index(p.time_unix_nano);
          auto it = merged.find(i);
          if (it == merged.end())
            merged.emplace(i, std::move(d));
          else
            it->second.Add(std::move(d), 1);
        }
        for (const auto& [i, m] : merged) {
          double v = BucketQuantile(q, m.Ascending());
          if (!std::isnan(v)) out.push_back({w.Time(i), v, 0, 0});
        }
        return out;
      }
      if (metric.type == otlp::MetricType::kSummary) {
        std::map<size_t, const otlp::MetricPoint*> last;
        for (const auto& p : points)
          if (w.In(p.time_unix_nano) && !(p.flags & kNoRecordedValue))
            last[w.Index(p.time_unix_nano)] = &p;
        for (const auto& [i, p] : last) {
          double v = SummaryQuantile(q, p->quantile_values);
          if (!std::isnan(v)) out.push_back({w.Time(i), v, 0, 0});
        }
        return out;
      }
      std::map<size_t, std::vector<double>> values;
      for (const auto& p : points) {
        double v;
        if (w.In(p.time_unix_nano) && ValueOf(metric, p, &v))
          values[w.Index(p.time_unix_nano)].push_back(v);
      }
      for (auto& [i, v] : values)
        out.push_back({w.Time(i), QuantileOfValues(q, std::move(v)), 0, 0});
      return out;
    }
  }
  return out;
}

}  // namespace avtrace::store
