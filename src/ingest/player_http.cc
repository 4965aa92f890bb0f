#include "ingest/player_http.h"

#include <simdjson.h>

#include "core/civil_time.h"
#include "core/log.h"
#include "ingest/json_writer.h"
#include "player/text.h"
#include "player/cmcd.h"

namespace avtrace::ingest {
namespace {

constexpr std::string_view kPlaybackPath = "/api/playback-events";
constexpr std::string_view kCmcdPath = "/api/cmcd";
constexpr std::string_view kSessionTokensPath = "/api/auth/session-tokens";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 && HexValue(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2])));
      i += 2;
    } else if (in[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

// "1.2.3.4:5678" / "[::1]:5678" -> the address only (rate-limit key; never stored).
std::string_view HostOf(std::string_view remote) {
  size_t colon = remote.rfind(':');
  if (colon == std::string_view::npos) return remote;
  std::string_view host = remote.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

HttpResponse EmptyJson(int status) { return HttpResponse::Json(status, "{}"); }

HttpResponse ErrorJson(int status, std::string_view code, std::string_view message) {
  std::string body = "{\"error\":\"";
  body += code;
  body += "\",\"message\":\"";
  for (char c : message.substr(0, 300)) {
    if (c == '"' || c == '\\') body.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) continue;
    body.push_back(c);
  }
  body += "\"}";
  return HttpResponse::Json(status, std::move(body));
}

}  // namespace

std::string QueryArg(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = part.find('=');
    if (part.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string() : PercentDecode(part.substr(eq + 1));
    }
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Commit hook.

void PlayerCommitHook::BeforeCommit(std::span<otlp::Batch* const> batches,
                                    std::vector<player::SessionState>* sessions) {
  for (otlp::Batch* b : batches) {
    if (b->playback_events.empty() && b->session_boundaries.empty()) continue;
    sessionizer_->Apply(b, sessions);
  }
}

void PlayerCommitHook::AfterCommit(std::span<otlp::Batch* const> batches, const Status& status) {
  // A failed commit leaves the in-memory sessions ahead of the store; the next successful
  // upsert of those sessions writes the whole state again, so nothing is lost but the
  // rolled-back events (whose clients were told to retry).
  if (metrics_) metrics_->SetActiveSessions(static_cast<double>(sessionizer_->ActiveCount()));
  if (status.ok() && listener_) listener_(batches);
}

void PlayerCommitHook::Periodic(std::vector<player::SessionState>* sessions) {
  sessionizer_->Sweep(sessions);
  if (metrics_) metrics_->SetActiveSessions(static_cast<double>(sessionizer_->ActiveCount()));
}

// ---------------------------------------------------------------------------------------------
// Runtime.

Result<std::unique_ptr<PlayerRuntime>> PlayerRuntime::Create(const Config& config,
                                                             store::Store* store,
                                                             metrics::Registry* registry,
                                                             const Clock* clock) {
  auto rt = std::make_unique<PlayerRuntime>();
  player::ProjectsConfig pc;
  for (const Config::Project& p : config.projects) {
    pc.projects.push_back({p.id, p.tokens, p.token_sha256, p.allowed_origins});
  }
  pc.rate_limit.capacity = static_cast<double>(config.player.rate_limit.capacity);
  pc.rate_limit.refill_per_second = static_cast<double>(config.player.rate_limit.refill_per_second);
  pc.rate_limit.max_buckets = config.player.rate_limit.max_buckets;
  auto projects = player::ProjectRegistry::Create(pc);
  if (!projects.ok()) return projects.status().WithContext("projects");
  rt->projects = std::move(*projects);
  if (rt->projects->IsLabMode()) {
    log::Warn(
        "No projects configured: player telemetry runs in LAB MODE (project 'demo', token "
        "'demo-token', origins http://localhost:5173 and http://localhost:3000). Configure "
        "`projects:` before exposing this server.");
  } else {
    std::string ids;
    for (const auto& p : rt->projects->projects()) ids += (ids.empty() ? "" : ",") + p.id;
    log::Info("Player projects loaded.", {{"projects", ids}});
  }
  rt->metrics = std::make_unique<player::PlayerMetrics>(registry);
  rt->limiter = std::make_unique<player::RateLimiter>(clock, pc.rate_limit);
  const auto& st = config.player.session_tokens;
  if (!st.keys.empty()) {
    auto keys = player::SessionTokenKeys::Create(st.keys, st.active_kid, st.max_ttl_seconds);
    if (!keys.ok()) return keys.status().WithContext("player.session_tokens");
    rt->session_keys = std::move(*keys);
    // m-trace's issuance quotas: 100 burst / 10 per s in total, 30 / 5 per s per project.
    rt->issue_global = std::make_unique<player::RateLimiter>(
        clock, player::RateLimitConfig{100, 10, 16});
    rt->issue_project = std::make_unique<player::RateLimiter>(
        clock, player::RateLimitConfig{30, 5, 100'000});
    log::Info("Session tokens enabled.", {{"active_kid", st.active_kid},
                                          {"keys", std::to_string(st.keys.size())}});
  }
  rt->decoder = std::make_unique<player::BeaconDecoder>(rt->projects.get(), rt->limiter.get(),
                                                        rt->metrics.get(), rt->session_keys.get());
  player::SessionizerOptions so;
  so.stall_after_nanos = config.player.session.stall_after_ms * 1'000'000ull;
  so.end_after_nanos = config.player.session.end_after_ms * 1'000'000ull;
  so.max_sessions = config.player.session.max_sessions;
  const size_t max_seq = so.max_sequence_numbers;
  player::Sessionizer::Loader loader;
  if (store) {
    loader = [store, max_seq](std::string_view project,
                              std::string_view session) -> std::optional<player::SessionState> {
      auto got = store->GetSession(project, session, max_seq);
      if (got.ok()) return std::move(*got);
      if (got.status().code() != StatusCode::kNotFound &&
          got.status().code() != StatusCode::kFailedPrecondition) {
        log::Warn("Loading a playback session failed; it continues as new.",
                  {{"error", got.status().ToString()}});
      }
      return std::nullopt;
    };
  }
  rt->sessionizer =
      std::make_unique<player::Sessionizer>(clock, so, std::move(loader), rt->metrics.get());
  if (store) {
    auto open = store->OpenSessions(static_cast<uint32_t>(std::min<uint64_t>(so.max_sessions,
                                                                              1'000'000)));
    if (open.ok()) {
      if (!open->empty()) {
        log::Info("Restored open playback sessions.", {{"sessions", std::to_string(open->size())}});
      }
      rt->sessionizer->Restore(std::move(*open));
    } else if (open.status().code() != StatusCode::kFailedPrecondition) {
      return open.status().WithContext("restore playback sessions");
    }
  }
  rt->hook = std::make_unique<PlayerCommitHook>(
      rt->sessionizer.get(), rt->metrics.get(),
      config.player.session.sweep_interval_ms * 1'000'000ull);
  rt->sse_heartbeat_ms = config.player.sse_heartbeat_ms;
  SessionEventsOptions eo;
  eo.heartbeat_ms = config.player.sse_heartbeat_ms;
  rt->events = std::make_unique<SessionEvents>(eo, registry);
  rt->hook->SetCommittedListener(
      [events = rt->events.get()](std::span<otlp::Batch* const> batches) {
        events->Publish(batches);
      });
  return rt;
}

// ---------------------------------------------------------------------------------------------
// Receiver.

PlayerReceiver::PlayerReceiver(PlayerRuntime* runtime, pipeline::Pipeline* pipeline,
                               const Clock* clock)
    : runtime_(runtime), pipeline_(pipeline), clock_(clock) {}

void PlayerReceiver::RegisterRoutes(Router* router) {
  router->Exact("POST", std::string(kPlaybackPath), [this](HttpRequest req, Responder r) {
    HandleBeacon(std::move(req), std::move(r));
  });
  router->Exact("OPTIONS", std::string(kPlaybackPath), [this](HttpRequest req, Responder r) {
    HandlePreflight(player::CorsGroup::kPlayer, "playback_events", req, r);
  });
  for (const char* method : {"GET", "POST"}) {
    router->Exact(method, std::string(kCmcdPath), [this](HttpRequest req, Responder r) {
      HandleCmcd(std::move(req), std::move(r));
    });
  }
  router->Exact("OPTIONS", std::string(kCmcdPath), [this](HttpRequest req, Responder r) {
    HandlePreflight(player::CorsGroup::kCmcd, "cmcd", req, r);
  });
  if (runtime_->session_keys) {
    router->Exact("POST", std::string(kSessionTokensPath), [this](HttpRequest req, Responder r) {
      HandleIssueSessionToken(std::move(req), std::move(r));
    });
    router->Exact("OPTIONS", std::string(kSessionTokensPath), [this](HttpRequest req, Responder r) {
      HandlePreflight(player::CorsGroup::kPlayer, "session_tokens", req, r);
    });
  }
}

// POST /api/auth/session-tokens: X-MTrace-Token (a project token) -> a session token for that
// project. Body (optional): {"ttl_seconds": 1..max_ttl (default max_ttl), "session_id": "..."}.
// Errors in m-trace's auth form {"status":"error","code":...,"message":...}.
void PlayerReceiver::HandleIssueSessionToken(HttpRequest request, Responder responder) {
  const std::string origin(request.headers.Get("Origin"));
  auto error = [&](int status, std::string_view code, std::string_view message,
                   uint32_t retry_after = 0) {
    std::string body;
    JsonWriter w(&body);
    w.BeginObject();
    w.Field("status", "error");
    w.Field("code", code);
    w.Field("message", message);
    w.EndObject();
    HttpResponse r = HttpResponse::Json(status, std::move(body));
    if (retry_after) r.headers.Set("Retry-After", std::to_string(retry_after));
    responder.Send(WithCors(std::move(r), origin));
  };
  const player::Project* project =
      runtime_->projects->ResolveToken(player::TrimAscii(request.headers.Get("X-MTrace-Token")));
  if (project == nullptr) return error(401, "auth_token_invalid", "X-MTrace-Token is missing or unknown");
  if (!project->IsOriginAllowed(origin))
    return error(403, "auth_policy_denied", "the project does not allow this Origin");
  uint64_t ttl = runtime_->session_keys->max_ttl_seconds();
  std::string session_id;
  if (!player::TrimAscii(request.body).empty()) {
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    if (parser.parse(request.body).get(obj) != simdjson::SUCCESS)
      return error(400, "invalid_request", "the body must be a JSON object");
    for (auto [key, value] : obj) {
      if (key == "ttl_seconds") {
        int64_t v = 0;
        if (value.get_int64().get(v) != simdjson::SUCCESS)
          return error(400, "invalid_request", "ttl_seconds must be an integer");
        if (v <= 0 || static_cast<uint64_t>(v) > ttl)
          return error(422, "auth_token_ttl_too_large",
                       "ttl_seconds must be 1.." + std::to_string(ttl));
        ttl = static_cast<uint64_t>(v);
      } else if (key == "session_id") {
        std::string_view v;
        if (value.get_string().get(v) != simdjson::SUCCESS || v.empty() || v.size() > 256)
          return error(400, "invalid_request", "session_id must be a string of 1..256 bytes");
        session_id = std::string(v);
      } else {
        return error(400, "invalid_request", "unknown key '" + std::string(key) + "'");
      }
    }
  }
  uint32_t retry = 1;
  if (!runtime_->issue_global->Allow({"issue", {}, {}}, 1, &retry) ||
      !runtime_->issue_project->Allow({project->id, {}, {}}, 1, &retry))
    return error(429, "auth_issuance_rate_limited", "session token issuance quota exceeded", retry);

  const uint64_t now = clock_->NowUnixNanos() / 1'000'000'000ULL;
  player::IssuedSessionToken t =
      runtime_->session_keys->Issue(project->id, session_id, origin, ttl, now);
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("session_token");
  w.BeginObject();
  w.Field("value", t.value);
  w.Field("token_id", t.claims.token_id);
  w.Field("project_id", t.claims.project_id);
  w.Field("audience", "playback-events");
  if (!session_id.empty()) w.Field("session_id", session_id);
  w.Field("expires_at",
          FormatRfc3339Millis(static_cast<int64_t>(t.claims.expires_at) * 1000).substr(0, 19) + "Z");
  w.EndObject();
  w.EndObject();
  HttpResponse r = HttpResponse::Json(201, std::move(body));
  r.headers.Set("Cache-Control", "no-store");
  responder.Send(WithCors(std::move(r), origin));
}

HttpResponse PlayerReceiver::WithCors(HttpResponse r, std::string_view origin) const {
  for (auto& [name, value] : runtime_->projects->CorsHeaders(origin)) {
    r.headers.Set(name, std::move(value));
  }
  r.headers.Set("Access-Control-Expose-Headers", "Retry-After");
  return r;
}

std::optional<HttpResponse> PlayerReceiver::CheckHead(const HttpRequest& head) const {
  if (head.method != "POST" || head.path != kPlaybackPath) return std::nullopt;
  if (player::BeaconDecoder::HasCredentials(head.headers.Get("Authorization"),
                                            head.headers.Get("X-MTrace-Session-Token"),
                                            head.headers.Get("X-MTrace-Token"))) {
    return std::nullopt;
  }
  if (!QueryArg(head.query, "access_token").empty()) return std::nullopt;
  runtime_->metrics->Received(0);
  return WithCors(EmptyJson(401), head.headers.Get("Origin"));
}

void PlayerReceiver::HandlePreflight(player::CorsGroup group, std::string_view path_group,
                                     const HttpRequest& request, const Responder& responder) {
  bool refused = false;
  HttpResponse r;
  r.status = 204;
  for (auto& [name, value] : runtime_->projects->Preflight(group, request.headers.Get("Origin"),
                                                           &refused)) {
    r.headers.Set(name, std::move(value));
  }
  if (refused) runtime_->metrics->CorsPreflightRefused(path_group);
  responder.Send(std::move(r));
}

void PlayerReceiver::HandleBeacon(HttpRequest request, Responder responder) {
  const std::string origin(request.headers.Get("Origin"));
  // sendBeacon cannot set headers: the token may come as ?access_token= (same rank as
  // X-MTrace-Token, which wins when both are present).
  std::string query_token;
  std::string_view mtrace_token = request.headers.Get("X-MTrace-Token");
  if (mtrace_token.empty()) {
    query_token = QueryArg(request.query, "access_token");
    mtrace_token = query_token;
  }
  if (!player::BeaconDecoder::HasCredentials(request.headers.Get("Authorization"),
                                             request.headers.Get("X-MTrace-Session-Token"),
                                             mtrace_token)) {
    return responder.Send(WithCors(EmptyJson(401), origin));
  }
  player::BeaconRequest br;
  br.authorization = request.headers.Get("Authorization");
  br.session_token = request.headers.Get("X-MTrace-Session-Token");
  br.mtrace_token = mtrace_token;
  br.origin = origin;
  br.traceparent = request.headers.Get("traceparent");
  br.body_too_large = request.body.size() > player::kMaxBeaconBodyBytes;
  br.body = br.body_too_large ? std::string_view() : std::string_view(request.body);
  br.client_address = HostOf(request.remote);
  br.now_unix_nanos = clock_->NowUnixNanos();
  player::BeaconResponse resp = runtime_->decoder->Decode(br);
  if (resp.status != 202) {
    if (resp.status >= 500 || resp.outcome == player::BeaconOutcome::kRateLimited) {
      log::Debug("Beacon refused.", {{"status", std::to_string(resp.status)},
                                     {"detail", resp.detail}});
    }
    HttpResponse r = HttpResponse::Json(resp.status, std::move(resp.body));
    for (auto& [name, value] : resp.headers) r.headers.Set(name, std::move(value));
    return responder.Send(WithCors(std::move(r), origin));
  }
  const size_t n = resp.batch.playback_events.size();
  Submit(std::move(resp.batch), n, origin, responder);
}

void PlayerReceiver::Submit(otlp::Batch batch, size_t n, std::string_view origin_view,
                            const Responder& responder) {
  std::string origin(origin_view);
  // The answers are built here, on the io thread, so the completion only moves a response.
  HttpResponse ok = WithCors(HttpResponse::Json(202, "{\"accepted\":" + std::to_string(n) + "}\n"),
                             origin);
  pipeline::Pipeline* pipeline = pipeline_;
  HttpResponse busy = WithCors(EmptyJson(503), origin);
  Status submitted = pipeline_->SubmitPlayback(
      std::move(batch),
      [responder, ok = std::move(ok), busy = std::move(busy), pipeline](const Status& st) mutable {
        if (st.ok()) return responder.Send(std::move(ok));
        busy.status = st.code() == StatusCode::kResourceExhausted ? 429 : 503;
        busy.headers.Set("Retry-After", std::to_string(std::max<uint32_t>(
                                            1, pipeline->RetryAfterSeconds())));
        responder.Send(std::move(busy));
      });
  if (!submitted.ok()) {
    HttpResponse r =
        EmptyJson(submitted.code() == StatusCode::kResourceExhausted ? 429 : 503);
    r.headers.Set("Retry-After", std::to_string(std::max<uint32_t>(
                                     1, pipeline_->RetryAfterSeconds())));
    runtime_->metrics->Rejected(
        submitted.code() == StatusCode::kResourceExhausted ? "queue_full" : "shutdown",
        static_cast<double>(n));
    responder.Send(WithCors(std::move(r), origin));
  }
}

void PlayerReceiver::HandleCmcd(HttpRequest request, Responder responder) {
  const std::string origin(request.headers.Get("Origin"));
  // Token: X-MTrace-Token, Authorization: Bearer <project token>, or ?access_token=.
  std::string token(request.headers.Get("X-MTrace-Token"));
  if (token.empty()) {
    std::string_view auth = request.headers.Get("Authorization");
    if (auth.size() > 7 && EqualsIgnoreCase(auth.substr(0, 7), "Bearer ")) {
      token = std::string(auth.substr(7));
    }
  }
  if (token.empty()) token = QueryArg(request.query, "access_token");
  if (token.empty()) {
    return responder.Send(WithCors(ErrorJson(401, "unauthorized", "missing token"), origin));
  }
  const player::Project* project = runtime_->projects->ResolveToken(token);
  if (!project) {
    return responder.Send(WithCors(ErrorJson(401, "unauthorized", "unknown token"), origin));
  }
  if (!origin.empty() && !project->IsOriginAllowed(origin)) {
    return responder.Send(
        WithCors(ErrorJson(403, "forbidden", "origin not allowed for this project"), origin));
  }
  if (request.body.size() > player::kMaxBeaconBodyBytes) {
    return responder.Send(WithCors(ErrorJson(413, "too_large", "body over 256 KiB"), origin));
  }
  std::vector<player::CmcdData> reports;
  auto fail = [&](const Status& s) {
    runtime_->metrics->Rejected("invalid", 1);
    responder.Send(WithCors(ErrorJson(400, "cmcd_invalid", s.message()), origin));
  };
  if (auto q = player::ParseCmcdQuery(request.query); q.ok()) {
    reports.push_back(std::move(*q));
  } else if (q.status().code() != StatusCode::kNotFound) {
    return fail(q.status());
  }
  const auto& h = request.headers;
  if (reports.empty() && (h.Has("CMCD-Request") || h.Has("CMCD-Object") || h.Has("CMCD-Status") ||
                          h.Has("CMCD-Session"))) {
    auto d = player::ParseCmcdHeaders(h.Get("CMCD-Request"), h.Get("CMCD-Object"),
                                      h.Get("CMCD-Status"), h.Get("CMCD-Session"));
    if (!d.ok()) return fail(d.status());
    reports.push_back(std::move(*d));
  }
  if (request.method == "POST" && !request.body.empty()) {
    auto r = player::ParseCmcdReports(request.body);
    if (!r.ok()) return fail(r.status());
    for (auto& d : *r) reports.push_back(std::move(d));
  }
  if (reports.empty()) {
    return fail(InvalidArgument("no CMCD data: expected a CMCD= query argument, CMCD-* "
                                "headers or a report body"));
  }
  if (reports.size() > player::kMaxBeaconEvents) {
    return responder.Send(WithCors(
        ErrorJson(422, "too_many_reports", "at most 100 CMCD reports per request"), origin));
  }
  uint32_t retry_after = 0;
  if (!runtime_->limiter->Allow({project->id, HostOf(request.remote), origin},
                                static_cast<int64_t>(reports.size()), &retry_after)) {
    runtime_->metrics->RateLimited(static_cast<double>(reports.size()));
    HttpResponse r = ErrorJson(429, "rate_limited", "rate limit exceeded");
    r.headers.Set("Retry-After", std::to_string(std::max<uint32_t>(1, retry_after)));
    return responder.Send(WithCors(std::move(r), origin));
  }
  otlp::Batch batch;
  const uint64_t now = clock_->NowUnixNanos();
  batch.received_unix_nanos = now;
  for (const player::CmcdData& d : reports) {
    Status s = player::CmcdToEvent(d, project->id, now, &batch);
    if (!s.ok()) return fail(s);
  }
  for (auto& e : batch.playback_events) {
    if (e.server_received_unix_nanos == 0) e.server_received_unix_nanos = now;
  }
  runtime_->metrics->Received(static_cast<double>(reports.size()));
  runtime_->metrics->Accepted(static_cast<double>(reports.size()));
  const size_t n = batch.playback_events.size();
  Submit(std::move(batch), n, origin, responder);
}

}  // namespace avtrace::ingest
