#include "otlp/model.h"

#include <cstring>

namespace avtrace::otlp {
namespace {
constexpr size_t kBlockSize = 16 * 1024;
}

std::string_view Arena::Adopt(std::string bytes) {
  bytes_ += bytes.size();
  adopted_.push_back(std::make_unique<std::string>(std::move(bytes)));
  return *adopted_.back();
}

char* Arena::Allocate(size_t n) {
  if (n > left_) {
    // Large requests get their own block so the shared block is not wasted.
    size_t size = n > kBlockSize / 4 ? n : kBlockSize;
    blocks_.push_back(std::make_unique<char[]>(size));
    bytes_ += size;
    if (size != kBlockSize) return blocks_.back().get();
    cursor_ = blocks_.back().get();
    left_ = size;
  }
  char* out = cursor_;
  cursor_ += n;
  left_ -= n;
  return out;
}

std::string_view Arena::Copy(std::string_view bytes) {
  if (bytes.empty()) return {};
  char* dst = Allocate(bytes.size());
  std::memcpy(dst, bytes.data(), bytes.size());
  return {dst, bytes.size()};
}

std::string_view SignalName(Signal s) {
  switch (s) {
    case Signal::kTraces: return "traces";
    case Signal::kMetrics: return "metrics";
    case Signal::kLogs: return "logs";
  }
  return "unknown";
}

size_t Batch::ApproxBytes() const {
  return arena.bytes() + spans.size() * sizeof(Span) + points.size() * sizeof(MetricPoint) +
         logs.size() * sizeof(LogRecord) + resources.size() * sizeof(Resource) +
         scopes.size() * sizeof(Scope) + playback_events.size() * sizeof(PlaybackEvent) +
         session_boundaries.size() * sizeof(SessionBoundary);
}

}  // namespace avtrace::otlp
