#pragma once
// Request body decompression for the HTTP front doors: gzip, deflate (zlib-wrapped or raw),
// zstd and identity, with a hard cap on the OUTPUT size.
//
// The cap is enforced while inflating: output grows in bounded steps and decoding stops as soon
// as one byte more than `max_output` would be produced, so a small compressed body that expands
// to gigabytes (a "zip bomb") costs at most `max_output` bytes of memory and is answered with
// PayloadTooLarge (HTTP 413) instead of exhausting the process.
//
// Content-Encoding lists several codings in the order they were applied ("gzip, zstd" means
// gzip first); they are undone in reverse order, each under the same cap. "identity" entries
// are ignored. Unknown codings are UnsupportedMediaType (HTTP 415) naming the coding.
//
// Threads: pure functions, no shared state. Errors:
//   PayloadTooLarge        the decompressed body would exceed max_output
//   InvalidArgument        corrupt, truncated or trailing data ("gzip: unexpected end of data")
//   UnsupportedMediaType   unknown coding

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace avtrace::ingest {

enum class Encoding : uint8_t { kIdentity, kGzip, kDeflate, kZstd };

std::string_view EncodingName(Encoding e);

// Parses a Content-Encoding header value (case-insensitive, comma-separated, whitespace
// tolerated; "x-gzip" is gzip). Returns the codings in the order they were applied, without
// identity entries: an empty vector means the body is not encoded.
Result<std::vector<Encoding>> ParseContentEncoding(std::string_view header);

// Undoes one coding. `input` is borrowed. For kIdentity the cap still applies (a plain body
// larger than max_output is PayloadTooLarge).
Result<std::string> Decompress(Encoding encoding, std::string_view input, size_t max_output);

// Undoes every coding of a parsed Content-Encoding, last applied first. Takes the body by
// value so an unencoded body is returned without a copy.
Result<std::string> DecodeBody(const std::vector<Encoding>& encodings, std::string body,
                               size_t max_output);

}  // namespace avtrace::ingest
