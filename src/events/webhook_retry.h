// When a failed webhook delivery is tried again, and when it is given up ([webhooks] keys).
#pragma once

#include "core/time.h"

namespace sluice {

struct WebhookRetryPolicy {
  Millis base = 1'000;
  Millis max = 3'600'000;
  int max_attempts = 36;
  Millis max_age = 86'400'000;
};

// The wait after failed attempt `attempt` (from 1): d = min(base * 2^(attempt-1), max), then
// "equal jitter" into [d/2, d) with `unit_random` in [0, 1): receivers that were down for all
// of Sluice's nodes at once are not hit by every retry in the same instant, and no retry comes
// sooner than half its schedule.
Millis WebhookRetryDelay(const WebhookRetryPolicy& policy, int attempt, double unit_random);

// True when attempt `attempt` (from 1), failed at `now`, was the last one for an event that
// happened at `created_at`: out of attempts, or the event is max_age old.
bool WebhookGivesUp(const WebhookRetryPolicy& policy, int attempt, Millis now, Millis created_at);

// When the next attempt may start: after the jittered delay, and not before a receiver's
// Retry-After (`retry_after_ms` < 0: none), which is capped at policy.max.
Millis WebhookNextAttemptAt(const WebhookRetryPolicy& policy, int attempt, Millis now,
                            Millis retry_after_ms, double unit_random);

}  // namespace sluice
