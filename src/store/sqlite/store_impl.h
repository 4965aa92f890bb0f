#pragma once
// SqliteStore: the implementation class behind OpenSqliteStore (sqlite_store.h). Internal to
// store/sqlite; split over sqlite_store.cc (open, append, stats), maintain.cc (deferred indexes,
// retention), read_traces.cc, read_metrics.cc and read_logs.cc.
//
// Threads: the `writer_` connection, its statements and every member marked "writer" are used
// only by the writer thread (Append, Maintain, ApplyRetention, and Close). Readers take a
// ReadConn from `pool_`; each ReadConn is used by one thread at a time.

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "store/sqlite/db.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace avtrace::store::sqlite {

// An interned resource or scope as readers need it. Immutable once written.
struct ResourceRow {
  std::string attrs;
  uint32_t dropped = 0;
  std::string schema_url;
  std::string service;
};
struct ScopeRow {
  std::string name, version, attrs;
  uint32_t dropped = 0;
  std::string schema_url;
};

// One reader connection: statement cache (keyed by SQL text) and resource/scope caches.
class ReadConn {
 public:
  explicit ReadConn(Db db) : db_(std::move(db)) {}
  Db& db() { return db_; }
  // A cached prepared statement, reset and with cleared bindings.
  Result<Stmt*> Get(const std::string& sql);
  Result<const ResourceRow*> Resource(int64_t id);
  Result<const ScopeRow*> Scope(int64_t id);

 private:
  Db db_;
  std::unordered_map<std::string, std::unique_ptr<Stmt>> stmts_;
  std::unordered_map<int64_t, ResourceRow> resources_;
  std::unordered_map<int64_t, ScopeRow> scopes_;
};

// A read transaction: one consistent snapshot for all statements run inside it.
class ReadTxn {
 public:
  explicit ReadTxn(ReadConn* conn) : conn_(conn) {}
  ~ReadTxn();
  Status Begin();

 private:
  ReadConn* conn_;
  bool open_ = false;
};

class SqliteStore;

// A leased reader connection; returns it to the pool when destroyed.
class ReadLease {
 public:
  ReadLease(SqliteStore* store, std::unique_ptr<ReadConn> conn)
      : store_(store), conn_(std::move(conn)) {}
  ~ReadLease();
  ReadLease(ReadLease&&) = default;
  ReadConn* operator->() { return conn_.get(); }
  ReadConn* get() { return conn_.get(); }

 private:
  SqliteStore* store_;
  std::unique_ptr<ReadConn> conn_;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(const SqliteOptions& options, metrics::Registry* registry, const Clock* clock);
  ~SqliteStore() override;

  Status Open();

  Status Append(std::span<const otlp::Batch* const> batches) override;
  Status AppendWithSessions(std::span<const otlp::Batch* const> batches,
                            std::span<const player::SessionState> sessions) override;
  Result<bool> Maintain(uint32_t budget_rows) override;
  Result<RetentionResult> ApplyRetention(const RetentionCutoffs& cutoffs,
                                         uint32_t max_rows) override;
  Result<otlp::Batch> GetTrace(const otlp::TraceId& trace_id) override;
  Result<TraceSearchResult> SearchTraces(const TraceQuery& query) override;
  Result<std::vector<MetricInfo>> ListMetrics(const MetricListQuery& query) override;
  Result<SeriesResult> QuerySeries(const SeriesQuery& query) override;
  Result<LogSearchResult> SearchLogs(const LogQuery& query) override;
  Result<StoreStats> Stats() override;
  // Player telemetry (playback.cc).
  Result<SessionPage> ListSessions(const SessionListQuery& query) override;
  Result<player::SessionState> GetSession(std::string_view project_id,
                                          std::string_view session_id,
                                          size_t max_sequences) override;
  Result<PlaybackEventPage> ListSessionEvents(const SessionEventsQuery& query) override;
  Result<PlaybackEventPage> EventsAfter(uint64_t after, uint32_t limit) override;
  Result<std::vector<player::SessionState>> OpenSessions(uint32_t limit) override;
  void Close() override;

  // Reader pool.
  Result<ReadLease> AcquireReader();
  void ReleaseReader(std::unique_ptr<ReadConn> conn);

  // Which attribute keys have search postings, and from which chunk on (a key added to the
  // config later is indexed only for chunks built after that). Immutable after Open.
  struct IndexedKey {
    std::string key;
    int64_t since_chunk = 0;
  };
  const std::vector<IndexedKey>& indexed_keys() const { return indexed_keys_; }
  const Clock* clock() const { return clock_; }

 private:
  struct WriterStmts;
  struct Telemetry;

