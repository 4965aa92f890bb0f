#pragma once
// The property both OTLP fuzz targets check: whatever a decoder accepts, each encoder renders
// into a request that the matching decoder accepts again, without rejects, meaning exactly the
// same (equal canonical dumps). A violation aborts, which libFuzzer reports as a crash.
// Header-only; included by *_fuzz.cc only.

#include <cstdio>
#include <cstdlib>
#include <string>

#include "otlp/decode.h"
#include "otlp/dump.h"
#include "otlp/encode.h"

namespace avtrace::otlp::fuzzing {

[[noreturn]] inline void Die(const char* what, const std::string& a, const std::string& b) {
  std::fprintf(stderr, "round trip failed: %s\n--- expected\n%s\n--- got\n%s\n", what, a.c_str(),
               b.c_str());
  std::abort();
}

inline void CheckRoundTrip(Signal signal, const Batch& batch, const DecodeOutcome& outcome) {
  // The answers must be buildable whatever the outcome holds.
  (void)EncodeExportResponseProto(signal, outcome);
  (void)EncodeExportResponseJson(signal, outcome);
  const std::string dump = CanonicalDump(signal, batch);
  for (bool json : {false, true}) {
    std::string encoded = json ? EncodeJson(signal, batch) : EncodeProto(signal, batch);
    Batch again;
    std::string_view body = again.arena.Adopt(std::move(encoded));
    DecodeOutcome o;
    Status s = json ? DecodeJson(signal, body, &again, &o) : DecodeProto(signal, body, &again, &o);
    const char* kind = json ? "json" : "proto";
    if (!s.ok()) Die(kind, dump, s.ToString() + "\n" + std::string(body));
    if (o.rejected != 0) Die(kind, dump, "rejected: " + o.error_message);
    std::string dump2 = CanonicalDump(signal, again);
    if (dump2 != dump) Die(kind, dump, dump2);
  }
}

}  // namespace avtrace::otlp::fuzzing
