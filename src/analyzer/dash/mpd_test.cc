#include "analyzer/dash/mpd.h"

#include <gtest/gtest.h>

#include "analyzer/text.h"
#include "analyzer/url.h"

namespace avtrace::analyzer::dash {
namespace {

Mpd ParseOk(const std::string& xml, std::string_view base = "https://cdn.example.com/live/x.mpd") {
  Findings f;
  Mpd m = Parse(xml, base, &f);
  EXPECT_TRUE(m.parsed);
  for (const auto& x : f.items()) ADD_FAILURE() << x.info().id << ": " << x.message;
  return m;
}

TEST(DashTemplate, Identifiers) {
  Representation r;
  r.id = "v0";
  r.bandwidth = 800000;
  EXPECT_EQ(*FormatTemplate("chunk-$RepresentationID$-$Number%05d$.m4s", r, 42, 0), "chunk-v0-00042.m4s");
  EXPECT_EQ(*FormatTemplate("$Bandwidth$/$Time$.m4s", r, 1, 5220000), "800000/5220000.m4s");
  EXPECT_EQ(*FormatTemplate("a$$b$Number%03d$", r, 1234, 0), "a$b1234");
  EXPECT_FALSE(FormatTemplate("$Foo$", r, 1, 0));
  EXPECT_FALSE(FormatTemplate("$Number%5d$", r, 1, 0));
  EXPECT_FALSE(FormatTemplate("$RepresentationID%02d$", r, 1, 0));
  EXPECT_FALSE(FormatTemplate("$Number", r, 1, 0));
}

constexpr char kLive[] = R"(<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" profiles="p" minBufferTime="PT2S"
     availabilityStartTime="2026-05-07T00:00:00Z" timeShiftBufferDepth="PT12S">
  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-iso:2014" value="https://time.example.com/"/>
  <BaseURL>https://cdn.example.com/a/</BaseURL>
  <Period id="p" start="PT0S">
    <BaseURL>p/</BaseURL>
    <AdaptationSet mimeType="video/mp4">
      <BaseURL>../b/</BaseURL>
      <SegmentTemplate timescale="90000" media="$RepresentationID$/$Time$.m4s" initialization="$RepresentationID$/init.mp4">
        <SegmentTimeline><S t="4320000" d="180000" r="-1"/></SegmentTimeline>
      </SegmentTemplate>
      <Representation id="v0" bandwidth="1"/>
    </AdaptationSet>
    <AdaptationSet mimeType="audio/mp4">
      <SegmentTemplate timescale="48000" duration="96000" startNumber="1" media="a/$Number$.m4s"/>
      <Representation id="a0" bandwidth="1"><BaseURL>https://other.example.com/x/</BaseURL></Representation>
    </AdaptationSet>
  </Period>
</MPD>)";

TEST(DashParse, BaseUrlChainAndInheritance) {
  Mpd m = ParseOk(kLive);
  ASSERT_EQ(m.periods.size(), 1u);
  const auto& v = m.periods[0].adaptation_sets[0].representations[0];
  EXPECT_EQ(v.base_url, "https://cdn.example.com/a/b/");
  EXPECT_EQ(v.segments.kind, SegmentInfo::Kind::kTemplate);
  EXPECT_EQ(v.segments.timescale, 90000u);
  EXPECT_EQ(v.path, "MPD/Period[0]/AdaptationSet[0]/Representation[id=v0]");
  EXPECT_EQ(m.periods[0].adaptation_sets[1].representations[0].base_url, "https://other.example.com/x/");
}

TEST(DashLive, OpenEndedTimelineEndsAtNow) {
  Mpd m = ParseOk(kLive);
  const Period& p = m.periods[0];
  const Representation& v = p.adaptation_sets[0].representations[0];
  const double ast = *m.availability_start_time;
  auto segs = ExpandSegments(m, p, v, ast + 61.0);
  ASSERT_FALSE(segs.empty());
  EXPECT_EQ(segs.front().time, 4320000u);
  auto edge = LiveEdge(m, p, v, ast + 61.0);
  ASSERT_TRUE(edge);
  // Segments of 2 s from 48 s: the one ending at 60 s is the newest complete one at 61 s.
  EXPECT_EQ(edge->time, 5220000u);
  EXPECT_EQ(edge->number, 6u);
  EXPECT_EQ(edge->url, "https://cdn.example.com/a/b/v0/5220000.m4s");
}

TEST(DashLive, NumberTemplateFromWallClockWithTimeShiftWindow) {
  Mpd m = ParseOk(kLive);
  const Period& p = m.periods[0];
  const Representation& a = p.adaptation_sets[1].representations[0];
  const double ast = *m.availability_start_time;
  auto segs = ExpandSegments(m, p, a, ast + 61.0);
  ASSERT_FALSE(segs.empty());
  EXPECT_EQ(segs.back().number, 30u);   // covers 58-60 s
  EXPECT_EQ(segs.front().number, 25u);  // window 49-61 s starts in segment 25 (48-50 s)
  auto edge = LiveEdge(m, p, a, ast + 61.0);
  ASSERT_TRUE(edge);
  EXPECT_EQ(edge->url, "https://other.example.com/x/a/30.m4s");
  EXPECT_FALSE(LiveEdge(m, p, a, ast + 1.0));  // nothing complete yet
}

TEST(DashStatic, TemplateCountFromDurationAndHugeRepeatIsCapped) {
  Mpd m = ParseOk(R"(<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" profiles="p"
      minBufferTime="PT2S" mediaPresentationDuration="PT9S"><Period><AdaptationSet>
      <SegmentTemplate timescale="1000" duration="2000" media="$Number$.m4s"/>
      <Representation id="r" bandwidth="1"/></AdaptationSet><AdaptationSet>
      <SegmentTemplate timescale="1" media="$Time$.m4s"><SegmentTimeline>
      <S d="1" r="99999999999"/></SegmentTimeline></SegmentTemplate>
      <Representation id="s" bandwidth="1"/></AdaptationSet></Period></MPD>)",
                  "/tmp/x.mpd");
  const Period& p = m.periods[0];
  auto segs = ExpandSegments(m, p, p.adaptation_sets[0].representations[0]);
  ASSERT_EQ(segs.size(), 5u);  // ceil(9 / 2)
  EXPECT_EQ(segs[4].url, "/tmp/5.m4s");
  EXPECT_EQ(ExpandSegments(m, p, p.adaptation_sets[1].representations[0]).size(), kMaxSegments);
}

