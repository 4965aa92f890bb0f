// The beacon decoder: simdjson DOM with error codes. Pass 1 mirrors Go's encoding/json into
// m-trace's wire structs (type errors anywhere -> 400, null leaves a zero value, keys match
// ASCII case-insensitively, the last duplicate wins); pass 2 is m-trace's use case.
#include "player/beacon.h"

#include <simdjson.h>

#include <cmath>
#include <optional>
#include <unordered_map>
#include <vector>

#include "player/text.h"

namespace avtrace::player {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

struct WireEvent {
  std::string_view event_name, project_id, session_id, client_timestamp, sdk_name, sdk_version;
  bool has_sequence = false;
  int64_t sequence = 0;
  bool has_meta = false;
  simdjson::dom::object meta;
};

struct WireBoundary {
  std::string_view kind, project_id, session_id, network_kind, adapter, reason, client_timestamp;
};

struct WireBatch {
  std::string_view schema_version;
  std::vector<WireEvent> events;
  std::vector<WireBoundary> boundaries;
};

// Go matches struct fields case-insensitively (exact match preferred, but the last key in the
// document wins either way, so the order of assignment is all that matters).
bool KeyIs(std::string_view key, std::string_view field) {
  if (key.size() != field.size()) return false;
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != field[i]) return false;
  }
  return true;
}

bool IsNull(element v) { return v.type() == element_type::NULL_VALUE; }

// A Go `string` field: string or null.
bool StringField(element v, std::string_view* out) {
  if (IsNull(v)) return true;
  return v.get_string().get(*out) == simdjson::SUCCESS;
}

bool DecodeSdk(element v, WireEvent* e) {
  if (IsNull(v)) return true;
  simdjson::dom::object o;
  if (v.get_object().get(o) != simdjson::SUCCESS) return false;
  for (auto f : o) {
    if (KeyIs(f.key, "name")) {
      if (!StringField(f.value, &e->sdk_name)) return false;
    } else if (KeyIs(f.key, "version")) {
      if (!StringField(f.value, &e->sdk_version)) return false;
    }
  }
  return true;
}

bool DecodeEvent(element v, WireEvent* e) {
  if (IsNull(v)) return true;  // a null element is a zero event (fails required fields: 422)
  simdjson::dom::object o;
  if (v.get_object().get(o) != simdjson::SUCCESS) return false;
  for (auto f : o) {
    std::string_view k = f.key;
    if (KeyIs(k, "event_name")) {
      if (!StringField(f.value, &e->event_name)) return false;
    } else if (KeyIs(k, "project_id")) {
      if (!StringField(f.value, &e->project_id)) return false;
    } else if (KeyIs(k, "session_id")) {
      if (!StringField(f.value, &e->session_id)) return false;
    } else if (KeyIs(k, "client_timestamp")) {
      if (!StringField(f.value, &e->client_timestamp)) return false;
    } else if (KeyIs(k, "sequence_number")) {
      if (IsNull(f.value)) {
        e->has_sequence = false;
        continue;
      }
      // Go: a JSON number literal that is an integer within int64; 1.0 or 1e2 are errors.
      if (f.value.type() != element_type::INT64) return false;
      e->sequence = f.value.get_int64().value_unsafe();
      e->has_sequence = true;
    } else if (KeyIs(k, "sdk")) {
      if (!DecodeSdk(f.value, e)) return false;
    } else if (KeyIs(k, "meta")) {
      if (IsNull(f.value)) {
        e->has_meta = false;
        continue;
      }
      if (f.value.get_object().get(e->meta) != simdjson::SUCCESS) return false;
      e->has_meta = true;
    }
  }
  return true;
}

bool DecodeBoundary(element v, WireBoundary* b) {
  if (IsNull(v)) return true;
  simdjson::dom::object o;
  if (v.get_object().get(o) != simdjson::SUCCESS) return false;
  for (auto f : o) {
    std::string_view k = f.key;
    std::string_view* dst = nullptr;
    if (KeyIs(k, "kind")) dst = &b->kind;
    else if (KeyIs(k, "project_id")) dst = &b->project_id;
    else if (KeyIs(k, "session_id")) dst = &b->session_id;
    else if (KeyIs(k, "network_kind")) dst = &b->network_kind;
    else if (KeyIs(k, "adapter")) dst = &b->adapter;
    else if (KeyIs(k, "reason")) dst = &b->reason;
    else if (KeyIs(k, "client_timestamp")) dst = &b->client_timestamp;
    if (dst != nullptr && !StringField(f.value, dst)) return false;
  }
  return true;
}

