// libFuzzer target for the beacon decoder: any body, with a valid token, so every check after
// authentication runs. Accepted batches must be internally consistent.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "player/beacon.h"
#include "player/sessionizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace avtrace::player;
  static auto registry = std::move(ProjectRegistry::Create({}).value());
  static avtrace::FakeClock clock(1714564800ULL * 1'000'000'000ULL);
  static RateLimiter limiter(&clock, {1e12, 1e12, 16});
  static BeaconDecoder decoder(registry.get(), &limiter, nullptr);
  static Sessionizer sessions(&clock, {});
  std::string body(reinterpret_cast<const char*>(data), size);
  BeaconRequest req;
  req.mtrace_token = "demo-token";
  req.body = body;
  req.traceparent = size > 0 && data[0] & 1 ? "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" : "x";
  req.now_unix_nanos = clock.NowUnixNanos();
  BeaconResponse r = decoder.Decode(req);
  if (r.status == 202) {
    if (r.batch.playback_events.empty() || r.batch.playback_events.size() > kMaxBeaconEvents) std::abort();
    std::vector<SessionState> changed;
    sessions.Apply(&r.batch, &changed);
    for (const auto& e : r.batch.playback_events)
      if (e.correlation_id.size() != 36) std::abort();
  } else if (r.body != "{}") {
    std::abort();
  }
  return 0;
}
