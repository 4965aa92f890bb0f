// libFuzzer target for the OTLP protobuf decoder: any input, as each of the three requests; what
// decodes must survive re-encoding both ways (fuzz_roundtrip.h).
#include <cstddef>
#include <cstdint>
#include <string>

#include "otlp/fuzz_roundtrip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace avtrace::otlp;
  for (Signal signal : {Signal::kTraces, Signal::kMetrics, Signal::kLogs}) {
    Batch batch;
    std::string_view body =
        batch.arena.Adopt(std::string(reinterpret_cast<const char*>(data), size));
    DecodeOutcome outcome;
    if (!DecodeProto(signal, body, &batch, &outcome).ok()) continue;
    fuzzing::CheckRoundTrip(signal, batch, outcome);
  }
  return 0;
}
