// Maintain (the deferred trace index and search postings) and ApplyRetention.

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <algorithm>
#include <array>
#include <limits>
#include <unordered_map>

#include "otlp/attributes.h"
#include "otlp/wire.h"
#include "store/sqlite/codec.h"
#include "store/sqlite/store_impl.h"

namespace avtrace::store::sqlite {

Status SqliteStore::RunInTxn(const std::function<Status()>& body) {
  RETURN_IF_ERROR(ws_->begin.Run());
  Status s = body();
  if (s.ok()) s = ws_->commit.Run();
  if (!s.ok()) {
    (void)ws_->rollback.Run();
    ClearWriterCaches();
  }
  return s;
}

bool SqliteStore::IsIndexedKey(std::string_view key) const {
  for (const IndexedKey& k : indexed_keys_)
    if (k.key == key) return true;
  return false;
}

void SqliteStore::AttrTerms(std::string_view attrs, std::vector<int64_t>* out) const {
  // A walk that parses a value only when its key is indexed (most keys are not). Malformed
  // lists are simply not indexed: stored lists were validated by the decoders.
  otlp::WireReader list(attrs);
  uint32_t field;
  otlp::WireType type;
  while (list.NextTag(&field, &type)) {
    std::string_view kv_bytes;
    if (type != otlp::WireType::kLen || !list.ReadLen(&kv_bytes)) return;
    otlp::WireReader kv(kv_bytes);
    std::string_view key, value;
    uint32_t f;
    otlp::WireType t;
    while (kv.NextTag(&f, &t)) {
      if (f == 1 && t == otlp::WireType::kLen) {
        if (!kv.ReadLen(&key)) break;
      } else if (f == 2 && t == otlp::WireType::kLen) {
        if (!kv.ReadLen(&value)) break;
      } else if (!kv.Skip(t)) {
        break;
      }
    }
    if (!IsIndexedKey(key)) continue;
    otlp::ValueView v;
    const char* err = nullptr;
    if (!otlp::ParseAnyValue(value, &v, &err)) continue;
    if (v.type == otlp::ValueType::kString) {
      out->push_back(TermHash(TermKind::kAttribute, key, v.bytes));
    } else {
      out->push_back(TermHash(TermKind::kAttribute, key, otlp::ValueToText(v)));
    }
  }
}

Result<const std::vector<int64_t>*> SqliteStore::CachedTerms(
    std::unordered_map<int64_t, std::vector<int64_t>>& cache, Stmt& attrs_by_id, int64_t id) {
  auto it = cache.find(id);
  if (it != cache.end()) return &it->second;
  if (cache.size() > 100'000) cache.clear();
  attrs_by_id.BindInt(1, id);
  ASSIGN_OR_RETURN(bool row, attrs_by_id.Step());
  std::string attrs = row ? std::string(attrs_by_id.ColBlob(0)) : std::string();
  attrs_by_id.Reset();
  std::vector<int64_t> terms;
  AttrTerms(attrs, &terms);
  return &cache.emplace(id, std::move(terms)).first->second;
}

Result<const std::vector<int64_t>*> SqliteStore::ResourceTerms(int64_t id) {
  return CachedTerms(resource_terms_, ws_->resource_attrs, id);
}

Result<const std::vector<int64_t>*> SqliteStore::ScopeTerms(int64_t id) {
  return CachedTerms(scope_terms_, ws_->scope_attrs, id);
}

namespace {

// Groups (key, id) pairs given in ascending id order by key, and writes one entry per distinct
// key in ascending key order: (key, its ids ascending). Hash grouping instead of sorting every
// pair: only the distinct keys get sorted, and ids keep their order.
template <typename Insert>
Status WriteGrouped(const std::vector<std::pair<int64_t, int64_t>>& pairs, std::string* blob,
                    uint64_t* entries, Insert&& insert) {
  std::unordered_map<int64_t, uint32_t> group_of;
  group_of.reserve(pairs.size() / 4 + 16);
  std::vector<int64_t> keys;
  std::vector<uint32_t> counts, slot(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    auto [it, added] = group_of.try_emplace(pairs[i].first, static_cast<uint32_t>(keys.size()));
    if (added) {
      keys.push_back(pairs[i].first);
      counts.push_back(0);
    }
    slot[i] = it->second;
    ++counts[it->second];
  }
  std::vector<uint32_t> order(keys.size());
  for (uint32_t g = 0; g < order.size(); ++g) order[g] = g;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return keys[a] < keys[b]; });
  std::vector<uint32_t> begin(keys.size() + 1, 0);
  for (uint32_t g = 0; g < keys.size(); ++g) begin[g + 1] = begin[g] + counts[g];
  std::vector<int64_t> ids(pairs.size());
  std::vector<uint32_t> fill(begin.begin(), begin.end() - 1);
  for (size_t i = 0; i < pairs.size(); ++i) ids[fill[slot[i]]++] = pairs[i].second;
  std::vector<int64_t> group;
  for (uint32_t g : order) {
    group.assign(ids.begin() + begin[g], ids.begin() + begin[g + 1]);
    group.erase(std::unique(group.begin(), group.end()), group.end());
    EncodePostings(group, blob);
    RETURN_IF_ERROR(insert(keys[g], *blob));
    ++*entries;
  }
  return Status::Ok();
}

}  // namespace

