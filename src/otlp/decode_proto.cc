// The zero-copy OTLP protobuf decoder (see decode.h).
//
// One pass over the body with WireReader. Strings, ids, log bodies and attribute lists stay views
// into the body; attribute lists are validated entry by entry and kept as the contiguous run of
// their repeated field (copied into the arena only when other fields interleave with the run).
// The path of the field being decoded is a stack of static names (internal::FieldPath), rendered
// only for an error or for the first partial-success reason.

#include <algorithm>
#include <string>

#include "otlp/decode.h"
#include "otlp/internal.h"
#include "otlp/wire.h"

namespace avtrace::otlp {
namespace {

using internal::FieldPath;
using internal::PathScope;
using internal::ValidUtf8;

// Where a bad attribute value sits below the attribute, built inside-out while unwinding, e.g.
// ".value.kvlistValue.values[2].key". Only touched on failure.
struct ValueError {
  const char* message = nullptr;
  std::string trail;
  bool Fail(const char* msg, std::string_view segment) {
    message = msg;
    trail.insert(0, segment);
    return false;
  }
  bool Wrap(std::string_view segment) {
    trail.insert(0, segment);
    return false;
  }
};

constexpr const char* kNestingTooDeep = "values nest deeper than 32 levels";

bool ValidateKeyValue(std::string_view bytes, int depth, ValueError* err);

bool ValidateAnyValue(std::string_view bytes, int depth, ValueError* err);

bool ValidateArrayValue(std::string_view bytes, int depth, ValueError* err) {
  WireReader r(bytes);
  uint32_t f;
  WireType t;
  int64_t i = 0;
  while (r.NextTag(&f, &t)) {
    if (f != 1) {
      if (!r.Skip(t)) break;
      continue;
    }
    std::string segment = ".values[" + std::to_string(i) + "]";
    if (t != WireType::kLen) {
      err->Fail("wrong wire type for field 1 (expected length-delimited)", segment);
      return false;
    }
    std::string_view v;
    if (!r.ReadLen(&v)) return err->Fail(r.error(), segment);
    if (!ValidateAnyValue(v, depth, err)) return err->Wrap(segment);
    ++i;
  }
  if (r.error()) return err->Fail(r.error(), "");
  return true;
}

// A KeyValueList is stored as an AttrList, which readers walk as a run of KeyValue entries, so
// it may hold only field 1 (values).
bool ValidateKeyValueList(std::string_view bytes, int depth, ValueError* err) {
  WireReader r(bytes);
  uint32_t f;
  WireType t;
  int64_t i = 0;
  while (r.NextTag(&f, &t)) {
    std::string_view kv;
    if (f != 1) return err->Fail("unexpected field in KeyValueList (only values = 1)", "");
    if (t != WireType::kLen) {
      return err->Fail("wrong wire type for field 1 (expected length-delimited)",
                       ".values[" + std::to_string(i) + "]");
    }
    if (!r.ReadLen(&kv)) return err->Fail(r.error(), ".values[" + std::to_string(i) + "]");
    if (!ValidateKeyValue(kv, depth, err)) return err->Wrap(".values[" + std::to_string(i) + "]");
    ++i;
  }
  if (r.error()) return err->Fail(r.error(), "");
  return true;
}

bool ValidateAnyValue(std::string_view bytes, int depth, ValueError* err) {
  WireReader r(bytes);
  uint32_t f;
  WireType t;
  uint64_t u = 0;
  std::string_view v;
  while (r.NextTag(&f, &t)) {
    switch (f) {
      case 1:
        if (t != WireType::kLen) {
          return err->Fail("wrong wire type for field 1 (expected length-delimited)",
                           ".stringValue");
        }
        if (!r.ReadLen(&v)) return err->Fail(r.error(), ".stringValue");
        if (!ValidUtf8(v)) return err->Fail("invalid UTF-8", ".stringValue");
        break;
      case 2:
      case 3:
        if (t != WireType::kVarint) {
          return err->Fail(f == 2 ? "wrong wire type for field 2 (expected varint)"
                                  : "wrong wire type for field 3 (expected varint)",
                           f == 2 ? ".boolValue" : ".intValue");
        }
        if (!r.ReadVarint(&u)) return err->Fail(r.error(), f == 2 ? ".boolValue" : ".intValue");
        break;
      case 4:
        if (t != WireType::kFixed64) {
          return err->Fail("wrong wire type for field 4 (expected double)", ".doubleValue");
        }
        if (!r.ReadFixed64(&u)) return err->Fail(r.error(), ".doubleValue");
        break;
      case 5:
        if (t != WireType::kLen) {
          return err->Fail("wrong wire type for field 5 (expected length-delimited)",
                           ".arrayValue");
        }
        if (!r.ReadLen(&v)) return err->Fail(r.error(), ".arrayValue");
        if (depth >= internal::kMaxValueDepth) return err->Fail(kNestingTooDeep, ".arrayValue");
        if (!ValidateArrayValue(v, depth + 1, err)) return err->Wrap(".arrayValue");
        break;
      case 6:
        if (t != WireType::kLen) {
          return err->Fail("wrong wire type for field 6 (expected length-delimited)",
                           ".kvlistValue");
        }
        if (!r.ReadLen(&v)) return err->Fail(r.error(), ".kvlistValue");
        if (depth >= internal::kMaxValueDepth) return err->Fail(kNestingTooDeep, ".kvlistValue");
        if (!ValidateKeyValueList(v, depth + 1, err)) return err->Wrap(".kvlistValue");
        break;
      case 7:
        if (t != WireType::kLen) {
          return err->Fail("wrong wire type for field 7 (expected length-delimited)",
                           ".bytesValue");
        }
        if (!r.ReadLen(&v)) return err->Fail(r.error(), ".bytesValue");
        break;
      default:
        if (!r.Skip(t)) return err->Fail(r.error(), "");
    }
  }
  if (r.error()) return err->Fail(r.error(), "");
  return true;
}

bool ValidateKeyValue(std::string_view bytes, int depth, ValueError* err) {
  WireReader r(bytes);
  uint32_t f;
  WireType t;
  std::string_view v;
  while (r.NextTag(&f, &t)) {
    if (f == 1) {
      if (t != WireType::kLen) {
        return err->Fail("wrong wire type for field 1 (expected length-delimited)", ".key");
      }
      if (!r.ReadLen(&v)) return err->Fail(r.error(), ".key");
      if (!ValidUtf8(v)) return err->Fail("invalid UTF-8", ".key");
    } else if (f == 2) {
      if (t != WireType::kLen) {
        return err->Fail("wrong wire type for field 2 (expected length-delimited)", ".value");
      }
      if (!r.ReadLen(&v)) return err->Fail(r.error(), ".value");
      if (!ValidateAnyValue(v, depth, err)) return err->Wrap(".value");
    } else if (!r.Skip(t)) {
      return err->Fail(r.error(), "");
    }
  }
  if (r.error()) return err->Fail(r.error(), "");
  return true;
}

// Collects the entries of one repeated KeyValue field into an AttrList: a view of their
// contiguous run in the body, or a copy when other fields interleave (rare; protobuf encoders
// write repeated fields together).
class AttrRun {
 public:
  void Add(const char* begin, const char* end) {
    if (count_ == 0) {
      begin_ = begin;
      end_ = end;
    } else if (!spilled_ && begin == end_) {
      end_ = end;
    } else {
      if (!spilled_) {
        spill_.assign(begin_, end_);
        spilled_ = true;
      }
      spill_.append(begin, end);
    }
    ++count_;
  }
  AttrList Finish(Arena& arena) const {
    if (count_ == 0) return {};
    if (spilled_) return AttrList{arena.Copy(spill_), count_};
    return AttrList{std::string_view(begin_, static_cast<size_t>(end_ - begin_)), count_};
  }

