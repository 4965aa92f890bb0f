#include "core/config.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>

namespace avtrace {
namespace {

// Replaces every ${env:NAME} in `in`. A missing variable is an error: silently using an empty
// string would hide a broken deployment.
Status ExpandEnv(const std::string& in, std::string* out) {
  out->clear();
  size_t pos = 0;
  while (true) {
    size_t start = in.find("${env:", pos);
    if (start == std::string::npos) {
      out->append(in, pos);
      return Status::Ok();
    }
    size_t end = in.find('}', start);
    if (end == std::string::npos) return InvalidArgument("unterminated ${env:...}");
    out->append(in, pos, start - pos);
    std::string name = in.substr(start + 6, end - start - 6);
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return InvalidArgument("environment variable " + name + " is not set");
    out->append(value);
    pos = end + 1;
  }
}

// Walks the YAML tree with a schema of setters; everything not in the schema is an unknown key.
class Loader {
 public:
  explicit Loader(std::string origin) : origin_(std::move(origin)) {}

  Status Where(const YAML::Node& n, const std::string& path, const std::string& what) const {
    return InvalidArgument(origin_ + ":" + std::to_string(n.Mark().line + 1) + ": " + path + ": " +
                           what);
  }

  Status Scalar(const YAML::Node& n, const std::string& path, std::string* out) const {
    if (!n.IsScalar()) return Where(n, path, "expected a scalar value");
    Status s = ExpandEnv(n.Scalar(), out);
    if (!s.ok()) return Where(n, path, s.message());
    return Status::Ok();
  }

  Status String(const YAML::Node& n, const std::string& path, std::string* out) const {
    return Scalar(n, path, out);
  }

  Status Bool(const YAML::Node& n, const std::string& path, bool* out) const {
    std::string s;
    RETURN_IF_ERROR(Scalar(n, path, &s));
    if (s == "true" || s == "yes" || s == "on") *out = true;
    else if (s == "false" || s == "no" || s == "off") *out = false;
    else return Where(n, path, "expected true or false, got '" + s + "'");
    return Status::Ok();
  }

  template <typename T>
  Status Unsigned(const YAML::Node& n, const std::string& path, T* out) const {
    std::string s;
    RETURN_IF_ERROR(Scalar(n, path, &s));
    uint64_t v = 0;
    // Size suffixes for byte counts: 64MiB, 1GiB, 512KiB.
    static const std::pair<const char*, uint64_t> kSuffixes[] = {
        {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}};
    uint64_t mult = 1;
    for (const auto& [suffix, m] : kSuffixes) {
      std::string_view sv(s);
      if (sv.size() > 3 && sv.substr(sv.size() - 3) == suffix) {
        s.resize(s.size() - 3);
        mult = m;
        break;
      }
    }
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
      return Where(n, path, "expected a non-negative integer, got '" + n.Scalar() + "'");
    v = std::strtoull(s.c_str(), nullptr, 10) * mult;
    if (v > static_cast<uint64_t>(std::numeric_limits<T>::max()))
      return Where(n, path, "value too large");
    *out = static_cast<T>(v);
    return Status::Ok();
  }

  Status Duration(const YAML::Node& n, const std::string& path, uint64_t* seconds) const {
    std::string s;
    RETURN_IF_ERROR(Scalar(n, path, &s));
    auto r = ParseDurationSeconds(s);
    if (!r.ok()) return Where(n, path, r.status().message());
    *seconds = *r;
    return Status::Ok();
  }

  Status StringList(const YAML::Node& n, const std::string& path,
                    std::vector<std::string>* out) const {
    if (!n.IsSequence()) return Where(n, path, "expected a list");
    out->clear();
    for (size_t i = 0; i < n.size(); ++i) {
      std::string s;
      RETURN_IF_ERROR(Scalar(n[i], path + "[" + std::to_string(i) + "]", &s));
      out->push_back(std::move(s));
    }
    return Status::Ok();
  }

  using Field = std::function<Status(const YAML::Node&, const std::string&)>;

