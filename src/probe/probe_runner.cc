#include "probe/probe_runner.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "analyzer/analyze.h"
#include "analyzer/dash/mpd.h"
#include "analyzer/hls/playlist.h"
#include "analyzer/url.h"
#include "core/log.h"
#include "metrics/registry.h"
#include "otlp/attributes.h"

namespace avtrace::probe {

namespace live = analyzer::live;
namespace fetch = analyzer::fetch;

namespace {

constexpr double kMinInterval = 0.2;   // never reload faster than this
constexpr double kMaxInterval = 10;    // nor slower
constexpr double kRetryNotManifest = 5;

uint64_t Nanos(double seconds) { return static_cast<uint64_t>(std::max(0.0, seconds) * 1e9); }

int LevelIndex(analyzer::Level level) { return static_cast<int>(level); }

// One batch per signal with the probe resource and scope; the helpers below append to it.
class ResultBatch {
 public:
  ResultBatch() {
    std::string res;
    otlp::AttrWriter(&res).String("service.name", "avtrace-probe");
    batch_.resources.push_back(otlp::Resource{List(res, 1), 0, ""});
    otlp::Scope scope;
    scope.name = "avtrace.probe";
    batch_.scopes.push_back(scope);
  }

  otlp::AttrList List(const std::string& encoded, uint32_t count) {
    return otlp::AttrList{batch_.arena.Copy(encoded), count};
  }
  std::string_view Copy(std::string_view s) { return batch_.arena.Copy(s); }

  // Adds one metric with one point per entry of `points` (extra attribute key/value, value).
  struct PointValue {
    std::string_view extra_key, extra_value;
    bool is_int = true;
    int64_t i = 0;
    double d = 0;
  };
  void Metric(std::string_view name, std::string_view unit, std::string_view description,
              bool cumulative, const std::string& base_attrs, uint32_t base_count,
              uint64_t start_ns, uint64_t now_ns, std::initializer_list<PointValue> points) {
    otlp::Metric m;
    m.name = name;
    m.unit = unit;
    m.description = description;
    m.type = cumulative ? otlp::MetricType::kSum : otlp::MetricType::kGauge;
    if (cumulative) {
      m.temporality = otlp::Temporality::kCumulative;
      m.is_monotonic = true;
    }
    batch_.metrics.push_back(m);
    for (const PointValue& v : points) {
      otlp::MetricPoint p;
      p.metric_index = static_cast<uint32_t>(batch_.metrics.size() - 1);
      std::string attrs = base_attrs;
      uint32_t count = base_count;
      if (!v.extra_key.empty()) {
        otlp::AttrWriter(&attrs).String(v.extra_key, v.extra_value);
        ++count;
      }
      p.attributes = List(attrs, count);
      if (cumulative) p.start_time_unix_nano = start_ns;
      p.time_unix_nano = now_ns;
      p.value_kind = v.is_int ? otlp::NumberKind::kInt : otlp::NumberKind::kDouble;
      p.as_int = v.i;
      p.as_double = v.d;
      batch_.points.push_back(std::move(p));
    }
  }

  otlp::Batch& batch() { return batch_; }

 private:
  otlp::Batch batch_;
};

ResultBatch::PointValue Int(int64_t v) { return {{}, {}, true, v, 0}; }
ResultBatch::PointValue Dbl(double v) { return {{}, {}, false, 0, v}; }

}  // namespace

struct ProbeRunner::Counters {
  prometheus::Counter* reloads_ok;
  prometheus::Counter* reloads_failed;
  prometheus::Counter* segments_ok;
  prometheus::Counter* segments_failed;
  prometheus::Counter* findings[3];
  prometheus::Counter* submitted;
  prometheus::Counter* dropped;
  prometheus::Gauge* probes;
  prometheus::Gauge* playlists;
  prometheus::Gauge* lag;
  // Without a registry (tests), counts go to these.
  prometheus::Counter dummy_counter;
  prometheus::Gauge dummy_gauge;

