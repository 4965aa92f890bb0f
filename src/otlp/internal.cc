#include "otlp/internal.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <unordered_map>

namespace avtrace::otlp::internal {

bool ValidUtf8Slow(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

std::string FieldPath::Render(std::string_view leaf, std::string_view message) const {
  std::string out;
  int n = depth_ < kMax ? depth_ : kMax;
  for (int i = 0; i < n; ++i) {
    if (i) out += '.';
    out += seg_[i].name;
    if (seg_[i].index >= 0) {
      out += '[';
      out += std::to_string(seg_[i].index);
      out += ']';
    }
  }
  if (!leaf.empty()) {
    if (!out.empty() && leaf.front() != '[') out += '.';
    out += leaf;
  }
  if (!out.empty()) out += ": ";
  out += message;
  return out;
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int B64Digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}
}  // namespace

void AppendBase64(std::string* out, std::string_view in) {
  size_t i = 0;
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    char q[4] = {kB64[n >> 18], kB64[(n >> 12) & 63], kB64[(n >> 6) & 63], kB64[n & 63]};
    out->append(q, 4);
  }
  size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t n = p[i] << 16;
    char q[4] = {kB64[n >> 18], kB64[(n >> 12) & 63], '=', '='};
    out->append(q, 4);
  } else if (rest == 2) {
    uint32_t n = (p[i] << 16) | (p[i + 1] << 8);
    char q[4] = {kB64[n >> 18], kB64[(n >> 12) & 63], kB64[(n >> 6) & 63], '='};
    out->append(q, 4);
  }
}

bool DecodeBase64(std::string_view in, std::string* out) {
  out->clear();
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return false;
  out->reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int d = B64Digit(c);
    if (d < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

void AppendDouble(std::string* out, double d) {
  if (std::isnan(d)) {
    *out += "NaN";
    return;
  }
  if (std::isinf(d)) {
    *out += d > 0 ? "Infinity" : "-Infinity";
    return;
  }
  char buf[40];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  (void)ec;  // 40 bytes always suffice for the shortest form of a double
  std::string_view text(buf, static_cast<size_t>(end - buf));
  out->append(text);
  if (text.find_first_of(".e") == std::string_view::npos) *out += ".0";
}

namespace {
// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  if (n == 2 && c < 0xC2) return 0;  // overlong
  if (n == 3) {
    uint32_t cp = ((c & 0x0F) << 12) | ((b(i + 1) & 0x3F) << 6) | (b(i + 2) & 0x3F);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  }
  if (n == 4) {
    uint32_t cp = ((c & 0x07) << 18) | ((b(i + 1) & 0x3F) << 12) | ((b(i + 2) & 0x3F) << 6) |
                  (b(i + 3) & 0x3F);
    if (cp < 0x10000 || cp > 0x10FFFF) return 0;
  }
  return n;
}
}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  bool valid = ValidUtf8(s);
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    // Copy the longest run that needs no escaping in one go.
    size_t run = i;
    while (run < s.size()) {
      unsigned char c = static_cast<unsigned char>(s[run]);
      if (c < 0x20 || c == '"' || c == '\\' || (!valid && c >= 0x80)) break;
      ++run;
    }
    out->append(s.data() + i, run - i);
    i = run;
    if (i >= s.size()) break;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {  // only reached when !valid
      size_t n = Utf8SequenceLength(s, i);
      if (n == 0) {
        *out += "\xEF\xBF\xBD";
        ++i;
      } else {
        out->append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      default: {
        static const char* kHex = "0123456789abcdef";
        char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out->append(esc, 6);
      }
    }
    ++i;
  }
  out->push_back('"');
}

