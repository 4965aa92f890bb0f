#pragma once
// OTLP encoders: a Batch back into an Export*ServiceRequest, as protobuf or as OTLP/JSON.
// Items are grouped by (resource_index, scope_index) in first-seen order.
// Uses: the query API renders stored traces and logs as OTLP/JSON; tests cross-check the two
// decoders (decode(encode(x)) == x); the bench client builds its request bodies.
// Threads: pure functions. Errors: none (a Batch is always encodable).

#include <string>

#include "otlp/model.h"

namespace avtrace::otlp {

std::string EncodeProto(Signal signal, const Batch& batch);
// OTLP/JSON per the spec: lowerCamelCase keys, hex ids, int64 as decimal strings, enums as
// integers, bytes as base64; attribute values as {"stringValue": ...} etc.
std::string EncodeJson(Signal signal, const Batch& batch);
// Lowercase hex of an id.
std::string HexId(const uint8_t* id, size_t n);
template <size_t N>
std::string HexId(const std::array<uint8_t, N>& id) { return HexId(id.data(), N); }
// Parses 2*N hex digits (either case). False on wrong length or a non-hex digit.
bool ParseHexId(std::string_view hex, uint8_t* out, size_t n);

}  // namespace avtrace::otlp