Status SqliteStore::ExtractRows(int64_t from, int64_t to) {
  WriterStmts& w = *ws_;
  PendingChunk& p = pending_;
  std::vector<int64_t> span_terms;
  const int64_t error_term = TermHash(TermKind::kErrorStatus, "", "");
  StmtScope scope(w.read_chunk);
  w.read_chunk.BindInt(1, from);
  w.read_chunk.BindInt(2, to);
  while (true) {
    ASSIGN_OR_RETURN(bool row, w.read_chunk.Step());
    if (!row) break;
    Stmt& r = w.read_chunk;
    int64_t id = r.ColInt(0);
    std::string_view tid = r.ColBlob(1);
    if (tid.size() != 16) return Internal("span row " + std::to_string(id) + ": bad trace id");
    int64_t start = r.ColInt(2);
    ++p.rows;
    p.min_start = std::min(p.min_start, start);
    p.max_start = std::max(p.max_start, start);
    p.traces.emplace_back(PrefixInt(reinterpret_cast<const uint8_t*>(tid.data())), id);

    span_terms.clear();
    span_terms.push_back(TermHash(TermKind::kSpanName, "", r.ColText(3)));
    if (r.ColInt(4) == static_cast<int>(otlp::SpanStatusCode::kError)) {
      span_terms.push_back(error_term);
    }
    ASSIGN_OR_RETURN(const std::vector<int64_t>* rt, ResourceTerms(r.ColInt(5)));
    span_terms.insert(span_terms.end(), rt->begin(), rt->end());
    ASSIGN_OR_RETURN(const std::vector<int64_t>* sc, ScopeTerms(r.ColInt(6)));
    span_terms.insert(span_terms.end(), sc->begin(), sc->end());
    AttrTerms(r.ColBlob(7), &span_terms);
    for (int64_t t : span_terms) p.terms.emplace_back(t, id);
  }
  return Status::Ok();
}

