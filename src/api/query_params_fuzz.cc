// libFuzzer target for the query API's parameter parsing: the input is used as the query string
// of every route and as a duration and a time; parsing must return a value or a Status, never
// crash, and a parsed series query must respect the point limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/query_api.h"
#include "api/query_params.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace avtrace::api;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)ParseTraceQuery(in);
  (void)ParseLogQuery(in);
  (void)ParseMetricListQuery(in);
  auto series = ParseSeriesQuery("m", in, 1'714'564'800'000'000'000ull);
  if (series.ok() && series->step_nanos != 0 &&
      (series->end_unix_nanos - series->start_unix_nanos) / series->step_nanos > 11'000) {
    std::abort();
  }
  uint64_t v;
  (void)ParseGoDuration(in, &v);
  (void)ParseRfc3339(in, &v);
  int32_t severity;
  (void)ParseSeverity(in, &severity);
  return 0;
}
