#pragma once
// Store: the storage contract every backend (sqlite/, later clickhouse/) implements, and that
// store/contract_test.cc checks for each of them.
//
// Writer side: Append() and Maintain() are called from ONE writer thread only (the pipeline's).
// Append() writes all given batches in one transaction; when it returns OK they are durable
// (survive a killed process; `durability: power` also survives power loss). On error nothing of
// that call is visible and the caller fails every request in it.
// Reader side: every other method is thread-safe and may run concurrently with the writer
// (SQLite: WAL and one connection per reader thread). Readers see only committed data.
// Lifecycle: Open via a backend factory; Close() flushes and is safe to call twice; the
// destructor calls it.
// Errors: Status codes per core/status.h. Reads of malformed stored data are Internal.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "otlp/model.h"
#include "player/sessionizer.h"

namespace avtrace::store {

// ---------------------------------------------------------------------------------------------
// Queries and results. Times are Unix nanoseconds; ranges are [start, end).

enum class SpanStatusFilter : uint8_t { kAny, kUnset, kOk, kError };

struct AttributeFilter {
  std::string key;    // span, resource or scope attribute key, e.g. "episode.id"
  std::string value;  // compared with the value's text form (otlp::ValueToText)
};

struct TraceQuery {
  std::string service;                 // resource service.name; empty: any
  std::string span_name;               // exact; empty: any
  std::vector<AttributeFilter> attributes;  // all must match on one span of the trace
  uint64_t min_duration_nanos = 0;     // of the matching span
  uint64_t max_duration_nanos = 0;     // 0: no bound
  SpanStatusFilter status = SpanStatusFilter::kAny;
  uint64_t start_unix_nanos = 0;       // matching span's start time within [start, end)
  uint64_t end_unix_nanos = 0;         // 0: now
  uint32_t limit = 20;                 // traces per page, 1..1000
  std::string cursor;                  // opaque, from a previous TraceSearchResult
};

struct TraceSummary {
  otlp::TraceId trace_id{};
  std::string root_service;    // service of the root span (or of the earliest span)
  std::string root_span_name;
  uint64_t start_unix_nanos = 0;  // earliest span start
  uint64_t duration_nanos = 0;    // latest end - earliest start
  uint32_t span_count = 0;
  uint32_t error_count = 0;
  std::vector<std::string> services;
};

struct TraceSearchResult {
  std::vector<TraceSummary> traces;  // newest first
  std::string next_cursor;           // empty: no more
};

struct MetricInfo {
  std::string name;
  std::string description;
  std::string unit;
  otlp::MetricType type = otlp::MetricType::kGauge;
  otlp::Temporality temporality = otlp::Temporality::kUnspecified;
  bool is_monotonic = false;
  uint32_t series_count = 0;
  uint64_t last_seen_unix_nanos = 0;
};

struct MetricListQuery {
  std::string name_prefix;
  std::string service;
  uint32_t limit = 1000;
};

enum class SeriesFunction : uint8_t {
  kRaw,       // the stored points (numbers: value; histograms: count, sum)
  kRate,      // per-second increase of a monotonic sum (or histogram count) per step
  kQuantile,  // quantile from histogram buckets merged per step
  kAvg, kMin, kMax, kSum, kLast,  // per step over gauge/sum values
};

struct SeriesQuery {
  std::string metric;
  std::vector<AttributeFilter> match;  // point or resource attributes
  uint64_t start_unix_nanos = 0;
  uint64_t end_unix_nanos = 0;   // 0: now
  uint64_t step_nanos = 0;       // 0: raw points; required for non-raw functions
  SeriesFunction function = SeriesFunction::kRaw;
  double quantile = 0.5;         // kQuantile
  uint32_t max_series = 100;
};

struct SeriesPoint {
  uint64_t time_unix_nanos = 0;
  double value = 0;
  // kRaw on histograms also fills these:
  uint64_t count = 0;
  double sum = 0;
};

struct Series {
  std::vector<std::pair<std::string, std::string>> labels;  // point + resource attributes (text)
  std::vector<SeriesPoint> points;
};

struct SeriesResult {
  MetricInfo metric;
  std::vector<Series> series;
  bool truncated = false;  // more than max_series matched
};

struct LogQuery {
  std::string service;
  int32_t min_severity = 0;           // severity_number >=
  std::string body_contains;          // substring of the body's text form
  std::vector<AttributeFilter> attributes;
  std::optional<otlp::TraceId> trace_id;
  uint64_t start_unix_nanos = 0;
  uint64_t end_unix_nanos = 0;        // 0: now
  uint32_t limit = 100;
  std::string cursor;
};

struct LogSearchResult {
  otlp::Batch logs;         // resources, scopes and log records, newest first
  std::string next_cursor;  // empty: no more
};

struct StoreStats {
  uint64_t spans = 0, metric_points = 0, metric_series = 0, logs = 0;
  uint64_t size_bytes = 0;       // on disk, including the WAL
  uint64_t unindexed_spans = 0;  // rows behind the deferred index
};

// Delete data older than these times (Unix nanoseconds); 0 keeps that signal's data.
struct RetentionCutoffs {
  uint64_t traces = 0;
  uint64_t metrics = 0;
  uint64_t logs = 0;
  // Player telemetry: ENDED sessions whose last event is older than this go, with their events
  // (a session that is still open is never cut in half).
  uint64_t playback = 0;
  static RetentionCutoffs All(uint64_t cutoff) { return {cutoff, cutoff, cutoff, cutoff}; }
};

struct RetentionResult {
  uint64_t spans_deleted = 0, points_deleted = 0, logs_deleted = 0;
  uint64_t sessions_deleted = 0, playback_events_deleted = 0;
  bool more = false;  // deletion is chunked; call again to continue
};

// Player telemetry (docs/PLAYER_API.md). Sessions are player::SessionState values (the
// Sessionizer's); events are otlp::PlaybackEvent rows with a durable, global, strictly increasing
// ingest_sequence assigned by Append.

// A position in the session list (sorted started_at desc, session_id asc, project_id asc);
// the page continues strictly after it.
struct SessionPosition {
  uint64_t started_at_unix_nanos = 0;
  std::string session_id;
  std::string project_id;
};

struct SessionListQuery {
  std::string project_id;                   // empty: every project
  std::optional<player::SessionStatus> status;
  uint64_t started_from_unix_nanos = 0;     // started_at in [from, to); 0: unbounded
  uint64_t started_to_unix_nanos = 0;
  uint32_t limit = 100;                     // 1..1000
  std::optional<SessionPosition> after;
};

struct SessionPage {
  std::vector<player::SessionState> sessions;  // seen_sequence_numbers left empty
  bool more = false;                           // another page follows the last session
};

// A position in a session's events (sorted server_received_at, sequence_number (absent first),
// ingest_sequence, all ascending); the page continues strictly after it.
struct EventPosition {
  uint64_t server_received_unix_nanos = 0;
  int64_t sequence_number = -1;  // -1: the event had none
  uint64_t ingest_sequence = 0;
};

struct SessionEventsQuery {
  std::string project_id;
  std::string session_id;
  uint32_t limit = 100;  // 1..1000
  std::optional<EventPosition> after;
};

struct PlaybackEventPage {
  otlp::Batch events;  // playback_events only; views into events.arena
  bool more = false;
};

// ---------------------------------------------------------------------------------------------

class Store {
 public:
  virtual ~Store() = default;

