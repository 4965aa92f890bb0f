#include "analyzer/url.h"

#include <cctype>
#include <vector>

namespace avtrace::analyzer {
namespace {

// Length of "scheme:" when `s` starts with one (RFC 3986 §3.1), else 0.
size_t SchemeLength(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return 0;
  for (size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == ':') return i + 1;
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return 0;
  }
  return 0;
}

std::string RemoveDotSegments(std::string_view path) {
  std::vector<std::string_view> out;
  bool absolute = !path.empty() && path[0] == '/';
  size_t i = absolute ? 1 : 0;
  bool trailing = false;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    trailing = false;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing = true;
    } else if (seg == ".") {
      trailing = true;
    } else {
      out.push_back(seg);
    }
    i = j + 1;
  }
  std::string r = absolute ? "/" : "";
  for (size_t k = 0; k < out.size(); ++k) {
    if (k) r += '/';
    r += out[k];
  }
  if (trailing && !r.empty() && r.back() != '/') r += '/';
  return r;
}

}  // namespace

bool IsHttpUrl(std::string_view url) {
  auto lower_prefix = [&](std::string_view p) {
    if (url.size() < p.size()) return false;
    for (size_t i = 0; i < p.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(url[i])) != p[i]) return false;
    return true;
  };
  return lower_prefix("http://") || lower_prefix("https://");
}

std::string ResolveUrl(std::string_view base, std::string_view ref) {
  if (ref.empty()) return std::string(base.substr(0, base.find('#')));
  if (SchemeLength(ref) > 0) return std::string(ref);
  size_t scheme_len = SchemeLength(base);
  std::string_view scheme = base.substr(0, scheme_len);
  std::string_view rest = base.substr(scheme_len);
  std::string_view authority;
  if (rest.substr(0, 2) == "//") {
    size_t end = rest.find_first_of("/?#", 2);
    if (end == std::string_view::npos) end = rest.size();
    authority = rest.substr(0, end);
    rest = rest.substr(end);
  }
  if (ref.substr(0, 2) == "//") return std::string(scheme) + std::string(ref);
  std::string_view base_path = rest.substr(0, rest.find_first_of("?#"));
  std::string prefix = std::string(scheme) + std::string(authority);
  if (ref[0] == '?') return prefix + std::string(base_path) + std::string(ref);
  if (ref[0] == '#') return std::string(base.substr(0, base.find('#'))) + std::string(ref);
  size_t q = ref.find_first_of("?#");
  std::string_view ref_path = ref.substr(0, q);
  std::string_view ref_tail = q == std::string_view::npos ? std::string_view() : ref.substr(q);
  std::string merged;
  if (ref_path[0] == '/') {
    merged = std::string(ref_path);
  } else {
    size_t slash = base_path.rfind('/');
    if (slash == std::string_view::npos) {
      merged = (authority.empty() ? "" : "/") + std::string(ref_path);
    } else {
      merged = std::string(base_path.substr(0, slash + 1)) + std::string(ref_path);
    }
  }
  return prefix + RemoveDotSegments(merged) + std::string(ref_tail);
}

}  // namespace avtrace::analyzer
