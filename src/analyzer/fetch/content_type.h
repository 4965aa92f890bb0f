#pragma once
// Content-Type policy of the fetcher: parses an HTTP Content-Type header value (RFC 9110
// §8.3.1) down to its media type and decides whether a manifest or a segment may carry it.
//
//  manifests  allowed:   application/vnd.apple.mpegurl, application/x-mpegurl, audio/mpegurl,
//                        audio/x-mpegurl, application/dash+xml, text/plain
//             tolerated: application/octet-stream, application/xml, text/xml, none at all
//                        (the check goes on and reports fetch_content_type_tolerated)
//  segments   allowed:   video/mp4, audio/mp4, application/mp4, video/iso.segment, video/mp2t,
//                        audio/aac, audio/mpeg, audio/ac3, audio/eac3, text/vtt,
//                        application/octet-stream
//             tolerated: none at all
//  anything else (text/html error pages, images, ...) is rejected before the body is read.
//
// Threads: pure functions. Errors: a malformed header yields an empty media type (rejected).

#include <string>
#include <string_view>

namespace avtrace::analyzer::fetch {

enum class FetchKind : uint8_t { kManifest, kSegment };
enum class TypeVerdict : uint8_t { kAllowed, kTolerated, kRejected };

// "Application/X-MPEGURL; charset=utf-8" -> "application/x-mpegurl"; "" when `header` has no
// valid type "/" subtype token pair.
std::string MediaType(std::string_view header);

// `header` is the raw header value; `present` false when the response had no Content-Type.
TypeVerdict ClassifyContentType(FetchKind kind, std::string_view header, bool present);

}  // namespace avtrace::analyzer::fetch
