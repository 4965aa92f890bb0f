#pragma once
// The OTLP data model as avtrace holds it in memory: a Batch.
//
// A Batch is what every front door decodes into (OTLP protobuf, OTLP/JSON, later gRPC, beacons),
// what the pipeline queues, what a Store appends, and also what a Store returns when asked for a
// trace or for log records, so that one encoder (otlp/encode.h) renders stored data as OTLP/JSON.
//
// Zero-copy: every string_view in a Batch points into the Batch's own Arena: either into the
// request body the decoder was given (Arena::Adopt) or into bytes the decoder copied there
// (Arena::Copy, e.g. unescaped JSON strings). Attribute lists are kept in their protobuf wire
// form (see AttrList) and are only walked when someone needs a key, so a span decoded from
// protobuf costs no allocation per attribute.
//
// Ownership: a Batch owns all its memory; it is move-only, and moving it keeps every view valid.
// Threads: not thread-safe; one owner at a time (front door -> pipeline -> writer thread).

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace avtrace::otlp {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

template <size_t N>
bool IsZeroId(const std::array<uint8_t, N>& id) {
  for (uint8_t b : id)
    if (b != 0) return false;
  return true;
}

// Owns the bytes a Batch's views point into. Views stay valid while the Arena lives, including
// across moves of the Arena (storage is heap-allocated and never relocated).
class Arena {
 public:
  Arena() = default;
  Arena(Arena&&) noexcept = default;
  Arena& operator=(Arena&&) noexcept = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Takes ownership of `bytes` (e.g. a decompressed request body) and returns a view of them.
  std::string_view Adopt(std::string bytes);
  // Copies `bytes` into the arena and returns a view of the copy.
  std::string_view Copy(std::string_view bytes);
  // Returns `n` writable bytes (uninitialised) owned by the arena.
  char* Allocate(size_t n);
  // Bytes held, for queue accounting.
  size_t bytes() const { return bytes_; }

 private:
  std::vector<std::unique_ptr<std::string>> adopted_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* cursor_ = nullptr;
  size_t left_ = 0;
  size_t bytes_ = 0;
};

// An attribute list in protobuf wire form: a concatenation of length-delimited fields, each
// holding one encoded `KeyValue` message. The field numbers are ignored when reading, so the bytes
// of a Span's repeated field 9 and of a KeyValueList's repeated field 1 are both valid AttrLists.
// Walk it with otlp/attributes.h; build one with AttrWriter there. `count` is the number of
// entries (known after decoding; 0 for an empty list).
struct AttrList {
  std::string_view encoded;
  uint32_t count = 0;
  bool empty() const { return encoded.empty(); }
};

struct Resource {
  AttrList attributes;
  uint32_t dropped_attributes_count = 0;
  std::string_view schema_url;  // ResourceSpans/ResourceMetrics/ResourceLogs.schema_url
};

struct Scope {
  std::string_view name;
  std::string_view version;
  AttrList attributes;
  uint32_t dropped_attributes_count = 0;
  std::string_view schema_url;  // ScopeSpans/ScopeMetrics/ScopeLogs.schema_url
};

enum class SpanKind : uint8_t {
  kUnspecified = 0, kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5
};
enum class SpanStatusCode : uint8_t { kUnset = 0, kOk = 1, kError = 2 };

struct SpanEvent {
  uint64_t time_unix_nano = 0;
  std::string_view name;
  AttrList attributes;
  uint32_t dropped_attributes_count = 0;
};

struct SpanLink {
  TraceId trace_id{};
  SpanId span_id{};
  std::string_view trace_state;
  AttrList attributes;
  uint32_t dropped_attributes_count = 0;
  uint32_t flags = 0;
};

struct Span {
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_span_id{};  // all zeros: a root span
  std::string_view trace_state;
  uint32_t flags = 0;
  std::string_view name;
  SpanKind kind = SpanKind::kUnspecified;
  uint64_t start_time_unix_nano = 0;
  uint64_t end_time_unix_nano = 0;
  AttrList attributes;
  uint32_t dropped_attributes_count = 0;
  std::vector<SpanEvent> events;
  uint32_t dropped_events_count = 0;
  std::vector<SpanLink> links;
  uint32_t dropped_links_count = 0;
  SpanStatusCode status_code = SpanStatusCode::kUnset;
  std::string_view status_message;
  uint32_t resource_index = 0;  // into Batch::resources
  uint32_t scope_index = 0;     // into Batch::scopes
};

enum class MetricType : uint8_t {
  kGauge = 1, kSum = 2, kHistogram = 3, kExponentialHistogram = 4, kSummary = 5
};
enum class Temporality : uint8_t { kUnspecified = 0, kDelta = 1, kCumulative = 2 };
enum class NumberKind : uint8_t { kNone = 0, kDouble = 1, kInt = 2 };

struct Exemplar {
  AttrList filtered_attributes;
  uint64_t time_unix_nano = 0;
  NumberKind value_kind = NumberKind::kNone;
  double as_double = 0;
  int64_t as_int = 0;
  SpanId span_id{};    // zeros: absent
  TraceId trace_id{};  // zeros: absent
};

struct Metric {
  std::string_view name;
  std::string_view description;
  std::string_view unit;
  MetricType type = MetricType::kGauge;
  Temporality temporality = Temporality::kUnspecified;  // Sum, Histogram, ExponentialHistogram
  bool is_monotonic = false;                             // Sum only
  AttrList metadata;
  uint32_t resource_index = 0;
  uint32_t scope_index = 0;
};

struct Buckets {
  int32_t offset = 0;
  std::vector<uint64_t> bucket_counts;
};

// One data point of any of the five types; which fields matter follows Metric::type.
struct MetricPoint {
  uint32_t metric_index = 0;  // into Batch::metrics
  AttrList attributes;
  uint64_t start_time_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  uint32_t flags = 0;  // DataPointFlags; bit 0 = no recorded value
  // Gauge, Sum.
  NumberKind value_kind = NumberKind::kNone;
  double as_double = 0;
  int64_t as_int = 0;
  // Histogram, ExponentialHistogram, Summary.
  uint64_t count = 0;
  bool has_sum = false, has_min = false, has_max = false;
  double sum = 0, min = 0, max = 0;
  std::vector<uint64_t> bucket_counts;  // Histogram
  std::vector<double> explicit_bounds;  // Histogram
  int32_t scale = 0;                    // ExponentialHistogram
  uint64_t zero_count = 0;
  double zero_threshold = 0;
  Buckets positive, negative;
  std::vector<std::pair<double, double>> quantile_values;  // Summary: (quantile, value)
  std::vector<Exemplar> exemplars;
};

struct LogRecord {
  uint64_t time_unix_nano = 0;
  uint64_t observed_time_unix_nano = 0;
  int32_t severity_number = 0;
  std::string_view severity_text;
  // The body as an encoded AnyValue message (protobuf wire form); empty: no body.
  std::string_view body;
  AttrList attributes;
  uint32_t dropped_attributes_count = 0;
  uint32_t flags = 0;
  TraceId trace_id{};  // zeros: absent
  SpanId span_id{};    // zeros: absent
  std::string_view event_name;
  uint32_t resource_index = 0;
  uint32_t scope_index = 0;
};

// ---- Player telemetry (src/player/) ------------------------------------------------------------
// Playback events come from the m-trace-compatible beacon API, from CMCD collection and (later)
// from SDKs speaking OTLP. They share the Batch's arena like spans do.

enum class PlaybackSource : uint8_t { kBeacon = 0, kCmcd = 1, kSdkOtlp = 2 };

// Assigned at commit (Sessionizer / store); kUnassigned until then.
enum class DeliveryStatus : uint8_t {
  kUnassigned = 0, kAccepted = 1, kDuplicateSuspected = 2, kReplayed = 3
};

struct PlaybackEvent {
  std::string_view event_name;
  std::string_view project_id;
  std::string_view session_id;
  std::string_view client_timestamp;  // as sent (RFC 3339), or rendered for CMCD
  uint64_t client_unix_nanos = 0;     // parsed client_timestamp
  bool has_sequence_number = false;
  int64_t sequence_number = 0;
  std::string_view sdk_name;
  std::string_view sdk_version;
  std::string_view schema_version;  // "1.0" for beacons
  // A JSON object text ({"k":v,...}), already validated and URL-redacted; empty: no meta.
  std::string_view meta_json;
  uint64_t server_received_unix_nanos = 0;
  // The ingest span of the request: trace_id from a valid traceparent (else a fresh one),
  // span_id fresh per request, parent_span_id from traceparent (zeros: none).
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_span_id{};
  bool trace_parse_error = false;   // traceparent present but invalid (never a 4xx)
  bool time_skew_warning = false;   // |client - server| > 60 s
  PlaybackSource source = PlaybackSource::kBeacon;
  // Set by the sessionizer: the session's UUIDv4 (36 chars), in the Batch's arena.
  std::string_view correlation_id;
  // Assigned at commit by the store.
  DeliveryStatus delivery_status = DeliveryStatus::kUnassigned;
  uint64_t ingest_sequence = 0;  // 0: not yet assigned
};

// One `session_boundaries[]` entry of a beacon batch (kind network_signal_absent today).
struct SessionBoundary {
  std::string_view kind;
  std::string_view project_id;
  std::string_view session_id;
  std::string_view network_kind;  // manifest | segment
  std::string_view adapter;       // hls.js | native_hls | unknown
  std::string_view reason;
  std::string_view client_timestamp;
  uint64_t client_unix_nanos = 0;
  uint64_t server_received_unix_nanos = 0;
};

enum class Signal : uint8_t { kTraces = 0, kMetrics = 1, kLogs = 2 };
std::string_view SignalName(Signal s);  // "traces", "metrics", "logs"

class Batch {
 public:
  Batch() = default;
  Batch(Batch&&) noexcept = default;
  Batch& operator=(Batch&&) noexcept = default;
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  Arena arena;
  std::vector<Resource> resources;
  std::vector<Scope> scopes;
  std::vector<Span> spans;
  std::vector<Metric> metrics;
  std::vector<MetricPoint> points;
  std::vector<LogRecord> logs;
  uint64_t received_unix_nanos = 0;  // set by the front door
  std::vector<PlaybackEvent> playback_events;
  std::vector<SessionBoundary> session_boundaries;

  // Spans + metric points + log records + playback events + session boundaries.
  size_t ItemCount() const {
    return spans.size() + points.size() + logs.size() + playback_events.size() +
           session_boundaries.size();
  }
  // Approximate memory held, for the pipeline's byte bound.
  size_t ApproxBytes() const;
};

}  // namespace avtrace::otlp