 private:
  const char* begin_ = nullptr;
  const char* end_ = nullptr;
  uint32_t count_ = 0;
  bool spilled_ = false;
  std::string spill_;
};

struct SignalNames {
  const char* resource_items;  // resourceSpans
  const char* scope_items;     // scopeSpans
  const char* items;           // spans
};
constexpr SignalNames kNames[] = {
    {"resourceSpans", "scopeSpans", "spans"},
    {"resourceMetrics", "scopeMetrics", "metrics"},
    {"resourceLogs", "scopeLogs", "logRecords"},
};

class ProtoDecoder {
 public:
  ProtoDecoder(Signal signal, Batch* batch, DecodeOutcome* outcome)
      : signal_(signal), b_(*batch), outcome_(*outcome) {}

  Status Run(std::string_view body) {
    const internal::DecodeMark mark(b_, outcome_);
    Reserve(body);
    if (DecodeRequest(body)) return Status::Ok();
    mark.Restore(&b_, &outcome_);  // a failed request adds nothing
    return InvalidArgument(std::move(error_));
  }

 private:
  // ---- errors ---------------------------------------------------------------------------------
  bool Fail(std::string_view leaf, std::string_view message) {
    error_ = path_.Render(leaf, message);
    return false;
  }
  bool ReaderFail(const WireReader& r, std::string_view leaf) {
    return Fail(leaf, r.error() ? r.error() : "malformed field");
  }
  bool WrongType(uint32_t field, const char* leaf, const char* expected) {
    return Fail(leaf, "wrong wire type for field " + std::to_string(field) + " (expected " +
                          expected + ")");
  }
  bool SkipUnknown(WireReader& r, uint32_t field, WireType type) {
    if (r.Skip(type)) return true;
    return Fail("field " + std::to_string(field), r.error());
  }
  // Marks the item being decoded as invalid (it will be dropped and counted).
  void NoteInvalid(std::string_view leaf, const char* reason) {
    item_invalid_ = true;
    if (outcome_.error_message.empty()) outcome_.error_message = path_.Render(leaf, reason);
  }
  void CountRejected(int64_t n) { outcome_.rejected += n; }

  // ---- typed field readers: check the wire type, read, report with the field's name
  // --------------
  bool Len(WireReader& r, WireType t, uint32_t f, const char* name, std::string_view* out) {
    if (t != WireType::kLen) return WrongType(f, name, "length-delimited");
    if (!r.ReadLen(out)) return ReaderFail(r, name);
    return true;
  }
  bool Str(WireReader& r, WireType t, uint32_t f, const char* name, std::string_view* out) {
    if (!Len(r, t, f, name, out)) return false;
    if (!ValidUtf8(*out)) return Fail(name, "invalid UTF-8");
    return true;
  }
  bool Fixed64(WireReader& r, WireType t, uint32_t f, const char* name, uint64_t* out) {
    if (t != WireType::kFixed64) return WrongType(f, name, "fixed64");
    if (!r.ReadFixed64(out)) return ReaderFail(r, name);
    return true;
  }
  bool SFixed64(WireReader& r, WireType t, uint32_t f, const char* name, int64_t* out) {
    uint64_t u = 0;
    if (t != WireType::kFixed64) return WrongType(f, name, "sfixed64");
    if (!r.ReadFixed64(&u)) return ReaderFail(r, name);
    *out = static_cast<int64_t>(u);
    return true;
  }
  bool Double(WireReader& r, WireType t, uint32_t f, const char* name, double* out) {
    if (t != WireType::kFixed64) return WrongType(f, name, "double");
    if (!r.ReadDouble(out)) return ReaderFail(r, name);
    return true;
  }
  bool Fixed32(WireReader& r, WireType t, uint32_t f, const char* name, uint32_t* out) {
    if (t != WireType::kFixed32) return WrongType(f, name, "fixed32");
    if (!r.ReadFixed32(out)) return ReaderFail(r, name);
    return true;
  }
  bool Varint(WireReader& r, WireType t, uint32_t f, const char* name, uint64_t* out) {
    if (t != WireType::kVarint) return WrongType(f, name, "varint");
    if (!r.ReadVarint(out)) return ReaderFail(r, name);
    return true;
  }
  // uint32 fields keep the low 32 bits, as protobuf does.
  bool U32(WireReader& r, WireType t, uint32_t f, const char* name, uint32_t* out) {
    uint64_t u = 0;
    if (!Varint(r, t, f, name, &u)) return false;
    *out = static_cast<uint32_t>(u);
    return true;
  }
  // One entry of a repeated KeyValue field; `at` is where its tag starts.
  bool Attribute(WireReader& r, WireType t, uint32_t f, const char* name, const char* at,
                 AttrRun* run, int64_t index) {
    std::string_view kv;
    if (t != WireType::kLen) {
      return WrongType(f, name, "length-delimited");
    }
    if (!r.ReadLen(&kv)) return ReaderFail(r, name);
    ValueError err;
    if (!ValidateKeyValue(kv, 1, &err)) {
      return Fail(std::string(name) + "[" + std::to_string(index) + "]" + err.trail, err.message);
    }
    run->Add(at, r.pos());
    return true;
  }
  bool AnyValue(WireReader& r, WireType t, uint32_t f, const char* name, std::string_view* out) {
    if (!Len(r, t, f, name, out)) return false;
    ValueError err;
    if (!ValidateAnyValue(*out, 1, &err)) return Fail(name + err.trail, err.message);
    return true;
  }
  template <typename Vec>
  bool PackedFixed64(WireReader& r, WireType t, uint32_t f, const char* name, Vec* out) {
    using T = typename Vec::value_type;
    static_assert(sizeof(T) == 8);
    if (t == WireType::kFixed64) {
      uint64_t bits;
      if (!r.ReadFixed64(&bits)) return ReaderFail(r, name);
      T v;
      std::memcpy(&v, &bits, 8);
      out->push_back(v);
      return true;
    }
    if (t != WireType::kLen) return WrongType(f, name, "packed fixed64 or fixed64");
    std::string_view packed;
    if (!r.ReadLen(&packed)) return ReaderFail(r, name);
    if (packed.size() % 8 != 0) return Fail(name, "packed length is not a multiple of 8");
    if (packed.empty()) return true;
    size_t n = packed.size() / 8, at = out->size();
    out->resize(at + n);
    std::memcpy(out->data() + at, packed.data(), packed.size());
    return true;
  }
  bool PackedVarint(WireReader& r, WireType t, uint32_t f, const char* name,
                    std::vector<uint64_t>* out) {
    uint64_t v;
    if (t == WireType::kVarint) {
      if (!r.ReadVarint(&v)) return ReaderFail(r, name);
      out->push_back(v);
      return true;
    }
    if (t != WireType::kLen) return WrongType(f, name, "packed varint or varint");
    std::string_view packed;
    if (!r.ReadLen(&packed)) return ReaderFail(r, name);
    size_t ends = 0;
    for (char c : packed) ends += (static_cast<unsigned char>(c) & 0x80) == 0;
    out->reserve(out->size() + ends);
    WireReader p(packed);
    while (!p.done()) {
      if (!p.ReadVarint(&v)) return ReaderFail(p, name);
      out->push_back(v);
    }
    return true;
  }

