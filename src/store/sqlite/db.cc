#include "store/sqlite/db.h"

namespace avtrace::store::sqlite {

Status MapError(int rc, std::string_view what, sqlite3* db) {
  std::string msg(what);
  msg += ": ";
  msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return ResourceExhausted(std::move(msg));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return Unavailable(std::move(msg));
    default:
      return Internal(std::move(msg));
  }
}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    Close();
    db_ = other.db_;
    other.db_ = nullptr;
  }
  return *this;
}

Result<Db> Db::Open(const std::string& path, bool create, bool read_only) {
  int flags = SQLITE_OPEN_NOMUTEX;
  flags |= read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (create && !read_only) flags |= SQLITE_OPEN_CREATE;
  Db db;
  int rc = sqlite3_open_v2(path.c_str(), &db.db_, flags, nullptr);
  if (rc != SQLITE_OK) return MapError(rc, "open " + path, db.db_);
  sqlite3_extended_result_codes(db.db_, 1);
  return db;
}

Status Db::Exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string what = "exec";
    if (err) {
      what += " (";
      what += err;
      what += ")";
      sqlite3_free(err);
    }
    return MapError(rc, what, db_);
  }
  return Status::Ok();
}

Result<int64_t> Db::QueryInt(std::string_view sql, int64_t fallback) {
  ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(*this, sql, false));
  ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.ColInt(0) : fallback;
}

Status Db::ForEachRow(std::string_view sql, std::initializer_list<int64_t> args,
                      const std::function<void(const Stmt&)>& row) {
  ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(*this, sql, false));
  int i = 0;
  for (int64_t v : args) s.BindInt(++i, v);
  while (true) {
    ASSIGN_OR_RETURN(bool more, s.Step());
    if (!more) return Status::Ok();
    row(s);
  }
}

void Db::Close() {
  if (db_) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }
}

Stmt& Stmt::operator=(Stmt&& other) noexcept {
  if (this != &other) {
    Finalize();
    stmt_ = other.stmt_;
    db_ = other.db_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Result<Stmt> Stmt::Prepare(Db& db, std::string_view sql, bool persistent) {
  Stmt s;
  s.db_ = db.get();
  int rc = sqlite3_prepare_v3(db.get(), sql.data(), static_cast<int>(sql.size()),
                              persistent ? SQLITE_PREPARE_PERSISTENT : 0, &s.stmt_, nullptr);
  if (rc != SQLITE_OK)
    return MapError(rc, "prepare '" + std::string(sql.substr(0, 80)) + "'", db.get());
  return s;
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status st = MapError(rc, "step", db_);
  sqlite3_reset(stmt_);
  return st;
}

Status Stmt::Run() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
    sqlite3_reset(stmt_);
    return Status::Ok();
  }
  Status st = MapError(rc, "step", db_);
  sqlite3_reset(stmt_);
  return st;
}

void Stmt::Finalize() {
  if (stmt_) {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
  }
}

}  // namespace avtrace::store::sqlite
