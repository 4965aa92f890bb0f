#pragma once
// Byte encodings the SQLite store keeps in BLOB columns, and small helpers around them.
//
// Every blob uses the protobuf wire format (otlp/wire.h) with the field numbers listed in
// codec.cc, so it is self-describing, skips unknown fields (forward compatible) and is read
// with the same bounds-checked reader as OTLP input:
//   span "extra"   trace_state, status_message, dropped counts, events, links (NULL if all empty)
//   point "data"   min/max, histogram buckets and bounds, exponential buckets, summary
//                  quantiles, exemplars (NULL if all empty)
//   posting lists  ascending row ids as varint deltas (trace index and term postings)
// Also: a stable 64-bit hash (interning keys; must never change, it is stored), big-endian id
// packing (the 8-byte trace-id prefix as INTEGER) and URL-safe base64 for opaque cursors.
//
// Threads: pure functions. Errors: decoders return Internal (stored data is written by us, so
// malformed bytes mean corruption or a bug).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/base64url.h"
#include "otlp/model.h"

namespace avtrace::store::sqlite {

// A stable, seedable 64-bit hash (multiply-xorshift over 8-byte words). Stored in the database
// as an interning key: never change the algorithm without a schema migration.
uint64_t Hash64(std::string_view bytes, uint64_t seed = 0);
inline uint64_t HashCombine(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdULL;
}

// Search postings are keyed by a hash of the term, not an interned id: building them needs no
// lookup, and a collision only merges two posting lists (search re-checks every candidate span,
// so results stay exact). Stored: never change without a schema migration.
enum class TermKind : int { kAttribute = 0, kSpanName = 1, kErrorStatus = 2 };
inline int64_t TermHash(TermKind kind, std::string_view key, std::string_view value) {
  return static_cast<int64_t>(Hash64(value, Hash64(key, 0x5eed0000u + static_cast<int>(kind))));
}

// The first 8 bytes of an id, big-endian, as a signed 64-bit integer (SQLite INTEGER).
inline int64_t PrefixInt(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return static_cast<int64_t>(v);
}
inline void StorePrefixInt(int64_t v, uint8_t* p) {
  uint64_t u = static_cast<uint64_t>(v);
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(u);
    u >>= 8;
  }
}

// Number of entries in an encoded attribute list (AttrList::count on the way out).
uint32_t CountAttrs(std::string_view encoded);

// Span fields beyond the columns. Returns false (and leaves `out` empty) when there is
// nothing to store, so the column can be NULL.
bool EncodeSpanExtra(const otlp::Span& span, std::string* out);
// Fills those fields of `span`, copying bytes into `arena`.
Status DecodeSpanExtra(std::string_view bytes, otlp::Span* span, otlp::Arena* arena);

// MetricPoint fields beyond the columns (time, start, flags, value, count, sum).
bool EncodePointData(const otlp::MetricPoint& point, std::string* out);
Status DecodePointData(std::string_view bytes, otlp::MetricPoint* point, otlp::Arena* arena);

// Posting lists: ascending ids, delta-varint encoded.
void AppendVarint(std::string* out, uint64_t v);
void EncodePostings(const std::vector<int64_t>& ascending_ids, std::string* out);
Status DecodePostings(std::string_view bytes, std::vector<int64_t>* out);

// Opaque cursors are base64url (core/base64url.h).
using ::avtrace::Base64UrlDecode;
using ::avtrace::Base64UrlEncode;

}  // namespace avtrace::store::sqlite
