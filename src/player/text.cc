#include "player/text.h"

#include "core/civil_time.h"

#include <openssl/rand.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <random>

namespace avtrace::player {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}


bool IsAlnumDash(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's url.PathUnescape: every '%' must be followed by two hex digits.
bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi << 4 | lo));
    i += 2;
  }
  return true;
}

// The parts of a URL as Go's url.Parse splits them (enough for redaction decisions).
struct UrlParts {
  std::string_view scheme;
  bool has_authority = false;
  bool has_userinfo = false;
  std::string_view host;
  std::string_view path;  // escaped form as sent
  bool has_query = false;
  std::string_view query;
  bool has_fragment = false;
  std::string_view fragment;
};

// Go's getScheme: letters first, then letters, digits, '+', '-', '.'; a ':' ends it. A digit or
// other character first (or anywhere before ':') means "no scheme"; a leading ':' is an error.
bool SplitScheme(std::string_view raw, std::string_view* scheme, std::string_view* rest) {
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) continue;
    if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
      if (i == 0) break;
      continue;
    }
    if (c == ':') {
      if (i == 0) return false;  // "missing protocol scheme"
      *scheme = raw.substr(0, i);
      *rest = raw.substr(i + 1);
      return true;
    }
    break;
  }
  *scheme = {};
  *rest = raw;
  return true;
}

bool ValidHost(std::string_view host) {
  // Go rejects bad percent escapes and a non-numeric port; keep those two rules plus spaces.
  size_t colon = std::string_view::npos;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    if (close + 1 < host.size()) {
      if (host[close + 1] != ':') return false;
      colon = close + 1;
    }
  } else {
    colon = host.rfind(':');
  }
  if (colon != std::string_view::npos) {
    for (char c : host.substr(colon + 1))
      if (c < '0' || c > '9') return false;
  }
  for (size_t i = 0; i < host.size(); ++i) {
    char c = host[i];
    if (c == ' ' || c == '<' || c == '>' || c == '"') return false;
    if (c == '%' && (i + 2 >= host.size() || HexValue(host[i + 1]) < 0 || HexValue(host[i + 2]) < 0))
      return false;
  }
  return true;
}

bool ParseUrl(std::string_view raw, UrlParts* u) {
  for (unsigned char c : raw)
    if (c < 0x20 || c == 0x7f) return false;  // Go: "invalid control character in URL"
  std::string_view rest;
  if (!SplitScheme(raw, &u->scheme, &rest)) return false;
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) {
    u->has_fragment = true;
    u->fragment = rest.substr(hash + 1);
    rest = rest.substr(0, hash);
  }
  size_t q = rest.find('?');
  if (q != std::string_view::npos) {
    u->has_query = true;
    u->query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (!u->scheme.empty() && (rest.empty() || rest.front() != '/')) {
    return true;  // opaque ("mailto:x"): no host, no path
  }
  if (rest.substr(0, 2) == "//") {
    u->has_authority = true;
    rest.remove_prefix(2);
    size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    size_t at = authority.rfind('@');
    if (at != std::string_view::npos) {
      u->has_userinfo = true;
      authority = authority.substr(at + 1);
    }
    if (!ValidHost(authority)) return false;
    u->host = authority;
  }
  // Go validates percent escapes in the path.
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' &&
        (i + 2 >= rest.size() || HexValue(rest[i + 1]) < 0 || HexValue(rest[i + 2]) < 0))
      return false;
  }
  u->path = rest;
  return true;
}

constexpr std::string_view kRedacted = ":redacted";

}  // namespace

bool ParseRfc3339(std::string_view s, uint64_t* unix_nanos) {
  int year, month, day, hour, minute, second;
  if (s.size() < 20) return false;
  if (!Digits(s, 0, 4, &year) || s[4] != '-' || !Digits(s, 5, 2, &month) || s[7] != '-' ||
      !Digits(s, 8, 2, &day) || s[10] != 'T' || !Digits(s, 11, 2, &hour) || s[13] != ':' ||
      !Digits(s, 14, 2, &minute) || s[16] != ':' || !Digits(s, 17, 2, &second))
    return false;
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 59)
    return false;
  size_t pos = 19;
  int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    size_t n = pos - start;
    if (n == 0 || n > 9) return false;
    for (size_t i = start; i < pos; ++i) frac = frac * 10 + (s[i] - '0');
    for (size_t i = n; i < 9; ++i) frac *= 10;
  }
  if (pos >= s.size()) return false;
  int64_t offset_seconds = 0;
  if (s[pos] == 'Z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59)
      return false;
    offset_seconds = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return false;
  }
  if (pos != s.size()) return false;
  int64_t secs = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) *
                     86400 +
                 hour * 3600 + minute * 60 + second - offset_seconds;
  if (secs < 0) return false;  // before 1970: not representable in unsigned nanos
  if (secs > 18'000'000'000LL) return false;  // beyond 2540, overflows uint64 nanos
  *unix_nanos = static_cast<uint64_t>(secs) * 1'000'000'000ULL + static_cast<uint64_t>(frac);
  return true;
}

