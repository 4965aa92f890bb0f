#include "analyzer/fetch/content_type.h"

#include <algorithm>
#include <array>

namespace avtrace::analyzer::fetch {
namespace {

// RFC 9110 §5.6.2 tchar.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

constexpr std::array<std::string_view, 6> kManifestAllowed = {
    "application/vnd.apple.mpegurl", "application/x-mpegurl", "audio/mpegurl",
    "audio/x-mpegurl", "application/dash+xml", "text/plain"};
constexpr std::array<std::string_view, 3> kManifestTolerated = {
    "application/octet-stream", "application/xml", "text/xml"};
constexpr std::array<std::string_view, 11> kSegmentAllowed = {
    "video/mp4",  "audio/mp4", "application/mp4", "video/iso.segment", "video/mp2t",
    "audio/aac",  "audio/mpeg", "audio/ac3",      "audio/eac3",        "text/vtt",
    "application/octet-stream"};

template <size_t N>
bool In(const std::array<std::string_view, N>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

}  // namespace

std::string MediaType(std::string_view header) {
  std::string_view v = TrimOws(header.substr(0, header.find(';')));
  size_t slash = v.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == v.size()) return {};
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (i == slash) {
      out.push_back('/');
      continue;
    }
    if (!IsTokenChar(c)) return {};
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

TypeVerdict ClassifyContentType(FetchKind kind, std::string_view header, bool present) {
  if (!present) return TypeVerdict::kTolerated;
  std::string type = MediaType(header);
  if (type.empty()) return TypeVerdict::kRejected;
  if (kind == FetchKind::kManifest) {
    if (In(kManifestAllowed, type)) return TypeVerdict::kAllowed;
    if (In(kManifestTolerated, type)) return TypeVerdict::kTolerated;
    return TypeVerdict::kRejected;
  }
  return In(kSegmentAllowed, type) ? TypeVerdict::kAllowed : TypeVerdict::kRejected;
}

}  // namespace avtrace::analyzer::fetch