  // ---- capacity ---------------------------------------------------------------------------------
  // Counts items with a shallow walk (lengths only) so the item vectors are allocated once.
  // Malformed input just stops the count; the real pass reports it.
  void Reserve(std::string_view body) {
    size_t resources = 0, scopes = 0, items = 0, points = 0;
    uint32_t f;
    WireType t;
    std::string_view v;
    WireReader req(body);
    while (req.NextTag(&f, &t)) {
      if (f != 1 || t != WireType::kLen) {
        if (!req.Skip(t)) break;
        continue;
      }
      if (!req.ReadLen(&v)) break;
      ++resources;
      WireReader rs(v);
      while (rs.NextTag(&f, &t)) {
        if (f != 2 || t != WireType::kLen) {
          if (!rs.Skip(t)) break;
          continue;
        }
        if (!rs.ReadLen(&v)) break;
        ++scopes;
        WireReader ss(v);
        while (ss.NextTag(&f, &t)) {
          if (f != 2 || t != WireType::kLen) {
            if (!ss.Skip(t)) break;
            continue;
          }
          if (!ss.ReadLen(&v)) break;
          ++items;
          if (signal_ == Signal::kMetrics) points += CountPoints(v);
        }
      }
    }
    b_.resources.reserve(b_.resources.size() + resources);
    b_.scopes.reserve(b_.scopes.size() + scopes);
    switch (signal_) {
      case Signal::kTraces: b_.spans.reserve(b_.spans.size() + items); break;
      case Signal::kMetrics:
        b_.metrics.reserve(b_.metrics.size() + items);
        b_.points.reserve(b_.points.size() + points);
        break;
      case Signal::kLogs: b_.logs.reserve(b_.logs.size() + items); break;
    }
  }
  static size_t CountPoints(std::string_view metric) {
    size_t n = 0;
    uint32_t f;
    WireType t;
    std::string_view v;
    WireReader m(metric);
    while (m.NextTag(&f, &t)) {
      bool data = f == 5 || f == 7 || f == 9 || f == 10 || f == 11;
      if (!data || t != WireType::kLen) {
        if (!m.Skip(t)) break;
        continue;
      }
      if (!m.ReadLen(&v)) break;
      WireReader d(v);
      while (d.NextTag(&f, &t)) {
        if (!d.Skip(t)) break;
        n += f == 1;
      }
    }
    return n;
  }

  // ---- request / resource / scope
  // ----------------------------------------------------------------
  bool DecodeRequest(std::string_view body) {
    WireReader r(body);
    uint32_t f;
    WireType t;
    int64_t index = 0;
    const char* name = kNames[static_cast<int>(signal_)].resource_items;
    while (r.NextTag(&f, &t)) {
      if (f != 1) {
        if (!SkipUnknown(r, f, t)) return false;
        continue;
      }
      std::string_view v;
      if (!Len(r, t, f, name, &v)) return false;
      PathScope scope(path_, name, index++);
      if (!DecodeResourceItems(v)) return false;
    }
    if (r.error()) return ReaderFail(r, "");
    return true;
  }

  size_t ItemCount() const {
    switch (signal_) {
      case Signal::kTraces: return b_.spans.size();
      case Signal::kMetrics: return b_.metrics.size();
      case Signal::kLogs: return b_.logs.size();
    }
    return 0;
  }

