#include "player/cmcd.h"

#include <gtest/gtest.h>

#include "player/player_testing.h"

namespace avtrace::player {
namespace {

TEST(CmcdTable, Cases) {
  std::string data = testing::ReadFile(testing::DataPath("cmcd_cases.json"));
  simdjson::dom::parser parser;
  int n = 0;
  simdjson::dom::array cases;
  ASSERT_EQ(parser.parse(data).get(cases), simdjson::SUCCESS);
  for (simdjson::dom::element c : cases) {
    std::string name(c["name"].get_string().value());
    SCOPED_TRACE(name);
    std::string_view text;
    Result<CmcdData> parsed = InvalidArgument("no input");
    if (c["query"].get_string().get(text) == simdjson::SUCCESS) {
      parsed = ParseCmcdQuery(text);
    } else if (c["dict"].get_string().get(text) == simdjson::SUCCESS) {
      parsed = ParseCmcdDictionary(text);
    } else {
      std::vector<std::string_view> h;
      simdjson::dom::array ha;
      EXPECT_EQ(c["headers"].get_array().get(ha), simdjson::SUCCESS);
      for (simdjson::dom::element x : ha) h.push_back(x.get_string().value());
      parsed = ParseCmcdHeaders(h[0], h[1], h[2], h[3]);
    }
    otlp::Batch batch;
    Status st = parsed.ok() ? CmcdToEvent(*parsed, "demo", testing::kNow, &batch) : parsed.status();
    bool ok = c["ok"].get_bool().value();
    EXPECT_EQ(st.ok(), ok) << st.ToString();
    std::string_view err;
    if (c["error"].get_string().get(err) == simdjson::SUCCESS) {
      EXPECT_NE(st.message().find(err), std::string::npos) << st.message();
    }
    if (!ok || !st.ok()) continue;
    ASSERT_EQ(batch.playback_events.size(), 1u);
    const auto& e = batch.playback_events[0];
    EXPECT_EQ(e.source, otlp::PlaybackSource::kCmcd);
    std::string_view s;
    if (c["session"].get_string().get(s) == simdjson::SUCCESS) {
      EXPECT_EQ(e.session_id, s);
    }
    if (c["event"].get_string().get(s) == simdjson::SUCCESS) {
      EXPECT_EQ(e.event_name, s);
    }
    int64_t seq;
    if (c["seq"].get_int64().get(seq) == simdjson::SUCCESS) {
      EXPECT_EQ(e.sequence_number, seq);
    }
    simdjson::dom::array a;
    if (c["meta_has"].get_array().get(a) == simdjson::SUCCESS) {
      for (simdjson::dom::element x : a) {
        std::string_view want = x.get_string().value();
        EXPECT_NE(e.meta_json.find(want), std::string::npos) << e.meta_json;
      }
    }
    if (c["meta_lacks"].get_array().get(a) == simdjson::SUCCESS) {
      for (simdjson::dom::element x : a) {
        std::string_view want = x.get_string().value();
        EXPECT_EQ(e.meta_json.find(want), std::string::npos) << e.meta_json;
      }
    }
    simdjson::dom::parser check;
    EXPECT_EQ(check.parse(std::string(e.meta_json)).error(), simdjson::SUCCESS) << e.meta_json;
    ++n;
  }
  EXPECT_GE(n, 9);
}

TEST(Cmcd, TimestampFromTs) {
  auto d = ParseCmcdDictionary("sid=\"s\",ts=1714564801500,v=2");
  ASSERT_TRUE(d.ok());
  otlp::Batch b;
  ASSERT_TRUE(CmcdToEvent(*d, "demo", testing::kNow, &b).ok());
  EXPECT_EQ(b.playback_events[0].client_unix_nanos, testing::kNow + 1'500'000'000ULL);
  EXPECT_EQ(b.playback_events[0].client_timestamp, "2024-05-01T12:00:01.500Z");
}

TEST(Cmcd, ReportsJsonAndLines) {
  auto lines = ParseCmcdReports("e=ps,sta=s,sid=\"a\",ts=1714564800000\r\ne=ps,sta=p,sid=\"a\",ts=1714564801000\n");
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  EXPECT_EQ(lines->size(), 2u);
  EXPECT_EQ(lines->at(0).version, 2);
  auto json = ParseCmcdReports(R"([{"e":"bc","br":[4500],"sid":"a","ts":1714564802000},{"e":"t","bl":[9000],"sid":"a"}])");
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  ASSERT_EQ(json->size(), 2u);
  EXPECT_EQ(json->at(0).Find("e")->text, "bc");
  EXPECT_FALSE(ParseCmcdReports(R"([{"br":"x","sid":"a"}])").ok());
  EXPECT_FALSE(ParseCmcdReports("").ok());
  EXPECT_EQ(ParseCmcdQuery("a=1&b=2").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace avtrace::player
