// sqlite_limit: the raw SQLite insert rate of the span rows the store writes — "the limit" the
// store and the server are compared against (docs/STORAGE.md).
//
// It creates the store's own schema (store/sqlite/schema.cc), applies the store's connection
// settings, and inserts span rows with the store's own statement and binding
// (store/sqlite/span_rows.h), N rows per transaction, with no interning, no deferred index and
// no other table. Span generation happens outside the timed region.
//
//   sqlite_limit [--rows 1000000] [--txn 5000] [--multi 1] [--sync normal|full]
//                [--page-size 4096] [--autocheckpoint 4096] [--index none|trace16|prefix8]
//                [--dir /tmp]
// Prints wall-clock rows/s and rows per process CPU-second.

#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/sqlite/span_gen.h"
#include "store/sqlite/db.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/span_rows.h"

namespace {

using avtrace::store::sqlite::Db;
using avtrace::store::sqlite::Stmt;

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int Fail(const avtrace::Status& s) {
  std::fprintf(stderr, "sqlite_limit: %s\n", s.ToString().c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t rows = 1'000'000;
  uint32_t txn = 5000, multi = 1;
  std::string index = "none", dir = "/tmp";
  avtrace::store::sqlite::SqliteOptions opt;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--rows")
      rows = std::stoull(v);
    else if (k == "--txn")
      txn = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--multi")
      multi = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--sync")
      opt.durability_power = v == "full";
    else if (k == "--page-size")
      opt.page_size = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--autocheckpoint")
      opt.wal_autocheckpoint_pages = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--index")
      index = v;
    else if (k == "--dir")
      dir = v;
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  if (multi == 0 || txn % multi != 0) {
    std::fprintf(stderr, "--txn must be a multiple of --multi\n");
    return 2;
  }
  std::string path = dir + "/sqlite_limit_" + std::to_string(getpid()) + ".db";
  auto db_or = Db::Open(path, true, false);
  if (!db_or.ok()) return Fail(db_or.status());
  Db db = std::move(db_or).value();
  if (auto s = avtrace::store::sqlite::ConfigureWriter(db, opt); !s.ok()) return Fail(s);
  if (auto s = avtrace::store::sqlite::Migrate(db); !s.ok()) return Fail(s);
  if (index == "trace16") {
    if (auto s = db.Exec("CREATE INDEX spans_trace ON spans(trace_id)"); !s.ok()) return Fail(s);
  } else if (index == "prefix8") {
    // The prefix is not a column of the store's row, so this variant indexes span_id instead:
    // an 8-byte random INTEGER, the same B-tree cost as a trace-id prefix.
    if (auto s = db.Exec("CREATE INDEX spans_prefix ON spans(span_id)"); !s.ok()) return Fail(s);
  }

  // A pool of pre-generated spans (attributes and ids included), cycled with fresh trace ids.
  avtrace::bench::SpanGenerator gen(42);
  std::vector<avtrace::otlp::Batch> pool;
  for (int i = 0; i < 200; ++i) pool.push_back(gen.NextBatch(100, 1'700'000'000'000'000'000ULL));
  std::vector<avtrace::otlp::Span*> spans;
  for (auto& b : pool)
    for (auto& s : b.spans) spans.push_back(&s);

  auto stmt_or = Stmt::Prepare(db, avtrace::store::sqlite::InsertSpanSql(static_cast<int>(multi)));
  if (!stmt_or.ok()) return Fail(stmt_or.status());
  Stmt insert = std::move(stmt_or).value();
  auto begin = Stmt::Prepare(db, "BEGIN IMMEDIATE").value();
  auto commit = Stmt::Prepare(db, "COMMIT").value();
  std::vector<std::string> scratch(multi);
  std::mt19937_64 rng(7);

  double wall = 0, cpu = 0;
  int64_t id = 1;
  size_t next = 0;
  for (uint64_t done = 0; done < rows; done += txn) {
    // Untimed: give this transaction's spans fresh random trace ids.
    for (uint32_t i = 0; i < txn; ++i) {
      auto* s = spans[(next + i) % spans.size()];
      uint64_t a = rng(), b = rng();
      std::memcpy(s->trace_id.data(), &a, 8);
      std::memcpy(s->trace_id.data() + 8, &b, 8);
    }
    double w0 = WallSeconds(), c0 = CpuSeconds();
    if (auto s = begin.Run(); !s.ok()) return Fail(s);
    for (uint32_t i = 0; i < txn; i += multi) {
      for (uint32_t r = 0; r < multi; ++r) {
        avtrace::store::sqlite::BindSpanRow(insert, static_cast<int>(r),
                                            *spans[next % spans.size()], id++, 1, 1, &scratch[r]);
        ++next;
      }
      if (auto s = insert.Run(); !s.ok()) return Fail(s);
    }
    if (auto s = commit.Run(); !s.ok()) return Fail(s);
    wall += WallSeconds() - w0;
    cpu += CpuSeconds() - c0;
  }
  insert.Finalize();
  begin.Finalize();
  commit.Finalize();
  auto size = std::filesystem::file_size(path);
  db.Close();
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  std::printf(
      "sqlite_limit rows=%llu txn=%u multi=%u sync=%s page=%u ckpt=%u index=%s: %.0f rows/s wall, "
      "%.0f rows/CPU-s, %.1f bytes/row\n",
      static_cast<unsigned long long>(rows), txn, multi, opt.durability_power ? "full" : "normal",
      opt.page_size, opt.wal_autocheckpoint_pages, index.c_str(), rows / wall, rows / cpu,
      static_cast<double>(size) / static_cast<double>(rows));
  return 0;
}
