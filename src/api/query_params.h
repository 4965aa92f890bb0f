#pragma once
// Query-string parsing for the REST API, with errors that say which parameter is wrong and
// what form was expected, e.g.
//   parameter 'minDuration': expected a duration such as 150ms, 2s, 1m30s or integer
//   nanoseconds, got 'fast'
//
// QueryParams splits and percent-decodes a query string ('+' is a space). Each route declares
// the parameters it knows; an unknown parameter is an error naming it (so a typo such as
// "limt=5" is not silently ignored), except names starting with '_' (cache busters). A
// parameter that is not repeatable may appear once.
//
// Threads: values and pure functions. Errors: InvalidArgument, message as above.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace avtrace::api {

class QueryParams {
 public:
  // Parses `query` (the part after '?'). Fails on malformed percent-encoding.
  static Result<QueryParams> Parse(std::string_view query);

  // Fails naming the first parameter not in `known`.
  Status CheckKnown(std::initializer_list<std::string_view> known) const;

  // The value of a parameter that may appear at most once; nullopt if absent.
  Result<std::optional<std::string>> Single(std::string_view name) const;
  // Every value of a repeatable parameter, in order.
  std::vector<std::string> All(std::string_view name) const;

  // Typed accessors: `fallback` when absent, an error naming the parameter when malformed.
  Result<std::string> String(std::string_view name, std::string fallback = "") const;
  Result<uint64_t> Uint(std::string_view name, uint64_t fallback, uint64_t min, uint64_t max) const;
  Result<double> Double(std::string_view name, double fallback, double min, double max) const;
  // Durations: Go syntax ("150ms", "2s", "1m30s", "1.5h"; units ns, us, µs, ms, s, m, h) or an
  // integer number of nanoseconds.
  Result<uint64_t> DurationNanos(std::string_view name, uint64_t fallback) const;
  // Times: integer Unix nanoseconds or RFC 3339 ("2024-05-01T12:00:00Z",
  // "2024-05-01T12:00:00.250+02:00").
  Result<uint64_t> TimeUnixNanos(std::string_view name, uint64_t fallback) const;
  // Repeatable "key=value" filters (the first '=' splits; the key must not be empty).
  Result<std::vector<store::AttributeFilter>> AttributeFilters(std::string_view name) const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// The parsers behind the typed accessors, for reuse and tests. Each returns false on malformed
// input.
bool ParseGoDuration(std::string_view text, uint64_t* nanos);
bool ParseRfc3339(std::string_view text, uint64_t* unix_nanos);
// Percent-decodes `in` ('+' as space when `plus_is_space`).
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);

}  // namespace avtrace::api
