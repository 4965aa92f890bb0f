// analyzer_bench: median time of avtrace's parse + all checks (AnalyzeBytes: what `avtrace
// check` does for a file, minus rendering) on three generated inputs:
//   media_1000.m3u8   1000-segment VOD media playlist (fMP4, PROGRAM-DATE-TIME every 100)
//   master_50.m3u8    50 stream variants + 50 I-frame variants + 6 audio/subtitle renditions
//   live_timeline.mpd dynamic MPD, 5 Representations, SegmentTimelines of 3000 S elements
// The inputs are deterministic and written to --data (default bench/analyzer/data) so that
// compare.mjs times m3u8-parser, hls-parser and mpd-parser on the very same bytes.
//
//   analyzer_bench [--data DIR] [--json] [--iterations-scale X]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "analyzer/check.h"
#include "analyzer/text.h"

namespace {

std::string Media1000() {
  std::string s =
      "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:0\n"
      "#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init.mp4\"\n";
  char buf[160];
  for (int i = 0; i < 1000; ++i) {
    if (i % 100 == 0) {
      std::snprintf(buf, sizeof buf, "#EXT-X-PROGRAM-DATE-TIME:2026-05-07T%02d:%02d:00.000Z\n",
                    i / 600, (i / 10) % 60);
      s += buf;
    }
    std::snprintf(buf, sizeof buf, "#EXTINF:6.006,\nhttps://cdn.example.com/vod/seg_%05d.m4s\n", i);
    s += buf;
  }
  return s + "#EXT-X-ENDLIST\n";
}

std::string Master50() {
  std::string s = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  const char* langs[] = {"en", "de", "fr"};
  for (int i = 0; i < 3; ++i) {
    s += std::string("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aac\",NAME=\"") + langs[i] +
         "\",LANGUAGE=\"" + langs[i] + "\",DEFAULT=" + (i == 0 ? "YES" : "NO") +
         ",AUTOSELECT=YES,CHANNELS=\"2\",URI=\"audio/" + langs[i] + "/index.m3u8\"\n";
    s += std::string("#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"") + langs[i] +
         "\",LANGUAGE=\"" + langs[i] + "\",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI=\"subs/" +
         langs[i] + "/index.m3u8\"\n";
  }
  char buf[400];
  for (int i = 0; i < 50; ++i) {
    int h = 144 + 18 * i, w = (h * 16 / 9) & ~1;
    int bw = 200000 + 150000 * i;
    std::snprintf(buf, sizeof buf,
                  "#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,CODECS=\"avc1.64001f,"
                  "mp4a.40.2\",RESOLUTION=%dx%d,FRAME-RATE=29.970,AUDIO=\"aac\",SUBTITLES=\"subs\","
                  "CLOSED-CAPTIONS=NONE\nvideo/%02d/index.m3u8\n",
                  bw, bw * 8 / 10, w, h, i);
    s += buf;
  }
  for (int i = 0; i < 50; ++i) {
    int h = 144 + 18 * i, w = (h * 16 / 9) & ~1;
    std::snprintf(buf, sizeof buf,
                  "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=%d,CODECS=\"avc1.64001f\",RESOLUTION=%dx%d,"
                  "URI=\"video/%02d/iframes.m3u8\"\n",
                  40000 + 20000 * i, w, h, i);
    s += buf;
  }
  return s;
}

std::string Timeline(int entries, int base_d, int jitter) {
  std::string s = "<SegmentTimeline>";
  uint64_t t = 0;
  for (int i = 0; i < entries; ++i) {
    int d = base_d + ((i * 7) % 3 - 1) * jitter;  // varying d: no r= compression
    s += "<S t=\"" + std::to_string(t) + "\" d=\"" + std::to_string(d) + "\"/>";
    t += static_cast<uint64_t>(d);
  }
  return s + "</SegmentTimeline>";
}

std::string LiveMpd() {
  std::string s =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
      "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"dynamic\" "
      "profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" "
      "availabilityStartTime=\"2026-05-07T00:00:00Z\" publishTime=\"2026-05-07T01:40:00Z\" "
      "minimumUpdatePeriod=\"PT2S\" minBufferTime=\"PT4S\" timeShiftBufferDepth=\"PT2H\" "
      "suggestedPresentationDelay=\"PT6S\">\n"
      "<UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:http-xsdate:2014\" "
      "value=\"https://time.example.com/now\"/>\n<Period id=\"p0\" start=\"PT0S\">\n"
      "<AdaptationSet id=\"0\" contentType=\"video\" mimeType=\"video/mp4\" "
      "segmentAlignment=\"true\" startWithSAP=\"1\">\n"
      "<SegmentTemplate timescale=\"90000\" initialization=\"v-$RepresentationID$-init.m4s\" "
      "media=\"v-$RepresentationID$-$Time$.m4s\">" +
      Timeline(3000, 180000, 3000) + "</SegmentTemplate>\n";
  const int heights[] = {360, 540, 720, 1080};
  for (int i = 0; i < 4; ++i)
    s += "<Representation id=\"v" + std::to_string(i) + "\" bandwidth=\"" +
         std::to_string(800000 * (i + 1)) + "\" codecs=\"avc1.64001f\" width=\"" +
         std::to_string(heights[i] * 16 / 9) + "\" height=\"" + std::to_string(heights[i]) +
         "\" frameRate=\"30000/1001\"/>\n";
  s += "</AdaptationSet>\n<AdaptationSet id=\"1\" contentType=\"audio\" mimeType=\"audio/mp4\" "
       "lang=\"en\" segmentAlignment=\"true\">\n<SegmentTemplate timescale=\"48000\" "
       "initialization=\"a-init.m4s\" media=\"a-$Time$.m4s\">" +
       Timeline(3000, 96000, 1024) +
       "</SegmentTemplate>\n<Representation id=\"a0\" bandwidth=\"128000\" "
       "codecs=\"mp4a.40.2\" audioSamplingRate=\"48000\"/>\n</AdaptationSet>\n</Period>\n</MPD>\n";
  return s;
}

struct Case {
  const char* name;
  const char* file;
  std::string text;
  int iterations;
};

double MedianMs(const std::string& name, const std::string& text, int iterations) {
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(iterations));
  size_t sink = 0;
  for (int i = 0; i < iterations + iterations / 10; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto reports = avtrace::analyzer::AnalyzeBytes(name, text);
    auto t1 = std::chrono::steady_clock::now();
    sink += reports[0].findings.size() + reports[0].facts.size();
    if (i >= iterations / 10) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  if (sink == static_cast<size_t>(-1)) std::puts("");
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = AVTRACE_BENCH_DATA_DIR;
  bool json = false;
  double scale = 1;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--data") && i + 1 < argc) dir = argv[++i];
    else if (!std::strcmp(argv[i], "--json")) json = true;
    else if (!std::strcmp(argv[i], "--iterations-scale") && i + 1 < argc) scale = std::atof(argv[++i]);
    else {
      std::fprintf(stderr, "usage: analyzer_bench [--data DIR] [--json] [--iterations-scale X]\n");
      return 2;
    }
  }
  std::vector<Case> cases = {
      {"media_1000", "media_1000.m3u8", Media1000(), 500},
      {"master_50", "master_50.m3u8", Master50(), 1000},
      {"live_mpd", "live_timeline.mpd", LiveMpd(), 60},
  };
  std::filesystem::create_directories(dir);
  for (const auto& c : cases) std::ofstream(dir + "/" + c.file, std::ios::binary) << c.text;
  if (!json) {
    std::printf("%-12s %-20s %9s %10s %12s %9s\n", "case", "file", "bytes", "iterations",
                "median (ms)", "findings");
  } else {
    std::printf("{\"dir\":\"%s\",\"cases\":[", dir.c_str());
  }
  bool first = true;
  for (const auto& c : cases) {
    int iterations = std::max(5, static_cast<int>(c.iterations * scale));
    double ms = MedianMs(c.file, c.text, iterations);
    size_t findings = avtrace::analyzer::AnalyzeBytes(c.file, c.text)[0].findings.size();
    if (json) {
      std::printf("%s{\"name\":\"%s\",\"file\":\"%s\",\"bytes\":%zu,\"iterations\":%d,"
                  "\"median_ms\":%.4f,\"findings\":%zu}",
                  first ? "" : ",", c.name, c.file, c.text.size(), iterations, ms, findings);
    } else {
      std::printf("%-12s %-20s %9zu %10d %12.4f %9zu\n", c.name, c.file, c.text.size(),
                  iterations, ms, findings);
    }
    first = false;
  }
  if (json) std::printf("]}\n");
  return 0;
}
