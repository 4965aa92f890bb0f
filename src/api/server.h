#pragma once
// Server: the network side of `avtrace serve`, assembled. It owns
//   - the io_context and its thread pool (config.io_threads threads) that run every socket;
//   - the OTLP/HTTP listener (config.otlp_http.listen, default 127.0.0.1:4318) with the
//     OtlpHttpReceiver submitting to the pipeline (skipped when otlp_http.enabled is false);
//   - the http listener (config.http.listen, default 127.0.0.1:8080) with the QueryApi;
//   - with `player` (PlayerRuntime, built before the pipeline starts): the player telemetry
//     routes on the http listener (ingest/player_http.h) and the session reads (sessions_api.h);
//   - with `probes` (ProbeRunner, started by the caller): the /api/v1/probes routes;
//   - a small query pool (kQueryThreads threads, kMaxQueuedQueries queued) on which API store
//     reads run, so a slow query never holds an io thread that ingest needs.
// It borrows the pipeline, store, registry and clock, which the caller (cli `serve`) creates
// first and destroys last.
//
// Lifecycle (cli serve):
//   Start() binds both ports (port 0 picks a free one) and starts the threads; endpoints() then
//   gives the bound addresses (for <data-dir>/ports.json). On a bind error nothing is left
//   running and the Status says which address failed.
//   Stop(deadline): /readyz turns 503; the OTLP listener stops accepting and lets requests in
//   flight finish (they wait for their durable commit) until `deadline`; then the API listener
//   stops; queued queries finish; the io threads are joined. Call Stop() BEFORE
//   pipeline->Shutdown(), so in-flight requests are still acknowledged; any completion that
//   arrives later is dropped safely. Stop is safe to call twice; the destructor calls it.
// Threads: Start/Stop/endpoints from the owning thread (main), not from an io thread.
// Errors: Start returns InvalidArgument for a malformed listen address, Unavailable when a port
// cannot be bound.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "ingest/http_server.h"
#include "ingest/player_http.h"
#include "pipeline/pipeline.h"
#include "probe/probe_runner.h"
#include "store/store.h"

namespace avtrace::metrics {
class Registry;
}

namespace avtrace::api {

struct ServerEndpoints {
  std::optional<ingest::BoundEndpoint> otlp_http;  // absent when otlp_http.enabled is false
  ingest::BoundEndpoint http;
};

class Server {
 public:
  static constexpr int kQueryThreads = 2;
  static constexpr int kMaxQueuedQueries = 64;

  static Result<std::unique_ptr<Server>> Start(const Config& config, pipeline::Pipeline* pipeline,
                                               store::Store* store, metrics::Registry* registry,
                                               const Clock* clock, std::string version = "dev",
                                               ingest::PlayerRuntime* player = nullptr,
                                               probe::ProbeRunner* probes = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  const ServerEndpoints& endpoints() const;
  void Stop(std::chrono::milliseconds deadline = std::chrono::seconds(10));

 private:
  class Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace avtrace::api
