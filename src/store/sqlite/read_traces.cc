// GetTrace and SearchTraces.
//
// A trace's spans are found through the deferred trace index (one probe per live generation,
// each answering the posting lists of the trace-id prefix) plus a scan of the unindexed tail.
//
// SearchTraces returns traces ordered by their key: the latest start time among the trace's
// spans that match every filter (then by trace id, both descending). It walks "sources" newest
// first — the tail, then chunks by descending max_start — collecting candidate traces with a
// lower bound of their key. A candidate is final once its bound is above every unprocessed
// source's max_start; it is then loaded whole (its summary needs every span anyway) and its
// exact key checked against the cursor, which makes pages free of duplicates and gaps. Chunks
// are narrowed by the time range, by the cursor, and by the search postings of indexed filters.

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "otlp/attributes.h"
#include "otlp/encode.h"
#include "store/sqlite/codec.h"
#include "store/sqlite/store_impl.h"

namespace avtrace::store::sqlite {
namespace {

// Columns of a span row, in this order, for every read below.
constexpr const char* kSpanCols =
    "id, trace_id, start_time, end_time, span_id, parent_id, name, kind, status, flags, "
    "resource_id, scope_id, attrs, extra";
enum Col {
  kId,
  kTraceId,
  kStart,
  kEnd,
  kSpanId,
  kParent,
  kName,
  kKind,
  kStatus,
  kFlags,
  kResource,
  kScope,
  kAttrs,
  kExtra
};

struct TraceIdHash {
  size_t operator()(const otlp::TraceId& t) const {
    uint64_t v;
    std::memcpy(&v, t.data() + 8, 8);
    return static_cast<size_t>(v);
  }
};

bool TraceIdIs(std::string_view blob, const otlp::TraceId& id) {
  return blob.size() == 16 && std::memcmp(blob.data(), id.data(), 16) == 0;
}

otlp::TraceId ToTraceId(std::string_view blob) {
  otlp::TraceId t{};
  if (blob.size() == 16) std::memcpy(t.data(), blob.data(), 16);
  return t;
}

// Calls fn(Stmt&) for every stored span of `trace_id` (row columns as kSpanCols). Must run
// inside a read transaction so the index and the watermark come from one snapshot.
template <typename Fn>
Status ForEachTraceSpan(ReadConn* c, const otlp::TraceId& trace_id, Fn&& fn_all) {
  // A client that retries an export after a lost answer stores the same spans twice; a span is
  // the same one when its id, start and end agree, and only its first stored copy is read.
  std::set<std::tuple<int64_t, int64_t, int64_t>> seen;
  auto fn = [&](Stmt& s) -> Status {
    if (!seen.emplace(s.ColInt(kSpanId), s.ColInt(kStart), s.ColInt(kEnd)).second)
      return Status::Ok();
    return fn_all(s);
  };
  const int64_t prefix = PrefixInt(trace_id.data());
  std::vector<int64_t> ids;
  {
    ASSIGN_OR_RETURN(Stmt * s, c->Get("SELECT ids FROM trace_index WHERE gen IN (SELECT gen FROM "
                                      "span_gens WHERE dropping = 0) AND prefix = ?1"));
    StmtScope scope(*s);
    s->BindInt(1, prefix);
    while (true) {
      ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      RETURN_IF_ERROR(DecodePostings(s->ColBlob(0), &ids));
    }
  }
  std::sort(ids.begin(), ids.end());
  std::string_view tid(reinterpret_cast<const char*>(trace_id.data()), 16);
  if (!ids.empty()) {
    ASSIGN_OR_RETURN(Stmt * s,
                     c->Get(std::string("SELECT ") + kSpanCols + " FROM spans WHERE id = ?1"));
    StmtScope scope(*s);
    for (int64_t id : ids) {
      s->Reset();
      s->BindInt(1, id);
      ASSIGN_OR_RETURN(bool row, s->Step());
      // Rows deleted by retention leave index entries behind until their generation goes.
      if (row && TraceIdIs(s->ColBlob(kTraceId), trace_id)) RETURN_IF_ERROR(fn(*s));
    }
  }
  ASSIGN_OR_RETURN(Stmt * s, c->Get(std::string("SELECT ") + kSpanCols +
                                    " FROM spans WHERE id > (SELECT value FROM meta WHERE key = "
                                    "'span_watermark') AND trace_id = ?1"));
  StmtScope scope(*s);
  s->BindBlob(1, tid);
  while (true) {
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    RETURN_IF_ERROR(fn(*s));
  }
  return Status::Ok();
}

Status AppendSpan(Stmt& s, BatchBuilder& builder, otlp::Batch* b) {
  otlp::Span span;
  span.trace_id = ToTraceId(s.ColBlob(kTraceId));
  StorePrefixInt(s.ColInt(kSpanId), span.span_id.data());
  StorePrefixInt(s.ColInt(kParent), span.parent_span_id.data());
  span.start_time_unix_nano = static_cast<uint64_t>(s.ColInt(kStart));
  span.end_time_unix_nano = static_cast<uint64_t>(s.ColInt(kEnd));
  span.name = b->arena.Copy(s.ColText(kName));
  span.kind = static_cast<otlp::SpanKind>(s.ColInt(kKind));
  span.status_code = static_cast<otlp::SpanStatusCode>(s.ColInt(kStatus));
  span.flags = static_cast<uint32_t>(s.ColInt(kFlags));
  span.attributes = ArenaAttrs(&b->arena, s.ColBlob(kAttrs));
  if (!s.ColIsNull(kExtra)) RETURN_IF_ERROR(DecodeSpanExtra(s.ColBlob(kExtra), &span, &b->arena));
  ASSIGN_OR_RETURN(span.resource_index, builder.Resource(s.ColInt(kResource)));
  ASSIGN_OR_RETURN(span.scope_index, builder.Scope(s.ColInt(kScope)));
  b->spans.push_back(std::move(span));
  return Status::Ok();
}

// The fields search needs from a span row, owned.
struct SpanLite {
  uint64_t start = 0, end = 0;
  int64_t parent = 0;
  int status = 0;
  int64_t resource = 0, scope = 0;
  std::string name, attrs;
};

struct Key {
  uint64_t time = 0;
  otlp::TraceId trace{};
  bool operator<(const Key& o) const { return time != o.time ? time < o.time : trace < o.trace; }
  bool operator>=(const Key& o) const { return !(*this < o); }
};

std::string EncodeCursor(const Key& k) {
  std::string raw(24, '\0');
  StorePrefixInt(static_cast<int64_t>(k.time), reinterpret_cast<uint8_t*>(raw.data()));
  std::memcpy(raw.data() + 8, k.trace.data(), 16);
  return Base64UrlEncode(raw);
}

bool DecodeCursor(std::string_view text, Key* k) {
  std::string raw;
  if (!Base64UrlDecode(text, &raw) || raw.size() != 24) return false;
  k->time = static_cast<uint64_t>(PrefixInt(reinterpret_cast<const uint8_t*>(raw.data())));
  std::memcpy(k->trace.data(), raw.data() + 8, 16);
  return true;
}

class TraceSearch {
 public:
  TraceSearch(SqliteStore* store, ReadConn* conn, const TraceQuery& q)
      : store_(store), c_(conn), q_(q) {}

