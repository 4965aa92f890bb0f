#pragma once
// Projects: who may send player telemetry, with which token, from which browser origins; and the
// CORS answers of the player API (m-trace contract §1 and §6).
//
// A ProjectRegistry is built once from ProjectsConfig at startup (bad config: an error for main
// to report). Tokens are kept only as SHA-256 digests; a presented token is hashed and compared
// against every stored digest with CRYPTO_memcmp (constant time, no early exit), so neither the
// plaintext nor timing reveals which token matched. With no project configured, the registry
// runs in lab mode with m-trace's defaults (project "demo", token "demo-token", origins
// http://localhost:5173 and http://localhost:3000); IsLabMode() tells main to log a warning.
//
// Ownership: a value built by Create; immutable afterwards. Threads: all const methods are
// thread-safe. Errors: Create returns InvalidArgument naming the offending project.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace avtrace::player {

// One `projects:` entry of the YAML config.
struct ProjectConfig {
  std::string id;                            // [A-Za-z0-9._-]{1,64}
  std::vector<std::string> tokens;           // plaintext (e.g. "${env:DEMO_TOKEN}"); hashed at load
  std::vector<std::string> token_sha256;     // or pre-hashed: 64 hex chars each
  std::vector<std::string> allowed_origins;  // exact "scheme://host[:port]"; empty Origin always ok
};

// The player ingest rate limit (m-trace defaults: capacity 100, refill 100/s per dimension).
struct RateLimitConfig {
  double capacity = 100;
  double refill_per_second = 100;
  uint64_t max_buckets = 100'000;  // bound on tracked (dimension, value) buckets
};

struct ProjectsConfig {
  std::vector<ProjectConfig> projects;  // empty: lab mode
  RateLimitConfig rate_limit;
};

using Sha256Digest = std::array<uint8_t, 32>;
Sha256Digest Sha256(std::string_view data);
// "abcd1234...wxyz" style fingerprint for logs: first 8 + "..." + last 4 hex of the digest.
std::string TokenFingerprint(std::string_view token);

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The three CORS path groups of the contract (plus our CMCD collection endpoint).
enum class CorsGroup {
  kPlayer,     // POST /api/playback-events (and session-tokens, analyze)
  kDashboard,  // GET /api/stream-sessions[/{id}], SRT
  kSse,        // GET /api/stream-sessions/stream (adds Last-Event-ID)
  kCmcd,       // GET/POST /api/cmcd
};

struct Project {
  std::string id;
  std::vector<std::string> allowed_origins;
  bool IsOriginAllowed(std::string_view origin) const;
};

class ProjectRegistry {
 public:
  static Result<std::unique_ptr<ProjectRegistry>> Create(const ProjectsConfig& config);

  bool IsLabMode() const { return lab_mode_; }
  // The project whose token this is, or nullptr. Constant time in the token's content.
  const Project* ResolveToken(std::string_view token) const;
  const Project* FindById(std::string_view project_id) const;
  const std::vector<Project>& projects() const { return projects_; }

  // True if `origin` is allowed by any project (the global union used for CORS echo).
  bool IsKnownOrigin(std::string_view origin) const;
  // Headers every response of the player API carries: Vary, and for a known Origin
  // Access-Control-Allow-Origin echoing it (never "*", never credentials).
  HeaderList CorsHeaders(std::string_view origin) const;
  // The answer to an OPTIONS preflight: always 204 with an empty body. `refused` is set when an
  // Origin was given but is unknown (no Allow-* headers; the caller counts the refusal).
  HeaderList Preflight(CorsGroup group, std::string_view origin, bool* refused) const;

 private:
  struct TokenEntry {
    Sha256Digest digest;
    size_t project_index;
  };
  bool lab_mode_ = false;
  std::vector<Project> projects_;
  std::vector<TokenEntry> tokens_;
  std::vector<std::string> origin_union_;
};

}  // namespace avtrace::player
