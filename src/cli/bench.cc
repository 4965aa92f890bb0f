// `avtrace bench`: an OTLP/HTTP load generator. Each connection is one thread with a blocking
// keep-alive Beast client (simple and cheap next to the server's work); latencies are kept per
// thread and merged at the end. Server CPU and RSS come from /proc/<pid> so results can be
// expressed per server CPU-second, the figure docs/BENCHMARKS.md compares against peers.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <zlib.h>

#include "cli/commands.h"
#include "otlp/attributes.h"
#include "otlp/wire.h"

namespace avtrace::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using otlp::WireWriter;
using Clock = std::chrono::steady_clock;

struct ProcSample {
  double cpu_seconds = 0;
  uint64_t rss_bytes = 0;
  uint64_t hwm_bytes = 0;
  bool ok = false;
};

ProcSample ReadProc(int pid) {
  ProcSample s;
  if (pid <= 0) return s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return s;
  // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
  size_t close = line.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  s.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_bytes = std::stoull(line.substr(6)) * 1024;
    if (line.rfind("VmHWM:", 0) == 0) s.hwm_bytes = std::stoull(line.substr(6)) * 1024;
  }
  s.ok = true;
  return s;
}

std::string Gzip(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// A request body plus the offsets of the id bytes to rewrite for every send, so each request
// carries fresh trace and span ids without re-encoding.
struct Template {
  std::string body;
  std::vector<std::pair<size_t, size_t>> id_slots;  // (offset, length)
};

void Resource(WireWriter& w, const char* service) {
  w.Message(1, [&](WireWriter& r) {
    std::string attrs;
    otlp::AttrWriter a(&attrs);
    a.String("service.name", service);
    a.String("service.namespace", "bench");
    a.String("host.name", "bench-host");
    r.Raw(attrs.data(), attrs.size());
  });
}

void ItemAttributes(WireWriter& w, uint32_t field, uint32_t n, uint64_t i) {
  static const char* kStages[] = {"validate", "transcode", "normalize", "metadata", "waveform",
                                  "distribute"};
  for (uint32_t k = 0; k < n; ++k) {
    std::string kv;
    WireWriter kw(&kv);
    std::string value;
    switch (k % 5) {
      case 0: kw.BytesField(1, "stream.id"); value = otlp::EncodeStringValue("stream-" + std::to_string(i % 8)); break;
      case 1: kw.BytesField(1, "segment.sequence"); value = otlp::EncodeIntValue(static_cast<int64_t>(i)); break;
      case 2: kw.BytesField(1, "pipeline.stage"); value = otlp::EncodeStringValue(kStages[i % 6]); break;
      case 3: kw.BytesField(1, "drm.enabled"); value = otlp::EncodeBoolValue(i % 2 == 0); break;
      default: kw.BytesField(1, "attr." + std::to_string(k)); value = otlp::EncodeDoubleValue(0.5 * static_cast<double>(k)); break;
    }
    kw.BytesField(2, value);
    w.BytesField(field, kv);
  }
}

Template BuildTraces(uint32_t n, uint32_t attrs, uint64_t now) {
  Template t;
  WireWriter w(&t.body);
  w.Message(1, [&](WireWriter& rs) {
    Resource(rs, "bench-packager");
    rs.Message(2, [&](WireWriter& ss) {
      ss.Message(1, [&](WireWriter& sc) {
        sc.BytesField(1, "avtrace.bench");
        sc.BytesField(2, "1.0");
      });
      for (uint32_t i = 0; i < n; ++i) {
        ss.Message(2, [&](WireWriter& sp) {
          std::string zeros16(16, '\x01'), zeros8(8, '\x01');
          sp.Tag(1, otlp::WireType::kLen);
          sp.Varint(16);
          t.id_slots.push_back({sp.out()->size(), 16});
          sp.Raw(zeros16.data(), 16);
          sp.Tag(2, otlp::WireType::kLen);
          sp.Varint(8);
          t.id_slots.push_back({sp.out()->size(), 8});
          sp.Raw(zeros8.data(), 8);
          sp.BytesField(5, i % 4 == 0 ? "livestream.segment.publish" : "livestream.segment.upload");
          sp.VarintField(6, i % 3 + 1);
          sp.Fixed64Field(7, now + i * 1000);
          sp.Fixed64Field(8, now + i * 1000 + 1'500'000);
          ItemAttributes(sp, 9, attrs, i);
          if (i % 10 == 0)
            sp.Message(15, [&](WireWriter& st) { st.VarintField(3, 2); st.BytesField(2, "upload failed"); });
        });
      }
    });
  });
  return t;
}

Template BuildMetrics(uint32_t n, uint32_t attrs, uint64_t now) {
  Template t;
  WireWriter w(&t.body);
  w.Message(1, [&](WireWriter& rm) {
    Resource(rm, "bench-encoder");
    rm.Message(2, [&](WireWriter& sm) {
      sm.Message(1, [&](WireWriter& sc) { sc.BytesField(1, "avtrace.bench"); });
      const uint32_t per_metric = std::max<uint32_t>(1, n / 10);
      for (uint32_t m = 0; m < 10 && m * per_metric < n; ++m) {
        sm.Message(2, [&](WireWriter& mt) {
          mt.BytesField(1, "bench.metric." + std::to_string(m));
          mt.BytesField(3, m % 3 == 2 ? "ms" : "1");
          const uint32_t field = m % 3 == 0 ? 5 : m % 3 == 1 ? 7 : 9;  // gauge, sum, histogram
          mt.Message(field, [&](WireWriter& data) {
            for (uint32_t p = 0; p < per_metric; ++p) {
              data.Message(1, [&](WireWriter& dp) {
                const uint32_t attr_field = field == 9 ? 9 : 7;
                ItemAttributes(dp, attr_field, std::min<uint32_t>(attrs, 4), p);
                dp.Fixed64Field(2, now - 10'000'000'000ull);
                dp.Fixed64Field(3, now);
                if (field == 9) {
                  dp.Fixed64Field(4, 10);
                  dp.DoubleField(5, 123.5);
                  std::string counts, bounds;
                  WireWriter cw(&counts), bw(&bounds);
                  for (int b = 0; b < 5; ++b) { uint64_t c = 2; cw.Raw(&c, 8); }
                  for (double b : {5.0, 10.0, 25.0, 50.0}) bw.Raw(&b, 8);
                  dp.BytesField(6, counts);
                  dp.BytesField(7, bounds);
                } else {
                  dp.DoubleField(4, static_cast<double>(p) * 1.5);
                }
              });
            }
            if (field == 7) { data.VarintField(2, 2); data.VarintField(3, 1); }
            if (field == 9) data.VarintField(2, 2);
          });
        });
      }
    });
  });
  return t;
}

Template BuildLogs(uint32_t n, uint32_t attrs, uint64_t now) {
  Template t;
  WireWriter w(&t.body);
  w.Message(1, [&](WireWriter& rl) {
    Resource(rl, "bench-pipeline");
    rl.Message(2, [&](WireWriter& sl) {
      sl.Message(1, [&](WireWriter& sc) { sc.BytesField(1, "avtrace.bench"); });
      for (uint32_t i = 0; i < n; ++i) {
        sl.Message(2, [&](WireWriter& lr) {
          lr.Fixed64Field(1, now + i);
          lr.Fixed64Field(11, now + i + 10);
          lr.VarintField(2, i % 10 == 0 ? 17 : 9);
          lr.BytesField(3, i % 10 == 0 ? "ERROR" : "INFO");
          lr.BytesField(5, otlp::EncodeStringValue("segment " + std::to_string(i) + " published"));
          ItemAttributes(lr, 6, attrs, i);
          std::string id16(16, '\x01'), id8(8, '\x01');
          lr.Tag(9, otlp::WireType::kLen);
          lr.Varint(16);
          t.id_slots.push_back({lr.out()->size(), 16});
          lr.Raw(id16.data(), 16);
          lr.Tag(10, otlp::WireType::kLen);
          lr.Varint(8);
          t.id_slots.push_back({lr.out()->size(), 8});
          lr.Raw(id8.data(), 8);
        });
      }
    });
  });
  return t;
}

// WireWriter::Message moves bytes after the reserved length prefix, so offsets recorded while
// building are only final for the outermost writes; recompute them by searching the marker bytes.
void FixSlots(Template* t) {
  std::vector<std::pair<size_t, size_t>> fixed;
  size_t pos = 0;
  for (const auto& [off, len] : t->id_slots) {
    (void)off;
    std::string marker(len, '\x01');
    pos = t->body.find(marker, pos);
    if (pos == std::string::npos) break;
    fixed.push_back({pos, len});
    pos += len;
  }
  t->id_slots = std::move(fixed);
}

void FreshIds(std::string* body, const std::vector<std::pair<size_t, size_t>>& slots,
              std::mt19937_64& rng) {
  for (const auto& [off, len] : slots) {
    for (size_t i = 0; i < len; i += 8) {
      uint64_t r = rng() | 1;  // never all zeros
      std::memcpy(body->data() + off + i, &r, std::min<size_t>(8, len - i));
    }
  }
}

// One m-trace wire batch (schema 1.0) of `n` events for a fresh session: unique session id,
// sequence numbers 0..n-1, realistic meta.
void PlayerBatch(uint32_t n, uint64_t seed, uint64_t counter, std::string* out) {
  out->clear();
  const std::string sid = "bench-" + std::to_string(seed) + "-" + std::to_string(counter);
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const int millis = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[96];
  std::snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  static const char* kNames[] = {"segment_loaded", "metrics_sampled", "bitrate_switch",
                                 "segment_loaded"};
  out->append("{\"schema_version\":\"1.0\",\"events\":[");
  for (uint32_t i = 0; i < n; ++i) {
    if (i) out->push_back(',');
    out->append("{\"event_name\":\"");
    out->append(i == 0 ? "playback_started" : kNames[i % 4]);
    out->append("\",\"project_id\":\"demo\",\"session_id\":\"");
    out->append(sid);
    out->append("\",\"client_timestamp\":\"");
    out->append(ts);
    out->append("\",\"sequence_number\":");
    out->append(std::to_string(i));
    out->append(",\"sdk\":{\"name\":\"@avtrace/player\",\"version\":\"0.1.0\"},"
                "\"meta\":{\"protocol\":\"hls\",\"bitrate_kbps\":");
    out->append(std::to_string(1000 + (i % 5) * 800));
    out->append(",\"duration_ms\":");
    out->append(std::to_string(40 + i % 60));
    out->append("}}");
  }
  out->append("]}");
}

struct WorkerResult {
  std::vector<uint32_t> latencies_us;
  uint64_t ok = 0, rejected_429 = 0, unavailable = 0, other = 0, errors = 0, items = 0;
};

struct Shared {
  std::atomic<uint64_t> ok{0}, items{0}, throttled{0}, failed{0};
  std::atomic<bool> stop{false};
};

bool ParseUrl(const std::string& url, std::string* host, std::string* port) {
  const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) return false;
  std::string rest = url.substr(prefix.size());
  size_t slash = rest.find('/');
  if (slash != std::string::npos) rest = rest.substr(0, slash);
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos) {
    *host = rest;
    *port = "80";
  } else {
    *host = rest.substr(0, colon);
    *port = rest.substr(colon + 1);
  }
  return !host->empty();
}

