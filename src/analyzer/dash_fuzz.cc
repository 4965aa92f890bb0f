// libFuzzer target: the DASH MPD parser, rules, segment expansion and live edge on arbitrary
// bytes. Must never crash, hang or allocate without bound (expansion is capped).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "analyzer/dash/mpd.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace avtrace::analyzer;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Findings f;
  dash::Mpd mpd = dash::Parse(text, "https://fuzz.example/x.mpd", &f);
  dash::Check(mpd, 1.78e9, &f);
  for (const auto& p : mpd.periods)
    for (const auto& as : p.adaptation_sets)
      for (const auto& r : as.representations) {
        (void)dash::ExpandSegments(mpd, p, r, 1.78e9);
        (void)dash::LiveEdge(mpd, p, r, 1.78e9);
      }
  return 0;
}
