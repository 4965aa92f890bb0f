// ListMetrics and QuerySeries. The series math lives in store/series_functions.cc.

#include <algorithm>
#include <map>

#include "otlp/attributes.h"
#include "store/series_functions.h"
#include "store/sqlite/codec.h"
#include "store/sqlite/store_impl.h"

namespace avtrace::store::sqlite {
namespace {

void FillInfo(Stmt& s, int first_col, MetricInfo* m) {
  m->name = std::string(s.ColText(first_col));
  m->description = std::string(s.ColText(first_col + 1));
  m->unit = std::string(s.ColText(first_col + 2));
  m->type = static_cast<otlp::MetricType>(s.ColInt(first_col + 3));
  m->temporality = static_cast<otlp::Temporality>(s.ColInt(first_col + 4));
  m->is_monotonic = s.ColInt(first_col + 5) != 0;
  m->last_seen_unix_nanos = static_cast<uint64_t>(s.ColInt(first_col + 6));
}

void AddLabels(std::string_view attrs, std::map<std::string, std::string>* labels) {
  (void)otlp::VisitAttributes(attrs, [&](std::string_view k, const otlp::ValueView& v) {
    (*labels)[std::string(k)] = otlp::ValueToText(v);
  });
}

// Point row columns: time, start_time, flags, value, count, sum, data.
Status ReadPoint(Stmt& s, bool with_data, otlp::Arena* arena, otlp::MetricPoint* p) {
  p->time_unix_nano = static_cast<uint64_t>(s.ColInt(0));
  p->start_time_unix_nano = static_cast<uint64_t>(s.ColInt(1));
  p->flags = static_cast<uint32_t>(s.ColInt(2));
  switch (s.ColType(3)) {
    case SQLITE_INTEGER:
      p->value_kind = otlp::NumberKind::kInt;
      p->as_int = s.ColInt(3);
      break;
    case SQLITE_FLOAT:
      p->value_kind = otlp::NumberKind::kDouble;
      p->as_double = s.ColDouble(3);
      break;
    default:
      p->value_kind = otlp::NumberKind::kNone;
  }
  if (!s.ColIsNull(4)) p->count = static_cast<uint64_t>(s.ColInt(4));
  if (!s.ColIsNull(5)) {
    p->has_sum = true;
    p->sum = s.ColDouble(5);
  }
  if (with_data && !s.ColIsNull(6)) return DecodePointData(s.ColBlob(6), p, arena);
  return Status::Ok();
}

}  // namespace

Result<std::vector<MetricInfo>> SqliteStore::ListMetrics(const MetricListQuery& query) {
  ASSIGN_OR_RETURN(ReadLease conn, AcquireReader());
  ReadTxn txn(conn.get());
  RETURN_IF_ERROR(txn.Begin());
  ASSIGN_OR_RETURN(
      Stmt * s,
      conn->Get("SELECT * FROM (SELECT m.name, m.description, m.unit, m.type, m.temporality, "
                "m.monotonic, m.last_seen, (SELECT count(*) FROM series s WHERE s.metric_id = "
                "m.id AND (?2 = '' OR s.resource_id IN (SELECT id FROM resources WHERE service = "
                "?2))) AS n, m.id AS id FROM metrics m WHERE ?1 = '' OR substr(m.name, 1, "
                "length(?1)) = ?1) WHERE ?2 = '' OR n > 0 ORDER BY name, id LIMIT ?3"));
  StmtScope scope(*s);
  s->BindText(1, query.name_prefix);
  s->BindText(2, query.service);
  s->BindInt(3, query.limit ? query.limit : 1000);
  std::vector<MetricInfo> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    MetricInfo m;
    FillInfo(*s, 0, &m);
    m.series_count = static_cast<uint32_t>(s->ColInt(7));
    out.push_back(std::move(m));
  }
  return out;
}

