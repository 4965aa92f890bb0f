#include "analyzer/text.h"

#include "core/civil_time.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace avtrace::analyzer {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at s[*pos].
bool Digits(std::string_view s, size_t* pos, int n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}


}  // namespace

bool ParseDecimalInt(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s)
    if (!IsDigit(c)) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool ParseSignedInt(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size()) return false;
  for (size_t k = i; k < s.size(); ++k)
    if (!IsDigit(s[k])) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool ParseDecimalFloat(std::string_view s, double* out, bool signed_ok) {
  if (s.empty() || s.size() > 64) return false;
  size_t i = 0;
  if (signed_ok && s[0] == '-') i = 1;
  size_t digits = 0, dots = 0, fraction_digits = 0;
  uint64_t mantissa = 0;  // the first 19 digits, without the dot
  for (size_t k = i; k < s.size(); ++k) {
    if (IsDigit(s[k])) {
      if (++digits <= 19) mantissa = mantissa * 10 + static_cast<uint64_t>(s[k] - '0');
      fraction_digits += dots;
    } else if (s[k] == '.' && dots == 0 && k > i) {
      ++dots;
    } else {
      return false;
    }
  }
  if (digits == 0) return false;
  // Exact fast path (Clinger): with at most 15 digits the mantissa is an exact double, and so is
  // 10^fraction_digits, so one IEEE division is correctly rounded: the very value from_chars
  // returns. Durations such as "6.006" never reach from_chars.
  static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  if (digits <= 15) {
    double v = static_cast<double>(mantissa) / kPow10[fraction_digits];
    *out = i == 1 ? -v : v;
    return true;
  }
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(*out);
}

bool IsDecimalInteger(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!IsDigit(c)) return false;
  return true;
}

std::optional<double> ParseIso8601(std::string_view s) {
  size_t p = 0;
  int y, mo, d, h, mi, sec;
  if (!Digits(s, &p, 4, &y) || p >= s.size() || s[p++] != '-') return std::nullopt;
  if (!Digits(s, &p, 2, &mo) || p >= s.size() || s[p++] != '-') return std::nullopt;
  if (!Digits(s, &p, 2, &d) || p >= s.size() || (s[p] != 'T' && s[p] != 't')) return std::nullopt;
  ++p;
  if (!Digits(s, &p, 2, &h) || p >= s.size() || s[p++] != ':') return std::nullopt;
  if (!Digits(s, &p, 2, &mi) || p >= s.size() || s[p++] != ':') return std::nullopt;
  if (!Digits(s, &p, 2, &sec)) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  double frac = 0;
  if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
    ++p;
    double scale = 0.1;
    size_t start = p;
    while (p < s.size() && IsDigit(s[p])) {
      frac += (s[p] - '0') * scale;
      scale /= 10;
      ++p;
    }
    if (p == start) return std::nullopt;
  }
  int offset_min = 0;
  if (p < s.size()) {
    char z = s[p];
    if (z == 'Z' || z == 'z') {
      ++p;
    } else if (z == '+' || z == '-') {
      ++p;
      int oh, om = 0;
      if (!Digits(s, &p, 2, &oh)) return std::nullopt;
      if (p < s.size() && s[p] == ':') ++p;
      if (p < s.size() && !Digits(s, &p, 2, &om)) return std::nullopt;
      if (oh > 23 || om > 59) return std::nullopt;
      offset_min = (z == '+' ? 1 : -1) * (oh * 60 + om);
    } else {
      return std::nullopt;
    }
  }
  if (p != s.size()) return std::nullopt;
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  double t = static_cast<double>(days) * 86400.0 + h * 3600.0 + mi * 60.0 + sec + frac;
  return t - offset_min * 60.0;
}

std::string FormatIso8601(double unix_seconds) {
  if (!std::isfinite(unix_seconds)) unix_seconds = 0;
  return FormatRfc3339Millis(static_cast<int64_t>(std::llround(unix_seconds * 1000.0)));
}

std::optional<double> ParseXsDuration(std::string_view s) {
  size_t p = 0;
  bool neg = false;
  if (p < s.size() && s[p] == '-') {
    neg = true;
    ++p;
  }
  if (p >= s.size() || s[p] != 'P') return std::nullopt;
  ++p;
  bool in_time = false, any = false;
  double total = 0;
  while (p < s.size()) {
    if (s[p] == 'T') {
      if (in_time) return std::nullopt;
      in_time = true;
      ++p;
      if (p == s.size()) return std::nullopt;  // "PT" alone
      continue;
    }
    size_t start = p;
    while (p < s.size() && (IsDigit(s[p]) || s[p] == '.')) ++p;
    if (p == start || p >= s.size()) return std::nullopt;
    double v;
    if (!ParseDecimalFloat(s.substr(start, p - start), &v)) return std::nullopt;
    char unit = s[p++];
    double mult;
    if (!in_time) {
      if (unit == 'Y') mult = 365 * 86400.0;
      else if (unit == 'M') mult = 30 * 86400.0;
      else if (unit == 'W') mult = 7 * 86400.0;
      else if (unit == 'D') mult = 86400.0;
      else return std::nullopt;
    } else {
      if (unit == 'H') mult = 3600.0;
      else if (unit == 'M') mult = 60.0;
      else if (unit == 'S') mult = 1.0;
      else return std::nullopt;
    }
    total += v * mult;
    any = true;
  }
  if (!any) return std::nullopt;
  return neg ? -total : total;
}

void AppendJsonEscaped(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out->append("\\\""); break;
        case '\\': out->append("\\\\"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        default:
          if (c < 0x20 || c == 0x7f) {
            out->append("\\u00");
            out->push_back(kHex[c >> 4]);
            out->push_back(kHex[c & 15]);
          } else {
            out->push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    // Validate one UTF-8 sequence; copy it whole or emit U+FFFD for the first bad byte.
    size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    bool ok = len != 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k)
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && len == 2 && c < 0xC2) ok = false;  // overlong
    if (ok) {
      out->append(s.substr(i, len));
      i += len;
    } else {
      out->append("\\ufffd");
      ++i;
    }
  }
}

std::string FormatNumber(double v) {
  if (!std::isfinite(v)) return "0";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];  // to_chars: the digits of "%lld", without printf's cost
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
    return std::string(buf, r.ptr);
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  std::string r(buf);
  while (!r.empty() && r.back() == '0') r.pop_back();
  if (!r.empty() && r.back() == '.') r.pop_back();
  return r;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace avtrace::analyzer