  // Applies `fields` to the mapping `n`; unknown keys are errors.
  Status Map(const YAML::Node& n, const std::string& path,
             const std::map<std::string, Field>& fields) const {
    if (n.IsNull()) return Status::Ok();
    if (!n.IsMap()) return Where(n, path.empty() ? "(top level)" : path, "expected a mapping");
    for (const auto& kv : n) {
      std::string key = kv.first.as<std::string>();
      std::string full = path.empty() ? key : path + "." + key;
      auto it = fields.find(key);
      if (it == fields.end()) return Where(kv.first, full, "unknown key '" + full + "'");
      RETURN_IF_ERROR(it->second(kv.second, full));
    }
    return Status::Ok();
  }

 private:
  std::string origin_;
};

Status Apply(const Loader& L, const YAML::Node& root, Config* c) {
  using N = const YAML::Node&;
  using P = const std::string&;
  auto str = [&](std::string* out) { return [&L, out](N n, P p) { return L.String(n, p, out); }; };
  auto bol = [&](bool* out) { return [&L, out](N n, P p) { return L.Bool(n, p, out); }; };
  auto u64 = [&](uint64_t* out) { return [&L, out](N n, P p) { return L.Unsigned(n, p, out); }; };
  auto u32 = [&](uint32_t* out) { return [&L, out](N n, P p) { return L.Unsigned(n, p, out); }; };
  auto dur = [&](uint64_t* out) { return [&L, out](N n, P p) { return L.Duration(n, p, out); }; };
  auto list = [&](std::vector<std::string>* out) {
    return [&L, out](N n, P p) { return L.StringList(n, p, out); };
  };
  auto map = [&](std::map<std::string, Loader::Field> fields) {
    return [&L, fields](N n, P p) { return L.Map(n, p, fields); };
  };
  return L.Map(
      root, "",
      {
          {"data_dir", str(&c->data_dir)},
          {"io_threads", [&](N n, P p) {
             uint32_t v = 0;
             RETURN_IF_ERROR(L.Unsigned(n, p, &v));
             if (v < 1 || v > 64) return L.Where(n, p, "expected 1..64");
             c->io_threads = static_cast<int>(v);
             return Status::Ok();
           }},
          {"log", map({{"format", str(&c->log.format)}, {"level", str(&c->log.level)}})},
          {"otlp_http", map({{"enabled", bol(&c->otlp_http.enabled)},
                             {"listen", str(&c->otlp_http.listen)},
                             {"max_body_bytes", u64(&c->otlp_http.max_body_bytes)},
                             {"max_inflight_body_bytes", u64(&c->otlp_http.max_inflight_body_bytes)},
                             {"cors_allowed_origins", list(&c->otlp_http.cors_allowed_origins)}})},
          {"otlp_grpc", map({{"enabled", bol(&c->otlp_grpc.enabled)},
                             {"listen", str(&c->otlp_grpc.listen)}})},
          {"http", map({{"listen", str(&c->http.listen)}})},
          {"pipeline", map({{"queue_max_items", u64(&c->pipeline.queue_max_items)},
                            {"queue_max_bytes", u64(&c->pipeline.queue_max_bytes)},
                            {"commit_max_items", u32(&c->pipeline.commit_max_items)},
                            {"commit_window_ms", u32(&c->pipeline.commit_window_ms)}})},
          {"storage", map({{"backend", str(&c->storage.backend)},
                           {"sqlite", map({{"path", str(&c->storage.sqlite_path)}})},
                           {"durability", str(&c->storage.durability)},
                           {"indexed_attributes", list(&c->storage.indexed_attributes)},
                           {"max_series_per_metric", u64(&c->storage.max_series_per_metric)},
                           {"max_active_series", u64(&c->storage.max_active_series)},
                           {"series_idle", dur(&c->storage.series_idle_seconds)}})},
          {"projects", [&](N n, P p) {
             if (!n.IsSequence()) return L.Where(n, p, "expected a list of projects");
             c->projects.clear();
             for (size_t i = 0; i < n.size(); ++i) {
               Config::Project& pr = c->projects.emplace_back();
               const std::string at = p + "[" + std::to_string(i) + "]";
               RETURN_IF_ERROR(L.Map(n[i], at,
                                     {{"id", str(&pr.id)},
                                      {"tokens", list(&pr.tokens)},
                                      {"token_sha256", list(&pr.token_sha256)},
                                      {"allowed_origins", list(&pr.allowed_origins)}}));
               if (pr.id.empty()) return L.Where(n[i], at, "a project needs an id");
             }
             return Status::Ok();
           }},
          {"player",
           map({{"rate_limit", map({{"capacity", u64(&c->player.rate_limit.capacity)},
                                    {"refill_per_second",
                                     u64(&c->player.rate_limit.refill_per_second)},
                                    {"max_buckets", u64(&c->player.rate_limit.max_buckets)}})},
                {"session", map({{"stall_after_ms", u64(&c->player.session.stall_after_ms)},
                                 {"end_after_ms", u64(&c->player.session.end_after_ms)},
                                 {"sweep_interval_ms", u64(&c->player.session.sweep_interval_ms)},
                                 {"max_sessions", u64(&c->player.session.max_sessions)}})},
                {"sse_heartbeat_ms", u64(&c->player.sse_heartbeat_ms)},
                {"session_tokens",
                 map({{"keys", list(&c->player.session_tokens.keys)},
                      {"active_kid", str(&c->player.session_tokens.active_kid)},
                      {"max_ttl", dur(&c->player.session_tokens.max_ttl_seconds)}})}})},
          {"probes", [&](N n, P p) {
             if (!n.IsSequence()) return L.Where(n, p, "expected a list of probes");
             c->probes.clear();
             for (size_t i = 0; i < n.size(); ++i) {
               Config::Probe& pr = c->probes.emplace_back();
               const std::string at = p + "[" + std::to_string(i) + "]";
               RETURN_IF_ERROR(L.Map(n[i], at,
                                     {{"name", str(&pr.name)},
                                      {"url", str(&pr.url)},
                                      {"max_playlists", u64(&pr.max_playlists)},
                                      {"check_segments", bol(&pr.check_segments)}}));
               if (!IsValidProbeName(pr.name))
                 return L.Where(n[i], at, "a probe needs a name of 1..64 characters [A-Za-z0-9._-]");
               if (pr.url.rfind("http://", 0) != 0 && pr.url.rfind("https://", 0) != 0)
                 return L.Where(n[i], at, "a probe needs an http:// or https:// url");
             }
             return Status::Ok();
           }},
          {"probe_settings",
           map({{"workers", u32(&c->probe_settings.workers)},
                {"allow_private", bol(&c->probe_settings.allow_private)},
                {"timeout", dur(&c->probe_settings.timeout_seconds)},
                {"metrics_interval", dur(&c->probe_settings.metrics_interval_seconds)},
                {"max_probes", u64(&c->probe_settings.max_probes)},
                {"api_writes", bol(&c->probe_settings.api_writes)}})},
          {"retention", map({{"traces", dur(&c->retention.traces_seconds)},
                             {"metrics", dur(&c->retention.metrics_seconds)},
                             {"logs", dur(&c->retention.logs_seconds)},
                             {"playback", dur(&c->retention.playback_seconds)},
                             {"check_interval", dur(&c->retention.check_interval_seconds)}})},
      });
}

Status Validate(const Config& c, const std::string& origin) {
  auto bad = [&](const std::string& m) { return InvalidArgument(origin + ": " + m); };
  if (c.log.format != "text" && c.log.format != "json")
    return bad("log.format: expected text or json, got '" + c.log.format + "'");
  if (c.log.level != "debug" && c.log.level != "info" && c.log.level != "warn" &&
      c.log.level != "error")
    return bad("log.level: expected debug, info, warn or error, got '" + c.log.level + "'");
  if (c.storage.backend != "sqlite")
    return bad("storage.backend: expected sqlite, got '" + c.storage.backend + "'");
  if (c.storage.durability != "normal" && c.storage.durability != "power")
    return bad("storage.durability: expected normal or power, got '" + c.storage.durability + "'");
  std::string host;
  uint16_t port;
  const std::pair<const char*, const std::string*> listens[] = {
      {"otlp_http.listen", &c.otlp_http.listen},
      {"otlp_grpc.listen", &c.otlp_grpc.listen},
      {"http.listen", &c.http.listen}};
  for (const auto& [name, value] : listens) {
    Status s = ParseListenAddress(*value, &host, &port);
    if (!s.ok()) return bad(std::string(name) + ": " + s.message());
  }
  if (c.pipeline.queue_max_items == 0 || c.pipeline.queue_max_bytes == 0)
    return bad("pipeline.queue_max_items and queue_max_bytes must be > 0");
  if (c.pipeline.commit_max_items == 0) return bad("pipeline.commit_max_items must be > 0");
  if (c.otlp_http.max_body_bytes == 0) return bad("otlp_http.max_body_bytes must be > 0");
  if (c.otlp_http.max_inflight_body_bytes < c.otlp_http.max_body_bytes)
    return bad("otlp_http.max_inflight_body_bytes must be at least max_body_bytes");
  if (c.player.rate_limit.capacity == 0 || c.player.rate_limit.max_buckets == 0)
    return bad("player.rate_limit.capacity and max_buckets must be > 0");
  const auto& ps = c.player.session;
  if (ps.stall_after_ms == 0 || ps.end_after_ms < ps.stall_after_ms || ps.sweep_interval_ms == 0 ||
      ps.max_sessions == 0)
    return bad("player.session: need 0 < stall_after_ms <= end_after_ms, sweep_interval_ms > 0, "
               "max_sessions > 0");
  if (c.player.sse_heartbeat_ms == 0) return bad("player.sse_heartbeat_ms must be > 0");
  const auto& pset = c.probe_settings;
  if (pset.workers < 1 || pset.workers > 32) return bad("probe_settings.workers: expected 1..32");
  if (pset.timeout_seconds == 0 || pset.metrics_interval_seconds == 0)
    return bad("probe_settings.timeout and metrics_interval must be > 0");
  if (c.probes.size() > pset.max_probes)
    return bad("probes: " + std::to_string(c.probes.size()) + " probes but probe_settings.max_probes is " +
               std::to_string(pset.max_probes));
  std::set<std::string> names;
  for (const auto& p : c.probes) {
    if (!names.insert(p.name).second) return bad("probes: the name '" + p.name + "' is used twice");
    if (p.max_playlists == 0 || p.max_playlists > 64)
      return bad("probes[" + p.name + "].max_playlists: expected 1..64");
  }
  return Status::Ok();
}

}  // namespace

bool IsValidProbeName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '_' && ch != '-')
      return false;
  return true;
}

