// LiveTracker on scripted reloads (each live_* rule), LiveMonitor on a fake clock with a fake
// fetcher that produces a rolling playlist, and LiveMonitor against real ffmpeg live HLS served
// on 127.0.0.1 through the real fetcher.
#include "analyzer/live/live_monitor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "analyzer/fetch/test_http_server.h"
#include "analyzer/text.h"

namespace avtrace::analyzer::live {
namespace {

// A live playlist with target duration 2 and segments [first, first+count).
std::string Playlist(uint64_t first, int count, uint64_t dsn = 0, std::string odd_uri = {},
                     double pdt_start = 0) {
  std::string s = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:" +
                  std::to_string(first) + "\n";
  if (dsn) s += "#EXT-X-DISCONTINUITY-SEQUENCE:" + std::to_string(dsn) + "\n";
  for (int i = 0; i < count; ++i) {
    uint64_t n = first + static_cast<uint64_t>(i);
    if (i == 0 && pdt_start > 0)
      s += "#EXT-X-PROGRAM-DATE-TIME:" + FormatIso8601(pdt_start + 2.0 * static_cast<double>(n)) + "\n";
    std::string uri = "seg" + std::to_string(n) + ".ts";
    if (!odd_uri.empty() && i == 1) uri = odd_uri;
    s += "#EXTINF:2.000,\n" + uri + "\n";
  }
  return s;
}

std::vector<std::string> Ids(const Report& r) {
  std::vector<std::string> ids;
  for (const auto& f : r.findings) ids.emplace_back(f.info().id);
  return ids;
}
bool Has(const Report& r, std::string_view id) {
  for (const auto& f : r.findings)
    if (f.info().id == id) return true;
  return false;
}

TEST(LiveTracker, HealthyRollingPlaylistIsClean) {
  LiveTracker t("live.m3u8");
  for (int i = 0; i < 10; ++i) {
    double next = t.Observe(Playlist(static_cast<uint64_t>(i), 5), 100.0 + 2.0 * i);
    EXPECT_DOUBLE_EQ(next, i == 0 ? 1.0 : 2.0);  // unchanged on first load: half the target
  }
  Report r = t.Finish(119);
  EXPECT_TRUE(r.findings.empty()) << ::testing::PrintToString(Ids(r));
}

TEST(LiveTracker, Stale) {
  LiveTracker t("live.m3u8");
  t.Observe(Playlist(0, 5), 100);
  t.Observe(Playlist(1, 5), 102);
  t.Observe(Playlist(1, 5), 104);
  EXPECT_FALSE(Has(t.Finish(104.5), "live_playlist_stale"));
  LiveTracker u("live.m3u8");
  u.Observe(Playlist(0, 5), 100);
  u.Observe(Playlist(1, 5), 102);
  u.Observe(Playlist(1, 5), 104);
  u.Observe(Playlist(1, 5), 105.5);  // 3.5 s > 1.5 x 2 s without a new segment
  Report r = u.Finish(106);
  EXPECT_EQ(Ids(r), std::vector<std::string>{"live_playlist_stale"});
}

TEST(LiveTracker, RegressionChangeVanishReappearDiscontinuity) {
  LiveTracker t("live.m3u8");
  t.Observe(Playlist(10, 5), 100);
  t.Observe(Playlist(11, 5), 102);  // 10 removed from the start: fine
  t.Observe(Playlist(10, 5), 104);  // MSN went back, 10 is back
  Report r = t.Finish(104);
  EXPECT_TRUE(Has(r, "live_media_sequence_regressed"));
  EXPECT_TRUE(Has(r, "live_segment_reappeared"));

  LiveTracker c("live.m3u8");
  c.Observe(Playlist(10, 5), 100);
  c.Observe(Playlist(10, 5, 0, "other.ts"), 101);  // MSN 11 changed its URI
  EXPECT_EQ(Ids(c.Finish(101)), std::vector<std::string>{"live_segment_changed"});

  LiveTracker v("live.m3u8");
  v.Observe(Playlist(10, 5), 100);
  v.Observe(Playlist(10, 3), 101);  // 13 and 14 vanished from the end
  Report vr = v.Finish(101);
  EXPECT_TRUE(Has(vr, "live_segment_vanished"));

  LiveTracker d("live.m3u8");
  d.Observe(Playlist(10, 5, 3), 100);
  d.Observe(Playlist(11, 5, 4), 102);  // DSN incremented without a discontinuity removed
  EXPECT_TRUE(Has(d.Finish(102), "live_discontinuity_sequence_inconsistent"));

  LiveTracker e("live.m3u8");
  e.Observe(Playlist(10, 5), 100);
  e.Observe(Playlist(10, 5) + "#EXT-X-ENDLIST\n", 102);
  EXPECT_TRUE(e.done());
  EXPECT_EQ(Ids(e.Finish(102)), std::vector<std::string>{"live_stream_ended"});

  LiveTracker f("live.m3u8");
  f.Observe(Playlist(10, 5), 100);
  f.ObserveFailure(Unavailable("live.m3u8: HTTP 503"), 101);
  EXPECT_EQ(Ids(f.Finish(101)), std::vector<std::string>{"live_reload_failed"});
}

std::string Mpd(double publish, int segments) {
  std::string s =
      "<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"dynamic\" "
      "profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" minimumUpdatePeriod=\"PT2S\" "
      "availabilityStartTime=\"2026-01-01T00:00:00Z\" publishTime=\"" + FormatIso8601(publish) +
      "\" minBufferTime=\"PT2S\" timeShiftBufferDepth=\"PT30S\">\n<Period id=\"p0\" start=\"PT0S\">"
      "<AdaptationSet mimeType=\"video/mp4\"><SegmentTemplate timescale=\"1000\" "
      "media=\"c-$Time$.m4s\" initialization=\"i.m4s\"><SegmentTimeline><S t=\"0\" d=\"2000\" r=\"" +
      std::to_string(segments - 1) + "\"/></SegmentTimeline></SegmentTemplate>"
      "<Representation id=\"v\" bandwidth=\"100000\" codecs=\"avc1.64001e\"/></AdaptationSet>"
      "</Period></MPD>\n";
  return s;
}

TEST(LiveTracker, DashPublishTimeStaleAndLatency) {
  const double ast = *ParseIso8601("2026-01-01T00:00:00Z");
  LiveTracker t("http://x/live.mpd");
  EXPECT_DOUBLE_EQ(t.Observe(Mpd(ast + 10, 5), ast + 11), 2.0);  // minimumUpdatePeriod
  t.Observe(Mpd(ast + 12, 6), ast + 13);
  t.Observe(Mpd(ast + 11, 6), ast + 15);  // publishTime back; no new segment since ast+13
  t.Observe(Mpd(ast + 11, 6), ast + 16.5);
  Report r = t.Finish(ast + 16.5);
  EXPECT_TRUE(Has(r, "live_publish_time_regressed"));
  EXPECT_TRUE(Has(r, "live_playlist_stale"));
  bool latency = false;
  for (const auto& f : r.facts)
    if (f.key == "latency_min_seconds") {
      latency = true;
      EXPECT_EQ(f.value, "1");  // reload at ast+11 saw segments up to ast+10
    }
  EXPECT_TRUE(latency);
}

// LiveMonitor on a fake clock: the fake origin rolls one 2 s segment every 2 s of fake time and
// dates it with PROGRAM-DATE-TIME, so latency is known exactly.
TEST(LiveMonitor, FakeClockReloadsAtTheTargetCadence) {
  FakeClock clock(1'800'000'000ULL * 1'000'000'000ULL);
  const double t0 = 1'800'000'000.0;
  int fetches = 0;
  int segment_fetches = 0;
  auto fetch = [&](const std::string&, fetch::FetchKind kind) -> Result<fetch::FetchResponse> {
    if (kind == fetch::FetchKind::kSegment) {
      ++segment_fetches;
      return fetch::FetchResponse{};
    }
    ++fetches;
    double now = static_cast<double>(clock.NowUnixNanos()) / 1e9;
    uint64_t produced = static_cast<uint64_t>((now - t0) / 2.0) + 5;  // segments finished so far
    fetch::FetchResponse r;
    // Segment n covers [t0 - 10 + 2n, t0 - 8 + 2n): the newest ended at most 2 s ago.
    r.body = Playlist(produced - 5, 5, 0, {}, t0 - 10);
    return r;
  };
  LiveOptions o;
  o.duration_seconds = 30;
  LiveMonitor m(o, fetch, clock,
                [&](double s) { clock.Advance(static_cast<uint64_t>(s * 1e9)); });
  Report r = m.Run("live.m3u8");
  EXPECT_TRUE(r.findings.empty()) << ::testing::PrintToString(Ids(r));
  EXPECT_GE(fetches, 15);
  EXPECT_LE(fetches, 17);
  EXPECT_EQ(segment_fetches, 15);  // the newest segment at the first load and each new one
  std::map<std::string, std::string> facts;
  for (const auto& f : r.facts) facts[f.key] = f.value;
  EXPECT_EQ(facts["monitored_seconds"], "30");
  EXPECT_EQ(facts["new_segments"], "14");  // produced at t=2..28; monitoring stops at t=30
  EXPECT_EQ(facts["latency_min_seconds"], "0");
  EXPECT_EQ(facts["latency_max_seconds"], "1");
}

TEST(LiveMonitor, FakeClockDetectsAStalledOrigin) {
  FakeClock clock(1'800'000'000ULL * 1'000'000'000ULL);
  const double t0 = 1'800'000'000.0;
  auto fetch = [&](const std::string&, fetch::FetchKind) -> Result<fetch::FetchResponse> {
    double now = std::min(static_cast<double>(clock.NowUnixNanos()) / 1e9, t0 + 8);  // stalls
    fetch::FetchResponse r;
    r.body = Playlist(static_cast<uint64_t>((now - t0) / 2.0), 5);
    return r;
  };
  LiveOptions o;
  o.duration_seconds = 20;
  LiveMonitor m(o, fetch, clock,
                [&](double s) { clock.Advance(static_cast<uint64_t>(s * 1e9)); });
  Report r = m.Run("live.m3u8");
  EXPECT_EQ(Ids(r), std::vector<std::string>{"live_playlist_stale"});
}

// An LL-HLS playlist (target 4 s, parts of 1 s) whose complete segments are [first, first+count)
// and which has `parts` parts of the next segment.
std::string LlHls(uint64_t first, int count, int parts) {
  std::string s =
      "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:4\n"
      "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=3.0\n"
      "#EXT-X-PART-INF:PART-TARGET=1.0\n#EXT-X-MEDIA-SEQUENCE:" + std::to_string(first) + "\n";
  for (int i = 0; i < count; ++i) s += "#EXTINF:4.0,\nseg" + std::to_string(first + i) + ".mp4\n";
  const uint64_t next = first + static_cast<uint64_t>(count);
  for (int k = 0; k < parts; ++k)
    s += "#EXT-X-PART:DURATION=1.0,URI=\"part" + std::to_string(next) + "." + std::to_string(k) +
         ".mp4\"\n";
  return s;
}

TEST(LiveTracker, BlockingReloadsAskForTheNextPartAndJudgeTheAnswer) {
  LiveTracker t("https://origin.example/live.m3u8?token=x");
  EXPECT_EQ(t.NextUrl(), "https://origin.example/live.m3u8?token=x");
  EXPECT_DOUBLE_EQ(t.Observe(LlHls(10, 4, 2), 100), 0.75);  // 3/4 part; the server holds the rest
  EXPECT_EQ(t.NextUrl(), "https://origin.example/live.m3u8?token=x&_HLS_msn=14&_HLS_part=2");
  EXPECT_TRUE(t.Snapshot(100).blocking_reloads);
  t.Observe(LlHls(10, 4, 3), 100.5, 0.5);  // part 2 of 14 arrived: satisfied
  EXPECT_TRUE(t.TakeFindings().empty());
  EXPECT_EQ(t.NextUrl(), "https://origin.example/live.m3u8?token=x&_HLS_msn=14&_HLS_part=3");
  t.Observe(LlHls(10, 4, 3), 101, 0.1);  // answered without the part asked for
  auto f = t.TakeFindings();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].info().id, "live_blocking_reload_unsatisfied");
  t.Observe(LlHls(11, 4, 0), 114, 13);  // segment 14 complete (satisfied) but after 13 s > 3 x 4
  f = t.TakeFindings();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].info().id, "live_blocking_reload_slow");
  EXPECT_EQ(t.NextUrl(), "https://origin.example/live.m3u8?token=x&_HLS_msn=15&_HLS_part=0");
  // Without CAN-BLOCK-RELOAD the plain URL is polled at the usual cadence.
  LiveTracker u("live.m3u8");
  EXPECT_DOUBLE_EQ(u.Observe(Playlist(0, 5), 100), 1.0);
  EXPECT_EQ(u.NextUrl(), "live.m3u8");
}

