#pragma once
// The SQLite store's schema as an ordered list of migrations, applied at open.
//
// PRAGMA user_version holds the number of migrations applied. Open applies the missing ones in
// one transaction; a database with a higher version than this binary knows is refused
// (FailedPrecondition) rather than misread. Never edit a released migration: append a new one.
// Threads: call from the opening thread before any other connection uses the file.

#include "core/status.h"
#include "store/sqlite/db.h"
#include "store/sqlite/sqlite_store.h"

namespace avtrace::store::sqlite {

// Number of migrations this binary knows (the newest schema version).
int SchemaVersion();
// Brings `db` to SchemaVersion(). Errors: FailedPrecondition (newer database), SQLite errors.
Status Migrate(Db& db);

// Connection settings. Writer: WAL, synchronous NORMAL (FULL with durability_power), page cache,
// WAL auto-checkpoint size, journal size limit. Reader: page cache, memory-mapped reads,
// query_only. Shared with bench/sqlite so the limit probe runs with the store's settings.
Status ConfigureWriter(Db& db, const SqliteOptions& options);
Status ConfigureReader(Db& db, const SqliteOptions& options);

}  // namespace avtrace::store::sqlite
