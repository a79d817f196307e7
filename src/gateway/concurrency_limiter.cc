#include "gateway/concurrency_limiter.h"

#include <algorithm>
#include <utility>

#include "core/status.h"

namespace sluice {

ConcurrencyLimiter::ConcurrencyLimiter(int max_concurrency, Millis decrease_hold)
    : max_concurrency_(max_concurrency), decrease_hold_(decrease_hold), limit_(max_concurrency) {
  CHECK(max_concurrency >= 1);
  CHECK(decrease_hold >= 0);
}

bool ConcurrencyLimiter::try_acquire() {
  MutexLock lock(mu_);
  if (!waiters_.empty() || in_flight_ >= limit_) return false;
  take_slot_locked();
  return true;
}

std::uint64_t ConcurrencyLimiter::wait(std::function<void()> on_slot) {
  CHECK(on_slot != nullptr);
  std::uint64_t token;
  Admitted admitted;
  {
    MutexLock lock(mu_);
    token = next_token_++;
    waiters_.emplace(token, std::move(on_slot));
    // Normally nothing is free (the caller's try_acquire just failed), but a release may have
    // slipped in between; admitting here keeps that slot from idling while this waiter queues.
    admitted = admit_waiters_locked();
  }
  run(admitted);
  return token;
}

bool ConcurrencyLimiter::cancel_wait(std::uint64_t token) {
  MutexLock lock(mu_);
  return waiters_.erase(token) > 0;
}

void ConcurrencyLimiter::release() {
  Admitted admitted;
  {
    MutexLock lock(mu_);
    CHECK(in_flight_ > 0);
    --in_flight_;
    admitted = admit_waiters_locked();
  }
  run(admitted);
}

void ConcurrencyLimiter::on_rate_limited(Millis now) {
  MutexLock lock(mu_);
  hold_until_ = std::max(hold_until_, now + decrease_hold_);
  // The 429s of calls already in flight at a decrease say nothing about the new limit: halve
  // at most once per kDecreaseGap, or a few percent of random 429s would pin the limit at 1.
  if (last_decrease_ >= 0 && now - last_decrease_ < kDecreaseGap) return;
  last_decrease_ = now;
  limit_ = std::max(1, limit_ / 2);
  successes_toward_increase_ = 0;
}

void ConcurrencyLimiter::on_success(Millis now) {
  Admitted admitted;
  {
    MutexLock lock(mu_);
    if (now < hold_until_ || limit_ >= max_concurrency_) return;
    if (++successes_toward_increase_ < limit_) return;
    successes_toward_increase_ = 0;
    ++limit_;
    admitted = admit_waiters_locked();
  }
  run(admitted);
}

int ConcurrencyLimiter::limit() const {
  MutexLock lock(mu_);
  return limit_;
}

int ConcurrencyLimiter::in_flight() const {
  MutexLock lock(mu_);
  return in_flight_;
}

int ConcurrencyLimiter::peak_in_flight() const {
  MutexLock lock(mu_);
  return peak_in_flight_;
}

int ConcurrencyLimiter::waiting() const {
  MutexLock lock(mu_);
  return static_cast<int>(waiters_.size());
}

ConcurrencyLimiter::Admitted ConcurrencyLimiter::admit_waiters_locked() {
  Admitted admitted;
  while (!waiters_.empty() && in_flight_ < limit_) {
    auto first = waiters_.begin();
    admitted.push_back(std::move(first->second));
    waiters_.erase(first);
    take_slot_locked();
  }
  return admitted;
}

void ConcurrencyLimiter::take_slot_locked() {
  ++in_flight_;
  peak_in_flight_ = std::max(peak_in_flight_, in_flight_);
}

void ConcurrencyLimiter::run(Admitted& admitted) {
  for (auto& on_slot : admitted) on_slot();
}

}  // namespace sluice
