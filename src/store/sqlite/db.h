#pragma once
// Db and Stmt: thin RAII owners of a sqlite3 connection and of a prepared statement, with
// SQLite result codes mapped to avtrace Status codes (MapError). Internal to store/sqlite.
//
// Ownership: a Db owns its sqlite3*; a Stmt owns its sqlite3_stmt* and borrows the Db, which
// must outlive it (finalize statements before closing the connection).
// Threads: connections are opened with SQLITE_OPEN_NOMUTEX (multi-thread mode): one Db and its
// statements may be used by one thread at a time; callers serialise (writer thread, reader pool).
// Errors: Status with the SQLite message and the code mapped as below.
//   SQLITE_FULL                          -> ResourceExhausted (disk full: back off)
//   SQLITE_BUSY, SQLITE_LOCKED, IOERR    -> Unavailable (retry)
//   SQLITE_CORRUPT, NOTADB, everything else -> Internal

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

#include "core/status.h"

namespace avtrace::store::sqlite {

Status MapError(int rc, std::string_view what, sqlite3* db);

class Stmt;

class Db {
 public:
  Db() = default;
  ~Db() { Close(); }
  Db(Db&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Opens (creating when `create`) the database file at `path`.
  static Result<Db> Open(const std::string& path, bool create, bool read_only);

  // Runs one or more SQL statements without results.
  Status Exec(std::string_view sql);
  // Runs a query returning one integer (e.g. a PRAGMA); `fallback` if it returns no row.
  Result<int64_t> QueryInt(std::string_view sql, int64_t fallback = 0);
  // Runs a one-off query with integer parameters ?1, ?2, ... and calls `row` for each result row.
  Status ForEachRow(std::string_view sql, std::initializer_list<int64_t> args,
                    const std::function<void(const Stmt&)>& row);
  void Close();

  sqlite3* get() const { return db_; }
  explicit operator bool() const { return db_ != nullptr; }

 private:
  sqlite3* db_ = nullptr;
};

// A prepared statement. Bind* take 1-based parameter indexes; text and blob binds are
// SQLITE_STATIC: the bytes must stay valid until the next Reset()/Bind of that parameter.
class Stmt {
 public:
  Stmt() = default;
  ~Stmt() { Finalize(); }
  Stmt(Stmt&& other) noexcept : stmt_(other.stmt_), db_(other.db_) { other.stmt_ = nullptr; }
  Stmt& operator=(Stmt&& other) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  static Result<Stmt> Prepare(Db& db, std::string_view sql, bool persistent = true);

  void BindInt(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void BindDouble(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }
  // Empty views bind as '' (a null data pointer would bind NULL).
  void BindText(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()),
                      SQLITE_STATIC);
  }
  // Empty views bind as a zero-length blob, not NULL.
  void BindBlob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()),
                      SQLITE_STATIC);
  }
  // Empty views bind as NULL (saves a byte per row for absent optional blobs).
  void BindBlobOrNull(int i, std::string_view v) {
    if (v.empty())
      BindNull(i);
    else
      BindBlob(i, v);
  }

  // Steps once: true with a row, false when done. Errors are mapped via MapError.
  Result<bool> Step();
  // Steps a statement that returns no rows (INSERT/UPDATE/DELETE) and resets it.
  Status Run();
  void Reset() { sqlite3_reset(stmt_); }
  void ClearBindings() { sqlite3_clear_bindings(stmt_); }

  int64_t ColInt(int i) const { return sqlite3_column_int64(stmt_, i); }
  double ColDouble(int i) const { return sqlite3_column_double(stmt_, i); }
  int ColType(int i) const { return sqlite3_column_type(stmt_, i); }
  bool ColIsNull(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  // Views valid until the next Step/Reset of this statement.
  std::string_view ColBlob(int i) const {
    const void* p = sqlite3_column_blob(stmt_, i);
    int n = sqlite3_column_bytes(stmt_, i);
    return p ? std::string_view(static_cast<const char*>(p), static_cast<size_t>(n))
             : std::string_view();
  }
  std::string_view ColText(int i) const {
    const unsigned char* p = sqlite3_column_text(stmt_, i);
    int n = sqlite3_column_bytes(stmt_, i);
    return p ? std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(n))
             : std::string_view();
  }

  void Finalize();
  explicit operator bool() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
};

// Resets a statement when the scope ends, so early returns never leave it mid-step (an
// unreset SELECT keeps its read transaction open).
class StmtScope {
 public:
  explicit StmtScope(Stmt& s) : s_(s) {}
  ~StmtScope() { s_.Reset(); }
  StmtScope(const StmtScope&) = delete;
  StmtScope& operator=(const StmtScope&) = delete;

 private:
  Stmt& s_;
};

}  // namespace avtrace::store::sqlite
