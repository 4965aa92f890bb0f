// OTLP encoders (encode.h) and the export responses (decode.h).
//
// Both encoders group items by (resource_index, scope_index) in first-seen order
// (internal::GroupItems) and omit proto3 default values, so decode(encode(batch)) gives back the
// batch. Attribute lists are written from their wire form: re-tagged for protobuf, walked with
// VisitAttributes for JSON.

#include "otlp/encode.h"

#include <charconv>
#include <cmath>

#include "otlp/attributes.h"
#include "otlp/decode.h"
#include "otlp/internal.h"
#include "otlp/wire.h"

namespace avtrace::otlp {
namespace {

using internal::GroupItems;
using internal::IndexPoints;
using internal::PointIndex;
using internal::ResourceGroup;

const Resource& ResourceAt(const Batch& b, uint32_t i) {
  static const Resource kEmpty;
  return i < b.resources.size() ? b.resources[i] : kEmpty;
}
const Scope& ScopeAt(const Batch& b, uint32_t i) {
  static const Scope kEmpty;
  return i < b.scopes.size() ? b.scopes[i] : kEmpty;
}

// ================================ protobuf ====================================================

// Writes each KeyValue entry of `list` as field `field` (stored lists may carry another field
// number: the one of the message they were decoded from).
void WriteAttrs(WireWriter& w, uint32_t field, const AttrList& list) {
  WireReader r(list.encoded);
  uint32_t f;
  WireType t;
  std::string_view kv;
  while (r.NextTag(&f, &t)) {
    if (t != WireType::kLen || !r.ReadLen(&kv)) break;
    w.BytesField(field, kv);
  }
}
void WriteString(WireWriter& w, uint32_t field, std::string_view s) {
  if (!s.empty()) w.BytesField(field, s);
}
void WriteVarint(WireWriter& w, uint32_t field, uint64_t v) {
  if (v != 0) w.VarintField(field, v);
}
void WriteFixed64(WireWriter& w, uint32_t field, uint64_t v) {
  if (v != 0) w.Fixed64Field(field, v);
}
void WriteFixed32(WireWriter& w, uint32_t field, uint32_t v) {
  if (v != 0) w.Fixed32Field(field, v);
}
template <size_t N>
void WriteId(WireWriter& w, uint32_t field, const std::array<uint8_t, N>& id) {
  if (!IsZeroId(id))
    w.BytesField(field, std::string_view(reinterpret_cast<const char*>(id.data()), N));
}
// int32 enums and numbers: negative values are sign-extended to 64 bits, as protobuf does.
void WriteInt32(WireWriter& w, uint32_t field, int32_t v) {
  if (v != 0) w.VarintField(field, static_cast<uint64_t>(static_cast<int64_t>(v)));
}

void WriteResource(WireWriter& w, const Resource& r) {
  if (r.attributes.empty() && r.dropped_attributes_count == 0) return;
  w.Message(1, [&](WireWriter& m) {
    WriteAttrs(m, 1, r.attributes);
    WriteVarint(m, 2, r.dropped_attributes_count);
  });
}
void WriteScope(WireWriter& w, const Scope& s) {
  if (s.name.empty() && s.version.empty() && s.attributes.empty() &&
      s.dropped_attributes_count == 0) {
    return;
  }
  w.Message(1, [&](WireWriter& m) {
    WriteString(m, 1, s.name);
    WriteString(m, 2, s.version);
    WriteAttrs(m, 3, s.attributes);
    WriteVarint(m, 4, s.dropped_attributes_count);
  });
}

void WriteSpan(WireWriter& w, const Span& s) {
  WriteId(w, 1, s.trace_id);
  WriteId(w, 2, s.span_id);
  WriteString(w, 3, s.trace_state);
  WriteId(w, 4, s.parent_span_id);
  WriteString(w, 5, s.name);
  WriteVarint(w, 6, static_cast<uint64_t>(s.kind));
  WriteFixed64(w, 7, s.start_time_unix_nano);
  WriteFixed64(w, 8, s.end_time_unix_nano);
  WriteAttrs(w, 9, s.attributes);
  WriteVarint(w, 10, s.dropped_attributes_count);
  for (const SpanEvent& e : s.events) {
    w.Message(11, [&](WireWriter& m) {
      WriteFixed64(m, 1, e.time_unix_nano);
      WriteString(m, 2, e.name);
      WriteAttrs(m, 3, e.attributes);
      WriteVarint(m, 4, e.dropped_attributes_count);
    });
  }
  WriteVarint(w, 12, s.dropped_events_count);
  for (const SpanLink& l : s.links) {
    w.Message(13, [&](WireWriter& m) {
      WriteId(m, 1, l.trace_id);
      WriteId(m, 2, l.span_id);
      WriteString(m, 3, l.trace_state);
      WriteAttrs(m, 4, l.attributes);
      WriteVarint(m, 5, l.dropped_attributes_count);
      WriteFixed32(m, 6, l.flags);
    });
  }
  WriteVarint(w, 14, s.dropped_links_count);
  if (s.status_code != SpanStatusCode::kUnset || !s.status_message.empty()) {
    w.Message(15, [&](WireWriter& m) {
      WriteString(m, 2, s.status_message);
      WriteVarint(m, 3, static_cast<uint64_t>(s.status_code));
    });
  }
  WriteFixed32(w, 16, s.flags);
}

void WriteExemplars(WireWriter& w, uint32_t field, const std::vector<Exemplar>& exemplars) {
  for (const Exemplar& e : exemplars) {
    w.Message(field, [&](WireWriter& m) {
      WriteAttrs(m, 7, e.filtered_attributes);
      WriteFixed64(m, 2, e.time_unix_nano);
      if (e.value_kind == NumberKind::kDouble) m.DoubleField(3, e.as_double);
      if (e.value_kind == NumberKind::kInt) m.Fixed64Field(6, static_cast<uint64_t>(e.as_int));
      WriteId(m, 4, e.span_id);
      WriteId(m, 5, e.trace_id);
    });
  }
}

template <typename T>
void WritePackedFixed64(WireWriter& w, uint32_t field, const std::vector<T>& values) {
  static_assert(sizeof(T) == 8);
  if (values.empty()) return;
  w.Tag(field, WireType::kLen);
  w.Varint(values.size() * 8);
  w.Raw(values.data(), values.size() * 8);
}

void WriteBuckets(WireWriter& w, uint32_t field, const Buckets& b) {
  if (b.offset == 0 && b.bucket_counts.empty()) return;
  w.Message(field, [&](WireWriter& m) {
    WriteVarint(m, 1, ZigZagEncode32(b.offset));
    if (!b.bucket_counts.empty()) {
      m.Message(2, [&](WireWriter& p) {
        for (uint64_t c : b.bucket_counts) p.Varint(c);
      });
    }
  });
}

void WritePoint(WireWriter& w, MetricType type, const MetricPoint& p) {
  switch (type) {
    case MetricType::kGauge:
    case MetricType::kSum:
      WriteAttrs(w, 7, p.attributes);
      WriteFixed64(w, 2, p.start_time_unix_nano);
      WriteFixed64(w, 3, p.time_unix_nano);
      if (p.value_kind == NumberKind::kDouble) w.DoubleField(4, p.as_double);
      if (p.value_kind == NumberKind::kInt) w.Fixed64Field(6, static_cast<uint64_t>(p.as_int));
      WriteExemplars(w, 5, p.exemplars);
      WriteVarint(w, 8, p.flags);
      break;
    case MetricType::kHistogram:
      WriteAttrs(w, 9, p.attributes);
      WriteFixed64(w, 2, p.start_time_unix_nano);
      WriteFixed64(w, 3, p.time_unix_nano);
      WriteFixed64(w, 4, p.count);
      if (p.has_sum) w.DoubleField(5, p.sum);
      WritePackedFixed64(w, 6, p.bucket_counts);
      WritePackedFixed64(w, 7, p.explicit_bounds);
      WriteExemplars(w, 8, p.exemplars);
      WriteVarint(w, 10, p.flags);
      if (p.has_min) w.DoubleField(11, p.min);
      if (p.has_max) w.DoubleField(12, p.max);
      break;
    case MetricType::kExponentialHistogram:
      WriteAttrs(w, 1, p.attributes);
      WriteFixed64(w, 2, p.start_time_unix_nano);
      WriteFixed64(w, 3, p.time_unix_nano);
      WriteFixed64(w, 4, p.count);
      if (p.has_sum) w.DoubleField(5, p.sum);
      WriteVarint(w, 6, ZigZagEncode32(p.scale));
      WriteFixed64(w, 7, p.zero_count);
      WriteBuckets(w, 8, p.positive);
      WriteBuckets(w, 9, p.negative);
      WriteVarint(w, 10, p.flags);
      WriteExemplars(w, 11, p.exemplars);
      if (p.has_min) w.DoubleField(12, p.min);
      if (p.has_max) w.DoubleField(13, p.max);
      if (p.zero_threshold != 0 || std::signbit(p.zero_threshold)) {
        w.DoubleField(14, p.zero_threshold);
      }
      break;
    case MetricType::kSummary:
      WriteAttrs(w, 7, p.attributes);
      WriteFixed64(w, 2, p.start_time_unix_nano);
      WriteFixed64(w, 3, p.time_unix_nano);
      WriteFixed64(w, 4, p.count);
      if (p.has_sum) w.DoubleField(5, p.sum);
      for (const std::pair<double, double>& qv : p.quantile_values) {
        w.Message(6, [&](WireWriter& m) {
          m.DoubleField(1, qv.first);
          m.DoubleField(2, qv.second);
        });
      }
      WriteVarint(w, 8, p.flags);
      break;
  }
}

uint32_t DataField(MetricType type) {
  switch (type) {
    case MetricType::kGauge: return 5;
    case MetricType::kSum: return 7;
    case MetricType::kHistogram: return 9;
    case MetricType::kExponentialHistogram: return 10;
    case MetricType::kSummary: return 11;
  }
  return 5;
}

void WriteMetric(WireWriter& w, const Batch& b, const PointIndex& index, uint32_t mi) {
  const Metric& m = b.metrics[mi];
  WriteString(w, 1, m.name);
  WriteString(w, 2, m.description);
  WriteString(w, 3, m.unit);
  w.Message(DataField(m.type), [&](WireWriter& d) {
    for (uint32_t k = index.offsets[mi]; k < index.offsets[mi + 1]; ++k) {
      d.Message(1, [&](WireWriter& pw) { WritePoint(pw, m.type, b.points[index.order[k]]); });
    }
    if (m.type == MetricType::kSum || m.type == MetricType::kHistogram ||
        m.type == MetricType::kExponentialHistogram) {
      WriteVarint(d, 2, static_cast<uint64_t>(m.temporality));
    }
    if (m.type == MetricType::kSum && m.is_monotonic) d.VarintField(3, 1);
  });
  WriteAttrs(w, 12, m.metadata);
}

void WriteLog(WireWriter& w, const LogRecord& l) {
  WriteFixed64(w, 1, l.time_unix_nano);
  WriteInt32(w, 2, l.severity_number);
  WriteString(w, 3, l.severity_text);
  if (!l.body.empty()) w.BytesField(5, l.body);
  WriteAttrs(w, 6, l.attributes);
  WriteVarint(w, 7, l.dropped_attributes_count);
  WriteFixed32(w, 8, l.flags);
  WriteId(w, 9, l.trace_id);
  WriteId(w, 10, l.span_id);
  WriteFixed64(w, 11, l.observed_time_unix_nano);
  WriteString(w, 12, l.event_name);
}

// ================================ JSON ========================================================

class Json {
 public:
  explicit Json(std::string* out) : out_(*out) {}