  // Writer helpers (sqlite_store.cc).
  Status AppendLocked(std::span<const otlp::Batch* const> batches, uint64_t* spans,
                      uint64_t* points, uint64_t* logs);
  Result<int64_t> InternResource(const otlp::Resource& r);
  Result<int64_t> InternScope(const otlp::Scope& s);
  Result<int64_t> InternMetric(const otlp::Metric& m, uint64_t seen);
  Result<int64_t> InternSeries(int64_t metric_id, int64_t resource_id, int64_t scope_id,
                               std::string_view attrs);
  void ClearWriterCaches();
  Status LoadWriterState();
  // Player telemetry writer helpers (playback.cc).
  Status PreparePlaybackStmts();
  Status AppendPlaybackLocked(std::span<const otlp::Batch* const> batches,
                              std::span<const player::SessionState> sessions, uint64_t* events);
  // The session row id of (project, session), inserting a minimal row if there is none.
  Result<int64_t> SessionRef(std::string_view project, std::string_view session,
                             uint64_t received);
  Status SetupIndexedKeys();
  void UpdateSizeGauge();
  // Drops arrival records of commits the deferred indexes now cover entirely.
  void TrimTailArrivals();

  // Maintain helpers (maintain.cc).
  // TermHashes of the indexed attributes of a resource / scope (cached: they never change).
  Result<const std::vector<int64_t>*> ResourceTerms(int64_t resource_id);
  Result<const std::vector<int64_t>*> ScopeTerms(int64_t scope_id);
  // The search terms of a resource's or scope's attributes, read once by id and cached.
  Result<const std::vector<int64_t>*> CachedTerms(
      std::unordered_map<int64_t, std::vector<int64_t>>& cache, Stmt& attrs_by_id, int64_t id);
  // Appends the TermHash of every indexed attribute in `attrs` to `out`.
  void AttrTerms(std::string_view attrs, std::vector<int64_t>* out) const;
  bool IsIndexedKey(std::string_view key) const;
  // Deferred-index counters as writing a chunk advances them (applied after its commit).
  struct ChunkState {
    int64_t chunk = 0;                              // id of the chunk to write
    int64_t gen = 0, gen_rows = 0, gen_chunks = 0;  // the open generation
    uint64_t trace_entries = 0, postings = 0;       // out: entries written
  };
  // A chunk being built over several Maintain steps: rows [first, last], read up to next - 1,
  // grouped in memory. Nothing is written until the whole chunk is read, so readers keep
  // scanning those rows in the tail meanwhile; a restart simply reads them again.
  struct PendingChunk {
    bool active = false;
    int64_t first = 0, last = 0, next = 0;
    int64_t rows = 0, min_start = INT64_MAX, max_start = 0;
    std::vector<std::pair<int64_t, int64_t>> traces;  // (trace-id prefix, span id)
    std::vector<std::pair<int64_t, int64_t>> terms;   // (TermHash, span id)
  };
  Status ExtractRows(int64_t from, int64_t to);
  Status WriteChunk(ChunkState* state);
  Result<uint64_t> RetainSpans(uint64_t cutoff, uint32_t max_rows, bool* more);
  Result<uint64_t> DeleteChunkRows(int64_t chunk, int64_t first, int64_t last, int64_t gen,
                                   uint64_t cutoff, uint32_t max_rows, bool* more);
  Result<bool> DropGenerations(uint32_t max_rows);
  // Span and log steps of Maintain.
  Result<bool> MaintainSpans(uint32_t budget_rows);
  Result<bool> MaintainLogs(uint32_t budget_rows);
  // Drops log chunks (and their trace-index entries) whose rows retention has all deleted.
  Status RetainLogChunks(uint64_t cutoff, bool* more);
  Result<uint64_t> RetainSeries(uint32_t max_rows);
  // Deletes ended sessions last active before `cutoff` and their events, at most about
  // `max_rows` rows per call.
  Status RetainPlayback(uint64_t cutoff, uint32_t max_rows, RetentionResult* r, bool* more);
  Status RunInTxn(const std::function<Status()>& body);

  SqliteOptions options_;
  metrics::Registry* registry_;
  const Clock* clock_;
  bool closed_ = false;

