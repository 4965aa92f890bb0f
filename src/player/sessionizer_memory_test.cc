// Heap bytes per in-memory session, measured with glibc's mallinfo2 around the creation of N
// sessions shaped like `avtrace bench player-events` (one batch of 100 events per session,
// sequence numbers 0..99, sdk name, protocol and bitrate meta). Guards the memory diet of the
// Sessionizer (docs/BENCHMARKS.md, "Player events"): before it, ~4.9 KB per session.
#include <malloc.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "player/player_testing.h"
#include "player/sequence_set.h"
#include "player/sessionizer.h"

namespace avtrace::player {
namespace {

size_t HeapInUse() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
#else
  return 0;
#endif
}

void FillBatch(const std::string& session, uint64_t now, otlp::Batch* b) {
  static const char* kNames[] = {"segment_loaded", "metrics_sampled", "bitrate_switch",
                                 "segment_loaded"};
  for (int i = 0; i < 100; ++i) {
    auto& e = b->playback_events.emplace_back();
    e.project_id = b->arena.Copy("demo");
    e.session_id = b->arena.Copy(session);
    e.event_name = b->arena.Copy(i == 0 ? "playback_started" : kNames[i % 4]);
    e.client_unix_nanos = now + static_cast<uint64_t>(i) * 1'000'000;
    e.server_received_unix_nanos = now;
    e.has_sequence_number = true;
    e.sequence_number = i;
    e.sdk_name = b->arena.Copy("@avtrace/player");
    e.meta_json = b->arena.Copy("{\"protocol\":\"hls\",\"bitrate_kbps\":" +
                                std::to_string(1000 + (i % 5) * 800) +
                                ",\"duration_ms\":" + std::to_string(40 + i % 60) + "}");
  }
}

TEST(SessionizerMemory, BytesPerBenchSession) {
  FakeClock clock(testing::kNow);
  Sessionizer s(&clock, {});
  std::vector<SessionState> changed;
  constexpr int kSessions = 4000;
  // Warm up (thread-local parsers, first allocations) outside the measurement.
  {
    otlp::Batch b;
    FillBatch("warmup", clock.NowUnixNanos(), &b);
    s.Apply(&b, &changed);
    changed.clear();
  }
  const size_t before = HeapInUse();
  for (int i = 0; i < kSessions; ++i) {
    otlp::Batch b;
    FillBatch("bench-1234567-" + std::to_string(i), clock.NowUnixNanos(), &b);
    s.Apply(&b, &changed);
    changed.clear();
  }
  const size_t after = HeapInUse();
  ASSERT_EQ(s.Size(), static_cast<size_t>(kSessions) + 1);
  if (before == 0 && after == 0) GTEST_SKIP() << "mallinfo2 not available (sanitizer?)";
  const double per_session = (static_cast<double>(after) - static_cast<double>(before)) / kSessions;
  std::printf("sessionizer heap bytes per session: %.0f (sizeof(SessionState) = %zu)\n",
              per_session, sizeof(SessionState));
  EXPECT_LT(per_session, 1024.0);
}

TEST(SequenceSet, ExactLikeASet) {
  SequenceSet s;
  EXPECT_FALSE(s.Contains(0));
  EXPECT_TRUE(s.Insert(5));
  EXPECT_TRUE(s.Insert(7));
  EXPECT_FALSE(s.Contains(6));
  EXPECT_TRUE(s.Insert(6));  // bridges [5,5] and [7,7]
  EXPECT_EQ(s.run_count(), 1u);
  EXPECT_FALSE(s.Insert(6));
  EXPECT_TRUE(s.Insert(4));
  EXPECT_TRUE(s.Insert(8));
  EXPECT_TRUE(s.Insert(-3));
  EXPECT_TRUE(s.Insert(INT64_MIN));
  EXPECT_TRUE(s.Insert(INT64_MAX));
  EXPECT_TRUE(s.Insert(INT64_MAX - 1));
  EXPECT_TRUE(s.Insert(INT64_MIN + 1));
  EXPECT_EQ(s.size(), 10u);
  EXPECT_EQ(s.run_count(), 4u);  // [MIN,MIN+1] [-3] [4,8] [MAX-1,MAX]
  for (int64_t v : {INT64_MIN, INT64_MIN + 1, int64_t{-3}, int64_t{4}, int64_t{8}, INT64_MAX})
    EXPECT_TRUE(s.Contains(v)) << v;
  for (int64_t v : {INT64_MIN + 2, int64_t{-2}, int64_t{3}, int64_t{9}, INT64_MAX - 2})
    EXPECT_FALSE(s.Contains(v)) << v;
}

TEST(SequenceSet, MatchesStdSetOnPseudoRandomInput) {
  SequenceSet s;
  std::vector<bool> ref(512, false);
  size_t n = 0;
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const int64_t v = static_cast<int64_t>(x % 512);
    const bool fresh = !ref[static_cast<size_t>(v)];
    ASSERT_EQ(s.Contains(v), !fresh);
    ASSERT_EQ(s.Insert(v), fresh);
    if (fresh) {
      ref[static_cast<size_t>(v)] = true;
      ++n;
    }
    ASSERT_EQ(s.size(), n);
  }
  EXPECT_EQ(s.run_count(), 1u);  // all of 0..511 by now
}

}  // namespace
}  // namespace avtrace::player