std::string Config::SqlitePath() const {
  if (!storage.sqlite_path.empty()) return storage.sqlite_path;
  return data_dir + "/avtrace.db";
}

Result<Config> ParseConfig(const std::string& yaml_text, const std::string& origin) {
  Config config;
  try {
    YAML::Node root = YAML::Load(yaml_text);
    Loader loader(origin);
    RETURN_IF_ERROR(Apply(loader, root, &config));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(origin + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  RETURN_IF_ERROR(Validate(config, origin));
  return config;
}

Result<Config> LoadConfig(const std::string& path) {
  if (path.empty()) return Config{};
  std::ifstream in(path);
  if (!in) return InvalidArgument("cannot read config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

void ApplyEnvironment(Config* c) {
  auto env = [](const char* name, std::string* out) {
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') *out = v;
  };
  env("AVTRACE_DATA_DIR", &c->data_dir);
  env("AVTRACE_OTLP_HTTP_LISTEN", &c->otlp_http.listen);
  env("AVTRACE_OTLP_GRPC_LISTEN", &c->otlp_grpc.listen);
  env("AVTRACE_HTTP_LISTEN", &c->http.listen);
  env("AVTRACE_LOG_LEVEL", &c->log.level);
  env("AVTRACE_LOG_FORMAT", &c->log.format);
}

std::string DumpConfig(const Config& c) {
  YAML::Emitter out;
  auto list = [&](const std::vector<std::string>& v) {
    out << YAML::Flow << YAML::BeginSeq;
    for (const auto& s : v) out << s;
    out << YAML::EndSeq;
  };
  out << YAML::BeginMap;
  out << YAML::Key << "data_dir" << YAML::Value << c.data_dir;
  out << YAML::Key << "io_threads" << YAML::Value << c.io_threads;
  out << YAML::Key << "log" << YAML::Value << YAML::BeginMap << YAML::Key << "format"
      << YAML::Value << c.log.format << YAML::Key << "level" << YAML::Value << c.log.level
      << YAML::EndMap;
  out << YAML::Key << "otlp_http" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "enabled" << YAML::Value << c.otlp_http.enabled;
  out << YAML::Key << "listen" << YAML::Value << c.otlp_http.listen;
  out << YAML::Key << "max_body_bytes" << YAML::Value << c.otlp_http.max_body_bytes;
  out << YAML::Key << "max_inflight_body_bytes" << YAML::Value << c.otlp_http.max_inflight_body_bytes;
  out << YAML::Key << "cors_allowed_origins" << YAML::Value;
  list(c.otlp_http.cors_allowed_origins);
  out << YAML::EndMap;
  out << YAML::Key << "otlp_grpc" << YAML::Value << YAML::BeginMap << YAML::Key << "enabled"
      << YAML::Value << c.otlp_grpc.enabled << YAML::Key << "listen" << YAML::Value
      << c.otlp_grpc.listen << YAML::EndMap;
  out << YAML::Key << "http" << YAML::Value << YAML::BeginMap << YAML::Key << "listen"
      << YAML::Value << c.http.listen << YAML::EndMap;
  out << YAML::Key << "pipeline" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "queue_max_items" << YAML::Value << c.pipeline.queue_max_items;
  out << YAML::Key << "queue_max_bytes" << YAML::Value << c.pipeline.queue_max_bytes;
  out << YAML::Key << "commit_max_items" << YAML::Value << c.pipeline.commit_max_items;
  out << YAML::Key << "commit_window_ms" << YAML::Value << c.pipeline.commit_window_ms;
  out << YAML::EndMap;
  out << YAML::Key << "storage" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "backend" << YAML::Value << c.storage.backend;
  out << YAML::Key << "sqlite" << YAML::Value << YAML::BeginMap << YAML::Key << "path"
      << YAML::Value << c.SqlitePath() << YAML::EndMap;
  out << YAML::Key << "durability" << YAML::Value << c.storage.durability;
  out << YAML::Key << "indexed_attributes" << YAML::Value;
  list(c.storage.indexed_attributes);
  out << YAML::Key << "max_series_per_metric" << YAML::Value << c.storage.max_series_per_metric;
  out << YAML::Key << "max_active_series" << YAML::Value << c.storage.max_active_series;
  out << YAML::Key << "series_idle" << YAML::Value
      << std::to_string(c.storage.series_idle_seconds) + "s";
  out << YAML::EndMap;
  out << YAML::Key << "projects" << YAML::Value << YAML::BeginSeq;
  for (const Config::Project& p : c.projects) {
    out << YAML::BeginMap << YAML::Key << "id" << YAML::Value << p.id;
    out << YAML::Key << "tokens" << YAML::Value;
    list(std::vector<std::string>(p.tokens.size(), "REDACTED"));
    out << YAML::Key << "token_sha256" << YAML::Value;
    list(std::vector<std::string>(p.token_sha256.size(), "REDACTED"));
    out << YAML::Key << "allowed_origins" << YAML::Value;
    list(p.allowed_origins);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "player" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "rate_limit" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "capacity" << YAML::Value << c.player.rate_limit.capacity;
  out << YAML::Key << "refill_per_second" << YAML::Value << c.player.rate_limit.refill_per_second;
  out << YAML::Key << "max_buckets" << YAML::Value << c.player.rate_limit.max_buckets;
  out << YAML::EndMap;
  out << YAML::Key << "session" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "stall_after_ms" << YAML::Value << c.player.session.stall_after_ms;
  out << YAML::Key << "end_after_ms" << YAML::Value << c.player.session.end_after_ms;
  out << YAML::Key << "sweep_interval_ms" << YAML::Value << c.player.session.sweep_interval_ms;
  out << YAML::Key << "max_sessions" << YAML::Value << c.player.session.max_sessions;
  out << YAML::EndMap;
  out << YAML::Key << "sse_heartbeat_ms" << YAML::Value << c.player.sse_heartbeat_ms;
  out << YAML::Key << "session_tokens" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "keys" << YAML::Value << YAML::BeginSeq;
  for (const std::string& k : c.player.session_tokens.keys)
    out << k.substr(0, k.find(':')) + ":REDACTED";
  out << YAML::EndSeq;
  out << YAML::Key << "active_kid" << YAML::Value << c.player.session_tokens.active_kid;
  out << YAML::Key << "max_ttl" << YAML::Value
      << std::to_string(c.player.session_tokens.max_ttl_seconds) + "s";
  out << YAML::EndMap;
  out << YAML::EndMap;
  out << YAML::Key << "probes" << YAML::Value << YAML::BeginSeq;
  for (const Config::Probe& p : c.probes) {
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << p.name;
    out << YAML::Key << "url" << YAML::Value << p.url;
    out << YAML::Key << "max_playlists" << YAML::Value << p.max_playlists;
    out << YAML::Key << "check_segments" << YAML::Value << p.check_segments;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "probe_settings" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "workers" << YAML::Value << c.probe_settings.workers;
  out << YAML::Key << "allow_private" << YAML::Value << c.probe_settings.allow_private;
  out << YAML::Key << "timeout" << YAML::Value << std::to_string(c.probe_settings.timeout_seconds) + "s";
  out << YAML::Key << "metrics_interval" << YAML::Value
      << std::to_string(c.probe_settings.metrics_interval_seconds) + "s";
  out << YAML::Key << "max_probes" << YAML::Value << c.probe_settings.max_probes;
  out << YAML::Key << "api_writes" << YAML::Value << c.probe_settings.api_writes;
  out << YAML::EndMap;
  out << YAML::Key << "retention" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "traces" << YAML::Value << std::to_string(c.retention.traces_seconds) + "s";
  out << YAML::Key << "metrics" << YAML::Value << std::to_string(c.retention.metrics_seconds) + "s";
  out << YAML::Key << "logs" << YAML::Value << std::to_string(c.retention.logs_seconds) + "s";
  out << YAML::Key << "playback" << YAML::Value
      << std::to_string(c.retention.playback_seconds) + "s";
  out << YAML::Key << "check_interval" << YAML::Value
      << std::to_string(c.retention.check_interval_seconds) + "s";
  out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

Status ParseListenAddress(const std::string& text, std::string* host, uint16_t* port) {
  size_t colon;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return InvalidArgument("expected [ipv6]:port, got '" + text + "'");
    *host = text.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
      return InvalidArgument("expected host:port, got '" + text + "'");
    *host = text.substr(0, colon);
  }
  std::string p = text.substr(colon + 1);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos)
    return InvalidArgument("expected a port number 0..65535 in '" + text + "'");
  unsigned long v = std::strtoul(p.c_str(), nullptr, 10);
  if (v > 65535) return InvalidArgument("port out of range in '" + text + "'");
  *port = static_cast<uint16_t>(v);
  return Status::Ok();
}

Result<uint64_t> ParseDurationSeconds(const std::string& text) {
  if (text.empty()) return InvalidArgument("expected a duration like 30s, 5m, 168h or 7d");
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0) return InvalidArgument("expected a duration like 30s, 5m, 168h or 7d, got '" + text + "'");
  uint64_t n = std::strtoull(text.substr(0, i).c_str(), nullptr, 10);
  std::string unit = text.substr(i);
  uint64_t mult;
  if (unit.empty() || unit == "s") mult = 1;
  else if (unit == "m") mult = 60;
  else if (unit == "h") mult = 3600;
  else if (unit == "d") mult = 86400;
  else return InvalidArgument("unknown duration unit '" + unit + "' in '" + text + "' (use s, m, h, d)");
  return n * mult;
}

}  // namespace avtrace
