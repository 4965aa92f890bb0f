#include "otlp/dump.h"

#include <cmath>
#include <cstdio>

#include "otlp/attributes.h"
#include "otlp/encode.h"
#include "otlp/internal.h"

namespace avtrace::otlp {
namespace {

void Str(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

void Dbl(std::string& out, double d) {
  if (std::isnan(d)) {
    out += "nan";
    return;
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  out += buf;
}

void Value(std::string& out, const ValueView& v, int depth);

void Attrs(std::string& out, std::string_view encoded, int depth) {
  out += '{';
  bool first = true;
  Status s = VisitAttributes(encoded, [&](std::string_view k, const ValueView& v) {
    if (!first) out += ", ";
    first = false;
    Str(out, k);
    out += '=';
    Value(out, v, depth + 1);
  });
  if (!s.ok()) out += "<malformed: " + s.message() + ">";
  out += '}';
}

void Value(std::string& out, const ValueView& v, int depth) {
  if (depth > 2 * internal::kMaxValueDepth) {
    out += "<too deep>";
    return;
  }
  switch (v.type) {
    case ValueType::kEmpty: out += "e:"; break;
    case ValueType::kString:
      out += "s:";
      Str(out, v.bytes);
      break;
    case ValueType::kBool: out += v.bool_value ? "b:true" : "b:false"; break;
    case ValueType::kInt: out += "i:" + std::to_string(v.int_value); break;
    case ValueType::kDouble:
      out += "d:";
      Dbl(out, v.double_value);
      break;
    case ValueType::kBytes:
      out += "y:";
      internal::AppendBase64(&out, v.bytes);
      break;
    case ValueType::kArray: {
      out += "a:[";
      bool first = true;
      Status s = VisitArray(v.bytes, [&](const ValueView& e) {
        if (!first) out += ", ";
        first = false;
        Value(out, e, depth + 1);
      });
      if (!s.ok()) out += "<malformed: " + s.message() + ">";
      out += ']';
      break;
    }
    case ValueType::kKvList:
      out += "m:";
      Attrs(out, v.bytes, depth);
      break;
  }
}

void AttrField(std::string& out, const char* name, const AttrList& list) {
  out += ' ';
  out += name;
  out += '=';
  Attrs(out, list.encoded, 0);
  // The count is what a decoder saw; it must agree with the entries.
  if (list.count != 0) out += "#" + std::to_string(list.count);
}

void U64(std::string& out, const char* name, uint64_t v) {
  out += ' ';
  out += name;
  out += '=';
  out += std::to_string(v);
}
void I64(std::string& out, const char* name, int64_t v) {
  out += ' ';
  out += name;
  out += '=';
  out += std::to_string(v);
}
void Text(std::string& out, const char* name, std::string_view v) {
  out += ' ';
  out += name;
  out += '=';
  Str(out, v);
}
void D(std::string& out, const char* name, double v) {
  out += ' ';
  out += name;
  out += '=';
  Dbl(out, v);
}
template <size_t N>
void Id(std::string& out, const char* name, const std::array<uint8_t, N>& id) {
  out += ' ';
  out += name;
  out += '=';
  out += HexId(id);
}

void DumpSpan(std::string& out, const Span& s) {
  out += "    span";
  Id(out, "trace", s.trace_id);
  Id(out, "span", s.span_id);
  Id(out, "parent", s.parent_span_id);
  Text(out, "state", s.trace_state);
  U64(out, "flags", s.flags);
  Text(out, "name", s.name);
  U64(out, "kind", static_cast<uint64_t>(s.kind));
  U64(out, "start", s.start_time_unix_nano);
  U64(out, "end", s.end_time_unix_nano);
  AttrField(out, "attrs", s.attributes);
  U64(out, "dropped_attrs", s.dropped_attributes_count);
  U64(out, "dropped_events", s.dropped_events_count);
  U64(out, "dropped_links", s.dropped_links_count);
  U64(out, "status", static_cast<uint64_t>(s.status_code));
  Text(out, "status_message", s.status_message);
  out += '\n';
  for (const SpanEvent& e : s.events) {
    out += "      event";
    U64(out, "time", e.time_unix_nano);
    Text(out, "name", e.name);
    AttrField(out, "attrs", e.attributes);
    U64(out, "dropped_attrs", e.dropped_attributes_count);
    out += '\n';
  }
  for (const SpanLink& l : s.links) {
    out += "      link";
    Id(out, "trace", l.trace_id);
    Id(out, "span", l.span_id);
    Text(out, "state", l.trace_state);
    U64(out, "flags", l.flags);
    AttrField(out, "attrs", l.attributes);
    U64(out, "dropped_attrs", l.dropped_attributes_count);
    out += '\n';
  }
}

void DumpExemplars(std::string& out, const std::vector<Exemplar>& exemplars) {
  for (const Exemplar& e : exemplars) {
    out += "        exemplar";
    AttrField(out, "attrs", e.filtered_attributes);
    U64(out, "time", e.time_unix_nano);
    if (e.value_kind == NumberKind::kDouble) D(out, "double", e.as_double);
    if (e.value_kind == NumberKind::kInt) I64(out, "int", e.as_int);
    Id(out, "span", e.span_id);
    Id(out, "trace", e.trace_id);
    out += '\n';
  }
}

void DumpPoint(std::string& out, const Metric& m, const MetricPoint& p) {
  out += "      point";
  AttrField(out, "attrs", p.attributes);
  U64(out, "start", p.start_time_unix_nano);
  U64(out, "time", p.time_unix_nano);
  U64(out, "flags", p.flags);
  switch (m.type) {
    case MetricType::kGauge:
    case MetricType::kSum:
      if (p.value_kind == NumberKind::kDouble) D(out, "double", p.as_double);
      if (p.value_kind == NumberKind::kInt) I64(out, "int", p.as_int);
      if (p.value_kind == NumberKind::kNone) out += " novalue";
      break;
    case MetricType::kHistogram:
    case MetricType::kExponentialHistogram:
    case MetricType::kSummary:
      U64(out, "count", p.count);
      if (p.has_sum) D(out, "sum", p.sum);
      if (p.has_min) D(out, "min", p.min);
      if (p.has_max) D(out, "max", p.max);
      break;
  }
  if (m.type == MetricType::kHistogram) {
    out += " buckets=[";
    for (size_t i = 0; i < p.bucket_counts.size(); ++i) {
      if (i) out += ',';
      out += std::to_string(p.bucket_counts[i]);
    }
    out += "] bounds=[";
    for (size_t i = 0; i < p.explicit_bounds.size(); ++i) {
      if (i) out += ',';
      Dbl(out, p.explicit_bounds[i]);
    }
    out += ']';
  }
  if (m.type == MetricType::kExponentialHistogram) {
    I64(out, "scale", p.scale);
    U64(out, "zero_count", p.zero_count);
    D(out, "zero_threshold", p.zero_threshold);
    for (const Buckets* b : {&p.positive, &p.negative}) {
      out += b == &p.positive ? " positive=" : " negative=";
      out += std::to_string(b->offset) + ":[";
      for (size_t i = 0; i < b->bucket_counts.size(); ++i) {
        if (i) out += ',';
        out += std::to_string(b->bucket_counts[i]);
      }
      out += ']';
    }
  }
  if (m.type == MetricType::kSummary) {
    out += " quantiles=[";
    for (size_t i = 0; i < p.quantile_values.size(); ++i) {
      if (i) out += ',';
      Dbl(out, p.quantile_values[i].first);
      out += ':';
      Dbl(out, p.quantile_values[i].second);
    }
    out += ']';
  }
  out += '\n';
  DumpExemplars(out, p.exemplars);
}

void DumpMetric(std::string& out, const Batch& b, const internal::PointIndex& index, uint32_t mi) {
  const Metric& m = b.metrics[mi];
  out += "    metric";
  Text(out, "name", m.name);
  Text(out, "description", m.description);
  Text(out, "unit", m.unit);
  U64(out, "type", static_cast<uint64_t>(m.type));
  U64(out, "temporality", static_cast<uint64_t>(m.temporality));
  U64(out, "monotonic", m.is_monotonic ? 1 : 0);
  AttrField(out, "metadata", m.metadata);
  out += '\n';
  for (uint32_t k = index.offsets[mi]; k < index.offsets[mi + 1]; ++k) {
    DumpPoint(out, m, b.points[index.order[k]]);
  }
}

void DumpLog(std::string& out, const LogRecord& l) {
  out += "    log";
  U64(out, "time", l.time_unix_nano);
  U64(out, "observed", l.observed_time_unix_nano);
  I64(out, "severity", l.severity_number);
  Text(out, "severity_text", l.severity_text);
  // A body whose AnyValue holds no value (e.g. only unknown fields) means the same as no body.
  out += " body=";
  ValueView v;
  const char* err = nullptr;
  if (!ParseAnyValue(l.body, &v, &err)) {
    out += "<malformed>";
  } else if (v.type == ValueType::kEmpty) {
    out += "none";
  } else {
    Value(out, v, 0);
  }
  AttrField(out, "attrs", l.attributes);
  U64(out, "dropped_attrs", l.dropped_attributes_count);
  U64(out, "flags", l.flags);
  Id(out, "trace", l.trace_id);
  Id(out, "span", l.span_id);
  Text(out, "event_name", l.event_name);
  out += '\n';
}

}  // namespace

std::string CanonicalDump(Signal signal, const Batch& batch) {
  std::string out;
  internal::PointIndex index;
  if (signal == Signal::kMetrics) index = internal::IndexPoints(batch);
  static const Resource kNoResource;
  static const Scope kNoScope;
  for (const internal::ResourceGroup& rg : internal::GroupItems(signal, batch)) {
    const Resource& r = rg.resource_index < batch.resources.size()
                            ? batch.resources[rg.resource_index]
                            : kNoResource;
    out += "resource";
    Text(out, "schema_url", r.schema_url);
    AttrField(out, "attrs", r.attributes);
    U64(out, "dropped_attrs", r.dropped_attributes_count);
    out += '\n';
    for (const internal::ScopeGroup& sg : rg.scopes) {
      const Scope& s =
          sg.scope_index < batch.scopes.size() ? batch.scopes[sg.scope_index] : kNoScope;
      out += "  scope";
      Text(out, "name", s.name);
      Text(out, "version", s.version);
      Text(out, "schema_url", s.schema_url);
      AttrField(out, "attrs", s.attributes);
      U64(out, "dropped_attrs", s.dropped_attributes_count);
      out += '\n';
      for (uint32_t i : sg.items) {
        switch (signal) {
          case Signal::kTraces: DumpSpan(out, batch.spans[i]); break;
          case Signal::kMetrics: DumpMetric(out, batch, index, i); break;
          case Signal::kLogs: DumpLog(out, batch.logs[i]); break;
        }
      }
    }
  }
  return out;
}

}  // namespace avtrace::otlp
