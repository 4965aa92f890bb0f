// SQLite backend: the contract suite (twice: default generations, and one chunk per generation
// so lookups cross many generations) plus tests of what only this backend has.

#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "core/clock.h"
#include "metrics/registry.h"
#include "otlp/attributes.h"
#include "store/contract_test.h"
#include "store/sqlite/codec.h"
#include "store/sqlite/schema.h"

namespace avtrace::store::sqlite {
namespace {

constexpr uint64_t kT0 = 1'700'000'000'000'000'000ULL;
constexpr uint64_t kMs = 1'000'000ULL;
constexpr uint64_t kSec = 1'000'000'000ULL;

std::unique_ptr<Store> OpenWith(SqliteOptions o, const std::string& dir) {
  o.path = dir + "/avtrace.db";
  auto s = OpenSqliteStore(o, nullptr, &SystemClock::Instance());
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

std::unique_ptr<Store> OpenForContract(const std::string& dir) {
  SqliteOptions o;
  o.maintain_min_rows = 1;  // Maintain indexes whatever is there, so tests reach the index path
  return OpenWith(o, dir);
}

std::unique_ptr<Store> OpenWithTinyGenerations(const std::string& dir) {
  SqliteOptions o;
  o.maintain_min_rows = 1;
  o.generation_max_chunks = 1;
  o.generation_max_rows = 2;
  return OpenWith(o, dir);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
                         ::testing::Values(StoreBackend{"sqlite", OpenForContract},
                                           StoreBackend{"sqlite_tiny_gens",
                                                        OpenWithTinyGenerations}),
                         StoreBackendName);

otlp::TraceId Tid(uint32_t n) {
  otlp::TraceId t{};
  for (size_t i = 0; i < 16; ++i) t[i] = static_cast<uint8_t>(n * 7 + i);
  std::memcpy(t.data(), &n, 4);
  return t;
}

// A batch of `spans` spans of trace `n`, service `service`, with optional span attributes.
otlp::Batch MakeTrace(uint32_t n, int spans, uint64_t start, std::string_view service = "svc",
                      std::string_view episode = "") {
  otlp::Batch b;
  std::string res;
  otlp::AttrWriter(&res).String("service.name", service);
  otlp::Resource r;
  r.attributes = {b.arena.Copy(res), 1};
  b.resources.push_back(r);
  b.scopes.push_back({});
  std::string attrs;
  otlp::AttrWriter w(&attrs);
  if (!episode.empty()) w.String("episode.id", episode);
  for (int i = 0; i < spans; ++i) {
    otlp::Span s;
    s.trace_id = Tid(n);
    s.span_id[0] = static_cast<uint8_t>(i + 1);
    s.span_id[7] = static_cast<uint8_t>(n);
    if (i) s.parent_span_id[0] = 1;
    s.name = "op";
    s.start_time_unix_nano = start + static_cast<uint64_t>(i) * kMs;
    s.end_time_unix_nano = s.start_time_unix_nano + kMs;
    s.attributes = {b.arena.Copy(attrs), w.count()};
    b.spans.push_back(s);
  }
  return b;
}

Status AppendOne(Store* s, const otlp::Batch& b) {
  const otlp::Batch* p = &b;
  return s->Append({&p, 1});
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    dir_ = (std::filesystem::temp_directory_path() /
            ("avtrace_sqlite_" + std::to_string(getpid()) + "_" + std::to_string(n++)))
               .string();
    std::filesystem::remove_all(dir_);
    opt_.path = dir_ + "/db/avtrace.db";  // the directory is created on open
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::unique_ptr<Store> Open(const Clock* clock = &SystemClock::Instance(),
                              metrics::Registry* registry = nullptr) {
    auto s = OpenSqliteStore(opt_, registry, clock);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  int64_t RawInt(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(opt_.path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
  }
  uint64_t Unindexed(Store* s) {
    auto st = s->Stats();
    EXPECT_TRUE(st.ok());
    return st.ok() ? st->unindexed_spans : 0;
  }

  std::string dir_;
  SqliteOptions opt_;
};

TEST_F(SqliteStoreTest, MaintainWaitsForEnoughRowsOrAge) {
  FakeClock clock;
  auto s = Open(&clock);
  ASSERT_TRUE(AppendOne(s.get(), MakeTrace(1, 10, kT0)).ok());
  auto more = s->Maintain(100000);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
  EXPECT_EQ(Unindexed(s.get()), 10u);  // below maintain_min_rows and young: left alone
  clock.Advance(opt_.maintain_max_tail_age_nanos);
  more = s->Maintain(100000);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
  EXPECT_EQ(Unindexed(s.get()), 0u);
  EXPECT_TRUE(s->GetTrace(Tid(1)).ok());
}

// The age trigger follows the oldest row still unindexed, not the oldest since the tail was last
// empty: under sustained load the tail never empties, and chunks must not shrink to one commit.
TEST_F(SqliteStoreTest, TailAgeIsThatOfTheOldestUnindexedRow) {
  FakeClock clock;
  opt_.maintain_min_rows = 100;
  opt_.maintain_chunk_rows = 100;
  const uint64_t age = opt_.maintain_max_tail_age_nanos;
  auto s = Open(&clock);
  auto drain = [&] {
    for (int i = 0; i < 10; ++i) {
      auto more = s->Maintain(1000);
      ASSERT_TRUE(more.ok());
      if (!*more) return;
    }
  };
  ASSERT_TRUE(AppendOne(s.get(), MakeTrace(1, 150, kT0)).ok());  // t = 0
  drain();
  EXPECT_EQ(Unindexed(s.get()), 50u);  // one 100-row chunk; 50 rows from t = 0 wait
  clock.Advance(age / 5);
  ASSERT_TRUE(AppendOne(s.get(), MakeTrace(2, 100, kT0)).ok());  // t = age/5
  drain();
  EXPECT_EQ(Unindexed(s.get()), 50u);  // the t = 0 rows went with 50 of the new ones
  clock.Advance(age * 9 / 10);         // the oldest unindexed row waited 0.9 * age
  drain();
  EXPECT_EQ(Unindexed(s.get()), 50u);
  clock.Advance(age / 5);  // now 1.1 * age
  drain();
  EXPECT_EQ(Unindexed(s.get()), 0u);
}

TEST_F(SqliteStoreTest, MaintainHonoursItsBudget) {
  opt_.maintain_min_rows = 1;
  auto s = Open();
  ASSERT_TRUE(AppendOne(s.get(), MakeTrace(1, 100, kT0)).ok());
  int steps = 0;
  while (true) {
    auto more = s->Maintain(30);
    ASSERT_TRUE(more.ok());
    ++steps;
    if (!*more) break;
  }
  EXPECT_EQ(steps, 4);  // one chunk, read 30 rows per step, written by the last step
  EXPECT_EQ(Unindexed(s.get()), 0u);
  auto t = s->GetTrace(Tid(1));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->spans.size(), 100u);
  s->Close();
  EXPECT_EQ(RawInt("SELECT count(*) FROM span_chunks"), 1);
}

TEST_F(SqliteStoreTest, ChunksAreCappedAndTheTailStaysReadableMidChunk) {
  opt_.maintain_min_rows = 1;
  opt_.maintain_chunk_rows = 40;
  auto s = Open();
  ASSERT_TRUE(AppendOne(s.get(), MakeTrace(1, 100, kT0)).ok());
  auto more = s->Maintain(25);  // reads rows 1..25 of the first chunk, writes nothing yet
  ASSERT_TRUE(more.ok());
  EXPECT_TRUE(*more);
  EXPECT_EQ(Unindexed(s.get()), 100u);
  auto t = s->GetTrace(Tid(1));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->spans.size(), 100u);
  while (true) {
    more = s->Maintain(25);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
  }
  EXPECT_EQ(Unindexed(s.get()), 0u);
  t = s->GetTrace(Tid(1));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->spans.size(), 100u);
  s->Close();
  EXPECT_EQ(RawInt("SELECT count(*) FROM span_chunks"), 3);
  EXPECT_EQ(RawInt("SELECT max(rows) FROM span_chunks"), 40);
}

TEST_F(SqliteStoreTest, RetentionDropsWholeGenerationsAndTheirIndexEntries) {
  opt_.maintain_min_rows = 1;
  opt_.generation_max_chunks = 1;
  auto s = Open();
  for (uint32_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(AppendOne(s.get(), MakeTrace(i, 20, kT0 + i * 100 * kSec, "svc", "ep-1")).ok());
    ASSERT_TRUE(s->Maintain(1000).ok());
  }
  EXPECT_EQ(RawInt("SELECT count(*) FROM span_gens"), 5);
  // Delete the three oldest traces; the open (newest) generation always stays.
  for (int i = 0; i < 100; ++i) {
    auto r = s->ApplyRetention(RetentionCutoffs::All(kT0 + 250 * kSec), 7);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (!r->more) break;
  }
  EXPECT_EQ(RawInt("SELECT count(*) FROM span_gens"), 2);
  EXPECT_EQ(RawInt("SELECT count(*) FROM trace_index WHERE gen NOT IN (SELECT gen FROM span_gens)"),
            0);
  EXPECT_EQ(RawInt("SELECT count(*) FROM postings WHERE gen NOT IN (SELECT gen FROM span_gens)"),
            0);
  EXPECT_EQ(RawInt("SELECT count(*) FROM spans"), 40);
  for (uint32_t i = 0; i < 5; ++i) EXPECT_EQ(s->GetTrace(Tid(i)).ok(), i >= 3) << i;
  TraceQuery q;
  q.attributes = {{"episode.id", "ep-1"}};
  auto found = s->SearchTraces(q);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->traces.size(), 2u);
}

TEST_F(SqliteStoreTest, NewerSchemaIsRefused) {
  auto s = Open();
  s->Close();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(opt_.path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto again = OpenSqliteStore(opt_, nullptr, &SystemClock::Instance());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
}

// Migration 4 replaces the logs(trace_prefix) index with the deferred log_trace_index: a
// database written at schema 3 opens with its logs in the unindexed tail, findable by trace id
// before and after Maintain, and new logs never reuse their ids.
TEST_F(SqliteStoreTest, Migration4IndexesExistingLogsByTraceId) {
  opt_.maintain_min_rows = 1;
  auto logs = [](uint32_t trace, uint64_t t) {
    otlp::Batch b;
    b.resources.push_back({});
    b.scopes.push_back({});
    otlp::LogRecord r;
    r.time_unix_nano = t;
    r.trace_id = Tid(trace);
    b.logs.push_back(r);
    r.trace_id = {};
    b.logs.push_back(r);
    return b;
  };
  auto found = [](Store* s, uint32_t trace) {
    LogQuery q;
    q.trace_id = Tid(trace);
    q.end_unix_nanos = kT0 + 1000 * kSec;
    auto got = s->SearchLogs(q);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    std::vector<uint64_t> out;
    if (got.ok())
      for (const auto& l : got->logs.logs) out.push_back((l.time_unix_nano - kT0) / kSec);
    return out;
  };
  {
    auto s = Open();
    ASSERT_TRUE(AppendOne(s.get(), logs(1, kT0 + kSec)).ok());
    ASSERT_TRUE(AppendOne(s.get(), logs(2, kT0 + 2 * kSec)).ok());
    ASSERT_TRUE(AppendOne(s.get(), logs(1, kT0 + 3 * kSec)).ok());
    s->Close();
  }
  {  // Rewind the file to schema 3 as an older avtrace left it.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(opt_.path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "DROP TABLE log_chunks; DROP TABLE log_trace_index; "
                           "DELETE FROM meta WHERE key IN ('log_watermark', 'next_log_chunk'); "
                           "CREATE INDEX logs_trace ON logs(trace_prefix) WHERE trace_prefix "
                           "IS NOT NULL; PRAGMA user_version = 3",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  auto s = Open();
  EXPECT_EQ(found(s.get(), 1), (std::vector<uint64_t>{3, 1}));
  EXPECT_EQ(found(s.get(), 2), (std::vector<uint64_t>{2}));
  while (true) {
    auto more = s->Maintain(1000);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
  }
  s->Close();
  EXPECT_EQ(RawInt("PRAGMA user_version"), SchemaVersion());
  EXPECT_EQ(RawInt("SELECT count(*) FROM sqlite_master WHERE name = 'logs_trace'"), 0);
  EXPECT_EQ(RawInt("SELECT value FROM meta WHERE key = 'log_watermark'"), 6);
  EXPECT_EQ(RawInt("SELECT count(*) FROM log_trace_index"), 2);
  s = Open();
  ASSERT_TRUE(AppendOne(s.get(), logs(1, kT0 + 4 * kSec)).ok());
  EXPECT_EQ(found(s.get(), 1), (std::vector<uint64_t>{4, 3, 1}));
  EXPECT_EQ(found(s.get(), 2), (std::vector<uint64_t>{2}));
  s->Close();
  EXPECT_EQ(RawInt("SELECT min(id) FROM logs WHERE time = " + std::to_string(kT0 + 4 * kSec)), 7);
}

TEST_F(SqliteStoreTest, RejectsAnEmptyPath) {
  opt_.path.clear();
  auto s = OpenSqliteStore(opt_, nullptr, &SystemClock::Instance());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
}

// Postings exist only for keys indexed when a chunk was built; search falls back to scanning
// older chunks for a key added to the config later.
TEST_F(SqliteStoreTest, KeyIndexedLaterStillFindsOlderSpans) {
  opt_.maintain_min_rows = 1;
  opt_.indexed_attributes = {};
  {
    auto s = Open();
    ASSERT_TRUE(AppendOne(s.get(), MakeTrace(1, 3, kT0, "svc", "ep-7")).ok());
    ASSERT_TRUE(s->Maintain(1000).ok());
  }
  opt_.indexed_attributes = {"episode.id"};
  auto s = Open();
  ASSERT_TRUE(AppendOne(s.get(), MakeTrace(2, 3, kT0 + kSec, "svc", "ep-7")).ok());
  ASSERT_TRUE(s->Maintain(1000).ok());
  TraceQuery q;
  q.attributes = {{"episode.id", "ep-7"}};
  auto found = s->SearchTraces(q);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->traces.size(), 2u);
  EXPECT_EQ(found->traces[0].trace_id, Tid(2));
  EXPECT_EQ(found->traces[1].trace_id, Tid(1));
}

TEST_F(SqliteStoreTest, ExportsSelfTelemetry) {
  opt_.maintain_min_rows = 1;
  metrics::Registry registry;
  auto s = Open(&SystemClock::Instance(), &registry);
  ASSERT_TRUE(AppendOne(s.get(), MakeTrace(1, 5, kT0)).ok());
  ASSERT_TRUE(s->Maintain(100).ok());
  ASSERT_TRUE(s->ApplyRetention(RetentionCutoffs::All(kT0 + kSec), 100).ok());
  std::string text = registry.Serialize();
  for (const char* want :
       {"avtrace_store_commit_seconds_count 1",
        "avtrace_store_rows_written_total{table=\"spans\"} 5",
        "avtrace_store_maintain_indexed_rows_total 5", "avtrace_store_maintain_backlog_rows 0",
        "avtrace_store_retention_deleted_total{signal=\"traces\"} 5", "avtrace_store_size_bytes"}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }
}

// The WAL is folded into the database by the checkpointer thread, not by commits: the writer's
// own backstop is out of reach here, so only the background thread can make the file grow.
TEST_F(SqliteStoreTest, BackgroundCheckpointerFoldsTheWal) {
  opt_.wal_autocheckpoint_pages = 4;
  opt_.wal_max_pages = 1'000'000;
  auto s = Open();
  const auto initial = std::filesystem::file_size(opt_.path);
  for (uint32_t i = 0; i < 20; ++i) ASSERT_TRUE(AppendOne(s.get(), MakeTrace(i, 50, kT0)).ok());
  bool grew = false;
  // Polls (bounded) for the other thread's work; no fixed sleep.
  for (int i = 0; i < 1000 && !grew; ++i) {
    grew = std::filesystem::file_size(opt_.path) > initial + 64 * 1024;
    if (!grew) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(grew);
}

// An acknowledged Append survives the process dying without Close (WAL recovery).
TEST_F(SqliteStoreTest, SurvivesAKilledProcess) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto s = OpenSqliteStore(opt_, nullptr, &SystemClock::Instance());
    if (!s.ok()) _exit(2);
    otlp::Batch b = MakeTrace(42, 7, kT0);
    const otlp::Batch* p = &b;
    _exit((*s)->Append({&p, 1}).ok() ? 0 : 3);  // no Close, no destructors
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(std::filesystem::exists(opt_.path + "-wal"));
  auto s = Open();
  auto t = s->GetTrace(Tid(42));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->spans.size(), 7u);
  EXPECT_EQ(Unindexed(s.get()), 7u);
}

// ---------------------------------------------------------------------------------------------
// Codecs.

TEST(SqliteCodec, SpanExtraRoundTrip) {
  otlp::Batch b;
  otlp::Span s;
  std::string empty;
  EXPECT_FALSE(EncodeSpanExtra(s, &empty));  // nothing to store: NULL column
  s.trace_state = "a=b";
  s.status_message = "boom";
  s.dropped_attributes_count = 1;
  s.dropped_events_count = 2;
  s.dropped_links_count = 3;
  std::string attrs;
  otlp::AttrWriter(&attrs).Int("n", -5);
  s.events.push_back({kT0, "ev", {attrs, 1}, 4});
  otlp::SpanLink l;
  l.trace_id = Tid(3);
  l.span_id[7] = 9;
  l.trace_state = "x=y";
  l.attributes = {attrs, 1};
  l.dropped_attributes_count = 6;
  l.flags = 0x101;
  s.links.push_back(l);
  std::string enc;
  ASSERT_TRUE(EncodeSpanExtra(s, &enc));
  otlp::Span out;
  ASSERT_TRUE(DecodeSpanExtra(enc, &out, &b.arena).ok());
  EXPECT_EQ(out.trace_state, "a=b");
  EXPECT_EQ(out.status_message, "boom");
  EXPECT_EQ(out.dropped_attributes_count, 1u);
  EXPECT_EQ(out.dropped_events_count, 2u);
  EXPECT_EQ(out.dropped_links_count, 3u);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].time_unix_nano, kT0);
  EXPECT_EQ(out.events[0].name, "ev");
  EXPECT_EQ(out.events[0].attributes.encoded, attrs);
  EXPECT_EQ(out.events[0].attributes.count, 1u);
  EXPECT_EQ(out.events[0].dropped_attributes_count, 4u);
  ASSERT_EQ(out.links.size(), 1u);
  EXPECT_EQ(out.links[0].trace_id, Tid(3));
  EXPECT_EQ(out.links[0].span_id, l.span_id);
  EXPECT_EQ(out.links[0].trace_state, "x=y");
  EXPECT_EQ(out.links[0].dropped_attributes_count, 6u);
  EXPECT_EQ(out.links[0].flags, 0x101u);
  EXPECT_FALSE(DecodeSpanExtra(std::string("\x32\x05"
                                           "ab"),
                               &out, &b.arena)
                   .ok());  // truncated
}

