#include "store/sqlite/schema.h"

#include <string>

namespace avtrace::store::sqlite {
namespace {

// Migration 1: the initial schema. Column order in `spans` puts what tail scans and chunk scans
// test (trace_id, times) before the wide blobs.
constexpr const char* kMigration1 = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
-- span_watermark: last span id covered by the deferred indexes. next_chunk / next_gen / open_gen:
-- id counters of the deferred indexes (never reused). spans / points / logs: row counts.
INSERT INTO meta(key, value) VALUES ('span_watermark', 0), ('next_chunk', 1), ('next_gen', 1),
                                    ('open_gen', 0), ('spans', 0), ('points', 0), ('logs', 0);

CREATE TABLE resources(
  id INTEGER PRIMARY KEY,
  hash INTEGER NOT NULL,
  service TEXT NOT NULL,
  attrs BLOB,
  dropped INTEGER NOT NULL,
  schema_url TEXT NOT NULL);
CREATE INDEX resources_hash ON resources(hash);
CREATE INDEX resources_service ON resources(service);

CREATE TABLE scopes(
  id INTEGER PRIMARY KEY,
  hash INTEGER NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  attrs BLOB,
  dropped INTEGER NOT NULL,
  schema_url TEXT NOT NULL);
CREATE INDEX scopes_hash ON scopes(hash);

-- Appended in id order by the writer (ids assigned by it, never reused); no secondary index.
CREATE TABLE spans(
  id INTEGER PRIMARY KEY,
  trace_id BLOB NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER NOT NULL,
  span_id INTEGER NOT NULL,
  parent_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  kind INTEGER NOT NULL,
  status INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  resource_id INTEGER NOT NULL,
  scope_id INTEGER NOT NULL,
  attrs BLOB,
  extra BLOB);

-- Deferred indexes over spans (built by Maintain). A chunk is the id range one Maintain step
-- indexed; a generation is a run of chunks whose index entries share a key prefix.
CREATE TABLE span_gens(
  gen INTEGER PRIMARY KEY,
  rows INTEGER NOT NULL,
  chunks INTEGER NOT NULL,
  dropping INTEGER NOT NULL DEFAULT 0);
CREATE TABLE span_chunks(
  chunk INTEGER PRIMARY KEY,
  gen INTEGER NOT NULL,
  first_id INTEGER NOT NULL,
  last_id INTEGER NOT NULL,
  min_start INTEGER NOT NULL,
  max_start INTEGER NOT NULL,
  rows INTEGER NOT NULL);
CREATE TABLE trace_index(
  gen INTEGER NOT NULL,
  prefix INTEGER NOT NULL,
  chunk INTEGER NOT NULL,
  ids BLOB NOT NULL,
  PRIMARY KEY(gen, prefix, chunk)) WITHOUT ROWID;
-- Attribute keys with postings, and the first chunk built with them (config can change).
CREATE TABLE indexed_keys(key TEXT PRIMARY KEY, since_chunk INTEGER NOT NULL) WITHOUT ROWID;
-- term: TermHash(kind, key, value) (store/sqlite/codec.h); ids: the chunk's span ids having it.
CREATE TABLE postings(
  gen INTEGER NOT NULL,
  term INTEGER NOT NULL,
  chunk INTEGER NOT NULL,
  ids BLOB NOT NULL,
  PRIMARY KEY(gen, term, chunk)) WITHOUT ROWID;

CREATE TABLE metrics(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  type INTEGER NOT NULL,
  unit TEXT NOT NULL,
  temporality INTEGER NOT NULL,
  monotonic INTEGER NOT NULL,
  description TEXT NOT NULL,
  last_seen INTEGER NOT NULL);
CREATE UNIQUE INDEX metrics_key ON metrics(name, type, unit, temporality, monotonic);

CREATE TABLE series(
  id INTEGER PRIMARY KEY,
  metric_id INTEGER NOT NULL,
  resource_id INTEGER NOT NULL,
  scope_id INTEGER NOT NULL,
  hash INTEGER NOT NULL,
  attrs BLOB);
CREATE INDEX series_hash ON series(hash);
CREATE INDEX series_metric ON series(metric_id);

-- value: INTEGER or REAL as the point's NumberKind (NULL for none and for histogram types).
CREATE TABLE points(
  id INTEGER PRIMARY KEY,
  series_id INTEGER NOT NULL,
  time INTEGER NOT NULL,
  start_time INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  value,
  count INTEGER,
  sum REAL,
  data BLOB);
CREATE INDEX points_series_time ON points(series_id, time);
CREATE INDEX points_time ON points(time);

-- ts: time_unix_nano, or observed_time when that is 0 (the OTLP rule for ordering).
CREATE TABLE logs(
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  time INTEGER NOT NULL,
  observed_time INTEGER NOT NULL,
  severity INTEGER NOT NULL,
  severity_text TEXT NOT NULL,
  body BLOB,
  attrs BLOB,
  dropped INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  trace_prefix INTEGER,
  trace_id BLOB,
  span_id BLOB,
  event_name TEXT NOT NULL,
  resource_id INTEGER NOT NULL,
  scope_id INTEGER NOT NULL);
CREATE INDEX logs_ts ON logs(ts);
CREATE INDEX logs_trace ON logs(trace_prefix) WHERE trace_prefix IS NOT NULL;
)sql";

// Migration 2: player telemetry (docs/PLAYER_API.md). One row per playback session with the
// columns the read API sorts and filters on, the rest of player::SessionState in `state`;
// events reference their session by row id and are keyed by ingest_sequence (assigned by the
// writer, never reused). seq is -1 for an event without a sequence number, so it sorts first as
// m-trace's NULL does. flags: delivery_status | source << 4 | time_skew << 8 | parse_error << 9.
constexpr const char* kMigration2 = R"sql(
CREATE TABLE playback_sessions(
  id INTEGER PRIMARY KEY,
  project_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  status INTEGER NOT NULL,
  end_source INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  last_event_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL,
  event_count INTEGER NOT NULL,
  correlation_id TEXT NOT NULL,
  sample_rate_ppm INTEGER NOT NULL,
  state BLOB);
CREATE UNIQUE INDEX playback_sessions_key ON playback_sessions(project_id, session_id);
CREATE INDEX playback_sessions_order ON playback_sessions(started_at DESC, session_id, project_id);

CREATE TABLE playback_events(
  ingest_sequence INTEGER PRIMARY KEY,
  session_ref INTEGER NOT NULL,
  received INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  client_time INTEGER NOT NULL,
  name TEXT NOT NULL,
  client_timestamp TEXT NOT NULL,
  sdk_name TEXT NOT NULL,
  sdk_version TEXT NOT NULL,
  schema_version TEXT NOT NULL,
  meta TEXT,
  flags INTEGER NOT NULL,
  trace_id BLOB,
  span_id BLOB,
  parent_span_id BLOB);
CREATE INDEX playback_events_order ON playback_events(session_ref, received, seq, ingest_sequence);
)sql";