  // ResourceSpans / ResourceMetrics / ResourceLogs: resource=1, scope_*=2, schema_url=3.
  bool DecodeResourceItems(std::string_view bytes) {
    const auto ri = static_cast<uint32_t>(b_.resources.size());
    b_.resources.emplace_back();
    const size_t items0 = ItemCount();
    const char* scope_name = kNames[static_cast<int>(signal_)].scope_items;
    WireReader r(bytes);
    uint32_t f;
    WireType t;
    std::string_view v;
    int64_t index = 0;
    while (r.NextTag(&f, &t)) {
      switch (f) {
        case 1: {
          if (!Len(r, t, f, "resource", &v)) return false;
          PathScope scope(path_, "resource");
          if (!DecodeResource(v, &b_.resources[ri])) return false;
          break;
        }
        case 2: {
          if (!Len(r, t, f, scope_name, &v)) return false;
          PathScope scope(path_, scope_name, index++);
          if (!DecodeScopeItems(v, ri)) return false;
          break;
        }
        case 3:
          if (!Str(r, t, f, "schemaUrl", &v)) return false;
          b_.resources[ri].schema_url = v;
          break;
        default:
          if (!SkipUnknown(r, f, t)) return false;
      }
    }
    if (r.error()) return ReaderFail(r, "");
    // A resource without items carries nothing; keep the batch minimal.
    if (ItemCount() == items0) b_.resources.pop_back();
    return true;
  }

  bool DecodeResource(std::string_view bytes, Resource* res) {
    WireReader r(bytes);
    uint32_t f;
    WireType t;
    AttrRun attrs;
    int64_t n = 0;
    while (true) {
      const char* at = r.pos();
      if (!r.NextTag(&f, &t)) break;
      switch (f) {
        case 1:
          if (!Attribute(r, t, f, "attributes", at, &attrs, n++)) return false;
          break;
        case 2:
          if (!U32(r, t, f, "droppedAttributesCount", &res->dropped_attributes_count)) {
            return false;
          }
          break;
        default:
          if (!SkipUnknown(r, f, t)) return false;
      }
    }
    if (r.error()) return ReaderFail(r, "");
    res->attributes = attrs.Finish(b_.arena);
    return true;
  }

  // ScopeSpans / ScopeMetrics / ScopeLogs: scope=1, items=2, schema_url=3.
  bool DecodeScopeItems(std::string_view bytes, uint32_t ri) {
    const auto si = static_cast<uint32_t>(b_.scopes.size());
    b_.scopes.emplace_back();
    const size_t items0 = ItemCount();
    const char* item_name = kNames[static_cast<int>(signal_)].items;
    WireReader r(bytes);
    uint32_t f;
    WireType t;
    std::string_view v;
    int64_t index = 0;
    while (r.NextTag(&f, &t)) {
      switch (f) {
        case 1: {
          if (!Len(r, t, f, "scope", &v)) return false;
          PathScope scope(path_, "scope");
          if (!DecodeScope(v, &b_.scopes[si])) return false;
          break;
        }
        case 2: {
          if (!Len(r, t, f, item_name, &v)) return false;
          PathScope scope(path_, item_name, index++);
          bool ok = signal_ == Signal::kTraces    ? DecodeSpan(v, ri, si)
                    : signal_ == Signal::kMetrics ? DecodeMetric(v, ri, si)
                                                  : DecodeLog(v, ri, si);
          if (!ok) return false;
          break;
        }
        case 3:
          if (!Str(r, t, f, "schemaUrl", &v)) return false;
          b_.scopes[si].schema_url = v;
          break;
        default:
          if (!SkipUnknown(r, f, t)) return false;
      }
    }
    if (r.error()) return ReaderFail(r, "");
    if (ItemCount() == items0) b_.scopes.pop_back();
    return true;
  }

  bool DecodeScope(std::string_view bytes, Scope* scope) {
    WireReader r(bytes);
    uint32_t f;
    WireType t;
    AttrRun attrs;
    int64_t n = 0;
    while (true) {
      const char* at = r.pos();
      if (!r.NextTag(&f, &t)) break;
      switch (f) {
        case 1:
          if (!Str(r, t, f, "name", &scope->name)) return false;
          break;
        case 2:
          if (!Str(r, t, f, "version", &scope->version)) return false;
          break;
        case 3:
          if (!Attribute(r, t, f, "attributes", at, &attrs, n++)) return false;
          break;
        case 4:
          if (!U32(r, t, f, "droppedAttributesCount", &scope->dropped_attributes_count)) {
            return false;
          }
          break;
        default:
          if (!SkipUnknown(r, f, t)) return false;
      }
    }
    if (r.error()) return ReaderFail(r, "");
    scope->attributes = attrs.Finish(b_.arena);
    return true;
  }