void Worker(const BenchOptions& o, const std::string& host, const std::string& port,
            const std::string& path, const Template& tmpl, const std::vector<std::string>& gz_pool,
            Clock::time_point deadline, uint64_t seed, Shared* shared, WorkerResult* out) {
  asio::io_context ioc;
  asio::ip::tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  std::mt19937_64 rng(seed);
  std::string body = tmpl.body;
  bool connected = false;
  const double interval = o.rate_limit > 0 ? o.concurrency / o.rate_limit : 0;
  auto next_send = Clock::now();
  size_t gz_index = seed % std::max<size_t>(1, gz_pool.size());
  const bool player = o.kind == "player-events";
  const int ok_code = player ? 202 : 200;
  uint64_t counter = 0;
  while (Clock::now() < deadline && !shared->stop.load(std::memory_order_relaxed)) {
    if (interval > 0) {
      std::this_thread::sleep_until(next_send);
      next_send += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval));
    }
    beast::error_code ec;
    if (!connected) {
      auto results = resolver.resolve(host, port, ec);
      if (!ec) stream.connect(results, ec);
      if (ec) {
        ++out->errors;
        shared->failed++;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      stream.socket().set_option(asio::ip::tcp::no_delay(true));
      connected = true;
    }
    http::request<http::string_body> req{http::verb::post, path, 11};
    req.set(http::field::host, host);
    req.set(http::field::content_type, player ? "application/json" : "application/x-protobuf");
    req.keep_alive(true);
    if (player) {
      req.set("X-MTrace-Token", o.token);
      PlayerBatch(o.items_per_request, seed, counter++, &body);
      req.body() = body;
    } else if (o.gzip) {
      req.set(http::field::content_encoding, "gzip");
      req.body() = gz_pool[gz_index++ % gz_pool.size()];
    } else {
      FreshIds(&body, tmpl.id_slots, rng);
      req.body() = body;
    }
    req.prepare_payload();
    auto t0 = Clock::now();
    http::write(stream, req, ec);
    http::response<http::string_body> res;
    if (!ec) http::read(stream, buffer, res, ec);
    auto t1 = Clock::now();
    if (ec) {
      ++out->errors;
      shared->failed++;
      beast::error_code ignored;
      stream.socket().close(ignored);
      connected = false;
      continue;
    }
    const int code = res.result_int();
    if (code == ok_code) {
      ++out->ok;
      out->items += o.items_per_request;
      out->latencies_us.push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count()));
      shared->ok++;
      shared->items += o.items_per_request;
    } else if (code == 429 || code == 503) {
      (code == 429 ? out->rejected_429 : out->unavailable)++;
      shared->throttled++;
      // Honour Retry-After like a real exporter would, capped so the run keeps pressing.
      int retry = std::atoi(std::string(res[http::field::retry_after]).c_str());
      std::this_thread::sleep_for(std::chrono::milliseconds(std::clamp(retry * 1000, 10, 1000)));
    } else {
      ++out->other;
      shared->failed++;
    }
    if (res.need_eof()) {
      beast::error_code ignored;
      stream.socket().close(ignored);
      connected = false;
    }
  }
}

