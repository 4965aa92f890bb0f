#pragma once
// ProbesApi: the live probes' REST routes (docs/API.md, docs/PROBES.md).
//
//   GET    /api/v1/probes          -> {"probes":[{probe}...]} sorted by name
//   POST   /api/v1/probes          body {"name","url","maxPlaylists"?,"checkSegments"?}
//                                  -> 201 {probe}; 400 invalid (unknown keys, and allowPrivate,
//                                  which only the server's config can set), 409 name taken or
//                                  probe limit reached, 403 when probe_settings.api_writes is off
//   GET    /api/v1/probes/{name}   -> {probe}; 404
//   DELETE /api/v1/probes/{name}   -> 204; 404; 409 for a probe from the config file
// {probe} = {"name","url","source":"config"|"api","state":"starting|ok|stale|failing|ended",
//   "kind","maxPlaylists","checkSegments","findings":{"error","warning","info"},
//   "playlists":[{"url","role","format","lastReload","lastFetchSeconds","lastError","reloads",
//   "reloadFailures","newSegments","segmentFailures","mediaSequence","latencySeconds",
//   "secondsSinceNewSegment","staleAfterSeconds","stale","blockingReloads","ended"}],
//   "recentFindings":[{"time","playlist","rule","level","spec","message","location","line"}]}
// The stored history (metrics avtrace.probe.*, logs with event_name avtrace.probe.finding) is
// read through the ordinary /api/v1/metrics and /api/v1/logs routes.
//
// Ownership: borrows the ProbeRunner (must outlive the routes). Threads: handlers run on io
// threads; every ProbeRunner call is short (no I/O, one mutex) so they answer inline.

#include "ingest/router.h"
#include "probe/probe_runner.h"

namespace avtrace::api {

class ProbesApi {
 public:
  ProbesApi(probe::ProbeRunner* runner, bool writes_allowed)
      : runner_(runner), writes_allowed_(writes_allowed) {}
  void RegisterRoutes(ingest::Router* router);

 private:
  probe::ProbeRunner* runner_;
  bool writes_allowed_;
};

// {probe} as above (exposed for tests).
std::string RenderProbe(const probe::ProbeStatus& status);
// The POST body; InvalidArgument names the offending key (exposed for the fuzz target).
Result<probe::ProbeSpec> ParseProbeSpec(const std::string& body);

}  // namespace avtrace::api
