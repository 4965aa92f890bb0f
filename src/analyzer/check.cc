#include "analyzer/check.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <thread>

#include "analyzer/analyze.h"
#include "analyzer/cmaf/box.h"
#include "analyzer/crawl/crawl.h"
#include "analyzer/dash/mpd.h"
#include "analyzer/fetch/fetcher.h"
#include "analyzer/hls/playlist.h"
#include "analyzer/report/render.h"
#include "analyzer/live/live_monitor.h"
#include "analyzer/text.h"
#include "analyzer/url.h"
#include "core/clock.h"

namespace avtrace::analyzer {
namespace {

// Largest local file read; matches the fetcher's manifest/segment ceiling.
constexpr size_t kMaxInputBytes = 64u << 20;

bool ParseDurationArg(std::string_view s, double* out) {
  double mult = 1;
  if (EndsWith(s, "ms")) {
    mult = 0.001;
    s.remove_suffix(2);
  } else if (EndsWith(s, "s")) {
    s.remove_suffix(1);
  } else if (EndsWith(s, "m")) {
    mult = 60;
    s.remove_suffix(1);
  } else if (EndsWith(s, "h")) {
    mult = 3600;
    s.remove_suffix(1);
  }
  double v;
  if (!ParseDecimalFloat(s, &v)) return false;
  *out = v * mult;
  return true;
}

}  // namespace

Report AnalyzeHlsText(std::string_view target, std::string_view text, hls::Playlist* model) {
  Report r;
  r.target = std::string(target);
  r.facts.reserve(8);  // at most 8 below: no regrowth
  Findings f;
  hls::Playlist p = hls::Analyze(text, &f);
  switch (p.kind) {
    case hls::PlaylistKind::kMultivariant: {
      r.kind = "hls-multivariant";
      r.AddNumber("version", static_cast<double>(p.version));
      r.AddNumber("variants", static_cast<double>(p.multivariant.StreamCount()));
      r.AddNumber("iframe_variants",
                  static_cast<double>(p.multivariant.variants.size() - p.multivariant.StreamCount()));
      r.AddNumber("renditions", static_cast<double>(p.multivariant.renditions.size()));
      break;
    }
    case hls::PlaylistKind::kMedia: {
      const hls::MediaPlaylist& m = p.media;
      r.kind = "hls-media";
      r.AddNumber("version", static_cast<double>(p.version));
      if (m.target_duration) r.AddNumber("target_duration", static_cast<double>(*m.target_duration));
      r.AddNumber("media_sequence", static_cast<double>(m.media_sequence));
      r.AddNumber("segments", static_cast<double>(m.segments.size()));
      r.AddNumber("duration", m.TotalDuration());
      r.AddBool("live", m.live());
      if (m.part_target) r.AddNumber("part_target", *m.part_target);
      if (m.live()) {
        // Where a client starts behind the live edge (§6.3.3): PART-HOLD-BACK for low-latency
        // clients, else HOLD-BACK, else three target durations.
        double latency = 0;
        if (m.part_target && m.server_control.part_hold_back) latency = *m.server_control.part_hold_back;
        else if (m.server_control.hold_back) latency = *m.server_control.hold_back;
        else if (m.target_duration) latency = 3.0 * static_cast<double>(*m.target_duration);
        r.AddNumber("live_latency_estimate", latency);
      }
      break;
    }
    case hls::PlaylistKind::kUnknown:
      r.kind = "hls-unknown";
      break;
  }
  r.findings = f.Take();
  SortFindings(&r.findings);
  if (model != nullptr) *model = std::move(p);
  return r;
}

Report AnalyzeDashText(std::string_view target, std::string_view base_url, std::string_view text,
                       std::optional<double> reference_time, dash::Mpd* model) {
  Report r;
  r.target = std::string(target);
  r.kind = "dash";
  Findings f;
  dash::Mpd mpd = dash::Parse(text, base_url, &f);
  // A file has no "now": judge a live MPD at the moment it says it was published.
  if (!reference_time) reference_time = mpd.publish_time;
  dash::Check(mpd, reference_time, &f);
  if (mpd.parsed) {
    r.AddFact("type", mpd.type);
    size_t sets = 0, reps = 0;
    for (const auto& p : mpd.periods) {
      sets += p.adaptation_sets.size();
      for (const auto& as : p.adaptation_sets) reps += as.representations.size();
    }
    r.AddNumber("periods", static_cast<double>(mpd.periods.size()));
    r.AddNumber("adaptation_sets", static_cast<double>(sets));
    r.AddNumber("representations", static_cast<double>(reps));
    if (mpd.dynamic && reference_time && !mpd.periods.empty()) {
      const dash::Period& p = mpd.periods.back();
      if (!p.adaptation_sets.empty() && !p.adaptation_sets[0].representations.empty()) {
        const dash::Representation& rep = p.adaptation_sets[0].representations[0];
        if (auto edge = dash::LiveEdge(mpd, p, rep, *reference_time)) {
          r.AddFact("live_edge_representation", rep.id);
          r.AddNumber("live_edge_number", static_cast<double>(edge->number));
          r.AddFact("live_edge_url", edge->url);
        }
      }
    }
  }
  r.findings = f.Take();
  SortFindings(&r.findings);
  if (model != nullptr) *model = std::move(mpd);
  return r;
}

namespace {

// A single ISO-BMFF file: an init segment (moov), a media segment (moof) or both in one file.
Report AnalyzeMp4(std::string_view target, std::string_view bytes) {
  Report r;
  r.target = std::string(target);
  Findings f;
  bool has_moov = false, has_moof = false;
  {
    Findings scratch;  // box walk only, to decide what the file is
    cmaf::InitSegment probe = cmaf::ParseInit(bytes, &scratch);
    for (const auto& b : probe.boxes) {
      has_moov |= b.type == "moov";
      has_moof |= b.type == "moof";
    }
  }
  if (has_moov || !has_moof) {
    cmaf::InitSegment init = cmaf::ParseInit(bytes, &f);
    r.kind = has_moof ? "mp4-fragmented" : "mp4-init";
    std::string brands;
    for (const auto& b : init.brands) brands += (brands.empty() ? "" : ",") + b;
    r.AddFact("brands", brands);
    r.AddNumber("tracks", static_cast<double>(init.tracks.size()));
    r.AddBool("fragmented", init.fragmented);
    if (has_moof) {
      Findings media;  // the box walk repeats; keep only findings the init pass cannot make
      cmaf::MediaSegment m = cmaf::ParseMedia(bytes, &init, &media);
      for (auto& x : media.Take())
        if (x.rule != RuleId::kMp4BoxSizeInvalid) f.Add(x.rule, x.line, x.message, x.location);
      cmaf::CheckSequence({m}, {std::string(target)}, &f);
      r.AddNumber("fragments", static_cast<double>(m.sequence_numbers.size()));
    }
  } else {
    r.kind = "mp4-media";
    cmaf::MediaSegment m = cmaf::ParseMedia(bytes, nullptr, &f);
    r.AddNumber("fragments", static_cast<double>(m.sequence_numbers.size()));
    if (!m.fragments.empty() && m.fragments[0].base_decode_time)
      r.AddNumber("first_tfdt", static_cast<double>(*m.fragments[0].base_decode_time));
  }
  r.findings = f.Take();
  SortFindings(&r.findings);
  return r;
}

bool ReadFile(const std::string& path, std::string* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot open " + path;
    return false;
  }
  in.seekg(0, std::ios::end);
  auto size = in.tellg();
  if (size < 0) {
    *error = "cannot read " + path;
    return false;
  }
  if (static_cast<size_t>(size) > kMaxInputBytes) {
    *error = path + " is larger than " + std::to_string(kMaxInputBytes) + " bytes";
    return false;
  }
  in.seekg(0);
  out->resize(static_cast<size_t>(size));
  in.read(out->data(), size);
  if (!in) {
    *error = "cannot read " + path;
    return false;
  }
  return true;
}

}  // namespace

