#include "pipeline/pipeline.h"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "core/log.h"
#include "metrics/registry.h"

namespace avtrace::pipeline {

class Pipeline::Impl {
 public:
  Impl(const Config::Pipeline& config, const Config::Retention& retention, store::Store* store,
       metrics::Registry* registry, const Clock* clock)
      : config_(config), retention_(retention), store_(store), clock_(clock) {
    for (int s = 0; s < 3; ++s) {
      flows_[s] = std::make_unique<metrics::FlowCounters>(
          registry, "pipeline", std::string(otlp::SignalName(static_cast<otlp::Signal>(s))));
    }
    flows_[kPlaybackFlow] = std::make_unique<metrics::FlowCounters>(registry, "pipeline", "playback");
    queue_items_ = &registry->Gauge("avtrace_pipeline_queue_items", "Items waiting for commit");
    queue_bytes_ = &registry->Gauge("avtrace_pipeline_queue_bytes", "Bytes waiting for commit");
    queue_requests_ =
        &registry->Gauge("avtrace_pipeline_queue_requests", "Requests waiting for commit");
    commit_seconds_ = &registry->Histogram("avtrace_pipeline_commit_duration_seconds",
                                           "Time to append and commit one group",
                                           metrics::LatencyBuckets());
    commit_items_ = &registry->Histogram("avtrace_pipeline_commit_items",
                                         "Items per group commit", metrics::SizeBuckets());
    commit_requests_ = &registry->Histogram("avtrace_pipeline_commit_requests",
                                            "Requests per group commit", metrics::SizeBuckets());
    queue_wait_seconds_ = &registry->Histogram("avtrace_pipeline_queue_wait_seconds",
                                               "Time from admission to commit",
                                               metrics::LatencyBuckets());
    commit_errors_ = &registry->Counter("avtrace_pipeline_commit_errors_total",
                                        "Group commits that failed");
    maintain_rows_ = &registry->Counter("avtrace_pipeline_maintain_steps_total",
                                        "Deferred store maintenance steps run");
  }

  void Start() {
    std::lock_guard lock(mu_);
    if (started_) return;
    started_ = true;
    accepting_ = true;
    writer_ = std::thread([this] { WriterLoop(); });
  }

  Status Submit(otlp::Batch batch, int signal, Done done) {
    const uint64_t items = batch.ItemCount();
    const uint64_t bytes = batch.ApproxBytes();
    auto& flow = *flows_[signal];
    flow.Received(static_cast<double>(items));
    {
      std::lock_guard lock(mu_);
      if (!accepting_) {
        flow.Dropped("shutdown", static_cast<double>(items));
        return Unavailable("the server is shutting down");
      }
      // An empty queue admits even an oversized request, so that a single large request can
      // always make progress; otherwise both bounds hold.
      if (!queue_.empty() && (queued_items_ + items > config_.queue_max_items ||
                              queued_bytes_ + bytes > config_.queue_max_bytes)) {
        flow.Dropped("queue_full", static_cast<double>(items));
        return ResourceExhausted("the ingest queue is full (" + std::to_string(queued_items_) +
                                 " items waiting); retry later");
      }
      queue_.push_back(Item{std::move(batch), signal, std::move(done), items, bytes,
                            clock_->MonotonicNanos()});
      queued_items_ += items;
      queued_bytes_ += bytes;
      UpdateGaugesLocked();
    }
    cv_.notify_one();
    return Status::Ok();
  }

  uint32_t RetryAfterSeconds() const {
    std::lock_guard lock(mu_);
    double rate = drain_rate_ > 1 ? drain_rate_ : 1000;
    double secs = static_cast<double>(queued_items_) / rate;
    return static_cast<uint32_t>(std::clamp(secs + 1.0, 1.0, 60.0));
  }

  void AddCommitListener(CommitListener l) { listeners_.push_back(std::move(l)); }
  void SetCommitHook(CommitHook* hook) { hook_ = hook; }
  static constexpr int kPlaybackFlow = 3;

  PipelineStats Stats() const {
    std::lock_guard lock(mu_);
    return PipelineStats{queued_items_, queued_bytes_, committed_items_, commits_, drain_rate_};
  }

