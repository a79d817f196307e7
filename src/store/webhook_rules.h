// The rules both engines apply the same way to the webhook outbox: the persisted delivery
// states, what an attempt's outcome does to its row, and the job event it leaves.
#pragma once

#include <string>

#include "core/status.h"
#include "store/store.h"

namespace sluice::webhook_rules {

// A delivery row's state column. Persisted: append only, never renumber.
enum class DeliveryState : int {
  kPending = 0,
  kDelivered = 1,
  kGaveUp = 2,
  kRefused = 3,
};

// The type of the job event each recorded attempt appends (GET /v1/jobs/{id}/events).
inline constexpr char kAttemptEventType[] = "webhook";

DeliveryState StateAfter(WebhookAttempt::Outcome outcome);
// When the row is due again: retry_at for a retry; for a finished one, the attempt's time.
Millis DueAfter(const WebhookAttempt& attempt);
// An attempt needs an id, a lease owner, a number from 1, and a retry a time to retry at.
Status CheckRecordable(const WebhookAttempt& attempt);
// The per-item answer when the compare-and-set does not match.
Status LeaseLost(const WebhookAttempt& attempt);
// The event's data: the caller's JSON, or {} when it gave none.
std::string EventData(const WebhookAttempt& attempt);

}  // namespace sluice::webhook_rules
