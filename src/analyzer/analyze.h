#pragma once
// The per-document analyses behind AnalyzeBytes(), with the parsed model handed back, for the
// crawler and the live monitor (which need both the report and the model, and a wall clock).
//
// Threads: pure functions. Errors: findings in the returned Report; never fails.

#include <optional>
#include <string_view>

#include "analyzer/dash/mpd.h"
#include "analyzer/finding.h"
#include "analyzer/hls/playlist.h"

namespace avtrace::analyzer {

// hls::Analyze plus the summary facts. `model` may be null.
Report AnalyzeHlsText(std::string_view target, std::string_view text, hls::Playlist* model);
// dash::Parse + dash::Check. `base_url` resolves relative references (the MPD's final URL);
// `now` (Unix seconds) drives the live-edge rules, publishTime when absent. `model` may be null.
Report AnalyzeDashText(std::string_view target, std::string_view base_url, std::string_view text,
                       std::optional<double> now, dash::Mpd* model);

}  // namespace avtrace::analyzer
