#include "cli/cli.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <string_view>
#include <vector>

#include "analyzer/check.h"
#include "cli/commands.h"
#include "core/config.h"
#include "core/log.h"

#ifndef AVTRACE_VERSION
#define AVTRACE_VERSION "0.0.0"
#endif

namespace avtrace::cli {
namespace {

constexpr int kUsageError = 2;

}  // namespace

int Main(int argc, char** argv) {
  // `check` has its own argument grammar (analyzer/check.h), shared with tests and embedders.
  if (argc >= 2 && std::string_view(argv[1]) == "check") {
    std::vector<std::string> args(argv + 2, argv + argc);
    for (const auto& a : args) {
      if (a == "--help" || a == "-h") {
        std::cout << analyzer::CheckUsage();
        return 0;
      }
    }
    auto options = analyzer::ParseCheckArgs(args);
    if (!options.ok()) {
      std::cerr << "avtrace check: " << options.status().message() << "\n"
                << analyzer::CheckUsage();
      return kUsageError;
    }
    return analyzer::RunCheck(*options);
  }

  CLI::App app{"avtrace: OpenTelemetry-native observability for audio/video delivery"};
  app.require_subcommand(1);

  auto* version = app.add_subcommand("version", "Print version and build information");
  app.add_subcommand("check", "Analyze an HLS/DASH manifest or an MP4 segment (see check --help)");

  auto* serve = app.add_subcommand("serve", "Run the server (OTLP/HTTP, query API, /metrics)");
  std::string config_path, data_dir, otlp_http_listen, otlp_grpc_listen, http_listen;
  bool print_config = false;
  serve->add_option("--config,-c", config_path, "YAML config file");
  serve->add_option("--data-dir", data_dir, "Data directory (SQLite database, ports.json)");
  serve->add_option("--otlp-http-listen", otlp_http_listen, "OTLP/HTTP host:port (port 0: any)");
  serve->add_option("--otlp-grpc-listen", otlp_grpc_listen, "OTLP/gRPC host:port (port 0: any)");
  serve->add_option("--http-listen", http_listen, "API/dashboard/metrics host:port (port 0: any)");
  serve->add_flag("--print-config", print_config, "Print the effective config and exit");

  auto* bench = app.add_subcommand("bench", "Load generator against a running server");
  BenchOptions bo;
  std::string duration = "30s";
  bench->add_option("kind", bo.kind, "otlp-traces | otlp-metrics | otlp-logs | player-events")
      ->required()
      ->check(CLI::IsMember({"otlp-traces", "otlp-metrics", "otlp-logs", "player-events"}));
  bench->add_option("--url", bo.url,
                    "Base URL: the OTLP/HTTP receiver, or the http port for player-events")
      ->default_val("http://127.0.0.1:4318");
  bench->add_option("--token", bo.token, "player-events: the X-MTrace-Token to send")
      ->default_val("demo-token");
  bench->add_option("--spans-per-request,--items-per-request", bo.items_per_request,
                    "Items (spans, points, records) per request")
      ->default_val(100);
  bench->add_option("--concurrency", bo.concurrency, "Connections")->default_val(4);
  bench->add_option("--duration", duration, "How long, e.g. 30s")->default_val("30s");
  bench->add_option("--rate", bo.rate_limit, "Requests per second in total (0: max)")
      ->default_val(0);
  bench->add_option("--attributes", bo.attributes_per_item, "Attributes per item")
      ->default_val(10);
  bench->add_flag("--gzip", bo.gzip, "gzip request bodies");
  bench->add_option("--server-pid", bo.server_pid, "Server PID for CPU and RSS from /proc");
  bench->add_option("--json", bo.json_out, "Also write the summary as JSON to this file");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kUsageError;
  }

  if (version->parsed()) {
    std::printf("avtrace %s\ncompiler: GCC %d.%d.%d, C++ %ld\nstorage: SQLite (embedded)\n",
                AVTRACE_VERSION, __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__, __cplusplus);
    return 0;
  }

  if (bench->parsed()) {
    auto secs = ParseDurationSeconds(duration);
    if (!secs.ok()) {
      std::fprintf(stderr, "avtrace bench: --duration: %s\n", secs.status().message().c_str());
      return kUsageError;
    }
    bo.duration_seconds = static_cast<double>(*secs);
    return RunBench(bo);
  }

  auto config = LoadConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "avtrace: invalid configuration: %s\n", config.status().message().c_str());
    return kUsageError;
  }
  ApplyEnvironment(&*config);
  if (!data_dir.empty()) config->data_dir = data_dir;
  if (!otlp_http_listen.empty()) config->otlp_http.listen = otlp_http_listen;
  if (!otlp_grpc_listen.empty()) config->otlp_grpc.listen = otlp_grpc_listen;
  if (!http_listen.empty()) config->http.listen = http_listen;
  // Flags and environment bypass the file's validation; check the result once more.
  auto checked = ParseConfig(DumpConfig(*config), "effective config");
  if (!checked.ok()) {
    std::fprintf(stderr, "avtrace: invalid configuration: %s\n", checked.status().message().c_str());
    return kUsageError;
  }
  if (print_config) {
    std::fputs(DumpConfig(*config).c_str(), stdout);
    return 0;
  }
  log::Level level = log::Level::kInfo;
  log::ParseLevel(config->log.level, &level);
  log::InitLogging(config->log.format == "json" ? log::Format::kJson : log::Format::kText, level);
  return RunServe(*config);
}

}  // namespace avtrace::cli
