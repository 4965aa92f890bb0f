#pragma once
// Small text helpers shared by the player front doors: RFC 3339 parsing with Go's time.Parse
// (RFC3339Nano) acceptance rules, JSON string escaping, m-trace's URL redaction, random ids.
//
// Ownership: pure functions over borrowed views; results are returned by value.
// Threads: all functions are thread-safe (random ids use OpenSSL's RAND_bytes).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace avtrace::player {

// Parses `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)` into Unix nanoseconds, like Go's
// time.Parse(time.RFC3339Nano) which m-trace uses: any offset, any 1..9 fraction digits.
// Returns false on any deviation (ranges checked, incl. days per month and leap years).
bool ParseRfc3339(std::string_view text, uint64_t* unix_nanos);
// Renders Unix nanoseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ` (what m-trace's SDK sends).
std::string FormatRfc3339Millis(uint64_t unix_nanos);

// Appends `s` as a JSON string literal (with quotes), escaping per RFC 8259.
void AppendJsonString(std::string* out, std::string_view s);

// ---- URL redaction (m-trace url_redaction.go) --------------------------------------------------
// True if `key` is one of m-trace's URL meta keys (url, uri, manifest_url, segment_url, media_url,
// network.url, request.url, response.url; ASCII case-insensitive).
bool IsUrlMetaKey(std::string_view key);
// True if a string meta value must be redacted: URL key, contains "://", or parses as an
// absolute URL (has a scheme, as Go's url.Parse sees it).
bool ShouldRedactMetaValue(std::string_view key, std::string_view value);
// Keeps scheme, host and path; drops userinfo, query and fragment; replaces token-like path
// segments by ":redacted". Unparseable values, or values without scheme and host, become
// ":redacted".
std::string RedactUrl(std::string_view raw);
// True if `raw` already satisfies the redaction rules (the contract of network.redacted_url).
bool IsAlreadyRedactedUrl(std::string_view raw);
// m-trace's token heuristic for one (percent-decoded) path segment.
bool IsTokenLikeSegment(std::string_view segment);

// ---- ids --------------------------------------------------------------------------------------
// Fills `n` random bytes (RAND_bytes; a process-local PRNG if that ever fails).
void RandomBytes(uint8_t* out, size_t n);
// A fresh RFC 4122 version-4 UUID, lower-case with dashes (36 chars).
std::string NewUuidV4();

}  // namespace avtrace::player
