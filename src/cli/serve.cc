// `avtrace serve`: wires store -> pipeline -> front doors, writes <data-dir>/ports.json, waits for
// SIGTERM/SIGINT and shuts down in the order that keeps every acknowledged request durable:
// stop accepting, drain and commit the queue (answering the waiting requests), stop the network
// threads, close the store.

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "api/server.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "core/log.h"
#include "ingest/player_http.h"
#include "metrics/registry.h"
#include "pipeline/pipeline.h"
#include "probe/probe_runner.h"
#include "store/sqlite/sqlite_store.h"

namespace avtrace::cli {
namespace {

Status WritePortsFile(const std::string& data_dir, const std::string& otlp_http,
                      const std::string& http) {
  const std::string path = data_dir + "/ports.json";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Unavailable("cannot write " + tmp);
    out << "{\"otlp_http\":\"" << otlp_http << "\",\"http\":\"" << http
        << "\",\"pid\":" << getpid() << "}\n";
    if (!out.flush()) return Unavailable("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Unavailable("cannot rename " + tmp + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

int RunServe(const Config& config) {
  // Block the stop signals in every thread; the main thread waits for them with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    log::Error("Cannot create the data directory.", {{"path", config.data_dir}, {"error", ec.message()}});
    return 2;
  }

  SystemClock& clock = SystemClock::Instance();
  metrics::Registry registry;

  store::sqlite::SqliteOptions options;
  options.path = config.SqlitePath();
  options.durability_power = config.storage.durability == "power";
  options.indexed_attributes = config.storage.indexed_attributes;
  auto store = store::sqlite::OpenSqliteStore(options, &registry, &clock);
  if (!store.ok()) {
    log::Error("Cannot open the store.", {{"path", options.path}, {"error", store.status().ToString()}});
    return 1;
  }

  auto player = ingest::PlayerRuntime::Create(config, store->get(), &registry, &clock);
  if (!player.ok()) {
    log::Error("Cannot set up player telemetry.", {{"error", player.status().ToString()}});
    (*store)->Close();
    return 1;
  }

  pipeline::Pipeline pipeline(config.pipeline, config.retention, store->get(), &registry, &clock);
  pipeline.SetCommitHook((*player)->hook.get());
  pipeline.Start();

  // Live probes submit their results like any front door; they start before the listeners so
  // the API can list them, and stop before the pipeline drains.
  probe::ProbeRunner probes(
      probe::ProbeRunnerOptions::FromConfig(config),
      [&pipeline](otlp::Batch batch, otlp::Signal signal) {
        return pipeline.Submit(std::move(batch), signal, [](const Status&) {});
      },
      &registry, &clock);
  if (Status s = probes.Start(config.probes); !s.ok()) {
    log::Error("Cannot start the live probes.", {{"error", s.ToString()}});
    probes.Stop();
    pipeline.Shutdown();
    (*store)->Close();
    return 1;
  }

  auto server = api::Server::Start(config, &pipeline, store->get(), &registry, &clock,
                                   AVTRACE_VERSION, player->get(), &probes);
  if (!server.ok()) {
    log::Error("Cannot start the network listeners.", {{"error", server.status().ToString()}});
    probes.Stop();
    pipeline.Shutdown();
    (*store)->Close();
    return 1;
  }
  const api::ServerEndpoints& endpoints = (*server)->endpoints();
  const std::string otlp_http = endpoints.otlp_http ? endpoints.otlp_http->ToString() : "";
  const std::string http = endpoints.http.ToString();
  if (Status s = WritePortsFile(config.data_dir, otlp_http, http); !s.ok()) {
    log::Warn("Cannot write ports.json.", {{"error", s.ToString()}});
  }
  log::Info("avtrace is serving.", {{"otlp_http", otlp_http},
                                    {"http", http},
                                    {"store", options.path},
                                    {"pid", std::to_string(getpid())}});

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log::Info("Shutting down: no new requests; draining the queue.", {{"signal", std::to_string(sig)}});

  // Listeners stop first and in-flight requests get their durable answers; then the pipeline
  // commits whatever is still queued.
  (*server)->Stop();
  probes.Stop();
  pipeline.Shutdown();
  (*store)->Close();
  std::filesystem::remove(config.data_dir + "/ports.json", ec);
  log::Info("avtrace stopped cleanly.");
  return 0;
}

}  // namespace avtrace::cli