TEST(SqliteCodec, PointDataRoundTrip) {
  otlp::Arena arena;
  otlp::MetricPoint p;
  p.has_min = p.has_max = true;
  p.min = -1.5;
  p.max = 99;
  p.bucket_counts = {1, 0, 300000};
  p.explicit_bounds = {0.5, 1};
  p.scale = -3;
  p.zero_count = 7;
  p.zero_threshold = 1e-6;
  p.positive = {-2, {1, 2}};
  p.negative = {4, {5}};
  p.quantile_values = {{0.5, 1}, {0.99, 2}};
  otlp::Exemplar e;
  e.time_unix_nano = kT0;
  e.value_kind = otlp::NumberKind::kInt;
  e.as_int = -8;
  e.trace_id = Tid(1);
  p.exemplars.push_back(e);
  std::string enc;
  ASSERT_TRUE(EncodePointData(p, &enc));
  otlp::MetricPoint q;
  ASSERT_TRUE(DecodePointData(enc, &q, &arena).ok());
  EXPECT_TRUE(q.has_min && q.has_max);
  EXPECT_EQ(q.min, -1.5);
  EXPECT_EQ(q.max, 99);
  EXPECT_EQ(q.bucket_counts, p.bucket_counts);
  EXPECT_EQ(q.explicit_bounds, p.explicit_bounds);
  EXPECT_EQ(q.scale, -3);
  EXPECT_EQ(q.zero_count, 7u);
  EXPECT_EQ(q.zero_threshold, 1e-6);
  EXPECT_EQ(q.positive.offset, -2);
  EXPECT_EQ(q.positive.bucket_counts, p.positive.bucket_counts);
  EXPECT_EQ(q.negative.offset, 4);
  EXPECT_EQ(q.negative.bucket_counts, p.negative.bucket_counts);
  EXPECT_EQ(q.quantile_values, p.quantile_values);
  ASSERT_EQ(q.exemplars.size(), 1u);
  EXPECT_EQ(q.exemplars[0].as_int, -8);
  EXPECT_EQ(q.exemplars[0].value_kind, otlp::NumberKind::kInt);
  EXPECT_EQ(q.exemplars[0].trace_id, Tid(1));
  EXPECT_TRUE(otlp::IsZeroId(q.exemplars[0].span_id));
  otlp::MetricPoint plain;
  EXPECT_FALSE(EncodePointData(plain, &enc));
}

