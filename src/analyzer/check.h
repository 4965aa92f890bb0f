#pragma once
// `avtrace check`: the analyzer's command-line entry point.
//
//   avtrace check <url|file> [--format text|json|sarif] [--fail-on error|warning|info]
//                            [--live-duration 30s] [--allow-private]
//
// RunCheck loads the target (a local file, or an http(s) URL through the SSRF-safe fetcher),
// detects HLS / DASH / ISO-BMFF by content, runs every rule, prints the report to stdout and
// returns the process exit code:
//   0  no finding at or above --fail-on
//   1  at least one finding at or above --fail-on
//   2  usage error or the input could not be read or fetched (message on stderr)
//
// Threads: RunCheck blocks the calling thread; it has no shared state and may run concurrently.
// --allow-private is a CLI-only switch; the server never derives it from a request.

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/finding.h"
#include "core/status.h"

namespace avtrace::analyzer {

inline constexpr std::string_view kAnalyzerVersion = "0.1.0";

enum class OutputFormat { kText, kJson, kSarif };

struct CheckOptions {
  std::string target;  // path or http(s) URL
  OutputFormat format = OutputFormat::kText;
  Level fail_on = Level::kError;
  double live_duration_seconds = 0;  // 0: one snapshot; > 0: reload a live playlist that long
  bool allow_private = false;        // lab use: lift the private-address block of the fetcher
  // Colour for text output: kAuto = when stdout is a TTY and NO_COLOR is unset.
  enum class Color { kAuto, kAlways, kNever } color = Color::kAuto;
};

// Parses the arguments after "check" (e.g. {"live.m3u8", "--format", "json"}). Accepts
// "--flag value" and "--flag=value". Errors: InvalidArgument with a one-line reason.
Result<CheckOptions> ParseCheckArgs(const std::vector<std::string>& args);
// The usage text printed for `avtrace check --help` and after usage errors.
std::string_view CheckUsage();

// Runs the check and prints to stdout / stderr; returns 0, 1 or 2 (see above).
int RunCheck(const CheckOptions& options);
// The same with explicit streams and colour decision, for tests and embedding.
int RunCheck(const CheckOptions& options, std::ostream& out, std::ostream& err);

// Analyzes bytes already in memory; `target` names them in the report. Detects the format.
std::vector<Report> AnalyzeBytes(std::string_view target, std::string_view bytes);

}  // namespace avtrace::analyzer
