// libFuzzer target: the HLS parser and every rule on arbitrary bytes. Must never crash, hang or
// read out of bounds; the report must always render as JSON.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "analyzer/check.h"
#include "analyzer/report/render.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string with_header = "#EXTM3U\n" + std::string(text);
  for (std::string_view input : {text, std::string_view(with_header)}) {
    auto reports = avtrace::analyzer::AnalyzeBytes("fuzz", input);
    (void)avtrace::analyzer::report::RenderJson(reports, "fuzz");
  }
  return 0;
}
