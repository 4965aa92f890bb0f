// sqlite_store_bench: SqliteStore throughput and read latency, in process (docs/STORAGE.md).
//
//   1. append     Append() of 100-span batches group-committed `--commit` spans per transaction,
//                 Maintain never called (the write path alone).
//   2. maintain   Maintain(--budget) over the tail left by (1): deferred index build rate.
//   3. combined   a fresh store, Append per commit and Maintain whenever the store asks for it:
//                 the store's whole CPU cost per span (what the server pays).
//   4. lookups    GetTrace of random traces: indexed, and in an unindexed tail of --tail spans.
//   5. search     SearchTraces latency (no filter, service, indexed attribute).
//   6. metrics    Append of 100-point gauge batches over 1000 series (points/s).
//   7. logs       Append of 100-record log batches, half with a trace id (records/s).
// Span generation and trace-id assignment happen outside the timed regions.
//
//   sqlite_store_bench [--spans 2000000] [--commit 5000] [--budget 65536] [--tail 200000]
//                      [--sync normal|full] [--min-rows N] [--wal-max PAGES]
//                      [--background-checkpoint 0|1] [--only PHASE] [--dir /tmp]

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bench/sqlite/span_gen.h"
#include "core/clock.h"
#include "otlp/attributes.h"
#include "store/sqlite/sqlite_store.h"

namespace {

using avtrace::otlp::Batch;
using avtrace::otlp::TraceId;

double Cpu() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}
double Wall() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Timer {
  double wall = 0, cpu = 0, w0 = 0, c0 = 0;
  void Start() {
    w0 = Wall();
    c0 = Cpu();
  }
  void Stop() {
    wall += Wall() - w0;
    cpu += Cpu() - c0;
  }
};

[[noreturn]] void Die(const avtrace::Status& s, const char* what) {
  std::fprintf(stderr, "sqlite_store_bench: %s: %s\n", what, s.ToString().c_str());
  std::exit(2);
}

// A pool of pre-generated 100-span batches, re-used with fresh trace ids for each commit.
class Feed {
 public:
  explicit Feed(uint64_t start) : gen_(42), now_(start) {
    for (int i = 0; i < 200; ++i) pool_.push_back(gen_.NextBatch(100, start + i * 1'000'000ULL));
  }
  // The next `n` batches with new trace ids (10 spans per trace) and start times moving forward
  // 10 us per span, like a live stream of spans. Records some ids in `sample`.
  std::vector<const Batch*> Next(size_t n, std::vector<TraceId>* sample) {
    std::vector<const Batch*> out;
    for (size_t i = 0; i < n; ++i) {
      Batch& b = pool_[next_++ % pool_.size()];
      TraceId t{};
      for (size_t k = 0; k < b.spans.size(); ++k) {
        uint64_t d = b.spans[k].end_time_unix_nano - b.spans[k].start_time_unix_nano;
        b.spans[k].start_time_unix_nano = now_;
        b.spans[k].end_time_unix_nano = now_ + d;
        now_ += 10'000;
        if (k % 10 == 0) {
          uint64_t a = rng_(), c = rng_();
          std::memcpy(t.data(), &a, 8);
          std::memcpy(t.data() + 8, &c, 8);
          if (sample && rng_() % 64 == 0) sample->push_back(t);
        }
        b.spans[k].trace_id = t;
      }
      out.push_back(&b);
    }
    return out;
  }

 private:
  avtrace::bench::SpanGenerator gen_;
  std::vector<Batch> pool_;
  std::mt19937_64 rng_{7};
  size_t next_ = 0;
  uint64_t now_;
};

uint32_t g_min_rows = 0;  // 0: the store's default
uint32_t g_wal_max = 0;
int g_background = -1;

std::unique_ptr<avtrace::store::Store> OpenStore(const std::string& path, bool power) {
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  avtrace::store::sqlite::SqliteOptions o;
  o.path = path;
  o.durability_power = power;
  if (g_min_rows) o.maintain_min_rows = g_min_rows;
  if (g_wal_max) o.wal_max_pages = g_wal_max;
  if (g_background >= 0) o.background_checkpoint = g_background != 0;
  auto s = avtrace::store::sqlite::OpenSqliteStore(o, nullptr, &avtrace::SystemClock::Instance());
  if (!s.ok()) Die(s.status(), "open");
  return std::move(s).value();
}