  void BeginObject() {
    Comma();
    out_ += '{';
    first_ = true;
  }
  void EndObject() {
    out_ += '}';
    first_ = false;
  }
  void BeginArray() {
    Comma();
    out_ += '[';
    first_ = true;
  }
  void EndArray() {
    out_ += ']';
    first_ = false;
  }
  // `key` is one of our literal field names: no escaping needed.
  void Key(std::string_view key) {
    Comma();
    out_ += '"';
    out_ += key;
    out_ += "\":";
    first_ = true;
  }
  void String(std::string_view s) {
    Comma();
    internal::AppendJsonString(&out_, s);
  }
  // 64-bit integers are decimal strings in OTLP/JSON.
  void U64String(uint64_t v) {
    Comma();
    out_ += '"';
    AppendInt(v);
    out_ += '"';
  }
  void I64String(int64_t v) {
    Comma();
    out_ += '"';
    AppendInt(v);
    out_ += '"';
  }
  void Number(int64_t v) {
    Comma();
    AppendInt(v);
  }
  void Double(double d) {
    Comma();
    if (std::isfinite(d)) {
      internal::AppendDouble(&out_, d);
    } else {
      out_ += '"';
      internal::AppendDouble(&out_, d);
      out_ += '"';
    }
  }
  void Bool(bool b) {
    Comma();
    out_ += b ? "true" : "false";
  }
  void Hex(const uint8_t* id, size_t n) {
    Comma();
    static const char* kHex = "0123456789abcdef";
    out_ += '"';
    for (size_t i = 0; i < n; ++i) {
      out_ += kHex[id[i] >> 4];
      out_ += kHex[id[i] & 15];
    }
    out_ += '"';
  }
  void Base64(std::string_view bytes) {
    Comma();
    out_ += '"';
    internal::AppendBase64(&out_, bytes);
    out_ += '"';
  }

