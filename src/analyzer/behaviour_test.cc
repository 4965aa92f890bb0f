// Runs the behaviour table test/data/analyzer/behaviour.tsv: each input file against the exact
// multiset of findings (rule@line) it must produce, and checks that every rule of the catalogue
// is exercised by at least one row.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "analyzer/check.h"
#include "analyzer/finding.h"

namespace avtrace::analyzer {
namespace {

const std::string kDataDir = std::string(AVTRACE_SOURCE_DIR) + "/test/data/analyzer/";

struct Row {
  std::string file;
  std::vector<std::string> expected;
  int table_line = 0;
};

std::vector<Row> LoadTable() {
  std::ifstream in(kDataDir + "behaviour.tsv");
  std::vector<Row> rows;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    Row r;
    r.table_line = n;
    ls >> r.file;
    std::string tok;
    while (ls >> tok)
      if (tok != "-") r.expected.push_back(tok);
    std::sort(r.expected.begin(), r.expected.end());
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
  return s.empty() ? "-" : s;
}

TEST(Behaviour, EveryRowProducesExactlyItsFindings) {
  auto rows = LoadTable();
  ASSERT_GT(rows.size(), 50u);
  for (const auto& row : rows) {
    SCOPED_TRACE("behaviour.tsv:" + std::to_string(row.table_line) + " " + row.file);
    std::ifstream probe(kDataDir + row.file);
    ASSERT_TRUE(probe.good()) << "missing corpus file";
    std::string bytes = ReadAll(kDataDir + row.file);
    std::vector<std::string> got;
    std::string detail;
    for (const auto& report : AnalyzeBytes(row.file, bytes))
      for (const auto& f : report.findings) {
        got.push_back(std::string(f.info().id) + "@" + std::to_string(f.line));
        detail += "\n  " + got.back() + ": " + f.message;
      }
    std::sort(got.begin(), got.end());
    EXPECT_EQ(Join(got), Join(row.expected)) << detail;
  }
}

// Rules exercised by tests that generate their inputs at run time rather than by table rows.
// cmaf/box_test.cc builds these byte by byte (and runs real ffmpeg output through the rest); the
// crawl and live rules need a server and time, so their tests live beside that code.
const std::set<std::string> kCoveredElsewhere = {
    "mp4_box_size_invalid",    "mp4_init_missing_ftyp",      "mp4_init_not_fragmented",
    "mp4_trex_missing",        "mp4_media_missing_moof",     "mp4_media_missing_mdat",
    "mp4_traf_missing_tfhd",   "mp4_tfdt_missing",           "mp4_trun_data_out_of_range",
    "mp4_track_unknown",       "mp4_sequence_not_increasing", "mp4_tfdt_discontinuity",
    "cmaf_brand_absent",
    // crawl/crawl_test.cc (local server, synthetic site and real ffmpeg output)
    "fetch_content_type_tolerated", "crawl_fetch_failed", "crawl_variant_not_media_playlist",
    "variant_bandwidth_exceeded", "variant_average_bandwidth_mismatch",
    "variant_codecs_mismatch_media", "variant_codecs_inconsistent",
    "variant_target_duration_mismatch", "variant_segments_misaligned",
    "variant_discontinuity_sequence_mismatch", "dash_segment_duration_mismatch",
    "dash_codecs_mismatch_media", "dash_bandwidth_exceeded", "dash_bandwidth_overstated",
    // live/live_monitor_test.cc (scripted reloads, fake clock, real ffmpeg live HLS)
    "live_playlist_stale", "live_media_sequence_regressed", "live_segment_changed",
    "live_segment_vanished", "live_segment_reappeared", "live_discontinuity_sequence_inconsistent",
    "live_publish_time_regressed", "live_reload_failed", "live_stream_ended",
    "live_segment_unavailable", "live_unexpected_discontinuity", "live_blocking_reload_unsatisfied",
    "live_blocking_reload_slow"};

TEST(Behaviour, EveryRuleHasACase) {
  std::set<std::string> seen;
  for (const auto& row : LoadTable())
    for (const auto& e : row.expected) seen.insert(e.substr(0, e.find('@')));
  std::vector<std::string> missing;
  for (const auto& rule : AllRules()) {
    std::string id(rule.id);
    if (!seen.count(id) && !kCoveredElsewhere.count(id)) missing.push_back(id);
  }
  EXPECT_TRUE(missing.empty()) << "rules without a behaviour case: " << Join(missing);
  for (const auto& id : seen) EXPECT_NE(FindRule(id), nullptr) << "table names unknown rule " << id;
}

}  // namespace
}  // namespace avtrace::analyzer
