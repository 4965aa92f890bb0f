#pragma once
// Whole-playlist HLS rules: the ones that need more than one line to decide (target duration vs
// every segment, LL-HLS hold-backs and part durations, group references, DATERANGE pairing,
// version requirements are in the parser because they are found while reading).
//
// Threads: pure. Errors: findings only.

#include "analyzer/finding.h"
#include "analyzer/hls/playlist.h"

namespace avtrace::analyzer::hls {

void Check(const Playlist& playlist, Findings* out);

}  // namespace avtrace::analyzer::hls
