#include "store/sqlite/codec.h"

#include <cstring>

#include "otlp/wire.h"

namespace avtrace::store::sqlite {

using otlp::WireReader;
using otlp::WireType;
using otlp::WireWriter;

namespace {

constexpr uint64_t kMul1 = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t kMul2 = 0xbf58476d1ce4e5b9ULL;

inline uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

inline uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= kMul2;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

Status Corrupt(const char* what) { return Internal(std::string("stored blob: ") + what); }

template <typename T>
std::string_view AsBytes(const std::vector<T>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T)};
}

void PackVarints(const std::vector<uint64_t>& v, std::string* out) {
  WireWriter w(out);
  for (uint64_t x : v) w.Varint(x);
}

bool UnpackVarints(std::string_view bytes, std::vector<uint64_t>* out) {
  WireReader r(bytes);
  while (!r.done()) {
    uint64_t x;
    if (!r.ReadVarint(&x)) return false;
    out->push_back(x);
  }
  return true;
}

bool UnpackDoubles(std::string_view bytes, std::vector<double>* out) {
  if (bytes.size() % 8 != 0) return false;
  out->resize(bytes.size() / 8);
  if (!bytes.empty()) std::memcpy(out->data(), bytes.data(), bytes.size());
  return true;
}

std::string_view CopyTo(otlp::Arena* arena, std::string_view v) { return arena->Copy(v); }

otlp::AttrList CopyAttrs(otlp::Arena* arena, std::string_view v) {
  otlp::AttrList a;
  a.encoded = arena->Copy(v);
  a.count = CountAttrs(v);
  return a;
}

template <size_t N>
bool CopyId(std::string_view v, std::array<uint8_t, N>* out) {
  if (v.size() != N) return false;
  std::memcpy(out->data(), v.data(), N);
  return true;
}

}  // namespace

uint64_t Hash64(std::string_view bytes, uint64_t seed) {
  uint64_t h = seed ^ (bytes.size() * kMul1);
  const char* p = bytes.data();
  size_t n = bytes.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = Rotl(h ^ (w * kMul1), 29) * kMul2;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = Rotl(h ^ (w * kMul1), 29) * kMul2;
  }
  return Mix(h);
}

uint32_t CountAttrs(std::string_view encoded) {
  WireReader r(encoded);
  uint32_t field;
  WireType type;
  uint32_t n = 0;
  while (r.NextTag(&field, &type)) {
    if (!r.Skip(type)) break;
    ++n;
  }
  return n;
}

// Span extra: 1 trace_state, 2 status_message, 3/4/5 dropped attribute/event/link counts,
// 6 event {1 time fixed64, 2 name, 3 attributes, 4 dropped}, 7 link {1 trace_id, 2 span_id,
// 3 trace_state, 4 attributes, 5 dropped, 6 flags}.
bool EncodeSpanExtra(const otlp::Span& span, std::string* out) {
  out->clear();
  WireWriter w(out);
  if (!span.trace_state.empty()) w.BytesField(1, span.trace_state);
  if (!span.status_message.empty()) w.BytesField(2, span.status_message);
  if (span.dropped_attributes_count) w.VarintField(3, span.dropped_attributes_count);
  if (span.dropped_events_count) w.VarintField(4, span.dropped_events_count);
  if (span.dropped_links_count) w.VarintField(5, span.dropped_links_count);
  for (const otlp::SpanEvent& e : span.events) {
    w.Message(6, [&](WireWriter& m) {
      m.Fixed64Field(1, e.time_unix_nano);
      if (!e.name.empty()) m.BytesField(2, e.name);
      if (!e.attributes.empty()) m.BytesField(3, e.attributes.encoded);
      if (e.dropped_attributes_count) m.VarintField(4, e.dropped_attributes_count);
    });
  }
  for (const otlp::SpanLink& l : span.links) {
    w.Message(7, [&](WireWriter& m) {
      m.BytesField(1, std::string_view(reinterpret_cast<const char*>(l.trace_id.data()), 16));
      m.BytesField(2, std::string_view(reinterpret_cast<const char*>(l.span_id.data()), 8));
      if (!l.trace_state.empty()) m.BytesField(3, l.trace_state);
      if (!l.attributes.empty()) m.BytesField(4, l.attributes.encoded);
      if (l.dropped_attributes_count) m.VarintField(5, l.dropped_attributes_count);
      if (l.flags) m.VarintField(6, l.flags);
    });
  }
  return !out->empty();
}