std::string_view CheckUsage() {
  return "usage: avtrace check <url|file> [--format text|json|sarif] [--fail-on error|warning|info]\n"
         "                    [--live-duration 30s] [--allow-private] [--color auto|always|never]\n"
         "Checks an HLS playlist, DASH MPD or fragmented MP4 segment against RFC 8216bis,\n"
         "ISO/IEC 23009-1 and ISO/IEC 23000-19. Exit 0: ok, 1: findings at or above --fail-on,\n"
         "2: usage or I/O error. Rules: docs/ANALYZER.md.\n";
}

Result<CheckOptions> ParseCheckArgs(const std::vector<std::string>& args) {
  CheckOptions o;
  bool have_target = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    std::string value;
    bool has_inline = false;
    if (StartsWith(a, "--")) {
      size_t eq = a.find('=');
      if (eq != std::string_view::npos) {
        value = std::string(a.substr(eq + 1));
        a = a.substr(0, eq);
        has_inline = true;
      }
    }
    auto next = [&](std::string* v) -> Status {
      if (has_inline) {
        *v = value;
        return Status::Ok();
      }
      if (i + 1 >= args.size()) return InvalidArgument(std::string(a) + " needs a value");
      *v = args[++i];
      return Status::Ok();
    };
    std::string v;
    if (a == "--format") {
      RETURN_IF_ERROR(next(&v));
      if (v == "text") o.format = OutputFormat::kText;
      else if (v == "json") o.format = OutputFormat::kJson;
      else if (v == "sarif") o.format = OutputFormat::kSarif;
      else return InvalidArgument("--format must be text, json or sarif, not '" + v + "'");
    } else if (a == "--fail-on") {
      RETURN_IF_ERROR(next(&v));
      if (!ParseLevel(v, &o.fail_on))
        return InvalidArgument("--fail-on must be error, warning or info, not '" + v + "'");
    } else if (a == "--live-duration") {
      RETURN_IF_ERROR(next(&v));
      if (!ParseDurationArg(v, &o.live_duration_seconds) || o.live_duration_seconds > 24 * 3600)
        return InvalidArgument("--live-duration must be a duration like 30s, 2m or 1h");
    } else if (a == "--allow-private") {
      if (has_inline) return InvalidArgument("--allow-private takes no value");
      o.allow_private = true;
    } else if (a == "--color") {
      RETURN_IF_ERROR(next(&v));
      if (v == "auto") o.color = CheckOptions::Color::kAuto;
      else if (v == "always") o.color = CheckOptions::Color::kAlways;
      else if (v == "never") o.color = CheckOptions::Color::kNever;
      else return InvalidArgument("--color must be auto, always or never");
    } else if (StartsWith(a, "-") && a != "-") {
      return InvalidArgument("unknown option " + std::string(a));
    } else {
      if (have_target) return InvalidArgument("only one target may be checked, got a second: " + std::string(a));
      o.target = std::string(a);
      have_target = true;
    }
  }
  if (!have_target) return InvalidArgument("missing <url|file>");
  return o;
}

