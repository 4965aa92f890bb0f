#include "api/sessions_api.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <deque>
#include <map>
#include <optional>

#include "core/base64url.h"
#include "api/query_params.h"
#include "ingest/json_writer.h"
#include "player/qoe.h"
#include "player/text.h"

namespace avtrace::api {
namespace {

using ingest::HttpRequest;
using ingest::HttpResponse;
using ingest::Responder;

constexpr std::string_view kMtraceList = "/api/stream-sessions";
constexpr std::string_view kMtraceDetail = "/api/stream-sessions/";
constexpr std::string_view kMtraceStream = "/api/stream-sessions/stream";
constexpr size_t kBackfillMax = 1000;
constexpr uint32_t kBackfillPage = 1000;
constexpr int kBackfillMaxPages = 100;  // rows scanned at most: 100k (events of every project)
constexpr std::string_view kOwnList = "/api/v1/sessions";
constexpr std::string_view kOwnDetail = "/api/v1/sessions/";

HttpResponse ErrorBody(int status, std::string_view code, std::string_view reason = {}) {
  std::string body = "{\"error\":";
  player::AppendJsonString(&body, code);
  if (!reason.empty()) {
    body += ",\"reason\":";
    player::AppendJsonString(&body, reason);
  }
  body += "}";
  return HttpResponse::Json(status, std::move(body));
}

std::string Arg(std::string_view query, std::string_view name, bool* present) {
  *present = false;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = part.find('=');
    if (part.substr(0, eq) != name) continue;
    *present = true;
    std::string out;
    std::string_view v = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    for (size_t i = 0; i < v.size(); ++i) {
      auto hex = [](char c) {
        return c >= '0' && c <= '9'   ? c - '0'
               : c >= 'a' && c <= 'f' ? c - 'a' + 10
               : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                      : -1;
      };
      if (v[i] == '%' && i + 2 < v.size() && hex(v[i + 1]) >= 0 && hex(v[i + 2]) >= 0) {
        out.push_back(static_cast<char>(hex(v[i + 1]) * 16 + hex(v[i + 2])));
        i += 2;
      } else {
        out.push_back(v[i] == '+' ? ' ' : v[i]);
      }
    }
    return out;
  }
  return {};
}

// limit: absent -> default 100; otherwise 1..1000 or false.
bool ParseLimit(std::string_view query, std::string_view name, uint32_t* out) {
  bool present = false;
  std::string v = Arg(query, name, &present);
  *out = 100;
  if (!present) return true;
  uint32_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < 1 || n > 1000) return false;
  *out = n;
  return true;
}

// ---- cursors: base64url (no padding) over JSON ---------------------------------------------

struct CursorError {
  bool legacy = false;
  std::string reason;
};

// Parses a cursor into its JSON object fields; only `allowed` keys may appear.
bool ParseCursor(std::string_view text, std::initializer_list<std::string_view> allowed,
                 std::map<std::string, std::string>* fields, CursorError* err) {
  std::string json;
  if (text.empty() || !Base64UrlDecode(text, &json)) {
    err->reason = "not base64url";
    return false;
  }
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(json).get(obj) != simdjson::SUCCESS) {
    err->reason = "not a JSON object";
    return false;
  }
  for (auto [key, value] : obj) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      err->reason = "unknown field";
      return false;
    }
    std::string_view s;
    int64_t i = 0;
    if (value.get(s) == simdjson::SUCCESS) {
      (*fields)[std::string(key)] = std::string(s);
    } else if (value.get(i) == simdjson::SUCCESS) {
      (*fields)[std::string(key)] = std::to_string(i);
    } else {
      err->reason = "bad field type";
      return false;
    }
  }
  auto v = fields->find("v");
  if (v == fields->end() || v->second == "1" || v->second == "2") {
    err->legacy = true;
    err->reason = v == fields->end() ? "missing version" : "legacy cursor version";
    return false;
  }
  if (v->second != "3") {
    err->reason = "unknown cursor version";
    return false;
  }
  return true;
}

