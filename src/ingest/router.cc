#include "ingest/router.h"

#include <algorithm>

namespace avtrace::ingest {

void Router::Exact(std::string method, std::string path, Handler handler) {
  exact_[std::move(path)].by_method[std::move(method)] = std::move(handler);
}

void Router::Prefix(std::string method, std::string prefix, Handler handler) {
  auto it = std::find_if(prefixes_.begin(), prefixes_.end(),
                         [&](const auto& p) { return p.first == prefix; });
  if (it == prefixes_.end()) {
    prefixes_.emplace_back(std::move(prefix), Route{});
    it = prefixes_.end() - 1;
  }
  it->second.by_method[std::move(method)] = std::move(handler);
  std::stable_sort(prefixes_.begin(), prefixes_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

Router::Match Router::FromRoute(const Route& route, std::string_view method) const {
  Match m;
  auto it = route.by_method.find(method);
  if (it != route.by_method.end()) {
    m.kind = Match::Kind::kFound;
    m.handler = &it->second;
    return m;
  }
  m.kind = Match::Kind::kMethodNotAllowed;
  for (const auto& [name, handler] : route.by_method) {
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += name;
  }
  return m;
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  if (auto it = exact_.find(path); it != exact_.end()) return FromRoute(it->second, method);
  for (const auto& [prefix, route] : prefixes_) {
    if (path.starts_with(prefix)) return FromRoute(route, method);
  }
  return {};
}

}  // namespace avtrace::ingest
