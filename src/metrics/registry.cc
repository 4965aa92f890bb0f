#include "metrics/registry.h"

#include <prometheus/text_serializer.h>

namespace avtrace::metrics {

Registry::Registry() : registry_(std::make_shared<prometheus::Registry>()) {}
Registry::~Registry() = default;

prometheus::Counter& Registry::Counter(const std::string& name, const std::string& help,
                                       const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& fam = counters_[name];
  if (!fam) fam = &prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
  return fam->Add(labels);
}

prometheus::Gauge& Registry::Gauge(const std::string& name, const std::string& help,
                                   const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& fam = gauges_[name];
  if (!fam) fam = &prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
  return fam->Add(labels);
}

prometheus::Histogram& Registry::Histogram(const std::string& name, const std::string& help,
                                           const std::vector<double>& buckets,
                                           const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& fam = histograms_[name];
  if (!fam) fam = &prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_);
  return fam->Add(labels, buckets);
}

void Registry::AddCollectCallback(std::function<void()> callback) {
  std::lock_guard lock(mu_);
  callbacks_.push_back(std::move(callback));
}

std::string Registry::Serialize() {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard lock(mu_);
    callbacks = callbacks_;
  }
  for (auto& cb : callbacks) cb();
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

FlowCounters::FlowCounters(Registry* registry, const std::string& module, const std::string& signal)
    : registry_(registry), module_(module), signal_(signal) {
  received_ = &registry->Counter("avtrace_" + module + "_received_total",
                                 "Items received by " + module, {{"signal", signal}});
  accepted_ = &registry->Counter("avtrace_" + module + "_accepted_total",
                                 "Items accepted by " + module, {{"signal", signal}});
}

void FlowCounters::Rejected(const std::string& reason, double n) {
  registry_
      ->Counter("avtrace_" + module_ + "_rejected_total", "Items rejected by " + module_,
                {{"signal", signal_}, {"reason", reason}})
      .Increment(n);
}

void FlowCounters::Dropped(const std::string& reason, double n) {
  registry_
      ->Counter("avtrace_" + module_ + "_dropped_total", "Items dropped by " + module_,
                {{"signal", signal_}, {"reason", reason}})
      .Increment(n);
}

std::vector<double> LatencyBuckets() {
  std::vector<double> b;
  for (double v = 0.0005; v < 20; v *= 2) b.push_back(v);
  return b;
}

std::vector<double> SizeBuckets() {
  std::vector<double> b;
  for (double v = 1; v <= 1 << 20; v *= 4) b.push_back(v);
  return b;
}

}  // namespace avtrace::metrics
