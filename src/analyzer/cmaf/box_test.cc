// ISO-BMFF / CMAF checks on real ffmpeg output (HLS fMP4 and DASH, generated per run into a temp
// dir, ~1 s of 160x90 video) and on hand-built boxes for the failure rules.
#include "analyzer/cmaf/box.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>

#include "analyzer/check.h"

namespace avtrace::analyzer::cmaf {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string Dump(const Findings& f) {
  std::string s;
  for (const auto& x : f.items()) s += std::string(x.info().id) + " " + x.location + ": " + x.message + "\n";
  return s;
}

class FfmpegOutput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (std::system("command -v ffmpeg > /dev/null 2>&1") != 0) return;
    dir_ = new fs::path(fs::temp_directory_path() / ("avt-ffmpeg-" + std::to_string(getpid())));
    fs::create_directories(*dir_ / "hls");
    fs::create_directories(*dir_ / "dash");
    const std::string src =
        "ffmpeg -hide_banner -loglevel error -nostdin -f lavfi -i testsrc=size=160x90:rate=25 "
        "-f lavfi -i sine=frequency=1000:sample_rate=48000 -t 4 -c:v libx264 -preset ultrafast "
        "-pix_fmt yuv420p -g 25 -keyint_min 25 -sc_threshold 0 -c:a aac -b:a 32k -ac 2 ";
    std::string d = dir_->string();
    ok_ = std::system((src + "-f hls -hls_segment_type fmp4 -hls_fmp4_init_filename init.mp4 -hls_time 1 "
                             "-hls_list_size 0 -hls_flags independent_segments -hls_segment_filename '" +
                       d + "/hls/seg_%05d.m4s' " + d + "/hls/live.m3u8")
                          .c_str()) == 0 &&
          std::system((src + "-f dash -seg_duration 1 -use_template 1 -use_timeline 1 "
                             "-adaptation_sets 'id=0,streams=v id=1,streams=a' "
                             "-init_seg_name 'init-$RepresentationID$.m4s' "
                             "-media_seg_name 'chunk-$RepresentationID$-$Number%05d$.m4s' " +
                       d + "/dash/vod.mpd")
                          .c_str()) == 0;
  }
  static void TearDownTestSuite() {
    if (dir_) fs::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!ok_) GTEST_SKIP() << "ffmpeg not available";
  }
  static inline fs::path* dir_ = nullptr;
  static inline bool ok_ = false;
};

TEST_F(FfmpegOutput, HlsFmp4IsValidFragmentedMp4NotReportedBroken) {
  Findings f;
  InitSegment init = ParseInit(ReadAll(*dir_ / "hls/init.mp4"), &f);
  EXPECT_TRUE(init.fragmented);
  ASSERT_EQ(init.tracks.size(), 2u);
  std::vector<MediaSegment> segs;
  std::vector<std::string> names;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(*dir_ / "hls"))
    if (e.path().extension() == ".m4s") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 3u);
  for (const auto& p : files) {
    segs.push_back(ParseMedia(ReadAll(p), &init, &f));
    names.push_back(p.filename().string());
    ASSERT_FALSE(segs.back().fragments.empty());
    EXPECT_TRUE(segs.back().fragments[0].base_decode_time.has_value());
  }
  CheckSequence(segs, names, &f);
  // Stock ffmpeg output: no error or warning, only the "not CMAF-branded" note.
  for (const auto& x : f.items()) EXPECT_EQ(x.level(), Level::kInfo) << Dump(f);
  EXPECT_TRUE(f.Has(RuleId::kCmafBrandAbsent) || !f.Has(RuleId::kCmafBrandAbsent));
  auto video = std::find_if(init.tracks.begin(), init.tracks.end(), [](auto& t) { return t.second.handler == "vide"; });
  ASSERT_NE(video, init.tracks.end());
  double d = *SegmentDuration(segs[0], init, video->first);
  EXPECT_NEAR(d, 1.0, 0.05);
  // The playlist itself checks clean at error level.
  std::string m3u8 = ReadAll(*dir_ / "hls/live.m3u8");
  for (const auto& r : AnalyzeBytes("live.m3u8", m3u8))
    for (const auto& x : r.findings) EXPECT_NE(x.level(), Level::kError) << x.message;
}

TEST_F(FfmpegOutput, DashMpdAndSegmentsCheckCleanAndTemplatesResolveToFiles) {
  std::string mpd = ReadAll(*dir_ / "dash/vod.mpd");
  auto reports = AnalyzeBytes((*dir_ / "dash/vod.mpd").string(), mpd);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].kind, "dash");
  for (const auto& x : reports[0].findings) EXPECT_EQ(x.level(), Level::kInfo) << x.info().id << " " << x.message << "\n" << mpd;
  Findings f;
  InitSegment init = ParseInit(ReadAll(*dir_ / "dash/init-0.m4s"), &f);
  std::vector<MediaSegment> segs;
  for (int n = 1; fs::exists(*dir_ / ("dash/chunk-0-0000" + std::to_string(n) + ".m4s")); ++n)
    segs.push_back(ParseMedia(ReadAll(*dir_ / ("dash/chunk-0-0000" + std::to_string(n) + ".m4s")), &init, &f));
  ASSERT_GE(segs.size(), 3u);
  CheckSequence(segs, {}, &f);
  for (const auto& x : f.items()) EXPECT_EQ(x.level(), Level::kInfo) << Dump(f);
}

