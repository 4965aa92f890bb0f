#pragma once
// Router: maps (method, path) to a Handler. Routes are exact paths ("/v1/traces") or prefixes
// ("/api/v1/traces/", matching every path that starts with it); an exact route beats a prefix
// route, and a longer prefix beats a shorter one. A path that is routed but not for the request's
// method is "method not allowed" with the methods that are (for the Allow header); a path with
// no route at all is "not found".
//
// Ownership: owns the handlers. Threads: build it on one thread, then Find() is safe from any
// number of threads as long as no route is added (the server freezes it when it starts).
// Errors: adding the same (method, path, kind) twice replaces the earlier handler.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/http_types.h"

namespace avtrace::ingest {

class Router {
 public:
  void Exact(std::string method, std::string path, Handler handler);
  void Prefix(std::string method, std::string prefix, Handler handler);

  struct Match {
    enum class Kind { kFound, kMethodNotAllowed, kNotFound } kind = Kind::kNotFound;
    const Handler* handler = nullptr;  // kFound
    std::string allow;                 // kMethodNotAllowed: e.g. "GET, OPTIONS"
  };
  Match Find(std::string_view method, std::string_view path) const;

 private:
  struct Route {
    std::map<std::string, Handler, std::less<>> by_method;
  };
  Match FromRoute(const Route& route, std::string_view method) const;

  std::map<std::string, Route, std::less<>> exact_;
  // Sorted longest first so the first match is the most specific.
  std::vector<std::pair<std::string, Route>> prefixes_;
};

}  // namespace avtrace::ingest
