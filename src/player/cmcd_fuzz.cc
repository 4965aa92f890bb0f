// libFuzzer target for the CMCD parsers: the input as a dictionary, a query, headers and a
// report body; whatever parses must map to one event with valid JSON meta, and QoE must take it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <simdjson.h>

#include "player/cmcd.h"
#include "player/qoe.h"

namespace {
void Check(const avtrace::player::CmcdData& d) {
  avtrace::otlp::Batch b;
  if (!avtrace::player::CmcdToEvent(d, "demo", 1714564800ULL * 1'000'000'000ULL, &b).ok()) return;
  const auto& e = b.playback_events.at(0);
  if (!e.meta_json.empty()) {
    simdjson::dom::parser p;
    if (p.parse(std::string(e.meta_json)).error() != simdjson::SUCCESS) std::abort();
  }
  avtrace::player::QoeState s;
  avtrace::player::QoeCalculator::Feed(&s, e.event_name, e.client_unix_nanos, e.meta_json);
  (void)avtrace::player::QoeCalculator::Summarize(s);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace avtrace::player;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto d = ParseCmcdDictionary(in); d.ok()) Check(*d);
  if (auto d = ParseCmcdQuery(in); d.ok()) Check(*d);
  size_t third = size / 3;
  if (auto d = ParseCmcdHeaders(in.substr(0, third), in.substr(third, third), in.substr(2 * third), "");
      d.ok())
    Check(*d);
  if (auto r = ParseCmcdReports(in); r.ok())
    for (const auto& d : *r) Check(d);
  return 0;
}
