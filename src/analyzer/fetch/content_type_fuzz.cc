// libFuzzer target: the fetcher's small parsers of untrusted text: the Content-Type header
// (MediaType, ClassifyContentType) and IP literals (ParseIpLiteral, BlockedRange). Must never
// crash; a parsed literal must format and re-parse to the same address.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "analyzer/fetch/address.h"
#include "analyzer/fetch/content_type.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace f = avtrace::analyzer::fetch;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string type = f::MediaType(text);
  if (!type.empty() && f::MediaType(type) != type) std::abort();
  (void)f::ClassifyContentType(f::FetchKind::kManifest, text, true);
  (void)f::ClassifyContentType(f::FetchKind::kSegment, text, true);
  if (auto ip = f::ParseIpLiteral(text)) {
    (void)f::BlockedRange(*ip);
    auto again = f::ParseIpLiteral(f::FormatIp(*ip));
    if (!again || !(*again == *ip)) std::abort();
  }
  return 0;
}