// Migration 3: playback retention walks ended sessions by their last event.
constexpr const char* kMigration3 = R"sql(
CREATE INDEX playback_sessions_retention ON playback_sessions(last_event_at) WHERE status = 2;
)sql";

// Migration 4: the log trace-id lookup moves from a per-row index (a random insert per log
// record) to a deferred one built by Maintain, like the spans' trace_index. A log chunk is the id
// range one Maintain step indexed, with its ts bounds (lookups skip chunks outside the time
// range); log_trace_index holds, per chunk and trace-id prefix, the ids of its logs (varint
// deltas). Logs above log_watermark are the unindexed tail, which readers scan. Existing rows
// start out in the tail and are indexed by the next Maintain steps.
constexpr const char* kMigration4 = R"sql(
DROP INDEX logs_trace;
CREATE TABLE log_chunks(
  chunk INTEGER PRIMARY KEY,
  first_id INTEGER NOT NULL,
  last_id INTEGER NOT NULL,
  min_ts INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  rows INTEGER NOT NULL);
CREATE TABLE log_trace_index(
  chunk INTEGER NOT NULL,
  prefix INTEGER NOT NULL,
  ids BLOB NOT NULL,
  PRIMARY KEY(chunk, prefix)) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES ('log_watermark', 0), ('next_log_chunk', 1);
)sql";

constexpr const char* kMigrations[] = {kMigration1, kMigration2, kMigration3, kMigration4};
constexpr int kCount = static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));

}  // namespace

int SchemaVersion() { return kCount; }

Status ConfigureWriter(Db& db, const SqliteOptions& options) {
  // page_size only takes effect on a new file, and must precede WAL (which writes the header).
  RETURN_IF_ERROR(db.Exec("PRAGMA page_size=" + std::to_string(options.page_size)));
  // WAL persists in the file.
  ASSIGN_OR_RETURN(Stmt wal, Stmt::Prepare(db, "PRAGMA journal_mode=WAL", false));
  ASSIGN_OR_RETURN(bool row, wal.Step());
  if (!row || wal.ColText(0) != "wal") return Unavailable("could not switch the database to WAL");
  wal.Finalize();
  std::string sql = "PRAGMA synchronous=";
  sql += options.durability_power ? "FULL" : "NORMAL";
  sql += "; PRAGMA cache_size=-" + std::to_string(options.cache_size_kib);
  sql += "; PRAGMA wal_autocheckpoint=" + std::to_string(options.wal_autocheckpoint_pages);
  // When the WAL restarts, truncate it if it grew past its bound instead of keeping it forever.
  sql += "; PRAGMA journal_size_limit=" +
         std::to_string(static_cast<uint64_t>(options.wal_max_pages) * options.page_size);
  sql += "; PRAGMA temp_store=MEMORY; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=OFF";
  return db.Exec(sql);
}

Status ConfigureReader(Db& db, const SqliteOptions& options) {
  std::string sql = "PRAGMA cache_size=-" + std::to_string(options.cache_size_kib);
  sql +=
      "; PRAGMA mmap_size=268435456; PRAGMA temp_store=MEMORY; PRAGMA busy_timeout=5000;"
      " PRAGMA query_only=1";
  return db.Exec(sql);
}

Status Migrate(Db& db) {
  ASSIGN_OR_RETURN(int64_t version, db.QueryInt("PRAGMA user_version"));
  if (version > kCount) {
    return FailedPrecondition("database schema version " + std::to_string(version) +
                              " is newer than this avtrace supports (" + std::to_string(kCount) +
                              ")");
  }
  if (version == kCount) return Status::Ok();
  RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  for (int v = static_cast<int>(version); v < kCount; ++v) {
    Status s = db.Exec(kMigrations[v]);
    if (!s.ok()) {
      (void)db.Exec("ROLLBACK");
      return s.WithContext("schema migration " + std::to_string(v + 1));
    }
  }
  Status s = db.Exec("PRAGMA user_version = " + std::to_string(kCount));
  if (s.ok()) s = db.Exec("COMMIT");
  if (!s.ok()) (void)db.Exec("ROLLBACK");
  return s;
}

}  // namespace avtrace::store::sqlite