bool ToU64(const std::string& s, uint64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

HttpResponse CursorErrorResponse(const CursorError& e) {
  if (e.legacy) return ErrorBody(400, "cursor_invalid_legacy", e.reason);
  return ErrorBody(400, "cursor_invalid_malformed");
}

std::string ListCursor(const player::SessionState& s) {
  std::string j = "{\"v\":3,\"pid\":";
  player::AppendJsonString(&j, s.project_id);
  j += ",\"sa\":" + std::to_string(s.started_at_unix_nanos) + ",\"sid\":";
  player::AppendJsonString(&j, s.session_id);
  j += "}";
  return Base64UrlEncode(j);
}

std::string EventCursor(const otlp::PlaybackEvent& e) {
  std::string j = "{\"v\":3,\"pid\":";
  player::AppendJsonString(&j, e.project_id);
  j += ",\"sid\":";
  player::AppendJsonString(&j, e.session_id);
  j += ",\"rcv\":" + std::to_string(e.server_received_unix_nanos);
  if (e.has_sequence_number) j += ",\"seq\":" + std::to_string(e.sequence_number);
  j += ",\"ing\":" + std::to_string(e.ingest_sequence) + "}";
  return Base64UrlEncode(j);
}

std::string Hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s.push_back(d[p[i] >> 4]);
    s.push_back(d[p[i] & 15]);
  }
  return s;
}

void WriteQoe(ingest::JsonWriter& w, const player::QoeState& state) {
  const player::QoeSummary q = player::QoeCalculator::Summarize(state);
  w.Key("qoe");
  w.BeginObject();
  if (q.has_startup) {
    w.Key("startup_ms");
    w.Double(q.startup_ms);
  }
  w.FieldUint("rebuffer_count", q.rebuffer_count);
  w.Key("rebuffer_ms");
  w.Double(q.rebuffer_ms);
  w.Key("playing_ms");
  w.Double(q.playing_ms);
  w.Key("rebuffer_ratio");
  w.Double(q.rebuffer_ratio);
  w.FieldBool("exit_before_video_start", q.exit_before_video_start);
  w.FieldBool("video_start_failure", q.video_start_failure);
  w.FieldBool("playback_failure", q.playback_failure);
  w.FieldUint("error_count", q.error_count);
  w.FieldUint("bitrate_switches_up", q.bitrate_switches_up);
  w.FieldUint("bitrate_switches_down", q.bitrate_switches_down);
  if (q.has_avg_bitrate) {
    w.Key("avg_bitrate_kbps");
    w.Double(q.avg_bitrate_kbps);
  }
  w.FieldUint("dropped_frames", q.dropped_frames);
  if (q.has_score) {
    w.Key("score");
    w.Double(q.score);
  }
  w.EndObject();
}

void WriteSession(ingest::JsonWriter& w, const player::SessionState& s, bool own) {
  w.BeginObject();
  w.Field("session_id", s.session_id);
  w.Field("project_id", s.project_id);
  w.Field("state", player::SessionStatusName(s.status));
  w.Field("started_at", player::FormatRfc3339Millis(s.started_at_unix_nanos));
  w.Field("last_event_at", player::FormatRfc3339Millis(s.last_event_at_unix_nanos));
  if (s.ended_at_unix_nanos) {
    w.Field("ended_at", player::FormatRfc3339Millis(s.ended_at_unix_nanos));
  }
  w.Key("end_source");
  if (s.end_source == player::EndSource::kNone)
    w.Null();
  else
    w.String(player::EndSourceName(s.end_source));
  w.FieldUint("event_count", s.event_count);
  w.Field("correlation_id", s.correlation_id);
  w.Key("network_signal_absent");
  w.BeginArray();
  for (const auto& n : s.network_signal_absent) {
    w.BeginObject();
    w.Field("kind", n.kind);
    w.Field("adapter", n.adapter);
    w.Field("reason", n.reason);
    w.EndObject();
  }
  w.EndArray();
  if (s.sample_rate_ppm != 1'000'000) {
    w.FieldUint("sample_rate_ppm", s.sample_rate_ppm);
    w.Key("sample_rate");
    w.Double(s.sample_rate_ppm / 1e6);
  }
  if (own) {
    if (!s.sdk_name.empty()) w.Field("player", s.sdk_name);
    if (!s.protocol.empty()) w.Field("protocol", s.protocol);
    WriteQoe(w, s.qoe);
  }
  w.EndObject();
}

std::string_view DeliveryName(otlp::DeliveryStatus d) {
  switch (d) {
    case otlp::DeliveryStatus::kDuplicateSuspected: return "duplicate_suspected";
    case otlp::DeliveryStatus::kReplayed: return "replayed";
    default: return "accepted";
  }
}

