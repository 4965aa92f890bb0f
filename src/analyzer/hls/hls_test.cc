#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "analyzer/hls/checks.h"
#include "analyzer/hls/playlist.h"

namespace avtrace::analyzer::hls {
namespace {

TEST(HlsParse, MediaPlaylistModel) {
  Findings f;
  Playlist p = Parse(
      "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:35\n"
      "#EXT-X-DISCONTINUITY-SEQUENCE:2\n#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXT-X-MAP:URI=\"init.mp4\",BYTERANGE=\"720@0\"\n"
      "#EXT-X-KEY:METHOD=AES-128,URI=\"k\"\n"
      "#EXT-X-PROGRAM-DATE-TIME:2026-05-07T00:00:00.000Z\n#EXTINF:2.000,title one\nseg_35.m4s\n"
      "#EXT-X-DISCONTINUITY\n#EXT-X-KEY:METHOD=NONE\n#EXT-X-BYTERANGE:100@10\n#EXTINF:1.5,\r\nseg_36.m4s\r\n"
      "#EXT-X-ENDLIST\n",
      &f);
  EXPECT_EQ(p.kind, PlaylistKind::kMedia);
  EXPECT_EQ(p.version, 7u);
  EXPECT_TRUE(p.independent_segments);
  const MediaPlaylist& m = p.media;
  EXPECT_EQ(*m.target_duration, 2u);
  ASSERT_EQ(m.segments.size(), 2u);
  EXPECT_EQ(m.segments[0].sequence, 35u);
  EXPECT_EQ(m.segments[0].title, "title one");
  EXPECT_EQ(m.segments[0].key, 0);
  EXPECT_EQ(m.segments[0].map, 0);
  EXPECT_EQ(m.segments[0].discontinuity_sequence, 2u);
  EXPECT_DOUBLE_EQ(*m.segments[0].program_date_time, 1778112000.0);
  EXPECT_EQ(m.segments[1].sequence, 36u);
  EXPECT_TRUE(m.segments[1].discontinuity);
  EXPECT_EQ(m.segments[1].discontinuity_sequence, 3u);
  EXPECT_EQ(m.segments[1].key, -1);
  EXPECT_EQ(m.segments[1].range->length, 100u);
  EXPECT_EQ(*m.segments[1].range->offset, 10u);
  EXPECT_EQ(m.segments[1].uri, "seg_36.m4s");
  EXPECT_EQ(m.segments[1].line, 15);
  EXPECT_EQ(m.maps[0].range->length, 720u);
  EXPECT_FALSE(m.live());
  EXPECT_DOUBLE_EQ(m.TotalDuration(), 3.5);
  EXPECT_EQ(f.size(), 0u) << f.items()[0].message;
}

TEST(HlsParse, MultivariantModel) {
  Findings f;
  Playlist p = Parse(
      "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"en\",DEFAULT=YES,URI=\"a.m3u8\"\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=1280000,AVERAGE-BANDWIDTH=1000000,RESOLUTION=1280x720,"
      "CODECS=\"avc1.4d401f, mp4a.40.2\",FRAME-RATE=29.97,AUDIO=\"a\"\nv/720.m3u8\n",
      &f);
  ASSERT_EQ(p.kind, PlaylistKind::kMultivariant);
  ASSERT_EQ(p.multivariant.variants.size(), 1u);
  const Variant& v = p.multivariant.variants[0];
  EXPECT_EQ(v.bandwidth, 1280000u);
  EXPECT_EQ(*v.average_bandwidth, 1000000u);
  EXPECT_EQ(v.resolution->width, 1280u);
  EXPECT_EQ(v.codecs, (std::vector<std::string_view>{"avc1.4d401f", "mp4a.40.2"}));
  EXPECT_DOUBLE_EQ(*v.frame_rate, 29.97);
  EXPECT_EQ(v.uri, "v/720.m3u8");
  EXPECT_EQ(v.line, 3);
  EXPECT_EQ(p.multivariant.renditions[0].is_default, true);
}

TEST(HlsParse, LowLatencyModel) {
  Findings f;
  Playlist p = Parse(
      "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-VERSION:9\n"
      "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0,CAN-SKIP-UNTIL=24\n"
      "#EXT-X-PART-INF:PART-TARGET=1.0\n#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-SKIP:SKIPPED-SEGMENTS=2\n"
      "#EXT-X-PART:DURATION=1.0,URI=\"p0\",INDEPENDENT=YES\n#EXTINF:1.0,\ns12.mp4\n"
      "#EXT-X-PART:DURATION=0.5,URI=\"p1\",BYTERANGE=\"100@0\"\n"
      "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p2\"\n"
      "#EXT-X-RENDITION-REPORT:URI=\"../b.m3u8\",LAST-MSN=13,LAST-PART=0\n",
      &f);
  const MediaPlaylist& m = p.media;
  EXPECT_TRUE(m.server_control.can_block_reload);
  EXPECT_DOUBLE_EQ(*m.server_control.part_hold_back, 1.0);
  EXPECT_DOUBLE_EQ(*m.part_target, 1.0);
  ASSERT_TRUE(m.skip);
  EXPECT_EQ(m.skip->skipped_segments, 2u);
  ASSERT_EQ(m.segments.size(), 1u);
  EXPECT_EQ(m.segments[0].sequence, 12u);  // MEDIA-SEQUENCE + SKIPPED-SEGMENTS
  ASSERT_EQ(m.segments[0].parts.size(), 1u);
  EXPECT_TRUE(m.segments[0].parts[0].independent);
  ASSERT_EQ(m.trailing_parts.size(), 1u);
  EXPECT_EQ(m.trailing_parts[0].range->length, 100u);
  EXPECT_EQ(m.preload_hints[0].type, "PART");
  EXPECT_EQ(*m.rendition_reports[0].last_msn, 13u);
  EXPECT_EQ(m.LastMsn(), 12);
}

TEST(HlsParse, VariableSubstitution) {
  Findings f;
  Playlist p = Parse(
      "#EXTM3U\n#EXT-X-VERSION:8\n#EXT-X-TARGETDURATION:6\n"
      "#EXT-X-DEFINE:NAME=\"cdn\",VALUE=\"https://cdn.example.com\"\n"
      "#EXT-X-MAP:URI=\"{$cdn}/init.mp4\"\n#EXTINF:6,\n{$cdn}/s0.m4s\n#EXT-X-ENDLIST\n",
      &f);
  EXPECT_EQ(p.media.maps[0].uri, "https://cdn.example.com/init.mp4");
  EXPECT_EQ(p.media.segments[0].uri, "https://cdn.example.com/s0.m4s");
  EXPECT_EQ(f.size(), 0u);
}

TEST(HlsParse, ImportedVariablesAreNotReportedUndefined) {
  Findings f;
  Parse("#EXTM3U\n#EXT-X-VERSION:8\n#EXT-X-TARGETDURATION:6\n#EXT-X-DEFINE:IMPORT=\"auth\"\n"
        "#EXTINF:6,\ns0.ts?{$auth}\n#EXT-X-ENDLIST\n",
        &f);
  EXPECT_FALSE(f.Has(RuleId::kHlsVariableUndefined));
}

TEST(HlsParse, AttributeListEdgeCases) {
  Findings f;
  Playlist p = Parse(
      "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"a,b,c\",RESOLUTION=1x1\nu\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=2,CODECS=\"unterminated\nu2\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=3,\nu3\n",
      &f);
  ASSERT_EQ(p.multivariant.variants.size(), 3u);
  EXPECT_EQ(p.multivariant.variants[0].codecs.size(), 3u);
  int malformed = 0;
  for (const auto& x : f.items()) malformed += x.rule == RuleId::kHlsAttributeListMalformed;
  EXPECT_EQ(malformed, 2);
}

TEST(HlsParse, NeverReadsPastTruncatedInput) {
  const std::string full =
      "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\",IV=0x0\n"
      "#EXT-X-DATERANGE:ID=\"x\",START-DATE=\"2024-01-01T00:00:00Z\",SCTE35-OUT=0xFC\n"
      "#EXTINF:6.0,\n#EXT-X-BYTERANGE:10@2\ns.ts\n";
  for (size_t n = 0; n <= full.size(); ++n) {
    Findings f;
    std::string cut = full.substr(0, n);  // own buffer: ASan sees any overread
    (void)Analyze(cut, &f);
  }
}

// The model's string_views point into the Playlist's own copy of the text (and of substituted
// values): they outlive the input and survive copies and moves of the Playlist.
TEST(HlsParse, ModelOwnsItsText) {
  Findings f;
  Playlist copy;
  {
    auto text = std::make_unique<std::string>(
        "#EXTM3U\n#EXT-X-VERSION:8\n#EXT-X-TARGETDURATION:6\n"
        "#EXT-X-DEFINE:NAME=\"host\",VALUE=\"cdn.example.com\"\n"
        "#EXTINF:6.006,first\nhttps://{$host}/a.ts\n#EXTINF:6.006,\nb.ts\n#EXT-X-ENDLIST\n");
    Playlist p = Parse(*text, &f);
    text.reset();
    copy = p;
  }
  Playlist moved = std::move(copy);
  ASSERT_EQ(moved.media.segments.size(), 2u);
  EXPECT_EQ(moved.media.segments[0].uri, "https://cdn.example.com/a.ts");
  EXPECT_EQ(moved.media.segments[0].title, "first");
  EXPECT_EQ(moved.media.segments[1].uri, "b.ts");
  ASSERT_NE(moved.text, nullptr);
  const std::string& own = moved.text->input;
  EXPECT_GE(moved.media.segments[1].uri.data(), own.data());
  EXPECT_LE(moved.media.segments[1].uri.data() + 4, own.data() + own.size());
}

}  // namespace
}  // namespace avtrace::analyzer::hls
