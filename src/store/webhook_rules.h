// The rules both engines apply the same way to the webhook outbox: the persisted delivery
// states, what an attempt's outcome does to its row, and the job event it leaves.
#pragma once

#include <string>
#include <string_view>

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

// The type of the event each recorded attempt appends to its subject's history: "webhook" for
// a job (GET /v1/jobs/{id}/events), "batch.webhook" for a batch, so that the event stream,
// which shows job events as job.<type> and keeps batch.* as it is, names it by its subject.
inline constexpr char kAttemptEventType[] = "webhook";
inline constexpr char kBatchAttemptEventType[] = "batch.webhook";
// The attempt's event type for a delivery of `webhook_type` ("job.done", "batch.completed").
const char* AttemptEventType(std::string_view webhook_type);

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
