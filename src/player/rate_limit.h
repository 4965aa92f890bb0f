#pragma once
// RateLimiter: m-trace's ingest token bucket, one bucket per dimension value (project id, client
// address, origin; empty values skipped). A batch of n events costs n tokens from every bucket,
// all or nothing; n <= 0 always passes; n > capacity never passes (as in m-trace's code).
//
// Privacy: client addresses (and every other value) are reduced to a salted 64-bit hash before
// they become keys; no raw value is stored. Memory is bounded by max_buckets: when full, buckets
// that have refilled to capacity (indistinguishable from new ones) are dropped first, then the
// least recently used tenth.
//
// Retry-After: on refusal, Allow returns the whole seconds until the emptiest bucket will hold n
// tokens (at least 1; for n > capacity, until the buckets are full).
//
// Threads: thread-safe (one mutex). Lifecycle: the Clock must outlive the limiter.

#include <cstdint>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "player/projects.h"

namespace avtrace::player {

struct RateLimitKey {
  std::string_view project_id;
  std::string_view client_address;
  std::string_view origin;
};

class RateLimiter {
 public:
  RateLimiter(const Clock* clock, RateLimitConfig config);

  // Takes `n` tokens from each dimension's bucket or none. On refusal returns false and sets
  // `*retry_after_seconds`.
  bool Allow(const RateLimitKey& key, int64_t n, uint32_t* retry_after_seconds);

  size_t BucketCount() const;
  uint64_t Evictions() const;

 private:
  struct Bucket {
    double tokens;
    uint64_t last_nanos;
  };
  uint64_t KeyHash(char dimension, std::string_view value) const;
  Bucket& Refill(uint64_t key, uint64_t now);
  void EvictLocked(uint64_t now);

  const Clock* clock_;
  RateLimitConfig config_;
  uint64_t salt_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, Bucket> buckets_;
  uint64_t evictions_ = 0;
};

}  // namespace avtrace::player