  void Shutdown() {
    {
      std::lock_guard lock(mu_);
      accepting_ = false;
      if (!started_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    std::lock_guard join(join_mu_);
    if (writer_.joinable()) writer_.join();
  }

 private:
  struct Item {
    otlp::Batch batch;
    int signal;  // flow index: otlp::Signal, or kPlaybackFlow
    Done done;
    uint64_t items;
    uint64_t bytes;
    uint64_t enqueued_mono;
  };

  void UpdateGaugesLocked() {
    queue_items_->Set(static_cast<double>(queued_items_));
    queue_bytes_->Set(static_cast<double>(queued_bytes_));
    queue_requests_->Set(static_cast<double>(queue_.size()));
  }

  // Takes up to commit_max_items (at least one request) off the queue. Requests that arrive while
  // the previous group commits wait in the queue, so groups grow with load by themselves; the
  // optional window lets a lightly loaded server trade a little latency for larger groups.
  std::vector<Item> TakeGroup(std::unique_lock<std::mutex>& lock) {
    std::vector<Item> group;
    uint64_t n = 0;
    auto take = [&] {
      while (!queue_.empty() && (group.empty() || n + queue_.front().items <= config_.commit_max_items)) {
        n += queue_.front().items;
        queued_items_ -= queue_.front().items;
        queued_bytes_ -= queue_.front().bytes;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    };
    take();
    if (config_.commit_window_ms > 0 && n < config_.commit_max_items && !stopping_) {
      cv_.wait_for(lock, std::chrono::milliseconds(config_.commit_window_ms),
                   [&] { return stopping_ || queued_items_ + n >= config_.commit_max_items; });
      take();
    }
    UpdateGaugesLocked();
    return group;
  }

  void Commit(std::vector<Item>& group) {
    std::vector<otlp::Batch*> mutable_batches;
    std::vector<const otlp::Batch*> batches;
    batches.reserve(group.size());
    mutable_batches.reserve(group.size());
    uint64_t items = 0;
    for (auto& it : group) {
      batches.push_back(&it.batch);
      mutable_batches.push_back(&it.batch);
      items += it.items;
    }
    const uint64_t t0 = clock_->MonotonicNanos();
    sessions_.clear();
    if (hook_) hook_->BeforeCommit(mutable_batches, &sessions_);
    Status status = store_->AppendWithSessions(batches, sessions_);
    if (hook_) hook_->AfterCommit(mutable_batches, status);
    const uint64_t t1 = clock_->MonotonicNanos();
    commit_seconds_->Observe(static_cast<double>(t1 - t0) / 1e9);
    commit_items_->Observe(static_cast<double>(items));
    commit_requests_->Observe(static_cast<double>(group.size()));
    if (!status.ok()) {
      commit_errors_->Increment();
      log::Error("Group commit failed; the requests in it are answered with the error.",
                 {{"requests", std::to_string(group.size())}, {"error", status.ToString()}});
    }
    for (auto& it : group) {
      auto& flow = *flows_[static_cast<int>(it.signal)];
      if (status.ok()) {
        flow.Accepted(static_cast<double>(it.items));
        queue_wait_seconds_->Observe(static_cast<double>(t1 - it.enqueued_mono) / 1e9);
        for (auto& l : listeners_) l(it.batch);
      } else {
        flow.Dropped("store_error", static_cast<double>(it.items));
      }
      // The store error is Internal/Unavailable; callers answer 503 so clients retry.
      if (it.done) it.done(status.ok() ? status : Unavailable("storage error: " + status.message()));
    }
    std::lock_guard lock(mu_);
    committed_items_ += items;
    ++commits_;
    // Drain rate over wall time between commits, smoothed.
    const double secs = std::max(1e-6, static_cast<double>(t1 - last_commit_end_) / 1e9);
    const double inst = static_cast<double>(items) / secs;
    drain_rate_ = drain_rate_ == 0 ? inst : 0.8 * drain_rate_ + 0.2 * inst;
    last_commit_end_ = t1;
  }

  void MaybeRetention() {
    const uint64_t now_mono = clock_->MonotonicNanos();
    if (now_mono < next_retention_mono_) return;
    next_retention_mono_ = now_mono + retention_.check_interval_seconds * 1'000'000'000ull;
    const uint64_t now = clock_->NowUnixNanos();
    // A retention of 0 keeps that signal forever.
    auto cutoff = [now](uint64_t seconds) -> uint64_t {
      const uint64_t keep = seconds * 1'000'000'000ull;
      return keep == 0 || now <= keep ? 0 : now - keep;
    };
    const store::RetentionCutoffs cutoffs{cutoff(retention_.traces_seconds),
                                          cutoff(retention_.metrics_seconds),
                                          cutoff(retention_.logs_seconds),
                                          cutoff(retention_.playback_seconds)};
    auto r = store_->ApplyRetention(cutoffs, 5000);
    if (!r.ok()) {
      log::Warn("Retention step failed.", {{"error", r.status().ToString()}});
    } else if (r->more) {
      next_retention_mono_ = now_mono;  // keep deleting between commits
    }
  }

  // Runs the hook's periodic work when due and commits the sessions it changed.
  void MaybePeriodic() {
    if (!hook_ || hook_->PeriodNanos() == 0) return;
    const uint64_t now = clock_->MonotonicNanos();
    if (now < next_periodic_mono_) return;
    next_periodic_mono_ = now + hook_->PeriodNanos();
    sessions_.clear();
    hook_->Periodic(&sessions_);
    if (sessions_.empty()) return;
    Status s = store_->AppendWithSessions({}, sessions_);
    if (!s.ok()) {
      commit_errors_->Increment();
      log::Warn("Committing periodic session changes failed.", {{"error", s.ToString()}});
    }
  }

  void WriterLoop() {
    last_commit_end_ = clock_->MonotonicNanos();
    next_periodic_mono_ = last_commit_end_ + (hook_ ? hook_->PeriodNanos() : 0);
    next_retention_mono_ = last_commit_end_ + 5'000'000'000ull;
    bool maintenance_pending = true;
    std::unique_lock lock(mu_);
    while (true) {
      // Idle: do deferred store work in bounded steps, checking the queue between steps.
      if (queue_.empty() && !stopping_ && maintenance_pending) {
        lock.unlock();
        auto more = store_->Maintain(50'000);
        maintain_rows_->Increment();
        maintenance_pending = more.ok() && *more;
        MaybeRetention();
        lock.lock();
        continue;
      }
      if (queue_.empty()) {
        if (stopping_) break;
        uint64_t wait_ms = 500;
        if (hook_ && hook_->PeriodNanos() > 0) {
          wait_ms = std::clamp<uint64_t>(hook_->PeriodNanos() / 1'000'000, 10, 500);
        }
        cv_.wait_for(lock, std::chrono::milliseconds(wait_ms),
                     [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) {
          lock.unlock();
          maintenance_pending = true;  // periodic re-check, also for retention
          MaybeRetention();
          MaybePeriodic();
          lock.lock();
        }
        continue;
      }
      std::vector<Item> group = TakeGroup(lock);
      lock.unlock();
      Commit(group);
      group.clear();
      // Under sustained load the queue never empties; a bounded maintenance step after every
      // commit, with a budget of at least what was just appended, keeps the deferred index from
      // falling behind (a step costs microseconds until a whole chunk is ready to index).
      {
        auto more = store_->Maintain(std::max<uint32_t>(2 * config_.commit_max_items, 16'384));
        maintain_rows_->Increment();
        maintenance_pending = !more.ok() || *more;
      }
      MaybePeriodic();
      lock.lock();
    }
    lock.unlock();
    // Final flush of deferred work so a restart finds the index complete.
    for (int i = 0; i < 100; ++i) {
      auto more = store_->Maintain(100'000);
      if (!more.ok() || !*more) break;
    }
  }

  const Config::Pipeline config_;
  const Config::Retention retention_;
  store::Store* store_;
  const Clock* clock_;
  std::array<std::unique_ptr<metrics::FlowCounters>, 4> flows_;
  CommitHook* hook_ = nullptr;
  prometheus::Gauge* queue_items_;
  prometheus::Gauge* queue_bytes_;
  prometheus::Gauge* queue_requests_;
  prometheus::Histogram* commit_seconds_;
  prometheus::Histogram* commit_items_;
  prometheus::Histogram* commit_requests_;
  prometheus::Histogram* queue_wait_seconds_;
  prometheus::Counter* commit_errors_;
  prometheus::Counter* maintain_rows_;
  std::vector<CommitListener> listeners_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  uint64_t queued_items_ = 0;
  uint64_t queued_bytes_ = 0;
  uint64_t committed_items_ = 0;
  uint64_t commits_ = 0;
  double drain_rate_ = 0;
  bool started_ = false;
  bool accepting_ = false;
  bool stopping_ = false;
  std::thread writer_;
  std::mutex join_mu_;
  // Writer-thread only.
  uint64_t last_commit_end_ = 0;
  uint64_t next_retention_mono_ = 0;
  uint64_t next_periodic_mono_ = 0;
  std::vector<player::SessionState> sessions_;
};

Pipeline::Pipeline(const Config::Pipeline& config, const Config::Retention& retention,
                   store::Store* store, metrics::Registry* registry, const Clock* clock)
    : impl_(std::make_unique<Impl>(config, retention, store, registry, clock)) {}
Pipeline::~Pipeline() { Shutdown(); }
void Pipeline::Start() { impl_->Start(); }
Status Pipeline::Submit(otlp::Batch batch, otlp::Signal signal, Done done) {
  return impl_->Submit(std::move(batch), static_cast<int>(signal), std::move(done));
}
Status Pipeline::SubmitPlayback(otlp::Batch batch, Done done) {
  return impl_->Submit(std::move(batch), Impl::kPlaybackFlow, std::move(done));
}
void Pipeline::SetCommitHook(CommitHook* hook) { impl_->SetCommitHook(hook); }
uint32_t Pipeline::RetryAfterSeconds() const { return impl_->RetryAfterSeconds(); }
void Pipeline::AddCommitListener(CommitListener listener) {
  impl_->AddCommitListener(std::move(listener));
}
PipelineStats Pipeline::Stats() const { return impl_->Stats(); }
void Pipeline::Shutdown() { impl_->Shutdown(); }

}  // namespace avtrace::pipeline