bool DecodeWire(element root, WireBatch* w) {
  if (IsNull(root)) return true;
  simdjson::dom::object o;
  if (root.get_object().get(o) != simdjson::SUCCESS) return false;
  for (auto f : o) {
    std::string_view k = f.key;
    if (KeyIs(k, "schema_version")) {
      if (!StringField(f.value, &w->schema_version)) return false;
    } else if (KeyIs(k, "events")) {
      w->events.clear();
      if (IsNull(f.value)) continue;
      simdjson::dom::array a;
      if (f.value.get_array().get(a) != simdjson::SUCCESS) return false;
      for (element ev : a) {
        w->events.emplace_back();
        if (!DecodeEvent(ev, &w->events.back())) return false;
      }
    } else if (KeyIs(k, "session_boundaries")) {
      w->boundaries.clear();
      if (IsNull(f.value)) continue;
      simdjson::dom::array a;
      if (f.value.get_array().get(a) != simdjson::SUCCESS) return false;
      for (element bv : a) {
        w->boundaries.emplace_back();
        if (!DecodeBoundary(bv, &w->boundaries.back())) return false;
      }
    }
  }
  return true;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

bool BlankAfterTrim(std::string_view s) {
  for (char c : s)
    if (!IsSpace(c)) return false;
  return true;
}

bool OneOf(std::string_view s, std::initializer_list<std::string_view> values) {
  for (auto v : values)
    if (s == v) return true;
  return false;
}

bool IsUnavailableReason(std::string_view s) {
  return OneOf(s, {"native_hls_unavailable", "hlsjs_signal_unavailable", "browser_api_unavailable",
                   "resource_timing_unavailable", "cors_timing_blocked", "service_worker_opaque"});
}

bool MatchesReasonPattern(std::string_view s) {  // ^[a-z0-9_]{1,64}$
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

bool MatchesRunIdPattern(std::string_view s) {  // ^[a-z0-9_-]{1,64}$
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

// Go decodes meta numbers into float64, which is what m-trace's checks see.
bool AsDouble(element v, double* d) {
  switch (v.type()) {
    case element_type::INT64: *d = static_cast<double>(v.get_int64().value_unsafe()); return true;
    case element_type::UINT64: *d = static_cast<double>(v.get_uint64().value_unsafe()); return true;
    case element_type::DOUBLE: *d = v.get_double().value_unsafe(); return true;
    default: return false;
  }
}

bool NonNegativeInteger(element v) {
  double d;
  if (!AsDouble(v, &d)) return false;
  return d >= 0 && d < 9223372036854775808.0 && d == std::trunc(d);
}

bool EnumString(element v, std::initializer_list<std::string_view> values) {
  std::string_view s;
  return v.get_string().get(s) == simdjson::SUCCESS && OneOf(s, values);
}

// m-trace's validateReservedKeyValue: "" when fine, else why.
const char* ValidateReservedKey(std::string_view k, element v) {
  std::string_view s;
  if (k == "network.kind") {
    return EnumString(v, {"manifest", "segment"}) ? nullptr : "meta network.kind";
  }
  if (k == "network.detail_status") {
    return EnumString(v, {"available", "network_detail_unavailable"}) ? nullptr
                                                                       : "meta network.detail_status";
  }
  if (k == "network.unavailable_reason") {
    if (v.get_string().get(s) != simdjson::SUCCESS || !MatchesReasonPattern(s) ||
        !IsUnavailableReason(s))
      return "meta network.unavailable_reason";
    return nullptr;
  }
  if (k == "network.redacted_url") {
    if (v.get_string().get(s) != simdjson::SUCCESS) return "meta network.redacted_url type";
    if (!s.empty() && !IsAlreadyRedactedUrl(s)) return "meta network.redacted_url not redacted";
    return nullptr;
  }
  if (k == "session_sample_rate") {
    double d;
    if (!AsDouble(v, &d) || !(d > 0 && d <= 1)) return "meta session_sample_rate";
    return nullptr;
  }
  if (k.substr(0, 7) == "timing.") {
    double d;
    if (AsDouble(v, &d)) return nullptr;
    uint64_t ns;
    if (v.get_string().get(s) == simdjson::SUCCESS && ParseRfc3339(s, &ns)) return nullptr;
    return "meta timing.*";
  }
  if (k.substr(0, 7) == "webrtc.") {
    std::string_view w = k.substr(7);
    if (w == "peer_connection_run_id") {
      return v.get_string().get(s) == simdjson::SUCCESS && MatchesRunIdPattern(s)
                 ? nullptr
                 : "meta webrtc.peer_connection_run_id";
    }
    if (w == "sample_id" || w == "packets_lost" || w == "bytes_received" || w == "bytes_sent") {
      return NonNegativeInteger(v) ? nullptr : "meta webrtc counter";
    }
    if (w == "connection_state") {
      return EnumString(v, {"new", "connecting", "connected", "disconnected", "failed", "closed"})
                 ? nullptr
                 : "meta webrtc.connection_state";
    }
    if (w == "ice_state") {
      return EnumString(v, {"new", "checking", "connected", "completed", "failed", "disconnected",
                            "closed"})
                 ? nullptr
                 : "meta webrtc.ice_state";
    }
    if (w == "dtls_state") {
      return EnumString(v, {"new", "connecting", "connected", "closed", "failed"})
                 ? nullptr
                 : "meta webrtc.dtls_state";
    }
    if (w == "error_code") {
      return EnumString(v, {"whep_signaling_failed", "whep_sdp_invalid", "webrtc_no_tracks",
                            "peer_connection_failed", "webrtc_destroyed_before_connected"})
                 ? nullptr
                 : "meta webrtc.error_code";
    }
    if (w == "error_detail") {
      // Go's len() counts bytes.
      return v.get_string().get(s) == simdjson::SUCCESS && s.size() <= 256
                 ? nullptr
                 : "meta webrtc.error_detail";
    }
    return "meta webrtc.* key not in the allowlist";
  }
  return nullptr;
}

struct MetaEntry {
  std::string_view key;
  element value;
};

// Validates the (deduplicated) meta and renders it redacted into `out` ("" for an empty meta).
const char* ValidateAndRenderMeta(const simdjson::dom::object& meta, std::vector<MetaEntry>* entries,
                                  std::string* out, double* sample_rate) {
  entries->clear();
  out->clear();
  *sample_rate = -1;
  // Go's map keeps the last of duplicate keys.
  thread_local std::unordered_map<std::string_view, size_t> index;
  bool use_index = meta.size() > 16;
  if (use_index) index.clear();
  for (auto f : meta) {
    std::string_view k = f.key;
    if (use_index) {
      auto [it, inserted] = index.try_emplace(k, entries->size());
      if (!inserted) {
        (*entries)[it->second].value = f.value;
        continue;
      }
    } else {
      bool found = false;
      for (auto& e : *entries)
        if (e.key == k) {
          e.value = f.value;
          found = true;
          break;
        }
      if (found) continue;
    }
    entries->push_back({k, f.value});
  }
  if (entries->empty()) return nullptr;
  std::string_view reason, detail_status;
  bool has_reason = false;
  for (const auto& e : *entries) {
    if (const char* why = ValidateReservedKey(e.key, e.value)) return why;
    if (e.key == "network.unavailable_reason") {
      has_reason = e.value.get_string().get(reason) == simdjson::SUCCESS;
    } else if (e.key == "network.detail_status") {
      if (e.value.get_string().get(detail_status) != simdjson::SUCCESS) detail_status = {};
    } else if (e.key == "session_sample_rate") {
      AsDouble(e.value, sample_rate);
    }
  }
  if (has_reason && !reason.empty() && detail_status != "network_detail_unavailable")
    return "meta network.unavailable_reason requires detail_status=network_detail_unavailable";
  out->push_back('{');
  bool first = true;
  for (const auto& e : *entries) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, e.key);
    out->push_back(':');
    std::string_view s;
    if (e.value.get_string().get(s) == simdjson::SUCCESS) {
      if (e.key != "network.redacted_url" && !s.empty() && ShouldRedactMetaValue(e.key, s)) {
        AppendJsonString(out, RedactUrl(s));
      } else {
        AppendJsonString(out, s);
      }
    } else {
      out->append(simdjson::minify(e.value));
    }
  }
  out->push_back('}');
  return nullptr;
}

bool Lowerhex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool ParseHex(std::string_view hex, uint8_t* out) {
  for (size_t i = 0; i < hex.size() / 2; ++i) {
    auto v = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    out[i] = static_cast<uint8_t>(v(hex[2 * i]) << 4 | v(hex[2 * i + 1]));
  }
  return true;
}

}  // namespace