  // Writer.
  Db writer_;
  std::unique_ptr<WriterStmts> ws_;
  std::unique_ptr<Telemetry> tm_;
  int64_t next_span_id_ = 1;  // writer: next span row id
  int64_t watermark_ = 0;     // writer: last span id covered by the deferred indexes
  int64_t next_chunk_ = 1;    // writer
  int64_t open_gen_ = 0;      // writer: generation receiving chunks (0: none yet)
  int64_t open_gen_rows_ = 0, open_gen_chunks_ = 0;
  // writer: (first span id, monotonic arrival time) of each commit still (partly) in the tail,
  // oldest first, so Maintain knows how long the oldest unindexed span has waited.
  std::deque<std::pair<int64_t, uint64_t>> tail_arrivals_;
  int64_t next_log_id_ = 1;     // writer: next log row id
  int64_t log_watermark_ = 0;   // writer: last log id covered by log_trace_index
  int64_t next_log_chunk_ = 1;  // writer
  // writer: monotonic time the oldest unindexed log arrived (0: old, e.g. left by a restart).
  uint64_t log_tail_since_ = 0;
  int64_t series_gc_cursor_ = 0;   // writer: retention walks series ids from here
  PendingChunk pending_;           // writer
  std::string scratch_;            // writer: encode buffer
  std::string key_scratch_;        // writer: interning key buffer
  struct CachedId {
    std::string key;
    int64_t id;
  };
  std::unordered_map<uint64_t, CachedId> resource_ids_, scope_ids_, series_ids_;    // writer
  // Shared by InternResource/InternScope: finds the row whose key (rebuilt from its columns by
  // `row_key`) equals key_scratch_ among the rows `find` returns for hash `h`, through `cache`;
  // otherwise runs `insert` and caches the new rowid. Writer thread only.
  template <typename RowKey, typename Insert>
  Result<int64_t> InternByKey(std::unordered_map<uint64_t, CachedId>& cache, uint64_t h,
                              Stmt& find, RowKey row_key, Insert insert);
  std::unordered_map<std::string, int64_t> metric_ids_;                             // writer
  std::unordered_map<int64_t, std::vector<int64_t>> resource_terms_, scope_terms_;  // writer
  std::unordered_map<int64_t, uint64_t> touched_metrics_;                           // writer
  uint64_t next_ingest_sequence_ = 1;                        // writer: next playback event key
  std::unordered_map<std::string, int64_t> session_ids_;     // writer: "project\0session" -> id
  std::string session_key_;                                  // writer: lookup buffer

  std::vector<IndexedKey> indexed_keys_;

  // Background WAL checkpoints (sqlite_store.cc).
  static int WalHook(void* self, sqlite3* db, const char* name, int frames);
  void CheckpointLoop();
  void StopCheckpointer();
  std::thread checkpointer_;
  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  bool ckpt_wanted_ = false, ckpt_stop_ = false;  // guarded by ckpt_mu_
  std::atomic<int> wal_frames_{0};                // frames in the WAL after the last commit

  // Reader pool.
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<ReadConn>> free_readers_;
  uint32_t open_readers_ = 0;
};

// Adds resources and scopes to an output Batch by store id, each once, copying their bytes into
// the Batch's arena. Borrows the connection and the Batch.
class BatchBuilder {
 public:
  BatchBuilder(ReadConn* c, otlp::Batch* b) : c_(c), b_(b) {}
  Result<uint32_t> Resource(int64_t id);
  Result<uint32_t> Scope(int64_t id);

 private:
  ReadConn* c_;
  otlp::Batch* b_;
  std::unordered_map<int64_t, uint32_t> resources_, scopes_;
};

// Helpers shared by the read paths.
// True if any entry of `encoded` has `key` and its text form (otlp::ValueToText) is `value`.
bool AttrEquals(std::string_view encoded, std::string_view key, std::string_view value);
// Copies `bytes` into `arena` as an AttrList (count recomputed).
otlp::AttrList ArenaAttrs(otlp::Arena* arena, std::string_view bytes);

// Prepared statements of the writer connection.
struct SqliteStore::WriterStmts {
  Stmt begin, commit, rollback;
  Stmt insert_span;
  Stmt find_resource, insert_resource;
  Stmt find_scope, insert_scope;
  Stmt find_metric, insert_metric, touch_metric;
  Stmt find_series, insert_series;
  Stmt insert_point, insert_log;
  Stmt upsert_session, find_session, insert_session_min, insert_event;
  Stmt add_meta, set_meta;
  // Maintain.
  Stmt read_chunk, resource_attrs, scope_attrs;
  Stmt read_log_chunk, insert_log_trace_entry, insert_log_chunk;
  Stmt insert_trace_entry, insert_posting, insert_chunk, insert_gen, grow_gen;
};

// Self-telemetry handles (all null without a registry).
struct SqliteStore::Telemetry {
  prometheus::Histogram* commit_seconds = nullptr;
  prometheus::Counter* commits = nullptr;
  prometheus::Counter* commit_errors = nullptr;
  prometheus::Counter* rows_spans = nullptr;
  prometheus::Counter* rows_points = nullptr;
  prometheus::Counter* rows_logs = nullptr;
  prometheus::Counter* rows_series = nullptr;
  prometheus::Counter* rows_resources = nullptr;
  prometheus::Counter* rows_trace_index = nullptr;
  prometheus::Counter* rows_postings = nullptr;
  prometheus::Counter* rows_log_trace_index = nullptr;
  prometheus::Counter* maintain_rows = nullptr;
  prometheus::Histogram* maintain_seconds = nullptr;
  prometheus::Gauge* backlog = nullptr;
  prometheus::Gauge* size_bytes = nullptr;
  prometheus::Counter* retention_spans = nullptr;
  prometheus::Counter* retention_points = nullptr;
  prometheus::Counter* retention_logs = nullptr;
  prometheus::Counter* retention_series = nullptr;
  prometheus::Counter* retention_sessions = nullptr;
  prometheus::Counter* retention_playback_events = nullptr;

  static void Inc(prometheus::Counter* c, double n) {
    if (c && n > 0) c->Increment(n);
  }
};

}  // namespace avtrace::store::sqlite
