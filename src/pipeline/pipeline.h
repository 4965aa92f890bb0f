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
#include <span>
#include <vector>

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

// A hook the writer thread runs around every group commit, so later layers can keep state that
// must be persisted atomically with the data (the player Sessionizer: ingest/player_hook.h)
// without the pipeline knowing about it. All methods run on the writer thread, one at a time.
class CommitHook {
 public:
  virtual ~CommitHook() = default;
  // Before the group's transaction: may update the batches (e.g. playback delivery status) and
  // append session states, which are upserted in the SAME transaction.
  virtual void BeforeCommit(std::span<otlp::Batch* const> batches,
                            std::vector<player::SessionState>* sessions) = 0;
  // After the transaction, with its outcome (the batches are still alive).
  virtual void AfterCommit(std::span<otlp::Batch* const> /*batches*/,
                           const Status& /*status*/) {}
  // How often Periodic runs (0: never). Checked after commits and while idle.
  virtual uint64_t PeriodNanos() const { return 0; }
  // Periodic work; session states appended are committed in a transaction of their own.
  virtual void Periodic(std::vector<player::SessionState>* /*sessions*/) {}
};

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
  // The same for player telemetry (playback events and session boundaries); counted under
  // avtrace_pipeline_*{signal="playback"}.
  Status SubmitPlayback(otlp::Batch batch, Done done);
  // Seconds a rejected client should wait, derived from the queue size and the drain rate (1..60).
  uint32_t RetryAfterSeconds() const;
  void AddCommitListener(CommitListener listener);  // before Start()
  // At most one; before Start(). The hook must outlive the pipeline (or its Shutdown()).
  void SetCommitHook(CommitHook* hook);
  PipelineStats Stats() const;
  void Shutdown();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace avtrace::pipeline
