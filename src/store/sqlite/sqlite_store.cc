#include "store/sqlite/sqlite_store.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>

#include "core/log.h"
#include "metrics/registry.h"
#include "otlp/attributes.h"
#include "store/sqlite/codec.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/span_rows.h"
#include "store/sqlite/store_impl.h"

namespace avtrace::store::sqlite {

namespace {

// Interning caches are plain maps; past this size they are dropped and refilled from the
// database on demand (a miss costs one indexed lookup), which bounds writer memory.
constexpr size_t kMaxCacheEntries = 200'000;

void PutBytes(std::string* out, std::string_view v) {
  AppendVarint(out, v.size());
  out->append(v);
}

std::string_view IdBytes(const uint8_t* p, size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

std::string ServiceOf(std::string_view attrs) {
  otlp::ValueView v;
  if (!otlp::FindAttribute(attrs, "service.name", &v)) return "";
  return otlp::ValueToText(v);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Reader side plumbing.

Result<Stmt*> ReadConn::Get(const std::string& sql) {
  auto it = stmts_.find(sql);
  if (it == stmts_.end()) {
    ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, sql));
    it = stmts_.emplace(sql, std::make_unique<Stmt>(std::move(s))).first;
  }
  it->second->Reset();
  it->second->ClearBindings();
  return it->second.get();
}

Result<const ResourceRow*> ReadConn::Resource(int64_t id) {
  auto it = resources_.find(id);
  if (it != resources_.end()) return &it->second;
  if (resources_.size() > 10'000) resources_.clear();
  ASSIGN_OR_RETURN(Stmt * s,
                   Get("SELECT attrs, dropped, schema_url, service FROM resources WHERE id = ?1"));
  StmtScope scope(*s);
  s->BindInt(1, id);
  ASSIGN_OR_RETURN(bool row, s->Step());
  ResourceRow r;
  if (row) {
    r.attrs = std::string(s->ColBlob(0));
    r.dropped = static_cast<uint32_t>(s->ColInt(1));
    r.schema_url = std::string(s->ColText(2));
    r.service = std::string(s->ColText(3));
  }
  return &resources_.emplace(id, std::move(r)).first->second;
}

Result<const ScopeRow*> ReadConn::Scope(int64_t id) {
  auto it = scopes_.find(id);
  if (it != scopes_.end()) return &it->second;
  if (scopes_.size() > 10'000) scopes_.clear();
  ASSIGN_OR_RETURN(Stmt * s, Get("SELECT name, version, attrs, dropped, schema_url FROM scopes "
                                 "WHERE id = ?1"));
  StmtScope scope(*s);
  s->BindInt(1, id);
  ASSIGN_OR_RETURN(bool row, s->Step());
  ScopeRow r;
  if (row) {
    r.name = std::string(s->ColText(0));
    r.version = std::string(s->ColText(1));
    r.attrs = std::string(s->ColBlob(2));
    r.dropped = static_cast<uint32_t>(s->ColInt(3));
    r.schema_url = std::string(s->ColText(4));
  }
  return &scopes_.emplace(id, std::move(r)).first->second;
}

Status ReadTxn::Begin() {
  // A connection left inside a transaction by an earlier failure would serve a stale snapshot.
  if (!sqlite3_get_autocommit(conn_->db().get())) (void)conn_->db().Exec("ROLLBACK");
  ASSIGN_OR_RETURN(Stmt * s, conn_->Get("BEGIN"));
  RETURN_IF_ERROR(s->Run());
  open_ = true;
  return Status::Ok();
}

ReadTxn::~ReadTxn() {
  if (!open_) return;
  auto s = conn_->Get("COMMIT");
  if (s.ok()) (void)(*s)->Run();
}

ReadLease::~ReadLease() {
  if (conn_) store_->ReleaseReader(std::move(conn_));
}

Result<ReadLease> SqliteStore::AcquireReader() {
  {
    std::unique_lock lock(pool_mu_);
    if (closed_) return Unavailable("store is closed");
    pool_cv_.wait(lock,
                  [&] { return !free_readers_.empty() || open_readers_ < options_.max_readers; });
    if (!free_readers_.empty()) {
      auto conn = std::move(free_readers_.back());
      free_readers_.pop_back();
      return ReadLease(this, std::move(conn));
    }
    ++open_readers_;
  }
  auto fail = [&](Status s) -> Result<ReadLease> {
    std::lock_guard lock(pool_mu_);
    --open_readers_;
    pool_cv_.notify_one();
    return s;
  };
  auto db = Db::Open(options_.path, false, false);
  if (!db.ok()) return fail(db.status());
  Status s = ConfigureReader(db.value(), options_);
  if (!s.ok()) return fail(s);
  return ReadLease(this, std::make_unique<ReadConn>(std::move(db).value()));
}

void SqliteStore::ReleaseReader(std::unique_ptr<ReadConn> conn) {
  std::lock_guard lock(pool_mu_);
  if (closed_) {
    --open_readers_;
    return;  // the connection closes here
  }
  free_readers_.push_back(std::move(conn));
  pool_cv_.notify_one();
}

Result<uint32_t> BatchBuilder::Resource(int64_t id) {
  auto it = resources_.find(id);
  if (it != resources_.end()) return it->second;
  ASSIGN_OR_RETURN(const ResourceRow* r, c_->Resource(id));
  otlp::Resource out;
  out.attributes = ArenaAttrs(&b_->arena, r->attrs);
  out.dropped_attributes_count = r->dropped;
  out.schema_url = b_->arena.Copy(r->schema_url);
  b_->resources.push_back(out);
  uint32_t index = static_cast<uint32_t>(b_->resources.size() - 1);
  resources_.emplace(id, index);
  return index;
}

Result<uint32_t> BatchBuilder::Scope(int64_t id) {
  auto it = scopes_.find(id);
  if (it != scopes_.end()) return it->second;
  ASSIGN_OR_RETURN(const ScopeRow* r, c_->Scope(id));
  otlp::Scope out;
  out.name = b_->arena.Copy(r->name);
  out.version = b_->arena.Copy(r->version);
  out.attributes = ArenaAttrs(&b_->arena, r->attrs);
  out.dropped_attributes_count = r->dropped;
  out.schema_url = b_->arena.Copy(r->schema_url);
  b_->scopes.push_back(out);
  uint32_t index = static_cast<uint32_t>(b_->scopes.size() - 1);
  scopes_.emplace(id, index);
  return index;
}

bool AttrEquals(std::string_view encoded, std::string_view key, std::string_view value) {
  bool found = false;
  (void)otlp::VisitAttributes(encoded, [&](std::string_view k, const otlp::ValueView& v) {
    if (found || k != key) return;
    if (v.type == otlp::ValueType::kString)
      found = v.bytes == value;
    else
      found = otlp::ValueToText(v) == value;
  });
  return found;
}

otlp::AttrList ArenaAttrs(otlp::Arena* arena, std::string_view bytes) {
  otlp::AttrList a;
  a.encoded = arena->Copy(bytes);
  a.count = CountAttrs(bytes);
  return a;
}

// ---------------------------------------------------------------------------------------------
// Open / close.

SqliteStore::SqliteStore(const SqliteOptions& options, metrics::Registry* registry,
                         const Clock* clock)
    : options_(options), registry_(registry), clock_(clock) {}

SqliteStore::~SqliteStore() { Close(); }

Status SqliteStore::Open() {
  if (options_.path.empty()) return InvalidArgument("sqlite store: empty path");
  if (options_.max_readers == 0) options_.max_readers = 1;
  std::error_code ec;
  auto parent = std::filesystem::path(options_.path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return Unavailable("create " + parent.string() + ": " + ec.message());

  ASSIGN_OR_RETURN(writer_, Db::Open(options_.path, true, false));
  RETURN_IF_ERROR(ConfigureWriter(writer_, options_));
  RETURN_IF_ERROR(Migrate(writer_));

  ws_ = std::make_unique<WriterStmts>();
  WriterStmts& w = *ws_;
  struct {
    Stmt* stmt;
    std::string sql;
  } stmts[] = {
      {&w.begin, "BEGIN IMMEDIATE"},
      {&w.commit, "COMMIT"},
      {&w.rollback, "ROLLBACK"},
      {&w.insert_span, InsertSpanSql(1)},
      {&w.find_resource, "SELECT id, attrs, schema_url, dropped FROM resources WHERE hash = ?1"},
      {&w.insert_resource,
       "INSERT INTO resources(hash, service, attrs, dropped, schema_url) "
       "VALUES (?1, ?2, ?3, ?4, ?5)"},
      {&w.find_scope,
       "SELECT id, name, version, attrs, schema_url, dropped FROM scopes WHERE hash = ?1"},
      {&w.insert_scope,
       "INSERT INTO scopes(hash, name, version, attrs, dropped, schema_url) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
      {&w.find_metric,
       "SELECT id FROM metrics WHERE name = ?1 AND type = ?2 AND unit = ?3 AND "
       "temporality = ?4 AND monotonic = ?5"},
      {&w.insert_metric,
       "INSERT INTO metrics(name, type, unit, temporality, monotonic, "
       "description, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
      {&w.touch_metric, "UPDATE metrics SET last_seen = max(last_seen, ?2) WHERE id = ?1"},
      {&w.find_series,
       "SELECT id, metric_id, resource_id, scope_id, attrs FROM series WHERE hash = ?1"},
      {&w.insert_series,
       "INSERT INTO series(metric_id, resource_id, scope_id, hash, attrs) "
       "VALUES (?1, ?2, ?3, ?4, ?5)"},
      {&w.insert_point,
       "INSERT INTO points(series_id, time, start_time, flags, value, count, "
       "sum, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
      {&w.insert_log,
       "INSERT INTO logs(ts, time, observed_time, severity, severity_text, body, attrs, dropped, "
       "flags, trace_prefix, trace_id, span_id, event_name, resource_id, scope_id, id) VALUES "
       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"},
      {&w.add_meta, "UPDATE meta SET value = value + ?2 WHERE key = ?1"},
      {&w.set_meta, "UPDATE meta SET value = ?2 WHERE key = ?1"},
      {&w.read_log_chunk,
       "SELECT id, ts, trace_prefix FROM logs WHERE id >= ?1 AND id <= ?2 ORDER BY id"},
      {&w.insert_log_trace_entry,
       "INSERT INTO log_trace_index(chunk, prefix, ids) VALUES (?1, ?2, ?3)"},
      {&w.insert_log_chunk,
       "INSERT INTO log_chunks(chunk, first_id, last_id, min_ts, max_ts, rows) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
      {&w.read_chunk,
       "SELECT id, trace_id, start_time, name, status, resource_id, scope_id, attrs "
       "FROM spans WHERE id >= ?1 AND id <= ?2 ORDER BY id"},
      {&w.resource_attrs, "SELECT attrs FROM resources WHERE id = ?1"},
      {&w.scope_attrs, "SELECT attrs FROM scopes WHERE id = ?1"},
      {&w.insert_trace_entry,
       "INSERT OR REPLACE INTO trace_index(gen, prefix, chunk, ids) VALUES (?1, ?2, ?3, ?4)"},
      {&w.insert_posting,
       "INSERT OR REPLACE INTO postings(gen, term, chunk, ids) VALUES (?1, ?2, ?3, ?4)"},
      {&w.insert_chunk,
       "INSERT INTO span_chunks(chunk, gen, first_id, last_id, min_start, "
       "max_start, rows) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
      {&w.insert_gen, "INSERT INTO span_gens(gen, rows, chunks) VALUES (?1, 0, 0)"},
      {&w.grow_gen, "UPDATE span_gens SET rows = rows + ?2, chunks = chunks + 1 WHERE gen = ?1"},
  };
  for (auto& s : stmts) {
    ASSIGN_OR_RETURN(*s.stmt, Stmt::Prepare(writer_, s.sql));
  }
  RETURN_IF_ERROR(LoadWriterState());
  RETURN_IF_ERROR(PreparePlaybackStmts());
  RETURN_IF_ERROR(SetupIndexedKeys());
  if (options_.background_checkpoint) {
    // Replaces the automatic checkpoint (which is itself a WAL hook) on the writer.
    sqlite3_wal_hook(writer_.get(), &SqliteStore::WalHook, this);
    checkpointer_ = std::thread([this] { CheckpointLoop(); });
  }

  tm_ = std::make_unique<Telemetry>();
  if (registry_) {
    Telemetry& t = *tm_;
    auto& r = *registry_;
    t.commit_seconds = &r.Histogram("avtrace_store_commit_seconds",
                                    "Append transaction latency (begin to durable commit)",
                                    metrics::LatencyBuckets());
    t.commits = &r.Counter("avtrace_store_commits_total", "Append transactions committed");
    t.commit_errors =
        &r.Counter("avtrace_store_commit_errors_total", "Append transactions rolled back on error");
    const std::string rows = "avtrace_store_rows_written_total";
    const std::string rows_help = "Rows written per table";
    t.rows_spans = &r.Counter(rows, rows_help, {{"table", "spans"}});
    t.rows_points = &r.Counter(rows, rows_help, {{"table", "points"}});
    t.rows_logs = &r.Counter(rows, rows_help, {{"table", "logs"}});
    t.rows_series = &r.Counter(rows, rows_help, {{"table", "series"}});
    t.rows_resources = &r.Counter(rows, rows_help, {{"table", "resources"}});
    t.rows_trace_index = &r.Counter(rows, rows_help, {{"table", "trace_index"}});
    t.rows_postings = &r.Counter(rows, rows_help, {{"table", "postings"}});
    t.rows_log_trace_index = &r.Counter(rows, rows_help, {{"table", "log_trace_index"}});
    t.maintain_rows = &r.Counter("avtrace_store_maintain_indexed_rows_total",
                                 "Span rows covered by the deferred indexes");
    t.maintain_seconds =
        &r.Histogram("avtrace_store_maintain_seconds",
                     "Duration of one Maintain step that did work", metrics::LatencyBuckets());
    t.backlog = &r.Gauge("avtrace_store_maintain_backlog_rows",
                         "Span rows not yet covered by the deferred indexes");
    t.size_bytes = &r.Gauge("avtrace_store_size_bytes", "Database size on disk, WAL included");
    const std::string del = "avtrace_store_retention_deleted_total";
    const std::string del_help = "Rows deleted by retention";
    t.retention_spans = &r.Counter(del, del_help, {{"signal", "traces"}});
    t.retention_points = &r.Counter(del, del_help, {{"signal", "metrics"}});
    t.retention_logs = &r.Counter(del, del_help, {{"signal", "logs"}});
    t.retention_series = &r.Counter(del, del_help, {{"signal", "series"}});
    t.retention_sessions = &r.Counter(del, del_help, {{"signal", "playback_sessions"}});
    t.retention_playback_events = &r.Counter(del, del_help, {{"signal", "playback_events"}});
    t.backlog->Set(static_cast<double>(next_span_id_ - 1 - watermark_));
    UpdateSizeGauge();
  }
  log::Info("Opened the SQLite store.",
            {{"path", options_.path},
             {"schema_version", std::to_string(SchemaVersion())},
             {"unindexed_spans", std::to_string(next_span_id_ - 1 - watermark_)}});
  return Status::Ok();
}

Status SqliteStore::LoadWriterState() {
  auto meta = [&](const char* key) -> Result<int64_t> {
    return writer_.QueryInt(std::string("SELECT value FROM meta WHERE key = '") + key + "'");
  };
  ASSIGN_OR_RETURN(watermark_, meta("span_watermark"));
  ASSIGN_OR_RETURN(next_chunk_, meta("next_chunk"));
  ASSIGN_OR_RETURN(open_gen_, meta("open_gen"));
  ASSIGN_OR_RETURN(int64_t max_id, writer_.QueryInt("SELECT max(id) FROM spans"));
  next_span_id_ = std::max(max_id, watermark_) + 1;
  // Log ids are assigned here too, never at or below the log watermark (retention may have
  // deleted the newest indexed rows; their ids must not come back unindexed).
  ASSIGN_OR_RETURN(log_watermark_, meta("log_watermark"));
  ASSIGN_OR_RETURN(next_log_chunk_, meta("next_log_chunk"));
  ASSIGN_OR_RETURN(int64_t max_log_id, writer_.QueryInt("SELECT max(id) FROM logs"));
  next_log_id_ = std::max(max_log_id, log_watermark_) + 1;
  log_tail_since_ = 0;  // an unindexed tail left by a previous run counts as old
  if (open_gen_ > 0) {
    ASSIGN_OR_RETURN(Stmt g, Stmt::Prepare(writer_,
                                           "SELECT rows, chunks FROM span_gens WHERE "
                                           "gen = ?1",
                                           false));
    g.BindInt(1, open_gen_);
    ASSIGN_OR_RETURN(bool row, g.Step());
    if (row) {
      open_gen_rows_ = g.ColInt(0);
      open_gen_chunks_ = g.ColInt(1);
    } else {
      open_gen_ = 0;
    }
  }
  // An unindexed tail left by a previous run is old by definition: index it at once.
  tail_arrivals_.clear();
  if (next_span_id_ - 1 > watermark_) tail_arrivals_.emplace_back(watermark_ + 1, 0);
  return Status::Ok();
}

Status SqliteStore::SetupIndexedKeys() {
  std::vector<std::string> wanted = options_.indexed_attributes;
  wanted.push_back("service.name");
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  wanted.erase(std::remove(wanted.begin(), wanted.end(), std::string()), wanted.end());

  std::vector<IndexedKey> existing;
  {
    ASSIGN_OR_RETURN(Stmt s,
                     Stmt::Prepare(writer_, "SELECT key, since_chunk FROM indexed_keys", false));
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      existing.push_back({std::string(s.ColText(0)), s.ColInt(1)});
    }
  }
  RETURN_IF_ERROR(writer_.Exec("BEGIN IMMEDIATE"));
  Status st;
  {
    auto ins =
        Stmt::Prepare(writer_, "INSERT INTO indexed_keys(key, since_chunk) VALUES (?1, ?2)", false);
    auto del = Stmt::Prepare(writer_, "DELETE FROM indexed_keys WHERE key = ?1", false);
    if (!ins.ok())
      st = ins.status();
    else if (!del.ok())
      st = del.status();
    for (const auto& e : existing) {
      if (!st.ok()) break;
      if (std::find(wanted.begin(), wanted.end(), e.key) == wanted.end()) {
        del->BindText(1, e.key);
        st = del->Run();
      }
    }
    for (const auto& k : wanted) {
      if (!st.ok()) break;
      auto it = std::find_if(existing.begin(), existing.end(),
                             [&](const IndexedKey& e) { return e.key == k; });
      if (it != existing.end()) {
        indexed_keys_.push_back(*it);
        continue;
      }
      ins->BindText(1, k);
      ins->BindInt(2, next_chunk_);
      st = ins->Run();
      indexed_keys_.push_back({k, next_chunk_});
    }
  }
  if (st.ok()) st = writer_.Exec("COMMIT");
  if (!st.ok()) (void)writer_.Exec("ROLLBACK");
  return st;
}

int SqliteStore::WalHook(void* self, sqlite3* db, const char*, int frames) {
  auto* store = static_cast<SqliteStore*>(self);
  store->wal_frames_.store(frames, std::memory_order_relaxed);
  if (frames >= static_cast<int>(store->options_.wal_max_pages)) {
    // The checkpointer fell behind (or readers pinned old frames): catch up here, between two
    // transactions of the writer, so that the next one can restart the WAL from its beginning.
    int log = 0, done = 0;
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
  } else if (frames >= static_cast<int>(store->options_.wal_autocheckpoint_pages)) {
    std::lock_guard lock(store->ckpt_mu_);
    store->ckpt_wanted_ = true;
    store->ckpt_cv_.notify_one();
  }
  return SQLITE_OK;
}

void SqliteStore::CheckpointLoop() {
  auto db = Db::Open(options_.path, false, false);
  // Reading the schema makes the new connection see that the file is in WAL mode; until then a
  // checkpoint call is a silent no-op.
  if (!db.ok() || !db->Exec("PRAGMA busy_timeout=5000").ok() ||
      !db->QueryInt("SELECT count(*) FROM sqlite_master").ok()) {
    log::Error("The WAL checkpointer could not open the database; the writer checkpoints alone.",
               {{"path", options_.path}});
    return;
  }
  std::unique_lock lock(ckpt_mu_);
  while (!ckpt_stop_) {
    // Also wakes up now and then, so an idle store ends up with its WAL folded back.
    ckpt_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return ckpt_stop_ || ckpt_wanted_; });
    if (ckpt_stop_) break;
    if (!ckpt_wanted_ && wal_frames_.load(std::memory_order_relaxed) == 0) continue;
    ckpt_wanted_ = false;
    lock.unlock();
    int log = 0, done = 0;
    sqlite3_wal_checkpoint_v2(db->get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    if (log >= 0 && done == log) wal_frames_.store(0, std::memory_order_relaxed);
    lock.lock();
  }
}

void SqliteStore::StopCheckpointer() {
  if (!checkpointer_.joinable()) return;
  {
    std::lock_guard lock(ckpt_mu_);
    ckpt_stop_ = true;
    ckpt_cv_.notify_one();
  }
  checkpointer_.join();
}

void SqliteStore::Close() {
  {
    std::lock_guard lock(pool_mu_);
    if (closed_) return;
    closed_ = true;
    open_readers_ -= static_cast<uint32_t>(free_readers_.size());
    free_readers_.clear();
  }
  StopCheckpointer();
  ws_.reset();
  if (writer_) {
    // Fold the WAL back into the database so the next open starts clean and fast.
    (void)writer_.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
    writer_.Close();
    log::Info("Closed the SQLite store.", {{"path", options_.path}});
  }
}

void SqliteStore::TrimTailArrivals() {
  // A record covers ids from its first id up to the next record's; it goes once all are indexed.
  while (!tail_arrivals_.empty()) {
    const int64_t covers_to =
        tail_arrivals_.size() > 1 ? tail_arrivals_[1].first - 1 : next_span_id_ - 1;
    if (covers_to > watermark_) break;
    tail_arrivals_.pop_front();
  }
}

void SqliteStore::UpdateSizeGauge() {
  if (!tm_ || !tm_->size_bytes) return;
  std::error_code ec;
  uint64_t size = 0;
  auto a = std::filesystem::file_size(options_.path, ec);
  if (!ec) size += a;
  auto b = std::filesystem::file_size(options_.path + "-wal", ec);
  if (!ec) size += b;
  tm_->size_bytes->Set(static_cast<double>(size));
}

// ---------------------------------------------------------------------------------------------
// Append.

void SqliteStore::ClearWriterCaches() {
  resource_ids_.clear();
  scope_ids_.clear();
  series_ids_.clear();
  metric_ids_.clear();
  session_ids_.clear();
  resource_terms_.clear();
  scope_terms_.clear();
}

template <typename RowKey, typename Insert>
Result<int64_t> SqliteStore::InternByKey(std::unordered_map<uint64_t, CachedId>& cache,
                                         uint64_t h, Stmt& find, RowKey row_key, Insert insert) {
  auto it = cache.find(h);
  if (it != cache.end() && it->second.key == key_scratch_) return it->second.id;
  auto remember = [&](int64_t id) {
    if (cache.size() > kMaxCacheEntries) cache.clear();
    cache[h] = {key_scratch_, id};
    return id;
  };
  {
    StmtScope scope(find);
    find.BindInt(1, static_cast<int64_t>(h));
    std::string stored;
    while (true) {
      ASSIGN_OR_RETURN(bool row, find.Step());
      if (!row) break;
      stored.clear();
      row_key(find, &stored);
      if (stored == key_scratch_) return remember(find.ColInt(0));
    }
  }
  RETURN_IF_ERROR(insert());
  return remember(sqlite3_last_insert_rowid(writer_.get()));
}

Result<int64_t> SqliteStore::InternResource(const otlp::Resource& r) {
  key_scratch_.clear();
  PutBytes(&key_scratch_, r.attributes.encoded);
  PutBytes(&key_scratch_, r.schema_url);
  AppendVarint(&key_scratch_, r.dropped_attributes_count);
  const uint64_t h = Hash64(key_scratch_, 1);
  return InternByKey(
      resource_ids_, h, ws_->find_resource,
      [](Stmt& f, std::string* key) {
        PutBytes(key, f.ColBlob(1));
        PutBytes(key, f.ColText(2));
        AppendVarint(key, static_cast<uint64_t>(f.ColInt(3)));
      },
      [&]() -> Status {
        Stmt& ins = ws_->insert_resource;
        std::string service = ServiceOf(r.attributes.encoded);
        ins.BindInt(1, static_cast<int64_t>(h));
        ins.BindText(2, service);
        ins.BindBlobOrNull(3, r.attributes.encoded);
        ins.BindInt(4, r.dropped_attributes_count);
        ins.BindText(5, r.schema_url);
        RETURN_IF_ERROR(ins.Run());
        Telemetry::Inc(tm_->rows_resources, 1);
        return Status::Ok();
      });
}

Result<int64_t> SqliteStore::InternScope(const otlp::Scope& s) {
  key_scratch_.clear();
  PutBytes(&key_scratch_, s.name);
  PutBytes(&key_scratch_, s.version);
  PutBytes(&key_scratch_, s.attributes.encoded);
  PutBytes(&key_scratch_, s.schema_url);
  AppendVarint(&key_scratch_, s.dropped_attributes_count);
  const uint64_t h = Hash64(key_scratch_, 2);
  return InternByKey(
      scope_ids_, h, ws_->find_scope,
      [](Stmt& f, std::string* key) {
        PutBytes(key, f.ColText(1));
        PutBytes(key, f.ColText(2));
        PutBytes(key, f.ColBlob(3));
        PutBytes(key, f.ColText(4));
        AppendVarint(key, static_cast<uint64_t>(f.ColInt(5)));
      },
      [&]() -> Status {
        Stmt& ins = ws_->insert_scope;
        ins.BindInt(1, static_cast<int64_t>(h));
        ins.BindText(2, s.name);
        ins.BindText(3, s.version);
        ins.BindBlobOrNull(4, s.attributes.encoded);
        ins.BindInt(5, s.dropped_attributes_count);
        ins.BindText(6, s.schema_url);
        return ins.Run();
      });
}

Result<int64_t> SqliteStore::InternMetric(const otlp::Metric& m, uint64_t seen) {
  key_scratch_.clear();
  PutBytes(&key_scratch_, m.name);
  PutBytes(&key_scratch_, m.unit);
  key_scratch_ += static_cast<char>(m.type);
  key_scratch_ += static_cast<char>(m.temporality);
  key_scratch_ += static_cast<char>(m.is_monotonic);
  int64_t id;
  auto it = metric_ids_.find(key_scratch_);
  if (it != metric_ids_.end()) {
    id = it->second;
  } else {
    Stmt& f = ws_->find_metric;
    f.BindText(1, m.name);
    f.BindInt(2, static_cast<int>(m.type));
    f.BindText(3, m.unit);
    f.BindInt(4, static_cast<int>(m.temporality));
    f.BindInt(5, m.is_monotonic ? 1 : 0);
    ASSIGN_OR_RETURN(bool row, f.Step());
    id = row ? f.ColInt(0) : 0;
    f.Reset();
    if (!row) {
      Stmt& ins = ws_->insert_metric;
      ins.BindText(1, m.name);
      ins.BindInt(2, static_cast<int>(m.type));
      ins.BindText(3, m.unit);
      ins.BindInt(4, static_cast<int>(m.temporality));
      ins.BindInt(5, m.is_monotonic ? 1 : 0);
      ins.BindText(6, m.description);
      ins.BindInt(7, static_cast<int64_t>(seen));
      RETURN_IF_ERROR(ins.Run());
      id = sqlite3_last_insert_rowid(writer_.get());
    }
    if (metric_ids_.size() > kMaxCacheEntries) metric_ids_.clear();
    metric_ids_.emplace(key_scratch_, id);
  }
  uint64_t& t = touched_metrics_[id];
  t = std::max(t, seen);
  return id;
}

Result<int64_t> SqliteStore::InternSeries(int64_t metric_id, int64_t resource_id, int64_t scope_id,
                                          std::string_view attrs) {
  key_scratch_.clear();
  AppendVarint(&key_scratch_, static_cast<uint64_t>(metric_id));
  AppendVarint(&key_scratch_, static_cast<uint64_t>(resource_id));
  AppendVarint(&key_scratch_, static_cast<uint64_t>(scope_id));
  key_scratch_.append(attrs);
  uint64_t h = Hash64(key_scratch_, 3);
  auto it = series_ids_.find(h);
  if (it != series_ids_.end() && it->second.key == key_scratch_) return it->second.id;

  Stmt& f = ws_->find_series;
  {
    StmtScope scope(f);
    f.BindInt(1, static_cast<int64_t>(h));
    while (true) {
      ASSIGN_OR_RETURN(bool row, f.Step());
      if (!row) break;
      if (f.ColInt(1) == metric_id && f.ColInt(2) == resource_id && f.ColInt(3) == scope_id &&
          f.ColBlob(4) == attrs) {
        int64_t id = f.ColInt(0);
        if (series_ids_.size() > kMaxCacheEntries) series_ids_.clear();
        series_ids_[h] = {key_scratch_, id};
        return id;
      }
    }
  }
  Stmt& ins = ws_->insert_series;
  ins.BindInt(1, metric_id);
  ins.BindInt(2, resource_id);
  ins.BindInt(3, scope_id);
  ins.BindInt(4, static_cast<int64_t>(h));
  ins.BindBlobOrNull(5, attrs);
  RETURN_IF_ERROR(ins.Run());
  int64_t id = sqlite3_last_insert_rowid(writer_.get());
  if (series_ids_.size() > kMaxCacheEntries) series_ids_.clear();
  series_ids_[h] = {key_scratch_, id};
  Telemetry::Inc(tm_->rows_series, 1);
  return id;
}

Status SqliteStore::AppendLocked(std::span<const otlp::Batch* const> batches, uint64_t* n_spans,
                                 uint64_t* n_points, uint64_t* n_logs) {
  std::vector<int64_t> res_ids, scope_ids, metric_ids;
  static const otlp::Resource kNoResource;
  static const otlp::Scope kNoScope;
  for (const otlp::Batch* b : batches) {
    if (!b) continue;
    res_ids.assign(b->resources.size() + 1, -1);
    scope_ids.assign(b->scopes.size() + 1, -1);
    // Decoders guarantee valid indexes; an out-of-range one maps to an empty resource/scope
    // (the last slot) rather than failing every request in the group commit.
    auto resource = [&](uint32_t i) -> Result<int64_t> {
      size_t slot = i < b->resources.size() ? i : b->resources.size();
      if (res_ids[slot] < 0) {
        ASSIGN_OR_RETURN(res_ids[slot],
                         InternResource(i < b->resources.size() ? b->resources[i] : kNoResource));
      }
      return res_ids[slot];
    };
    auto scope = [&](uint32_t i) -> Result<int64_t> {
      size_t slot = i < b->scopes.size() ? i : b->scopes.size();
      if (scope_ids[slot] < 0) {
        ASSIGN_OR_RETURN(scope_ids[slot],
                         InternScope(i < b->scopes.size() ? b->scopes[i] : kNoScope));
      }
      return scope_ids[slot];
    };

    Stmt& ins = ws_->insert_span;
    for (const otlp::Span& s : b->spans) {
      ASSIGN_OR_RETURN(int64_t rid, resource(s.resource_index));
      ASSIGN_OR_RETURN(int64_t sid, scope(s.scope_index));
      BindSpanRow(ins, 0, s, next_span_id_, rid, sid, &scratch_);
      RETURN_IF_ERROR(ins.Run());
      ++next_span_id_;
    }
    *n_spans += b->spans.size();

    if (!b->points.empty()) {
      metric_ids.assign(b->metrics.size(), -1);
      uint64_t seen = b->received_unix_nanos ? b->received_unix_nanos : clock_->NowUnixNanos();
      Stmt& p = ws_->insert_point;
      for (const otlp::MetricPoint& pt : b->points) {
        if (pt.metric_index >= b->metrics.size()) continue;  // decoder bug; nothing to attach to
        const otlp::Metric& m = b->metrics[pt.metric_index];
        if (metric_ids[pt.metric_index] < 0) {
          ASSIGN_OR_RETURN(metric_ids[pt.metric_index], InternMetric(m, seen));
        }
        ASSIGN_OR_RETURN(int64_t rid, resource(m.resource_index));
        ASSIGN_OR_RETURN(int64_t sid, scope(m.scope_index));
        ASSIGN_OR_RETURN(int64_t series, InternSeries(metric_ids[pt.metric_index], rid, sid,
                                                      pt.attributes.encoded));
        p.BindInt(1, series);
        p.BindInt(2, static_cast<int64_t>(pt.time_unix_nano));
        p.BindInt(3, static_cast<int64_t>(pt.start_time_unix_nano));
        p.BindInt(4, pt.flags);
        bool numeric = m.type == otlp::MetricType::kGauge || m.type == otlp::MetricType::kSum;
        if (numeric && pt.value_kind == otlp::NumberKind::kInt)
          p.BindInt(5, pt.as_int);
        else if (numeric && pt.value_kind == otlp::NumberKind::kDouble)
          p.BindDouble(5, pt.as_double);
        else
          p.BindNull(5);
        if (numeric) {
          p.BindNull(6);
          p.BindNull(7);
        } else {
          p.BindInt(6, static_cast<int64_t>(pt.count));
          if (pt.has_sum)
            p.BindDouble(7, pt.sum);
          else
            p.BindNull(7);
        }
        if (EncodePointData(pt, &scratch_))
          p.BindBlob(8, scratch_);
        else
          p.BindNull(8);
        RETURN_IF_ERROR(p.Run());
      }
      *n_points += b->points.size();
    }

    Stmt& l = ws_->insert_log;
    for (const otlp::LogRecord& r : b->logs) {
      ASSIGN_OR_RETURN(int64_t rid, resource(r.resource_index));
      ASSIGN_OR_RETURN(int64_t sid, scope(r.scope_index));
      uint64_t ts = r.time_unix_nano ? r.time_unix_nano : r.observed_time_unix_nano;
      l.BindInt(1, static_cast<int64_t>(ts));
      l.BindInt(2, static_cast<int64_t>(r.time_unix_nano));
      l.BindInt(3, static_cast<int64_t>(r.observed_time_unix_nano));
      l.BindInt(4, r.severity_number);
      l.BindText(5, r.severity_text);
      l.BindBlobOrNull(6, r.body);
      l.BindBlobOrNull(7, r.attributes.encoded);
      l.BindInt(8, r.dropped_attributes_count);
      l.BindInt(9, r.flags);
      if (otlp::IsZeroId(r.trace_id)) {
        l.BindNull(10);
        l.BindNull(11);
      } else {
        l.BindInt(10, PrefixInt(r.trace_id.data()));
        l.BindBlob(11, IdBytes(r.trace_id.data(), 16));
      }
      if (otlp::IsZeroId(r.span_id))
        l.BindNull(12);
      else
        l.BindBlob(12, IdBytes(r.span_id.data(), 8));
      l.BindText(13, r.event_name);
      l.BindInt(14, rid);
      l.BindInt(15, sid);
      l.BindInt(16, next_log_id_);
      RETURN_IF_ERROR(l.Run());
      ++next_log_id_;
    }
    *n_logs += b->logs.size();
  }

  Stmt& add = ws_->add_meta;
  const std::pair<const char*, uint64_t> counts[] = {
      {"spans", *n_spans}, {"points", *n_points}, {"logs", *n_logs}};
  for (const auto& [key, n] : counts) {
    if (n == 0) continue;
    add.BindText(1, key);
    add.BindInt(2, static_cast<int64_t>(n));
    RETURN_IF_ERROR(add.Run());
  }
  Stmt& touch = ws_->touch_metric;
  for (const auto& [id, seen] : touched_metrics_) {
    touch.BindInt(1, id);
    touch.BindInt(2, static_cast<int64_t>(seen));
    RETURN_IF_ERROR(touch.Run());
  }
  return Status::Ok();
}

Status SqliteStore::Append(std::span<const otlp::Batch* const> batches) {
  return AppendWithSessions(batches, {});
}

Status SqliteStore::AppendWithSessions(std::span<const otlp::Batch* const> batches,
                                       std::span<const player::SessionState> sessions) {
  if (closed_) return Unavailable("store is closed");
  const uint64_t t0 = clock_->MonotonicNanos();
  const int64_t first_id = next_span_id_;
  const int64_t first_log_id = next_log_id_;
  const uint64_t first_ingest = next_ingest_sequence_;
  touched_metrics_.clear();
  uint64_t spans = 0, points = 0, logs = 0, events = 0;
  Status s = ws_->begin.Run();
  if (s.ok()) {
    s = AppendLocked(batches, &spans, &points, &logs);
    if (s.ok()) s = AppendPlaybackLocked(batches, sessions, &events);
    if (s.ok()) s = ws_->commit.Run();
    if (!s.ok()) {
      (void)ws_->rollback.Run();
      // Ids and interned rows of the failed transaction are gone with it.
      next_span_id_ = first_id;
      next_log_id_ = first_log_id;
      next_ingest_sequence_ = first_ingest;
      ClearWriterCaches();
    }
  }
  touched_metrics_.clear();
  if (!s.ok()) {
    Telemetry::Inc(tm_->commit_errors, 1);
    return s.WithContext("sqlite append");
  }
  if (spans > 0 && tail_arrivals_.size() < 65536) tail_arrivals_.emplace_back(first_id, t0);
  if (logs > 0 && first_log_id - 1 == log_watermark_) log_tail_since_ = t0;
  Telemetry& t = *tm_;
  if (t.commit_seconds) {
    t.commit_seconds->Observe(static_cast<double>(clock_->MonotonicNanos() - t0) / 1e9);
    t.commits->Increment();
    Telemetry::Inc(t.rows_spans, static_cast<double>(spans));
    Telemetry::Inc(t.rows_points, static_cast<double>(points));
    Telemetry::Inc(t.rows_logs, static_cast<double>(logs));
    t.backlog->Set(static_cast<double>(next_span_id_ - 1 - watermark_));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Stats.

Result<StoreStats> SqliteStore::Stats() {
  ASSIGN_OR_RETURN(ReadLease conn, AcquireReader());
  ReadTxn txn(conn.get());
  RETURN_IF_ERROR(txn.Begin());
  StoreStats st;
  auto one = [&](const std::string& sql) -> Result<int64_t> {
    ASSIGN_OR_RETURN(Stmt * s, conn->Get(sql));
    StmtScope scope(*s);
    ASSIGN_OR_RETURN(bool row, s->Step());
    return row ? s->ColInt(0) : 0;
  };
  ASSIGN_OR_RETURN(int64_t spans, one("SELECT value FROM meta WHERE key = 'spans'"));
  ASSIGN_OR_RETURN(int64_t points, one("SELECT value FROM meta WHERE key = 'points'"));
  ASSIGN_OR_RETURN(int64_t logs, one("SELECT value FROM meta WHERE key = 'logs'"));
  ASSIGN_OR_RETURN(int64_t series, one("SELECT count(*) FROM series"));
  ASSIGN_OR_RETURN(int64_t tail, one("SELECT count(*) FROM spans WHERE id > (SELECT value FROM "
                                     "meta WHERE key = 'span_watermark')"));
  ASSIGN_OR_RETURN(int64_t pages, one("PRAGMA page_count"));
  ASSIGN_OR_RETURN(int64_t page_size, one("PRAGMA page_size"));
  st.spans = static_cast<uint64_t>(spans);
  st.metric_points = static_cast<uint64_t>(points);
  st.logs = static_cast<uint64_t>(logs);
  st.metric_series = static_cast<uint64_t>(series);
  st.unindexed_spans = static_cast<uint64_t>(tail);
  st.size_bytes = static_cast<uint64_t>(pages * page_size);
  std::error_code ec;
  auto wal = std::filesystem::file_size(options_.path + "-wal", ec);
  if (!ec) st.size_bytes += wal;
  return st;
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options,
                                               metrics::Registry* registry, const Clock* clock) {
  if (!clock) return InvalidArgument("sqlite store: no clock");
  auto store = std::make_unique<SqliteStore>(options, registry, clock);
  Status s = store->Open();
  if (!s.ok()) return s.WithContext("open sqlite store " + options.path);
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace avtrace::store::sqlite