std::vector<Report> AnalyzeBytes(std::string_view target, std::string_view bytes) {
  std::vector<Report> reports;  // filled in place: a braced list would copy the Report
  if (hls::LooksLikeHls(bytes)) {
    reports.push_back(AnalyzeHlsText(target, bytes, nullptr));
    return reports;
  }
  if (dash::LooksLikeMpd(bytes)) return {AnalyzeDashText(target, target, bytes, std::nullopt, nullptr)};
  if (cmaf::LooksLikeMp4(bytes)) return {AnalyzeMp4(target, bytes)};
  Report r;
  r.target = std::string(target);
  r.kind = "unknown";
  r.findings.push_back(Finding{RuleId::kManifestNotSupported, 0,
                               "The input is not an HLS playlist, a DASH MPD or an ISO-BMFF file.",
                               {}});
  return {r};
}

int RunCheck(const CheckOptions& options, std::ostream& out, std::ostream& err) {
  if (options.target.empty()) {
    err << "avtrace check: missing <url|file>\n" << CheckUsage();
    return 2;
  }
  std::vector<Report> reports;
  if (IsHttpUrl(options.target)) {
    fetch::FetchOptions fo;
    fo.allow_private = options.allow_private;
    fetch::CurlFetcher fetcher(fo);
    SystemClock& clock = SystemClock::Instance();
    auto crawled = crawl::Crawl(options.target, fetcher,
                                static_cast<double>(clock.NowUnixNanos()) / 1e9);
    if (!crawled.ok()) {
      err << "avtrace check: " << crawled.status().message() << "\n";
      return 2;
    }
    reports = std::move(crawled).value();
    if (options.live_duration_seconds > 0) {
      // A Multivariant Playlist is monitored through its first variant (the first child report).
      std::string live_url = options.target;
      if (reports[0].kind == "hls-multivariant" && reports.size() > 1) live_url = reports[1].target;
      live::LiveOptions lo;
      lo.duration_seconds = options.live_duration_seconds;
      live::LiveMonitor monitor(
          lo, [&](const std::string& u, fetch::FetchKind kind) { return live::FetchForLive(fetcher, u, kind); },
          clock, [](double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); });
      reports.push_back(monitor.Run(live_url));
    }
  } else {
    if (options.live_duration_seconds > 0) {
      err << "avtrace check: --live-duration needs an http(s) URL, not a file\n";
      return 2;
    }
    std::string bytes, error;
    if (!ReadFile(options.target, &bytes, &error)) {
      err << "avtrace check: " << error << "\n";
      return 2;
    }
    reports = AnalyzeBytes(options.target, bytes);
  }
  bool color = options.color == CheckOptions::Color::kAlways;
  if (options.color == CheckOptions::Color::kAuto && &out == &std::cout)
    color = isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
  switch (options.format) {
    case OutputFormat::kText: out << report::RenderText(reports, color); break;
    case OutputFormat::kJson: out << report::RenderJson(reports, kAnalyzerVersion); break;
    case OutputFormat::kSarif: out << report::RenderSarif(reports, kAnalyzerVersion); break;
  }
  out.flush();
  for (const auto& r : reports)
    if (r.AnyAtOrAbove(options.fail_on)) return 1;
  return 0;
}

int RunCheck(const CheckOptions& options) { return RunCheck(options, std::cout, std::cerr); }

}  // namespace avtrace::analyzer
