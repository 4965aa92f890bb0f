#pragma once
// Registry: avtrace's self-telemetry, exposed on /metrics in the Prometheus text format 0.0.4.
//
// A thin owner of a prometheus-cpp registry (a well-kept library: thread-safe counters, gauges
// and histograms, and a correct text serializer). Metric handles returned here are stable
// references valid for the Registry's lifetime; looking one up takes a mutex, so callers fetch
// handles once (at construction) and update them lock-free on hot paths.
//
// Naming: avtrace_<module>_<what>[_unit][_total]. Every module that moves data exposes
// avtrace_<module>_{received,accepted}_total{signal} and _{rejected,dropped}_total{signal,reason}
// via FlowCounters. Labels must be bounded: never ids, URLs, user agents, addresses or tokens.
//
// Threads: all methods thread-safe. Collect callbacks run on the scraping thread before the
// text is produced (e.g. to read the store size) and must be quick.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace avtrace::metrics {

using Labels = std::map<std::string, std::string>;

class Registry {
 public:
  Registry();
  ~Registry();

  prometheus::Counter& Counter(const std::string& name, const std::string& help,
                               const Labels& labels = {});
  prometheus::Gauge& Gauge(const std::string& name, const std::string& help,
                           const Labels& labels = {});
  prometheus::Histogram& Histogram(const std::string& name, const std::string& help,
                                   const std::vector<double>& buckets, const Labels& labels = {});

  void AddCollectCallback(std::function<void()> callback);
  // Runs the collect callbacks, then serializes every metric.
  std::string Serialize();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::mutex mu_;
  std::map<std::string, prometheus::Family<prometheus::Counter>*> counters_;
  std::map<std::string, prometheus::Family<prometheus::Gauge>*> gauges_;
  std::map<std::string, prometheus::Family<prometheus::Histogram>*> histograms_;
  std::vector<std::function<void()>> callbacks_;
};

// The received / accepted / rejected{reason} / dropped{reason} counters of one module and
// signal. Reasons are a small fixed vocabulary chosen by the module (e.g. "decode", "invalid_id",
// "too_large", "queue_full", "shutdown", "store_error").
class FlowCounters {
 public:
  FlowCounters(Registry* registry, const std::string& module, const std::string& signal);
  void Received(double n) { received_->Increment(n); }
  void Accepted(double n) { accepted_->Increment(n); }
  void Rejected(const std::string& reason, double n);
  void Dropped(const std::string& reason, double n);

 private:
  Registry* registry_;
  std::string module_, signal_;
  prometheus::Counter* received_;
  prometheus::Counter* accepted_;
};

// Exponential latency buckets in seconds from 0.5 ms to ~16 s.
std::vector<double> LatencyBuckets();
// Size buckets 1, 4, 16, ... 1M (items per batch).
std::vector<double> SizeBuckets();

}  // namespace avtrace::metrics
