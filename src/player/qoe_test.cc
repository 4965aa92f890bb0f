#include "player/qoe.h"

#include <gtest/gtest.h>

#include "player/player_testing.h"

namespace avtrace::player {
namespace {

// test/data/player/qoe_cases.json: event sequences ([ms, name, meta?]) -> expected QoE.
TEST(QoeTable, Cases) {
  std::string data = testing::ReadFile(testing::DataPath("qoe_cases.json"));
  simdjson::dom::parser parser;
  simdjson::dom::array cases;
  ASSERT_EQ(parser.parse(data).get(cases), simdjson::SUCCESS);
  int n = 0;
  for (simdjson::dom::element c : cases) {
    std::string name(c["name"].get_string().value());
    SCOPED_TRACE(name);
    QoeState s;
    simdjson::dom::array events = c["events"].get_array().value();
    for (simdjson::dom::element ev : events) {
      simdjson::dom::array a = ev.get_array().value();
      int64_t ms = a.at(0).get_int64().value();
      std::string_view event_name = a.at(1).get_string().value();
      std::string meta;
      simdjson::dom::element m;
      if (a.at(2).get(m) == simdjson::SUCCESS) meta = simdjson::minify(m);
      QoeCalculator::Feed(&s, event_name, testing::kNow + static_cast<uint64_t>(ms) * 1'000'000,
                          meta);
    }
    QoeSummary q = QoeCalculator::Summarize(s);
    simdjson::dom::object expect = c["expect"].get_object().value();
    for (auto f : expect) {
      std::string_view k = f.key;
      SCOPED_TRACE(std::string(k));
      bool b;
      double d = 0;
      if (f.value.get_bool().get(b) == simdjson::SUCCESS) {
        bool got = k == "ebvs"        ? q.exit_before_video_start
                   : k == "vsf"       ? q.video_start_failure
                   : k == "pf"        ? q.playback_failure
                   : k == "has_startup" ? q.has_startup
                   : k == "has_score" ? q.has_score
                                      : !b;
        EXPECT_EQ(got, b);
        continue;
      }
      ASSERT_EQ(f.value.get_double().get(d), simdjson::SUCCESS);
      double got = k == "startup_ms"         ? (q.has_startup ? q.startup_ms : -1)
                   : k == "rebuffer_count"   ? static_cast<double>(q.rebuffer_count)
                   : k == "rebuffer_ms"      ? q.rebuffer_ms
                   : k == "playing_ms"       ? q.playing_ms
                   : k == "rebuffer_ratio"   ? q.rebuffer_ratio
                   : k == "switches_up"      ? static_cast<double>(q.bitrate_switches_up)
                   : k == "switches_down"    ? static_cast<double>(q.bitrate_switches_down)
                   : k == "avg_bitrate_kbps" ? q.avg_bitrate_kbps
                   : k == "dropped_frames"   ? static_cast<double>(q.dropped_frames)
                   : k == "errors"           ? static_cast<double>(q.error_count)
                   : k == "score"            ? (q.has_score ? q.score : -1)
                                             : -1e300;
      EXPECT_NEAR(got, d, 0.051);
    }
    ++n;
  }
  EXPECT_GE(n, 10);
}

TEST(Qoe, MalformedMetaIsIgnored) {
  QoeState s;
  QoeCalculator::Feed(&s, "bitrate_switch", testing::kNow, "{not json");
  QoeCalculator::Feed(&s, "playback_error", testing::kNow, R"({"fatal":"yes"})");
  QoeSummary q = QoeCalculator::Summarize(s);
  EXPECT_EQ(q.error_count, 1u);
  EXPECT_FALSE(q.video_start_failure);
}

}  // namespace
}  // namespace avtrace::player
