#include "store/sqlite/span_rows.h"

namespace avtrace::store::sqlite {

std::string InsertSpanSql(int rows) {
  std::string sql =
      "INSERT INTO spans(id, trace_id, start_time, end_time, span_id, parent_id, name, kind, "
      "status, flags, resource_id, scope_id, attrs, extra) VALUES ";
  for (int r = 0; r < rows; ++r) {
    if (r) sql += ',';
    sql += "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  }
  return sql;
}

}  // namespace avtrace::store::sqlite
