#pragma once
// OTLP request decoders: protobuf (our own zero-copy wire decoder) and OTLP/JSON (simdjson).
// Both fill the same Batch from an Export{Trace,Metrics,Logs}ServiceRequest, and both apply the
// same validation, so a request means the same whatever its encoding.
//
// Input: `body` must already be owned by `batch->arena` (Arena::Adopt) so views into it stay
// valid; the JSON decoder copies unescaped strings into the arena.
// Validation: an undecodable body (bad wire format, wrong wire type, truncation, length past the
// end, invalid UTF-8 in a string field, JSON syntax or type errors, bad hex ids) fails the whole
// request with InvalidArgument and a message naming the field path and the expected form, e.g.
// "resourceSpans[0].scopeSpans[1].spans[3].traceId: expected 32 hex digits". Items that decode
// but are invalid (a span whose trace id is not 16 bytes or all zeros, a span id not 8 bytes or
// zero) are dropped and counted in DecodeOutcome: the OTLP partial-success answer.
//
// Details both decoders share (decode_proto.cc, decode_json.cc, internal.cc):
// - Field paths use the OTLP/JSON names for both encodings.
// - Partial success drops: a span whose traceId / spanId is not 16 / 8 bytes or all zeros, whose
//   parentSpanId is neither empty nor 8 bytes, whose kind is not 0..5 or status.code not 0..2,
//   or that has a link with a malformed id; a log record with a traceId / spanId that is present
//   but not 16 / 8 bytes; a data point with a malformed exemplar id, a Gauge/Sum point with no
//   value (unless flags has NO_RECORDED_VALUE), a histogram whose bucketCounts is neither empty
//   nor explicitBounds + 1 long or whose bounds are not strictly increasing, an exponential
//   histogram with scale outside [-10, 20], a summary quantile outside [0, 1]; all points of a
//   metric with an empty name or an unknown aggregationTemporality. rejected counts items (data
//   points for metrics); error_message holds the first reason with its field path.
// - Resources, scopes and metrics left without items are not added to the batch.
// - AnyValues may nest 32 deep; strings and keys must be valid UTF-8.
// - JSON: keys match in lowerCamelCase or snake_case; 64-bit integers as numbers or decimal
//   strings; enums as integers (or their proto names); doubles also as "NaN", "Infinity",
//   "-Infinity"; ids as hex of either case ("" = absent); bytesValue as standard or URL-safe
//   base64; null values and unknown keys are ignored.
// - On error the batch and outcome are left as they were before the call; on success items are
//   appended (resource/scope indices continue from what the batch already holds).
// Threads: pure functions (the JSON decoder keeps one simdjson parser per thread).

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "otlp/model.h"

namespace avtrace::otlp {

struct DecodeOutcome {
  int64_t rejected = 0;       // items dropped as invalid (rejected_spans / _data_points / _log_records)
  std::string error_message;  // first reason, for partial_success.error_message
};

Status DecodeProto(Signal signal, std::string_view body, Batch* batch, DecodeOutcome* outcome);
Status DecodeJson(Signal signal, std::string_view body, Batch* batch, DecodeOutcome* outcome);

// Responses. ExportServiceResponse for `signal`, with partial_success set when
// outcome.rejected > 0 or a message is present; empty otherwise.
std::string EncodeExportResponseProto(Signal signal, const DecodeOutcome& outcome);
std::string EncodeExportResponseJson(Signal signal, const DecodeOutcome& outcome);
// google.rpc.Status {code, message} for 4xx/5xx answers. `grpc_code` per core ToGrpcStatus.
std::string EncodeRpcStatusProto(int grpc_code, std::string_view message);
std::string EncodeRpcStatusJson(int grpc_code, std::string_view message);

}  // namespace avtrace::otlp
