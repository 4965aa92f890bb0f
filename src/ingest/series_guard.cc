#include "ingest/series_guard.h"

#include <functional>
#include <vector>

#include "metrics/registry.h"

namespace avtrace::ingest {

namespace {

uint64_t Mix(uint64_t h, std::string_view bytes) {
  // boost::hash_combine's mixing over std::hash (libstdc++: murmur2 on the bytes).
  return h ^ (std::hash<std::string_view>{}(bytes) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

constexpr uint32_t kSweepEverySeconds = 60;

}  // namespace

SeriesGuard::SeriesGuard(SeriesLimits limits, metrics::Registry* registry, const Clock* clock)
    : limits_(limits), clock_(clock), start_nanos_(clock->MonotonicNanos()) {
  if (registry) {
    const std::string name = "avtrace_metric_series_refused_total";
    const std::string help = "Metric points refused because they would start a series beyond a limit";
    refused_per_metric_ = &registry->Counter(name, help, {{"limit", "max_series_per_metric"}});
    refused_active_ = &registry->Counter(name, help, {{"limit", "max_active_series"}});
    active_gauge_ = &registry->Gauge("avtrace_metric_series_active",
                                     "Metric series seen within storage.series_idle");
  }
}

uint64_t SeriesGuard::active() const {
  std::lock_guard lock(mu_);
  return active_;
}

void SeriesGuard::SweepLocked(uint32_t now) {
  last_sweep_ = now;
  for (auto m = metrics_.begin(); m != metrics_.end();) {
    auto& series = m->second;
    for (auto s = series.begin(); s != series.end();) {
      if (now - s->second > limits_.idle_seconds) {
        s = series.erase(s);
        --active_;
      } else {
        ++s;
      }
    }
    m = series.empty() ? metrics_.erase(m) : std::next(m);
  }
}

int64_t SeriesGuard::Filter(otlp::Batch* batch, otlp::DecodeOutcome* outcome) {
  if (batch->points.empty()) return 0;
  const uint32_t now = static_cast<uint32_t>((clock_->MonotonicNanos() - start_nanos_) / 1'000'000'000ULL);
  // Per metric of the batch: its series map and the hash of what every point shares.
  std::vector<std::unordered_map<uint64_t, uint32_t>*> series_of(batch->metrics.size(), nullptr);
  std::vector<uint64_t> base(batch->metrics.size(), 0);
  int64_t refused_metric = 0, refused_total = 0;
  std::string first_reason;

  std::lock_guard lock(mu_);
  if (now - last_sweep_ >= kSweepEverySeconds) SweepLocked(now);
  size_t kept = 0;
  for (size_t i = 0; i < batch->points.size(); ++i) {
    otlp::MetricPoint& p = batch->points[i];
    if (p.metric_index >= batch->metrics.size()) {  // nothing to attach to; the store skips it
      if (kept != i) batch->points[kept] = std::move(p);
      ++kept;
      continue;
    }
    const otlp::Metric& m = batch->metrics[p.metric_index];
    if (!series_of[p.metric_index]) {
      auto known = metrics_.find(m.name);  // no string built for a metric already tracked
      if (known == metrics_.end()) known = metrics_.emplace(std::string(m.name), 0).first;
      series_of[p.metric_index] = &known->second;
      uint64_t h = Mix(0, m.name);
      if (m.resource_index < batch->resources.size())
        h = Mix(h, batch->resources[m.resource_index].attributes.encoded);
      if (m.scope_index < batch->scopes.size()) {
        h = Mix(h, batch->scopes[m.scope_index].name);
        h = Mix(h, batch->scopes[m.scope_index].version);
      }
      base[p.metric_index] = h;
    }
    auto& series = *series_of[p.metric_index];
    const uint64_t key = Mix(base[p.metric_index], p.attributes.encoded);
    auto it = series.find(key);
    bool keep = true;
    if (it != series.end()) {
      it->second = now;
    } else if (series.size() >= limits_.max_per_metric) {
      keep = false;
      ++refused_metric;
      if (first_reason.empty())
        first_reason = "metric '" + std::string(m.name) + "' has " + std::to_string(series.size()) +
                       " active series, the limit (storage.max_series_per_metric); points of new "
                       "series were refused";
    } else if (active_ >= limits_.max_active) {
      keep = false;
      ++refused_total;
      if (first_reason.empty())
        first_reason = "the server has " + std::to_string(active_) +
                       " active metric series, the limit (storage.max_active_series); points of "
                       "new series were refused";
    } else {
      series.emplace(key, now);
      ++active_;
    }
    if (!keep) continue;
    if (kept != i) batch->points[kept] = std::move(p);
    ++kept;
  }
  batch->points.resize(kept);
  if (active_gauge_) active_gauge_->Set(static_cast<double>(active_));
  if (refused_per_metric_ && refused_metric) refused_per_metric_->Increment(static_cast<double>(refused_metric));
  if (refused_active_ && refused_total) refused_active_->Increment(static_cast<double>(refused_total));
  const int64_t refused = refused_metric + refused_total;
  if (refused) {
    outcome->rejected += refused;
    if (outcome->error_message.empty()) outcome->error_message = first_reason;
  }
  return refused;
}

}  // namespace avtrace::ingest