TEST(LiveTracker, UnexpectedDiscontinuityUnlessADateRangeAnnouncesIt) {
  const double t0 = 1'800'000'000.0;
  auto with_break = [&](bool announced) {
    std::string s = Playlist(0, 5, 0, {}, t0);
    if (announced)
      s += "#EXT-X-DATERANGE:ID=\"ad1\",START-DATE=\"" + FormatIso8601(t0 + 10) +
           "\",PLANNED-DURATION=30,SCTE35-OUT=0xFC30\n";
    return s + "#EXT-X-DISCONTINUITY\n#EXTINF:2.000,\nad0.ts\n";
  };
  for (bool announced : {false, true}) {
    LiveTracker t("live.m3u8");
    t.Observe(Playlist(0, 5, 0, {}, t0), 100);
    t.Observe(with_break(announced), 102);
    auto f = t.TakeFindings();
    if (announced) {
      EXPECT_TRUE(f.empty()) << f[0].message;
    } else {
      ASSERT_EQ(f.size(), 1u);
      EXPECT_EQ(f[0].info().id, "live_unexpected_discontinuity");
      EXPECT_NE(f[0].message.find("ad0.ts"), std::string::npos) << f[0].message;
    }
  }
  // A discontinuity already there at the first load is not "new".
  LiveTracker t("live.m3u8");
  t.Observe(with_break(false), 100);
  EXPECT_TRUE(t.TakeFindings().empty());
}

