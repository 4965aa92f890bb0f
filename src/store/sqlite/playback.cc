// Player telemetry in the SQLite store: sessions upserted and events appended inside the
// group-commit transaction (writer), and the session/event read paths (readers).
// Schema: migration 2 in schema.cc.

#include <algorithm>
#include <cstring>

#include "otlp/wire.h"
#include "store/sqlite/codec.h"
#include "store/sqlite/store_impl.h"

namespace avtrace::store::sqlite {
namespace {

constexpr uint8_t kStateVersion = 1;
constexpr size_t kMaxSessionCache = 200'000;  // writer cache of session row ids

// ---- SessionState extras <-> BLOB (varints and length-prefixed strings, versioned) ----------

class BlobWriter {
 public:
  explicit BlobWriter(std::string* out) : w_(out), out_(out) {}
  void U(uint64_t v) { w_.Varint(v); }
  void S(std::string_view s) {
    w_.Varint(s.size());
    out_->append(s);
  }

 private:
  otlp::WireWriter w_;
  std::string* out_;
};

class BlobReader {
 public:
  explicit BlobReader(std::string_view b) : rest_(b) {}
  bool U(uint64_t* v) {
    uint64_t x = 0;
    int shift = 0;
    while (!rest_.empty() && shift < 64) {
      uint8_t c = static_cast<uint8_t>(rest_.front());
      rest_.remove_prefix(1);
      x |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) {
        *v = x;
        return true;
      }
      shift += 7;
    }
    return false;
  }
  bool S(std::string* s) {
    uint64_t n = 0;
    if (!U(&n) || n > rest_.size()) return false;
    s->assign(rest_.substr(0, n));
    rest_.remove_prefix(n);
    return true;
  }

