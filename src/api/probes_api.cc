#include "api/probes_api.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/civil_time.h"
#include "ingest/json_writer.h"

namespace avtrace::api {

using ingest::HttpRequest;
using ingest::HttpResponse;
using ingest::JsonError;
using ingest::Responder;

namespace {

constexpr std::string_view kPrefix = "/api/v1/probes";

std::string Time(uint64_t unix_nanos) {
  return FormatRfc3339Millis(static_cast<int64_t>(unix_nanos / 1'000'000));
}

void WriteProbe(ingest::JsonWriter& w, const probe::ProbeStatus& s) {
  w.BeginObject();
  w.Field("name", s.spec.name);
  w.Field("url", s.spec.url);
  w.Field("source", s.spec.from_config ? "config" : "api");
  w.Field("state", s.state);
  w.Field("kind", s.kind);
  w.FieldUint("maxPlaylists", s.spec.max_playlists);
  w.Key("checkSegments");
  w.Bool(s.spec.check_segments);
  w.Key("findings");
  w.BeginObject();
  w.FieldUint("error", s.findings_error);
  w.FieldUint("warning", s.findings_warning);
  w.FieldUint("info", s.findings_info);
  w.EndObject();
  w.Key("playlists");
  w.BeginArray();
  for (const auto& p : s.playlists) {
    const auto& l = p.live;
    w.BeginObject();
    w.Field("url", p.url);
    w.Field("role", p.role);
    w.Field("format", l.format);
    w.Key("lastReload");
    if (p.last_reload_unix_nanos) w.String(Time(p.last_reload_unix_nanos));
    else w.Null();
    w.Key("lastFetchSeconds");
    w.Double(p.last_fetch_seconds);
    w.Field("lastError", p.last_error);
    w.FieldUint("reloads", l.reloads);
    w.FieldUint("reloadFailures", l.failures);
    w.FieldUint("newSegments", l.new_segments);
    w.FieldUint("segmentFailures", l.segment_failures);
    w.Key("mediaSequence");
    if (l.media_sequence) w.Uint(*l.media_sequence);
    else w.Null();
    w.Key("latencySeconds");
    if (l.latency_seconds) w.Double(std::round(*l.latency_seconds * 1000) / 1000);
    else w.Null();
    w.Key("secondsSinceNewSegment");
    w.Double(std::round(l.seconds_since_new_segment * 1000) / 1000);
    w.Key("staleAfterSeconds");
    w.Double(l.stale_after_seconds);
    w.Key("stale");
    w.Bool(l.stale);
    w.Key("blockingReloads");
    w.Bool(l.blocking_reloads);
    w.Key("ended");
    w.Bool(l.ended);
    w.EndObject();
  }
  w.EndArray();
  w.Key("recentFindings");
  w.BeginArray();
  for (const auto& f : s.recent_findings) {
    w.BeginObject();
    w.Field("time", Time(f.time_unix_nanos));
    w.Field("playlist", f.playlist);
    w.Field("rule", f.rule_id);
    w.Field("level", f.level);
    w.Field("spec", f.spec_ref);
    w.Field("message", f.message);
    if (!f.location.empty()) w.Field("location", f.location);
    if (f.line > 0) w.FieldInt("line", f.line);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

Status WritesOff() {
  return Status(StatusCode::kPermissionDenied,
                "probes cannot be changed through the API (probe_settings.api_writes is false)");
}

}  // namespace

Result<probe::ProbeSpec> ParseProbeSpec(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS)
    return InvalidArgument("the body is not valid JSON");
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS)
    return InvalidArgument("the body must be a JSON object");
  probe::ProbeSpec spec;
  bool have_name = false, have_url = false;
  std::vector<std::string_view> seen;
  for (auto [key, value] : obj) {
    std::string_view str;
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      return InvalidArgument("duplicate key '" + std::string(key) + "'");
    seen.push_back(key);
    if (key == "name" || key == "url") {
      if (value.get_string().get(str) != simdjson::SUCCESS || str.empty())
        return InvalidArgument(std::string(key) + ": expected a non-empty string");
      (key == "name" ? spec.name : spec.url) = std::string(str);
      (key == "name" ? have_name : have_url) = true;
    } else if (key == "maxPlaylists") {
      uint64_t v = 0;
      if (value.get_uint64().get(v) != simdjson::SUCCESS)
        return InvalidArgument("maxPlaylists: expected an integer 1..64");
      spec.max_playlists = v;
    } else if (key == "checkSegments") {
      bool v = false;
      if (value.get_bool().get(v) != simdjson::SUCCESS)
        return InvalidArgument("checkSegments: expected true or false");
      spec.check_segments = v;
    } else if (key == "allowPrivate" || key == "allow_private") {
      return InvalidArgument(std::string(key) +
                             ": private addresses can only be allowed in the server's config "
                             "(probe_settings.allow_private)");
    } else {
      return InvalidArgument("unknown key '" + std::string(key) +
                             "' (expected name, url, maxPlaylists, checkSegments)");
    }
  }
  if (!have_name) return InvalidArgument("name: required");
  if (!have_url) return InvalidArgument("url: required");
  return spec;
}

std::string RenderProbe(const probe::ProbeStatus& status) {
  std::string out;
  ingest::JsonWriter w(&out);
  WriteProbe(w, status);
  return out;
}

void ProbesApi::RegisterRoutes(ingest::Router* router) {
  router->Exact("GET", std::string(kPrefix), [this](HttpRequest, Responder r) {
    std::string out;
    ingest::JsonWriter w(&out);
    w.BeginObject();
    w.Key("probes");
    w.BeginArray();
    for (const auto& s : runner_->List()) WriteProbe(w, s);
    w.EndArray();
    w.EndObject();
    r.Send(HttpResponse::Json(200, std::move(out)));
  });
  router->Exact("POST", std::string(kPrefix), [this](HttpRequest req, Responder r) {
    if (!writes_allowed_)
      return r.Send(JsonError(WritesOff()));
    auto spec = ParseProbeSpec(req.body);
    if (!spec.ok()) return r.Send(JsonError(spec.status()));
    const std::string name = spec->name;
    if (Status s = runner_->Add(std::move(spec).value()); !s.ok()) return r.Send(JsonError(s));
    auto got = runner_->Get(name);
    if (!got.ok()) return r.Send(JsonError(got.status()));
    HttpResponse resp = HttpResponse::Json(201, RenderProbe(*got));
    resp.headers.Set("Location", std::string(kPrefix) + "/" + name);
    r.Send(std::move(resp));
  });
  const std::string prefix = std::string(kPrefix) + "/";
  router->Prefix("GET", prefix, [this](HttpRequest req, Responder r) {
    auto got = runner_->Get(req.path.substr(kPrefix.size() + 1));
    if (!got.ok()) return r.Send(JsonError(got.status()));
    r.Send(HttpResponse::Json(200, RenderProbe(*got)));
  });
  router->Prefix("DELETE", prefix, [this](HttpRequest req, Responder r) {
    if (!writes_allowed_)
      return r.Send(JsonError(WritesOff()));
    if (Status s = runner_->Remove(req.path.substr(kPrefix.size() + 1)); !s.ok())
      return r.Send(JsonError(s));
    HttpResponse resp;
    resp.status = 204;
    r.Send(std::move(resp));
  });
}

}  // namespace avtrace::api