  // ---- traces
  // -------------------------------------------------------------------------------------
  bool DecodeSpan(std::string_view bytes, uint32_t ri, uint32_t si) {
    Span& sp = b_.spans.emplace_back();
    sp.resource_index = ri;
    sp.scope_index = si;
    item_invalid_ = false;
    std::string_view trace_id, span_id, parent, v;
    uint64_t kind = 0, status_code = 0;
    AttrRun attrs;
    int64_t n_attrs = 0, n_events = 0, n_links = 0;
    WireReader r(bytes);
    uint32_t f;
    WireType t;
    while (true) {
      const char* at = r.pos();
      if (!r.NextTag(&f, &t)) break;
      switch (f) {
        case 1:
          if (!Len(r, t, f, "traceId", &trace_id)) return false;
          break;
        case 2:
          if (!Len(r, t, f, "spanId", &span_id)) return false;
          break;
        case 3:
          if (!Str(r, t, f, "traceState", &sp.trace_state)) return false;
          break;
        case 4:
          if (!Len(r, t, f, "parentSpanId", &parent)) return false;
          break;
        case 5:
          if (!Str(r, t, f, "name", &sp.name)) return false;
          break;
        case 6:
          if (!Varint(r, t, f, "kind", &kind)) return false;
          break;
        case 7:
          if (!Fixed64(r, t, f, "startTimeUnixNano", &sp.start_time_unix_nano)) return false;
          break;
        case 8:
          if (!Fixed64(r, t, f, "endTimeUnixNano", &sp.end_time_unix_nano)) return false;
          break;
        case 9:
          if (!Attribute(r, t, f, "attributes", at, &attrs, n_attrs++)) return false;
          break;
        case 10:
          if (!U32(r, t, f, "droppedAttributesCount", &sp.dropped_attributes_count)) return false;
          break;
        case 11: {
          if (!Len(r, t, f, "events", &v)) return false;
          PathScope scope(path_, "events", n_events++);
          if (!DecodeEvent(v, &sp.events.emplace_back())) return false;
          break;
        }
        case 12:
          if (!U32(r, t, f, "droppedEventsCount", &sp.dropped_events_count)) return false;
          break;
        case 13: {
          if (!Len(r, t, f, "links", &v)) return false;
          PathScope scope(path_, "links", n_links++);
          if (!DecodeLink(v, &sp.links.emplace_back())) return false;
          break;
        }
        case 14:
          if (!U32(r, t, f, "droppedLinksCount", &sp.dropped_links_count)) return false;
          break;
        case 15: {
          if (!Len(r, t, f, "status", &v)) return false;
          PathScope scope(path_, "status");
          if (!DecodeStatus(v, &status_code, &sp.status_message)) return false;
          break;
        }
        case 16:
          if (!Fixed32(r, t, f, "flags", &sp.flags)) return false;
          break;
        default:
          if (!SkipUnknown(r, f, t)) return false;
      }
    }
    if (r.error()) return ReaderFail(r, "");
    sp.attributes = attrs.Finish(b_.arena);

    if (trace_id.size() != 16) {
      NoteInvalid("traceId", "must be 16 bytes");
    } else if (span_id.size() != 8) {
      NoteInvalid("spanId", "must be 8 bytes");
    } else if (!parent.empty() && parent.size() != 8) {
      NoteInvalid("parentSpanId", "must be empty or 8 bytes");
    } else if (kind > internal::kMaxSpanKind) {
      NoteInvalid("kind", "unknown value (expected 0 to 5)");
    } else if (status_code > internal::kMaxStatusCode) {
      NoteInvalid("status.code", "unknown value (expected 0, 1 or 2)");
    } else {
      std::memcpy(sp.trace_id.data(), trace_id.data(), 16);
      std::memcpy(sp.span_id.data(), span_id.data(), 8);
      if (!parent.empty()) std::memcpy(sp.parent_span_id.data(), parent.data(), 8);
      sp.kind = static_cast<SpanKind>(kind);
      sp.status_code = static_cast<SpanStatusCode>(status_code);
      const char* field = nullptr;
      if (const char* reason = internal::CheckSpanIds(sp, &field)) NoteInvalid(field, reason);
    }
    if (item_invalid_) {
      b_.spans.pop_back();
      CountRejected(1);
    }
    return true;
  }

  bool DecodeEvent(std::string_view bytes, SpanEvent* ev) {
    WireReader r(bytes);
    uint32_t f;
    WireType t;
    AttrRun attrs;
    int64_t n = 0;
    while (true) {
      const char* at = r.pos();
      if (!r.NextTag(&f, &t)) break;
      switch (f) {
        case 1:
          if (!Fixed64(r, t, f, "timeUnixNano", &ev->time_unix_nano)) return false;
          break;
        case 2:
          if (!Str(r, t, f, "name", &ev->name)) return false;
          break;
        case 3:
          if (!Attribute(r, t, f, "attributes", at, &attrs, n++)) return false;
          break;
        case 4:
          if (!U32(r, t, f, "droppedAttributesCount", &ev->dropped_attributes_count)) return false;
          break;
        default:
          if (!SkipUnknown(r, f, t)) return false;
      }
    }
    if (r.error()) return ReaderFail(r, "");
    ev->attributes = attrs.Finish(b_.arena);
    return true;
  }

  bool DecodeLink(std::string_view bytes, SpanLink* link) {
    WireReader r(bytes);
    uint32_t f;
    WireType t;
    AttrRun attrs;
    int64_t n = 0;
    std::string_view trace_id, span_id;
    while (true) {
      const char* at = r.pos();
      if (!r.NextTag(&f, &t)) break;
      switch (f) {
        case 1:
          if (!Len(r, t, f, "traceId", &trace_id)) return false;
          break;
        case 2:
          if (!Len(r, t, f, "spanId", &span_id)) return false;
          break;
        case 3:
          if (!Str(r, t, f, "traceState", &link->trace_state)) return false;
          break;
        case 4:
          if (!Attribute(r, t, f, "attributes", at, &attrs, n++)) return false;
          break;
        case 5:
          if (!U32(r, t, f, "droppedAttributesCount", &link->dropped_attributes_count)) {
            return false;
          }
          break;
        case 6:
          if (!Fixed32(r, t, f, "flags", &link->flags)) return false;
          break;
        default:
          if (!SkipUnknown(r, f, t)) return false;
      }
    }
    if (r.error()) return ReaderFail(r, "");
    link->attributes = attrs.Finish(b_.arena);
    if (!trace_id.empty() && trace_id.size() != 16) {
      NoteInvalid("traceId", "must be empty or 16 bytes");
    } else if (!span_id.empty() && span_id.size() != 8) {
      NoteInvalid("spanId", "must be empty or 8 bytes");
    } else {
      if (!trace_id.empty()) std::memcpy(link->trace_id.data(), trace_id.data(), 16);
      if (!span_id.empty()) std::memcpy(link->span_id.data(), span_id.data(), 8);
    }
    return true;
  }

  bool DecodeStatus(std::string_view bytes, uint64_t* code, std::string_view* message) {
    WireReader r(bytes);
    uint32_t f;
    WireType t;
    while (r.NextTag(&f, &t)) {
      switch (f) {
        case 2:
          if (!Str(r, t, f, "message", message)) return false;
          break;
        case 3:
          if (!Varint(r, t, f, "code", code)) return false;
          break;
        default:
          if (!SkipUnknown(r, f, t)) return false;
      }
    }
    if (r.error()) return ReaderFail(r, "");
    return true;
  }