void WriteEvent(ingest::JsonWriter& w, const otlp::PlaybackEvent& e, bool own) {
  w.BeginObject();
  w.Field("event_name", e.event_name);
  w.Field("project_id", e.project_id);
  w.Field("session_id", e.session_id);
  w.Field("client_timestamp", e.client_timestamp);
  w.Field("server_received_at", player::FormatRfc3339Millis(e.server_received_unix_nanos));
  w.FieldUint("ingest_sequence", e.ingest_sequence);
  if (e.has_sequence_number) w.FieldInt("sequence_number", e.sequence_number);
  w.Key("sdk");
  w.BeginObject();
  w.Field("name", e.sdk_name);
  w.Field("version", e.sdk_version);
  w.EndObject();
  if (!e.meta_json.empty()) {
    w.Key("meta");
    w.Raw(e.meta_json);
  }
  w.Field("correlation_id", e.correlation_id);
  if (std::any_of(e.trace_id.begin(), e.trace_id.end(), [](uint8_t c) { return c != 0; })) {
    w.Field("trace_id", Hex(e.trace_id.data(), e.trace_id.size()));
  }
  if (e.time_skew_warning) w.FieldBool("time_skew_warning", true);
  if (own) w.Field("delivery_status", DeliveryName(e.delivery_status));
  w.EndObject();
}

}  // namespace

void SessionsApi::RegisterRoutes(ingest::Router* router) {
  router->Exact("GET", std::string(kMtraceList),
                [this](HttpRequest q, Responder r) { List(std::move(q), std::move(r), true); });
  router->Prefix("GET", std::string(kMtraceDetail),
                 [this](HttpRequest q, Responder r) { Detail(std::move(q), std::move(r), true); });
  auto preflight = [this](HttpRequest q, Responder r) {
    bool refused = false;
    HttpResponse resp;
    resp.status = 204;
    for (auto& [k, v] :
         deps_.projects->Preflight(player::CorsGroup::kDashboard, q.headers.Get("Origin"), &refused))
      resp.headers.Set(k, std::move(v));
    r.Send(std::move(resp));
  };
  router->Exact("OPTIONS", std::string(kMtraceList), preflight);
  router->Prefix("OPTIONS", std::string(kMtraceDetail), preflight);
  if (deps_.events) {
    router->Exact("GET", std::string(kMtraceStream),
                  [this](HttpRequest q, Responder r) { Stream(std::move(q), std::move(r)); });
    router->Exact("OPTIONS", std::string(kMtraceStream), [this](HttpRequest q, Responder r) {
      bool refused = false;
      HttpResponse resp;
      resp.status = 204;
      for (auto& [k, v] :
           deps_.projects->Preflight(player::CorsGroup::kSse, q.headers.Get("Origin"), &refused))
        resp.headers.Set(k, std::move(v));
      r.Send(std::move(resp));
    });
  }
  router->Exact("GET", std::string(kOwnList),
                [this](HttpRequest q, Responder r) { List(std::move(q), std::move(r), false); });
  router->Prefix("GET", std::string(kOwnDetail),
                 [this](HttpRequest q, Responder r) { Detail(std::move(q), std::move(r), false); });
}

HttpResponse SessionsApi::WithCors(HttpResponse r, std::string_view origin) const {
  for (auto& [k, v] : deps_.projects->CorsHeaders(origin)) r.headers.Set(k, std::move(v));
  return r;
}

void SessionsApi::Run(const Responder& r, std::string origin,
                      std::function<HttpResponse()> work) {
  auto job = [this, r, origin, work = std::move(work)] { r.Send(WithCors(work(), origin)); };
  if (!deps_.run_query) return job();
  if (!deps_.run_query(job)) {
    HttpResponse busy = ErrorBody(503, "unavailable");
    busy.headers.Set("Retry-After", "1");
    r.Send(WithCors(std::move(busy), origin));
  }
}

