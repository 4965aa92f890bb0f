#pragma once
// URL helpers shared by the manifest parsers and the fetcher: RFC 3986 §5.2 reference
// resolution (with dot-segment removal) and scheme/host splitting.
//
// Threads: pure. Errors: malformed input yields best-effort output, never a crash.

#include <string>
#include <string_view>

namespace avtrace::analyzer {

// Resolves `ref` against `base` (an absolute URL or a filesystem path).
std::string ResolveUrl(std::string_view base, std::string_view ref);
// True for "http://..." and "https://..." (case-insensitive scheme).
bool IsHttpUrl(std::string_view url);

}  // namespace avtrace::analyzer