std::string_view TrimAscii(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view BeaconOutcomeName(BeaconOutcome o) {
  switch (o) {
    case BeaconOutcome::kAccepted: return "accepted";
    case BeaconOutcome::kUnauthorized: return "unauthorized";
    case BeaconOutcome::kForbidden: return "forbidden";
    case BeaconOutcome::kTooLarge: return "too_large";
    case BeaconOutcome::kInvalid: return "invalid";
    case BeaconOutcome::kRateLimited: return "rate_limited";
  }
  return "other";
}

bool ParseTraceparent(std::string_view h, otlp::TraceId* trace_id, otlp::SpanId* span_id,
                      uint8_t* flags) {
  if (h.size() != 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return false;
  std::string_view version = h.substr(0, 2), tid = h.substr(3, 32), sid = h.substr(36, 16),
                   fl = h.substr(53, 2);
  if (version != "00" || !Lowerhex(tid) || !Lowerhex(sid) || !Lowerhex(fl)) return false;
  if (tid == "00000000000000000000000000000000" || sid == "0000000000000000") return false;
  ParseHex(tid, trace_id->data());
  ParseHex(sid, span_id->data());
  uint8_t f;
  ParseHex(fl, &f);
  *flags = f;
  return true;
}

BeaconDecoder::BeaconDecoder(const ProjectRegistry* projects, RateLimiter* limiter,
                             PlayerMetrics* metrics, const SessionTokenKeys* session_keys)
    : projects_(projects), limiter_(limiter), metrics_(metrics), session_keys_(session_keys) {}

namespace {
// Authorization counts only as "Bearer mtr_st_..." (a session token); other schemes are not an
// m-trace auth attempt and are ignored, as in m-trace's AuthHeaderParser.
std::string_view MTraceBearer(std::string_view authorization) {
  std::string_view a = TrimAscii(authorization);
  if (a.size() < 7) return {};
  for (size_t i = 0; i < 7; ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != "bearer "[i]) return {};
  }
  std::string_view token = TrimAscii(a.substr(7));
  return token.substr(0, 7) == "mtr_st_" ? token : std::string_view();
}
}  // namespace

bool BeaconDecoder::HasCredentials(std::string_view authorization, std::string_view session_token,
                                   std::string_view mtrace_token) {
  return !MTraceBearer(authorization).empty() || !TrimAscii(session_token).empty() ||
         !TrimAscii(mtrace_token).empty();
}

BeaconResponse BeaconDecoder::Decode(const BeaconRequest& req) const {
  BeaconResponse r;
  r.headers.emplace_back("Content-Type", "application/json");
  auto fail = [&r](int status, BeaconOutcome outcome, std::string detail) -> BeaconResponse {
    r.status = status;
    r.outcome = outcome;
    r.body = "{}";
    r.detail = std::move(detail);
    return std::move(r);
  };
  // traceparent never causes a 4xx; remember a bad one for the span and the events.
  otlp::TraceId parent_trace{};
  otlp::SpanId parent_span{};
  uint8_t trace_flags = 0;
  bool has_parent = false;
  if (!req.traceparent.empty()) {
    has_parent = ParseTraceparent(req.traceparent, &parent_trace, &parent_span, &trace_flags);
    r.trace_parse_error = !has_parent;
  }

  // Step 1: credentials present. A session token (Bearer mtr_st_ / X-MTrace-Session-Token) is
  // verified against the key ring and then decides the project, with no fallback to
  // X-MTrace-Token; without a key ring (as m-trace without a verifier) it is 401.
  std::string_view bearer = MTraceBearer(req.authorization);
  std::string_view session_header = TrimAscii(req.session_token);
  std::string_view legacy = TrimAscii(req.mtrace_token);
  if (!bearer.empty() && !session_header.empty() && bearer != session_header)
    return fail(401, BeaconOutcome::kUnauthorized, "bearer and session token differ");
  if (bearer.empty() && session_header.empty() && legacy.empty())
    return fail(401, BeaconOutcome::kUnauthorized, "no token");
  std::optional<SessionTokenClaims> claims;
  if (!bearer.empty() || !session_header.empty()) {
    if (session_keys_ == nullptr)
      return fail(401, BeaconOutcome::kUnauthorized, "session tokens are not enabled");
    auto verified = session_keys_->Verify(bearer.empty() ? session_header : bearer,
                                          req.now_unix_nanos / 1'000'000'000ULL);
    if (!verified.ok()) return fail(401, BeaconOutcome::kUnauthorized, verified.status().message());
    claims = std::move(verified).value();
  }

  // Step 2: size.
  if (req.body_too_large || req.body.size() > kMaxBeaconBodyBytes)
    return fail(413, BeaconOutcome::kTooLarge, "body over 262144 bytes");

  // Step 3: JSON into the wire structs.
  thread_local simdjson::dom::parser parser;
  thread_local WireBatch wire;
  wire.schema_version = {};
  wire.events.clear();
  wire.boundaries.clear();
  element root;
  if (auto err = parser.parse(req.body.data(), req.body.size()).get(root))
    return fail(400, BeaconOutcome::kInvalid, std::string("invalid JSON: ") + simdjson::error_message(err));
  if (!DecodeWire(root, &wire)) return fail(400, BeaconOutcome::kInvalid, "JSON type mismatch");
  const int64_t n = static_cast<int64_t>(wire.events.size());
  r.batch_size = n;
  if (metrics_) metrics_->Received(static_cast<double>(n));
  auto invalid = [&](int status, std::string detail, bool count) {
    if (metrics_ && count) metrics_->Rejected("invalid", static_cast<double>(n));
    return fail(status, BeaconOutcome::kInvalid, std::move(detail));
  };

  // Step 4: token -> project (a session token names its project).
  const Project* project =
      claims ? projects_->FindById(claims->project_id) : projects_->ResolveToken(legacy);
  if (project == nullptr) {
    if (metrics_) metrics_->Rejected("unauthorized", static_cast<double>(n));
    return fail(401, BeaconOutcome::kUnauthorized, "unknown token");
  }
  r.project = project;
  // Step 5: origin, and what a session token is bound to (its origin and session).
  auto forbidden = [&](std::string detail) {
    if (metrics_) metrics_->Rejected("forbidden", static_cast<double>(n));
    return fail(403, BeaconOutcome::kForbidden, std::move(detail));
  };
  if (!project->IsOriginAllowed(req.origin)) return forbidden("origin not allowed");
  if (claims && !claims->origin.empty() && req.origin != claims->origin)
    return forbidden("the session token is bound to another origin");
  if (claims && !claims->session_id.empty()) {
    for (const WireEvent& e : wire.events)
      if (e.session_id != claims->session_id)
        return forbidden("the session token is bound to another session");
  }
  // Step 6: rate limit, one token per event in every dimension.
  uint32_t retry_after = 1;
  if (limiter_ != nullptr &&
      !limiter_->Allow({project->id, req.client_address, req.origin}, n, &retry_after)) {
    if (metrics_) metrics_->RateLimited(static_cast<double>(n));
    r.headers.emplace_back("Retry-After", std::to_string(retry_after));
    return fail(429, BeaconOutcome::kRateLimited, "rate limited");
  }
  // Step 7: schema version.
  if (wire.schema_version != "1.0") return invalid(400, "schema_version must be \"1.0\"", true);
  // Step 8: batch shape (an empty batch counts no invalid events).
  if (n == 0) return invalid(422, "events missing or empty", false);
  if (n > static_cast<int64_t>(kMaxBeaconEvents)) return invalid(422, "more than 100 events", true);

  // Step 9: events.
  otlp::Batch& b = r.batch;
  b.received_unix_nanos = req.now_unix_nanos;
  b.playback_events.reserve(wire.events.size());
  thread_local std::vector<MetaEntry> entries;
  thread_local std::string meta;
  std::string_view project_id = b.arena.Copy(project->id);
  std::string_view schema = b.arena.Copy("1.0");
  for (size_t i = 0; i < wire.events.size(); ++i) {
    const WireEvent& e = wire.events[i];
    if (BlankAfterTrim(e.event_name) || BlankAfterTrim(e.project_id) ||
        BlankAfterTrim(e.session_id) || BlankAfterTrim(e.client_timestamp) ||
        BlankAfterTrim(e.sdk_name) || BlankAfterTrim(e.sdk_version))
      return invalid(422, "events[" + std::to_string(i) + "]: missing required field", true);
    if (e.project_id != project->id) {
      if (metrics_) metrics_->Rejected("unauthorized", static_cast<double>(n));
      return fail(401, BeaconOutcome::kUnauthorized,
                  "events[" + std::to_string(i) + "]: project_id does not match the token");
    }
    uint64_t ts;
    if (!ParseRfc3339(e.client_timestamp, &ts))
      return invalid(422, "events[" + std::to_string(i) + "]: client_timestamp not RFC 3339", true);
    double sample_rate = -1;
    meta.clear();
    if (e.has_meta) {
      if (const char* why = ValidateAndRenderMeta(e.meta, &entries, &meta, &sample_rate))
        return invalid(422, "events[" + std::to_string(i) + "]: " + why, true);
    }
    otlp::PlaybackEvent& pe = b.playback_events.emplace_back();
    pe.event_name = b.arena.Copy(e.event_name);
    pe.project_id = project_id;
    pe.session_id = b.arena.Copy(e.session_id);
    pe.client_timestamp = b.arena.Copy(e.client_timestamp);
    pe.client_unix_nanos = ts;
    pe.has_sequence_number = e.has_sequence;
    pe.sequence_number = e.sequence;
    pe.sdk_name = b.arena.Copy(e.sdk_name);
    pe.sdk_version = b.arena.Copy(e.sdk_version);
    pe.schema_version = schema;
    pe.meta_json = b.arena.Copy(meta);
    pe.server_received_unix_nanos = req.now_unix_nanos;
    uint64_t skew = ts > req.now_unix_nanos ? ts - req.now_unix_nanos : req.now_unix_nanos - ts;
    pe.time_skew_warning = skew > kTimeSkewNanos;
    r.time_skew_warning |= pe.time_skew_warning;
    pe.trace_parse_error = r.trace_parse_error;
    pe.source = otlp::PlaybackSource::kBeacon;
  }

  // Step 10: boundaries, all or nothing.
  if (wire.boundaries.size() > kMaxSessionBoundaries) {
    b.playback_events.clear();
    return invalid(422, "more than 20 session_boundaries", true);
  }
  for (size_t i = 0; i < wire.boundaries.size(); ++i) {
    const WireBoundary& w = wire.boundaries[i];
    const std::string at = "session_boundaries[" + std::to_string(i) + "]: ";
    const char* why = nullptr;
    uint64_t ts = 0;
    bool session_known = false;
    for (const auto& pe : b.playback_events)
      if (pe.session_id == w.session_id) {
        session_known = true;
        break;
      }
    if (w.kind.empty() || w.project_id.empty() || w.session_id.empty() || w.network_kind.empty() ||
        w.adapter.empty() || w.reason.empty() || w.client_timestamp.empty())
      why = "missing required field";
    else if (w.project_id != project->id) why = "project_id does not match the token";
    else if (w.kind != "network_signal_absent") why = "kind";
    else if (!OneOf(w.network_kind, {"manifest", "segment"})) why = "network_kind";
    else if (!OneOf(w.adapter, {"hls.js", "native_hls", "unknown"})) why = "adapter";
    else if (!MatchesReasonPattern(w.reason) || !IsUnavailableReason(w.reason)) why = "reason";
    else if (!session_known) why = "session has no event in this batch";
    else if (!ParseRfc3339(w.client_timestamp, &ts)) why = "client_timestamp not RFC 3339";
    if (why != nullptr) {
      b.playback_events.clear();
      b.session_boundaries.clear();
      return invalid(422, at + why, true);
    }
    otlp::SessionBoundary& sb = b.session_boundaries.emplace_back();
    sb.kind = b.arena.Copy(w.kind);
    sb.project_id = project_id;
    sb.session_id = b.arena.Copy(w.session_id);
    sb.network_kind = b.arena.Copy(w.network_kind);
    sb.adapter = b.arena.Copy(w.adapter);
    sb.reason = b.arena.Copy(w.reason);
    sb.client_timestamp = b.arena.Copy(w.client_timestamp);
    sb.client_unix_nanos = ts;
    sb.server_received_unix_nanos = req.now_unix_nanos;
  }

  // Step 11: the ingest span of this request (child of a valid traceparent, else a root).
  otlp::TraceId trace_id = parent_trace;
  otlp::SpanId span_id{};
  if (!has_parent) RandomBytes(trace_id.data(), trace_id.size());
  RandomBytes(span_id.data(), span_id.size());
  for (auto& pe : b.playback_events) {
    pe.trace_id = trace_id;
    pe.span_id = span_id;
    pe.parent_span_id = parent_span;
  }
  if (metrics_) metrics_->Accepted(static_cast<double>(n));
  r.status = 202;
  r.outcome = BeaconOutcome::kAccepted;
  r.body = "{\"accepted\":" + std::to_string(n) + "}\n";
  return r;
}

}  // namespace avtrace::player