void SessionsApi::List(HttpRequest req, Responder r, bool mtrace) {
  std::string origin(req.headers.Get("Origin"));
  store::SessionListQuery q;
  if (mtrace) {
    const player::Project* p = deps_.projects->ResolveToken(req.headers.Get("X-MTrace-Token"));
    if (!p) return r.Send(WithCors(HttpResponse::Json(401, "{}"), origin));
    q.project_id = p->id;
  } else {
    bool present = false;
    q.project_id = Arg(req.query, "project", &present);
    std::string state = Arg(req.query, "state", &present);
    if (present) {
      if (state == "active") q.status = player::SessionStatus::kActive;
      else if (state == "stalled") q.status = player::SessionStatus::kStalled;
      else if (state == "ended") q.status = player::SessionStatus::kEnded;
      else return r.Send(WithCors(ErrorBody(400, "state_invalid"), origin));
    }
    for (auto [name, out] : {std::pair{"start", &q.started_from_unix_nanos},
                             std::pair{"end", &q.started_to_unix_nanos}}) {
      std::string v = Arg(req.query, name, &present);
      if (!present) continue;
      if (!ToU64(v, out) && !player::ParseRfc3339(v, out)) {
        return r.Send(WithCors(ErrorBody(400, std::string(name) + "_invalid"), origin));
      }
    }
  }
  if (!ParseLimit(req.query, "limit", &q.limit)) {
    return r.Send(WithCors(ErrorBody(400, "limit_invalid"), origin));
  }
  bool present = false;
  std::string cursor = Arg(req.query, "cursor", &present);
  if (present) {
    std::map<std::string, std::string> f;
    CursorError err;
    if (!ParseCursor(cursor, {"v", "pid", "sa", "sid"}, &f, &err)) {
      return r.Send(WithCors(CursorErrorResponse(err), origin));
    }
    store::SessionPosition pos;
    if (!f.count("pid") || !f.count("sid") || !f.count("sa") ||
        !ToU64(f["sa"], &pos.started_at_unix_nanos) ||
        (!q.project_id.empty() && f["pid"] != q.project_id)) {
      return r.Send(WithCors(ErrorBody(400, "cursor_invalid_malformed"), origin));
    }
    pos.project_id = f["pid"];
    pos.session_id = f["sid"];
    q.after = std::move(pos);
  }
  Run(r, origin, [this, q = std::move(q), mtrace]() -> HttpResponse {
    auto page = deps_.store->ListSessions(q);
    if (!page.ok()) return ingest::JsonError(page.status());
    std::string body;
    ingest::JsonWriter w(&body);
    w.BeginObject();
    w.Key("sessions");
    w.BeginArray();
    for (const auto& s : page->sessions) WriteSession(w, s, !mtrace);
    w.EndArray();
    if (page->more && !page->sessions.empty()) {
      w.Field("next_cursor", ListCursor(page->sessions.back()));
    }
    w.EndObject();
    return HttpResponse::Json(200, std::move(body));
  });
}

void SessionsApi::Detail(HttpRequest req, Responder r, bool mtrace) {
  std::string origin(req.headers.Get("Origin"));
  store::SessionEventsQuery q;
  std::string rest =
      req.path.substr(mtrace ? kMtraceDetail.size() : kOwnDetail.size());
  bool present = false;
  auto decode = [&](std::string_view s) {
    std::string tmp = "x=" + std::string(s);
    return Arg(tmp, "x", &present);
  };
  if (mtrace) {
    const player::Project* p = deps_.projects->ResolveToken(req.headers.Get("X-MTrace-Token"));
    if (!p) return r.Send(WithCors(HttpResponse::Json(401, "{}"), origin));
    q.project_id = p->id;
    q.session_id = decode(rest);
  } else {
    size_t slash = rest.find('/');
    if (slash == std::string::npos) {
      return r.Send(WithCors(ErrorBody(404, "session_not_found"), origin));
    }
    q.project_id = decode(rest.substr(0, slash));
    q.session_id = decode(rest.substr(slash + 1));
  }
  if (q.session_id.empty() || q.session_id.find('/') != std::string::npos) {
    return r.Send(WithCors(ErrorBody(404, "session_not_found"), origin));
  }
  if (!ParseLimit(req.query, "events_limit", &q.limit)) {
    return r.Send(WithCors(ErrorBody(400, "events_limit_invalid"), origin));
  }
  std::string cursor = Arg(req.query, "events_cursor", &present);
  if (present) {
    std::map<std::string, std::string> f;
    CursorError err;
    if (!ParseCursor(cursor, {"v", "pid", "sid", "rcv", "seq", "ing", "wm"}, &f, &err)) {
      return r.Send(WithCors(CursorErrorResponse(err), origin));
    }
    store::EventPosition pos;
    uint64_t seq = 0;
    if (f["pid"] != q.project_id || f["sid"] != q.session_id || !f.count("rcv") ||
        !f.count("ing") || !ToU64(f["rcv"], &pos.server_received_unix_nanos) ||
        !ToU64(f["ing"], &pos.ingest_sequence) || (f.count("seq") && !ToU64(f["seq"], &seq))) {
      return r.Send(WithCors(ErrorBody(400, "cursor_invalid_malformed"), origin));
    }
    pos.sequence_number = f.count("seq") ? static_cast<int64_t>(seq) : -1;
    q.after = pos;
  }
  Run(r, origin, [this, q = std::move(q), mtrace]() -> HttpResponse {
    auto session = deps_.store->GetSession(q.project_id, q.session_id, 0);
    if (!session.ok()) {
      if (session.status().code() == StatusCode::kNotFound) {
        return ErrorBody(404, "session_not_found");
      }
      return ingest::JsonError(session.status());
    }
    auto page = deps_.store->ListSessionEvents(q);
    if (!page.ok()) return ingest::JsonError(page.status());
    std::string body;
    ingest::JsonWriter w(&body);
    w.BeginObject();
    w.Key("session");
    WriteSession(w, *session, !mtrace);
    w.Key("events");
    w.BeginArray();
    for (const auto& e : page->events.playback_events) WriteEvent(w, e, !mtrace);
    w.EndArray();
    if (page->more && !page->events.playback_events.empty()) {
      w.Field("next_cursor", EventCursor(page->events.playback_events.back()));
    }
    w.EndObject();
    return HttpResponse::Json(200, std::move(body));
  });
}

