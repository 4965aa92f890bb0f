// libFuzzer target: the ISO-BMFF box reader and the fMP4/CMAF checks on arbitrary bytes, as an
// init segment, as a media segment with and without that init, as a two-segment sequence, and
// as a Segment Index (sidx).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "analyzer/cmaf/box.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace avtrace::analyzer;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Findings f;
  cmaf::InitSegment init = cmaf::ParseInit(bytes, &f);
  cmaf::MediaSegment a = cmaf::ParseMedia(bytes, &init, &f);
  cmaf::MediaSegment b = cmaf::ParseMedia(bytes, nullptr, &f);
  cmaf::CheckSequence({a, b}, {"a", "b"}, &f);
  for (const auto& [id, t] : init.tracks) (void)cmaf::SegmentDuration(a, init, id);
  (void)cmaf::ParseSidx(bytes);
  return 0;
}