  explicit Counters(metrics::Registry* r) {
    if (!r) {
      reloads_ok = reloads_failed = segments_ok = segments_failed = submitted = dropped =
          &dummy_counter;
      for (auto*& f : findings) f = &dummy_counter;
      probes = playlists = lag = &dummy_gauge;
      return;
    }
    const std::string reloads = "avtrace_probe_reloads_total";
    const std::string reloads_help = "Live probe playlist/MPD reloads by result.";
    reloads_ok = &r->Counter(reloads, reloads_help, {{"result", "ok"}});
    reloads_failed = &r->Counter(reloads, reloads_help, {{"result", "error"}});
    const std::string segs = "avtrace_probe_segment_checks_total";
    const std::string segs_help = "Live probe checks of the newest segment by result.";
    segments_ok = &r->Counter(segs, segs_help, {{"result", "ok"}});
    segments_failed = &r->Counter(segs, segs_help, {{"result", "error"}});
    const char* levels[] = {"info", "warning", "error"};
    for (int i = 0; i < 3; ++i)
      findings[i] = &r->Counter("avtrace_probe_findings_total", "Live probe findings by level.",
                                {{"level", levels[i]}});
    submitted = &r->Counter("avtrace_probe_batches_submitted_total",
                            "Probe result batches accepted by the pipeline.");
    dropped = &r->Counter("avtrace_probe_batches_dropped_total",
                          "Probe result batches the pipeline refused (queue full, shutting down).");
    probes = &r->Gauge("avtrace_probes", "Live probes configured.");
    playlists = &r->Gauge("avtrace_probe_playlists", "Playlists/MPDs the live probes poll.");
    lag = &r->Gauge("avtrace_probe_schedule_lag_seconds",
                    "How late the last reload started (more than a few ms: too few workers).");
  }
};

struct ProbeRunner::Target {
  std::weak_ptr<Probe> probe;
  std::string name;  // the probe's
  bool check_segments = true;
  bool root = false;
  std::unique_ptr<fetch::Fetcher> fetcher;
  live::LiveTracker tracker;
  bool loaded = false;  // first successful load analysed
  uint64_t due = 0;     // clock monotonic nanos
  uint64_t start_unix_nanos = 0;
  double last_metrics_at = -1e18;
  bool last_up = false, last_stale = false;
  uint64_t findings[3] = {0, 0, 0};
  bool removed = false;
  PlaylistStatus status;  // guarded by mu_

