#include "player/beacon.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "player/player_testing.h"
#include "player/text.h"

namespace avtrace::player {
namespace {
using testing::kNow;

std::unique_ptr<ProjectRegistry> Lab() { return std::move(ProjectRegistry::Create({}).value()); }

std::string Event(const std::string& name, int seq, const std::string& extra = "") {
  return R"({"event_name":")" + name + R"(","project_id":"demo","session_id":"s1",)" +
         R"("client_timestamp":"2024-05-01T12:00:00.000Z","sequence_number":)" +
         std::to_string(seq) + R"(,"sdk":{"name":"@pt9912/player-sdk","version":"0.25.0"})" +
         extra + "}";
}

std::string Batch(int n) {
  std::string b = R"({"schema_version":"1.0","events":[)";
  for (int i = 0; i < n; ++i) {
    if (i) b += ",";
    b += Event(i % 3 == 0 ? "segment_loaded" : "metrics_sampled", i,
               R"(,"meta":{"network.kind":"segment","url":"https://cdn.example.com/v/seg)" +
                   std::to_string(i) + R"(.m4s?token=secret","bitrate_kbps":3000})");
  }
  return b + "]}";
}

// Every case of test/data/player/beacon_cases.json: m-trace's contract (event-schema.json, the
// check order of handler.go and register_playback_event_batch.go) -> status and body.
TEST(BeaconTable, ContractCases) {
  std::string data = testing::ReadFile(testing::DataPath("beacon_cases.json"));
  simdjson::dom::parser parser;
  simdjson::dom::array cases = parser.parse(data).get_array().value();
  auto registry = Lab();
  int n = 0;
  for (auto c : cases) {
    std::string name(c["name"].get_string().value());
    SCOPED_TRACE(name);
    FakeClock clock(kNow);
    RateLimiter limiter(&clock, {1e6, 1e6, 1000});
    BeaconDecoder decoder(registry.get(), &limiter, nullptr);
    std::string body;
    std::string_view raw;
    if (c["raw"].get_string().get(raw) == simdjson::SUCCESS) {
      body = std::string(raw);
    } else {
      body = testing::WithNow(simdjson::minify(c["body"].value()));
    }
    BeaconRequest req;
    std::string_view token = "demo-token", origin, authorization, session_token;
    auto opt = [&](const char* key, std::string_view* out) {
      std::string_view v;
      if (c[key].get_string().get(v) == simdjson::SUCCESS) *out = v;
    };
    opt("token", &token);
    opt("origin", &origin);
    opt("authorization", &authorization);
    opt("session_token", &session_token);
    req.mtrace_token = token;
    req.origin = origin;
    req.authorization = authorization;
    req.session_token = session_token;
    req.body = body;
    req.client_address = "192.0.2.1";
    req.now_unix_nanos = kNow;
    BeaconResponse r = decoder.Decode(req);
    EXPECT_EQ(r.status, c["status"].get_int64().value()) << r.detail;
    std::string_view expect_body;
    if (c["expect_body"].get_string().get(expect_body) == simdjson::SUCCESS) {
      EXPECT_EQ(r.body, expect_body);
    } else if (r.status != 202) {
      EXPECT_EQ(r.body, "{}");
    }
    if (r.status == 202) {
      EXPECT_EQ(r.batch.playback_events.size(), static_cast<size_t>(r.batch_size));
    } else {
      EXPECT_TRUE(r.batch.playback_events.empty());
      EXPECT_TRUE(r.batch.session_boundaries.empty());
    }
    ++n;
  }
  EXPECT_GE(n, 80);
}

TEST(Beacon, PrecheckBeforeBody) {
  EXPECT_FALSE(BeaconDecoder::HasCredentials("", "", ""));
  EXPECT_FALSE(BeaconDecoder::HasCredentials("Bearer demo-token", "", " "));
  EXPECT_TRUE(BeaconDecoder::HasCredentials("bearer mtr_st_x", "", ""));
  EXPECT_TRUE(BeaconDecoder::HasCredentials("", "", "demo-token"));
}

TEST(Beacon, FieldsRedactionTraceAndSkew) {
  auto registry = Lab();
  FakeClock clock(kNow);
  RateLimiter limiter(&clock, {});
  BeaconDecoder decoder(registry.get(), &limiter, nullptr);
  std::string body = R"({"schema_version":"1.0","events":[{"event_name":"manifest_loaded",)"
                     R"("project_id":"demo","session_id":"s1","client_timestamp":"2024-05-01T11:58:00.000Z",)"
                     R"("sequence_number":7,"sdk":{"name":"n","version":"1"},"meta":{)"
                     R"("manifest_url":"https://user:pw@cdn.example.com/live/eyJhbGciOi.eyJzdWIi.c2ln/x.m3u8?sig=1#f",)"
                     R"("note":"error: timeout","plain":"hello","n":1.5,"b":true,"dup":1,"dup":2}}]})";
  BeaconRequest req;
  req.mtrace_token = "demo-token";
  req.body = body;
  req.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  req.now_unix_nanos = kNow;
  BeaconResponse r = decoder.Decode(req);
  ASSERT_EQ(r.status, 202) << r.detail;
  ASSERT_EQ(r.batch.playback_events.size(), 1u);
  const auto& e = r.batch.playback_events[0];
  EXPECT_EQ(e.event_name, "manifest_loaded");
  EXPECT_EQ(e.sequence_number, 7);
  EXPECT_TRUE(e.has_sequence_number);
  EXPECT_TRUE(e.time_skew_warning);  // 120 s behind
  EXPECT_TRUE(r.time_skew_warning);
  EXPECT_EQ(e.client_unix_nanos, kNow - 120'000'000'000ULL);
  EXPECT_EQ(e.server_received_unix_nanos, kNow);
  EXPECT_EQ(e.meta_json,
            R"({"manifest_url":"https://cdn.example.com/live/:redacted/x.m3u8",)"
            R"("note":":redacted","plain":"hello","n":1.5,"b":true,"dup":2})");
  EXPECT_EQ(e.trace_id[0], 0x0a);
  EXPECT_EQ(e.parent_span_id[0], 0xb7);
  EXPECT_FALSE(otlp::IsZeroId(e.span_id));
  EXPECT_FALSE(e.trace_parse_error);
  EXPECT_EQ(e.source, otlp::PlaybackSource::kBeacon);

  req.traceparent = "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01";  // upper case
  r = decoder.Decode(req);
  ASSERT_EQ(r.status, 202);
  EXPECT_TRUE(r.trace_parse_error);
  EXPECT_TRUE(r.batch.playback_events[0].trace_parse_error);
  EXPECT_TRUE(otlp::IsZeroId(r.batch.playback_events[0].parent_span_id));
  EXPECT_FALSE(otlp::IsZeroId(r.batch.playback_events[0].trace_id));
}

// m-trace's limiter takes one token per event; more events than the capacity can never pass,
// which makes 429 win over 422 for a 101-event batch with the default limits.
TEST(Beacon, RateLimitRetryAfterFromBucket) {
  auto registry = Lab();
  FakeClock clock(kNow);
  RateLimiter limiter(&clock, {100, 10, 1000});
  BeaconDecoder decoder(registry.get(), &limiter, nullptr);
  std::string b60 = Batch(60);
  BeaconRequest req;
  req.mtrace_token = "demo-token";
  req.body = b60;
  req.now_unix_nanos = kNow;
  EXPECT_EQ(decoder.Decode(req).status, 202);
  BeaconResponse r = decoder.Decode(req);  // 40 left, need 60: 20 tokens at 10/s = 2 s
  ASSERT_EQ(r.status, 429);
  EXPECT_EQ(r.body, "{}");
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[1], (std::pair<std::string, std::string>{"Retry-After", "2"}));
  clock.Advance(2'000'000'000ULL);
  EXPECT_EQ(decoder.Decode(req).status, 202);
  std::string b101 = Batch(101);
  req.body = b101;
  clock.Advance(100'000'000'000ULL);
  EXPECT_EQ(decoder.Decode(req).status, 429);
}

TEST(Beacon, MetricsCountLikeMtrace) {
  metrics::Registry reg;
  PlayerMetrics m(&reg);
  auto registry = Lab();
  FakeClock clock(kNow);
  RateLimiter limiter(&clock, {1e6, 1e6, 100});
  BeaconDecoder decoder(registry.get(), &limiter, &m);
  std::string good = Batch(3);
  BeaconRequest req;
  req.mtrace_token = "demo-token";
  req.body = good;
  req.now_unix_nanos = kNow;
  EXPECT_EQ(decoder.Decode(req).status, 202);
  std::string bad = R"({"schema_version":"9","events":[{},{}]})";
  req.body = bad;
  EXPECT_EQ(decoder.Decode(req).status, 400);
  std::string text = reg.Serialize();
  EXPECT_NE(text.find("avtrace_player_accepted_total{signal=\"playback_events\"} 3"), std::string::npos);
  EXPECT_NE(text.find("avtrace_player_invalid_events_total 2"), std::string::npos);
}

// Prints decode throughput (never asserts timing).
TEST(Beacon, DecodeThroughput) {
  auto registry = Lab();
  FakeClock clock(kNow);
  RateLimiter limiter(&clock, {1e12, 1e12, 100});
  BeaconDecoder decoder(registry.get(), &limiter, nullptr);
  for (int size : {10, 100}) {
    std::string body = Batch(size);
    BeaconRequest req;
    req.mtrace_token = "demo-token";
    req.body = body;
    req.client_address = "192.0.2.7";
    req.origin = "http://localhost:5173";
    req.now_unix_nanos = kNow;
    const int iterations = size == 10 ? 20000 : 3000;
    size_t events = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) events += decoder.Decode(req).batch.playback_events.size();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_EQ(events, static_cast<size_t>(size) * iterations);
    std::printf("beacon decode, %3d events/batch (%zu bytes): %.0f events/s, %.1f MB/s\n", size,
                body.size(), events / secs, body.size() * iterations / secs / 1e6);
  }
}

}  // namespace
}  // namespace avtrace::player
