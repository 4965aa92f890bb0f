#pragma once
// The span row as the SQLite store writes it: the INSERT statement and the binding of one
// otlp::Span to it. Shared by the store's hot path and bench/sqlite/sqlite_limit (the raw
// insert-rate probe), so that "the limit" is measured on exactly the rows the store writes.
//
// Threads: BindSpanRow touches only the statement and the scratch string it is given.
// Lifecycle: the bound views (trace id, name, attributes, `extra_scratch`) must stay valid until
// the statement is stepped.

#include <cstdint>
#include <string>

#include "otlp/model.h"
#include "store/sqlite/codec.h"
#include "store/sqlite/db.h"

namespace avtrace::store::sqlite {

// `rows` consecutive rows per statement (multi-row VALUES); 14 parameters per row.
std::string InsertSpanSql(int rows);
constexpr int kSpanColumns = 14;

// Binds `span` as row number `row` (0-based) of a statement from InsertSpanSql.
inline void BindSpanRow(Stmt& stmt, int row, const otlp::Span& span, int64_t id,
                        int64_t resource_id, int64_t scope_id, std::string* extra_scratch) {
  int b = row * kSpanColumns;
  stmt.BindInt(b + 1, id);
  stmt.BindBlob(b + 2, std::string_view(reinterpret_cast<const char*>(span.trace_id.data()), 16));
  stmt.BindInt(b + 3, static_cast<int64_t>(span.start_time_unix_nano));
  stmt.BindInt(b + 4, static_cast<int64_t>(span.end_time_unix_nano));
  stmt.BindInt(b + 5, PrefixInt(span.span_id.data()));
  stmt.BindInt(b + 6, PrefixInt(span.parent_span_id.data()));
  stmt.BindText(b + 7, span.name);
  stmt.BindInt(b + 8, static_cast<int64_t>(span.kind));
  stmt.BindInt(b + 9, static_cast<int64_t>(span.status_code));
  stmt.BindInt(b + 10, span.flags);
  stmt.BindInt(b + 11, resource_id);
  stmt.BindInt(b + 12, scope_id);
  stmt.BindBlobOrNull(b + 13, span.attributes.encoded);
  if (EncodeSpanExtra(span, extra_scratch)) {
    stmt.BindBlob(b + 14, *extra_scratch);
  } else {
    stmt.BindNull(b + 14);
  }
}

}  // namespace avtrace::store::sqlite