Status SqliteStore::WriteChunk(ChunkState* st) {
  WriterStmts& w = *ws_;
  const PendingChunk& p = pending_;
  st->trace_entries = st->postings = 0;
  if (p.rows > 0) {
    // A generation takes chunks until it holds enough rows or chunks; then the next one starts,
    // so each chunk's sorted entries land in one bounded key range.
    if (st->gen == 0 || st->gen_rows >= options_.generation_max_rows ||
        st->gen_chunks >= options_.generation_max_chunks) {
      ASSIGN_OR_RETURN(int64_t gen, writer_.QueryInt("SELECT value FROM meta WHERE key = "
                                                     "'next_gen'"));
      w.insert_gen.BindInt(1, gen);
      RETURN_IF_ERROR(w.insert_gen.Run());
      w.set_meta.BindText(1, "next_gen");
      w.set_meta.BindInt(2, gen + 1);
      RETURN_IF_ERROR(w.set_meta.Run());
      w.set_meta.BindText(1, "open_gen");
      w.set_meta.BindInt(2, gen);
      RETURN_IF_ERROR(w.set_meta.Run());
      st->gen = gen;
      st->gen_rows = st->gen_chunks = 0;
    }
    const int64_t chunk = st->chunk;
    std::string blob;
    RETURN_IF_ERROR(WriteGrouped(p.traces, &blob, &st->trace_entries,
                                 [&](int64_t prefix, std::string_view ids) {
                                   Stmt& s = w.insert_trace_entry;
                                   s.BindInt(1, st->gen);
                                   s.BindInt(2, prefix);
                                   s.BindInt(3, chunk);
                                   s.BindBlob(4, ids);
                                   return s.Run();
                                 }));
    RETURN_IF_ERROR(
        WriteGrouped(p.terms, &blob, &st->postings, [&](int64_t term, std::string_view ids) {
          Stmt& s = w.insert_posting;
          s.BindInt(1, st->gen);
          s.BindInt(2, term);
          s.BindInt(3, chunk);
          s.BindBlob(4, ids);
          return s.Run();
        }));
    Stmt& c = w.insert_chunk;
    c.BindInt(1, chunk);
    c.BindInt(2, st->gen);
    c.BindInt(3, p.first);
    c.BindInt(4, p.last);
    c.BindInt(5, p.min_start);
    c.BindInt(6, p.max_start);
    c.BindInt(7, p.rows);
    RETURN_IF_ERROR(c.Run());
    w.grow_gen.BindInt(1, st->gen);
    w.grow_gen.BindInt(2, p.rows);
    RETURN_IF_ERROR(w.grow_gen.Run());
    w.set_meta.BindText(1, "next_chunk");
    w.set_meta.BindInt(2, chunk + 1);
    RETURN_IF_ERROR(w.set_meta.Run());
    st->chunk = chunk + 1;
    st->gen_rows += p.rows;
    st->gen_chunks += 1;
  }
  // Readers switch from scanning these rows in the tail to finding them in the index here, in
  // the same transaction as the entries.
  w.set_meta.BindText(1, "span_watermark");
  w.set_meta.BindInt(2, p.last);
  return w.set_meta.Run();
}

Result<bool> SqliteStore::Maintain(uint32_t budget_rows) {
  if (closed_) return Unavailable("store is closed");
  ASSIGN_OR_RETURN(bool spans_more, MaintainSpans(budget_rows));
  ASSIGN_OR_RETURN(bool logs_more, MaintainLogs(budget_rows));
  return spans_more || logs_more;
}

// One step over the logs: indexes up to min(maintain_chunk_rows, budget) rows of the unindexed
// tail as one log chunk (read and written in one step: a log chunk row is three columns).
Result<bool> SqliteStore::MaintainLogs(uint32_t budget_rows) {
  const uint64_t now = clock_->MonotonicNanos();
  auto ready = [&](int64_t tail) {
    if (tail <= 0) return false;
    const bool aged = log_tail_since_ == 0 || now < log_tail_since_ ||
                      now - log_tail_since_ >= options_.maintain_max_tail_age_nanos;
    return tail >= static_cast<int64_t>(options_.maintain_min_rows) || aged;
  };
  const int64_t tail = next_log_id_ - 1 - log_watermark_;
  if (!ready(tail)) return false;
  const int64_t first = log_watermark_ + 1;
  const int64_t last =
      log_watermark_ + std::min<int64_t>({tail, std::max<uint32_t>(options_.maintain_chunk_rows, 1),
                                          std::max<uint32_t>(budget_rows, 1)});
  std::vector<std::pair<int64_t, int64_t>> traces;  // (trace-id prefix, log id)
  traces.reserve(static_cast<size_t>(last - first + 1));
  int64_t rows = 0, min_ts = std::numeric_limits<int64_t>::max(),
          max_ts = std::numeric_limits<int64_t>::min();
  {
    Stmt& rd = ws_->read_log_chunk;
    rd.BindInt(1, first);
    rd.BindInt(2, last);
    while (true) {
      Result<bool> row = rd.Step();
      if (!row.ok()) {
        rd.Reset();
        return row.status().WithContext("sqlite maintain logs");
      }
      if (!*row) break;
      ++rows;
      const int64_t ts = rd.ColInt(1);
      min_ts = std::min(min_ts, ts);
      max_ts = std::max(max_ts, ts);
      if (!rd.ColIsNull(2)) traces.emplace_back(rd.ColInt(2), rd.ColInt(0));
    }
    rd.Reset();
  }
  const int64_t chunk = next_log_chunk_;
  uint64_t entries = 0;
  Status s = RunInTxn([&]() -> Status {
    WriterStmts& w = *ws_;
    if (rows > 0) {  // retention may have emptied the range already
      std::string blob;
      RETURN_IF_ERROR(WriteGrouped(traces, &blob, &entries,
                                   [&](int64_t prefix, std::string_view ids) {
                                     Stmt& e = w.insert_log_trace_entry;
                                     e.BindInt(1, chunk);
                                     e.BindInt(2, prefix);
                                     e.BindBlob(3, ids);
                                     return e.Run();
                                   }));
      Stmt& c = w.insert_log_chunk;
      c.BindInt(1, chunk);
      c.BindInt(2, first);
      c.BindInt(3, last);
      c.BindInt(4, min_ts);
      c.BindInt(5, max_ts);
      c.BindInt(6, rows);
      RETURN_IF_ERROR(c.Run());
    }
    w.set_meta.BindText(1, "next_log_chunk");
    w.set_meta.BindInt(2, chunk + 1);
    RETURN_IF_ERROR(w.set_meta.Run());
    // Readers switch from scanning these rows in the tail to the index, atomically.
    w.set_meta.BindText(1, "log_watermark");
    w.set_meta.BindInt(2, last);
    return w.set_meta.Run();
  });
  if (!s.ok()) return s.WithContext("sqlite maintain logs");
  next_log_chunk_ = chunk + 1;
  log_watermark_ = last;
  const int64_t remaining = next_log_id_ - 1 - log_watermark_;
  // What is left arrived after the rows just indexed; counting its age from now can only delay it.
  if (remaining > 0) log_tail_since_ = now;
  Telemetry::Inc(tm_->rows_log_trace_index, static_cast<double>(entries));
  return ready(remaining);
}