namespace {

bool DecodeEvent(std::string_view bytes, otlp::SpanEvent* e, otlp::Arena* arena) {
  WireReader r(bytes);
  uint32_t f;
  WireType t;
  while (r.NextTag(&f, &t)) {
    std::string_view v;
    uint64_t u;
    if (f == 1 && t == WireType::kFixed64) {
      if (!r.ReadFixed64(&e->time_unix_nano)) return false;
    } else if (f == 2 && t == WireType::kLen) {
      if (!r.ReadLen(&v)) return false;
      e->name = CopyTo(arena, v);
    } else if (f == 3 && t == WireType::kLen) {
      if (!r.ReadLen(&v)) return false;
      e->attributes = CopyAttrs(arena, v);
    } else if (f == 4 && t == WireType::kVarint) {
      if (!r.ReadVarint(&u)) return false;
      e->dropped_attributes_count = static_cast<uint32_t>(u);
    } else if (!r.Skip(t)) {
      return false;
    }
  }
  return r.error() == nullptr;
}

bool DecodeLink(std::string_view bytes, otlp::SpanLink* l, otlp::Arena* arena) {
  WireReader r(bytes);
  uint32_t f;
  WireType t;
  while (r.NextTag(&f, &t)) {
    std::string_view v;
    uint64_t u;
    if (t == WireType::kLen && f >= 1 && f <= 4) {
      if (!r.ReadLen(&v)) return false;
      if (f == 1 && !CopyId(v, &l->trace_id)) return false;
      if (f == 2 && !CopyId(v, &l->span_id)) return false;
      if (f == 3) l->trace_state = CopyTo(arena, v);
      if (f == 4) l->attributes = CopyAttrs(arena, v);
    } else if (t == WireType::kVarint && (f == 5 || f == 6)) {
      if (!r.ReadVarint(&u)) return false;
      (f == 5 ? l->dropped_attributes_count : l->flags) = static_cast<uint32_t>(u);
    } else if (!r.Skip(t)) {
      return false;
    }
  }
  return r.error() == nullptr;
}

}  // namespace

Status DecodeSpanExtra(std::string_view bytes, otlp::Span* span, otlp::Arena* arena) {
  WireReader r(bytes);
  uint32_t f;
  WireType t;
  while (r.NextTag(&f, &t)) {
    std::string_view v;
    uint64_t u;
    if (t == WireType::kLen && f >= 1 && f <= 2) {
      if (!r.ReadLen(&v)) break;
      (f == 1 ? span->trace_state : span->status_message) = CopyTo(arena, v);
    } else if (t == WireType::kVarint && f >= 3 && f <= 5) {
      if (!r.ReadVarint(&u)) break;
      uint32_t n = static_cast<uint32_t>(u);
      if (f == 3) span->dropped_attributes_count = n;
      if (f == 4) span->dropped_events_count = n;
      if (f == 5) span->dropped_links_count = n;
    } else if (t == WireType::kLen && f == 6) {
      if (!r.ReadLen(&v)) break;
      if (!DecodeEvent(v, &span->events.emplace_back(), arena)) return Corrupt("span event");
    } else if (t == WireType::kLen && f == 7) {
      if (!r.ReadLen(&v)) break;
      if (!DecodeLink(v, &span->links.emplace_back(), arena)) return Corrupt("span link");
    } else if (!r.Skip(t)) {
      break;
    }
  }
  if (r.error()) return Corrupt(r.error());
  return Status::Ok();
}

