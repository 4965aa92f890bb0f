#pragma once
// SessionsApi: the read side of player telemetry (docs/API.md, docs/PLAYER_API.md).
//
// m-trace compatible (auth: X-MTrace-Token, scoped to that token's project; 401 {} without):
//   GET /api/stream-sessions        ?limit (1..1000, default 100), ?cursor
//                                   -> {"sessions":[...], "next_cursor"?}
//   GET /api/stream-sessions/{id}   ?events_limit (1..1000, default 100), ?events_cursor
//                                   -> {"session":{...}, "events":[...], "next_cursor"?}; 404
//   GET /api/stream-sessions/stream Server-Sent Events (ingest/session_events.h): one
//                                   `event_appended` frame per committed event of the token's
//                                   project, `id:` = ingest_sequence, ": heartbeat" comments
//                                   every player.sse_heartbeat_ms. `Last-Event-ID: N` (or
//                                   ?last_event_id=N) backfills the project's events after N (at
//                                   most 1000, newest kept; a larger gap first sends
//                                   `event: backfill_truncated` {"oldest_ingest_sequence"}). The
//                                   token may also come as ?access_token= (EventSource cannot
//                                   set headers). 503 beyond the subscriber limit; a client whose
//                                   queue (64 frames) overflows is disconnected.
//   OPTIONS on all                  CORS preflight (dashboard group, always 204)
// Errors: 400 {"error":"limit_invalid"} / {"error":"events_limit_invalid"} /
// {"error":"cursor_invalid_legacy","reason":...} / {"error":"cursor_invalid_malformed"};
// 404 {"error":"session_not_found"}. Sorts: sessions started_at desc, session_id asc; events
// server_received_at, sequence_number, ingest_sequence ascending. Cursors are base64url JSON
// {"v":3,...} as m-trace's (opaque to clients).
//
// avtrace's own (no auth, like the rest of /api/v1):
//   GET /api/v1/sessions            ?project, ?state (active|stalled|ended), ?start, ?end
//                                   (RFC 3339 or Unix ns, on started_at), ?limit, ?cursor
//                                   -> {"sessions":[... with "qoe":{...}], "next_cursor"?}
//   GET /api/v1/sessions/{project}/{id}  ?events_limit, ?events_cursor -> session with QoE and
//                                   events with delivery_status
//
// Ownership: borrows the store, registry of projects and the query runner's owner, which must
// outlive it. Threads: handlers run on io threads; store reads on the query pool.

#include <functional>

#include "ingest/http_types.h"
#include "ingest/router.h"
#include "ingest/session_events.h"
#include "player/projects.h"
#include "store/store.h"

namespace avtrace::api {

struct SessionsApiDeps {
  store::Store* store = nullptr;
  const player::ProjectRegistry* projects = nullptr;
  // Runs `work` on the query pool; false when the pool is full (answer 503).
  std::function<bool(std::function<void()> work)> run_query;
  // SSE fan-out; null: no /api/stream-sessions/stream route.
  ingest::SessionEvents* events = nullptr;
};

class SessionsApi {
 public:
  explicit SessionsApi(SessionsApiDeps deps) : deps_(std::move(deps)) {}
  void RegisterRoutes(ingest::Router* router);

 private:
  void List(ingest::HttpRequest req, ingest::Responder r, bool mtrace);
  void Detail(ingest::HttpRequest req, ingest::Responder r, bool mtrace);
  void Stream(ingest::HttpRequest req, ingest::Responder r);
  void Run(const ingest::Responder& r, std::string origin, std::function<ingest::HttpResponse()> work);
  ingest::HttpResponse WithCors(ingest::HttpResponse r, std::string_view origin) const;

  SessionsApiDeps deps_;
};

}  // namespace avtrace::api