  // Field helpers that omit default values.
  void StringField(std::string_view key, std::string_view v) {
    if (v.empty()) return;
    Key(key);
    String(v);
  }
  void U64Field(std::string_view key, uint64_t v) {
    if (v == 0) return;
    Key(key);
    U64String(v);
  }
  void NumberField(std::string_view key, int64_t v) {
    if (v == 0) return;
    Key(key);
    Number(v);
  }
  template <size_t N>
  void IdField(std::string_view key, const std::array<uint8_t, N>& id) {
    if (IsZeroId(id)) return;
    Key(key);
    Hex(id.data(), N);
  }

 private:
  void Comma() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  template <typename T>
  void AppendInt(T v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    out_.append(buf, static_cast<size_t>(end - buf));
  }

  std::string& out_;
  bool first_ = true;
};

void AnyValueJson(Json& j, const ValueView& v, int depth);

void KeyValuesJson(Json& j, std::string_view encoded, int depth) {
  j.BeginArray();
  (void)VisitAttributes(encoded, [&](std::string_view key, const ValueView& value) {
    j.BeginObject();
    j.Key("key");
    j.String(key);
    j.Key("value");
    AnyValueJson(j, value, depth);
    j.EndObject();
  });
  j.EndArray();
}

void AnyValueJson(Json& j, const ValueView& v, int depth) {
  j.BeginObject();
  // Decoders bound nesting; the guard only protects against batches built elsewhere.
  if (depth > 2 * internal::kMaxValueDepth) {
    j.EndObject();
    return;
  }
  switch (v.type) {
    case ValueType::kEmpty: break;
    case ValueType::kString:
      j.Key("stringValue");
      j.String(v.bytes);
      break;
    case ValueType::kBool:
      j.Key("boolValue");
      j.Bool(v.bool_value);
      break;
    case ValueType::kInt:
      j.Key("intValue");
      j.I64String(v.int_value);
      break;
    case ValueType::kDouble:
      j.Key("doubleValue");
      j.Double(v.double_value);
      break;
    case ValueType::kBytes:
      j.Key("bytesValue");
      j.Base64(v.bytes);
      break;
    case ValueType::kArray:
      j.Key("arrayValue");
      j.BeginObject();
      j.Key("values");
      j.BeginArray();
      (void)VisitArray(v.bytes, [&](const ValueView& e) { AnyValueJson(j, e, depth + 1); });
      j.EndArray();
      j.EndObject();
      break;
    case ValueType::kKvList:
      j.Key("kvlistValue");
      j.BeginObject();
      j.Key("values");
      KeyValuesJson(j, v.bytes, depth + 1);
      j.EndObject();
      break;
  }
  j.EndObject();
}

void AttrsField(Json& j, std::string_view key, const AttrList& list) {
  if (list.empty()) return;
  j.Key(key);
  KeyValuesJson(j, list.encoded, 1);
}

void ResourceJson(Json& j, const Resource& r) {
  j.Key("resource");
  j.BeginObject();
  AttrsField(j, "attributes", r.attributes);
  j.NumberField("droppedAttributesCount", r.dropped_attributes_count);
  j.EndObject();
}
void ScopeJson(Json& j, const Scope& s) {
  j.Key("scope");
  j.BeginObject();
  j.StringField("name", s.name);
  j.StringField("version", s.version);
  AttrsField(j, "attributes", s.attributes);
  j.NumberField("droppedAttributesCount", s.dropped_attributes_count);
  j.EndObject();
}

void SpanJson(Json& j, const Span& s) {
  j.BeginObject();
  j.Key("traceId");
  j.Hex(s.trace_id.data(), 16);
  j.Key("spanId");
  j.Hex(s.span_id.data(), 8);
  j.StringField("traceState", s.trace_state);
  j.IdField("parentSpanId", s.parent_span_id);
  j.NumberField("flags", s.flags);
  j.Key("name");
  j.String(s.name);
  j.Key("kind");
  j.Number(static_cast<int64_t>(s.kind));
  j.Key("startTimeUnixNano");
  j.U64String(s.start_time_unix_nano);
  j.Key("endTimeUnixNano");
  j.U64String(s.end_time_unix_nano);
  AttrsField(j, "attributes", s.attributes);
  j.NumberField("droppedAttributesCount", s.dropped_attributes_count);
  if (!s.events.empty()) {
    j.Key("events");
    j.BeginArray();
    for (const SpanEvent& e : s.events) {
      j.BeginObject();
      j.Key("timeUnixNano");
      j.U64String(e.time_unix_nano);
      j.Key("name");
      j.String(e.name);
      AttrsField(j, "attributes", e.attributes);
      j.NumberField("droppedAttributesCount", e.dropped_attributes_count);
      j.EndObject();
    }
    j.EndArray();
  }
  j.NumberField("droppedEventsCount", s.dropped_events_count);
  if (!s.links.empty()) {
    j.Key("links");
    j.BeginArray();
    for (const SpanLink& l : s.links) {
      j.BeginObject();
      j.IdField("traceId", l.trace_id);
      j.IdField("spanId", l.span_id);
      j.StringField("traceState", l.trace_state);
      AttrsField(j, "attributes", l.attributes);
      j.NumberField("droppedAttributesCount", l.dropped_attributes_count);
      j.NumberField("flags", l.flags);
      j.EndObject();
    }
    j.EndArray();
  }
  j.NumberField("droppedLinksCount", s.dropped_links_count);
  j.Key("status");
  j.BeginObject();
  j.StringField("message", s.status_message);
  j.NumberField("code", static_cast<int64_t>(s.status_code));
  j.EndObject();
  j.EndObject();
}

void ExemplarsJson(Json& j, const std::vector<Exemplar>& exemplars) {
  if (exemplars.empty()) return;
  j.Key("exemplars");
  j.BeginArray();
  for (const Exemplar& e : exemplars) {
    j.BeginObject();
    AttrsField(j, "filteredAttributes", e.filtered_attributes);
    j.U64Field("timeUnixNano", e.time_unix_nano);
    if (e.value_kind == NumberKind::kDouble) {
      j.Key("asDouble");
      j.Double(e.as_double);
    } else if (e.value_kind == NumberKind::kInt) {
      j.Key("asInt");
      j.I64String(e.as_int);
    }
    j.IdField("spanId", e.span_id);
    j.IdField("traceId", e.trace_id);
    j.EndObject();
  }
  j.EndArray();
}

void U64ArrayJson(Json& j, std::string_view key, const std::vector<uint64_t>& values) {
  if (values.empty()) return;
  j.Key(key);
  j.BeginArray();
  for (uint64_t v : values) j.U64String(v);
  j.EndArray();
}
void BucketsJson(Json& j, std::string_view key, const Buckets& b) {
  if (b.offset == 0 && b.bucket_counts.empty()) return;
  j.Key(key);
  j.BeginObject();
  j.NumberField("offset", b.offset);
  U64ArrayJson(j, "bucketCounts", b.bucket_counts);
  j.EndObject();
}
void OptionalDouble(Json& j, std::string_view key, bool has, double v) {
  if (!has) return;
  j.Key(key);
  j.Double(v);
}

void PointJson(Json& j, MetricType type, const MetricPoint& p) {
  j.BeginObject();
  AttrsField(j, "attributes", p.attributes);
  j.U64Field("startTimeUnixNano", p.start_time_unix_nano);
  j.U64Field("timeUnixNano", p.time_unix_nano);
  switch (type) {
    case MetricType::kGauge:
    case MetricType::kSum:
      if (p.value_kind == NumberKind::kDouble) {
        j.Key("asDouble");
        j.Double(p.as_double);
      } else if (p.value_kind == NumberKind::kInt) {
        j.Key("asInt");
        j.I64String(p.as_int);
      }
      ExemplarsJson(j, p.exemplars);
      break;
    case MetricType::kHistogram:
      j.U64Field("count", p.count);
      OptionalDouble(j, "sum", p.has_sum, p.sum);
      U64ArrayJson(j, "bucketCounts", p.bucket_counts);
      if (!p.explicit_bounds.empty()) {
        j.Key("explicitBounds");
        j.BeginArray();
        for (double d : p.explicit_bounds) j.Double(d);
        j.EndArray();
      }
      ExemplarsJson(j, p.exemplars);
      OptionalDouble(j, "min", p.has_min, p.min);
      OptionalDouble(j, "max", p.has_max, p.max);
      break;
    case MetricType::kExponentialHistogram:
      j.U64Field("count", p.count);
      OptionalDouble(j, "sum", p.has_sum, p.sum);
      j.NumberField("scale", p.scale);
      j.U64Field("zeroCount", p.zero_count);
      BucketsJson(j, "positive", p.positive);
      BucketsJson(j, "negative", p.negative);
      ExemplarsJson(j, p.exemplars);
      OptionalDouble(j, "min", p.has_min, p.min);
      OptionalDouble(j, "max", p.has_max, p.max);
      OptionalDouble(j, "zeroThreshold", p.zero_threshold != 0 || std::signbit(p.zero_threshold),
                     p.zero_threshold);
      break;
    case MetricType::kSummary:
      j.U64Field("count", p.count);
      OptionalDouble(j, "sum", p.has_sum, p.sum);
      if (!p.quantile_values.empty()) {
        j.Key("quantileValues");
        j.BeginArray();
        for (const auto& [q, v] : p.quantile_values) {
          j.BeginObject();
          j.Key("quantile");
          j.Double(q);
          j.Key("value");
          j.Double(v);
          j.EndObject();
        }
        j.EndArray();
      }
      break;
  }
  j.NumberField("flags", p.flags);
  j.EndObject();
}

const char* DataName(MetricType type) {
  switch (type) {
    case MetricType::kGauge: return "gauge";
    case MetricType::kSum: return "sum";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kExponentialHistogram: return "exponentialHistogram";
    case MetricType::kSummary: return "summary";
  }
  return "gauge";
}

void MetricJson(Json& j, const Batch& b, const PointIndex& index, uint32_t mi) {
  const Metric& m = b.metrics[mi];
  j.BeginObject();
  j.Key("name");
  j.String(m.name);
  j.StringField("description", m.description);
  j.StringField("unit", m.unit);
  j.Key(DataName(m.type));
  j.BeginObject();
  j.Key("dataPoints");
  j.BeginArray();
  for (uint32_t k = index.offsets[mi]; k < index.offsets[mi + 1]; ++k) {
    PointJson(j, m.type, b.points[index.order[k]]);
  }
  j.EndArray();
  if (m.type == MetricType::kSum || m.type == MetricType::kHistogram ||
      m.type == MetricType::kExponentialHistogram) {
    j.NumberField("aggregationTemporality", static_cast<int64_t>(m.temporality));
  }
  if (m.type == MetricType::kSum && m.is_monotonic) {
    j.Key("isMonotonic");
    j.Bool(true);
  }
  j.EndObject();
  AttrsField(j, "metadata", m.metadata);
  j.EndObject();
}

void LogJson(Json& j, const LogRecord& l) {
  j.BeginObject();
  j.U64Field("timeUnixNano", l.time_unix_nano);
  j.U64Field("observedTimeUnixNano", l.observed_time_unix_nano);
  j.NumberField("severityNumber", l.severity_number);
  j.StringField("severityText", l.severity_text);
  if (!l.body.empty()) {
    ValueView body;
    const char* err = nullptr;
    if (ParseAnyValue(l.body, &body, &err)) {
      j.Key("body");
      AnyValueJson(j, body, 1);
    }
  }
  AttrsField(j, "attributes", l.attributes);
  j.NumberField("droppedAttributesCount", l.dropped_attributes_count);
  j.NumberField("flags", l.flags);
  j.IdField("traceId", l.trace_id);
  j.IdField("spanId", l.span_id);
  j.StringField("eventName", l.event_name);
  j.EndObject();
}

constexpr const char* kResourceKey[] = {"resourceSpans", "resourceMetrics", "resourceLogs"};
constexpr const char* kScopeKey[] = {"scopeSpans", "scopeMetrics", "scopeLogs"};
constexpr const char* kItemKey[] = {"spans", "metrics", "logRecords"};
constexpr const char* kRejectedKey[] = {"rejectedSpans", "rejectedDataPoints",
                                        "rejectedLogRecords"};

}  // namespace

std::string EncodeProto(Signal signal, const Batch& batch) {
  std::string out;
  out.reserve(256 * (batch.ItemCount() + 1));
  WireWriter w(&out);
  const std::vector<ResourceGroup> groups = GroupItems(signal, batch);
  PointIndex index;
  if (signal == Signal::kMetrics) index = IndexPoints(batch);
  for (const ResourceGroup& rg : groups) {
    const Resource& resource = ResourceAt(batch, rg.resource_index);
    w.Message(1, [&](WireWriter& rw) {
      WriteResource(rw, resource);
      for (const auto& sg : rg.scopes) {
        const Scope& scope = ScopeAt(batch, sg.scope_index);
        rw.Message(2, [&](WireWriter& sw) {
          WriteScope(sw, scope);
          for (uint32_t i : sg.items) {
            sw.Message(2, [&](WireWriter& iw) {
              switch (signal) {
                case Signal::kTraces: WriteSpan(iw, batch.spans[i]); break;
                case Signal::kMetrics: WriteMetric(iw, batch, index, i); break;
                case Signal::kLogs: WriteLog(iw, batch.logs[i]); break;
              }
            });
          }
          WriteString(sw, 3, scope.schema_url);
        });
      }
      WriteString(rw, 3, resource.schema_url);
    });
  }
  return out;
}

std::string EncodeJson(Signal signal, const Batch& batch) {
  std::string out;
  out.reserve(512 * (batch.ItemCount() + 1));
  Json j(&out);
  const int s = static_cast<int>(signal);
  const std::vector<ResourceGroup> groups = GroupItems(signal, batch);
  PointIndex index;
  if (signal == Signal::kMetrics) index = IndexPoints(batch);
  j.BeginObject();
  j.Key(kResourceKey[s]);
  j.BeginArray();
  for (const ResourceGroup& rg : groups) {
    const Resource& resource = ResourceAt(batch, rg.resource_index);
    j.BeginObject();
    ResourceJson(j, resource);
    j.Key(kScopeKey[s]);
    j.BeginArray();
    for (const auto& sg : rg.scopes) {
      const Scope& scope = ScopeAt(batch, sg.scope_index);
      j.BeginObject();
      ScopeJson(j, scope);
      j.Key(kItemKey[s]);
      j.BeginArray();
      for (uint32_t i : sg.items) {
        switch (signal) {
          case Signal::kTraces: SpanJson(j, batch.spans[i]); break;
          case Signal::kMetrics: MetricJson(j, batch, index, i); break;
          case Signal::kLogs: LogJson(j, batch.logs[i]); break;
        }
      }
      j.EndArray();
      j.StringField("schemaUrl", scope.schema_url);
      j.EndObject();
    }
    j.EndArray();
    j.StringField("schemaUrl", resource.schema_url);
    j.EndObject();
  }
  j.EndArray();
  j.EndObject();
  return out;
}

std::string EncodeExportResponseProto(Signal signal, const DecodeOutcome& outcome) {
  (void)signal;  // the three partial-success messages share field numbers
  std::string out;
  if (outcome.rejected == 0 && outcome.error_message.empty()) return out;
  WireWriter w(&out);
  w.Message(1, [&](WireWriter& m) {
    WriteVarint(m, 1, static_cast<uint64_t>(outcome.rejected));
    WriteString(m, 2, outcome.error_message);
  });
  return out;
}

std::string EncodeExportResponseJson(Signal signal, const DecodeOutcome& outcome) {
  if (outcome.rejected == 0 && outcome.error_message.empty()) return "{}";
  std::string out;
  Json j(&out);
  j.BeginObject();
  j.Key("partialSuccess");
  j.BeginObject();
  if (outcome.rejected != 0) {
    j.Key(kRejectedKey[static_cast<int>(signal)]);
    j.I64String(outcome.rejected);
  }
  j.StringField("errorMessage", outcome.error_message);
  j.EndObject();
  j.EndObject();
  return out;
}

std::string EncodeRpcStatusProto(int grpc_code, std::string_view message) {
  std::string out;
  WireWriter w(&out);
  WriteInt32(w, 1, grpc_code);
  WriteString(w, 2, message);
  return out;
}

std::string EncodeRpcStatusJson(int grpc_code, std::string_view message) {
  std::string out;
  Json j(&out);
  j.BeginObject();
  j.Key("code");
  j.Number(grpc_code);
  j.Key("message");
  j.String(message);
  j.EndObject();
  return out;
}

}  // namespace avtrace::otlp