TEST(Url, Resolve) {
  EXPECT_EQ(ResolveUrl("https://a.com/x/y.m3u8", "z.ts"), "https://a.com/x/z.ts");
  EXPECT_EQ(ResolveUrl("https://a.com/x/y.m3u8", "../z.ts"), "https://a.com/z.ts");
  EXPECT_EQ(ResolveUrl("https://a.com/x/y.m3u8", "/z.ts?q=1"), "https://a.com/z.ts?q=1");
  EXPECT_EQ(ResolveUrl("https://a.com/x/y.m3u8", "//b.com/z.ts"), "https://b.com/z.ts");
  EXPECT_EQ(ResolveUrl("https://a.com/x/y.m3u8", "http://c.com/"), "http://c.com/");
  EXPECT_EQ(ResolveUrl("https://a.com", "z.ts"), "https://a.com/z.ts");
  EXPECT_EQ(ResolveUrl("https://a.com/x/y.m3u8?tok=1", "./a/./b/../c.ts"), "https://a.com/x/a/c.ts");
  EXPECT_EQ(ResolveUrl("test/data/live.m3u8", "seg.ts"), "test/data/seg.ts");
  EXPECT_TRUE(IsHttpUrl("HTTPS://x"));
  EXPECT_FALSE(IsHttpUrl("file:///etc/passwd"));
}

}  // namespace
}  // namespace avtrace::analyzer::dash