TEST(LiveTracker, NewestSegmentIsOfferedForCheckingAndFailuresReported) {
  LiveTracker t("https://origin.example/a/live.m3u8");
  t.Observe(Playlist(0, 5), 100);
  EXPECT_EQ(t.new_segment_url(), "https://origin.example/a/seg4.ts");
  t.ObserveSegment(t.new_segment_url(), Status::Ok());
  t.Observe(Playlist(0, 5), 101);
  EXPECT_EQ(t.new_segment_url(), "");  // nothing new
  t.Observe(Playlist(1, 5), 102);
  EXPECT_EQ(t.new_segment_url(), "https://origin.example/a/seg5.ts");
  t.ObserveSegment(t.new_segment_url(), NotFound("HTTP 404"));
  auto f = t.TakeFindings();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].info().id, "live_segment_unavailable");
  LiveSnapshot snap = t.Snapshot(103);
  EXPECT_EQ(snap.format, "hls");
  EXPECT_EQ(snap.reloads, 3u);
  EXPECT_EQ(snap.new_segments, 1u);
  EXPECT_EQ(snap.segment_failures, 1u);
  EXPECT_EQ(snap.media_sequence, 1u);
  EXPECT_DOUBLE_EQ(snap.seconds_since_new_segment, 1.0);
  EXPECT_FALSE(snap.stale);
  EXPECT_TRUE(t.Snapshot(106).stale);  // 4 s > 1.5 x 2 s
  EXPECT_TRUE(t.Finish(106).findings.size() == 1);  // only the stale finding is left
}