Result<bool> SqliteStore::MaintainSpans(uint32_t budget_rows) {
  const uint64_t now = clock_->MonotonicNanos();
  auto ready = [&](int64_t tail) {
    if (tail <= 0) return false;
    const uint64_t since = tail_arrivals_.empty() ? now : tail_arrivals_.front().second;
    const bool aged = now < since || now - since >= options_.maintain_max_tail_age_nanos;
    return tail >= static_cast<int64_t>(options_.maintain_min_rows) || aged;
  };
  PendingChunk& p = pending_;
  if (!p.active) {
    const int64_t tail = next_span_id_ - 1 - watermark_;
    if (!ready(tail)) return false;
    p = PendingChunk{};
    p.active = true;
    p.first = p.next = watermark_ + 1;
    p.last =
        watermark_ + std::min<int64_t>(tail, std::max<uint32_t>(options_.maintain_chunk_rows, 1));
    p.traces.reserve(static_cast<size_t>(p.last - p.first + 1));
    p.terms.reserve(static_cast<size_t>(p.last - p.first + 1) * 4);
  }
  // Read and group at most `budget_rows` rows of the chunk; no write until the chunk is whole.
  const int64_t to = std::min(p.last, p.next + std::max<int64_t>(budget_rows, 1) - 1);
  Status s = ExtractRows(p.next, to);
  if (!s.ok()) {
    p = PendingChunk{};
    return s.WithContext("sqlite maintain");
  }
  p.next = to + 1;
  if (p.next <= p.last) return true;

  ChunkState st{next_chunk_, open_gen_, open_gen_rows_, open_gen_chunks_};
  s = RunInTxn([&] { return WriteChunk(&st); });
  const int64_t rows = p.rows, last = p.last;
  p = PendingChunk{};
  if (!s.ok()) return s.WithContext("sqlite maintain");
  next_chunk_ = st.chunk;
  open_gen_ = st.gen;
  open_gen_rows_ = st.gen_rows;
  open_gen_chunks_ = st.gen_chunks;
  watermark_ = last;
  TrimTailArrivals();

  const int64_t remaining = next_span_id_ - 1 - watermark_;
  Telemetry& t = *tm_;
  if (t.maintain_rows) {
    Telemetry::Inc(t.maintain_rows, static_cast<double>(rows));
    Telemetry::Inc(t.rows_trace_index, static_cast<double>(st.trace_entries));
    Telemetry::Inc(t.rows_postings, static_cast<double>(st.postings));
    t.maintain_seconds->Observe(static_cast<double>(clock_->MonotonicNanos() - now) / 1e9);
    t.backlog->Set(static_cast<double>(remaining));
    UpdateSizeGauge();
  }
  return ready(remaining);
}