 private:
  std::string_view rest_;
};

void EncodeState(const player::SessionState& s, std::string* out) {
  out->clear();
  BlobWriter w(out);
  w.U(kStateVersion);
  w.S(s.sdk_name);
  w.S(s.protocol);
  w.U(s.network_signal_absent.size());
  for (const auto& n : s.network_signal_absent) {
    w.S(n.kind);
    w.S(n.adapter);
    w.S(n.reason);
  }
  const player::QoeState& q = s.qoe;
  const uint64_t fields[] = {q.first_event_ns,
                             q.last_event_ns,
                             q.play_intent_ns,
                             q.first_frame_ns,
                             static_cast<uint64_t>(q.reported_startup_ms + 1),
                             static_cast<uint64_t>(q.phase),
                             q.phase_since_ns,
                             q.rebuffer_count,
                             q.rebuffer_ns,
                             q.seek_ns,
                             q.paused_ns,
                             q.error_count,
                             static_cast<uint64_t>(q.fatal_before_start) |
                                 static_cast<uint64_t>(q.fatal_after_start) << 1 |
                                 static_cast<uint64_t>(q.ended) << 2,
                             q.bitrate_switches_up,
                             q.bitrate_switches_down,
                             q.bitrate_switches_unknown,
                             q.current_bitrate_kbps,
                             q.bitrate_since_ns,
                             q.bitrate_kbps_us,
                             q.bitrate_time_us,
                             q.dropped_frames_delta,
                             q.dropped_frames_absolute,
                             q.cmcd_starvations_absolute,
                             q.cmcd_starvation_ms_absolute};
  w.U(std::size(fields));
  for (uint64_t f : fields) w.U(f);
}

Status DecodeState(std::string_view blob, player::SessionState* s) {
  if (blob.empty()) return Status::Ok();
  BlobReader r(blob);
  uint64_t version = 0, n = 0;
  auto bad = [] { return Internal("malformed playback session state"); };
  if (!r.U(&version) || version != kStateVersion) return bad();
  if (!r.S(&s->sdk_name) || !r.S(&s->protocol) || !r.U(&n) || n > 10'000) return bad();
  s->network_signal_absent.resize(n);
  for (auto& a : s->network_signal_absent) {
    if (!r.S(&a.kind) || !r.S(&a.adapter) || !r.S(&a.reason)) return bad();
  }
  uint64_t count = 0;
  if (!r.U(&count) || count > 64) return bad();
  uint64_t f[64] = {};
  for (uint64_t i = 0; i < count; ++i) {
    if (!r.U(&f[i])) return bad();
  }
  player::QoeState& q = s->qoe;
  q.first_event_ns = f[0];
  q.last_event_ns = f[1];
  q.play_intent_ns = f[2];
  q.first_frame_ns = f[3];
  q.reported_startup_ms = static_cast<int64_t>(f[4]) - 1;
  q.phase = static_cast<player::PlayPhase>(std::min<uint64_t>(f[5], 5));
  q.phase_since_ns = f[6];
  q.rebuffer_count = f[7];
  q.rebuffer_ns = f[8];
  q.seek_ns = f[9];
  q.paused_ns = f[10];
  q.error_count = f[11];
  q.fatal_before_start = f[12] & 1;
  q.fatal_after_start = f[12] & 2;
  q.ended = f[12] & 4;
  q.bitrate_switches_up = f[13];
  q.bitrate_switches_down = f[14];
  q.bitrate_switches_unknown = f[15];
  q.current_bitrate_kbps = f[16];
  q.bitrate_since_ns = f[17];
  q.bitrate_kbps_us = f[18];
  q.bitrate_time_us = f[19];
  q.dropped_frames_delta = f[20];
  q.dropped_frames_absolute = f[21];
  q.cmcd_starvations_absolute = f[22];
  q.cmcd_starvation_ms_absolute = f[23];
  return Status::Ok();
}

constexpr const char* kSessionColumns =
    "id, project_id, session_id, status, end_source, started_at, last_event_at, ended_at, "
    "event_count, correlation_id, sample_rate_ppm, state";

Status ReadSessionRow(Stmt& s, int64_t* row_id, player::SessionState* out) {
  *row_id = s.ColInt(0);
  out->project_id = s.ColText(1);
  out->session_id = s.ColText(2);
  out->status = static_cast<player::SessionStatus>(std::clamp<int64_t>(s.ColInt(3), 0, 2));
  out->end_source = static_cast<player::EndSource>(std::clamp<int64_t>(s.ColInt(4), 0, 2));
  out->started_at_unix_nanos = static_cast<uint64_t>(s.ColInt(5));
  out->last_event_at_unix_nanos = static_cast<uint64_t>(s.ColInt(6));
  out->ended_at_unix_nanos = static_cast<uint64_t>(s.ColInt(7));
  out->event_count = static_cast<uint64_t>(s.ColInt(8));
  out->correlation_id = s.ColText(9);
  out->sample_rate_ppm = static_cast<uint32_t>(s.ColInt(10));
  return DecodeState(s.ColBlob(11), out);
}

constexpr const char* kEventColumns =
    "e.ingest_sequence, e.received, e.seq, e.client_time, e.name, e.client_timestamp, "
    "e.sdk_name, e.sdk_version, e.schema_version, e.meta, e.flags, e.trace_id, e.span_id, "
    "e.parent_span_id";

template <size_t N>
void CopyId(std::string_view bytes, std::array<uint8_t, N>* id) {
  id->fill(0);
  if (bytes.size() == N) std::memcpy(id->data(), bytes.data(), N);
}

// Appends the event of the current row (kEventColumns first, then project, session and
// correlation id at `extra`) to `b`.
void ReadEventRow(Stmt& s, int extra, std::string_view project, std::string_view session,
                  std::string_view correlation, otlp::Batch* b) {
  otlp::PlaybackEvent e;
  otlp::Arena& a = b->arena;
  e.ingest_sequence = static_cast<uint64_t>(s.ColInt(0));
  e.server_received_unix_nanos = static_cast<uint64_t>(s.ColInt(1));
  const int64_t seq = s.ColInt(2);
  e.has_sequence_number = seq >= 0;
  e.sequence_number = seq >= 0 ? seq : 0;
  e.client_unix_nanos = static_cast<uint64_t>(s.ColInt(3));
  e.event_name = a.Copy(s.ColText(4));
  e.client_timestamp = a.Copy(s.ColText(5));
  e.sdk_name = a.Copy(s.ColText(6));
  e.sdk_version = a.Copy(s.ColText(7));
  e.schema_version = a.Copy(s.ColText(8));
  if (!s.ColIsNull(9)) e.meta_json = a.Copy(s.ColText(9));
  const int64_t flags = s.ColInt(10);
  e.delivery_status = static_cast<otlp::DeliveryStatus>(flags & 0xf);
  e.source = static_cast<otlp::PlaybackSource>((flags >> 4) & 0xf);
  e.time_skew_warning = flags & (1 << 8);
  e.trace_parse_error = flags & (1 << 9);
  CopyId(s.ColBlob(11), &e.trace_id);
  CopyId(s.ColBlob(12), &e.span_id);
  CopyId(s.ColBlob(13), &e.parent_span_id);
  if (extra >= 0) {
    project = s.ColText(extra);
    session = s.ColText(extra + 1);
    correlation = s.ColText(extra + 2);
  }
  e.project_id = a.Copy(project);
  e.session_id = a.Copy(session);
  e.correlation_id = a.Copy(correlation);
  b->playback_events.push_back(e);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Writer.

Status SqliteStore::PreparePlaybackStmts() {
  WriterStmts& w = *ws_;
  ASSIGN_OR_RETURN(
      w.upsert_session,
      Stmt::Prepare(writer_,
                    "INSERT INTO playback_sessions(project_id, session_id, status, end_source, "
                    "started_at, last_event_at, ended_at, event_count, correlation_id, "
                    "sample_rate_ppm, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
                    "ON CONFLICT(project_id, session_id) DO UPDATE SET status = excluded.status, "
                    "end_source = excluded.end_source, started_at = excluded.started_at, "
                    "last_event_at = excluded.last_event_at, ended_at = excluded.ended_at, "
                    "event_count = excluded.event_count, correlation_id = "
                    "excluded.correlation_id, sample_rate_ppm = excluded.sample_rate_ppm, "
                    "state = excluded.state RETURNING id"));
  ASSIGN_OR_RETURN(w.find_session,
                   Stmt::Prepare(writer_,
                                 "SELECT id FROM playback_sessions WHERE project_id = ?1 AND "
                                 "session_id = ?2"));
  ASSIGN_OR_RETURN(
      w.insert_session_min,
      Stmt::Prepare(writer_,
                    "INSERT INTO playback_sessions(project_id, session_id, status, end_source, "
                    "started_at, last_event_at, ended_at, event_count, correlation_id, "
                    "sample_rate_ppm, state) VALUES (?1, ?2, 0, 0, ?3, ?3, 0, 0, '', 1000000, "
                    "NULL) RETURNING id"));
  ASSIGN_OR_RETURN(
      w.insert_event,
      Stmt::Prepare(writer_,
                    "INSERT INTO playback_events(ingest_sequence, session_ref, received, seq, "
                    "client_time, name, client_timestamp, sdk_name, sdk_version, schema_version, "
                    "meta, flags, trace_id, span_id, parent_span_id) VALUES (?1, ?2, ?3, ?4, ?5, "
                    "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"));
  // Retention records the highest sequence it ever deleted, so numbers are never reused even
  // when every event is gone.
  ASSIGN_OR_RETURN(int64_t max_seq,
                   writer_.QueryInt("SELECT max(coalesce((SELECT max(ingest_sequence) FROM "
                                    "playback_events), 0), coalesce((SELECT value FROM meta WHERE "
                                    "key = 'playback_ingest_high'), 0))"));
  next_ingest_sequence_ = static_cast<uint64_t>(max_seq) + 1;
  return Status::Ok();
}

Result<int64_t> SqliteStore::SessionRef(std::string_view project, std::string_view session,
                                        uint64_t received) {
  session_key_.assign(project);
  session_key_.push_back('\0');
  session_key_.append(session);
  if (auto it = session_ids_.find(session_key_); it != session_ids_.end()) return it->second;
  Stmt& f = ws_->find_session;
  StmtScope scope_f(f);
  f.BindText(1, project);
  f.BindText(2, session);
  ASSIGN_OR_RETURN(bool row, f.Step());
  int64_t id = 0;
  if (row) {
    id = f.ColInt(0);
  } else {
    Stmt& ins = ws_->insert_session_min;
    StmtScope scope_i(ins);
    ins.BindText(1, project);
    ins.BindText(2, session);
    ins.BindInt(3, static_cast<int64_t>(received));
    ASSIGN_OR_RETURN(bool got, ins.Step());
    if (!got) return Internal("session insert returned no id");
    id = ins.ColInt(0);
  }
  if (session_ids_.size() > kMaxSessionCache) session_ids_.clear();
  session_ids_.emplace(session_key_, id);
  return id;
}

Status SqliteStore::AppendPlaybackLocked(std::span<const otlp::Batch* const> batches,
                                         std::span<const player::SessionState> sessions,
                                         uint64_t* n_events) {
  Stmt& up = ws_->upsert_session;
  for (const player::SessionState& s : sessions) {
    EncodeState(s, &scratch_);
    StmtScope scope(up);
    up.BindText(1, s.project_id);
    up.BindText(2, s.session_id);
    up.BindInt(3, static_cast<int64_t>(s.status));
    up.BindInt(4, static_cast<int64_t>(s.end_source));
    up.BindInt(5, static_cast<int64_t>(s.started_at_unix_nanos));
    up.BindInt(6, static_cast<int64_t>(s.last_event_at_unix_nanos));
    up.BindInt(7, static_cast<int64_t>(s.ended_at_unix_nanos));
    up.BindInt(8, static_cast<int64_t>(s.event_count));
    up.BindText(9, s.correlation_id);
    up.BindInt(10, s.sample_rate_ppm);
    up.BindBlob(11, scratch_);
    ASSIGN_OR_RETURN(bool row, up.Step());
    if (!row) return Internal("session upsert returned no id");
    session_key_.assign(s.project_id);
    session_key_.push_back('\0');
    session_key_.append(s.session_id);
    if (session_ids_.size() > kMaxSessionCache) session_ids_.clear();
    session_ids_[session_key_] = up.ColInt(0);
  }
  Stmt& ins = ws_->insert_event;
  for (const otlp::Batch* b : batches) {
    if (!b) continue;
    for (const otlp::PlaybackEvent& e : b->playback_events) {
      ASSIGN_OR_RETURN(int64_t ref,
                       SessionRef(e.project_id, e.session_id, e.server_received_unix_nanos));
      ins.BindInt(1, static_cast<int64_t>(next_ingest_sequence_));
      ins.BindInt(2, ref);
      ins.BindInt(3, static_cast<int64_t>(e.server_received_unix_nanos));
      ins.BindInt(4, e.has_sequence_number ? e.sequence_number : -1);
      ins.BindInt(5, static_cast<int64_t>(e.client_unix_nanos));
      ins.BindText(6, e.event_name);
      ins.BindText(7, e.client_timestamp);
      ins.BindText(8, e.sdk_name);
      ins.BindText(9, e.sdk_version);
      ins.BindText(10, e.schema_version);
      if (e.meta_json.empty())
        ins.BindNull(11);
      else
        ins.BindText(11, e.meta_json);
      const otlp::DeliveryStatus ds = e.delivery_status == otlp::DeliveryStatus::kUnassigned
                                          ? otlp::DeliveryStatus::kAccepted
                                          : e.delivery_status;
      ins.BindInt(12, static_cast<int64_t>(ds) | static_cast<int64_t>(e.source) << 4 |
                          static_cast<int64_t>(e.time_skew_warning) << 8 |
                          static_cast<int64_t>(e.trace_parse_error) << 9);
      auto id_or_null = [&](int i, const uint8_t* p, size_t n) {
        if (std::all_of(p, p + n, [](uint8_t c) { return c == 0; }))
          ins.BindNull(i);
        else
          ins.BindBlob(i, std::string_view(reinterpret_cast<const char*>(p), n));
      };
      id_or_null(13, e.trace_id.data(), e.trace_id.size());
      id_or_null(14, e.span_id.data(), e.span_id.size());
      id_or_null(15, e.parent_span_id.data(), e.parent_span_id.size());
      RETURN_IF_ERROR(ins.Run());
      // The caller's batches are mutable (the pipeline owns them); the assigned sequence is
      // handed back so the commit hook can publish the events (SSE). Stale after a rollback.
      const_cast<otlp::PlaybackEvent&>(e).ingest_sequence = next_ingest_sequence_;
      ++next_ingest_sequence_;
    }
    *n_events += b->playback_events.size();
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Readers.

namespace {

Status LoadSequences(ReadConn* conn, int64_t ref, size_t max, player::SessionState* out) {
  if (max == 0) return Status::Ok();
  ASSIGN_OR_RETURN(Stmt * s, conn->Get("SELECT seq FROM playback_events WHERE session_ref = ?1 "
                                       "AND seq >= 0 ORDER BY ingest_sequence DESC LIMIT ?2"));
  StmtScope scope(*s);
  s->BindInt(1, ref);
  s->BindInt(2, static_cast<int64_t>(max));
  while (true) {
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    out->seen_sequence_numbers.push_back(s->ColInt(0));
  }
  std::reverse(out->seen_sequence_numbers.begin(), out->seen_sequence_numbers.end());
  return Status::Ok();
}

}  // namespace

Result<SessionPage> SqliteStore::ListSessions(const SessionListQuery& q) {
  if (q.limit == 0 || q.limit > 1000) return InvalidArgument("limit must be 1..1000");
  ASSIGN_OR_RETURN(ReadLease conn, AcquireReader());
  ReadTxn txn(conn.get());
  RETURN_IF_ERROR(txn.Begin());
  std::string sql = std::string("SELECT ") + kSessionColumns + " FROM playback_sessions WHERE 1";
  if (!q.project_id.empty()) sql += " AND project_id = ?1";
  if (q.status) sql += " AND status = ?2";
  if (q.started_from_unix_nanos) sql += " AND started_at >= ?3";
  if (q.started_to_unix_nanos) sql += " AND started_at < ?4";
  if (q.after) {
    sql += " AND (started_at < ?5 OR (started_at = ?5 AND (session_id > ?6 OR (session_id = ?6 "
           "AND project_id > ?7))))";
  }
  sql += " ORDER BY started_at DESC, session_id ASC, project_id ASC LIMIT ?8";
  ASSIGN_OR_RETURN(Stmt * s, conn->Get(sql));
  StmtScope scope(*s);
  if (!q.project_id.empty()) s->BindText(1, q.project_id);
  if (q.status) s->BindInt(2, static_cast<int64_t>(*q.status));
  if (q.started_from_unix_nanos) s->BindInt(3, static_cast<int64_t>(q.started_from_unix_nanos));
  if (q.started_to_unix_nanos) s->BindInt(4, static_cast<int64_t>(q.started_to_unix_nanos));
  if (q.after) {
    s->BindInt(5, static_cast<int64_t>(q.after->started_at_unix_nanos));
    s->BindText(6, q.after->session_id);
    s->BindText(7, q.after->project_id);
  }
  s->BindInt(8, static_cast<int64_t>(q.limit) + 1);
  SessionPage page;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    if (page.sessions.size() == q.limit) {
      page.more = true;
      break;
    }
    int64_t id = 0;
    RETURN_IF_ERROR(ReadSessionRow(*s, &id, &page.sessions.emplace_back()));
  }
  return page;
}

Result<player::SessionState> SqliteStore::GetSession(std::string_view project,
                                                     std::string_view session,
                                                     size_t max_sequences) {
  ASSIGN_OR_RETURN(ReadLease conn, AcquireReader());
  ReadTxn txn(conn.get());
  RETURN_IF_ERROR(txn.Begin());
  ASSIGN_OR_RETURN(Stmt * s, conn->Get(std::string("SELECT ") + kSessionColumns +
                                       " FROM playback_sessions WHERE project_id = ?1 AND "
                                       "session_id = ?2"));
  player::SessionState out;
  int64_t id = 0;
  {
    StmtScope scope(*s);
    s->BindText(1, project);
    s->BindText(2, session);
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return NotFound("no playback session " + std::string(session.substr(0, 128)));
    RETURN_IF_ERROR(ReadSessionRow(*s, &id, &out));
  }
  RETURN_IF_ERROR(LoadSequences(conn.get(), id, max_sequences, &out));
  return out;
}

Result<PlaybackEventPage> SqliteStore::ListSessionEvents(const SessionEventsQuery& q) {
  if (q.limit == 0 || q.limit > 1000) return InvalidArgument("limit must be 1..1000");
  ASSIGN_OR_RETURN(ReadLease conn, AcquireReader());
  ReadTxn txn(conn.get());
  RETURN_IF_ERROR(txn.Begin());
  PlaybackEventPage page;
  int64_t ref = 0;
  std::string correlation;
  {
    ASSIGN_OR_RETURN(Stmt * f, conn->Get("SELECT id, correlation_id FROM playback_sessions "
                                         "WHERE project_id = ?1 AND session_id = ?2"));
    StmtScope scope(*f);
    f->BindText(1, q.project_id);
    f->BindText(2, q.session_id);
    ASSIGN_OR_RETURN(bool row, f->Step());
    if (!row) return page;
    ref = f->ColInt(0);
    correlation = f->ColText(1);
  }
  std::string sql = std::string("SELECT ") + kEventColumns +
                    " FROM playback_events e WHERE e.session_ref = ?1";
  if (q.after) sql += " AND (e.received, e.seq, e.ingest_sequence) > (?2, ?3, ?4)";
  sql += " ORDER BY e.received, e.seq, e.ingest_sequence LIMIT ?5";
  ASSIGN_OR_RETURN(Stmt * s, conn->Get(sql));
  StmtScope scope(*s);
  s->BindInt(1, ref);
  if (q.after) {
    s->BindInt(2, static_cast<int64_t>(q.after->server_received_unix_nanos));
    s->BindInt(3, q.after->sequence_number);
    s->BindInt(4, static_cast<int64_t>(q.after->ingest_sequence));
  }
  s->BindInt(5, static_cast<int64_t>(q.limit) + 1);
  while (true) {
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    if (page.events.playback_events.size() == q.limit) {
      page.more = true;
      break;
    }
    ReadEventRow(*s, -1, q.project_id, q.session_id, correlation, &page.events);
  }
  return page;
}

Result<PlaybackEventPage> SqliteStore::EventsAfter(uint64_t after, uint32_t limit) {
  if (limit == 0 || limit > 10'000) return InvalidArgument("limit must be 1..10000");
  ASSIGN_OR_RETURN(ReadLease conn, AcquireReader());
  ReadTxn txn(conn.get());
  RETURN_IF_ERROR(txn.Begin());
  ASSIGN_OR_RETURN(Stmt * s, conn->Get(std::string("SELECT ") + kEventColumns +
                                       ", p.project_id, p.session_id, p.correlation_id FROM "
                                       "playback_events e JOIN playback_sessions p ON p.id = "
                                       "e.session_ref WHERE e.ingest_sequence > ?1 ORDER BY "
                                       "e.ingest_sequence LIMIT ?2"));
  StmtScope scope(*s);
  s->BindInt(1, static_cast<int64_t>(after));
  s->BindInt(2, static_cast<int64_t>(limit) + 1);
  PlaybackEventPage page;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    if (page.events.playback_events.size() == limit) {
      page.more = true;
      break;
    }
    ReadEventRow(*s, 14, {}, {}, {}, &page.events);
  }
  return page;
}

Result<std::vector<player::SessionState>> SqliteStore::OpenSessions(uint32_t limit) {
  ASSIGN_OR_RETURN(ReadLease conn, AcquireReader());
  ReadTxn txn(conn.get());
  RETURN_IF_ERROR(txn.Begin());
  std::vector<std::pair<int64_t, player::SessionState>> rows;
  {
    ASSIGN_OR_RETURN(Stmt * s, conn->Get(std::string("SELECT ") + kSessionColumns +
                                         " FROM playback_sessions WHERE status != 2 ORDER BY "
                                         "last_event_at DESC LIMIT ?1"));
    StmtScope scope(*s);
    s->BindInt(1, limit);
    while (true) {
      ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      auto& r = rows.emplace_back();
      RETURN_IF_ERROR(ReadSessionRow(*s, &r.first, &r.second));
    }
  }
  std::vector<player::SessionState> out;
  out.reserve(rows.size());
  for (auto& [id, state] : rows) {
    RETURN_IF_ERROR(LoadSequences(conn.get(), id, 16'384, &state));
    out.push_back(std::move(state));
  }
  return out;
}

}  // namespace avtrace::store::sqlite