void Remove(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

struct Latency {
  std::vector<double> us;
  void Report(const char* what) {
    if (us.empty()) return;
    std::sort(us.begin(), us.end());
    std::printf("  %-44s p50 %8.1f us   p99 %8.1f us   (n=%zu)\n", what, us[us.size() / 2],
                us[us.size() * 99 / 100], us.size());
  }
};

}  // namespace

int main(int argc, char** argv) {
  uint64_t spans = 2'000'000;
  uint32_t commit = 5000, budget = 65536;
  uint64_t tail = 200'000;
  bool power = false;
  std::string dir = "/tmp", only;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--spans")
      spans = std::stoull(v);
    else if (k == "--commit")
      commit = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--budget")
      budget = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--tail")
      tail = std::stoull(v);
    else if (k == "--sync")
      power = v == "full";
    else if (k == "--dir")
      dir = v;
    else if (k == "--only")
      only = v;
    else if (k == "--min-rows")
      g_min_rows = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--wal-max")
      g_wal_max = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--background-checkpoint")
      g_background =
          std::stoi(v);  // "indexing" (1, 2), "lookups" (1, 2, 4, 5), "combined", "metrics"
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  const size_t batches_per_commit = std::max<size_t>(commit / 100, 1);
  const uint64_t t0 = avtrace::SystemClock::Instance().NowUnixNanos() - 3600ULL * 1'000'000'000ULL;
  const std::string path = dir + "/sqlite_store_bench_" + std::to_string(getpid()) + ".db";
  std::printf("sqlite_store_bench: %llu spans, 100-span batches, %u spans per commit, sync=%s\n",
              static_cast<unsigned long long>(spans), commit, power ? "full" : "normal");

  auto run = [&](const char* phase) { return only.empty() || only == phase; };
  // 1 + 2: append only, then maintain the whole tail.
  if (run("indexing") || run("lookups")) {
    // Maintain drains the whole tail here (min_rows 1), so lookups below measure the index alone
    // and then a tail of exactly --tail spans; chunks are still --budget rows.
    const uint32_t saved_min_rows = g_min_rows;
    if (!g_min_rows) g_min_rows = 1;
    auto store = OpenStore(path, power);
    g_min_rows = saved_min_rows;
    Feed feed(t0);
    Timer append;
    std::vector<TraceId> sample;
    for (uint64_t done = 0; done < spans; done += batches_per_commit * 100) {
      auto batch = feed.Next(batches_per_commit, &sample);
      append.Start();
      if (auto s = store->Append(batch); !s.ok()) Die(s, "append");
      append.Stop();
    }
    std::printf("1. append     %9.0f spans/s wall   %9.0f spans/CPU-s\n", spans / append.wall,
                spans / append.cpu);
    Timer maintain;
    maintain.Start();
    while (true) {
      auto more = store->Maintain(budget);
      if (!more.ok()) Die(more.status(), "maintain");
      if (!*more) break;
    }
    maintain.Stop();
    std::printf("2. maintain   %9.0f rows/s wall    %9.0f rows/CPU-s (budget %u)\n",
                spans / maintain.wall, spans / maintain.cpu, budget);

    // 4. lookups: indexed traces, then traces in a fresh unindexed tail.
    if (!run("lookups")) tail = 0;
    std::mt19937 rng(1);
    Latency indexed, in_tail, missing;
    for (int i = 0; i < 2000 && !sample.empty(); ++i) {
      const TraceId& t = sample[rng() % sample.size()];
      double w = Wall();
      auto got = store->GetTrace(t);
      indexed.us.push_back((Wall() - w) * 1e6);
      if (!got.ok() || got->spans.size() != 10) Die(got.status(), "indexed lookup");
    }
    std::vector<TraceId> tail_sample;
    for (uint64_t done = 0; done < tail; done += batches_per_commit * 100) {
      if (auto s = store->Append(feed.Next(batches_per_commit, &tail_sample)); !s.ok())
        Die(s, "append");
    }
    auto st = store->Stats();
    for (int i = 0; i < 200 && !tail_sample.empty(); ++i) {
      const TraceId& t = tail_sample[rng() % tail_sample.size()];
      double w = Wall();
      auto got = store->GetTrace(t);
      in_tail.us.push_back((Wall() - w) * 1e6);
      if (!got.ok() || got->spans.size() != 10) Die(got.status(), "tail lookup");
    }
    for (int i = 0; i < 200; ++i) {
      TraceId t{};
      t[0] = static_cast<uint8_t>(i);
      t[15] = 1;
      double w = Wall();
      auto got = store->GetTrace(t);
      missing.us.push_back((Wall() - w) * 1e6);
    }
    if (run("lookups"))
      std::printf("4. GetTrace (%llu spans indexed, %llu in the unindexed tail, %.0f MB)\n",
                  static_cast<unsigned long long>(spans),
                  static_cast<unsigned long long>(st.ok() ? st->unindexed_spans : 0),
                  st.ok() ? st->size_bytes / 1e6 : 0.0);
    indexed.Report("indexed trace (10 spans)");
    in_tail.Report("trace in the unindexed tail");
    missing.Report("unknown trace (NotFound)");

    // 5. search, everything indexed.
    while (run("lookups")) {
      auto more = store->Maintain(budget);
      if (!more.ok() || !*more) break;
    }
    Latency any, by_service, by_attr, by_error;
    for (int i = 0; i < 20 && run("lookups"); ++i) {
      avtrace::store::TraceQuery q;
      double w = Wall();
      if (!store->SearchTraces(q).ok()) Die(avtrace::Internal("search"), "search");
      any.us.push_back((Wall() - w) * 1e6);
      q.service = "origin";
      w = Wall();
      if (!store->SearchTraces(q).ok()) Die(avtrace::Internal("search"), "search");
      by_service.us.push_back((Wall() - w) * 1e6);
      q.service.clear();
      q.attributes = {{"session.id", "sess-" + std::to_string(rng() % 10000)}};
      w = Wall();
      if (!store->SearchTraces(q).ok()) Die(avtrace::Internal("search"), "search");
      by_attr.us.push_back((Wall() - w) * 1e6);
      q.attributes.clear();
      q.status = avtrace::store::SpanStatusFilter::kError;
      w = Wall();
      if (!store->SearchTraces(q).ok()) Die(avtrace::Internal("search"), "search");
      by_error.us.push_back((Wall() - w) * 1e6);
    }
    if (run("lookups")) std::printf("5. SearchTraces, limit 20, all indexed\n");
    any.Report("no filter");
    by_service.Report("service = origin");
    by_attr.Report("session.id = <one of 10k> (indexed)");
    by_error.Report("status = error");
    store->Close();
    Remove(path);
  }

  // 3. combined: what the server's writer thread does.
  if (run("combined")) {
    auto store = OpenStore(path, power);
    Feed feed(t0);
    Timer both, append, maintain;
    uint64_t steps = 0;
    Latency commit_lat, step_lat;
    double append_wall_before = 0, maintain_wall_before = 0;
    for (uint64_t done = 0; done < spans; done += batches_per_commit * 100) {
      auto batch = feed.Next(batches_per_commit, nullptr);
      both.Start();
      append.Start();
      if (auto s = store->Append(batch); !s.ok()) Die(s, "append");
      append.Stop();
      commit_lat.us.push_back((append.wall - append_wall_before) * 1e6);
      append_wall_before = append.wall;
      maintain.Start();
      auto more = store->Maintain(budget);
      if (!more.ok()) Die(more.status(), "maintain");
      maintain.Stop();
      step_lat.us.push_back((maintain.wall - maintain_wall_before) * 1e6);
      maintain_wall_before = maintain.wall;
      both.Stop();
      steps += 1;
    }
    auto st = store->Stats();
    std::printf(
        "3. combined   %9.0f spans/s wall   %9.0f spans/CPU-s (append %.0f%%, maintain %.0f%% "
        "of CPU; tail left %llu)\n",
        spans / both.wall, spans / both.cpu, 100 * append.cpu / both.cpu,
        100 * maintain.cpu / both.cpu,
        static_cast<unsigned long long>(st.ok() ? st->unindexed_spans : 0));
    commit_lat.Report("Append of one commit (wall)");
    step_lat.Report("Maintain step after it (wall)");
    if (!step_lat.us.empty()) {
      std::printf("  %-44s max %8.1f us\n", "Maintain step", step_lat.us.back());
    }
    store->Close();
    Remove(path);
  }

  // 6. metrics: 100-point gauge batches over 1000 series.
  if (run("metrics")) {
    auto store = OpenStore(path, power);
    std::vector<Batch> pool;
    std::string attrs;
    for (int b = 0; b < 10; ++b) {
      Batch batch;
      std::string res;
      avtrace::otlp::AttrWriter(&res).String("service.name", "packager");
      batch.resources.push_back({{batch.arena.Copy(res), 1}, 0, {}});
      batch.scopes.push_back({});
      avtrace::otlp::Metric m;
      m.name = "queue_depth";
      m.type = avtrace::otlp::MetricType::kGauge;
      batch.metrics.push_back(m);
      for (int p = 0; p < 100; ++p) {
        attrs.clear();
        avtrace::otlp::AttrWriter w(&attrs);
        w.String("queue", "q-" + std::to_string(b * 100 + p));
        w.String("host", "media-node-07");
        avtrace::otlp::MetricPoint pt;
        pt.attributes = {batch.arena.Copy(attrs), w.count()};
        pt.value_kind = avtrace::otlp::NumberKind::kDouble;
        batch.points.push_back(std::move(pt));
      }
      pool.push_back(std::move(batch));
    }
    const uint64_t points = spans / 4;
    Timer t;
    uint64_t now = t0;
    for (uint64_t done = 0; done < points; done += batches_per_commit * 100) {
      std::vector<const Batch*> commit_batches;
      for (size_t i = 0; i < batches_per_commit; ++i) {
        Batch& b = pool[i % pool.size()];
        for (auto& p : b.points) {
          p.time_unix_nano = now;
          p.as_double = static_cast<double>(now % 1000);
        }
        now += 1'000'000;
        commit_batches.push_back(&b);
      }
      t.Start();
      if (auto s = store->Append(commit_batches); !s.ok()) Die(s, "append points");
      t.Stop();
    }
    std::printf("6. metrics    %9.0f points/s wall  %9.0f points/CPU-s (1000 series)\n",
                points / t.wall, points / t.cpu);
    store->Close();
    Remove(path);
  }
  // 7. logs: 100-record batches, half of them carrying a trace id (indexed by its prefix).
  if (run("logs")) {
    auto store = OpenStore(path, power);
    std::vector<Batch> pool;
    std::mt19937_64 rng(5);
    const std::string body = avtrace::otlp::EncodeStringValue(
        "segment 1234 published to origin in 42 ms (bitrate 4500000, cache miss)");
    std::string attrs;
    for (int b = 0; b < 10; ++b) {
      Batch batch;
      std::string res;
      avtrace::otlp::AttrWriter(&res).String("service.name", "packager");
      batch.resources.push_back({{batch.arena.Copy(res), 1}, 0, {}});
      batch.scopes.push_back({});
      for (int i = 0; i < 100; ++i) {
        attrs.clear();
        avtrace::otlp::AttrWriter w(&attrs);
        w.String("stream.id", "stream-" + std::to_string(rng() % 50));
        w.Int("segment", static_cast<int64_t>(rng() % 100000));
        avtrace::otlp::LogRecord r;
        r.severity_number = 9;
        r.severity_text = "INFO";
        r.body = batch.arena.Copy(body);
        r.attributes = {batch.arena.Copy(attrs), w.count()};
        batch.logs.push_back(r);
      }
      pool.push_back(std::move(batch));
    }
    const uint64_t logs = spans / 4;
    Timer t;
    uint64_t now = t0;
    for (uint64_t done = 0; done < logs; done += batches_per_commit * 100) {
      std::vector<const Batch*> commit_batches;
      for (size_t i = 0; i < batches_per_commit; ++i) {
        Batch& b = pool[i % pool.size()];
        for (size_t k = 0; k < b.logs.size(); ++k) {
          auto& r = b.logs[k];
          r.time_unix_nano = r.observed_time_unix_nano = now;
          now += 10'000;
          r.trace_id = {};
          if (k % 2 == 0) {
            uint64_t a = rng(), c = rng();
            std::memcpy(r.trace_id.data(), &a, 8);
            std::memcpy(r.trace_id.data() + 8, &c, 8);
          }
        }
        commit_batches.push_back(&b);
      }
      t.Start();
      if (auto s = store->Append(commit_batches); !s.ok()) Die(s, "append logs");
      t.Stop();
    }
    std::printf("7. logs       %9.0f logs/s wall    %9.0f logs/CPU-s (half with a trace id)\n",
                logs / t.wall, logs / t.cpu);
    store->Close();
    Remove(path);
  }
  return 0;
}
