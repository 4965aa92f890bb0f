#pragma once
// CanonicalDump: a Batch as deterministic, human-readable text, for tests and debugging.
//
// Two batches that mean the same OTLP data give the same text, whatever their encoding history:
// items are grouped by resource and scope as the encoders group them, attribute values are
// rendered with their type (s:"text", i:42, d:0.5, b:true, y:<base64>, a:[...], m:{...}), ids in
// hex, doubles exactly (%.17g; NaN as nan). Used to compare proto vs JSON decodes, round trips
// and store read-backs. Not a stable format for anything else.
// Threads: pure function.

#include <string>

#include "otlp/model.h"

namespace avtrace::otlp {

std::string CanonicalDump(Signal signal, const Batch& batch);

}  // namespace avtrace::otlp
