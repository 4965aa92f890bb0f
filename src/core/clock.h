#pragma once
// Clock: the one source of time. Injected everywhere so tests can use FakeClock.
//
// Threads: SystemClock is stateless and thread-safe; FakeClock is thread-safe (atomic).
// Lifecycle: a Clock must outlive every object it was given to.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace avtrace {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall time, nanoseconds since the Unix epoch.
  virtual uint64_t NowUnixNanos() const = 0;
  // Monotonic time in nanoseconds from an arbitrary origin, for intervals and deadlines.
  virtual uint64_t MonotonicNanos() const = 0;
};

class SystemClock final : public Clock {
 public:
  uint64_t NowUnixNanos() const override {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  }
  uint64_t MonotonicNanos() const override {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  }
  // A process-wide instance; stateless, so sharing it is not mutable global state.
  static SystemClock& Instance() {
    static SystemClock clock;
    return clock;
  }
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(uint64_t unix_nanos = 1'700'000'000'000'000'000ULL) : now_(unix_nanos) {}
  uint64_t NowUnixNanos() const override { return now_.load(); }
  uint64_t MonotonicNanos() const override { return now_.load(); }
  void Advance(uint64_t nanos) { now_.fetch_add(nanos); }
  void Set(uint64_t unix_nanos) { now_.store(unix_nanos); }

 private:
  std::atomic<uint64_t> now_;
};

}  // namespace avtrace