// ---------------------------------------------------------------------------------------------
// Retention.

Result<uint64_t> SqliteStore::DeleteChunkRows(int64_t chunk, int64_t first, int64_t last,
                                              int64_t gen, uint64_t cutoff, uint32_t max_rows,
                                              bool* more) {
  uint64_t deleted = 0;
  Status s = RunInTxn([&]() -> Status {
    ASSIGN_OR_RETURN(Stmt del, Stmt::Prepare(writer_,
                                             "DELETE FROM spans WHERE id IN (SELECT id "
                                             "FROM spans WHERE id >= ?1 AND id <= ?2 AND "
                                             "start_time < ?3 LIMIT ?4)"));
    del.BindInt(1, first);
    del.BindInt(2, last);
    del.BindInt(3, static_cast<int64_t>(cutoff));
    del.BindInt(4, max_rows);
    RETURN_IF_ERROR(del.Run());
    deleted = static_cast<uint64_t>(sqlite3_changes(writer_.get()));
    if (deleted >= max_rows) {
      *more = true;
    } else {
      // Nothing older than the cutoff is left in this chunk: shrink or drop its entry.
      ASSIGN_OR_RETURN(Stmt left, Stmt::Prepare(writer_,
                                                "SELECT min(start_time), count(*) FROM "
                                                "spans WHERE id >= ?1 AND id <= ?2",
                                                false));
      left.BindInt(1, first);
      left.BindInt(2, last);
      ASSIGN_OR_RETURN(bool row, left.Step());
      int64_t count = row ? left.ColInt(1) : 0;
      int64_t min_start = row ? left.ColInt(0) : 0;
      left.Finalize();
      if (count > 0) {
        ASSIGN_OR_RETURN(Stmt upd, Stmt::Prepare(writer_,
                                                 "UPDATE span_chunks SET min_start = ?2, "
                                                 "rows = ?3 WHERE chunk = ?1",
                                                 false));
        upd.BindInt(1, chunk);
        upd.BindInt(2, min_start);
        upd.BindInt(3, count);
        RETURN_IF_ERROR(upd.Run());
      } else {
        ASSIGN_OR_RETURN(Stmt drop, Stmt::Prepare(writer_,
                                                  "DELETE FROM span_chunks WHERE chunk = "
                                                  "?1",
                                                  false));
        drop.BindInt(1, chunk);
        RETURN_IF_ERROR(drop.Run());
        ASSIGN_OR_RETURN(Stmt rest, Stmt::Prepare(writer_,
                                                  "SELECT count(*) FROM span_chunks "
                                                  "WHERE gen = ?1",
                                                  false));
        rest.BindInt(1, gen);
        ASSIGN_OR_RETURN(bool r2, rest.Step());
        int64_t chunks_left = r2 ? rest.ColInt(0) : 0;
        rest.Finalize();
        // The generation's index entries go when its last chunk went (in bounded steps, by
        // DropGenerations); until then readers skip entries that point at deleted rows.
        if (chunks_left == 0 && gen != open_gen_) {
          ASSIGN_OR_RETURN(Stmt mark, Stmt::Prepare(writer_,
                                                    "UPDATE span_gens SET dropping = 1 "
                                                    "WHERE gen = ?1",
                                                    false));
          mark.BindInt(1, gen);
          RETURN_IF_ERROR(mark.Run());
        }
      }
    }
    ws_->add_meta.BindText(1, "spans");
    ws_->add_meta.BindInt(2, -static_cast<int64_t>(deleted));
    return ws_->add_meta.Run();
  });
  if (!s.ok()) return s;
  return deleted;
}