TEST(SqliteCodec, PostingsBase64AndHash) {
  std::vector<int64_t> ids = {3, 4, 1000, 1 << 30}, out;
  std::string enc;
  EncodePostings(ids, &enc);
  ASSERT_TRUE(DecodePostings(enc, &out).ok());
  EXPECT_EQ(out, ids);
  out.clear();
  EXPECT_FALSE(DecodePostings("\xff", &out).ok());
  for (std::string s : {std::string(""), std::string("a"), std::string("ab"),
                        std::string("\x00\xff\x10", 3), std::string(24, '\x7f')}) {
    std::string back;
    ASSERT_TRUE(Base64UrlDecode(Base64UrlEncode(s), &back));
    EXPECT_EQ(back, s);
  }
  std::string junk;
  EXPECT_FALSE(Base64UrlDecode("a+b", &junk));
  // Stored in the database as an interning key: the algorithm must never change silently.
  EXPECT_EQ(Hash64("avtrace", 1), Hash64("avtrace", 1));
  EXPECT_NE(Hash64("avtrace", 1), Hash64("avtrace", 2));
  EXPECT_EQ(Hash64("avtrace", 1), 11080587876588144721u)
      << "update the pinned value only with a schema migration";
  EXPECT_EQ(TermHash(TermKind::kAttribute, "episode.id", "ep-1"), 5852819758415800726)
      << "update the pinned value only with a schema migration";
  EXPECT_NE(TermHash(TermKind::kAttribute, "a", "b"), TermHash(TermKind::kSpanName, "a", "b"));
  uint8_t buf[8];
  StorePrefixInt(-2, buf);
  EXPECT_EQ(PrefixInt(buf), -2);
}

}  // namespace
}  // namespace avtrace::store::sqlite
