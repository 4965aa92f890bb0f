// libFuzzer target for the POST /api/v1/probes body: any bytes give a spec or a Status, never a
// crash; an accepted spec has a name and a URL and never claims to come from the config.
// (A spec has no allow_private field at all: the server's config alone decides.)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "api/probes_api.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  auto spec = avtrace::api::ParseProbeSpec(body);
  if (spec.ok() && (spec->from_config || spec->name.empty() || spec->url.empty())) std::abort();
  return 0;
}