Result<bool> SqliteStore::DropGenerations(uint32_t max_rows) {
  ASSIGN_OR_RETURN(int64_t gen, writer_.QueryInt("SELECT gen FROM span_gens WHERE dropping = 1 "
                                                 "ORDER BY gen LIMIT 1",
                                                 0));
  if (gen == 0) return false;
  bool gone = false;
  Status s = RunInTxn([&]() -> Status {
    // Deletes about `max_rows` entries: everything up to the max_rows-th key of the generation.
    static const char* kSql[] = {
        "DELETE FROM trace_index WHERE gen = ?1 AND prefix <= coalesce((SELECT prefix FROM "
        "trace_index WHERE gen = ?1 ORDER BY prefix LIMIT 1 OFFSET ?2), 9223372036854775807)",
        "DELETE FROM postings WHERE gen = ?1 AND term <= coalesce((SELECT term FROM postings "
        "WHERE gen = ?1 ORDER BY term LIMIT 1 OFFSET ?2), 9223372036854775807)"};
    for (const char* sql : kSql) {
      ASSIGN_OR_RETURN(Stmt del, Stmt::Prepare(writer_, sql));
      del.BindInt(1, gen);
      del.BindInt(2, max_rows);
      RETURN_IF_ERROR(del.Run());
    }
    ASSIGN_OR_RETURN(int64_t left,
                     writer_.QueryInt("SELECT (SELECT count(*) FROM (SELECT 1 FROM trace_index "
                                      "WHERE gen = " +
                                      std::to_string(gen) +
                                      " LIMIT 1)) + (SELECT count(*) FROM (SELECT 1 FROM "
                                      "postings WHERE gen = " +
                                      std::to_string(gen) + " LIMIT 1))"));
    if (left == 0) {
      RETURN_IF_ERROR(writer_.Exec("DELETE FROM span_gens WHERE gen = " + std::to_string(gen)));
      gone = true;
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (!gone) return true;
  ASSIGN_OR_RETURN(int64_t pending, writer_.QueryInt("SELECT count(*) FROM span_gens WHERE "
                                                     "dropping = 1"));
  return pending > 0;
}

Result<uint64_t> SqliteStore::RetainSpans(uint64_t cutoff, uint32_t max_rows, bool* more) {
  uint64_t deleted = 0;
  uint32_t budget = max_rows;
  struct Chunk {
    int64_t chunk, gen, first, last;
  };
  std::vector<Chunk> chunks;
  constexpr int kChunksPerCall = 16;
  {
    ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(writer_,
                                           "SELECT chunk, gen, first_id, last_id FROM "
                                           "span_chunks WHERE min_start < ?1 ORDER BY chunk "
                                           "LIMIT ?2",
                                           false));
    q.BindInt(1, static_cast<int64_t>(cutoff));
    q.BindInt(2, kChunksPerCall);
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      chunks.push_back({q.ColInt(0), q.ColInt(1), q.ColInt(2), q.ColInt(3)});
    }
  }
  if (chunks.size() == kChunksPerCall) *more = true;
  for (const Chunk& c : chunks) {
    if (budget == 0) {
      *more = true;
      break;
    }
    bool chunk_more = false;
    ASSIGN_OR_RETURN(uint64_t n,
                     DeleteChunkRows(c.chunk, c.first, c.last, c.gen, cutoff, budget, &chunk_more));
    deleted += n;
    budget -= static_cast<uint32_t>(std::min<uint64_t>(n, budget));
    if (chunk_more) {
      *more = true;
      break;
    }
  }
  // The unindexed tail (normally young, but Maintain may not have run).
  if (budget > 0 && next_span_id_ - 1 > watermark_) {
    uint64_t n = 0;
    RETURN_IF_ERROR(RunInTxn([&]() -> Status {
      ASSIGN_OR_RETURN(Stmt del, Stmt::Prepare(writer_,
                                               "DELETE FROM spans WHERE id IN (SELECT id "
                                               "FROM spans WHERE id > ?1 AND start_time < ?2 "
                                               "LIMIT ?3)",
                                               false));
      del.BindInt(1, watermark_);
      del.BindInt(2, static_cast<int64_t>(cutoff));
      del.BindInt(3, budget);
      RETURN_IF_ERROR(del.Run());
      n = static_cast<uint64_t>(sqlite3_changes(writer_.get()));
      ws_->add_meta.BindText(1, "spans");
      ws_->add_meta.BindInt(2, -static_cast<int64_t>(n));
      return ws_->add_meta.Run();
    }));
    deleted += n;
    if (n >= budget) *more = true;
  }
  ASSIGN_OR_RETURN(bool gens_pending, DropGenerations(max_rows));
  if (gens_pending) *more = true;
  return deleted;
}

Result<uint64_t> SqliteStore::RetainSeries(uint32_t max_rows) {
  // Series without points are dropped a few at a time: an index probe each, so cheap.
  const int64_t k = std::clamp<int64_t>(max_rows / 8, 16, 4096);
  std::vector<int64_t> ids, empty;
  RETURN_IF_ERROR(writer_.ForEachRow(
      "SELECT id, NOT EXISTS (SELECT 1 FROM points WHERE series_id = series.id) FROM series "
      "WHERE id > ?1 ORDER BY id LIMIT ?2",
      {series_gc_cursor_, k}, [&](const Stmt& q) {
        ids.push_back(q.ColInt(0));
        if (q.ColInt(1)) empty.push_back(q.ColInt(0));
      }));
  series_gc_cursor_ = static_cast<int64_t>(ids.size()) < k ? 0 : ids.back();
  if (empty.empty()) return 0;
  RETURN_IF_ERROR(RunInTxn([&]() -> Status {
    ASSIGN_OR_RETURN(Stmt del, Stmt::Prepare(writer_, "DELETE FROM series WHERE id = ?1", false));
    for (int64_t id : empty) {
      del.BindInt(1, id);
      RETURN_IF_ERROR(del.Run());
    }
    return Status::Ok();
  }));
  series_ids_.clear();  // the cache may name a deleted series
  return empty.size();
}

Status SqliteStore::RetainPlayback(uint64_t cutoff, uint32_t max_rows, RetentionResult* r,
                                   bool* more) {
  // Oldest ended sessions first; each with all its events (by the session_ref index). A session
  // with more events than the budget is still deleted whole: it is one transaction either way.
  const int64_t batch = std::clamp<int64_t>(max_rows / 64, 1, 256);
  std::vector<int64_t> ids;
  RETURN_IF_ERROR(writer_.ForEachRow(
      "SELECT id FROM playback_sessions WHERE status = 2 AND last_event_at < ?1 ORDER BY "
      "last_event_at LIMIT ?2",
      {static_cast<int64_t>(cutoff), batch}, [&](const Stmt& q) { ids.push_back(q.ColInt(0)); }));
  if (ids.empty()) return Status::Ok();
  uint64_t events = 0;
  size_t done = 0;
  RETURN_IF_ERROR(RunInTxn([&]() -> Status {
    RETURN_IF_ERROR(writer_.Exec(
        "INSERT INTO meta(key, value) SELECT 'playback_ingest_high', max(ingest_sequence) FROM "
        "playback_events HAVING max(ingest_sequence) IS NOT NULL ON CONFLICT(key) DO UPDATE SET "
        "value = max(value, excluded.value)"));
    ASSIGN_OR_RETURN(Stmt del_events, Stmt::Prepare(writer_,
                                                    "DELETE FROM playback_events WHERE "
                                                    "session_ref = ?1",
                                                    false));
    ASSIGN_OR_RETURN(Stmt del_session,
                     Stmt::Prepare(writer_, "DELETE FROM playback_sessions WHERE id = ?1", false));
    for (int64_t id : ids) {
      del_events.BindInt(1, id);
      RETURN_IF_ERROR(del_events.Run());
      events += static_cast<uint64_t>(sqlite3_changes(writer_.get()));
      del_session.BindInt(1, id);
      RETURN_IF_ERROR(del_session.Run());
      ++done;
      if (events >= max_rows) break;
    }
    return Status::Ok();
  }));
  r->sessions_deleted += done;
  r->playback_events_deleted += events;
  // More may be waiting when the batch was full or cut short by the row budget.
  if (done < ids.size() || static_cast<int64_t>(ids.size()) == batch) *more = true;
  return Status::Ok();
}

Status SqliteStore::RetainLogChunks(uint64_t cutoff, bool* more) {
  // Only chunks entirely older than the cutoff can become empty; drop those whose rows are all
  // gone (until then lookups just skip ids of deleted rows).
  constexpr int kChunksPerCall = 8;
  std::vector<std::array<int64_t, 3>> chunks;  // chunk, first_id, last_id
  RETURN_IF_ERROR(writer_.ForEachRow(
      "SELECT chunk, first_id, last_id FROM log_chunks WHERE max_ts < ?1 ORDER BY chunk LIMIT ?2",
      {static_cast<int64_t>(cutoff), kChunksPerCall},
      [&](const Stmt& q) { chunks.push_back({q.ColInt(0), q.ColInt(1), q.ColInt(2)}); }));
  if (chunks.empty()) return Status::Ok();
  uint64_t dropped = 0;
  RETURN_IF_ERROR(RunInTxn([&]() -> Status {
    ASSIGN_OR_RETURN(Stmt any, Stmt::Prepare(writer_,
                                             "SELECT 1 FROM logs WHERE id >= ?1 AND id <= ?2 "
                                             "LIMIT 1",
                                             false));
    ASSIGN_OR_RETURN(Stmt del_entries,
                     Stmt::Prepare(writer_, "DELETE FROM log_trace_index WHERE chunk = ?1", false));
    ASSIGN_OR_RETURN(Stmt del_chunk,
                     Stmt::Prepare(writer_, "DELETE FROM log_chunks WHERE chunk = ?1", false));
    for (const auto& c : chunks) {
      any.BindInt(1, c[1]);
      any.BindInt(2, c[2]);
      ASSIGN_OR_RETURN(bool left, any.Step());
      any.Reset();
      if (left) continue;
      del_entries.BindInt(1, c[0]);
      RETURN_IF_ERROR(del_entries.Run());
      del_chunk.BindInt(1, c[0]);
      RETURN_IF_ERROR(del_chunk.Run());
      ++dropped;
    }
    return Status::Ok();
  }));
  if (dropped == static_cast<uint64_t>(kChunksPerCall)) *more = true;
  return Status::Ok();
}

Result<RetentionResult> SqliteStore::ApplyRetention(const RetentionCutoffs& cutoffs,
                                                    uint32_t max_rows) {
  if (closed_) return Unavailable("store is closed");
  if (max_rows == 0) max_rows = 1;
  RetentionResult r;
  bool more = false;
  if (cutoffs.traces > 0) {
    ASSIGN_OR_RETURN(r.spans_deleted, RetainSpans(cutoffs.traces, max_rows, &more));
  }

  // Points and logs have time indexes (cheap: near-append inserts), so retention is an ordered
  // range delete of at most max_rows rows each.
  struct Signal {
    const char* sql;
    const char* counter;
    uint64_t* deleted;
    uint64_t cutoff;
  } signals[] = {
      {"DELETE FROM points WHERE id IN (SELECT id FROM points WHERE time < ?1 ORDER BY time "
       "LIMIT ?2)",
       "points", &r.points_deleted, cutoffs.metrics},
      {"DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE ts < ?1 ORDER BY ts LIMIT ?2)",
       "logs", &r.logs_deleted, cutoffs.logs},
  };
  for (auto& sig : signals) {
    if (sig.cutoff == 0) continue;
    RETURN_IF_ERROR(RunInTxn([&]() -> Status {
      ASSIGN_OR_RETURN(Stmt del, Stmt::Prepare(writer_, sig.sql));
      del.BindInt(1, static_cast<int64_t>(sig.cutoff));
      del.BindInt(2, max_rows);
      RETURN_IF_ERROR(del.Run());
      *sig.deleted = static_cast<uint64_t>(sqlite3_changes(writer_.get()));
      ws_->add_meta.BindText(1, sig.counter);
      ws_->add_meta.BindInt(2, -static_cast<int64_t>(*sig.deleted));
      return ws_->add_meta.Run();
    }));
    if (*sig.deleted >= max_rows) more = true;
  }
  if (cutoffs.logs > 0) RETURN_IF_ERROR(RetainLogChunks(cutoffs.logs, &more));
  ASSIGN_OR_RETURN(uint64_t series, RetainSeries(max_rows));
  if (cutoffs.playback > 0) RETURN_IF_ERROR(RetainPlayback(cutoffs.playback, max_rows, &r, &more));
  r.more = more;
  Telemetry& t = *tm_;
  if (t.retention_spans) {
    Telemetry::Inc(t.retention_spans, static_cast<double>(r.spans_deleted));
    Telemetry::Inc(t.retention_points, static_cast<double>(r.points_deleted));
    Telemetry::Inc(t.retention_logs, static_cast<double>(r.logs_deleted));
    Telemetry::Inc(t.retention_series, static_cast<double>(series));
    Telemetry::Inc(t.retention_sessions, static_cast<double>(r.sessions_deleted));
    Telemetry::Inc(t.retention_playback_events, static_cast<double>(r.playback_events_deleted));
    t.backlog->Set(static_cast<double>(next_span_id_ - 1 - watermark_));
    UpdateSizeGauge();
  }
  return r;
}

}  // namespace avtrace::store::sqlite
