#pragma once
// SpanGenerator: deterministic, span-like OTLP batches for the SQLite benches.
//
// Each batch has one resource (service.name from a small set, plus the usual SDK attributes), one
// scope and `spans` spans; every `spans_per_trace` consecutive spans share a random trace id.
// Each span carries 8 attributes (~200 bytes encoded: http method/route/status, a session id from
// a pool of 10k, stream id, protocol, ...), like an instrumented media service would send.
// Threads: one generator per thread. Lifecycle: batches own their bytes (Arena).

#include <cstdint>
#include <random>
#include <string>

#include "otlp/attributes.h"
#include "otlp/model.h"

namespace avtrace::bench {

class SpanGenerator {
 public:
  explicit SpanGenerator(uint64_t seed, uint32_t spans_per_trace = 10)
      : rng_(seed), spans_per_trace_(spans_per_trace) {}

  otlp::Batch NextBatch(uint32_t spans, uint64_t start_unix_nanos) {
    static const char* kServices[] = {"packager", "origin", "transcoder", "player-api", "cdn-edge"};
    static const char* kNames[] = {"GET /segment", "GET /manifest", "transcode", "package",
                                   "upload",       "db.query",      "cache.get", "auth.check"};
    static const char* kRoutes[] = {"/live/{stream}/seg-{n}.m4s", "/live/{stream}/index.m3u8",
                                    "/vod/{episode}/manifest.mpd", "/api/sessions/{id}"};
    static const char* kProtocols[] = {"hls", "dash", "webrtc", "srt"};
    otlp::Batch b;
    std::string res;
    otlp::AttrWriter rw(&res);
    rw.String("service.name", kServices[rng_() % 5]);
    rw.String("service.version", "1.4.2");
    rw.String("host.name", "media-node-07");
    rw.String("telemetry.sdk.name", "opentelemetry");
    rw.String("telemetry.sdk.language", "nodejs");
    otlp::Resource r;
    r.attributes = {b.arena.Copy(res), rw.count()};
    b.resources.push_back(r);
    otlp::Scope sc;
    sc.name = "@opentelemetry/instrumentation-http";
    sc.version = "0.45.0";
    b.scopes.push_back(sc);
    std::string attrs;
    for (uint32_t i = 0; i < spans; ++i) {
      if (span_in_trace_ == 0) {
        for (auto& x : trace_) x = static_cast<uint8_t>(rng_());
        root_ = {};
      }
      span_in_trace_ = (span_in_trace_ + 1) % spans_per_trace_;
      otlp::Span s;
      s.trace_id = trace_;
      for (auto& x : s.span_id) x = static_cast<uint8_t>(rng_());
      s.parent_span_id = root_;
      if (otlp::IsZeroId(root_)) root_ = s.span_id;
      s.name = kNames[rng_() % 8];
      s.kind = otlp::SpanKind::kServer;
      s.start_time_unix_nano = start_unix_nanos + i * 1000;
      s.end_time_unix_nano = s.start_time_unix_nano + 1000 + rng_() % 50'000'000;
      s.status_code =
          rng_() % 50 == 0 ? otlp::SpanStatusCode::kError : otlp::SpanStatusCode::kUnset;
      attrs.clear();
      otlp::AttrWriter w(&attrs);
      w.String("http.method", "GET");
      w.String("http.route", kRoutes[rng_() % 4]);
      w.Int("http.status_code", rng_() % 20 == 0 ? 503 : 200);
      w.String("session.id", "sess-" + std::to_string(rng_() % 10000));
      w.String("stream.id", "stream-" + std::to_string(rng_() % 50));
      w.String("protocol", kProtocols[rng_() % 4]);
      w.Int("http.response_content_length", static_cast<int64_t>(rng_() % 2'000'000));
      w.String("net.peer.name", "edge-" + std::to_string(rng_() % 200) + ".example.net");
      s.attributes = {b.arena.Copy(attrs), w.count()};
      b.spans.push_back(s);
    }
    return b;
  }

 private:
  std::mt19937_64 rng_;
  uint32_t spans_per_trace_;
  uint32_t span_in_trace_ = 0;
  otlp::TraceId trace_{};
  otlp::SpanId root_{};
};

}  // namespace avtrace::bench
