#pragma once
// Config: every setting of `avtrace serve`, with its default. Loaded from one YAML file
// (docs/CONFIG.md lists every key), then overridden by AVTRACE_* environment variables and
// command-line flags for the common keys.
//
// Rules: every key has a default; `${env:NAME}` in any scalar is replaced by that environment
// variable (missing variable: error); unknown keys are errors naming the key, the file and the
// line. Loading is done once in main; the result is an immutable value handed to modules.
// Threads: a plain value.

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace avtrace {

struct Config {
  std::string data_dir = "./data";

  struct Log {
    std::string format = "text";  // text | json
    std::string level = "info";   // debug | info | warn | error
  } log;

  struct OtlpHttp {
    bool enabled = true;
    std::string listen = "127.0.0.1:4318";
    uint64_t max_body_bytes = 64ull << 20;  // after decompression
    uint64_t max_inflight_body_bytes = 256ull << 20;  // all bodies being read or awaiting commit
    std::vector<std::string> cors_allowed_origins;  // "*" allows any
  } otlp_http;

  struct OtlpGrpc {
    bool enabled = false;  // the gRPC receiver lands in a later issue
    std::string listen = "127.0.0.1:4317";
  } otlp_grpc;

  struct Http {
    std::string listen = "127.0.0.1:8080";  // API, /metrics, dashboard, beacons
  } http;

  int io_threads = 2;

  struct Pipeline {
    uint64_t queue_max_items = 200'000;
    uint64_t queue_max_bytes = 128ull << 20;
    uint32_t commit_max_items = 20'000;   // items per group commit
    uint32_t commit_window_ms = 0;        // wait this long for more requests to join a commit
  } pipeline;

  struct Storage {
    std::string backend = "sqlite";
    std::string sqlite_path;              // default <data_dir>/avtrace.db
    std::string durability = "normal";    // normal (survives a killed process) | power
    std::vector<std::string> indexed_attributes = {
        "service.name", "episode.id", "podcast.id", "stream.id", "session.id", "protocol"};
    // The metric cardinality guard (ingest/series_guard.h): active series = seen within
    // series_idle. max_active_series 0 turns it off.
    uint64_t max_series_per_metric = 20'000;
    uint64_t max_active_series = 1'000'000;
    uint64_t series_idle_seconds = 3600;
  } storage;

  struct Retention {
    uint64_t traces_seconds = 7 * 24 * 3600;
    uint64_t metrics_seconds = 30 * 24 * 3600;
    uint64_t logs_seconds = 7 * 24 * 3600;
    uint64_t playback_seconds = 30 * 24 * 3600;  // ended player sessions and their events
    uint64_t check_interval_seconds = 60;
  } retention;

  // Player telemetry (docs/PLAYER_API.md). No project: lab mode (project "demo", token
  // "demo-token", origins http://localhost:5173 and http://localhost:3000), logged as a warning.
  struct Project {
    std::string id;
    std::vector<std::string> tokens;         // plaintext; never logged, redacted in dumps
    std::vector<std::string> token_sha256;   // or pre-hashed (64 hex chars)
    std::vector<std::string> allowed_origins;
  };
  std::vector<Project> projects;

  struct Player {
    struct RateLimit {
      uint64_t capacity = 100;           // events per bucket (m-trace default)
      uint64_t refill_per_second = 100;
      uint64_t max_buckets = 100'000;
    } rate_limit;
    struct Session {
      uint64_t stall_after_ms = 60'000;   // active -> stalled after this long idle
      uint64_t end_after_ms = 300'000;    // -> ended (end_source sweeper)
      uint64_t sweep_interval_ms = 10'000;
      uint64_t max_sessions = 100'000;    // in memory
    } session;
    uint64_t sse_heartbeat_ms = 15'000;
    // m-trace session tokens (HS256): "kid:base64secret" entries, secrets >= 32 bytes; never
    // logged, redacted in dumps. Empty: session tokens are refused and the issuing route is 404.
    struct SessionTokens {
      std::vector<std::string> keys;
      std::string active_kid;
      uint64_t max_ttl_seconds = 900;
    } session_tokens;
  } player;

  // Server-side live probes (docs/PROBES.md): each polls one live HLS playlist or DASH MPD.
  struct Probe {
    std::string name;  // [A-Za-z0-9._-]{1,64}, unique
    std::string url;   // http(s)
    uint64_t max_playlists = 4;  // variants/renditions followed behind a Multivariant Playlist
    bool check_segments = true;  // fetch the first KiB of each newest segment
  };
  std::vector<Probe> probes;
  struct ProbeSettings {
    uint32_t workers = 2;                  // threads that fetch (one request each at a time)
    bool allow_private = false;            // labs only; never from a request
    uint64_t timeout_seconds = 10;         // per fetch, redirects included
    uint64_t metrics_interval_seconds = 10;  // at most one metrics batch per playlist per interval
    uint64_t max_probes = 64;              // config + API together
    bool api_writes = true;                // POST/DELETE /api/v1/probes
  } probe_settings;

  std::string SqlitePath() const;
};

// The rules for a probe name (shared by the config and the API): 1..64 of [A-Za-z0-9._-].
bool IsValidProbeName(const std::string& name);

// Loads `path` (empty: defaults only). Errors are InvalidArgument with a message of the form
// "<file>:<line>: unknown key 'receivers.otlp_htp'".
Result<Config> LoadConfig(const std::string& path);
// Parses YAML text (for tests); `origin` names it in messages.
Result<Config> ParseConfig(const std::string& yaml_text, const std::string& origin);
// Applies AVTRACE_DATA_DIR, AVTRACE_OTLP_HTTP_LISTEN, AVTRACE_OTLP_GRPC_LISTEN,
// AVTRACE_HTTP_LISTEN, AVTRACE_LOG_LEVEL, AVTRACE_LOG_FORMAT from `getenv`.
void ApplyEnvironment(Config* config);
// The effective config as YAML, secrets redacted.
std::string DumpConfig(const Config& config);
// Parses "host:port"; port 0 allowed (pick a free port). IPv6 as "[::1]:port".
Status ParseListenAddress(const std::string& text, std::string* host, uint16_t* port);
// Parses durations like "30s", "5m", "168h", "7d" or a bare number of seconds.
Result<uint64_t> ParseDurationSeconds(const std::string& text);

}  // namespace avtrace
