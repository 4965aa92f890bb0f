// The OTLP/JSON decoder (see decode.h), on simdjson's DOM API with error codes (no exceptions).
//
// It fills the same Batch as the protobuf decoder: strings are copied into the batch's arena,
// attribute lists and log bodies are re-encoded into protobuf wire form, and the same item rules
// decide partial success (internal::Check*). Keys match in lowerCamelCase and snake_case alike
// (compared with '_' removed and ASCII case folded). Unknown keys and null values are ignored.

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <string>

#include "otlp/decode.h"
#include "otlp/encode.h"
#include "otlp/internal.h"
#include "otlp/wire.h"

namespace avtrace::otlp {
namespace {

using internal::FieldPath;
using internal::PathScope;
using simdjson::dom::element;
using simdjson::dom::element_type;

// A key with '_' removed and ASCII letters lowercased: "traceId", "trace_id" -> "traceid".
class Key {
 public:
  explicit Key(std::string_view key) {
    for (char c : key) {
      if (c == '_') continue;
      if (n_ == sizeof buf_) {  // longer than any OTLP key: matches nothing
        n_ = 0;
        return;
      }
      buf_[n_++] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    }
  }
  bool operator==(std::string_view s) const { return std::string_view(buf_, n_) == s; }

 private:
  char buf_[40];
  size_t n_ = 0;
};

struct EnumName {
  const char* name;
  int32_t value;
};
constexpr EnumName kSpanKinds[] = {
    {"SPAN_KIND_UNSPECIFIED", 0}, {"SPAN_KIND_INTERNAL", 1}, {"SPAN_KIND_SERVER", 2},
    {"SPAN_KIND_CLIENT", 3},      {"SPAN_KIND_PRODUCER", 4}, {"SPAN_KIND_CONSUMER", 5},
};
constexpr EnumName kStatusCodes[] = {
    {"STATUS_CODE_UNSET", 0}, {"STATUS_CODE_OK", 1}, {"STATUS_CODE_ERROR", 2}};
constexpr EnumName kTemporalities[] = {{"AGGREGATION_TEMPORALITY_UNSPECIFIED", 0},
                                       {"AGGREGATION_TEMPORALITY_DELTA", 1},
                                       {"AGGREGATION_TEMPORALITY_CUMULATIVE", 2}};

// SEVERITY_NUMBER_UNSPECIFIED = 0, TRACE = 1, TRACE2..4, DEBUG = 5, ... FATAL4 = 24.
bool SeverityFromName(std::string_view name, int32_t* out) {
  constexpr std::string_view kPrefix = "SEVERITY_NUMBER_";
  if (name.substr(0, kPrefix.size()) != kPrefix) return false;
  name.remove_prefix(kPrefix.size());
  if (name == "UNSPECIFIED") {
    *out = 0;
    return true;
  }
  static constexpr const char* kLevels[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
  for (int level = 0; level < 6; ++level) {
    std::string_view l = kLevels[level];
    if (name.substr(0, l.size()) != l) continue;
    std::string_view suffix = name.substr(l.size());
    int step = suffix.empty()                                                 ? 1
               : (suffix.size() == 1 && suffix[0] >= '2' && suffix[0] <= '4') ? suffix[0] - '0'
                                                                              : 0;
    if (step == 0) return false;
    *out = level * 4 + step;
    return true;
  }
  return false;
}

constexpr const char* kResourceItems[] = {"resourceSpans", "resourceMetrics", "resourceLogs"};
constexpr const char* kScopeItems[] = {"scopeSpans", "scopeMetrics", "scopeLogs"};
constexpr const char* kItems[] = {"spans", "metrics", "logRecords"};
constexpr std::string_view kResourceItemsKey[] = {"resourcespans", "resourcemetrics",
                                                  "resourcelogs"};
constexpr std::string_view kScopeItemsKey[] = {"scopespans", "scopemetrics", "scopelogs"};
constexpr std::string_view kItemsKey[] = {"spans", "metrics", "logrecords"};

class JsonDecoder {
 public:
  JsonDecoder(Signal signal, Batch* batch, DecodeOutcome* outcome)
      : signal_(signal), b_(*batch), outcome_(*outcome) {}

  Status Run(std::string_view body) {
    // A parser keeps its buffers for the next call; keep one per thread for ordinary bodies and
    // a throwaway one for very large bodies so that no thread holds on to their memory.
    constexpr size_t kReuseLimit = 4 << 20;
    thread_local simdjson::dom::parser reused;
    simdjson::dom::parser big;
    simdjson::dom::parser& parser = body.size() <= kReuseLimit ? reused : big;
    element root;
    if (auto err = parser.parse(body.data(), body.size()).get(root)) {
      return InvalidArgument(std::string("invalid JSON: ") + simdjson::error_message(err));
    }
    const internal::DecodeMark mark(b_, outcome_);
    if (DecodeRequest(root)) return Status::Ok();
    mark.Restore(&b_, &outcome_);  // a failed request adds nothing
    return InvalidArgument(std::move(error_));
  }

 private:
  // ---- errors ---------------------------------------------------------------------------------
  bool Fail(std::string_view leaf, std::string_view message) {
    error_ = path_.Render(leaf, message);
    return false;
  }
  void NoteInvalid(std::string_view leaf, const char* reason) {
    item_invalid_ = true;
    if (outcome_.error_message.empty()) outcome_.error_message = path_.Render(leaf, reason);
  }

  // ---- typed values -----------------------------------------------------------------------------
  bool Object(element v, std::string_view leaf, simdjson::dom::object* out) {
    if (v.get_object().get(*out) != simdjson::SUCCESS) return Fail(leaf, "expected an object");
    return true;
  }
  bool Array(element v, std::string_view leaf, simdjson::dom::array* out) {
    if (v.get_array().get(*out) != simdjson::SUCCESS) return Fail(leaf, "expected an array");
    return true;
  }
  // A string validated as UTF-8 (JSON escapes can spell lone surrogates), not yet copied.
  bool RawStr(element v, const char* name, std::string_view* out) {
    if (v.get_string().get(*out) != simdjson::SUCCESS) return Fail(name, "expected a string");
    if (!internal::ValidUtf8(*out)) return Fail(name, "invalid UTF-8");
    return true;
  }
  bool Str(element v, const char* name, std::string_view* out) {
    if (!RawStr(v, name, out)) return false;
    *out = b_.arena.Copy(*out);
    return true;
  }
  bool Bool(element v, const char* name, bool* out) {
    if (v.get_bool().get(*out) != simdjson::SUCCESS) return Fail(name, "expected true or false");
    return true;
  }
  // 64-bit integers: a JSON number or a decimal string (OTLP/JSON writes them as strings).
  bool U64(element v, const char* name, uint64_t* out) {
    switch (v.type()) {
      case element_type::UINT64:
        if (v.get_uint64().get(*out) == simdjson::SUCCESS) return true;
        break;
      case element_type::INT64: {
        int64_t i;
        if (v.get_int64().get(i) == simdjson::SUCCESS && i >= 0) {
          *out = static_cast<uint64_t>(i);
          return true;
        }
        break;
      }
      case element_type::DOUBLE: {
        double d;
        if (v.get_double().get(d) == simdjson::SUCCESS && d >= 0 && d < 0x1p64 &&
            d == std::floor(d)) {
          *out = static_cast<uint64_t>(d);
          return true;
        }
        break;
      }
      case element_type::STRING: {
        std::string_view s;
        if (v.get_string().get(s) != simdjson::SUCCESS) break;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
        if (!s.empty() && ec == std::errc() && end == s.data() + s.size()) return true;
        break;
      }
      default: break;
    }
    return Fail(name, "expected an unsigned 64-bit integer (decimal string or number)");
  }
  bool I64(element v, const char* name, int64_t* out) {
    switch (v.type()) {
      case element_type::INT64:
        if (v.get_int64().get(*out) == simdjson::SUCCESS) return true;
        break;
      case element_type::UINT64: break;  // above INT64_MAX
      case element_type::DOUBLE: {
        double d;
        if (v.get_double().get(d) == simdjson::SUCCESS && d >= -0x1p63 && d < 0x1p63 &&
            d == std::floor(d)) {
          *out = static_cast<int64_t>(d);
          return true;
        }
        break;
      }
      case element_type::STRING: {
        std::string_view s;
        if (v.get_string().get(s) != simdjson::SUCCESS) break;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
        if (!s.empty() && ec == std::errc() && end == s.data() + s.size()) return true;
        break;
      }
      default: break;
    }
    return Fail(name, "expected a signed 64-bit integer (decimal string or number)");
  }
  bool U32(element v, const char* name, uint32_t* out) {
    int64_t i;
    element_type type = v.type();
    bool numeric =
        type == element_type::STRING || type == element_type::INT64 || type == element_type::DOUBLE;
    if (numeric && I64(v, name, &i) && i >= 0 && i <= std::numeric_limits<uint32_t>::max()) {
      *out = static_cast<uint32_t>(i);
      return true;
    }
    return Fail(name, "expected an unsigned 32-bit integer");
  }
  bool I32(element v, const char* name, int32_t* out) {
    int64_t i;
    element_type type = v.type();
    bool numeric =
        type == element_type::STRING || type == element_type::INT64 || type == element_type::DOUBLE;
    if (numeric && I64(v, name, &i) && i >= std::numeric_limits<int32_t>::min() &&
        i <= std::numeric_limits<int32_t>::max()) {
      *out = static_cast<int32_t>(i);
      return true;
    }
    return Fail(name, "expected a signed 32-bit integer");
  }
  // Enums are integers in OTLP/JSON; protobuf's JSON names are accepted too.
  template <size_t N>
  bool Enum(element v, const char* name, const EnumName (&names)[N], int32_t* out) {
    std::string_view s;
    if (v.get_string().get(s) == simdjson::SUCCESS) {
      for (const EnumName& e : names) {
        if (s == e.name) {
          *out = e.value;
          return true;
        }
      }
      int32_t i;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
      if (!s.empty() && ec == std::errc() && end == s.data() + s.size()) {
        *out = i;
        return true;
      }
      return Fail(name, "expected an enum number");
    }
    return I32(v, name, out);
  }
  bool Severity(element v, int32_t* out) {
    std::string_view s;
    if (v.get_string().get(s) == simdjson::SUCCESS && SeverityFromName(s, out)) return true;
    return I32(v, "severityNumber", out);
  }
  bool Double(element v, const char* name, double* out) {
    switch (v.type()) {
      case element_type::DOUBLE:
      case element_type::INT64:
      case element_type::UINT64:
        if (v.get_double().get(*out) == simdjson::SUCCESS) return true;
        break;
      case element_type::STRING: {
        std::string_view s;
        if (v.get_string().get(s) != simdjson::SUCCESS) break;
        if (s == "NaN") {
          *out = std::numeric_limits<double>::quiet_NaN();
          return true;
        }
        if (s == "Infinity") {
          *out = std::numeric_limits<double>::infinity();
          return true;
        }
        if (s == "-Infinity") {
          *out = -std::numeric_limits<double>::infinity();
          return true;
        }
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
        if (!s.empty() && ec == std::errc() && end == s.data() + s.size() && std::isfinite(*out)) {
          return true;
        }
        break;
      }
      default: break;
    }
    return Fail(name, "expected a number or \"NaN\", \"Infinity\", \"-Infinity\"");
  }
  // Hex ids; an empty string means absent (the id stays zero).
  template <size_t N>
  bool HexId(element v, const char* name, std::array<uint8_t, N>* out) {
    std::string_view s;
    if (v.get_string().get(s) != simdjson::SUCCESS) {
      return Fail(name, N == 16 ? "expected a string of 32 hex digits"
                                : "expected a string of 16 hex digits");
    }
    if (s.empty()) return true;
    if (!ParseHexId(s, out->data(), N)) {
      return Fail(name, N == 16 ? "expected 32 hex digits" : "expected 16 hex digits");
    }
    return true;
  }

  // ---- AnyValue and attributes, re-encoded in protobuf wire form -------------------------------
  bool EncodeKeyValue(element e, int depth, WireWriter& w) {
    simdjson::dom::object o;
    if (!Object(e, "", &o)) return false;
    std::string_view key;
    element value;
    bool has_value = false;
    for (simdjson::dom::key_value_pair field : o) {
      if (field.value.is_null()) continue;
      Key k(field.key);
      if (k == "key") {
        if (!RawStr(field.value, "key", &key)) return false;
      } else if (k == "value") {
        value = field.value;
        has_value = true;
      }
    }
    w.BytesField(1, key);  // always, as AttrWriter does, so encodings match byte for byte
    if (has_value) {
      PathScope scope(path_, "value");
      bool ok = true;
      w.Message(2, [&](WireWriter& vw) { ok = EncodeAnyValue(value, depth, vw); });
      if (!ok) return false;
    }
    return true;
  }

  bool EncodeAnyValue(element e, int depth, WireWriter& w) {
    simdjson::dom::object o;
    if (!Object(e, "", &o)) return false;
    for (simdjson::dom::key_value_pair field : o) {
      if (field.value.is_null()) continue;
      Key k(field.key);
      if (k == "stringvalue") {
        std::string_view s;
        if (!RawStr(field.value, "stringValue", &s)) return false;
        w.BytesField(1, s);
      } else if (k == "boolvalue") {
        bool b = false;
        if (!Bool(field.value, "boolValue", &b)) return false;
        w.VarintField(2, b ? 1 : 0);
      } else if (k == "intvalue") {
        int64_t i;
        if (!I64(field.value, "intValue", &i)) return false;
        w.VarintField(3, static_cast<uint64_t>(i));
      } else if (k == "doublevalue") {
        double d;
        if (!Double(field.value, "doubleValue", &d)) return false;
        w.DoubleField(4, d);
      } else if (k == "bytesvalue") {
        std::string_view s;
        if (field.value.get_string().get(s) != simdjson::SUCCESS) {
          return Fail("bytesValue", "expected a base64 string");
        }
        if (!internal::DecodeBase64(s, &bytes_scratch_)) {
          return Fail("bytesValue", "invalid base64");
        }
        w.BytesField(7, bytes_scratch_);
      } else if (k == "arrayvalue" || k == "kvlistvalue") {
        const bool array = k == "arrayvalue";
        const char* name = array ? "arrayValue" : "kvlistValue";
        PathScope scope(path_, name);
        if (depth >= internal::kMaxValueDepth) {
          return Fail("", "values nest deeper than 32 levels");
        }
        simdjson::dom::object list;
        if (!Object(field.value, "", &list)) return false;
        bool ok = true;
        w.Message(array ? 5 : 6, [&](WireWriter& lw) {
          for (simdjson::dom::key_value_pair lf : list) {
            if (!(Key(lf.key) == "values") || lf.value.is_null()) continue;
            simdjson::dom::array values;
            if (!(ok = Array(lf.value, "values", &values))) return;
            int64_t i = 0;
            for (element item : values) {
              PathScope item_scope(path_, "values", i++);
              lw.Message(1, [&](WireWriter& iw) {
                ok = array ? EncodeAnyValue(item, depth + 1, iw)
                           : EncodeKeyValue(item, depth + 1, iw);
              });
              if (!ok) return;
            }
          }
        });
        if (!ok) return false;
      }
    }
    return true;
  }

  bool Attributes(element v, const char* name, AttrList* out) {
    simdjson::dom::array arr;
    if (!Array(v, name, &arr)) return false;
    scratch_.clear();
    WireWriter w(&scratch_);
    uint32_t n = 0;
    for (element e : arr) {
      PathScope scope(path_, name, n);
      bool ok = true;
      w.Message(1, [&](WireWriter& kw) { ok = EncodeKeyValue(e, 1, kw); });
      if (!ok) return false;
      ++n;
    }
    *out = AttrList{b_.arena.Copy(scratch_), n};
    return true;
  }

  bool Body(element v, std::string_view* out) {
    PathScope scope(path_, "body");
    scratch_.clear();
    WireWriter w(&scratch_);
    if (!EncodeAnyValue(v, 1, w)) return false;
    *out = b_.arena.Copy(scratch_);
    return true;
  }

  // Calls fn(object) for each element of an array of messages, with the path pushed.
  template <typename Fn>
  bool ForEachObject(element v, const char* name, Fn&& fn) {
    simdjson::dom::array arr;
    if (!Array(v, name, &arr)) return false;
    int64_t i = 0;
    for (element e : arr) {
      PathScope scope(path_, name, i++);
      simdjson::dom::object o;
      if (!Object(e, "", &o)) return false;
      if (!fn(o)) return false;
    }
    return true;
  }

  // ---- request / resource / scope
  // ----------------------------------------------------------------
  size_t ItemCount() const {
    switch (signal_) {
      case Signal::kTraces: return b_.spans.size();
      case Signal::kMetrics: return b_.metrics.size();
      case Signal::kLogs: return b_.logs.size();
    }
    return 0;
  }

  bool DecodeRequest(element root) {
    simdjson::dom::object o;
    if (root.get_object().get(o) != simdjson::SUCCESS) {
      error_ = "expected a JSON object at the top level";
      return false;
    }
    const int s = static_cast<int>(signal_);
    for (simdjson::dom::key_value_pair field : o) {
      if (field.value.is_null() || !(Key(field.key) == kResourceItemsKey[s])) continue;
      if (!ForEachObject(field.value, kResourceItems[s],
                         [&](simdjson::dom::object ro) { return DecodeResourceItems(ro); })) {
        return false;
      }
    }
    return true;
  }

  bool DecodeResourceItems(simdjson::dom::object o) {
    const auto ri = static_cast<uint32_t>(b_.resources.size());
    b_.resources.emplace_back();
    const size_t items0 = ItemCount();
    const int s = static_cast<int>(signal_);
    for (simdjson::dom::key_value_pair field : o) {
      if (field.value.is_null()) continue;
      Key k(field.key);
      if (k == "resource") {
        PathScope scope(path_, "resource");
        simdjson::dom::object res;
        if (!Object(field.value, "", &res) || !DecodeResource(res, &b_.resources[ri])) {
          return false;
        }
      } else if (k == kScopeItemsKey[s]) {
        if (!ForEachObject(field.value, kScopeItems[s],
                           [&](simdjson::dom::object so) { return DecodeScopeItems(so, ri); })) {
          return false;
        }
      } else if (k == "schemaurl") {
        if (!Str(field.value, "schemaUrl", &b_.resources[ri].schema_url)) return false;
      }
    }
    if (ItemCount() == items0) b_.resources.pop_back();
    return true;
  }

  bool DecodeResource(simdjson::dom::object o, Resource* res) {
    for (simdjson::dom::key_value_pair field : o) {
      if (field.value.is_null()) continue;
      Key k(field.key);
      if (k == "attributes") {
        if (!Attributes(field.value, "attributes", &res->attributes)) return false;
      } else if (k == "droppedattributescount") {
        if (!U32(field.value, "droppedAttributesCount", &res->dropped_attributes_count)) {
          return false;
        }
      }
    }
    return true;
  }

  bool DecodeScopeItems(simdjson::dom::object o, uint32_t ri) {
    const auto si = static_cast<uint32_t>(b_.scopes.size());
    b_.scopes.emplace_back();
    const size_t items0 = ItemCount();
    const int s = static_cast<int>(signal_);
    for (simdjson::dom::key_value_pair field : o) {
      if (field.value.is_null()) continue;
      Key k(field.key);
      if (k == "scope") {
        PathScope scope(path_, "scope");
        simdjson::dom::object so;
        if (!Object(field.value, "", &so) || !DecodeScope(so, &b_.scopes[si])) return false;
      } else if (k == kItemsKey[s]) {
        bool ok = ForEachObject(field.value, kItems[s], [&](simdjson::dom::object io) {
          return signal_ == Signal::kTraces    ? DecodeSpan(io, ri, si)
                 : signal_ == Signal::kMetrics ? DecodeMetric(io, ri, si)
                                               : DecodeLog(io, ri, si);
        });
        if (!ok) return false;
      } else if (k == "schemaurl") {
        if (!Str(field.value, "schemaUrl", &b_.scopes[si].schema_url)) return false;
      }
    }
    if (ItemCount() == items0) b_.scopes.pop_back();
    return true;
  }

  bool DecodeScope(simdjson::dom::object o, Scope* scope) {
    for (simdjson::dom::key_value_pair field : o) {
      if (field.value.is_null()) continue;
      Key k(field.key);
      if (k == "name") {
        if (!Str(field.value, "name", &scope->name)) return false;
      } else if (k == "version") {
        if (!Str(field.value, "version", &scope->version)) return false;
      } else if (k == "attributes") {
        if (!Attributes(field.value, "attributes", &scope->attributes)) return false;
      } else if (k == "droppedattributescount") {
        if (!U32(field.value, "droppedAttributesCount", &scope->dropped_attributes_count)) {
          return false;
        }
      }
    }
    return true;
  }

  // ---- traces
  // -------------------------------------------------------------------------------------
  bool DecodeSpan(simdjson::dom::object o, uint32_t ri, uint32_t si) {
    Span& sp = b_.spans.emplace_back();
    sp.resource_index = ri;
    sp.scope_index = si;
    item_invalid_ = false;
    int32_t kind = 0, status_code = 0;
    for (simdjson::dom::key_value_pair field : o) {
      if (field.value.is_null()) continue;
      Key k(field.key);
      element v = field.value;
      bool ok = true;
      if (k == "traceid") {
        ok = HexId(v, "traceId", &sp.trace_id);
      } else if (k == "spanid") {
        ok = HexId(v, "spanId", &sp.span_id);
      } else if (k == "tracestate") {
        ok = Str(v, "traceState", &sp.trace_state);
      } else if (k == "parentspanid") {
        ok = HexId(v, "parentSpanId", &sp.parent_span_id);
      } else if (k == "flags") {
        ok = U32(v, "flags", &sp.flags);
      } else if (k == "name") {
        ok = Str(v, "name", &sp.name);
      } else if (k == "kind") {
        ok = Enum(v, "kind", kSpanKinds, &kind);
      } else if (k == "starttimeunixnano") {
        ok = U64(v, "startTimeUnixNano", &sp.start_time_unix_nano);
      } else if (k == "endtimeunixnano") {
        ok = U64(v, "endTimeUnixNano", &sp.end_time_unix_nano);
      } else if (k == "attributes") {
        ok = Attributes(v, "attributes", &sp.attributes);
      } else if (k == "droppedattributescount") {
        ok = U32(v, "droppedAttributesCount", &sp.dropped_attributes_count);
      } else if (k == "events") {
        sp.events.clear();
        ok = ForEachObject(v, "events", [&](simdjson::dom::object eo) {
          return DecodeEvent(eo, &sp.events.emplace_back());
        });
      } else if (k == "droppedeventscount") {
        ok = U32(v, "droppedEventsCount", &sp.dropped_events_count);
      } else if (k == "links") {
        sp.links.clear();
        ok = ForEachObject(v, "links", [&](simdjson::dom::object lo) {
          return DecodeLink(lo, &sp.links.emplace_back());
        });
      } else if (k == "droppedlinkscount") {
        ok = U32(v, "droppedLinksCount", &sp.dropped_links_count);
      } else if (k == "status") {
        PathScope scope(path_, "status");
        simdjson::dom::object so;
        ok = Object(v, "", &so) && DecodeStatus(so, &status_code, &sp.status_message);
      }
      if (!ok) return false;
    }
    if (kind < 0 || kind > internal::kMaxSpanKind) {
      NoteInvalid("kind", "unknown value (expected 0 to 5)");
    } else if (status_code < 0 || status_code > internal::kMaxStatusCode) {
      NoteInvalid("status.code", "unknown value (expected 0, 1 or 2)");
    } else {
      sp.kind = static_cast<SpanKind>(kind);
      sp.status_code = static_cast<SpanStatusCode>(status_code);
      const char* field = nullptr;
      if (const char* reason = internal::CheckSpanIds(sp, &field)) NoteInvalid(field, reason);
    }
    if (item_invalid_) {
      b_.spans.pop_back();
      ++outcome_.rejected;
    }
    return true;
  }

  bool DecodeEvent(simdjson::dom::object o, SpanEvent* ev) {
    for (simdjson::dom::key_value_pair field : o) {
      if (field.value.is_null()) continue;
      Key k(field.key);
      bool ok = true;
      if (k == "timeunixnano") {
        ok = U64(field.value, "timeUnixNano", &ev->time_unix_nano);
      } else if (k == "name") {
        ok = Str(field.value, "name", &ev->name);
      } else if (k == "attributes") {
        ok = Attributes(field.value, "attributes", &ev->attributes);
      } else if (k == "droppedattributescount") {
        ok = U32(field.value, "droppedAttributesCount", &ev->dropped_attributes_count);
      }
      if (!ok) return false;
    }
    return true;
  }

  bool DecodeLink(simdjson::dom::object o, SpanLink* link) {
    for (simdjson::dom::key_value_pair field : o) {
      if (field.value.is_null()) continue;
      Key k(field.key);
      bool ok = true;
      if (k == "traceid") {
        ok = HexId(field.value, "traceId", &link->trace_id);
      } else if (k == "spanid") {
        ok = HexId(field.value, "spanId", &link->span_id);
      } else if (k == "tracestate") {
        ok = Str(field.value, "traceState", &link->trace_state);
      } else if (k == "attributes") {
        ok = Attributes(field.value, "attributes", &link->attributes);
      } else if (k == "droppedattributescount") {
        ok = U32(field.value, "droppedAttributesCount", &link->dropped_attributes_count);
      } else if (k == "flags") {
        ok = U32(field.value, "flags", &link->flags);
      }
      if (!ok) return false;
    }
    return true;
  }

  bool DecodeStatus(simdjson::dom::object o, int32_t* code, std::string_view* message) {
    for (simdjson::dom::key_value_pair field : o) {
      if (field.value.is_null()) continue;
      Key k(field.key);
      if (k == "message") {
        if (!Str(field.value, "message", message)) return false;
      } else if (k == "code") {
        if (!Enum(field.value, "code", kStatusCodes, code)) return false;
      }
    }
    return true;
  }

  // ---- metrics
  // ------------------------------------------------------------------------------------
  bool DecodeMetric(simdjson::dom::object o, uint32_t ri, uint32_t si) {
    const auto mi = static_cast<uint32_t>(b_.metrics.size());
    Metric& m = b_.metrics.emplace_back();
    m.resource_index = ri;
    m.scope_index = si;
    const size_t p0 = b_.points.size();
    int32_t temporality = 0;
    bool has_data = false;
    for (simdjson::dom::key_value_pair field : o) {
      if (field.value.is_null()) continue;
      Key k(field.key);
      bool ok = true;
      MetricType type{};
      const char* data_name = nullptr;
      if (k == "name") {
        ok = Str(field.value, "name", &m.name);
      } else if (k == "description") {
        ok = Str(field.value, "description", &m.description);
      } else if (k == "unit") {
        ok = Str(field.value, "unit", &m.unit);
      } else if (k == "metadata") {
        ok = Attributes(field.value, "metadata", &m.metadata);
      } else if (k == "gauge") {
        type = MetricType::kGauge;
        data_name = "gauge";
      } else if (k == "sum") {
        type = MetricType::kSum;
        data_name = "sum";
      } else if (k == "histogram") {
        type = MetricType::kHistogram;
        data_name = "histogram";
      } else if (k == "exponentialhistogram") {
        type = MetricType::kExponentialHistogram;
        data_name = "exponentialHistogram";
      } else if (k == "summary") {
        type = MetricType::kSummary;
        data_name = "summary";
      }
      if (!ok) return false;
      if (data_name) {
        if (has_data) b_.points.resize(p0);  // a oneof: the last one wins
        has_data = true;
        m.type = type;
        m.is_monotonic = false;
        temporality = 0;
        PathScope scope(path_, data_name);
        simdjson::dom::object d;
        if (!Object(field.value, "", &d)) return false;
        if (!DecodeMetricData(d, mi, type, &temporality, &m.is_monotonic)) return false;
      }
    }
    const char* field = nullptr;
    if (const char* reason = internal::CheckMetric(m, temporality, &field)) {
      if (b_.points.size() > p0) {
        if (outcome_.error_message.empty()) outcome_.error_message = path_.Render(field, reason);
        outcome_.rejected += static_cast<int64_t>(b_.points.size() - p0);
        b_.points.resize(p0);
      }
    } else {
      m.temporality = static_cast<Temporality>(temporality);
    }
    if (b_.points.size() == p0) b_.metrics.pop_back();
    return true;
  }

  bool DecodeMetricData(simdjson::dom::object o, uint32_t mi, MetricType type, int32_t* temporality,
                        bool* is_monotonic) {
    const bool has_temporality = type != MetricType::kGauge && type != MetricType::kSummary;
    for (simdjson::dom::key_value_pair field : o) {
      if (field.value.is_null()) continue;
      Key k(field.key);
      bool ok = true;
      if (k == "datapoints") {
        ok = ForEachObject(field.value, "dataPoints",
                           [&](simdjson::dom::object po) { return DecodePoint(po, mi, type); });
      } else if (k == "aggregationtemporality" && has_temporality) {
        ok = Enum(field.value, "aggregationTemporality", kTemporalities, temporality);
      } else if (k == "ismonotonic" && type == MetricType::kSum) {
        ok = Bool(field.value, "isMonotonic", is_monotonic);
      }
      if (!ok) return false;
    }
    return true;
  }

  bool DecodePoint(simdjson::dom::object o, uint32_t mi, MetricType type) {
    MetricPoint& p = b_.points.emplace_back();
    p.metric_index = mi;
    item_invalid_ = false;
    const bool number = type == MetricType::kGauge || type == MetricType::kSum;
    for (simdjson::dom::key_value_pair field : o) {
      if (field.value.is_null()) continue;
      Key k(field.key);
      element v = field.value;
      bool ok = true;
      // Fields common to all point types.
      if (k == "attributes") {
        ok = Attributes(v, "attributes", &p.attributes);
      } else if (k == "starttimeunixnano") {
        ok = U64(v, "startTimeUnixNano", &p.start_time_unix_nano);
      } else if (k == "timeunixnano") {
        ok = U64(v, "timeUnixNano", &p.time_unix_nano);
      } else if (k == "flags") {
        ok = U32(v, "flags", &p.flags);
      } else if (k == "exemplars" && type != MetricType::kSummary) {
        p.exemplars.clear();
        ok = ForEachObject(v, "exemplars", [&](simdjson::dom::object eo) {
          return DecodeExemplar(eo, &p.exemplars.emplace_back());
        });
      } else if (number) {
        if (k == "asdouble") {
          ok = Double(v, "asDouble", &p.as_double);
          p.value_kind = NumberKind::kDouble;
          p.as_int = 0;
        } else if (k == "asint") {
          ok = I64(v, "asInt", &p.as_int);
          p.value_kind = NumberKind::kInt;
          p.as_double = 0;
        }
      } else if (k == "count") {
        ok = U64(v, "count", &p.count);
      } else if (k == "sum") {
        ok = Double(v, "sum", &p.sum);
        p.has_sum = true;
      } else if (type == MetricType::kSummary) {
        if (k == "quantilevalues") {
          p.quantile_values.clear();
          ok = ForEachObject(v, "quantileValues", [&](simdjson::dom::object qo) {
            return DecodeQuantile(qo, &p.quantile_values.emplace_back());
          });
        }
      } else if (k == "min") {
        ok = Double(v, "min", &p.min);
        p.has_min = true;
      } else if (k == "max") {
        ok = Double(v, "max", &p.max);
        p.has_max = true;
      } else if (type == MetricType::kHistogram) {
        if (k == "bucketcounts") {
          ok = U64Array(v, "bucketCounts", &p.bucket_counts);
        } else if (k == "explicitbounds") {
          ok = DoubleArray(v, "explicitBounds", &p.explicit_bounds);
        }
      } else if (k == "scale") {
        ok = I32(v, "scale", &p.scale);
      } else if (k == "zerocount") {
        ok = U64(v, "zeroCount", &p.zero_count);
      } else if (k == "zerothreshold") {
        ok = Double(v, "zeroThreshold", &p.zero_threshold);
      } else if (k == "positive" || k == "negative") {
        const bool positive = k == "positive";
        PathScope scope(path_, positive ? "positive" : "negative");
        simdjson::dom::object bo;
        ok = Object(v, "", &bo) && DecodeBuckets(bo, positive ? &p.positive : &p.negative);
      }
      if (!ok) return false;
    }
    if (!item_invalid_) {
      const char* field = nullptr;
      if (const char* reason = internal::CheckPoint(b_.metrics[mi], p, &field)) {
        NoteInvalid(field, reason);
      }
    }
    if (item_invalid_) {
      b_.points.pop_back();
      ++outcome_.rejected;
    }
    return true;
  }

  bool U64Array(element v, const char* name, std::vector<uint64_t>* out) {
    simdjson::dom::array arr;
    if (!Array(v, name, &arr)) return false;
    out->clear();
    out->reserve(arr.size());
    int64_t i = 0;
    for (element e : arr) {
      PathScope scope(path_, name, i++);
      uint64_t u;
      if (!U64(e, "", &u)) return false;
      out->push_back(u);
    }
    return true;
  }
  bool DoubleArray(element v, const char* name, std::vector<double>* out) {
    simdjson::dom::array arr;
    if (!Array(v, name, &arr)) return false;
    out->clear();
    out->reserve(arr.size());
    int64_t i = 0;
    for (element e : arr) {
      PathScope scope(path_, name, i++);
      double d;
      if (!Double(e, "", &d)) return false;
      out->push_back(d);
    }
    return true;
  }

  bool DecodeBuckets(simdjson::dom::object o, Buckets* buckets) {
    for (simdjson::dom::key_value_pair field : o) {
      if (field.value.is_null()) continue;
      Key k(field.key);
      if (k == "offset") {
        if (!I32(field.value, "offset", &buckets->offset)) return false;
      } else if (k == "bucketcounts") {
        if (!U64Array(field.value, "bucketCounts", &buckets->bucket_counts)) return false;
      }
    }
    return true;
  }

  bool DecodeQuantile(simdjson::dom::object o, std::pair<double, double>* q) {
    for (simdjson::dom::key_value_pair field : o) {
      if (field.value.is_null()) continue;
      Key k(field.key);
      if (k == "quantile") {
        if (!Double(field.value, "quantile", &q->first)) return false;
      } else if (k == "value") {
        if (!Double(field.value, "value", &q->second)) return false;
      }
    }
    return true;
  }

  bool DecodeExemplar(simdjson::dom::object o, Exemplar* ex) {
    for (simdjson::dom::key_value_pair field : o) {
      if (field.value.is_null()) continue;
      Key k(field.key);
      bool ok = true;
      if (k == "filteredattributes") {
        ok = Attributes(field.value, "filteredAttributes", &ex->filtered_attributes);
      } else if (k == "timeunixnano") {
        ok = U64(field.value, "timeUnixNano", &ex->time_unix_nano);
      } else if (k == "asdouble") {
        ok = Double(field.value, "asDouble", &ex->as_double);
        ex->value_kind = NumberKind::kDouble;
        ex->as_int = 0;
      } else if (k == "asint") {
        ok = I64(field.value, "asInt", &ex->as_int);
        ex->value_kind = NumberKind::kInt;
        ex->as_double = 0;
      } else if (k == "spanid") {
        ok = HexId(field.value, "spanId", &ex->span_id);
      } else if (k == "traceid") {
        ok = HexId(field.value, "traceId", &ex->trace_id);
      }
      if (!ok) return false;
    }
    return true;
  }

  // ---- logs
  // -----------------------------------------------------------------------------------------
  bool DecodeLog(simdjson::dom::object o, uint32_t ri, uint32_t si) {
    LogRecord& lr = b_.logs.emplace_back();
    lr.resource_index = ri;
    lr.scope_index = si;
    for (simdjson::dom::key_value_pair field : o) {
      if (field.value.is_null()) continue;
      Key k(field.key);
      element v = field.value;
      bool ok = true;
      if (k == "timeunixnano") {
        ok = U64(v, "timeUnixNano", &lr.time_unix_nano);
      } else if (k == "observedtimeunixnano") {
        ok = U64(v, "observedTimeUnixNano", &lr.observed_time_unix_nano);
      } else if (k == "severitynumber") {
        ok = Severity(v, &lr.severity_number);
      } else if (k == "severitytext") {
        ok = Str(v, "severityText", &lr.severity_text);
      } else if (k == "body") {
        ok = Body(v, &lr.body);
      } else if (k == "attributes") {
        ok = Attributes(v, "attributes", &lr.attributes);
      } else if (k == "droppedattributescount") {
        ok = U32(v, "droppedAttributesCount", &lr.dropped_attributes_count);
      } else if (k == "flags") {
        ok = U32(v, "flags", &lr.flags);
      } else if (k == "traceid") {
        ok = HexId(v, "traceId", &lr.trace_id);
      } else if (k == "spanid") {
        ok = HexId(v, "spanId", &lr.span_id);
      } else if (k == "eventname") {
        ok = Str(v, "eventName", &lr.event_name);
      }
      if (!ok) return false;
    }
    return true;
  }

  Signal signal_;
  Batch& b_;
  DecodeOutcome& outcome_;
  FieldPath path_;
  std::string error_;
  std::string scratch_;
  std::string bytes_scratch_;
  bool item_invalid_ = false;
};

}  // namespace

Status DecodeJson(Signal signal, std::string_view body, Batch* batch, DecodeOutcome* outcome) {
  JsonDecoder decoder(signal, batch, outcome);
  return decoder.Run(body);
}

}  // namespace avtrace::otlp