Result<SeriesResult> SqliteStore::QuerySeries(const SeriesQuery& query) {
  if (query.function != SeriesFunction::kRaw && query.step_nanos == 0) {
    return InvalidArgument("series query: step is required for this function");
  }
  ASSIGN_OR_RETURN(ReadLease conn, AcquireReader());
  ReadTxn txn(conn.get());
  RETURN_IF_ERROR(txn.Begin());
  SeriesResult result;
  int64_t metric_id = 0;
  {
    // The most recently seen descriptor of that name, if several (type or unit changed).
    ASSIGN_OR_RETURN(Stmt * s, conn->Get("SELECT id, name, description, unit, type, temporality, "
                                         "monotonic, last_seen, (SELECT count(*) FROM series "
                                         "WHERE metric_id = metrics.id) FROM metrics WHERE name = "
                                         "?1 ORDER BY last_seen DESC, id DESC LIMIT 1"));
    StmtScope scope(*s);
    s->BindText(1, query.metric);
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return NotFound("metric '" + query.metric + "' not found");
    metric_id = s->ColInt(0);
    FillInfo(*s, 1, &result.metric);
    result.metric.series_count = static_cast<uint32_t>(s->ColInt(8));
  }
  const uint32_t max_series = query.max_series ? query.max_series : 100;
  struct Match {
    int64_t id;
    std::map<std::string, std::string> labels;
  };
  std::vector<Match> matched;
  {
    ASSIGN_OR_RETURN(Stmt * s, conn->Get("SELECT id, resource_id, attrs FROM series WHERE "
                                         "metric_id = ?1 ORDER BY id"));
    StmtScope scope(*s);
    s->BindInt(1, metric_id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      ASSIGN_OR_RETURN(const ResourceRow* r, conn->Resource(s->ColInt(1)));
      std::string_view attrs = s->ColBlob(2);
      bool ok = true;
      for (const auto& f : query.match) {
        if (!AttrEquals(attrs, f.key, f.value) && !AttrEquals(r->attrs, f.key, f.value)) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (matched.size() == max_series) {
        result.truncated = true;
        break;
      }
      Match m{s->ColInt(0), {}};
      AddLabels(r->attrs, &m.labels);
      AddLabels(attrs, &m.labels);  // point attributes win over resource attributes
      matched.push_back(std::move(m));
    }
  }

  const uint64_t end = query.end_unix_nanos ? query.end_unix_nanos : clock_->NowUnixNanos();
  const bool need_prev =
      query.function == SeriesFunction::kRate || query.function == SeriesFunction::kQuantile;
  const bool with_data = query.function == SeriesFunction::kQuantile;
  for (const Match& m : matched) {
    otlp::Arena arena;
    std::vector<otlp::MetricPoint> points;
    if (need_prev) {
      ASSIGN_OR_RETURN(Stmt * s, conn->Get("SELECT time, start_time, flags, value, count, sum, "
                                           "data FROM points WHERE series_id = ?1 AND time < ?2 "
                                           "ORDER BY time DESC LIMIT 1"));
      StmtScope scope(*s);
      s->BindInt(1, m.id);
      s->BindInt(2, static_cast<int64_t>(query.start_unix_nanos));
      ASSIGN_OR_RETURN(bool row, s->Step());
      if (row) RETURN_IF_ERROR(ReadPoint(*s, with_data, &arena, &points.emplace_back()));
    }
    {
      ASSIGN_OR_RETURN(Stmt * s, conn->Get("SELECT time, start_time, flags, value, count, sum, "
                                           "data FROM points WHERE series_id = ?1 AND time >= ?2 "
                                           "AND time < ?3 ORDER BY time"));
      StmtScope scope(*s);
      s->BindInt(1, m.id);
      s->BindInt(2, static_cast<int64_t>(query.start_unix_nanos));
      s->BindInt(3, static_cast<int64_t>(end));
      while (true) {
        ASSIGN_OR_RETURN(bool row, s->Step());
        if (!row) break;
        RETURN_IF_ERROR(ReadPoint(*s, with_data, &arena, &points.emplace_back()));
      }
    }
    ASSIGN_OR_RETURN(std::vector<SeriesPoint> values,
                     EvaluateSeries(result.metric, points, query, end));
    Series series;
    series.labels.assign(m.labels.begin(), m.labels.end());
    series.points = std::move(values);
    result.series.push_back(std::move(series));
  }
  return result;
}

}  // namespace avtrace::store::sqlite
