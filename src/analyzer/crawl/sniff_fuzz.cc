// libFuzzer target: the crawler's codec sniffers on arbitrary bytes (an init segment's box tree,
// an MPEG-TS segment's PAT/PMT) and CODECS entries. Must never crash or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "analyzer/crawl/sniff.h"
#include "analyzer/hls/playlist.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace c = avtrace::analyzer::crawl;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)c::SniffMp4Codecs(bytes);
  (void)c::SniffTsCodecs(bytes);
  (void)c::CodecFamilies(avtrace::analyzer::hls::SplitCodecs(bytes));
  return 0;
}
