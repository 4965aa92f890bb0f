#include "player/rate_limit.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "player/text.h"

namespace avtrace::player {
namespace {
uint64_t Mix(uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace

RateLimiter::RateLimiter(const Clock* clock, RateLimitConfig config)
    : clock_(clock), config_(config) {
  if (config_.capacity <= 0) config_.capacity = 1;
  if (config_.refill_per_second <= 0) config_.refill_per_second = 1;
  if (config_.max_buckets < 3) config_.max_buckets = 3;
  RandomBytes(reinterpret_cast<uint8_t*>(&salt_), sizeof(salt_));
}

uint64_t RateLimiter::KeyHash(char dimension, std::string_view value) const {
  // FNV-1a over the salted value, then a strong finalizer; the salt is per process, so the
  // keys cannot be reversed into addresses by a table of known addresses.
  uint64_t h = 1469598103934665603ULL ^ salt_;
  h = (h ^ static_cast<uint8_t>(dimension)) * 1099511628211ULL;
  for (unsigned char c : value) h = (h ^ c) * 1099511628211ULL;
  return Mix(h ^ value.size());
}

RateLimiter::Bucket& RateLimiter::Refill(uint64_t key, uint64_t now) {
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{config_.capacity, now});
  Bucket& b = it->second;
  if (!inserted && now > b.last_nanos) {
    b.tokens = std::min(config_.capacity,
                        b.tokens + (now - b.last_nanos) * 1e-9 * config_.refill_per_second);
    b.last_nanos = now;
  }
  return b;
}

void RateLimiter::EvictLocked(uint64_t now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const Bucket& b = it->second;
    double tokens = b.tokens + (now - std::min(now, b.last_nanos)) * 1e-9 * config_.refill_per_second;
    if (tokens >= config_.capacity) {
      it = buckets_.erase(it);
      ++evictions_;
    } else {
      ++it;
    }
  }
  if (buckets_.size() + 3 <= config_.max_buckets) return;
  std::vector<std::pair<uint64_t, uint64_t>> by_age;  // (last_nanos, key)
  by_age.reserve(buckets_.size());
  for (const auto& [k, b] : buckets_) by_age.emplace_back(b.last_nanos, k);
  size_t drop = std::max<size_t>(by_age.size() / 10, 3);
  std::nth_element(by_age.begin(), by_age.begin() + static_cast<ptrdiff_t>(drop - 1), by_age.end());
  for (size_t i = 0; i < drop; ++i) buckets_.erase(by_age[i].second);
  evictions_ += drop;
}

bool RateLimiter::Allow(const RateLimitKey& key, int64_t n, uint32_t* retry_after_seconds) {
  if (n <= 0) return true;
  uint64_t keys[3];
  int count = 0;
  if (!key.project_id.empty()) keys[count++] = KeyHash('p', key.project_id);
  if (!key.client_address.empty()) keys[count++] = KeyHash('a', key.client_address);
  if (!key.origin.empty()) keys[count++] = KeyHash('o', key.origin);
  if (count == 0) return true;
  const uint64_t now = clock_->MonotonicNanos();
  std::lock_guard<std::mutex> lock(mu_);
  if (buckets_.size() + count > config_.max_buckets) EvictLocked(now);
  Bucket* b[3];
  double lowest = config_.capacity;
  for (int i = 0; i < count; ++i) {
    b[i] = &Refill(keys[i], now);
    lowest = std::min(lowest, b[i]->tokens);
  }
  const double need = static_cast<double>(n);
  if (lowest < need) {
    double target = std::min(need, config_.capacity);
    double seconds = (target - lowest) / config_.refill_per_second;
    *retry_after_seconds = static_cast<uint32_t>(std::max(1.0, std::ceil(seconds - 1e-9)));
    return false;
  }
  for (int i = 0; i < count; ++i) b[i]->tokens -= need;
  return true;
}

size_t RateLimiter::BucketCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

uint64_t RateLimiter::Evictions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return evictions_;
}

}  // namespace avtrace::player
