// A provider's concurrent-call cap with AIMD, so a rate-limited provider is not hammered by
// retries:
//   - the limit starts at max_concurrency;
//   - a 429 (on_rate_limited) halves it, never below 1 (multiplicative decrease), and blocks
//     increases until `decrease_hold` after that 429;
//   - after the hold, successes raise it by one per `limit` successes (additive increase: one
//     more slot per round of the current limit), up to max_concurrency.
// Calls already in flight when the limit drops keep their slots; new ones wait until in_flight
// is below the limit again.
//
// Callers that find no free slot wait in FIFO order (the gateway parks them; waiting is not an
// attempt). A slot freed while someone waits goes to the first waiter, never to a newcomer.
// Thread-safe (one mutex). Waiter callbacks run outside the lock, on the thread that made the
// slot free (release, on_success, or wait itself), so they may call back into the limiter.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "core/time.h"

namespace sluice {

class ConcurrencyLimiter {
 public:
  // CHECKs max_concurrency ≥ 1 and decrease_hold ≥ 0.
  explicit ConcurrencyLimiter(int max_concurrency, Millis decrease_hold = 10'000);
  // Dropping queued waiters is fine: their callbacks never run.
  ~ConcurrencyLimiter() = default;

  // Takes a slot now, or returns false; never queues. False also while others wait, so nobody
  // jumps the queue. A true must be paired with one release().
  bool try_acquire() EXCLUDES(mu_);

  // Queues `on_slot` as the last waiter and returns its token (never 0). `on_slot` runs exactly
  // once, when a slot has been taken for it — the caller then owns that slot and must release()
  // it — unless cancel_wait(token) returns true first, in which case it never runs. If a slot is
  // free right away, `on_slot` runs on the calling thread before wait() returns.
  std::uint64_t wait(std::function<void()> on_slot) EXCLUDES(mu_);

  // Removes a waiter that gave up (its deadline passed, its call was canceled). True if it was
  // still queued: its callback will never run and it holds no slot. False if it already got a
  // slot (its callback has run or is about to) or the token is unknown.
  bool cancel_wait(std::uint64_t token) EXCLUDES(mu_);

  // Frees a slot taken by try_acquire() or handed to a waiter. While the first waiter fits under
  // the limit, the slot goes to it and its callback runs here, after the lock is released.
  void release() EXCLUDES(mu_);

  void on_rate_limited(Millis now) EXCLUDES(mu_);  // a 429: decrease
  // A successful call: increase toward max_concurrency once the hold is over. Waiters that now
  // fit under the raised limit get their slots (callbacks run here).
  void on_success(Millis now) EXCLUDES(mu_);

  int limit() const EXCLUDES(mu_);
  int max_concurrency() const { return max_concurrency_; }
  int in_flight() const EXCLUDES(mu_);
  int peak_in_flight() const EXCLUDES(mu_);  // the most slots ever held at once (≤ max_concurrency)
  int waiting() const EXCLUDES(mu_);         // queued waiters

 private:
  using Admitted = std::vector<std::function<void()>>;
  // Hands free slots under the limit to waiters in FIFO order; returns their callbacks, for the
  // caller to run once the lock is released.
  Admitted admit_waiters_locked() REQUIRES(mu_);
  void take_slot_locked() REQUIRES(mu_);
  static void run(Admitted& admitted);

  const int max_concurrency_;
  const Millis decrease_hold_;
  mutable Mutex mu_;
  int limit_ GUARDED_BY(mu_);                          // 1 ≤ limit_ ≤ max_concurrency_
  int successes_toward_increase_ GUARDED_BY(mu_) = 0;  // +1 to limit_ when it reaches limit_
  Millis hold_until_ GUARDED_BY(mu_) = 0;              // no increase before this
  Millis last_decrease_ GUARDED_BY(mu_) = -1;
  static constexpr Millis kDecreaseGap = 1'000;  // at most one halving per this long
  int in_flight_ GUARDED_BY(mu_) = 0;
  int peak_in_flight_ GUARDED_BY(mu_) = 0;
  std::uint64_t next_token_ GUARDED_BY(mu_) = 1;
  // Tokens only grow, so the map's order is arrival order: begin() is the first waiter.
  // Invariant: waiters_ is empty or in_flight_ ≥ limit_.
  std::map<std::uint64_t, std::function<void()>> waiters_ GUARDED_BY(mu_);
};

}  // namespace sluice
