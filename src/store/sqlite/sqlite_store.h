#pragma once
// The SQLite backend of store::Store (store/store.h): one database file in WAL mode.
//
// Layout (docs/STORAGE.md has the measurements behind it):
//   * spans are appended in id order to a table with NO secondary index, so a group commit costs
//     about what a raw insert costs. Resources and scopes are interned (hash of their encoded
//     bytes -> id) and each span row stores the ids; attributes stay in OTLP wire form (BLOB);
//     events, links and the rarely used fields go into one self-describing BLOB per span.
//   * the trace index and the search postings (indexed attribute values, service.name, span
//     names, error status) are built by Maintain() behind the writer, a "chunk" of rows at a
//     time, in large sorted batches. Entries are keyed by a "generation" (a run of consecutive
//     chunks) first, so each batch lands in one small key range instead of all over a huge
//     B-tree. A watermark separates indexed rows from the unindexed tail; lookups read the index
//     and scan the short tail.
//   * metric series are interned (metric descriptor + resource + scope + point attributes);
//     points reference the series and carry the non-scalar parts in a compact BLOB.
//   * log records are indexed by time (near-append cost) and by trace-id prefix.
//
// Driving Maintain: it is a no-op costing microseconds while the tail is below its thresholds.
// To keep up under sustained load, call it after every commit with a budget at least that
// commit's span count; each step reads at most `budget_rows` rows (~0.4 us each) and the step
// completing a chunk also writes it (~20-30 ms per 64k-row chunk). When idle, call it until it
// returns false.
//
// Threads: per store.h. The writer connection is used only by the writer thread (Append,
// Maintain, ApplyRetention); readers take a connection from a small pool (one per concurrent
// reader, up to `max_readers`, then they wait), so reads run concurrently with the writer. One
// internal thread checkpoints the WAL (see background_checkpoint).
// Lifecycle: OpenSqliteStore creates the file (and its directory) if needed and applies schema
// migrations; Close() checkpoints the WAL and closes every connection.
// Errors: see store/sqlite/db.h for how SQLite codes map to Status codes. A database written by
// a newer avtrace (unknown schema version) fails to open with FailedPrecondition.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace avtrace::metrics {
class Registry;
}

namespace avtrace::store::sqlite {

struct SqliteOptions {
  std::string path;               // the database file; "-wal" and "-shm" files sit beside it
  bool durability_power = false;  // synchronous=FULL (fsync per commit) instead of NORMAL
  // Attribute keys (span, resource or scope attributes) indexed for search. service.name is
  // always indexed (TraceQuery::service needs it).
  std::vector<std::string> indexed_attributes = {"service.name", "episode.id", "podcast.id",
                                                 "stream.id",    "session.id", "protocol"};

  // Tuning; the defaults are what docs/STORAGE.md measured. Tests lower the thresholds.
  // Maintain() starts a chunk once the unindexed tail has this many rows, or once its oldest row
  // waited `maintain_max_tail_age_nanos`; below both it reports no pending work. A chunk covers
  // up to `maintain_chunk_rows` rows: it is read over as many Maintain steps as the budget needs
  // and written by the last one (writing costs ~0.25 us per row of the chunk). Big chunks keep
  // the index cheap (high-cardinality terms get one posting row per chunk); the tail readers
  // scan stays below min_rows plus one commit.
  uint32_t maintain_min_rows = 65536;
  uint32_t maintain_chunk_rows = 65536;
  uint64_t maintain_max_tail_age_nanos = 5'000'000'000;
  // A generation of the deferred indexes closes after this many rows or chunks.
  uint32_t generation_max_rows = 262144;
  uint32_t generation_max_chunks = 16;
  uint32_t max_readers = 4;
  int64_t cache_size_kib = 65536;  // page cache per connection (writer and each reader)
  // 16 KiB pages: +40% insert rate over 4 KiB on span rows (docs/STORAGE.md). New files only.
  uint32_t page_size = 16384;
  // WAL checkpoints (copying committed pages into the database file, with an fsync) run on a
  // background thread with its own connection once the WAL holds `wal_autocheckpoint_pages`,
  // so commits do not wait for them; the writer checkpoints itself only past `wal_max_pages`
  // (the checkpointer could not keep up), which bounds the WAL. Without the background thread
  // the writer checkpoints at wal_autocheckpoint_pages, SQLite's default behaviour.
  bool background_checkpoint = true;
  uint32_t wal_autocheckpoint_pages = 1024;  // 16 MiB with 16 KiB pages
  uint32_t wal_max_pages = 8192;             // 128 MiB
};

// Opens (creating if needed) the store. `registry` may be null (no self-telemetry); `clock` must
// outlive the store. Errors: InvalidArgument (empty path), FailedPrecondition (newer schema),
// Unavailable / Internal from SQLite.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options,
                                               metrics::Registry* registry, const Clock* clock);

}  // namespace avtrace::store::sqlite
