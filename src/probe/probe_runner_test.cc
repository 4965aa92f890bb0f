// ProbeRunner on a fake clock with fake origins (workers = 0, RunDue() drives it): the
// Multivariant fan-out, metrics and findings batches in the shapes the store keeps, staleness
// and segment failures, API add/remove with persistence, limits. The real thing (curl, a real
// server, the pipeline and the store) is covered by test/integration/probes.test.mjs.
#include "probe/probe_runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "analyzer/text.h"
#include "otlp/attributes.h"

namespace avtrace::probe {
namespace {

namespace fetch = analyzer::fetch;
using Origin = std::function<Result<fetch::FetchResponse>(const std::string& url, fetch::FetchKind)>;

class FakeFetcher final : public fetch::Fetcher {
 public:
  explicit FakeFetcher(Origin* origin) : origin_(origin) {}
  Result<fetch::FetchResponse> Fetch(std::string_view url, fetch::FetchKind kind,
                                     std::string_view) override {
    return (*origin_)(std::string(url), kind);
  }

 private:
  Origin* origin_;
};

struct Captured {
  std::vector<otlp::Batch> metrics, logs;
  // Values of the newest point of metric `name` for playlist URLs containing `playlist`.
  std::optional<double> Last(std::string_view name, std::string_view playlist) const {
    std::optional<double> v;
    for (const auto& b : metrics)
      for (const auto& p : b.points) {
        if (b.metrics[p.metric_index].name != name) continue;
        otlp::ValueView pl;
        if (!otlp::FindAttribute(p.attributes.encoded, "probe.playlist", &pl)) continue;
        if (pl.bytes.find(playlist) == std::string_view::npos) continue;
        v = p.value_kind == otlp::NumberKind::kInt ? static_cast<double>(p.as_int) : p.as_double;
      }
    return v;
  }
  std::vector<std::string> Rules() const {
    std::vector<std::string> out;
    for (const auto& b : logs)
      for (const auto& l : b.logs) {
        otlp::ValueView v;
        if (otlp::FindAttribute(l.attributes.encoded, "rule.id", &v)) out.emplace_back(v.bytes);
      }
    return out;
  }
  bool HasRule(std::string_view id) const {
    for (const auto& r : Rules())
      if (r == id) return true;
    return false;
  }
};

constexpr uint64_t kT0 = 1'800'000'000ULL * 1'000'000'000ULL;

std::string Media(uint64_t first, int count, const std::string& prefix) {
  std::string s = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:" +
                  std::to_string(first) + "\n";
  s += "#EXT-X-PROGRAM-DATE-TIME:" +
       analyzer::FormatIso8601(1'800'000'000.0 - 10 + 2.0 * static_cast<double>(first)) + "\n";
  for (int i = 0; i < count; ++i)
    s += "#EXTINF:2.000,\n" + prefix + std::to_string(first + static_cast<uint64_t>(i)) + ".ts\n";
  return s;
}

class ProbeRunnerTest : public ::testing::Test {
 protected:
  ProbeRunnerTest() : clock_(kT0) {}

  std::unique_ptr<ProbeRunner> Make(std::string state_path = {}, uint64_t max_probes = 8) {
    ProbeRunnerOptions o;
    o.workers = 0;
    o.metrics_interval_seconds = 10;
    o.max_probes = max_probes;
    o.state_path = std::move(state_path);
    o.fetcher_factory = [this] { return std::make_unique<FakeFetcher>(&origin_); };
    return std::make_unique<ProbeRunner>(
        o,
        [this](otlp::Batch b, otlp::Signal s) {
          (s == otlp::Signal::kMetrics ? captured_.metrics : captured_.logs).push_back(std::move(b));
          return Status::Ok();
        },
        nullptr, &clock_);
  }
  // Advances the fake clock in 100 ms steps for `seconds`, running what is due.
  void Run(ProbeRunner& r, double seconds) {
    for (int i = 0; i < static_cast<int>(seconds * 10); ++i) {
      r.RunDue();
      clock_.Advance(100'000'000);
    }
  }
  double Elapsed() const { return static_cast<double>(clock_.NowUnixNanos() - kT0) / 1e9; }

  FakeClock clock_;
  Origin origin_;
  Captured captured_;
};

TEST_F(ProbeRunnerTest, FollowsVariantsReportsStateAndGoesStaleWhenTheOriginStops) {
  double stop_at = 1e9;  // the origin stops producing segments then
  int segment_fetches = 0;
  origin_ = [&](const std::string& url, fetch::FetchKind kind) -> Result<fetch::FetchResponse> {
    fetch::FetchResponse r;
    r.url = url;
    if (kind == fetch::FetchKind::kSegment) {
      ++segment_fetches;
      if (url.find("/hi/") != std::string::npos) return NotFound("HTTP 404");
      r.body = "x";
      return r;
    }
    if (url.ends_with("master.m3u8")) {
      r.body =
          "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS=\"avc1.64001f\"\nlo/index.m3u8\n"
          "#EXT-X-STREAM-INF:BANDWIDTH=2000000,CODECS=\"avc1.64001f\"\nhi/index.m3u8\n";
      return r;
    }
    const uint64_t produced = static_cast<uint64_t>(std::min(Elapsed(), stop_at) / 2.0);
    r.body = Media(produced, 5, "seg");
    return r;
  };
  auto runner = Make();
  Config::Probe cp;
  cp.name = "main";
  cp.url = "https://origin.example/live/master.m3u8";
  ASSERT_TRUE(runner->Start({cp}).ok());
  Run(*runner, 12);

  auto st = runner->Get("main");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->kind, "hls-multivariant");
  ASSERT_EQ(st->playlists.size(), 3u);
  EXPECT_EQ(st->playlists[1].url, "https://origin.example/live/lo/index.m3u8");
  EXPECT_EQ(st->playlists[1].role, "variant");
  EXPECT_EQ(st->state, "ok");
  EXPECT_GE(st->playlists[1].live.new_segments, 5u);
  EXPECT_GT(segment_fetches, 10);
  // The newest segment of the hi variant is listed but 404s.
  EXPECT_TRUE(captured_.HasRule("live_segment_unavailable"));
  EXPECT_GT(st->findings_error, 0u);
  ASSERT_FALSE(st->recent_findings.empty());
  // Metrics: up, latency from PROGRAM-DATE-TIME, cumulative reloads.
  EXPECT_EQ(captured_.Last("avtrace.probe.up", "/lo/"), 1.0);
  EXPECT_EQ(captured_.Last("avtrace.probe.stale", "/lo/"), 0.0);
  ASSERT_TRUE(captured_.Last("avtrace.probe.latency", "/lo/"));
  EXPECT_LT(*captured_.Last("avtrace.probe.latency", "/lo/"), 3.0);
  EXPECT_GE(*captured_.Last("avtrace.probe.reloads", "/lo/"), 2.0);
  // Metrics are rate-limited: about one batch per playlist per 10 s, not one per reload.
  EXPECT_LE(captured_.metrics.size(), 6u);
  EXPECT_FALSE(captured_.HasRule("live_playlist_stale"));

  stop_at = Elapsed();
  Run(*runner, 6);
  st = runner->Get("main");
  EXPECT_EQ(st->state, "stale");
  EXPECT_TRUE(st->playlists[1].live.stale);
  EXPECT_TRUE(captured_.HasRule("live_playlist_stale"));
  // The flip to stale is published at once, not at the next interval.
  EXPECT_EQ(captured_.Last("avtrace.probe.stale", "/lo/"), 1.0);
  EXPECT_GE(*captured_.Last("avtrace.probe.playlist.age", "/lo/"), 3.0);

  // Findings logs carry the rule, its level and spec, the probe and the playlist.
  const otlp::Batch& b = captured_.logs.back();
  ASSERT_FALSE(b.logs.empty());
  otlp::ValueView v;
  ASSERT_TRUE(otlp::FindAttribute(b.logs[0].attributes.encoded, "probe.name", &v));
  EXPECT_EQ(v.bytes, "main");
  ASSERT_TRUE(otlp::FindAttribute(b.resources[0].attributes.encoded, "service.name", &v));
  EXPECT_EQ(v.bytes, "avtrace-probe");
  EXPECT_EQ(b.logs[0].event_name, "avtrace.probe.finding");
  runner->Stop();
}

TEST_F(ProbeRunnerTest, FailingOriginAndNonManifestBodies) {
  bool html = true;
  origin_ = [&](const std::string& url, fetch::FetchKind) -> Result<fetch::FetchResponse> {
    if (url.find("down") != std::string::npos) return Unavailable("HTTP 503");
    fetch::FetchResponse r;
    r.url = url;
    r.content_type = "text/html";
    r.body = html ? "<html>maintenance</html>" : Media(static_cast<uint64_t>(Elapsed() / 2), 5, "s");
    return r;
  };
  auto runner = Make();
  ASSERT_TRUE(runner->Start({}).ok());
  ASSERT_TRUE(runner->Add({"down", "https://down.example/live.m3u8"}).ok());
  ASSERT_TRUE(runner->Add({"page", "https://page.example/live.m3u8"}).ok());
  Run(*runner, 3);
  auto down = runner->Get("down");
  EXPECT_EQ(down->state, "failing");
  EXPECT_EQ(down->playlists[0].last_error, "HTTP 503");
  EXPECT_EQ(captured_.Last("avtrace.probe.up", "down.example"), 0.0);
  auto page = runner->Get("page");
  EXPECT_EQ(page->state, "failing");
  EXPECT_NE(page->playlists[0].last_error.find("neither an HLS playlist nor a DASH MPD"),
            std::string::npos);
  html = false;  // the origin comes back: the probe recovers (it never gave up)
  Run(*runner, 12);
  page = runner->Get("page");
  EXPECT_EQ(page->state, "ok") << page->playlists[0].last_error;
  EXPECT_EQ(page->kind, "hls-media");
}

TEST_F(ProbeRunnerTest, ApiProbesArePersistedConfigProbesAreNotRemovable) {
  origin_ = [&](const std::string& url, fetch::FetchKind) -> Result<fetch::FetchResponse> {
    fetch::FetchResponse r;
    r.url = url;
    r.body = Media(static_cast<uint64_t>(Elapsed() / 2), 5, "s");
    return r;
  };
  const std::string state = ::testing::TempDir() + "/probes_" + std::to_string(getpid()) + ".yaml";
  std::filesystem::remove(state);
  Config::Probe cp;
  cp.name = "from-config";
  cp.url = "https://a.example/live.m3u8";
  {
    auto runner = Make(state, 3);
    ASSERT_TRUE(runner->Start({cp}).ok());
    EXPECT_TRUE(runner->Add({"api-1", "https://b.example/x.m3u8?token=a&b=c", 2, false}).ok());
    EXPECT_EQ(runner->Add({"api-1", "https://c.example/x.m3u8"}).code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(runner->Add({"bad name", "https://c.example/x.m3u8"}).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(runner->Add({"ftp", "ftp://c.example/x.m3u8"}).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(runner->Add({"zero", "https://c.example/x.m3u8", 0}).code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(runner->Add({"api-2", "https://c.example/x.m3u8"}).ok());
    Status full = runner->Add({"api-3", "https://d.example/x.m3u8"});
    EXPECT_EQ(full.code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(full.message().find("max_probes = 3"), std::string::npos);
    EXPECT_EQ(runner->Remove("from-config").code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(runner->Remove("nope").code(), StatusCode::kNotFound);
    EXPECT_TRUE(runner->Remove("api-2").ok());
    Run(*runner, 1);
  }
  auto runner = Make(state, 3);
  ASSERT_TRUE(runner->Start({cp}).ok());
  auto list = runner->List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].spec.name, "api-1");
  EXPECT_FALSE(list[0].spec.from_config);
  EXPECT_EQ(list[0].spec.url, "https://b.example/x.m3u8?token=a&b=c");
  EXPECT_EQ(list[0].spec.max_playlists, 2u);
  EXPECT_FALSE(list[0].spec.check_segments);
  EXPECT_EQ(list[1].spec.name, "from-config");
  EXPECT_TRUE(list[1].spec.from_config);
  runner->Stop();
  EXPECT_EQ(runner->Add({"late", "https://e.example/x.m3u8"}).code(), StatusCode::kUnavailable);
  std::filesystem::remove(state);
}

// With worker threads (the server's mode): probes run by themselves and Stop() joins promptly.
TEST_F(ProbeRunnerTest, WorkerThreadsRunAndStop) {
  std::atomic<int> fetches{0};
  origin_ = [&](const std::string& url, fetch::FetchKind) -> Result<fetch::FetchResponse> {
    ++fetches;
    fetch::FetchResponse r;
    r.url = url;
    r.body = Media(0, 5, "s");
    return r;
  };
  ProbeRunnerOptions o;
  o.workers = 2;
  o.fetcher_factory = [this] { return std::make_unique<FakeFetcher>(&origin_); };
  std::atomic<int> batches{0};
  ProbeRunner runner(o, [&](otlp::Batch, otlp::Signal) { ++batches; return Status::Ok(); }, nullptr,
                     &SystemClock::Instance());
  ASSERT_TRUE(runner.Start({}).ok());
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(runner.Add({"p" + std::to_string(i), "https://o.example/" + std::to_string(i) + ".m3u8"}).ok());
  for (int i = 0; i < 200 && fetches.load() < 8; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GE(fetches.load(), 8);
  EXPECT_GE(batches.load(), 4);
  runner.Stop();
}

}  // namespace
}  // namespace avtrace::probe