// Point data: 1 min, 2 max (doubles, present iff has_min/has_max), 3 bucket_counts (packed
// varints), 4 explicit_bounds (packed doubles), 5 scale (zigzag), 6 zero_count, 7 zero_threshold,
// 8/9 positive offset (zigzag) and counts, 10/11 negative offset and counts,
// 12 quantile {1 q, 2 value}, 13 exemplar {1 attributes, 2 time fixed64, 3 value kind, 4 double,
// 5 int, 6 span_id, 7 trace_id}.
bool EncodePointData(const otlp::MetricPoint& p, std::string* out) {
  out->clear();
  WireWriter w(out);
  std::string scratch;
  if (p.has_min) w.DoubleField(1, p.min);
  if (p.has_max) w.DoubleField(2, p.max);
  if (!p.bucket_counts.empty()) {
    scratch.clear();
    PackVarints(p.bucket_counts, &scratch);
    w.BytesField(3, scratch);
  }
  if (!p.explicit_bounds.empty()) w.BytesField(4, AsBytes(p.explicit_bounds));
  if (p.scale) w.VarintField(5, otlp::ZigZagEncode32(p.scale));
  if (p.zero_count) w.VarintField(6, p.zero_count);
  if (p.zero_threshold != 0) w.DoubleField(7, p.zero_threshold);
  if (p.positive.offset) w.VarintField(8, otlp::ZigZagEncode32(p.positive.offset));
  if (!p.positive.bucket_counts.empty()) {
    scratch.clear();
    PackVarints(p.positive.bucket_counts, &scratch);
    w.BytesField(9, scratch);
  }
  if (p.negative.offset) w.VarintField(10, otlp::ZigZagEncode32(p.negative.offset));
  if (!p.negative.bucket_counts.empty()) {
    scratch.clear();
    PackVarints(p.negative.bucket_counts, &scratch);
    w.BytesField(11, scratch);
  }
  for (const auto& qv : p.quantile_values) {  // no structured binding: clang 14 can't capture it
    w.Message(12, [&](WireWriter& m) {
      m.DoubleField(1, qv.first);
      m.DoubleField(2, qv.second);
    });
  }
  for (const otlp::Exemplar& e : p.exemplars) {
    w.Message(13, [&](WireWriter& m) {
      if (!e.filtered_attributes.empty()) m.BytesField(1, e.filtered_attributes.encoded);
      m.Fixed64Field(2, e.time_unix_nano);
      m.VarintField(3, static_cast<uint64_t>(e.value_kind));
      if (e.value_kind == otlp::NumberKind::kDouble) m.DoubleField(4, e.as_double);
      if (e.value_kind == otlp::NumberKind::kInt) m.VarintField(5, static_cast<uint64_t>(e.as_int));
      if (!otlp::IsZeroId(e.span_id)) {
        m.BytesField(6, std::string_view(reinterpret_cast<const char*>(e.span_id.data()), 8));
      }
      if (!otlp::IsZeroId(e.trace_id)) {
        m.BytesField(7, std::string_view(reinterpret_cast<const char*>(e.trace_id.data()), 16));
      }
    });
  }
  return !out->empty();
}

namespace {

bool DecodeExemplar(std::string_view bytes, otlp::Exemplar* e, otlp::Arena* arena) {
  WireReader r(bytes);
  uint32_t f;
  WireType t;
  while (r.NextTag(&f, &t)) {
    std::string_view v;
    uint64_t u;
    if (t == WireType::kLen && (f == 1 || f == 6 || f == 7)) {
      if (!r.ReadLen(&v)) return false;
      if (f == 1) e->filtered_attributes = CopyAttrs(arena, v);
      if (f == 6 && !CopyId(v, &e->span_id)) return false;
      if (f == 7 && !CopyId(v, &e->trace_id)) return false;
    } else if (f == 2 && t == WireType::kFixed64) {
      if (!r.ReadFixed64(&e->time_unix_nano)) return false;
    } else if (t == WireType::kVarint && (f == 3 || f == 5)) {
      if (!r.ReadVarint(&u)) return false;
      if (f == 3)
        e->value_kind = static_cast<otlp::NumberKind>(u);
      else
        e->as_int = static_cast<int64_t>(u);
    } else if (f == 4 && t == WireType::kFixed64) {
      if (!r.ReadDouble(&e->as_double)) return false;
    } else if (!r.Skip(t)) {
      return false;
    }
  }
  return r.error() == nullptr;
}

}  // namespace