  // ---- metrics
  // ------------------------------------------------------------------------------------
  bool DecodeMetric(std::string_view bytes, uint32_t ri, uint32_t si) {
    const auto mi = static_cast<uint32_t>(b_.metrics.size());
    Metric& m = b_.metrics.emplace_back();
    m.resource_index = ri;
    m.scope_index = si;
    const size_t p0 = b_.points.size();
    int64_t temporality = 0;
    bool has_data = false;
    AttrRun metadata;
    int64_t n_meta = 0;
    WireReader r(bytes);
    uint32_t f;
    WireType t;
    std::string_view v;
    while (true) {
      const char* at = r.pos();
      if (!r.NextTag(&f, &t)) break;
      switch (f) {
        case 1:
          if (!Str(r, t, f, "name", &m.name)) return false;
          break;
        case 2:
          if (!Str(r, t, f, "description", &m.description)) return false;
          break;
        case 3:
          if (!Str(r, t, f, "unit", &m.unit)) return false;
          break;
        case 5:
        case 7:
        case 9:
        case 10:
        case 11: {
          static constexpr const char* kDataNames[] = {nullptr,
                                                       nullptr,
                                                       nullptr,
                                                       nullptr,
                                                       nullptr,
                                                       "gauge",
                                                       nullptr,
                                                       "sum",
                                                       nullptr,
                                                       "histogram",
                                                       "exponentialHistogram",
                                                       "summary"};
          const char* name = kDataNames[f];
          if (!Len(r, t, f, name, &v)) return false;
          // A oneof: the last data field wins, as in protobuf.
          if (has_data) b_.points.resize(p0);
          has_data = true;
          m.type = f == 5    ? MetricType::kGauge
                   : f == 7  ? MetricType::kSum
                   : f == 9  ? MetricType::kHistogram
                   : f == 10 ? MetricType::kExponentialHistogram
                             : MetricType::kSummary;
          m.is_monotonic = false;
          temporality = 0;
          PathScope scope(path_, name);
          if (!DecodeMetricData(v, mi, m.type, &temporality, &m.is_monotonic)) return false;
          break;
        }
        case 12:
          if (!Attribute(r, t, f, "metadata", at, &metadata, n_meta++)) return false;
          break;
        default:
          if (!SkipUnknown(r, f, t)) return false;
      }
    }
    if (r.error()) return ReaderFail(r, "");
    m.metadata = metadata.Finish(b_.arena);
    const char* field = nullptr;
    if (const char* reason = internal::CheckMetric(m, temporality, &field)) {
      if (b_.points.size() > p0) {
        if (outcome_.error_message.empty()) outcome_.error_message = path_.Render(field, reason);
        CountRejected(static_cast<int64_t>(b_.points.size() - p0));
        b_.points.resize(p0);
      }
    } else {
      m.temporality = static_cast<Temporality>(temporality);
    }
    // A metric whose points were all dropped (or that had none) carries nothing.
    if (b_.points.size() == p0) b_.metrics.pop_back();
    return true;
  }

  // Gauge / Sum / Histogram / ExponentialHistogram / Summary: data_points=1,
  // aggregation_temporality=2, is_monotonic=3.
  bool DecodeMetricData(std::string_view bytes, uint32_t mi, MetricType type, int64_t* temporality,
                        bool* is_monotonic) {
    WireReader r(bytes);
    uint32_t f;
    WireType t;
    std::string_view v;
    uint64_t u = 0;
    int64_t index = 0;
    const bool has_temporality = type != MetricType::kGauge && type != MetricType::kSummary;
    while (r.NextTag(&f, &t)) {
      if (f == 1) {
        if (!Len(r, t, f, "dataPoints", &v)) return false;
        PathScope scope(path_, "dataPoints", index++);
        if (!DecodePoint(v, mi, type)) return false;
      } else if (f == 2 && has_temporality) {
        if (!Varint(r, t, f, "aggregationTemporality", &u)) return false;
        *temporality = u > 0xFFFFFFFFull ? -1 : static_cast<int32_t>(u);
      } else if (f == 3 && type == MetricType::kSum) {
        if (!Varint(r, t, f, "isMonotonic", &u)) return false;
        *is_monotonic = u != 0;
      } else if (!SkipUnknown(r, f, t)) {
        return false;
      }
    }
    if (r.error()) return ReaderFail(r, "");
    return true;
  }

  bool DecodePoint(std::string_view bytes, uint32_t mi, MetricType type) {
    MetricPoint& p = b_.points.emplace_back();
    p.metric_index = mi;
    item_invalid_ = false;
    bool ok;
    switch (type) {
      case MetricType::kGauge:
      case MetricType::kSum: ok = DecodeNumberPoint(bytes, &p); break;
      case MetricType::kHistogram: ok = DecodeHistogramPoint(bytes, &p); break;
      case MetricType::kExponentialHistogram: ok = DecodeExpHistogramPoint(bytes, &p); break;
      case MetricType::kSummary: ok = DecodeSummaryPoint(bytes, &p); break;
      default: ok = false;
    }
    if (!ok) return false;
    if (!item_invalid_) {
      const char* field = nullptr;
      if (const char* reason = internal::CheckPoint(b_.metrics[mi], p, &field)) {
        NoteInvalid(field, reason);
      }
    }
    if (item_invalid_) {
      b_.points.pop_back();
      CountRejected(1);
    }
    return true;
  }

  bool DecodeNumberPoint(std::string_view bytes, MetricPoint* p) {
    WireReader r(bytes);
    uint32_t f;
    WireType t;
    AttrRun attrs;
    int64_t n_attrs = 0, n_ex = 0;
    std::string_view v;
    while (true) {
      const char* at = r.pos();
      if (!r.NextTag(&f, &t)) break;
      switch (f) {
        case 7:
          if (!Attribute(r, t, f, "attributes", at, &attrs, n_attrs++)) return false;
          break;
        case 2:
          if (!Fixed64(r, t, f, "startTimeUnixNano", &p->start_time_unix_nano)) return false;
          break;
        case 3:
          if (!Fixed64(r, t, f, "timeUnixNano", &p->time_unix_nano)) return false;
          break;
        case 4:
          if (!Double(r, t, f, "asDouble", &p->as_double)) return false;
          p->value_kind = NumberKind::kDouble;
          p->as_int = 0;
          break;
        case 6:
          if (!SFixed64(r, t, f, "asInt", &p->as_int)) return false;
          p->value_kind = NumberKind::kInt;
          p->as_double = 0;
          break;
        case 5: {
          if (!Len(r, t, f, "exemplars", &v)) return false;
          PathScope scope(path_, "exemplars", n_ex++);
          if (!DecodeExemplar(v, &p->exemplars.emplace_back())) return false;
          break;
        }
        case 8:
          if (!U32(r, t, f, "flags", &p->flags)) return false;
          break;
        default:
          if (!SkipUnknown(r, f, t)) return false;
      }
    }
    if (r.error()) return ReaderFail(r, "");
    p->attributes = attrs.Finish(b_.arena);
    return true;
  }