// Real ffmpeg live HLS (1 s segments, rolling window of 5, deleting old segments), served by the
// test server on 127.0.0.1, monitored through CurlFetcher with allow_private for 6 s.
TEST(LiveMonitor, RealFfmpegLiveHls) {
  if (std::system("ffmpeg -version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no ffmpeg";
  auto dir = std::filesystem::temp_directory_path() / ("avtrace_live_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string seg = (dir / "seg_%05d.ts").string(), out = (dir / "live.m3u8").string();
    execlp("ffmpeg", "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-f",
           "lavfi", "-i", "testsrc=size=160x90:rate=25", "-c:v", "libx264", "-preset",
           "ultrafast", "-tune", "zerolatency", "-g", "25", "-keyint_min", "25", "-sc_threshold",
           "0", "-pix_fmt", "yuv420p", "-t", "20", "-f", "hls", "-hls_time", "1",
           "-hls_list_size", "5", "-hls_flags", "delete_segments+program_date_time",
           "-hls_segment_filename", seg.c_str(), out.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 100 && !std::filesystem::exists(dir / "live.m3u8"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(std::filesystem::exists(dir / "live.m3u8"));
  {
    fetch::TestHttpServer server([&](const fetch::TestHttpServer::Request& req) {
      std::ifstream in(dir / req.path.substr(1), std::ios::binary);
      if (!in) return fetch::TestHttpServer::Response{404, "text/plain", "", "", 0};
      const bool ts = req.path.ends_with(".ts");
      return fetch::TestHttpServer::Response{
          200, ts ? "video/mp2t" : "application/vnd.apple.mpegurl",
          std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()), "",
          0};
    });
    fetch::FetchOptions fo;
    fo.allow_private = true;
    fetch::CurlFetcher fetcher(fo);
    LiveOptions o;
    o.duration_seconds = 6;
    LiveMonitor m(
        o, [&](const std::string& u, fetch::FetchKind k) { return FetchForLive(fetcher, u, k); },
        SystemClock::Instance(),
        [](double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); });
    Report r = m.Run(server.Url("/live.m3u8"));
    std::map<std::string, std::string> facts;
    for (const auto& f : r.facts) facts[f.key] = f.value;
    for (const auto& f : r.findings) EXPECT_NE(f.level(), Level::kError) << f.message;
    EXPECT_GE(std::stod(facts["new_segments"]), 3) << facts["new_segments"];
    ASSERT_TRUE(facts.count("latency_median_seconds"));
    double latency = std::stod(facts["latency_median_seconds"]);
    EXPECT_GT(latency, -1.0);
    EXPECT_LT(latency, 5.0);
    EXPECT_EQ(fetcher.connections_opened(), 1u);
  }
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace avtrace::analyzer::live