double Percentile(std::vector<uint32_t>& v, double q) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(std::min<double>(v.size() - 1, std::floor(q * (v.size() - 1) + 0.5)));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return v[i] / 1000.0;
}

}  // namespace

int RunBench(const BenchOptions& o) {
  std::string host, port;
  if (!ParseUrl(o.url, &host, &port)) {
    std::fprintf(stderr, "avtrace bench: --url must look like http://host:port\n");
    return 2;
  }
  if (o.items_per_request == 0 || o.concurrency == 0 || o.duration_seconds <= 0) {
    std::fprintf(stderr, "avtrace bench: items, concurrency and duration must be > 0\n");
    return 2;
  }
  const uint64_t now = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  Template tmpl;
  std::string path, unit;
  if (o.kind == "otlp-traces") {
    tmpl = BuildTraces(o.items_per_request, o.attributes_per_item, now);
    path = "/v1/traces";
    unit = "spans";
  } else if (o.kind == "otlp-metrics") {
    tmpl = BuildMetrics(o.items_per_request, o.attributes_per_item, now);
    path = "/v1/metrics";
    unit = "points";
  } else if (o.kind == "player-events") {
    if (o.items_per_request > 100) {
      std::fprintf(stderr, "avtrace bench: player-events batches hold at most 100 events\n");
      return 2;
    }
    PlayerBatch(o.items_per_request, 0, 0, &tmpl.body);
    path = "/api/playback-events";
    unit = "events";
  } else {
    tmpl = BuildLogs(o.items_per_request, o.attributes_per_item, now);
    path = "/v1/logs";
    unit = "logs";
  }
  if (o.kind == "player-events" && o.gzip) {
    std::fprintf(stderr, "avtrace bench: --gzip is not supported for player-events\n");
    return 2;
  }
  FixSlots(&tmpl);
  std::vector<std::string> gz_pool;
  if (o.gzip) {
    std::mt19937_64 rng(42);
    for (int i = 0; i < 256; ++i) {
      std::string b = tmpl.body;
      FreshIds(&b, tmpl.id_slots, rng);
      gz_pool.push_back(Gzip(b));
    }
  }
  std::fprintf(stderr, "avtrace bench %s: %u %s/request (%zu bytes%s), %u connections, %.0fs -> %s%s\n",
               o.kind.c_str(), o.items_per_request, unit.c_str(),
               o.gzip ? gz_pool[0].size() : tmpl.body.size(), o.gzip ? " gzip" : "", o.concurrency,
               o.duration_seconds, o.url.c_str(), path.c_str());

  Shared shared;
  std::vector<WorkerResult> results(o.concurrency);
  std::vector<std::thread> threads;
  const ProcSample before = ReadProc(o.server_pid);
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(o.duration_seconds));
  for (uint32_t i = 0; i < o.concurrency; ++i) {
    threads.emplace_back(Worker, std::cref(o), std::cref(host), std::cref(port), std::cref(path),
                         std::cref(tmpl), std::cref(gz_pool), deadline, 1000 + i, &shared,
                         &results[i]);
  }
  const bool tty = isatty(STDERR_FILENO);
  uint64_t max_rss = before.rss_bytes;
  uint64_t last_items = 0;
  auto last = start;
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(tty ? 250 : 1000));
    const auto t = Clock::now();
    const double elapsed = std::chrono::duration<double>(t - start).count();
    const uint64_t items = shared.items.load();
    const double rate = static_cast<double>(items - last_items) /
                        std::max(1e-3, std::chrono::duration<double>(t - last).count());
    last_items = items;
    last = t;
    ProcSample ps = ReadProc(o.server_pid);
    max_rss = std::max(max_rss, ps.rss_bytes);
    const int width = 30;
    const int filled = std::min(width, static_cast<int>(width * elapsed / o.duration_seconds));
    std::string bar(static_cast<size_t>(filled), '=');
    bar.append(static_cast<size_t>(width - filled), ' ');
    if (tty) {
      std::fprintf(stderr, "\r[%s] %5.1fs  %9.0f %s/s  ok %" PRIu64 "  throttled %" PRIu64 "  failed %" PRIu64 "   ",
                   bar.c_str(), elapsed, rate, unit.c_str(), shared.ok.load(), shared.throttled.load(),
                   shared.failed.load());
    } else if (static_cast<int>(elapsed) % 5 == 0) {
      std::fprintf(stderr, "[%s] %5.1fs %9.0f %s/s\n", bar.c_str(), elapsed, rate, unit.c_str());
    }
  }
  for (auto& th : threads) th.join();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const ProcSample after = ReadProc(o.server_pid);
  max_rss = std::max(max_rss, after.rss_bytes);
  if (tty) std::fputc('\n', stderr);

  WorkerResult total;
  for (auto& r : results) {
    total.ok += r.ok;
    total.items += r.items;
    total.rejected_429 += r.rejected_429;
    total.unavailable += r.unavailable;
    total.other += r.other;
    total.errors += r.errors;
    total.latencies_us.insert(total.latencies_us.end(), r.latencies_us.begin(), r.latencies_us.end());
  }
  const double items_per_s = static_cast<double>(total.items) / wall;
  const double p50 = Percentile(total.latencies_us, 0.50);
  const double p99 = Percentile(total.latencies_us, 0.99);
  const double pmax = total.latencies_us.empty() ? 0 : *std::max_element(total.latencies_us.begin(), total.latencies_us.end()) / 1000.0;
  const double cpu = after.ok && before.ok ? after.cpu_seconds - before.cpu_seconds : 0;
  std::printf("kind:                %s%s\n", o.kind.c_str(), o.gzip ? " (gzip)" : "");
  std::printf("duration:            %.1f s, %u connections, %u %s/request\n", wall, o.concurrency,
              o.items_per_request, unit.c_str());
  std::printf("requests:            %" PRIu64 " ok, %" PRIu64 " 429, %" PRIu64 " 503, %" PRIu64 " other, %" PRIu64 " transport errors\n",
              total.ok, total.rejected_429, total.unavailable, total.other, total.errors);
  std::printf("accepted:            %.0f %s/s (%" PRIu64 " in total, durable acks)\n", items_per_s,
              unit.c_str(), total.items);
  std::printf("ack latency:         p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", p50, p99, pmax);
  if (cpu > 0) {
    std::printf("server CPU:          %.2f CPU-seconds (%.0f%% of one core)\n", cpu, 100 * cpu / wall);
    std::printf("per server CPU-s:    %.0f %s\n", static_cast<double>(total.items) / cpu, unit.c_str());
    std::printf("server RSS:          peak %.1f MB during the run (process high-water mark %.1f MB)\n",
                static_cast<double>(max_rss) / 1e6, static_cast<double>(after.hwm_bytes) / 1e6);
  }
  if (!o.json_out.empty()) {
    std::ofstream j(o.json_out);
    j << "{\"kind\":\"" << o.kind << "\",\"gzip\":" << (o.gzip ? "true" : "false")
      << ",\"seconds\":" << wall << ",\"concurrency\":" << o.concurrency
      << ",\"items_per_request\":" << o.items_per_request << ",\"requests_ok\":" << total.ok
      << ",\"throttled\":" << total.rejected_429 + total.unavailable
      << ",\"failed\":" << total.other + total.errors << ",\"items_per_second\":" << items_per_s
      << ",\"p50_ms\":" << p50 << ",\"p99_ms\":" << p99 << ",\"max_ms\":" << pmax
      << ",\"server_cpu_seconds\":" << cpu
      << ",\"items_per_server_cpu_second\":" << (cpu > 0 ? static_cast<double>(total.items) / cpu : 0)
      << ",\"server_peak_rss_bytes\":" << max_rss << "}\n";
  }
  return total.ok > 0 ? 0 : 1;
}

}  // namespace avtrace::cli