  Result<TraceSearchResult> Run();

 private:
  struct Term {
    int64_t hash = 0;         // TermHash: the postings key
    int64_t since_chunk = 0;  // chunks before this one have no postings for it
  };
  struct Chunk {
    int64_t chunk, gen, first, last, max_start, rows;
  };

  Status Prepare();
  Result<bool> Matches(uint64_t start, uint64_t end, std::string_view name, int status,
                       int64_t resource, int64_t scope, std::string_view attrs);
  Status ScanRows(Stmt& s);
  Status ProcessTail();
  Status ProcessChunk(const Chunk& ch);
  Result<const std::map<int64_t, std::vector<int64_t>>*> Postings(int64_t gen, size_t term);
  void Offer(const otlp::TraceId& t, uint64_t start);
  Status EmitAbove(bool bounded, uint64_t frontier);
  Status Resolve(const Key& candidate);

  SqliteStore* store_;
  ReadConn* c_;
  const TraceQuery& q_;
  uint64_t start_ = 0, end_ = 0;
  uint32_t limit_ = 20;
  bool has_cursor_ = false;
  Key cursor_;
  std::vector<Term> terms_;
  std::string where_;  // SQL prefilter over span columns (parameters ?3..?9)
  std::map<std::pair<int64_t, size_t>, std::map<int64_t, std::vector<int64_t>>> postings_;

