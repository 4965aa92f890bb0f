// SearchLogs: newest first over the logs(ts) index, SQL for the indexed filters (time, cursor,
// severity, service), C++ for the rest (exact trace id, body text, attributes). A trace-id query
// instead gathers candidate ids from the deferred log_trace_index (chunks overlapping the time
// range) and a scan of the unindexed tail, then reads those rows newest first.

#include <algorithm>
#include <cstring>
#include <functional>
#include <vector>

#include "otlp/attributes.h"
#include "store/sqlite/codec.h"
#include "store/sqlite/store_impl.h"

namespace avtrace::store::sqlite {
namespace {

enum Col {
  kId,
  kTs,
  kTime,
  kObserved,
  kSeverity,
  kSeverityText,
  kBody,
  kAttrs,
  kDropped,
  kFlags,
  kTraceId,
  kSpanId,
  kEventName,
  kResource,
  kScope
};

std::string EncodeLogCursor(int64_t ts, int64_t id) {
  std::string raw(16, '\0');
  StorePrefixInt(ts, reinterpret_cast<uint8_t*>(raw.data()));
  StorePrefixInt(id, reinterpret_cast<uint8_t*>(raw.data()) + 8);
  return Base64UrlEncode(raw);
}

bool DecodeLogCursor(std::string_view text, int64_t* ts, int64_t* id) {
  std::string raw;
  if (!Base64UrlDecode(text, &raw) || raw.size() != 16) return false;
  *ts = PrefixInt(reinterpret_cast<const uint8_t*>(raw.data()));
  *id = PrefixInt(reinterpret_cast<const uint8_t*>(raw.data()) + 8);
  return true;
}

bool BodyContains(std::string_view body, const std::string& needle) {
  otlp::ValueView v;
  const char* err = nullptr;
  if (!otlp::ParseAnyValue(body, &v, &err)) return false;
  if (v.type == otlp::ValueType::kString) return v.bytes.find(needle) != std::string_view::npos;
  return otlp::ValueToText(v).find(needle) != std::string::npos;
}

template <size_t N>
void CopyId(std::string_view blob, std::array<uint8_t, N>* out) {
  if (blob.size() == N) std::memcpy(out->data(), blob.data(), N);
}

}  // namespace

Result<LogSearchResult> SqliteStore::SearchLogs(const LogQuery& query) {
  const uint64_t end = query.end_unix_nanos ? query.end_unix_nanos : clock_->NowUnixNanos();
  const uint32_t limit = query.limit == 0 ? 100 : std::min<uint32_t>(query.limit, 1000);
  int64_t cursor_ts = 0, cursor_id = 0;
  if (!query.cursor.empty() && !DecodeLogCursor(query.cursor, &cursor_ts, &cursor_id)) {
    return InvalidArgument("log search: invalid cursor");
  }
  std::string sql =
      "SELECT id, ts, time, observed_time, severity, severity_text, body, attrs, dropped, flags, "
      "trace_id, span_id, event_name, resource_id, scope_id FROM logs WHERE ts >= ?1 AND ts < ?2";
  if (!query.cursor.empty()) sql += " AND (ts, id) < (?3, ?4)";
  if (query.min_severity > 0) sql += " AND severity >= ?5";
  if (!query.service.empty())
    sql += " AND resource_id IN (SELECT id FROM resources WHERE service = ?6)";
  if (query.trace_id) sql += " AND id = ?7";  // one candidate at a time
  sql += " ORDER BY ts DESC, id DESC";

  ASSIGN_OR_RETURN(ReadLease conn, AcquireReader());
  ReadTxn txn(conn.get());
  RETURN_IF_ERROR(txn.Begin());
  ASSIGN_OR_RETURN(Stmt * s, conn->Get(sql));
  StmtScope scope(*s);
  s->BindInt(1, static_cast<int64_t>(query.start_unix_nanos));
  s->BindInt(2, static_cast<int64_t>(end));
  s->BindInt(3, cursor_ts);
  s->BindInt(4, cursor_id);
  s->BindInt(5, query.min_severity);
  s->BindText(6, query.service);

  // Trace-id query: the rows passing the SQL filters among the candidates, newest first.
  std::vector<std::pair<int64_t, int64_t>> hits;  // (ts, id)
  if (query.trace_id) {
    const int64_t prefix = PrefixInt(query.trace_id->data());
    std::vector<int64_t> ids;
    ASSIGN_OR_RETURN(Stmt * wm, conn->Get("SELECT value FROM meta WHERE key = 'log_watermark'"));
    int64_t watermark = 0;
    {
      StmtScope wm_scope(*wm);
      ASSIGN_OR_RETURN(bool row, wm->Step());
      if (row) watermark = wm->ColInt(0);
    }
    {
      ASSIGN_OR_RETURN(Stmt * ix,
                       conn->Get("SELECT t.ids FROM log_chunks c JOIN log_trace_index t ON "
                                 "t.chunk = c.chunk AND t.prefix = ?1 WHERE c.max_ts >= ?2 AND "
                                 "c.min_ts < ?3 AND c.last_id <= ?4"));
      StmtScope ix_scope(*ix);
      ix->BindInt(1, prefix);
      ix->BindInt(2, static_cast<int64_t>(query.start_unix_nanos));
      ix->BindInt(3, static_cast<int64_t>(end));
      ix->BindInt(4, watermark);
      while (true) {
        ASSIGN_OR_RETURN(bool row, ix->Step());
        if (!row) break;
        RETURN_IF_ERROR(DecodePostings(ix->ColBlob(0), &ids));
      }
    }
    {
      ASSIGN_OR_RETURN(Stmt * tail,
                       conn->Get("SELECT id FROM logs WHERE id > ?1 AND trace_prefix = ?2"));
      StmtScope tail_scope(*tail);
      tail->BindInt(1, watermark);
      tail->BindInt(2, prefix);
      while (true) {
        ASSIGN_OR_RETURN(bool row, tail->Step());
        if (!row) break;
        ids.push_back(tail->ColInt(0));
      }
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (int64_t id : ids) {
      s->BindInt(7, id);
      ASSIGN_OR_RETURN(bool row, s->Step());
      if (row) {
        std::string_view t = s->ColBlob(kTraceId);
        if (t.size() == 16 && std::memcmp(t.data(), query.trace_id->data(), 16) == 0)
          hits.emplace_back(s->ColInt(kTs), id);
      }
      s->Reset();
    }
    std::sort(hits.begin(), hits.end(), std::greater<>());
  }

  LogSearchResult out;
  BatchBuilder builder(conn.get(), &out.logs);
  otlp::Arena& arena = out.logs.arena;
  int64_t last_ts = 0, last_id = 0;
  size_t next_hit = 0;
  while (out.logs.logs.size() < limit) {
    if (query.trace_id) {
      if (next_hit == hits.size()) break;
      s->Reset();
      s->BindInt(7, hits[next_hit++].second);
    }
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) {
      if (query.trace_id) continue;  // cannot happen within one read transaction
      break;
    }
    if (query.trace_id) {
      std::string_view t = s->ColBlob(kTraceId);
      if (t.size() != 16 || std::memcmp(t.data(), query.trace_id->data(), 16) != 0) continue;
    }
    if (!query.body_contains.empty() && !BodyContains(s->ColBlob(kBody), query.body_contains)) {
      continue;
    }
    if (!query.attributes.empty()) {
      ASSIGN_OR_RETURN(const ResourceRow* r, conn->Resource(s->ColInt(kResource)));
      ASSIGN_OR_RETURN(const ScopeRow* sc, conn->Scope(s->ColInt(kScope)));
      std::string_view attrs = s->ColBlob(kAttrs);
      bool ok = true;
      for (const auto& f : query.attributes) {
        if (!AttrEquals(attrs, f.key, f.value) && !AttrEquals(r->attrs, f.key, f.value) &&
            !AttrEquals(sc->attrs, f.key, f.value)) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
    }
    otlp::LogRecord rec;
    rec.time_unix_nano = static_cast<uint64_t>(s->ColInt(kTime));
    rec.observed_time_unix_nano = static_cast<uint64_t>(s->ColInt(kObserved));
    rec.severity_number = static_cast<int32_t>(s->ColInt(kSeverity));
    rec.severity_text = arena.Copy(s->ColText(kSeverityText));
    rec.body = arena.Copy(s->ColBlob(kBody));
    rec.attributes = ArenaAttrs(&arena, s->ColBlob(kAttrs));
    rec.dropped_attributes_count = static_cast<uint32_t>(s->ColInt(kDropped));
    rec.flags = static_cast<uint32_t>(s->ColInt(kFlags));
    CopyId(s->ColBlob(kTraceId), &rec.trace_id);
    CopyId(s->ColBlob(kSpanId), &rec.span_id);
    rec.event_name = arena.Copy(s->ColText(kEventName));
    ASSIGN_OR_RETURN(rec.resource_index, builder.Resource(s->ColInt(kResource)));
    ASSIGN_OR_RETURN(rec.scope_index, builder.Scope(s->ColInt(kScope)));
    out.logs.logs.push_back(rec);
    last_ts = s->ColInt(kTs);
    last_id = s->ColInt(kId);
  }
  if (out.logs.logs.size() >= limit) out.next_cursor = EncodeLogCursor(last_ts, last_id);
  return out;
}

}  // namespace avtrace::store::sqlite
