#pragma once
// The subcommands behind cli::Main. Each returns a process exit code.

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"

namespace avtrace::cli {

// `avtrace serve`: runs until SIGTERM/SIGINT, then shuts down gracefully (stop accepting,
// drain the queue, commit, exit 0).
int RunServe(const Config& config);

struct BenchOptions {
  std::string kind;  // otlp-traces | otlp-metrics | otlp-logs | player-events
  std::string url;   // base URL of the OTLP/HTTP receiver, e.g. http://127.0.0.1:4318
  uint32_t items_per_request = 100;
  uint32_t concurrency = 4;
  double duration_seconds = 30;
  double rate_limit = 0;  // requests/s in total; 0 = as fast as possible
  bool gzip = false;
  int server_pid = 0;     // for server CPU-seconds and RSS from /proc
  std::string json_out;   // write the summary as JSON here too
  uint32_t attributes_per_item = 10;
  std::string token = "demo-token";  // player-events: X-MTrace-Token
};

// `avtrace bench`: a load generator with a progress bar and a summary.
int RunBench(const BenchOptions& options);

}  // namespace avtrace::cli