  std::unordered_map<otlp::TraceId, uint64_t, TraceIdHash> bound_;
  std::set<Key> order_;
  std::unordered_set<otlp::TraceId, TraceIdHash> done_;
  TraceSearchResult result_;
  Key last_emitted_;
};

Status TraceSearch::Prepare() {
  start_ = q_.start_unix_nanos;
  end_ = q_.end_unix_nanos ? q_.end_unix_nanos : store_->clock()->NowUnixNanos();
  limit_ = q_.limit == 0 ? 20 : std::min<uint32_t>(q_.limit, 1000);
  if (!q_.cursor.empty()) {
    if (!DecodeCursor(q_.cursor, &cursor_)) return InvalidArgument("trace search: invalid cursor");
    has_cursor_ = true;
  }
  where_ = "start_time >= ?3 AND start_time < ?4";
  if (!q_.span_name.empty()) where_ += " AND name = ?5";
  if (q_.status != SpanStatusFilter::kAny) where_ += " AND status = ?6";
  if (q_.min_duration_nanos) where_ += " AND end_time - start_time >= ?7";
  if (q_.max_duration_nanos) where_ += " AND end_time - start_time <= ?8";
  if (!q_.service.empty()) {
    where_ += " AND resource_id IN (SELECT id FROM resources WHERE service = ?9)";
  }

  // Filters with search postings.
  struct Want {
    TermKind kind;
    std::string key, value;
    int64_t since;
  };
  std::vector<Want> wants;
  auto since_of = [&](std::string_view key) -> int64_t {
    for (const auto& k : store_->indexed_keys())
      if (k.key == key) return k.since_chunk;
    return -1;
  };
  if (!q_.service.empty()) {
    wants.push_back({TermKind::kAttribute, "service.name", q_.service, since_of("service.name")});
  }
  if (!q_.span_name.empty()) wants.push_back({TermKind::kSpanName, "", q_.span_name, 0});
  if (q_.status == SpanStatusFilter::kError) wants.push_back({TermKind::kErrorStatus, "", "", 0});
  for (const auto& f : q_.attributes) {
    int64_t since = since_of(f.key);
    if (since >= 0) wants.push_back({TermKind::kAttribute, f.key, f.value, since});
  }
  for (const auto& want : wants) {
    if (want.since >= 0) terms_.push_back({TermHash(want.kind, want.key, want.value), want.since});
  }
  return Status::Ok();
}

Result<bool> TraceSearch::Matches(uint64_t start, uint64_t end, std::string_view name, int status,
                                  int64_t resource, int64_t scope, std::string_view attrs) {
  if (start < start_ || start >= end_) return false;
  if (!q_.span_name.empty() && name != q_.span_name) return false;
  switch (q_.status) {
    case SpanStatusFilter::kAny:
      break;
    case SpanStatusFilter::kUnset:
      if (status != 0) return false;
      break;
    case SpanStatusFilter::kOk:
      if (status != 1) return false;
      break;
    case SpanStatusFilter::kError:
      if (status != 2) return false;
      break;
  }
  uint64_t duration = end > start ? end - start : 0;
  if (duration < q_.min_duration_nanos) return false;
  if (q_.max_duration_nanos && duration > q_.max_duration_nanos) return false;
  if (q_.service.empty() && q_.attributes.empty()) return true;
  ASSIGN_OR_RETURN(const ResourceRow* r, c_->Resource(resource));
  if (!q_.service.empty() && r->service != q_.service) return false;
  if (q_.attributes.empty()) return true;
  ASSIGN_OR_RETURN(const ScopeRow* sc, c_->Scope(scope));
  for (const auto& f : q_.attributes) {
    if (!AttrEquals(attrs, f.key, f.value) && !AttrEquals(r->attrs, f.key, f.value) &&
        !AttrEquals(sc->attrs, f.key, f.value)) {
      return false;
    }
  }
  return true;
}

void TraceSearch::Offer(const otlp::TraceId& t, uint64_t start) {
  if (done_.count(t)) return;
  auto [it, inserted] = bound_.try_emplace(t, start);
  if (inserted) {
    order_.insert({start, t});
  } else if (start > it->second) {
    order_.erase({it->second, t});
    it->second = start;
    order_.insert({start, t});
  }
}

// Rows of the search SELECT: id, trace_id, start_time, end_time, name, status, resource_id,
// scope_id, attrs.
Status TraceSearch::ScanRows(Stmt& s) {
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    otlp::TraceId t = ToTraceId(s.ColBlob(1));
    uint64_t start = static_cast<uint64_t>(s.ColInt(2));
    if (has_cursor_ && !(Key{start, t} < cursor_)) continue;
    ASSIGN_OR_RETURN(
        bool ok, Matches(start, static_cast<uint64_t>(s.ColInt(3)), s.ColText(4),
                         static_cast<int>(s.ColInt(5)), s.ColInt(6), s.ColInt(7), s.ColBlob(8)));
    if (ok) Offer(t, start);
  }
  return Status::Ok();
}

namespace {
constexpr const char* kSearchCols =
    "SELECT id, trace_id, start_time, end_time, name, status, resource_id, scope_id, attrs "
    "FROM spans WHERE ";

void BindFilters(Stmt* s, const TraceQuery& q, uint64_t start, uint64_t end) {
  s->BindInt(3, static_cast<int64_t>(start));
  s->BindInt(4, static_cast<int64_t>(end));
  if (!q.span_name.empty()) s->BindText(5, q.span_name);
  if (q.status != SpanStatusFilter::kAny) {
    s->BindInt(6, q.status == SpanStatusFilter::kUnset ? 0
                  : q.status == SpanStatusFilter::kOk  ? 1
                                                       : 2);
  }
  if (q.min_duration_nanos) s->BindInt(7, static_cast<int64_t>(q.min_duration_nanos));
  if (q.max_duration_nanos) s->BindInt(8, static_cast<int64_t>(q.max_duration_nanos));
  if (!q.service.empty()) s->BindText(9, q.service);
}
}  // namespace

Status TraceSearch::ProcessTail() {
  ASSIGN_OR_RETURN(Stmt * s, c_->Get(std::string(kSearchCols) +
                                     "id > (SELECT value FROM meta WHERE key = "
                                     "'span_watermark') AND " +
                                     where_));
  StmtScope scope(*s);
  BindFilters(s, q_, start_, end_);
  return ScanRows(*s);
}

Result<const std::map<int64_t, std::vector<int64_t>>*> TraceSearch::Postings(int64_t gen,
                                                                             size_t term) {
  auto key = std::make_pair(gen, term);
  auto it = postings_.find(key);
  if (it != postings_.end()) return &it->second;
  // Chunks are visited mostly generation by generation; keep memory bounded.
  if (postings_.size() > 64) postings_.clear();
  std::map<int64_t, std::vector<int64_t>> lists;
  ASSIGN_OR_RETURN(Stmt * s, c_->Get("SELECT chunk, ids FROM postings WHERE gen = ?1 AND "
                                     "term = ?2"));
  StmtScope scope(*s);
  s->BindInt(1, gen);
  s->BindInt(2, terms_[term].hash);
  while (true) {
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    RETURN_IF_ERROR(DecodePostings(s->ColBlob(1), &lists[s->ColInt(0)]));
  }
  return &postings_.emplace(key, std::move(lists)).first->second;
}

Status TraceSearch::ProcessChunk(const Chunk& ch) {
  // Candidate ids from the postings of the filters indexed in this chunk (intersection).
  std::vector<int64_t> ids;
  bool narrowed = false;
  for (size_t i = 0; i < terms_.size(); ++i) {
    if (terms_[i].since_chunk > ch.chunk) continue;
    ASSIGN_OR_RETURN(const auto* lists, Postings(ch.gen, i));
    auto it = lists->find(ch.chunk);
    if (it == lists->end()) return Status::Ok();
    if (!narrowed) {
      ids = it->second;
      narrowed = true;
    } else {
      std::vector<int64_t> both;
      std::set_intersection(ids.begin(), ids.end(), it->second.begin(), it->second.end(),
                            std::back_inserter(both));
      ids.swap(both);
    }
    if (ids.empty()) return Status::Ok();
  }
  const uint64_t end = has_cursor_ ? std::min(end_, cursor_.time + 1) : end_;
  // Point reads when the postings narrowed the chunk well; a range scan otherwise.
  if (narrowed && ids.size() * 4 < static_cast<size_t>(std::max<int64_t>(ch.rows, 1))) {
    ASSIGN_OR_RETURN(Stmt * s, c_->Get(std::string(kSearchCols) + "id = ?1 AND " + where_));
    StmtScope scope(*s);
    for (int64_t id : ids) {
      s->Reset();
      s->BindInt(1, id);
      BindFilters(s, q_, start_, end);
      RETURN_IF_ERROR(ScanRows(*s));
    }
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(Stmt * s,
                   c_->Get(std::string(kSearchCols) + "id >= ?1 AND id <= ?2 AND " + where_));
  StmtScope scope(*s);
  s->BindInt(1, ch.first);
  s->BindInt(2, ch.last);
  BindFilters(s, q_, start_, end);
  return ScanRows(*s);
}

Status TraceSearch::Resolve(const Key& cand) {
  std::vector<SpanLite> spans;
  RETURN_IF_ERROR(ForEachTraceSpan(c_, cand.trace, [&](Stmt& s) -> Status {
    SpanLite l;
    l.start = static_cast<uint64_t>(s.ColInt(kStart));
    l.end = static_cast<uint64_t>(s.ColInt(kEnd));
    l.parent = s.ColInt(kParent);
    l.status = static_cast<int>(s.ColInt(kStatus));
    l.resource = s.ColInt(kResource);
    l.scope = s.ColInt(kScope);
    l.name = std::string(s.ColText(kName));
    if (!q_.attributes.empty()) l.attrs = std::string(s.ColBlob(kAttrs));
    spans.push_back(std::move(l));
    return Status::Ok();
  }));
  bool any = false;
  uint64_t key = 0;
  for (const SpanLite& l : spans) {
    ASSIGN_OR_RETURN(bool ok,
                     Matches(l.start, l.end, l.name, l.status, l.resource, l.scope, l.attrs));
    if (ok) {
      key = any ? std::max(key, l.start) : l.start;
      any = true;
    }
  }
  if (!any) return Status::Ok();
  Key exact{key, cand.trace};
  if (has_cursor_ && exact >= cursor_) return Status::Ok();  // it belongs to an earlier page

  TraceSummary sum;
  sum.trace_id = cand.trace;
  uint64_t first = UINT64_MAX, last = 0;
  const SpanLite* root = nullptr;
  const SpanLite* earliest = nullptr;
  std::set<std::string> services;
  for (const SpanLite& l : spans) {
    first = std::min(first, l.start);
    last = std::max(last, std::max(l.end, l.start));
    ++sum.span_count;
    if (l.status == 2) ++sum.error_count;
    ASSIGN_OR_RETURN(const ResourceRow* r, c_->Resource(l.resource));
    if (!r->service.empty()) services.insert(r->service);
    if (l.parent == 0 && (!root || l.start < root->start)) root = &l;
    if (!earliest || l.start < earliest->start) earliest = &l;
  }
  const SpanLite* head = root ? root : earliest;
  ASSIGN_OR_RETURN(const ResourceRow* hr, c_->Resource(head->resource));
  sum.root_service = hr->service;
  sum.root_span_name = head->name;
  sum.start_unix_nanos = first;
  sum.duration_nanos = last - first;
  sum.services.assign(services.begin(), services.end());
  result_.traces.push_back(std::move(sum));
  last_emitted_ = exact;
  return Status::Ok();
}

Status TraceSearch::EmitAbove(bool bounded, uint64_t frontier) {
  while (!order_.empty() && result_.traces.size() < limit_) {
    Key top = *order_.rbegin();
    // Another source may still hold a span with start == frontier: wait for it.
    if (bounded && top.time <= frontier) break;
    order_.erase(std::prev(order_.end()));
    bound_.erase(top.trace);
    done_.insert(top.trace);
    RETURN_IF_ERROR(Resolve(top));
  }
  return Status::Ok();
}

Result<TraceSearchResult> TraceSearch::Run() {
  RETURN_IF_ERROR(Prepare());
  if (end_ <= start_) return result_;
  std::vector<Chunk> chunks;
  {
    std::string sql =
        "SELECT chunk, gen, first_id, last_id, max_start, rows FROM span_chunks "
        "WHERE max_start >= ?1 AND min_start < ?2";
    if (has_cursor_) sql += " AND min_start <= ?3";
    sql += " ORDER BY max_start DESC, chunk DESC";
    ASSIGN_OR_RETURN(Stmt * s, c_->Get(sql));
    StmtScope scope(*s);
    s->BindInt(1, static_cast<int64_t>(start_));
    s->BindInt(2, static_cast<int64_t>(end_));
    if (has_cursor_) s->BindInt(3, static_cast<int64_t>(cursor_.time));
    while (true) {
      ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      chunks.push_back(
          {s->ColInt(0), s->ColInt(1), s->ColInt(2), s->ColInt(3), s->ColInt(4), s->ColInt(5)});
    }
  }
  RETURN_IF_ERROR(ProcessTail());
  for (size_t i = 0; i <= chunks.size() && result_.traces.size() < limit_; ++i) {
    if (i > 0) RETURN_IF_ERROR(ProcessChunk(chunks[i - 1]));
    const bool bounded = i < chunks.size();
    RETURN_IF_ERROR(EmitAbove(bounded, bounded ? static_cast<uint64_t>(chunks[i].max_start) : 0));
  }
  if (result_.traces.size() >= limit_) result_.next_cursor = EncodeCursor(last_emitted_);
  return std::move(result_);
}

}  // namespace

Result<otlp::Batch> SqliteStore::GetTrace(const otlp::TraceId& trace_id) {
  ASSIGN_OR_RETURN(ReadLease conn, AcquireReader());
  otlp::Batch out;
  {
    ReadTxn txn(conn.get());
    RETURN_IF_ERROR(txn.Begin());
    BatchBuilder builder(conn.get(), &out);
    RETURN_IF_ERROR(ForEachTraceSpan(conn.get(), trace_id,
                                     [&](Stmt& s) { return AppendSpan(s, builder, &out); }));
  }
  if (out.spans.empty()) return NotFound("trace " + otlp::HexId(trace_id) + " not found");
  std::stable_sort(out.spans.begin(), out.spans.end(),
                   [](const otlp::Span& a, const otlp::Span& b) {
                     return a.start_time_unix_nano < b.start_time_unix_nano;
                   });
  return out;
}

Result<TraceSearchResult> SqliteStore::SearchTraces(const TraceQuery& query) {
  ASSIGN_OR_RETURN(ReadLease conn, AcquireReader());
  ReadTxn txn(conn.get());
  RETURN_IF_ERROR(txn.Begin());
  TraceSearch search(this, conn.get(), query);
  return search.Run();
}

}  // namespace avtrace::store::sqlite
