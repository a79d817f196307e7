// Requests-per-minute and tokens-per-minute limits of one provider, as reservations: a call
// reserves one request and its estimated tokens (prompt + max_tokens) before it goes out, and
// reconciles with the provider's reported usage after, so concurrent calls cannot overshoot a
// TPM limit. Waiting for a limit is not an attempt. Thread-safe (one mutex); time comes from
// the caller, so it is tested with plain numbers.
//
// Each limit is a token bucket holding at most one minute's worth (`rpm` requests, `tpm`
// tokens), full at the start, refilling continuously at limit/60 000 per millisecond. So a
// quiet provider takes a burst of a full minute's budget at once, and after that calls are
// spaced evenly (rpm = 60: one a second). The arithmetic is exact (integers), so retry_at is
// exact too.
#pragma once

#include <cstdint>
#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "core/time.h"

namespace sluice {

struct RateLimits {
  int rpm = 0;  // 0 = no limit
  int tpm = 0;  // 0 = no limit
};

class RateLimiter {
 public:
  // CHECKs that limits are not negative.
  explicit RateLimiter(RateLimits limits);

  struct Grant {
    bool granted = false;
    Millis retry_at = 0;               // when not granted: the earliest time a retry can succeed
    std::int64_t reserved_tokens = 0;  // when granted: what reconcile() settles
  };

  // Reserves one request and `tokens` (≥ 0) now if both budgets hold that much; otherwise
  // reserves nothing and says when both would, at the current refill rates — a hint, not a
  // promise: another caller may take the budget first, and a reconcile may move it either way.
  // A request larger than the whole TPM budget is granted when the bucket is full (it could
  // never fit otherwise) and takes all of its tokens, leaving the bucket negative: later calls
  // then wait until the overdraft is paid back, so the average still holds to `tpm`.
  Grant try_acquire(std::int64_t tokens, Millis now) EXCLUDES(mu_);

  // After a granted call: gives back (or takes more of) the difference between the reservation
  // and the tokens the provider reported (`actual_tokens` ≥ 0); a failed call that used no
  // tokens passes 0 and gets all of them back. Taking more may leave the bucket negative (later
  // calls wait longer); giving back never fills it beyond one minute's worth. The request itself
  // stays spent. A grant that was not granted is ignored.
  void reconcile(const Grant& grant, std::int64_t actual_tokens, Millis now) EXCLUDES(mu_);

  const RateLimits& limits() const { return limits_; }
  bool unlimited() const { return limits_.rpm == 0 && limits_.tpm == 0; }

 private:
  // One limit. Levels are kept in units of 1/60 000 of a token, so that a refill of
  // per_minute/60 000 tokens a millisecond is the integer `per_minute` per millisecond.
  class Bucket {
   public:
    explicit Bucket(std::int64_t per_minute);
    bool unlimited() const { return per_minute_ == 0; }
    // Adds what `elapsed` ms refill, up to a full bucket.
    void refill(Millis elapsed);
    // Milliseconds until the bucket holds `amount` (capped at the capacity); 0 if it does now.
    Millis wait_for(std::int64_t amount) const;
    // Takes `amount` (or gives it back when negative), never beyond a full bucket.
    void take(std::int64_t amount);

   private:
    std::int64_t per_minute_;
    std::int64_t capacity_;  // per_minute_ × 60 000
    std::int64_t level_;     // may go negative after an overdraft
  };

  void advance_locked(Millis now) REQUIRES(mu_);

  const RateLimits limits_;
  Mutex mu_;
  Bucket requests_ GUARDED_BY(mu_);
  Bucket tokens_ GUARDED_BY(mu_);
  bool started_ GUARDED_BY(mu_) = false;  // the first call anchors the clock
  Millis last_ GUARDED_BY(mu_) = 0;       // time of the latest refill
};

}  // namespace sluice