  Target(std::string url, std::string role) : tracker(url) {
    status.url = std::move(url);
    status.role = std::move(role);
  }
};

struct ProbeRunner::Probe {
  ProbeSpec spec;
  std::string kind;
  std::vector<std::shared_ptr<Target>> targets;
  std::deque<ProbeFinding> recent;  // newest first
  uint64_t findings[3] = {0, 0, 0};
  bool removed = false;
};

ProbeRunnerOptions ProbeRunnerOptions::FromConfig(const Config& config) {
  ProbeRunnerOptions o;
  o.workers = config.probe_settings.workers;
  o.allow_private = config.probe_settings.allow_private;
  o.timeout_seconds = static_cast<double>(config.probe_settings.timeout_seconds);
  o.metrics_interval_seconds = static_cast<double>(config.probe_settings.metrics_interval_seconds);
  o.max_probes = config.probe_settings.max_probes;
  o.state_path = config.data_dir + "/probes.yaml";
  return o;
}

ProbeRunner::ProbeRunner(ProbeRunnerOptions options, SubmitFn submit, metrics::Registry* registry,
                         const Clock* clock)
    : options_(std::move(options)),
      submit_(std::move(submit)),
      clock_(clock),
      counters_(std::make_unique<Counters>(registry)) {
  if (!options_.fetcher_factory) {
    fetch::FetchOptions fo;
    fo.allow_private = options_.allow_private;
    fo.total_timeout_seconds = options_.timeout_seconds;
    fo.connect_timeout_seconds = std::min(5.0, options_.timeout_seconds);
    fo.user_agent = "avtrace-probe";
    fo.cancel = &cancel_;
    options_.fetcher_factory = [fo] { return std::make_unique<fetch::CurlFetcher>(fo); };
  }
}

ProbeRunner::~ProbeRunner() { Stop(); }

Status ProbeRunner::Start(const std::vector<Config::Probe>& config_probes) {
  std::lock_guard lock(mu_);
  for (const auto& p : config_probes) {
    Status s = AddLocked(ProbeSpec{p.name, p.url, p.max_playlists, p.check_segments, true});
    if (!s.ok()) return s.WithContext("probes[" + p.name + "]");
  }
  if (!options_.state_path.empty() && std::filesystem::exists(options_.state_path)) {
    auto saved = LoadConfig(options_.state_path);
    if (!saved.ok()) {
      log::Warn("Ignoring the saved API probes.", {{"error", saved.status().ToString()}});
    } else {
      for (const auto& p : saved->probes) {
        Status s = AddLocked(ProbeSpec{p.name, p.url, p.max_playlists, p.check_segments, false});
        if (!s.ok()) log::Warn("Skipping a saved API probe.", {{"name", p.name}, {"error", s.ToString()}});
      }
    }
  }
  for (uint32_t i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  return Status::Ok();
}

Status ProbeRunner::Add(ProbeSpec spec) {
  spec.from_config = false;
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(AddLocked(std::move(spec)));
  Persist();
  return Status::Ok();
}

Status ProbeRunner::AddLocked(ProbeSpec spec) {
  if (stopping_) return Unavailable("the server is shutting down");
  if (!IsValidProbeName(spec.name))
    return InvalidArgument("name: expected 1..64 characters of [A-Za-z0-9._-], got '" + spec.name + "'");
  if (!analyzer::IsHttpUrl(spec.url))
    return InvalidArgument("url: expected an http:// or https:// URL, got '" + spec.url + "'");
  if (spec.max_playlists == 0 || spec.max_playlists > 64)
    return InvalidArgument("max_playlists: expected 1..64");
  for (const auto& p : probes_)
    if (p->spec.name == spec.name)
      return FailedPrecondition("a probe named '" + spec.name + "' already exists");
  if (probes_.size() >= options_.max_probes)
    return FailedPrecondition("the probe limit is reached (probe_settings.max_probes = " +
                              std::to_string(options_.max_probes) + ")");
  auto probe = std::make_shared<Probe>();
  probe->spec = std::move(spec);
  auto target = std::make_shared<Target>(probe->spec.url, "playlist");
  target->probe = probe;
  target->name = probe->spec.name;
  target->check_segments = probe->spec.check_segments;
  target->root = true;
  target->fetcher = options_.fetcher_factory();
  target->start_unix_nanos = clock_->NowUnixNanos();
  probe->targets.push_back(target);
  probes_.push_back(probe);
  counters_->probes->Set(static_cast<double>(probes_.size()));
  counters_->playlists->Increment();
  target->due = clock_->MonotonicNanos();
  heap_.push_back(target);
  std::push_heap(heap_.begin(), heap_.end(), [](const auto& a, const auto& b) { return a->due > b->due; });
  cv_.notify_one();
  return Status::Ok();
}

Status ProbeRunner::Remove(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(probes_.begin(), probes_.end(),
                         [&](const auto& p) { return p->spec.name == name; });
  if (it == probes_.end()) return NotFound("no probe named '" + name + "'");
  if ((*it)->spec.from_config)
    return FailedPrecondition("the probe '" + name + "' comes from the config file; remove it there");
  (*it)->removed = true;
  for (auto& t : (*it)->targets) t->removed = true;
  counters_->playlists->Decrement(static_cast<double>((*it)->targets.size()));
  probes_.erase(it);
  counters_->probes->Set(static_cast<double>(probes_.size()));
  std::erase_if(heap_, [](const auto& t) { return t->removed; });
  std::make_heap(heap_.begin(), heap_.end(), [](const auto& a, const auto& b) { return a->due > b->due; });
  Persist();
  return Status::Ok();
}

void ProbeRunner::Persist() {
  if (options_.state_path.empty()) return;
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "probes" << YAML::Value << YAML::BeginSeq;
  for (const auto& p : probes_) {
    if (p->spec.from_config) continue;
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << p->spec.name;
    out << YAML::Key << "url" << YAML::Value << YAML::DoubleQuoted << p->spec.url;
    out << YAML::Key << "max_playlists" << YAML::Value << p->spec.max_playlists;
    out << YAML::Key << "check_segments" << YAML::Value << p->spec.check_segments;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  const std::string tmp = options_.state_path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << "# Probes added through /api/v1/probes (written by avtrace; edit with the API).\n"
      << out.c_str() << "\n";
    if (!f.flush()) {
      log::Warn("Cannot save the API probes.", {{"path", tmp}});
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, options_.state_path, ec);
  if (ec) log::Warn("Cannot save the API probes.", {{"path", options_.state_path}, {"error", ec.message()}});
}

void ProbeRunner::Schedule(const std::shared_ptr<Target>& target, double delay_seconds) {
  target->due = clock_->MonotonicNanos() + Nanos(delay_seconds);
  heap_.push_back(target);
  std::push_heap(heap_.begin(), heap_.end(), [](const auto& a, const auto& b) { return a->due > b->due; });
  cv_.notify_one();
}

std::shared_ptr<ProbeRunner::Target> ProbeRunner::PopDue(bool wait) {
  std::unique_lock lock(mu_);
  auto later = [](const auto& a, const auto& b) { return a->due > b->due; };
  while (!stopping_) {
    if (!heap_.empty()) {
      const uint64_t now = clock_->MonotonicNanos();
      if (heap_.front()->due <= now) {
        counters_->lag->Set(static_cast<double>(now - heap_.front()->due) / 1e9);
        std::pop_heap(heap_.begin(), heap_.end(), later);
        auto t = std::move(heap_.back());
        heap_.pop_back();
        return t;
      }
      if (!wait) return nullptr;
      cv_.wait_for(lock, std::chrono::nanoseconds(heap_.front()->due - now));
    } else {
      if (!wait) return nullptr;
      cv_.wait(lock);
    }
  }
  return nullptr;
}

void ProbeRunner::WorkerLoop() {
  while (auto t = PopDue(true)) Step(t);
}

void ProbeRunner::RunDue() {
  while (auto t = PopDue(false)) Step(t);
}

void ProbeRunner::Step(const std::shared_ptr<Target>& t) {
  const uint64_t now_ns = clock_->NowUnixNanos();
  const double now = static_cast<double>(now_ns) / 1e9;
  std::vector<analyzer::Finding> findings;
  std::vector<std::shared_ptr<Target>> children;
  std::string kind;

  const std::string url = t->tracker.NextUrl();
  auto resp = t->fetcher->Fetch(url, fetch::FetchKind::kManifest);
  Status failure = resp.ok() ? Status::Ok() : resp.status();
  const bool hls = resp.ok() && analyzer::hls::LooksLikeHls(resp->body);
  const bool dash = resp.ok() && !hls && analyzer::dash::LooksLikeMpd(resp->body);
  if (resp.ok() && !hls && !dash)
    failure = InvalidArgument("the response (" + resp->content_type +
                              ") is neither an HLS playlist nor a DASH MPD");

  bool multivariant = false;
  if (failure.ok() && !t->loaded) {
    // First load: the full static rule set once, and the Multivariant fan-out.
    t->loaded = true;
    analyzer::Report report;
    if (hls) {
      analyzer::hls::Playlist model;
      report = analyzer::AnalyzeHlsText(resp->url, resp->body, &model);
      if (model.kind == analyzer::hls::PlaylistKind::kMultivariant) {
        multivariant = true;
        std::shared_ptr<Probe> probe = t->probe.lock();
        const size_t limit = probe ? probe->spec.max_playlists : 0;
        std::vector<std::pair<std::string, std::string>> urls;  // url, role
        auto want = [&](std::string_view uri, const char* role) {
          if (uri.empty() || urls.size() >= limit) return;
          std::string u = analyzer::ResolveUrl(resp->url, uri);
          for (const auto& [have, r] : urls)
            if (have == u) return;
          urls.emplace_back(u, role);
        };
        for (const auto& v : model.multivariant.variants)
          if (!v.iframe) want(v.uri, "variant");
        for (const auto& r : model.multivariant.renditions) want(r.uri, "rendition");
        for (const auto& [u, role] : urls) {
          auto c = std::make_shared<Target>(u, role);
          c->probe = t->probe;
          c->name = t->name;
          c->check_segments = t->check_segments;
          c->fetcher = options_.fetcher_factory();
          c->start_unix_nanos = now_ns;
          children.push_back(std::move(c));
        }
      }
      if (t->root) kind = multivariant ? "hls-multivariant" : "hls-media";
    } else {
      report = analyzer::AnalyzeDashText(resp->url, resp->url, resp->body, now, nullptr);
      if (t->root) kind = "dash";
    }
    for (auto& f : report.findings) findings.push_back(std::move(f));
  }

  double delay = kRetryNotManifest;
  if (!multivariant) {
    delay = failure.ok() ? t->tracker.Observe(resp->body, now, resp->seconds)
                         : t->tracker.ObserveFailure(failure, now);
    const std::string segment = t->tracker.new_segment_url();
    if (t->check_segments && !segment.empty()) {
      auto got = analyzer::live::FetchForLive(*t->fetcher, segment, fetch::FetchKind::kSegment);
      t->tracker.ObserveSegment(segment, got.status());
      (got.ok() ? counters_->segments_ok : counters_->segments_failed)->Increment();
    }
    for (auto& f : t->tracker.TakeFindings()) findings.push_back(std::move(f));
  }
  (failure.ok() ? counters_->reloads_ok : counters_->reloads_failed)->Increment();
  const live::LiveSnapshot snap = t->tracker.Snapshot(now);

  // Results into the pipeline: the findings as logs, the state as metrics.
  std::string attrs;
  otlp::AttrWriter aw(&attrs);
  aw.String("probe.name", t->name);
  aw.String("probe.playlist", t->status.url);
  const uint32_t attr_count = 2;
  if (!findings.empty()) {
    ResultBatch logs;
    for (const auto& f : findings) {
      const analyzer::Rule& rule = f.info();
      otlp::LogRecord rec;
      rec.time_unix_nano = rec.observed_time_unix_nano = now_ns;
      static constexpr int32_t kSeverity[] = {9, 13, 17};
      static constexpr std::string_view kSeverityText[] = {"INFO", "WARN", "ERROR"};
      rec.severity_number = kSeverity[LevelIndex(rule.level)];
      rec.severity_text = kSeverityText[LevelIndex(rule.level)];
      rec.body = logs.Copy(otlp::EncodeStringValue(f.message));
      rec.event_name = "avtrace.probe.finding";
      std::string a = attrs;
      otlp::AttrWriter w(&a);
      w.String("rule.id", rule.id);
      w.String("rule.level", analyzer::LevelName(rule.level));
      w.String("rule.spec", rule.spec_ref);
      uint32_t n = attr_count + 3;
      if (!f.location.empty()) {
        w.String("finding.location", f.location);
        ++n;
      }
      if (f.line > 0) {
        w.Int("finding.line", f.line);
        ++n;
      }
      rec.attributes = logs.List(a, n);
      logs.batch().logs.push_back(rec);
      ++t->findings[LevelIndex(rule.level)];
      counters_->findings[LevelIndex(rule.level)]->Increment();
    }
    logs.batch().received_unix_nanos = now_ns;
    (submit_(std::move(logs.batch()), otlp::Signal::kLogs).ok() ? counters_->submitted
                                                                 : counters_->dropped)
        ->Increment();
  }
  const bool up = failure.ok();
  if (!multivariant && (now - t->last_metrics_at >= options_.metrics_interval_seconds ||
                        up != t->last_up || snap.stale != t->last_stale)) {
    t->last_metrics_at = now;
    t->last_up = up;
    t->last_stale = snap.stale;
    ResultBatch m;
    const uint64_t start = t->start_unix_nanos;
    m.Metric("avtrace.probe.up", "1", "1 when the last reload succeeded", false, attrs, attr_count,
             start, now_ns, {Int(up ? 1 : 0)});
    m.Metric("avtrace.probe.stale", "1", "1 while no new segment for longer than the limit", false,
             attrs, attr_count, start, now_ns, {Int(snap.stale ? 1 : 0)});
    m.Metric("avtrace.probe.playlist.age", "s", "Seconds since a new segment appeared", false,
             attrs, attr_count, start, now_ns, {Dbl(snap.seconds_since_new_segment)});
    if (snap.latency_seconds)
      m.Metric("avtrace.probe.latency", "s", "Wall clock minus the end of the newest segment",
               false, attrs, attr_count, start, now_ns, {Dbl(*snap.latency_seconds)});
    if (snap.media_sequence)
      m.Metric("avtrace.probe.media_sequence", "1", "EXT-X-MEDIA-SEQUENCE of the last reload",
               false, attrs, attr_count, start, now_ns,
               {Int(static_cast<int64_t>(*snap.media_sequence))});
    if (resp.ok())
      m.Metric("avtrace.probe.reload.duration", "s", "Duration of the last reload", false, attrs,
               attr_count, start, now_ns, {Dbl(resp->seconds)});
    m.Metric("avtrace.probe.reloads", "1", "Reloads", true, attrs, attr_count, start, now_ns,
             {Int(static_cast<int64_t>(snap.reloads))});
    m.Metric("avtrace.probe.reload.failures", "1", "Failed reloads", true, attrs, attr_count,
             start, now_ns, {Int(static_cast<int64_t>(snap.failures))});
    m.Metric("avtrace.probe.segments.new", "1", "New segments seen", true, attrs, attr_count, start,
             now_ns, {Int(static_cast<int64_t>(snap.new_segments))});
    m.Metric("avtrace.probe.segment.failures", "1", "Newest segments that could not be fetched",
             true, attrs, attr_count, start, now_ns,
             {Int(static_cast<int64_t>(snap.segment_failures))});
    m.Metric("avtrace.probe.findings", "1", "Findings by level", true, attrs, attr_count, start,
             now_ns,
             {{"level", "info", true, static_cast<int64_t>(t->findings[0]), 0},
              {"level", "warning", true, static_cast<int64_t>(t->findings[1]), 0},
              {"level", "error", true, static_cast<int64_t>(t->findings[2]), 0}});
    m.batch().received_unix_nanos = now_ns;
    (submit_(std::move(m.batch()), otlp::Signal::kMetrics).ok() ? counters_->submitted
                                                               : counters_->dropped)
        ->Increment();
  }

  std::lock_guard lock(mu_);
  t->status.live = snap;
  t->status.last_reload_unix_nanos = now_ns;
  t->status.last_fetch_seconds = resp.ok() ? resp->seconds : 0;
  t->status.last_error = failure.ok() ? std::string() : failure.message();
  std::shared_ptr<Probe> probe = t->probe.lock();
  if (probe) {
    if (!kind.empty()) probe->kind = kind;
    for (const auto& f : findings) {
      const analyzer::Rule& rule = f.info();
      ++probe->findings[LevelIndex(rule.level)];
      probe->recent.push_front(ProbeFinding{now_ns, t->status.url, std::string(rule.id),
                                            std::string(analyzer::LevelName(rule.level)),
                                            std::string(rule.spec_ref), f.message, f.location,
                                            f.line});
      if (probe->recent.size() > kRecentFindings) probe->recent.pop_back();
    }
    if (!probe->removed && !stopping_) {
      for (auto& c : children) {
        probe->targets.push_back(c);
        counters_->playlists->Increment();
        Schedule(c, 0);
      }
    }
  }
  if (t->removed || stopping_ || !probe || probe->removed) return;
  if (multivariant) return;  // the variants carry on; the Multivariant Playlist was read once
  if (t->tracker.done() && failure.ok()) return;  // ended (ENDLIST, static MPD)
  Schedule(t, std::clamp(delay, kMinInterval, kMaxInterval));
}

ProbeStatus ProbeRunner::StatusOf(const Probe& p) const {
  ProbeStatus s;
  s.spec = p.spec;
  s.kind = p.kind;
  s.findings_info = p.findings[0];
  s.findings_warning = p.findings[1];
  s.findings_error = p.findings[2];
  s.recent_findings.assign(p.recent.begin(), p.recent.end());
  bool any_loaded = false, any_failing = false, any_stale = false, all_ended = true;
  for (const auto& t : p.targets) {
    s.playlists.push_back(t->status);
    const PlaylistStatus& ps = t->status;
    if (t->root && p.kind == "hls-multivariant") continue;
    if (ps.last_reload_unix_nanos) any_loaded = true;
    if (!ps.last_error.empty()) any_failing = true;
    if (ps.live.stale) any_stale = true;
    if (!ps.live.ended) all_ended = false;
  }
  if (any_failing) s.state = "failing";
  else if (!any_loaded) s.state = "starting";
  else if (any_stale) s.state = "stale";
  else if (all_ended) s.state = "ended";
  else s.state = "ok";
  return s;
}

std::vector<ProbeStatus> ProbeRunner::List() const {
  std::lock_guard lock(mu_);
  std::vector<ProbeStatus> out;
  for (const auto& p : probes_) out.push_back(StatusOf(*p));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.spec.name < b.spec.name; });
  return out;
}

Result<ProbeStatus> ProbeRunner::Get(const std::string& name) const {
  std::lock_guard lock(mu_);
  for (const auto& p : probes_)
    if (p->spec.name == name) return StatusOf(*p);
  return NotFound("no probe named '" + name + "'");
}

void ProbeRunner::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cancel_.store(true);
  cv_.notify_all();
  for (auto& w : workers_)
    if (w.joinable()) w.join();
  workers_.clear();
}

}  // namespace avtrace::probe