  bool DecodeHistogramPoint(std::string_view bytes, MetricPoint* p) {
    WireReader r(bytes);
    uint32_t f;
    WireType t;
    AttrRun attrs;
    int64_t n_attrs = 0, n_ex = 0;
    std::string_view v;
    while (true) {
      const char* at = r.pos();
      if (!r.NextTag(&f, &t)) break;
      switch (f) {
        case 9:
          if (!Attribute(r, t, f, "attributes", at, &attrs, n_attrs++)) return false;
          break;
        case 2:
          if (!Fixed64(r, t, f, "startTimeUnixNano", &p->start_time_unix_nano)) return false;
          break;
        case 3:
          if (!Fixed64(r, t, f, "timeUnixNano", &p->time_unix_nano)) return false;
          break;
        case 4:
          if (!Fixed64(r, t, f, "count", &p->count)) return false;
          break;
        case 5:
          if (!Double(r, t, f, "sum", &p->sum)) return false;
          p->has_sum = true;
          break;
        case 6:
          if (!PackedFixed64(r, t, f, "bucketCounts", &p->bucket_counts)) return false;
          break;
        case 7:
          if (!PackedFixed64(r, t, f, "explicitBounds", &p->explicit_bounds)) return false;
          break;
        case 8: {
          if (!Len(r, t, f, "exemplars", &v)) return false;
          PathScope scope(path_, "exemplars", n_ex++);
          if (!DecodeExemplar(v, &p->exemplars.emplace_back())) return false;
          break;
        }
        case 10:
          if (!U32(r, t, f, "flags", &p->flags)) return false;
          break;
        case 11:
          if (!Double(r, t, f, "min", &p->min)) return false;
          p->has_min = true;
          break;
        case 12:
          if (!Double(r, t, f, "max", &p->max)) return false;
          p->has_max = true;
          break;
        default:
          if (!SkipUnknown(r, f, t)) return false;
      }
    }
    if (r.error()) return ReaderFail(r, "");
    p->attributes = attrs.Finish(b_.arena);
    return true;
  }

  bool DecodeExpHistogramPoint(std::string_view bytes, MetricPoint* p) {
    WireReader r(bytes);
    uint32_t f;
    WireType t;
    AttrRun attrs;
    int64_t n_attrs = 0, n_ex = 0;
    std::string_view v;
    uint64_t u = 0;
    while (true) {
      const char* at = r.pos();
      if (!r.NextTag(&f, &t)) break;
      switch (f) {
        case 1:
          if (!Attribute(r, t, f, "attributes", at, &attrs, n_attrs++)) return false;
          break;
        case 2:
          if (!Fixed64(r, t, f, "startTimeUnixNano", &p->start_time_unix_nano)) return false;
          break;
        case 3:
          if (!Fixed64(r, t, f, "timeUnixNano", &p->time_unix_nano)) return false;
          break;
        case 4:
          if (!Fixed64(r, t, f, "count", &p->count)) return false;
          break;
        case 5:
          if (!Double(r, t, f, "sum", &p->sum)) return false;
          p->has_sum = true;
          break;
        case 6:
          if (!Varint(r, t, f, "scale", &u)) return false;
          p->scale = ZigZagDecode32(static_cast<uint32_t>(u));
          break;
        case 7:
          if (!Fixed64(r, t, f, "zeroCount", &p->zero_count)) return false;
          break;
        case 8:
        case 9: {
          const char* name = f == 8 ? "positive" : "negative";
          if (!Len(r, t, f, name, &v)) return false;
          PathScope scope(path_, name);
          if (!DecodeBuckets(v, f == 8 ? &p->positive : &p->negative)) return false;
          break;
        }
        case 10:
          if (!U32(r, t, f, "flags", &p->flags)) return false;
          break;
        case 11: {
          if (!Len(r, t, f, "exemplars", &v)) return false;
          PathScope scope(path_, "exemplars", n_ex++);
          if (!DecodeExemplar(v, &p->exemplars.emplace_back())) return false;
          break;
        }
        case 12:
          if (!Double(r, t, f, "min", &p->min)) return false;
          p->has_min = true;
          break;
        case 13:
          if (!Double(r, t, f, "max", &p->max)) return false;
          p->has_max = true;
          break;
        case 14:
          if (!Double(r, t, f, "zeroThreshold", &p->zero_threshold)) return false;
          break;
        default:
          if (!SkipUnknown(r, f, t)) return false;
      }
    }
    if (r.error()) return ReaderFail(r, "");
    p->attributes = attrs.Finish(b_.arena);
    return true;
  }

  bool DecodeBuckets(std::string_view bytes, Buckets* buckets) {
    // A repeated occurrence merges, as in protobuf: offset is replaced, counts are appended.
    WireReader r(bytes);
    uint32_t f;
    WireType t;
    uint64_t u = 0;
    while (r.NextTag(&f, &t)) {
      switch (f) {
        case 1:
          if (!Varint(r, t, f, "offset", &u)) return false;
          buckets->offset = ZigZagDecode32(static_cast<uint32_t>(u));
          break;
        case 2:
          if (!PackedVarint(r, t, f, "bucketCounts", &buckets->bucket_counts)) return false;
          break;
        default:
          if (!SkipUnknown(r, f, t)) return false;
      }
    }
    if (r.error()) return ReaderFail(r, "");
    return true;
  }

  bool DecodeSummaryPoint(std::string_view bytes, MetricPoint* p) {
    WireReader r(bytes);
    uint32_t f;
    WireType t;
    AttrRun attrs;
    int64_t n_attrs = 0, n_q = 0;
    std::string_view v;
    while (true) {
      const char* at = r.pos();
      if (!r.NextTag(&f, &t)) break;
      switch (f) {
        case 7:
          if (!Attribute(r, t, f, "attributes", at, &attrs, n_attrs++)) return false;
          break;
        case 2:
          if (!Fixed64(r, t, f, "startTimeUnixNano", &p->start_time_unix_nano)) return false;
          break;
        case 3:
          if (!Fixed64(r, t, f, "timeUnixNano", &p->time_unix_nano)) return false;
          break;
        case 4:
          if (!Fixed64(r, t, f, "count", &p->count)) return false;
          break;
        case 5:
          if (!Double(r, t, f, "sum", &p->sum)) return false;
          p->has_sum = true;
          break;
        case 6: {
          if (!Len(r, t, f, "quantileValues", &v)) return false;
          PathScope scope(path_, "quantileValues", n_q++);
          if (!DecodeQuantile(v, &p->quantile_values.emplace_back())) return false;
          break;
        }
        case 8:
          if (!U32(r, t, f, "flags", &p->flags)) return false;
          break;
        default:
          if (!SkipUnknown(r, f, t)) return false;
      }
    }
    if (r.error()) return ReaderFail(r, "");
    p->attributes = attrs.Finish(b_.arena);
    return true;
  }