std::string FormatRfc3339Millis(uint64_t unix_nanos) {
  return avtrace::FormatRfc3339Millis(static_cast<int64_t>(unix_nanos / 1'000'000ULL));
}

void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // start of the current run of bytes that need no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

bool IsUrlMetaKey(std::string_view key) {
  for (std::string_view k : {"url", "uri", "manifest_url", "segment_url", "media_url",
                             "network.url", "request.url", "response.url"}) {
    if (EqualsIgnoreCase(key, k)) return true;
  }
  return false;
}

bool ShouldRedactMetaValue(std::string_view key, std::string_view value) {
  if (IsUrlMetaKey(key)) return true;
  if (value.find("://") != std::string_view::npos) return true;
  UrlParts u;
  return ParseUrl(value, &u) && !u.scheme.empty();
}

bool IsTokenLikeSegment(std::string_view seg) {
  if (seg.empty()) return false;
  // Even-length hex of at least 32 characters.
  if (seg.size() >= 32 && seg.size() % 2 == 0) {
    bool hex = true;
    for (char c : seg)
      if (HexValue(c) < 0) {
        hex = false;
        break;
      }
    if (hex) return true;
  }
  // JWT-shaped: three non-empty [A-Za-z0-9_-] blocks separated by dots.
  {
    int blocks = 1;
    size_t len = 0;
    bool ok = true;
    for (char c : seg) {
      if (c == '.') {
        if (len == 0) ok = false;
        ++blocks;
        len = 0;
      } else if (IsAlnumDash(c)) {
        ++len;
      } else {
        ok = false;
        break;
      }
    }
    if (ok && blocks == 3 && len > 0) return true;
  }
  if (seg.size() < 24) return false;
  // m-trace counts allowed runes against the length in bytes; allowed runes are ASCII.
  size_t allowed = 0;
  for (char c : seg)
    if (IsAlnumDash(c)) ++allowed;
  return allowed * 100 >= seg.size() * 80;
}

namespace {
// A segment that fails to percent-decode or looks like a token becomes ":redacted".
std::string RedactPath(std::string_view path) {
  if (path.empty()) return {};
  bool leading = path.front() == '/';
  bool trailing = path.size() > 1 && path.back() == '/';
  size_t b = 0, e = path.size();
  while (b < e && path[b] == '/') ++b;
  while (e > b && path[e - 1] == '/') --e;
  if (b == e) return std::string(path);
  std::string out;
  if (leading) out.push_back('/');
  std::string decoded;
  std::string_view trimmed = path.substr(b, e - b);
  size_t start = 0;
  while (true) {
    size_t slash = trimmed.find('/', start);
    std::string_view seg = trimmed.substr(start, slash == std::string_view::npos ? slash
                                                                                 : slash - start);
    if (!PercentDecode(seg, &decoded) || IsTokenLikeSegment(decoded)) {
      out.append(kRedacted);
    } else {
      out.append(seg);
    }
    if (slash == std::string_view::npos) break;
    out.push_back('/');
    start = slash + 1;
  }
  if (trailing) out.push_back('/');
  return out;
}
}  // namespace

std::string RedactUrl(std::string_view raw) {
  UrlParts u;
  if (!ParseUrl(raw, &u) || u.scheme.empty() || u.host.empty()) return std::string(kRedacted);
  std::string out;
  out.reserve(raw.size());
  for (char c : u.scheme) out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
  out.append("://");
  out.append(u.host);
  out.append(RedactPath(u.path));
  return out;
}

bool IsAlreadyRedactedUrl(std::string_view raw) {
  UrlParts u;
  if (!ParseUrl(raw, &u)) return false;
  if (u.scheme.empty() || u.host.empty() || u.has_userinfo) return false;
  // Go keeps RawQuery/Fragment empty for a bare "?" or "#": those pass, like in m-trace.
  if (!u.query.empty() || !u.fragment.empty()) return false;
  std::string decoded;
  std::string_view path = u.path;
  size_t b = 0, e = path.size();
  while (b < e && path[b] == '/') ++b;
  while (e > b && path[e - 1] == '/') --e;
  std::string_view trimmed = path.substr(b, e - b);
  size_t start = 0;
  while (true) {
    size_t slash = trimmed.find('/', start);
    std::string_view seg = trimmed.substr(start, slash == std::string_view::npos ? slash
                                                                                 : slash - start);
    if (!PercentDecode(seg, &decoded) || IsTokenLikeSegment(decoded)) return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

void RandomBytes(uint8_t* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) == 1) return;
  static std::mutex mu;
  static std::mt19937_64 rng(static_cast<uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch().count()) ^ std::random_device{}());
  std::lock_guard<std::mutex> lock(mu);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(rng());
}

std::string NewUuidV4() {
  uint8_t b[16];
  RandomBytes(b, sizeof(b));
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 15]);
  }
  return out;
}

}  // namespace avtrace::player
