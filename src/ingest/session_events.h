#pragma once
// SessionEvents: the fan-out behind the m-trace SSE endpoint GET /api/stream-sessions/stream
// (api/sessions_api.h). Committed playback events are published from the pipeline's writer
// thread (PlayerCommitHook's committed listener) as SSE frames
//
//   id: <ingest_sequence>
//   event: event_appended
//   data: {"project_id","session_id","ingest_sequence","event_name","time_skew_warning"?}
//
// to every subscriber of the event's project. Each subscriber is a StreamWriter whose queue of
// unwritten chunks is bounded (HttpResponse::stream_max_pending, 64 as in m-trace): a client
// whose queue is full is disconnected and counted in avtrace_api_sse_dropped_clients_total. At
// most `max_subscribers` streams are open (the endpoint answers 503 beyond). A heartbeat comment
// (": heartbeat") goes to every subscriber every `heartbeat_ms`.
//
// Backfill (Last-Event-ID): a subscriber added with `backfilling` keeps live frames in a bounded
// buffer of its own until FinishBackfill(last sequence sent), which flushes the newer ones, so
// backfilled and live events arrive once each and in order.
//
// Threads: all methods are thread-safe; writers are never called under the internal lock.
// Lifecycle: the heartbeat thread runs from construction to destruction.

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "ingest/http_types.h"
#include "otlp/model.h"

namespace prometheus {
class Counter;
class Gauge;
}  // namespace prometheus

namespace avtrace::metrics {
class Registry;
}

namespace avtrace::ingest {

struct SessionEventsOptions {
  uint64_t heartbeat_ms = 15'000;
  size_t max_subscribers = 256;
  size_t backfill_buffer = 1024;  // live frames held per subscriber while it backfills
};

class SessionEvents {
 public:
  SessionEvents(SessionEventsOptions options, metrics::Registry* registry);
  ~SessionEvents();
  SessionEvents(const SessionEvents&) = delete;
  SessionEvents& operator=(const SessionEvents&) = delete;

  // The SSE frame of one event.
  static std::string Frame(const otlp::PlaybackEvent& e);

  // Adds a subscriber for `project_id`; 0 when max_subscribers are open. The subscriber is
  // removed when its writer closes.
  uint64_t Subscribe(std::string project_id, std::shared_ptr<StreamWriter> writer,
                     bool backfilling);
  // Ends the backfill of `id`: buffered live frames with a sequence > `last_sent` are written.
  void FinishBackfill(uint64_t id, uint64_t last_sent);
  void Unsubscribe(uint64_t id);
  // Writer thread: fans out the committed batches' playback events.
  void Publish(std::span<otlp::Batch* const> batches);
  // One heartbeat now (also run by the thread).
  void Heartbeat();

  size_t subscribers() const;
  bool full() const { return subscribers() >= opts_.max_subscribers; }

 private:
  struct Sub {
    std::string project_id;
    std::shared_ptr<StreamWriter> writer;
    bool backfilling = false;
    std::vector<std::pair<uint64_t, std::string>> buffered;
  };
  void Drop(uint64_t id, const std::shared_ptr<StreamWriter>& writer);
  void HeartbeatLoop();

  const SessionEventsOptions opts_;
  prometheus::Counter* dropped_ = nullptr;
  prometheus::Gauge* gauge_ = nullptr;
  mutable std::mutex mu_;
  std::map<uint64_t, std::shared_ptr<Sub>> subs_;  // guarded by mu_
  uint64_t next_id_ = 1;
  bool stop_ = false;
  std::condition_variable cv_;
  std::thread heartbeat_;
};

}  // namespace avtrace::ingest