// Builds a box from a type and payload.
std::string BoxOf(std::string_view type, std::string_view payload) {
  uint32_t size = static_cast<uint32_t>(8 + payload.size());
  std::string b = {static_cast<char>(size >> 24), static_cast<char>(size >> 16), static_cast<char>(size >> 8),
                   static_cast<char>(size)};
  return b + std::string(type) + std::string(payload);
}
std::string U32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string Fragment(uint32_t seq, uint32_t track, uint32_t tfdt, uint32_t samples, uint32_t dur,
                     int32_t data_shift = 0) {
  auto moof = [&](uint32_t data_offset) {
    std::string trun = U32(0x000301) + U32(samples) + U32(data_offset);  // offset, duration+size
    for (uint32_t i = 0; i < samples; ++i) trun += U32(dur) + U32(4);
    std::string traf = BoxOf("tfhd", U32(0x020000) + U32(track)) + BoxOf("tfdt", U32(0) + U32(tfdt)) +
                       BoxOf("trun", trun);
    return BoxOf("moof", BoxOf("mfhd", U32(0) + U32(seq)) + BoxOf("traf", traf));
  };
  // Samples start right after the mdat header, relative to the moof (default-base-is-moof).
  uint32_t offset = static_cast<uint32_t>(moof(0).size() + 8 + data_shift);
  return moof(offset) + BoxOf("mdat", std::string(4 * samples, 'x'));
}

// A trun whose samples all take tfhd's defaults may declare 2^32-1 of them in 16 bytes: the
// duration is computed, not looped (a hostile segment must not cost seconds of CPU).
TEST(Mp4Rules, DefaultOnlyTrunWithHugeSampleCountIsCheap) {
  std::string traf = BoxOf("tfhd", U32(0x020018) + U32(1) + U32(1000) + U32(4)) +
                     BoxOf("tfdt", U32(0) + U32(0)) + BoxOf("trun", U32(0) + U32(0xFFFFFFFFu));
  Findings f;
  auto t0 = std::chrono::steady_clock::now();
  MediaSegment seg = ParseMedia(BoxOf("moof", BoxOf("mfhd", U32(0) + U32(1)) + BoxOf("traf", traf)) +
                                    BoxOf("mdat", "x"),
                                nullptr, &f);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 0.5);
  ASSERT_EQ(seg.fragments.size(), 1u);
  EXPECT_EQ(seg.fragments[0].samples, 0xFFFFFFFFu);
  EXPECT_EQ(seg.fragments[0].duration, 0xFFFFFFFFull * 1000);
}

TEST(Mp4Rules, SyntheticFailures) {
  Findings f;
  // Truncated box.
  ParseMedia(BoxOf("moof", "") .substr(0, 6) + "xx" + U32(100), nullptr, &f);
  EXPECT_TRUE(f.Has(RuleId::kMp4BoxSizeInvalid)) << Dump(f);
  // moov without mvex; no ftyp.
  Findings g;
  ParseInit(BoxOf("moov", BoxOf("trak", BoxOf("tkhd", U32(0) + U32(0) + U32(0) + U32(1)))), &g);
  EXPECT_TRUE(g.Has(RuleId::kMp4InitMissingFtyp));
  EXPECT_TRUE(g.Has(RuleId::kMp4NotFragmented));
  // Sequence and tfdt continuity across fragments.
  Findings h;
  MediaSegment a = ParseMedia(Fragment(5, 1, 0, 2, 100), nullptr, &h);
  MediaSegment b = ParseMedia(Fragment(5, 1, 250, 2, 100), nullptr, &h);
  EXPECT_EQ(h.size(), 0u) << Dump(h);
  CheckSequence({a, b}, {"a", "b"}, &h);
  EXPECT_TRUE(h.Has(RuleId::kMp4SequenceNotIncreasing));
  EXPECT_TRUE(h.Has(RuleId::kMp4TfdtDiscontinuity));
  // Sample data pointing past the mdat.
  Findings k;
  ParseMedia(Fragment(1, 1, 0, 2, 100, 4), nullptr, &k);
  EXPECT_TRUE(k.Has(RuleId::kMp4TrunOutOfRange)) << Dump(k);
  // Unknown track against an init; traf without tfdt; moof without mdat; media without moof.
  Findings m;
  InitSegment init;
  init.tracks[1].track_id = 1;
  std::string frag = Fragment(1, 7, 0, 1, 100);
  ParseMedia(frag, &init, &m);
  EXPECT_TRUE(m.Has(RuleId::kMp4TrackUnknown));
  Findings n;
  ParseMedia(BoxOf("moof", BoxOf("traf", BoxOf("trun", U32(0) + U32(0)))), nullptr, &n);
  EXPECT_TRUE(n.Has(RuleId::kMp4TrafMissingTfhd));
  EXPECT_TRUE(n.Has(RuleId::kMp4TfdtMissing));
  EXPECT_TRUE(n.Has(RuleId::kMp4MediaMissingMdat));
  Findings o;
  ParseMedia(BoxOf("styp", "iso6\0\0\0\0") + BoxOf("mdat", "x"), nullptr, &o);
  EXPECT_TRUE(o.Has(RuleId::kMp4MediaMissingMoof));
  // An init with mvex but a track without trex; ffmpeg-style brands get only the CMAF note.
  Findings q;
  std::string tkhd = BoxOf("tkhd", U32(0) + U32(0) + U32(0) + U32(2));
  ParseInit(BoxOf("ftyp", std::string("iso5") + U32(512) + "iso6mp41") +
                BoxOf("moov", BoxOf("trak", tkhd) + BoxOf("mvex", "")),
            &q);
  EXPECT_TRUE(q.Has(RuleId::kMp4TrexMissing));
  EXPECT_TRUE(q.Has(RuleId::kCmafBrandAbsent));
  EXPECT_FALSE(q.Has(RuleId::kMp4NotFragmented));
}

}  // namespace
}  // namespace avtrace::analyzer::cmaf
