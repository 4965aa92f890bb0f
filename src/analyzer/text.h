#pragma once
// Small, allocation-free parsers for the value syntaxes the manifests use: HLS decimal-integer
// and decimal-floating-point (RFC 8216bis §4.2), ISO 8601 date-times (HLS PROGRAM-DATE-TIME,
// DASH xs:dateTime), xs:duration (DASH), plus JSON string escaping for the report writers.
//
// Threads: pure functions. Errors: every parser returns false / std::nullopt on malformed input
// and never reads outside the given view.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace avtrace::analyzer {

// RFC 8216bis §4.2 decimal-integer: 1..20 digits, no sign, value < 2^64.
bool ParseDecimalInt(std::string_view s, uint64_t* out);
// Signed integer with optional leading '-' (used for DASH attributes such as S@r).
bool ParseSignedInt(std::string_view s, int64_t* out);
// RFC 8216bis §4.2 decimal-floating-point: digits with an optional '.' fraction; no sign, no
// exponent. `signed_ok` also accepts a leading '-' (signed-decimal-floating-point).
bool ParseDecimalFloat(std::string_view s, double* out, bool signed_ok = false);
// True when `s` is a decimal-integer (no '.') – EXTINF before version 3 must be one.
bool IsDecimalInteger(std::string_view s);

// ISO 8601 / RFC 3339 date-time "YYYY-MM-DDThh:mm:ss[.fff][Z|±hh:mm|±hhmm]" -> seconds since the
// Unix epoch (fractional). A missing zone is read as UTC (xs:dateTime without a zone; DASH
// manifests in the wild omit it). Returns nullopt when malformed.
std::optional<double> ParseIso8601(std::string_view s);
// Formats seconds since the epoch as "YYYY-MM-DDThh:mm:ss.mmmZ".
std::string FormatIso8601(double unix_seconds);

// xs:duration "PnYnMnDTnHnMnS" (years as 365 d, months as 30 d, as DASH players do) -> seconds.
std::optional<double> ParseXsDuration(std::string_view s);

// Appends `s` to `out` as the body of a JSON string (no quotes), escaping per RFC 8259; invalid
// UTF-8 bytes become U+FFFD so that the output is always valid JSON.
void AppendJsonEscaped(std::string_view s, std::string* out);
// Shortest round-trip-free representation with at most 6 fraction digits, never NaN/Inf
// (non-finite values print as 0): deterministic across runs and platforms.
std::string FormatNumber(double v);

// Trims ASCII spaces and tabs on both ends.
std::string_view Trim(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);

}  // namespace avtrace::analyzer