Status DecodePointData(std::string_view bytes, otlp::MetricPoint* p, otlp::Arena* arena) {
  WireReader r(bytes);
  uint32_t f;
  WireType t;
  while (r.NextTag(&f, &t)) {
    std::string_view v;
    uint64_t u;
    double d;
    bool ok = true;
    if (t == WireType::kFixed64 && (f == 1 || f == 2 || f == 7)) {
      if (!r.ReadDouble(&d)) break;
      if (f == 1) p->has_min = true, p->min = d;
      if (f == 2) p->has_max = true, p->max = d;
      if (f == 7) p->zero_threshold = d;
    } else if (t == WireType::kVarint && (f == 5 || f == 6 || f == 8 || f == 10)) {
      if (!r.ReadVarint(&u)) break;
      if (f == 5) p->scale = otlp::ZigZagDecode32(u);
      if (f == 6) p->zero_count = u;
      if (f == 8) p->positive.offset = otlp::ZigZagDecode32(u);
      if (f == 10) p->negative.offset = otlp::ZigZagDecode32(u);
    } else if (t == WireType::kLen && f == 3) {
      if (!r.ReadLen(&v)) break;
      ok = UnpackVarints(v, &p->bucket_counts);
    } else if (t == WireType::kLen && f == 4) {
      if (!r.ReadLen(&v)) break;
      ok = UnpackDoubles(v, &p->explicit_bounds);
    } else if (t == WireType::kLen && f == 9) {
      if (!r.ReadLen(&v)) break;
      ok = UnpackVarints(v, &p->positive.bucket_counts);
    } else if (t == WireType::kLen && f == 11) {
      if (!r.ReadLen(&v)) break;
      ok = UnpackVarints(v, &p->negative.bucket_counts);
    } else if (t == WireType::kLen && f == 12) {
      if (!r.ReadLen(&v)) break;
      WireReader q(v);
      uint32_t qf;
      WireType qt;
      double qv = 0, vv = 0;
      while (q.NextTag(&qf, &qt)) {
        if (qt == WireType::kFixed64 && qf == 1)
          ok = ok && q.ReadDouble(&qv);
        else if (qt == WireType::kFixed64 && qf == 2)
          ok = ok && q.ReadDouble(&vv);
        else
          ok = ok && q.Skip(qt);
      }
      ok = ok && q.error() == nullptr;
      p->quantile_values.emplace_back(qv, vv);
    } else if (t == WireType::kLen && f == 13) {
      if (!r.ReadLen(&v)) break;
      ok = DecodeExemplar(v, &p->exemplars.emplace_back(), arena);
    } else if (!r.Skip(t)) {
      break;
    }
    if (!ok) return Corrupt("metric point data");
  }
  if (r.error()) return Corrupt(r.error());
  return Status::Ok();
}

void AppendVarint(std::string* out, uint64_t v) { WireWriter(out).Varint(v); }

void EncodePostings(const std::vector<int64_t>& ids, std::string* out) {
  out->clear();
  WireWriter w(out);
  int64_t prev = 0;
  for (int64_t id : ids) {
    w.Varint(static_cast<uint64_t>(id - prev));
    prev = id;
  }
}

Status DecodePostings(std::string_view bytes, std::vector<int64_t>* out) {
  WireReader r(bytes);
  int64_t prev = 0;
  while (!r.done()) {
    uint64_t d;
    if (!r.ReadVarint(&d)) return Corrupt("posting list");
    prev += static_cast<int64_t>(d);
    out->push_back(prev);
  }
  return Status::Ok();
}

}  // namespace avtrace::store::sqlite