  bool DecodeQuantile(std::string_view bytes, std::pair<double, double>* q) {
    WireReader r(bytes);
    uint32_t f;
    WireType t;
    while (r.NextTag(&f, &t)) {
      switch (f) {
        case 1:
          if (!Double(r, t, f, "quantile", &q->first)) return false;
          break;
        case 2:
          if (!Double(r, t, f, "value", &q->second)) return false;
          break;
        default:
          if (!SkipUnknown(r, f, t)) return false;
      }
    }
    if (r.error()) return ReaderFail(r, "");
    return true;
  }

  bool DecodeExemplar(std::string_view bytes, Exemplar* ex) {
    WireReader r(bytes);
    uint32_t f;
    WireType t;
    AttrRun attrs;
    int64_t n = 0;
    std::string_view trace_id, span_id;
    while (true) {
      const char* at = r.pos();
      if (!r.NextTag(&f, &t)) break;
      switch (f) {
        case 7:
          if (!Attribute(r, t, f, "filteredAttributes", at, &attrs, n++)) return false;
          break;
        case 2:
          if (!Fixed64(r, t, f, "timeUnixNano", &ex->time_unix_nano)) return false;
          break;
        case 3:
          if (!Double(r, t, f, "asDouble", &ex->as_double)) return false;
          ex->value_kind = NumberKind::kDouble;
          ex->as_int = 0;
          break;
        case 6:
          if (!SFixed64(r, t, f, "asInt", &ex->as_int)) return false;
          ex->value_kind = NumberKind::kInt;
          ex->as_double = 0;
          break;
        case 4:
          if (!Len(r, t, f, "spanId", &span_id)) return false;
          break;
        case 5:
          if (!Len(r, t, f, "traceId", &trace_id)) return false;
          break;
        default:
          if (!SkipUnknown(r, f, t)) return false;
      }
    }
    if (r.error()) return ReaderFail(r, "");
    ex->filtered_attributes = attrs.Finish(b_.arena);
    if (!trace_id.empty() && trace_id.size() != 16) {
      NoteInvalid("traceId", "must be empty or 16 bytes");
    } else if (!span_id.empty() && span_id.size() != 8) {
      NoteInvalid("spanId", "must be empty or 8 bytes");
    } else {
      if (!trace_id.empty()) std::memcpy(ex->trace_id.data(), trace_id.data(), 16);
      if (!span_id.empty()) std::memcpy(ex->span_id.data(), span_id.data(), 8);
    }
    return true;
  }

  // ---- logs
  // -----------------------------------------------------------------------------------------
  bool DecodeLog(std::string_view bytes, uint32_t ri, uint32_t si) {
    LogRecord& lr = b_.logs.emplace_back();
    lr.resource_index = ri;
    lr.scope_index = si;
    item_invalid_ = false;
    std::string_view trace_id, span_id;
    AttrRun attrs;
    int64_t n_attrs = 0;
    uint64_t u = 0;
    WireReader r(bytes);
    uint32_t f;
    WireType t;
    while (true) {
      const char* at = r.pos();
      if (!r.NextTag(&f, &t)) break;
      switch (f) {
        case 1:
          if (!Fixed64(r, t, f, "timeUnixNano", &lr.time_unix_nano)) return false;
          break;
        case 11:
          if (!Fixed64(r, t, f, "observedTimeUnixNano", &lr.observed_time_unix_nano)) {
            return false;
          }
          break;
        case 2:
          if (!Varint(r, t, f, "severityNumber", &u)) return false;
          lr.severity_number = static_cast<int32_t>(u);
          break;
        case 3:
          if (!Str(r, t, f, "severityText", &lr.severity_text)) return false;
          break;
        case 5:
          if (!AnyValue(r, t, f, "body", &lr.body)) return false;
          break;
        case 6:
          if (!Attribute(r, t, f, "attributes", at, &attrs, n_attrs++)) return false;
          break;
        case 7:
          if (!U32(r, t, f, "droppedAttributesCount", &lr.dropped_attributes_count)) return false;
          break;
        case 8:
          if (!Fixed32(r, t, f, "flags", &lr.flags)) return false;
          break;
        case 9:
          if (!Len(r, t, f, "traceId", &trace_id)) return false;
          break;
        case 10:
          if (!Len(r, t, f, "spanId", &span_id)) return false;
          break;
        case 12:
          if (!Str(r, t, f, "eventName", &lr.event_name)) return false;
          break;
        default:
          if (!SkipUnknown(r, f, t)) return false;
      }
    }
    if (r.error()) return ReaderFail(r, "");
    lr.attributes = attrs.Finish(b_.arena);
    if (!trace_id.empty() && trace_id.size() != 16) {
      NoteInvalid("traceId", "must be empty or 16 bytes");
    } else if (!span_id.empty() && span_id.size() != 8) {
      NoteInvalid("spanId", "must be empty or 8 bytes");
    } else {
      if (!trace_id.empty()) std::memcpy(lr.trace_id.data(), trace_id.data(), 16);
      if (!span_id.empty()) std::memcpy(lr.span_id.data(), span_id.data(), 8);
    }
    if (item_invalid_) {
      b_.logs.pop_back();
      CountRejected(1);
    }
    return true;
  }

  Signal signal_;
  Batch& b_;
  DecodeOutcome& outcome_;
  FieldPath path_;
  std::string error_;
  bool item_invalid_ = false;
};

}  // namespace

Status DecodeProto(Signal signal, std::string_view body, Batch* batch, DecodeOutcome* outcome) {
  ProtoDecoder decoder(signal, batch, outcome);
  return decoder.Run(body);
}

}  // namespace avtrace::otlp
