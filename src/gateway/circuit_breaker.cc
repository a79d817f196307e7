#include "gateway/circuit_breaker.h"

#include "core/status.h"

namespace sluice {

const char* CircuitStateName(CircuitState s) {
  switch (s) {
    case CircuitState::kClosed:
      return "closed";
    case CircuitState::kOpen:
      return "open";
    case CircuitState::kHalfOpen:
      return "half_open";
  }
  return "unknown";
}

namespace {

// The least number of failures in a full window whose share reaches `ratio`. Rounded up with a
// little slack so that 0.3 × 10 (3.0000000000000004 in binary) asks for 3 failures, not 4.
int FailuresToOpen(double ratio, int window) {
  const double exact = ratio * window;
  int n = static_cast<int>(exact);
  if (n < exact - 1e-9) ++n;
  return n;
}

}  // namespace

CircuitBreaker::CircuitBreaker(CircuitBreakerOptions options)
    : options_(options),
      failures_to_open_window_(FailuresToOpen(options.failure_ratio, options.window)) {
  CHECK(options_.consecutive_failures >= 0);
  CHECK(options_.window >= 0);
  CHECK(options_.cool_down >= 0);
  CHECK(options_.window == 0 || (options_.failure_ratio > 0 && options_.failure_ratio <= 1));
}

bool CircuitBreaker::allow(Millis now) {
  MutexLock lock(mu_);
  switch (state_locked(now)) {
    case CircuitState::kClosed:
      return true;
    case CircuitState::kOpen:
      return false;
    case CircuitState::kHalfOpen:
      state_ = CircuitState::kHalfOpen;  // may still read kOpen: the cool-down just ended
      if (probe_in_flight_) return false;
      probe_in_flight_ = true;
      return true;
  }
  return false;
}

void CircuitBreaker::record_success(Millis now) { record_outcome(/*failed=*/false, now); }

void CircuitBreaker::record_failure(Millis now) { record_outcome(/*failed=*/true, now); }

void CircuitBreaker::record_canceled(Millis /*now*/) {
  MutexLock lock(mu_);
  if (state_ == CircuitState::kHalfOpen) probe_in_flight_ = false;
}

void CircuitBreaker::record_outcome(bool failed, Millis now) {
  MutexLock lock(mu_);
  switch (state_) {
    case CircuitState::kOpen:
      return;  // a late report; see the header
    case CircuitState::kHalfOpen:
      if (!probe_in_flight_) return;  // a late report; the next allow() sends the probe
      if (failed) {
        open_locked(now);
      } else {
        close_locked();
      }
      return;
    case CircuitState::kClosed:
      break;
  }

  consecutive_failures_ = failed ? consecutive_failures_ + 1 : 0;
  if (options_.window > 0) {
    window_.push_back(failed);
    window_failures_ += failed ? 1 : 0;
    if (static_cast<int>(window_.size()) > options_.window) {
      window_failures_ -= window_.front() ? 1 : 0;
      window_.pop_front();
    }
  }
  if (!failed) return;  // a success never opens the circuit

  const bool too_many_in_a_row =
      options_.consecutive_failures > 0 && consecutive_failures_ >= options_.consecutive_failures;
  const bool too_large_a_share = options_.window > 0 &&
                                 static_cast<int>(window_.size()) == options_.window &&
                                 window_failures_ >= failures_to_open_window_;
  if (too_many_in_a_row || too_large_a_share) open_locked(now);
}

void CircuitBreaker::open_locked(Millis now) {
  state_ = CircuitState::kOpen;
  open_until_ = now + options_.cool_down;
  probe_in_flight_ = false;
  consecutive_failures_ = 0;
  window_.clear();
  window_failures_ = 0;
  ++opened_count_;
}

void CircuitBreaker::close_locked() {
  state_ = CircuitState::kClosed;
  open_until_ = 0;
  probe_in_flight_ = false;
  consecutive_failures_ = 0;
  window_.clear();
  window_failures_ = 0;
}

CircuitState CircuitBreaker::state_locked(Millis now) const {
  if (state_ == CircuitState::kOpen && now >= open_until_) return CircuitState::kHalfOpen;
  return state_;
}

CircuitState CircuitBreaker::state(Millis now) const {
  MutexLock lock(mu_);
  return state_locked(now);
}

Millis CircuitBreaker::open_until() const {
  MutexLock lock(mu_);
  return state_ == CircuitState::kOpen ? open_until_ : 0;
}

std::int64_t CircuitBreaker::opened_count() const {
  MutexLock lock(mu_);
  return opened_count_;
}

CircuitSnapshot CircuitBreaker::snapshot(Millis now) const {
  MutexLock lock(mu_);
  CircuitSnapshot s;
  s.state = state_locked(now);
  s.open_until = s.state == CircuitState::kOpen ? open_until_ : 0;
  s.opened_count = opened_count_;
  s.consecutive_failures = consecutive_failures_;
  s.window_calls = static_cast<int>(window_.size());
  s.window_failures = window_failures_;
  return s;
}

}  // namespace sluice
