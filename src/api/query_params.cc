#include "api/query_params.h"

#include <charconv>
#include <cmath>

namespace avtrace::api {
namespace {

constexpr size_t kMaxShownValue = 100;

std::string Shown(std::string_view v) {
  if (v.size() <= kMaxShownValue) return std::string(v);
  return std::string(v.substr(0, kMaxShownValue)) + "...";
}

Status BadParam(std::string_view name, std::string_view expected, std::string_view got) {
  return InvalidArgument("parameter '" + std::string(name) + "': expected " +
                         std::string(expected) + ", got '" + Shown(got) + "'");
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool ParseU64(std::string_view s, uint64_t* out) {
  if (!AllDigits(s)) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Days since 1970-01-01 of a proleptic Gregorian date (the civil-from-days inverse).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at s[*pos].
bool Digits(std::string_view s, size_t* pos, size_t n, unsigned* out) {
  if (*pos + n > s.size()) return false;
  unsigned v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

}  // namespace

bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi << 4 | lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

bool ParseGoDuration(std::string_view s, uint64_t* nanos) {
  if (AllDigits(s)) return ParseU64(s, nanos);  // our extension: bare integer nanoseconds
  if (s == "0") {
    *nanos = 0;
    return true;
  }
  if (s.empty()) return false;
  unsigned __int128 total = 0;
  constexpr unsigned __int128 kMax = UINT64_MAX;
  size_t i = 0;
  while (i < s.size()) {
    // number: digits, optional '.', digits; at least one digit overall
    unsigned __int128 whole = 0;
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      whole = whole * 10 + static_cast<unsigned>(s[i] - '0');
      if (whole > kMax) return false;
      ++i;
    }
    bool had_digits = i > start;
    unsigned __int128 frac = 0, scale = 1;
    if (i < s.size() && s[i] == '.') {
      ++i;
      size_t fstart = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (scale < 1'000'000'000'000'000'000ull) {  // digits past 1e-18 cannot matter
          frac = frac * 10 + static_cast<unsigned>(s[i] - '0');
          scale *= 10;
        }
        ++i;
      }
      had_digits = had_digits || i > fstart;
    }
    if (!had_digits) return false;
    size_t ustart = i;
    while (i < s.size() && !(s[i] >= '0' && s[i] <= '9') && s[i] != '.') ++i;
    std::string_view unit = s.substr(ustart, i - ustart);
    uint64_t mult;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs")
      mult = 1'000;
    else if (unit == "ms")
      mult = 1'000'000;
    else if (unit == "s")
      mult = 1'000'000'000;
    else if (unit == "m")
      mult = 60'000'000'000;
    else if (unit == "h")
      mult = 3'600'000'000'000;
    else
      return false;
    total += whole * mult + frac * mult / scale;
    if (total > kMax) return false;
  }
  *nanos = static_cast<uint64_t>(total);
  return true;
}

bool ParseRfc3339(std::string_view s, uint64_t* unix_nanos) {
  size_t p = 0;
  unsigned year, month, day, hour, minute, second;
  if (!Digits(s, &p, 4, &year) || !Expect(s, &p, '-') || !Digits(s, &p, 2, &month) ||
      !Expect(s, &p, '-') || !Digits(s, &p, 2, &day)) {
    return false;
  }
  if (p >= s.size() || (s[p] != 'T' && s[p] != 't' && s[p] != ' ')) return false;
  ++p;
  if (!Digits(s, &p, 2, &hour) || !Expect(s, &p, ':') || !Digits(s, &p, 2, &minute) ||
      !Expect(s, &p, ':') || !Digits(s, &p, 2, &second)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 60) {
    return false;
  }
  if (second == 60) second = 59;  // a leap second; Unix time has none
  uint64_t frac_nanos = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    size_t start = p;
    uint64_t scale = 100'000'000;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      frac_nanos += static_cast<uint64_t>(s[p] - '0') * scale;
      scale /= 10;
      ++p;
    }
    if (p == start) return false;
  }
  int64_t offset_seconds = 0;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    int sign = s[p] == '-' ? -1 : 1;
    ++p;
    unsigned oh, om;
    if (!Digits(s, &p, 2, &oh) || !Expect(s, &p, ':') || !Digits(s, &p, 2, &om) || oh > 23 ||
        om > 59) {
      return false;
    }
    offset_seconds = sign * static_cast<int64_t>(oh * 3600 + om * 60);
  } else {
    return false;
  }
  if (p != s.size()) return false;
  int64_t seconds =
      DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  if (seconds < 0 || seconds > static_cast<int64_t>(UINT64_MAX / 1'000'000'000 - 1)) return false;
  *unix_nanos = static_cast<uint64_t>(seconds) * 1'000'000'000 + frac_nanos;
  return true;
}

Result<QueryParams> QueryParams::Parse(std::string_view query) {
  QueryParams out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key, value;
    if (!PercentDecode(pair.substr(0, eq), true, &key)) {
      return InvalidArgument("query: malformed percent-encoding in '" + Shown(pair) + "'");
    }
    if (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), true, &value)) {
      return InvalidArgument("parameter '" + Shown(key) + "': malformed percent-encoding");
    }
    out.params_.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