void SessionsApi::Stream(HttpRequest req, Responder r) {
  std::string origin(req.headers.Get("Origin"));
  std::string token(req.headers.Get("X-MTrace-Token"));
  bool present = false;
  if (token.empty()) token = Arg(req.query, "access_token", &present);
  const player::Project* p = deps_.projects->ResolveToken(token);
  if (!p) return r.Send(WithCors(HttpResponse::Json(401, "{}"), origin));
  std::string last(req.headers.Get("Last-Event-ID"));
  if (last.empty()) last = Arg(req.query, "last_event_id", &present);
  std::optional<uint64_t> after;
  if (uint64_t n = 0; !last.empty() && ToU64(last, &n)) after = n;
  if (deps_.events->full()) {
    HttpResponse busy = ErrorBody(503, "unavailable");
    busy.headers.Set("Retry-After", "1");
    return r.Send(WithCors(std::move(busy), origin));
  }
  HttpResponse resp;
  resp.status = 200;
  resp.headers.Set("Content-Type", "text/event-stream; charset=utf-8");
  resp.headers.Set("Cache-Control", "no-store");
  resp.headers.Set("X-Accel-Buffering", "no");
  resp = WithCors(std::move(resp), origin);
  resp.stream = [this, project = p->id, after](std::shared_ptr<ingest::StreamWriter> w) {
    const uint64_t id = deps_.events->Subscribe(project, w, after.has_value());
    if (id == 0) return w->Close();
    if (!after) return;
    auto backfill = [this, project, from = *after, w, id] {
      // The project's newest kBackfillMax events after `from`, scanning at most
      // kBackfillMaxPages pages of all projects' events.
      std::deque<std::string> frames;
      std::deque<uint64_t> seqs;
      uint64_t cursor = from, last_sent = from;
      bool truncated = false, more = true;
      for (int page = 0; more && page < kBackfillMaxPages; ++page) {
        auto got = deps_.store->EventsAfter(cursor, kBackfillPage);
        if (!got.ok()) break;
        for (const otlp::PlaybackEvent& e : got->events.playback_events) {
          cursor = e.ingest_sequence;
          if (e.project_id != project) continue;
          frames.push_back(ingest::SessionEvents::Frame(e));
          seqs.push_back(e.ingest_sequence);
          if (frames.size() > kBackfillMax) {
            frames.pop_front();
            seqs.pop_front();
            truncated = true;
          }
        }
        more = got->more;
      }
      std::string out;
      if (more) {
        truncated = true;  // gave up scanning: continue from what is live
        frames.clear();
        seqs.clear();
        last_sent = cursor;
      }
      if (truncated) {
        const uint64_t oldest = seqs.empty() ? cursor + 1 : seqs.front();
        out += "event: backfill_truncated\ndata: {\"oldest_ingest_sequence\":" +
               std::to_string(oldest) + "}\n\n";
      }
      for (auto& f : frames) out += f;
      if (!seqs.empty()) last_sent = seqs.back();
      // Live frames buffered meanwhile are flushed after this one (same strand, in order).
      if (!out.empty()) w->Write(std::move(out));
      deps_.events->FinishBackfill(id, last_sent);
    };
    if (!deps_.run_query || !deps_.run_query(backfill)) backfill();
  };
  r.Send(std::move(resp));
}

}  // namespace avtrace::api
