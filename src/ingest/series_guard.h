#pragma once
// SeriesGuard: the cardinality guard in front of metric storage. A metric series is one metric
// name with one combination of resource, scope and point attributes; every new series costs a
// row in the store and an entry in every later query, and a client that puts a request id or a
// timestamp into an attribute creates a new one per point. The guard tracks the ACTIVE series
// (seen within `idle_seconds`) and refuses points that would start a series beyond
// `max_per_metric` for their metric or beyond `max_active` in total. Refused points are removed
// from the batch and reported to the client as OTLP partial success (rejected_data_points with
// a message naming the metric and the limit); points of known series always pass.
//
// Like Prometheus-compatible systems' "active series" limits, the count is of series seen
// recently, not of series stored: a series idle for `idle_seconds` stops counting (it still has
// its stored points) and may come back if there is room.
//
// Memory: about 60 bytes per active series (so the default 1M is ~60 MB at most).
// Threads: Filter is thread-safe (one mutex; the work per point is a hash and a lookup).
// Errors: none; refusals are counted in avtrace_metric_series_refused_total{limit}.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "otlp/decode.h"
#include "otlp/model.h"

namespace prometheus {
class Counter;
class Gauge;
}  // namespace prometheus

namespace avtrace::metrics {
class Registry;
}

namespace avtrace::ingest {

struct SeriesLimits {
  uint64_t max_per_metric = 20'000;
  uint64_t max_active = 1'000'000;
  uint64_t idle_seconds = 3600;
};

class SeriesGuard {
 public:
  // `registry` may be null (tests); `clock` must outlive the guard.
  SeriesGuard(SeriesLimits limits, metrics::Registry* registry, const Clock* clock);

  // Removes the points of `batch` that would start a series beyond a limit; adds them to
  // outcome->rejected (and the first reason to outcome->error_message). Returns how many.
  int64_t Filter(otlp::Batch* batch, otlp::DecodeOutcome* outcome);
  uint64_t active() const;

 private:
  void SweepLocked(uint32_t now);

  const SeriesLimits limits_;
  const Clock* clock_;
  prometheus::Counter* refused_per_metric_ = nullptr;
  prometheus::Counter* refused_active_ = nullptr;
  prometheus::Gauge* active_gauge_ = nullptr;

  mutable std::mutex mu_;
  // metric name -> series key hash -> last seen (seconds since the guard started)
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::unordered_map<uint64_t, uint32_t>, NameHash, std::equal_to<>>
      metrics_;
  uint64_t active_ = 0;
  uint32_t last_sweep_ = 0;
  uint64_t start_nanos_ = 0;
};

}  // namespace avtrace::ingest
