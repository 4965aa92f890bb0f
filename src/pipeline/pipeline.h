#pragma once
// Pipeline: the bounded queue in front of the store's single writer, with group commit.
//
// Submit() admits a Batch if the queue has room (items and bytes) and returns at once; the
// writer thread takes as many queued batches as fit in one commit (config pipeline.*), appends
// them to the Store in ONE transaction and only then runs each batch's `done` callback with the
// commit's Status. So an OK passed to `done` means the batch is durable, and a front door that
// answers only from `done` never acknowledges data it could lose.
//
// Ownership: after an OK Submit the batch belongs to the pipeline. On a non-OK Submit the batch
// is dropped and `done` is never called.
// Threads: Submit/RetryAfterSeconds/Stats are thread-safe. `done` runs on the writer thread and
// must not block (post the answer to the connection's executor).
// Lifecycle: Start() launches the writer; Shutdown() stops admission (Unavailable), drains
// and commits what was queued, runs every pending `done`, joins the writer. Safe to call twice.
// Errors from Submit: ResourceExhausted (queue full: answer 429 with RetryAfterSeconds()),
// Unavailable (shutting down: 503).

#include <cstdint>
#include <functional>
#include <memory>

#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "otlp/model.h"
#include "store/store.h"

namespace avtrace::metrics {
class Registry;
}

namespace avtrace::pipeline {

// Called after commit with the batch (still owned by the pipeline) so later layers (media/)
// can update live state. Runs on the writer thread.
using CommitListener = std::function<void(const otlp::Batch&)>;

struct PipelineStats {
  uint64_t queued_items = 0;
  uint64_t queued_bytes = 0;
  uint64_t committed_items = 0;
  uint64_t commits = 0;
  double drain_items_per_second = 0;  // recent, exponentially smoothed
};

class Pipeline {
 public:
  using Done = std::function<void(const Status&)>;

  // `store` and `registry` must outlive the Pipeline.
  Pipeline(const Config::Pipeline& config, const Config::Retention& retention, store::Store* store,
           metrics::Registry* registry, const Clock* clock);
  ~Pipeline();

  void Start();
  Status Submit(otlp::Batch batch, otlp::Signal signal, Done done);
  // Seconds a rejected client should wait, derived from the queue size and the drain rate (1..60).
  uint32_t RetryAfterSeconds() const;
  void AddCommitListener(CommitListener listener);  // before Start()
  PipelineStats Stats() const;
  void Shutdown();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace avtrace::pipeline
