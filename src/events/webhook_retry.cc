#include "events/webhook_retry.h"

#include <algorithm>

namespace sluice {

Millis WebhookRetryDelay(const WebhookRetryPolicy& policy, int attempt, double unit_random) {
  Millis delay = std::max<Millis>(policy.base, 1);
  for (int i = 1; i < attempt && delay < policy.max; ++i) delay *= 2;
  delay = std::min(delay, policy.max);
  const double r = std::clamp(unit_random, 0.0, 1.0);
  return delay / 2 + static_cast<Millis>(static_cast<double>(delay - delay / 2) * r);
}

bool WebhookGivesUp(const WebhookRetryPolicy& policy, int attempt, Millis now, Millis created_at) {
  return attempt >= policy.max_attempts || now - created_at >= policy.max_age;
}

Millis WebhookNextAttemptAt(const WebhookRetryPolicy& policy, int attempt, Millis now,
                            Millis retry_after_ms, double unit_random) {
  Millis wait = WebhookRetryDelay(policy, attempt, unit_random);
  if (retry_after_ms >= 0) wait = std::max(wait, std::min(retry_after_ms, policy.max));
  return now + wait;
}

}  // namespace sluice