  // Writer thread only. Appends every batch in one transaction; durable on OK.
  virtual Status Append(std::span<const otlp::Batch* const> batches) = 0;
  // Writer thread only. Appends every batch (spans, points, logs, playback events) and upserts
  // every session in ONE transaction; durable on OK. Playback events get their ingest_sequence
  // here (also written back into the batches' events, which must therefore not be const
  // objects); an event whose session is neither given nor stored gets a minimal session row.
  // The default handles stores without player support (no events, no sessions).
  virtual Status AppendWithSessions(std::span<const otlp::Batch* const> batches,
                                    std::span<const player::SessionState> sessions) {
    if (!sessions.empty()) return FailedPrecondition("this store keeps no playback sessions");
    return Append(batches);
  }
  // Writer thread only, between appends: deferred work (index building) in one bounded step
  // of at most `budget_rows` rows. Returns true if more work is pending.
  virtual Result<bool> Maintain(uint32_t budget_rows) = 0;
  // Writer thread only: deletes each signal's data older than its cutoff (traces: spans;
  // metrics: points; logs: records) in chunks of at most `max_rows` per signal, each chunk its own short transaction so ingest is not stalled.
  virtual Result<RetentionResult> ApplyRetention(const RetentionCutoffs& cutoffs,
                                                 uint32_t max_rows) = 0;

  // Readers. Thread-safe.
  // The whole trace (every span with events, links, resource and scope) as a Batch; NotFound if
  // no span of it is stored.
  virtual Result<otlp::Batch> GetTrace(const otlp::TraceId& trace_id) = 0;
  virtual Result<TraceSearchResult> SearchTraces(const TraceQuery& query) = 0;
  virtual Result<std::vector<MetricInfo>> ListMetrics(const MetricListQuery& query) = 0;
  virtual Result<SeriesResult> QuerySeries(const SeriesQuery& query) = 0;
  virtual Result<LogSearchResult> SearchLogs(const LogQuery& query) = 0;
  virtual Result<StoreStats> Stats() = 0;

  // Player telemetry readers (thread-safe). Stores without player support answer
  // FailedPrecondition.
  virtual Result<SessionPage> ListSessions(const SessionListQuery& /*query*/) {
    return FailedPrecondition("this store keeps no playback sessions");
  }
  // The stored session with its dedup state (seen_sequence_numbers, at most `max_sequences`
  // of them), or NotFound. The Sessionizer's Loader.
  virtual Result<player::SessionState> GetSession(std::string_view /*project_id*/,
                                                  std::string_view /*session_id*/,
                                                  size_t /*max_sequences*/ = 0) {
    return FailedPrecondition("this store keeps no playback sessions");
  }
  // One page of a session's events; an unknown session gives an empty page.
  virtual Result<PlaybackEventPage> ListSessionEvents(const SessionEventsQuery& /*query*/) {
    return FailedPrecondition("this store keeps no playback sessions");
  }
  // Events with ingest_sequence > `after`, ascending, at most `limit` (SSE backfill).
  virtual Result<PlaybackEventPage> EventsAfter(uint64_t /*after*/, uint32_t /*limit*/) {
    return FailedPrecondition("this store keeps no playback sessions");
  }
  // Sessions not ended (for Sessionizer::Restore at startup), at most `limit`, newest first.
  virtual Result<std::vector<player::SessionState>> OpenSessions(uint32_t /*limit*/) {
    return FailedPrecondition("this store keeps no playback sessions");
  }

  // Flushes and closes. Safe to call twice; no other call is allowed afterwards.
  virtual void Close() = 0;
};

}  // namespace avtrace::store