std::vector<ResourceGroup> GroupItems(Signal signal, const Batch& batch) {
  std::vector<ResourceGroup> groups;
  // (resource, scope) -> (group, scope group); batches have few of each, so this stays small.
  std::unordered_map<uint64_t, std::pair<uint32_t, uint32_t>> where;
  std::unordered_map<uint32_t, uint32_t> resource_group;
  size_t n = signal == Signal::kTraces    ? batch.spans.size()
             : signal == Signal::kMetrics ? batch.metrics.size()
                                          : batch.logs.size();
  for (size_t i = 0; i < n; ++i) {
    uint32_t r, s;
    if (signal == Signal::kTraces) {
      r = batch.spans[i].resource_index;
      s = batch.spans[i].scope_index;
    } else if (signal == Signal::kMetrics) {
      r = batch.metrics[i].resource_index;
      s = batch.metrics[i].scope_index;
    } else {
      r = batch.logs[i].resource_index;
      s = batch.logs[i].scope_index;
    }
    uint64_t key = (static_cast<uint64_t>(r) << 32) | s;
    auto it = where.find(key);
    if (it == where.end()) {
      auto rg = resource_group.find(r);
      uint32_t g;
      if (rg == resource_group.end()) {
        g = static_cast<uint32_t>(groups.size());
        groups.push_back(ResourceGroup{r, {}});
        resource_group.emplace(r, g);
      } else {
        g = rg->second;
      }
      auto sg = static_cast<uint32_t>(groups[g].scopes.size());
      groups[g].scopes.push_back(ScopeGroup{s, {}});
      it = where.emplace(key, std::make_pair(g, sg)).first;
    }
    groups[it->second.first].scopes[it->second.second].items.push_back(static_cast<uint32_t>(i));
  }
  return groups;
}

PointIndex IndexPoints(const Batch& batch) {
  PointIndex index;
  size_t m = batch.metrics.size();
  index.offsets.assign(m + 1, 0);
  for (const MetricPoint& p : batch.points)
    if (p.metric_index < m) ++index.offsets[p.metric_index + 1];
  for (size_t i = 0; i < m; ++i) index.offsets[i + 1] += index.offsets[i];
  index.order.resize(index.offsets[m]);
  std::vector<uint32_t> fill(index.offsets.begin(), index.offsets.end() - 1);
  for (size_t i = 0; i < batch.points.size(); ++i) {
    uint32_t mi = batch.points[i].metric_index;
    if (mi < m) index.order[fill[mi]++] = static_cast<uint32_t>(i);
  }
  return index;
}

const char* CheckSpanIds(const Span& span, const char** field) {
  if (IsZeroId(span.trace_id)) {
    *field = "traceId";
    return "must be a 16-byte id, not all zeros";
  }
  if (IsZeroId(span.span_id)) {
    *field = "spanId";
    return "must be an 8-byte id, not all zeros";
  }
  return nullptr;
}

const char* CheckMetric(const Metric& metric, int64_t temporality, const char** field) {
  if (metric.name.empty()) {
    *field = "name";
    return "must not be empty";
  }
  if (temporality < 0 || temporality > kMaxTemporality) {
    *field = "aggregationTemporality";
    return "unknown value (expected 0, 1 or 2)";
  }
  return nullptr;
}

const char* CheckPoint(const Metric& metric, const MetricPoint& p, const char** field) {
  switch (metric.type) {
    case MetricType::kGauge:
    case MetricType::kSum:
      if (p.value_kind == NumberKind::kNone && !(p.flags & 1)) {
        *field = "value";
        return "missing: neither asDouble nor asInt is set and flags lacks NO_RECORDED_VALUE";
      }
      break;
    case MetricType::kHistogram:
      if (!p.bucket_counts.empty() && p.bucket_counts.size() != p.explicit_bounds.size() + 1) {
        *field = "bucketCounts";
        return "must have one more entry than explicitBounds (or none)";
      }
      for (size_t i = 0; i < p.explicit_bounds.size(); ++i) {
        double b = p.explicit_bounds[i];
        if (std::isnan(b) || (i > 0 && !(p.explicit_bounds[i - 1] < b))) {
          *field = "explicitBounds";
          return "must be strictly increasing and not NaN";
        }
      }
      break;
    case MetricType::kExponentialHistogram:
      if (p.scale < kMinExpScale || p.scale > kMaxExpScale) {
        *field = "scale";
        return "must be in [-10, 20]";
      }
      break;
    case MetricType::kSummary:
      for (const auto& [q, v] : p.quantile_values) {
        if (!(q >= 0 && q <= 1)) {
          *field = "quantileValues";
          return "quantile must be in [0, 1]";
        }
      }
      break;
  }
  return nullptr;
}

}  // namespace avtrace::otlp::internal
