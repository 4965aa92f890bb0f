#pragma once
// CMCD (CTA-5004 Common Media Client Data): parsing and mapping onto the playback-event model.
//
// Inputs, as a CDN log forwarder or a player sends them to the collection endpoint:
//   - v1/v2 request mode: the query argument `CMCD=<url-encoded dictionary>` or the four headers
//     CMCD-Request, CMCD-Object, CMCD-Status, CMCD-Session (merged; a key twice is an error);
//   - v2 event mode (CTA-5004-B reporting): a POST body of reports, either `application/cmcd`
//     (one dictionary per line) or JSON (an object or an array of objects).
// Dictionary syntax: `key[=value]` separated by commas; a key alone is boolean true; values are
// integers, decimals, "strings", tokens, ?0/?1 booleans, and (v2) inner lists `(a b;p)`.
// Known keys are type-checked (v1 and v2 types differ for br, bl, mtp, tb, nor) and
// range-checked (enums, sid <= 64, cid/cdn <= 128 chars, non-negative integers); unknown keys
// are kept when custom (contain '-'), and ignored otherwise (forward compatibility).
//
// Mapping (CmcdToEvent): sid -> session_id (required), ts -> client timestamp (else now),
// sn -> sequence_number, e -> event name (v2 event mode; request mode: "cmcd_request"), every
// other key -> meta "cmcd.<key>" (numeric lists: the first item; URLs redacted). QoE reads the
// cmcd.* meta (qoe.h), so CMCD sessions get the same QoE as beacon sessions.
//
// Errors: InvalidArgument with a precise message ("CMCD: key 'br': expected an integer").
// Threads: pure functions.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "otlp/model.h"

namespace avtrace::player {

enum class CmcdType : uint8_t { kInteger, kDecimal, kBoolean, kString, kToken, kList };

struct CmcdItem {  // one inner-list item (parameters dropped after validation)
  CmcdType type = CmcdType::kInteger;
  int64_t integer = 0;
  double decimal = 0;
  std::string text;  // string or token
};

struct CmcdValue {
  CmcdType type = CmcdType::kBoolean;
  int64_t integer = 0;
  double decimal = 0;
  bool boolean = true;
  std::string text;
  std::vector<CmcdItem> list;
};

struct CmcdPair {
  std::string key;
  CmcdValue value;
};

struct CmcdData {
  int version = 1;  // from `v` (absent: 1)
  std::vector<CmcdPair> pairs;
  const CmcdValue* Find(std::string_view key) const;
};

// Parses one dictionary (a header value, the decoded CMCD= value, or one report line) and
// validates it. `version_hint` applies when the dictionary has no `v` key (headers other than
// CMCD-Session carry none).
Result<CmcdData> ParseCmcdDictionary(std::string_view text, int version_hint = 0);
// Finds `CMCD=` in a raw query string (without '?'), percent-decodes and parses it.
// NotFound if the query has no CMCD argument.
Result<CmcdData> ParseCmcdQuery(std::string_view query);
// Merges the four headers (any may be empty).
Result<CmcdData> ParseCmcdHeaders(std::string_view request, std::string_view object,
                                  std::string_view status, std::string_view session);
// A v2 event-mode report body: JSON (object or array) or one dictionary per line.
Result<std::vector<CmcdData>> ParseCmcdReports(std::string_view body);

// Appends one PlaybackEvent for `data` to `batch` (views into batch->arena).
Status CmcdToEvent(const CmcdData& data, std::string_view project_id, uint64_t now_unix_nanos,
                   otlp::Batch* batch);

}  // namespace avtrace::player
