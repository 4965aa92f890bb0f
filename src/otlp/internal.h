#pragma once
// Internals shared by the OTLP decoders, encoders and the canonical dump. Not part of the
// module's interface: other modules include decode.h / encode.h / dump.h instead.
//
// Threads: pure functions and single-owner values.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/decode.h"
#include "otlp/model.h"

namespace avtrace::otlp::internal {

// How deep AnyValues may nest (an attribute's value is depth 1; each arrayValue / kvlistValue adds
// one). Bounds the recursion of every reader and writer of attribute lists.
inline constexpr int kMaxValueDepth = 32;

// Slow path of ValidUtf8 (simdjson's validator); out of line so that simdjson.h stays out of
// this header.
bool ValidUtf8Slow(std::string_view s);

// True if `s` is valid UTF-8. Names and keys are mostly short ASCII, so check 8 bytes at a time
// for a high bit before paying for the general validator.
inline bool ValidUtf8(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w & 0x8080808080808080ull) return ValidUtf8Slow(s);
  }
  for (; i < n; ++i) {
    if (static_cast<unsigned char>(p[i]) & 0x80) return ValidUtf8Slow(s);
  }
  return true;
}

// The position of the field being decoded, e.g. resourceSpans[0].scopeSpans[1].spans[3], kept
// as a stack of (static name, index) pairs so that the success path costs two stores per level;
// it is rendered into a string only when there is something to report.
class FieldPath {
 public:
  void Push(const char* name, int64_t index = -1) {
    if (depth_ < kMax) seg_[depth_] = {name, index};
    ++depth_;
  }
  void Pop() { --depth_; }
  // "<path>.<leaf>: <message>"; `leaf` may be empty.
  std::string Render(std::string_view leaf, std::string_view message) const;

 private:
  static constexpr int kMax = 192;
  struct Segment {
    const char* name;
    int64_t index;
  };
  Segment seg_[kMax];
  int depth_ = 0;
};

// RAII Push/Pop.
class PathScope {
 public:
  PathScope(FieldPath& path, const char* name, int64_t index = -1) : path_(path) {
    path_.Push(name, index);
  }
  ~PathScope() { path_.Pop(); }
  PathScope(const PathScope&) = delete;
  PathScope& operator=(const PathScope&) = delete;

 private:
  FieldPath& path_;
};

// Standard base64 with padding (OTLP/JSON bytesValue).
void AppendBase64(std::string* out, std::string_view in);
// Accepts the standard and the URL-safe alphabet, with or without padding (as protobuf's JSON
// parser does). False on any other character or a bad length.
bool DecodeBase64(std::string_view in, std::string* out);

// Appends the shortest text that reads back as exactly `d` ("NaN", "Infinity", "-Infinity" for
// the non-finite values, which callers quote for JSON). Integral values keep a ".0" so that a
// JSON reader sees a double (which keeps -0.0 negative).
void AppendDouble(std::string* out, double d);

// Appends `s` as a quoted JSON string. Invalid UTF-8 (possible only for batches not made by our
// decoders) is replaced by U+FFFD so the output is always valid JSON.
void AppendJsonString(std::string* out, std::string_view s);

// Items of a Batch grouped by (resource_index, scope_index), both in first-seen order: the
// nesting of Export*ServiceRequest. Items are spans, metrics (not points) or log records.
struct ScopeGroup {
  uint32_t scope_index;
  std::vector<uint32_t> items;
};
struct ResourceGroup {
  uint32_t resource_index;
  std::vector<ScopeGroup> scopes;
};
std::vector<ResourceGroup> GroupItems(Signal signal, const Batch& batch);

// Points of each metric, in batch order: the points of metric m are
// order[offsets[m] .. offsets[m + 1]). Points whose metric_index is out of range are left out.
struct PointIndex {
  std::vector<uint32_t> offsets;
  std::vector<uint32_t> order;
};
PointIndex IndexPoints(const Batch& batch);

// Rules shared by both decoders for items that decode but are invalid (dropped and counted as
// partial success). Each returns nullptr if the item is fine, else sets *field to the JSON name
// of the offending field and returns the reason.
const char* CheckSpanIds(const Span& span, const char** field);
const char* CheckPoint(const Metric& metric, const MetricPoint& point, const char** field);
// Metric-level rules (all points of the metric are dropped). `temporality` is the raw enum value.
const char* CheckMetric(const Metric& metric, int64_t temporality, const char** field);

// Enum ranges; the decoders check raw values before storing them in the uint8 enums.
inline constexpr int64_t kMaxSpanKind = 5;
inline constexpr int64_t kMaxStatusCode = 2;
inline constexpr int64_t kMaxTemporality = 2;
inline constexpr int32_t kMinExpScale = -10;
inline constexpr int32_t kMaxExpScale = 20;

// What a batch and an outcome held before a decode call, so that a failed request can be undone
// completely (both decoders: a failed request adds nothing).
class DecodeMark {
 public:
  DecodeMark(const Batch& batch, const DecodeOutcome& outcome)
      : resources_(batch.resources.size()),
        scopes_(batch.scopes.size()),
        spans_(batch.spans.size()),
        metrics_(batch.metrics.size()),
        points_(batch.points.size()),
        logs_(batch.logs.size()),
        rejected_(outcome.rejected),
        message_(outcome.error_message.size()) {}
  void Restore(Batch* batch, DecodeOutcome* outcome) const {
    batch->resources.resize(resources_);
    batch->scopes.resize(scopes_);
    batch->spans.resize(spans_);
    batch->metrics.resize(metrics_);
    batch->points.resize(points_);
    batch->logs.resize(logs_);
    outcome->rejected = rejected_;
    outcome->error_message.resize(message_);
  }

 private:
  size_t resources_, scopes_, spans_, metrics_, points_, logs_;
  int64_t rejected_;
  size_t message_;
};

}  // namespace avtrace::otlp::internal
