#include "gateway/rate_limiter.h"

#include <algorithm>
#include <limits>

#include "core/status.h"

namespace sluice {

namespace {

constexpr std::int64_t kMsPerMinute = 60'000;
// Amounts are clamped here before scaling so that level arithmetic cannot overflow even for an
// absurd token estimate (max_tokens comes from the request): 10^12 tokens × 60 000 < 2^63 / 100.
constexpr std::int64_t kMaxAmount = 1'000'000'000'000;
// A floor for levels, far below anything real, so repeated overdrafts cannot overflow either.
constexpr std::int64_t kMinLevel = std::numeric_limits<std::int64_t>::min() / 4;

}  // namespace

RateLimiter::Bucket::Bucket(std::int64_t per_minute)
    : per_minute_(per_minute), capacity_(per_minute * kMsPerMinute), level_(capacity_) {}

void RateLimiter::Bucket::refill(Millis elapsed) {
  if (unlimited() || elapsed <= 0 || level_ >= capacity_) return;
  const std::int64_t deficit = capacity_ - level_;
  const Millis to_full = (deficit + per_minute_ - 1) / per_minute_;
  level_ = elapsed >= to_full ? capacity_ : level_ + elapsed * per_minute_;
}

Millis RateLimiter::Bucket::wait_for(std::int64_t amount) const {
  if (unlimited()) return 0;
  const std::int64_t need = std::min(amount, per_minute_) * kMsPerMinute;
  if (level_ >= need) return 0;
  return (need - level_ + per_minute_ - 1) / per_minute_;
}

void RateLimiter::Bucket::take(std::int64_t amount) {
  if (unlimited()) return;
  amount = std::clamp(amount, -kMaxAmount, kMaxAmount);
  level_ = std::clamp(level_ - amount * kMsPerMinute, kMinLevel, capacity_);
}

RateLimiter::RateLimiter(RateLimits limits)
    : limits_(limits), requests_(limits.rpm), tokens_(limits.tpm) {
  CHECK(limits.rpm >= 0);
  CHECK(limits.tpm >= 0);
}

void RateLimiter::advance_locked(Millis now) {
  if (!started_) {
    started_ = true;
    last_ = now;
    return;
  }
  if (now <= last_) return;  // a clock that stepped back refills nothing
  requests_.refill(now - last_);
  tokens_.refill(now - last_);
  last_ = now;
}

RateLimiter::Grant RateLimiter::try_acquire(std::int64_t tokens, Millis now) {
  CHECK(tokens >= 0);
  MutexLock lock(mu_);
  advance_locked(now);
  const Millis wait = std::max(requests_.wait_for(1), tokens_.wait_for(tokens));
  if (wait > 0) return Grant{.granted = false, .retry_at = last_ + wait};
  requests_.take(1);
  tokens_.take(tokens);
  return Grant{.granted = true, .retry_at = 0, .reserved_tokens = tokens};
}

void RateLimiter::reconcile(const Grant& grant, std::int64_t actual_tokens, Millis now) {
  CHECK(actual_tokens >= 0);
  if (!grant.granted) return;
  MutexLock lock(mu_);
  advance_locked(now);
  tokens_.take(actual_tokens - grant.reserved_tokens);
}

}  // namespace sluice
