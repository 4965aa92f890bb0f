#include "player/sessionizer.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "player/beacon.h"
#include "player/player_testing.h"

namespace avtrace::player {
namespace {
constexpr uint64_t kSec = 1'000'000'000ULL;

otlp::Batch MakeBatch(FakeClock* clock, std::vector<std::tuple<std::string, std::string, int64_t>> evs,
                      std::string meta = "") {
  otlp::Batch b;
  for (auto& [session, name, seq] : evs) {
    auto& e = b.playback_events.emplace_back();
    e.project_id = b.arena.Copy("demo");
    e.session_id = b.arena.Copy(session);
    e.event_name = b.arena.Copy(name);
    e.client_unix_nanos = clock->NowUnixNanos();
    e.server_received_unix_nanos = clock->NowUnixNanos();
    e.has_sequence_number = seq >= 0;
    e.sequence_number = seq;
    e.sdk_name = "hls.js";
    e.meta_json = b.arena.Copy(meta);
  }
  return b;
}

TEST(Sessionizer, LifecycleDedupCorrelation) {
  FakeClock clock(testing::kNow);
  Sessionizer s(&clock, {});
  std::vector<SessionState> changed;
  otlp::Batch b = MakeBatch(&clock, {{"a", "manifest_loaded", 0}, {"a", "segment_loaded", 1},
                                     {"a", "segment_loaded", 1}, {"b", "x", -1}});
  s.Apply(&b, &changed);
  ASSERT_EQ(changed.size(), 2u);
  EXPECT_EQ(changed[0].event_count, 3u);
  EXPECT_EQ(changed[0].status, SessionStatus::kActive);
  EXPECT_TRUE(std::regex_match(changed[0].correlation_id,
                               std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  EXPECT_EQ(b.playback_events[0].correlation_id, changed[0].correlation_id);
  EXPECT_EQ(b.playback_events[3].correlation_id, changed[1].correlation_id);
  EXPECT_NE(changed[0].correlation_id, changed[1].correlation_id);
  EXPECT_EQ(b.playback_events[1].delivery_status, otlp::DeliveryStatus::kAccepted);
  EXPECT_EQ(b.playback_events[2].delivery_status, otlp::DeliveryStatus::kDuplicateSuspected);
  EXPECT_EQ(b.playback_events[3].delivery_status, otlp::DeliveryStatus::kAccepted);
  EXPECT_EQ(s.ActiveCount(), 2u);

  // 60 s idle -> stalled; an event does not reactivate; 5 min idle -> ended by the sweeper.
  clock.Advance(59 * kSec);
  changed.clear();
  s.Sweep(&changed);
  EXPECT_TRUE(changed.empty());
  clock.Advance(1 * kSec);
  s.Sweep(&changed);
  ASSERT_EQ(changed.size(), 2u);
  EXPECT_EQ(changed[0].status, SessionStatus::kStalled);
  otlp::Batch b2 = MakeBatch(&clock, {{"a", "segment_loaded", 2}});
  changed.clear();
  s.Apply(&b2, &changed);
  EXPECT_EQ(changed[0].status, SessionStatus::kStalled);
  EXPECT_EQ(changed[0].event_count, 4u);
  EXPECT_EQ(s.ActiveCount(), 0u);
  clock.Advance(300 * kSec);
  changed.clear();
  s.Sweep(&changed);
  ASSERT_EQ(changed.size(), 2u);
  EXPECT_EQ(changed[0].status, SessionStatus::kEnded);
  EXPECT_EQ(changed[0].end_source, EndSource::kSweeper);
  EXPECT_EQ(changed[0].ended_at_unix_nanos, clock.NowUnixNanos());
}

TEST(Sessionizer, ClientEndIsIdempotentAndCountsContinue) {
  FakeClock clock(testing::kNow);
  Sessionizer s(&clock, {});
  std::vector<SessionState> changed;
  otlp::Batch b = MakeBatch(&clock, {{"a", "session_ended", 0}});
  s.Apply(&b, &changed);
  EXPECT_EQ(changed[0].status, SessionStatus::kEnded);
  EXPECT_EQ(changed[0].end_source, EndSource::kClient);
  uint64_t ended_at = changed[0].ended_at_unix_nanos;
  clock.Advance(5 * kSec);
  otlp::Batch b2 = MakeBatch(&clock, {{"a", "session_ended", 1}, {"a", "late", 2}});
  changed.clear();
  s.Apply(&b2, &changed);
  EXPECT_EQ(changed[0].ended_at_unix_nanos, ended_at);
  EXPECT_EQ(changed[0].event_count, 3u);
  changed.clear();
  clock.Advance(3600 * kSec);
  s.Sweep(&changed);
  EXPECT_TRUE(changed.empty());
}

TEST(Sessionizer, SampleRateBoundariesAndRestore) {
  FakeClock clock(testing::kNow);
  metrics::Registry reg;
  PlayerMetrics m(&reg);
  std::vector<SessionState> store;
  Sessionizer s(&clock, {}, {}, &m);
  std::vector<SessionState> changed;
  otlp::Batch b = MakeBatch(&clock, {{"a", "x", 0}}, R"({"session_sample_rate":0.25})");
  auto& sb = b.session_boundaries.emplace_back();
  sb.kind = "network_signal_absent";
  sb.network_kind = "manifest";
  sb.project_id = "demo";
  sb.session_id = "a";
  sb.adapter = "native_hls";
  sb.reason = "native_hls_unavailable";
  s.Apply(&b, &changed);
  EXPECT_EQ(changed[0].sample_rate_ppm, 250000u);
  ASSERT_EQ(changed[0].network_signal_absent.size(), 1u);
  EXPECT_EQ(changed[0].network_signal_absent[0].kind, "manifest");  // m-trace's read shape
  otlp::Batch b2 = MakeBatch(&clock, {{"a", "x", 1}}, R"({"session_sample_rate":0.5})");
  b2.session_boundaries.push_back(sb);
  changed.clear();
  s.Apply(&b2, &changed);
  EXPECT_EQ(changed[0].sample_rate_ppm, 250000u);  // immutable
  EXPECT_EQ(changed[0].network_signal_absent.size(), 1u);  // deduplicated
  EXPECT_NE(reg.Serialize().find("avtrace_player_sample_rate_drift_total 1"), std::string::npos);

  // A new Sessionizer (restart) continues the stored session through the loader.
  SessionState saved = changed[0];
  saved.seen_sequence_numbers = {0, 1};
  Sessionizer restarted(&clock, {}, [&](std::string_view p, std::string_view id) -> std::optional<SessionState> {
    if (p == "demo" && id == "a") return saved;
    return std::nullopt;
  });
  otlp::Batch b3 = MakeBatch(&clock, {{"a", "x", 1}, {"a", "x", 2}});
  changed.clear();
  restarted.Apply(&b3, &changed);
  EXPECT_EQ(changed[0].correlation_id, saved.correlation_id);
  EXPECT_EQ(changed[0].event_count, saved.event_count + 2);
  EXPECT_EQ(b3.playback_events[0].delivery_status, otlp::DeliveryStatus::kDuplicateSuspected);
  EXPECT_EQ(b3.playback_events[1].delivery_status, otlp::DeliveryStatus::kAccepted);
}

// Dedup is exact up to max_sequence_numbers distinct numbers per session; numbers after the cap
// are not remembered (never flagged). Restore() and the copies handed out keep the dedup state
// out of seen_sequence_numbers.
TEST(Sessionizer, DedupCapAndRestore) {
  FakeClock clock(testing::kNow);
  SessionizerOptions o;
  o.max_sequence_numbers = 4;
  Sessionizer s(&clock, o);
  std::vector<SessionState> changed;
  SessionState restored;
  restored.project_id = "demo";
  restored.session_id = "r";
  restored.correlation_id = "c0ffee00-0000-4000-8000-000000000000";
  restored.event_count = 3;
  restored.seen_sequence_numbers = {7, 5, 7};
  s.Restore({restored});
  EXPECT_EQ(s.ActiveCount(), 1u);
  otlp::Batch b = MakeBatch(&clock, {{"r", "x", 5}, {"r", "x", 6}, {"r", "x", 7}, {"r", "x", 8},
                                     {"r", "x", 9}, {"r", "x", 8}, {"r", "x", 9}, {"r", "x", 6}});
  s.Apply(&b, &changed);
  std::vector<otlp::DeliveryStatus> got;
  for (const auto& e : b.playback_events) got.push_back(e.delivery_status);
  const auto A = otlp::DeliveryStatus::kAccepted, D = otlp::DeliveryStatus::kDuplicateSuspected;
  // {5, 7} restored; 6 and 8 fill the cap of 4; 9 is not remembered, so its repeat is accepted.
  EXPECT_EQ(got, (std::vector<otlp::DeliveryStatus>{D, A, D, A, A, D, A, D}));
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].event_count, 11u);
  EXPECT_EQ(changed[0].correlation_id, restored.correlation_id);
  EXPECT_TRUE(changed[0].seen_sequence_numbers.empty());
  auto g = s.Get("demo", "r");
  ASSERT_TRUE(g.has_value());
  EXPECT_TRUE(g->seen_sequence_numbers.empty());
  EXPECT_FALSE(s.Get("demo", "nope").has_value());
  EXPECT_FALSE(s.Get("other", "r").has_value());

  // Restoring the same key again replaces the session (dedup state included).
  restored.seen_sequence_numbers = {100};
  s.Restore({restored});
  EXPECT_EQ(s.Size(), 1u);
  otlp::Batch b2 = MakeBatch(&clock, {{"r", "x", 5}, {"r", "x", 100}});
  changed.clear();
  s.Apply(&b2, &changed);
  EXPECT_EQ(b2.playback_events[0].delivery_status, A);
  EXPECT_EQ(b2.playback_events[1].delivery_status, D);
  EXPECT_EQ(changed[0].event_count, 5u);
}

TEST(Sessionizer, BoundedMemory) {
  FakeClock clock(testing::kNow);
  SessionizerOptions o;
  o.max_sessions = 10;
  Sessionizer s(&clock, o);
  std::vector<SessionState> changed;
  for (int i = 0; i < 50; ++i) {
    otlp::Batch b = MakeBatch(&clock, {{"s" + std::to_string(i), "x", 0}});
    s.Apply(&b, &changed);
    clock.Advance(kSec);
  }
  EXPECT_LE(s.Size(), 10u);
  EXPECT_EQ(s.ActiveCount(), s.Size());
}

// Feeds events full of identifying values through the whole path and asserts that /metrics
// never carries a forbidden label name or any of those values (m-trace telemetry-model §3.1).
TEST(PlayerMetrics, NoForbiddenLabels) {
  metrics::Registry reg;
  PlayerMetrics m(&reg);
  auto registry = std::move(ProjectRegistry::Create({}).value());
  FakeClock clock(testing::kNow);
  RateLimiter limiter(&clock, {1e6, 1e6, 100});
  BeaconDecoder decoder(registry.get(), &limiter, &m);
  Sessionizer sessions(&clock, {}, {}, &m);
  const std::string nasty_sdk = "Mozilla/5.0 (X11; Linux) https://evil.example/?token=demo-token";
  for (int i = 0; i < 40; ++i) {
    std::string sid = "sess-SECRET-" + std::to_string(i);
    std::string body = R"({"schema_version":"1.0","events":[)";
    const char* names[] = {"play_intent", "first_frame", "rebuffer_started", "rebuffer_ended",
                           "bitrate_switch", "playback_error", "session_ended"};
    for (int k = 0; k < 7; ++k) {
      if (k) body += ",";
      body += R"({"event_name":")" + std::string(names[k]) + R"(","project_id":"demo","session_id":")" +
              sid + R"(","client_timestamp":"2024-05-01T12:00:0)" + std::to_string(k) +
              R"(.000Z","sdk":{"name":")" + (i % 2 ? nasty_sdk : "sdk-" + std::to_string(i)) +
              R"(","version":"1"},"meta":{"protocol":"https://x.example/a.m3u8","url":"https://cdn.example.com/x?token=abc","user_agent":"Mozilla/5.0","client_ip":"203.0.113.9","bitrate_kbps":)" +
              std::to_string(1000 + k) + "}}";
    }
    body += "]}";
    BeaconRequest req;
    req.mtrace_token = "demo-token";
    req.body = body;
    req.client_address = "203.0.113.9";
    req.origin = "http://localhost:5173";
    req.now_unix_nanos = testing::kNow;
    BeaconResponse r = decoder.Decode(req);
    ASSERT_EQ(r.status, 202) << r.detail;
    std::vector<SessionState> changed;
    sessions.Apply(&r.batch, &changed);
  }
  bool refused;
  registry->Preflight(CorsGroup::kPlayer, "https://evil.example", &refused);
  if (refused) m.CorsPreflightRefused("player");
  std::vector<SessionState> changed;
  clock.Advance(3600 * kSec);
  sessions.Sweep(&changed);
  std::string text = reg.Serialize();
  ASSERT_NE(text.find("avtrace_player_sessions_total"), std::string::npos);
  ASSERT_NE(text.find("avtrace_player_qoe_score"), std::string::npos);
  const std::set<std::string> forbidden = {
      "session_id", "user_agent", "segment_url", "manifest_url", "client_ip", "project_id",
      "trace_id", "span_id", "correlation_id", "viewer_id", "request_id", "token",
      "authorization", "url", "uri", "secret", "batch_size", "peer_connection_id",
      "peer_connection_run_id", "track_id", "transport_id", "candidate_pair_id",
      "local_candidate_id", "remote_candidate_id", "candidate_id", "ssrc", "mime_type", "id",
      "path", "remoteAddr", "state", "connection_id", "stream_id"};
  std::regex label(R"(([A-Za-z_][A-Za-z0-9_]*)=\"((?:[^\"\\]|\\.)*)\")");
  std::set<std::string> players;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), label); it != std::sregex_iterator(); ++it) {
    std::string name = (*it)[1], value = (*it)[2];
    EXPECT_EQ(forbidden.count(name), 0u) << name;
    for (const char* suffix : {"_url", "_uri", "_token", "_secret"}) {
      EXPECT_FALSE(name.size() >= std::strlen(suffix) &&
                   name.compare(name.size() - std::strlen(suffix), std::string::npos, suffix) == 0)
          << name;
    }
    for (const char* bad : {"SECRET", "://", "Mozilla", "203.0.113.9", "demo-token", "?", "/"})
      EXPECT_EQ(value.find(bad), std::string::npos) << name << "=" << value;
    if (name == "player") players.insert(value);
  }
  EXPECT_LE(players.size(), PlayerMetrics::kMaxPlayers + 1);  // + "other"
}

}  // namespace
}  // namespace avtrace::player
