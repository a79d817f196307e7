// A circuit breaker for one provider+model: after enough failures it stops sending calls there
// for a cool-down, then lets exactly one probe through; the probe's outcome closes or re-opens
// it. Skipping an open circuit is not an attempt: the gateway moves on to the next alias of
// the fallback chain at once. Thread-safe (one mutex); time comes from the caller, so it is
// tested with plain numbers.
//
//   closed    → open       after `consecutive_failures` failures in a row, or when the last
//                          `window` outcomes (a full window) hold a failure share ≥ failure_ratio
//                          (both judged as each failure comes in: a success never opens it)
//   open      → half-open  once `cool_down` has passed (seen by the next allow() or state())
//   half-open → closed     the probe succeeded (history starts empty)
//   half-open → open       the probe failed (a fresh cool-down)
#pragma once

#include <cstdint>
#include <deque>
#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "core/time.h"

namespace sluice {

struct CircuitBreakerOptions {
  int consecutive_failures = 5;  // open after this many failures in a row; 0 = never for this
  double failure_ratio = 0.5;    // or when this share (0, 1] of the last `window` calls failed
  int window = 20;               // calls the ratio is taken over, and the minimum to judge it;
                                 // 0 = no ratio rule
  Millis cool_down = 10'000;     // open → half-open after this long
};

enum class CircuitState { kClosed, kOpen, kHalfOpen };
// "closed", "open", "half_open" (the spelling of /v1/stats).
const char* CircuitStateName(CircuitState s);

// A consistent view for status display.
struct CircuitSnapshot {
  CircuitState state = CircuitState::kClosed;
  Millis open_until = 0;             // while kOpen: when the cool-down ends; else 0
  std::int64_t opened_count = 0;     // times the circuit went to open (re-opens included)
  int consecutive_failures = 0;      // current run of failures (closed only)
  int window_calls = 0;              // outcomes in the sliding window (closed only)
  int window_failures = 0;
};

class CircuitBreaker {
 public:
  // CHECKs that the options make sense (non-negative counts and cool-down, a ratio in (0, 1]
  // when the ratio rule is on): they come from validated config.
  explicit CircuitBreaker(CircuitBreakerOptions options = {});

  // May a call go out now? Closed: yes. Open: no until the cool-down ends; then the breaker is
  // half-open and exactly one caller gets yes (the probe) until that probe reports back with
  // record_success, record_failure or record_canceled. Every yes must be reported.
  bool allow(Millis now) EXCLUDES(mu_);

  // Outcome of a call that allow() let through. Only provider failures count (timeouts, 5xx,
  // 429, connection errors, garbage); a 4xx about the request itself is the caller's fault and
  // should be reported as a success for the circuit's purposes.
  //   closed:    the outcome enters the history; a failure may open the circuit.
  //   open, or half-open with no probe out:
  //              ignored — it is a late report of a call let through before the circuit
  //              opened; it neither shortens nor extends the cool-down.
  //   half-open with the probe out: decides the probe (success → closed with an empty history, failure → open
  //              with a fresh cool-down from `now`). The breaker cannot tell the probe's report
  //              from a late one of a call let through before it opened; both are fresh news of
  //              the provider, so either decides.
  void record_success(Millis now) EXCLUDES(mu_);
  void record_failure(Millis now) EXCLUDES(mu_);
  // The call ended without saying anything about the provider (the caller canceled it, its
  // deadline passed). Closed/open: nothing changes. Half-open: the probe slot is free again,
  // so the next allow() sends a new probe — otherwise a canceled probe would wedge the circuit.
  void record_canceled(Millis now) EXCLUDES(mu_);

  // kOpen turns into kHalfOpen here as soon as the cool-down is over (allow() does the same).
  CircuitState state(Millis now) const EXCLUDES(mu_);
  // When the cool-down ends, while the circuit is open (a time already past once it is due to
  // turn half-open); 0 when it is closed or half-open.
  Millis open_until() const EXCLUDES(mu_);
  std::int64_t opened_count() const EXCLUDES(mu_);
  CircuitSnapshot snapshot(Millis now) const EXCLUDES(mu_);

 private:
  void record_outcome(bool failed, Millis now) EXCLUDES(mu_);
  void open_locked(Millis now) REQUIRES(mu_);
  void close_locked() REQUIRES(mu_);
  CircuitState state_locked(Millis now) const REQUIRES(mu_);

  const CircuitBreakerOptions options_;
  const int failures_to_open_window_;  // failure_ratio × window, rounded up
  mutable Mutex mu_;
  // kOpen stays kOpen here until an allow() after the cool-down.
  CircuitState state_ GUARDED_BY(mu_) = CircuitState::kClosed;
  Millis open_until_ GUARDED_BY(mu_) = 0;
  bool probe_in_flight_ GUARDED_BY(mu_) = false;  // half-open only
  int consecutive_failures_ GUARDED_BY(mu_) = 0;
  std::deque<bool> window_ GUARDED_BY(mu_);       // true = failed, newest last
  int window_failures_ GUARDED_BY(mu_) = 0;       // failures in window_
  std::int64_t opened_count_ GUARDED_BY(mu_) = 0;
};

}  // namespace sluice
