// libFuzzer target for request-body decompression: the first byte picks the coding (and a
// Content-Encoding header is parsed from the input too); whatever the bytes, decoding must stop
// at the output cap and never crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ingest/decompress.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace avtrace::ingest;
  constexpr size_t kCap = 1 << 20;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)ParseContentEncoding(in.substr(0, 64));
  if (in.empty()) return 0;
  const Encoding encodings[] = {Encoding::kIdentity, Encoding::kGzip, Encoding::kDeflate,
                                Encoding::kZstd};
  Encoding e = encodings[static_cast<uint8_t>(in[0]) % 4];
  auto out = Decompress(e, in.substr(1), kCap);
  if (out.ok() && out->size() > kCap) std::abort();
  return 0;
}