Status QueryParams::CheckKnown(std::initializer_list<std::string_view> known) const {
  for (const auto& [k, v] : params_) {
    if (k.starts_with('_')) continue;
    bool ok = false;
    for (std::string_view n : known) ok = ok || k == n;
    if (ok) continue;
    std::string list;
    for (std::string_view n : known) {
      if (!list.empty()) list += ", ";
      list += n;
    }
    return InvalidArgument("unknown parameter '" + Shown(k) +
                           "'; this route accepts: " + (list.empty() ? std::string("none") : list));
  }
  return Status::Ok();
}

Result<std::optional<std::string>> QueryParams::Single(std::string_view name) const {
  std::optional<std::string> found;
  for (const auto& [k, v] : params_) {
    if (k != name) continue;
    if (found) return InvalidArgument("parameter '" + std::string(name) + "' given more than once");
    found = v;
  }
  return found;
}

std::vector<std::string> QueryParams::All(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : params_) {
    if (k == name) out.push_back(v);
  }
  return out;
}

Result<std::string> QueryParams::String(std::string_view name, std::string fallback) const {
  ASSIGN_OR_RETURN(auto v, Single(name));
  return v ? *v : fallback;
}

Result<uint64_t> QueryParams::Uint(std::string_view name, uint64_t fallback, uint64_t min,
                                   uint64_t max) const {
  ASSIGN_OR_RETURN(auto v, Single(name));
  if (!v) return fallback;
  uint64_t n;
  if (!ParseU64(*v, &n) || n < min || n > max) {
    return BadParam(name, "an integer from " + std::to_string(min) + " to " + std::to_string(max),
                    *v);
  }
  return n;
}

Result<double> QueryParams::Double(std::string_view name, double fallback, double min,
                                   double max) const {
  ASSIGN_OR_RETURN(auto v, Single(name));
  if (!v) return fallback;
  double d = 0;
  auto r = std::from_chars(v->data(), v->data() + v->size(), d);
  if (v->empty() || r.ec != std::errc() || r.ptr != v->data() + v->size() || !std::isfinite(d) ||
      d < min || d > max) {
    char range[64];
    snprintf(range, sizeof range, "a number from %g to %g", min, max);
    return BadParam(name, range, *v);
  }
  return d;
}

Result<uint64_t> QueryParams::DurationNanos(std::string_view name, uint64_t fallback) const {
  ASSIGN_OR_RETURN(auto v, Single(name));
  if (!v) return fallback;
  uint64_t n;
  if (!ParseGoDuration(*v, &n)) {
    return BadParam(name, "a duration such as 150ms, 2s, 1m30s or integer nanoseconds", *v);
  }
  return n;
}

Result<uint64_t> QueryParams::TimeUnixNanos(std::string_view name, uint64_t fallback) const {
  ASSIGN_OR_RETURN(auto v, Single(name));
  if (!v) return fallback;
  uint64_t n;
  if (ParseU64(*v, &n) || ParseRfc3339(*v, &n)) return n;
  return BadParam(name, "Unix nanoseconds or an RFC 3339 time such as 2024-05-01T12:00:00Z", *v);
}

Result<std::vector<store::AttributeFilter>> QueryParams::AttributeFilters(
    std::string_view name) const {
  std::vector<store::AttributeFilter> out;
  for (const std::string& v : All(name)) {
    size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0) {
      return BadParam(name, "key=value (e.g. " + std::string(name) + "=stream.id=live-1)", v);
    }
    out.push_back({v.substr(0, eq), v.substr(eq + 1)});
  }
  return out;
}

}  // namespace avtrace::api
