#include "store/webhook_rules.h"

#include "store/job_rules.h"

namespace sluice::webhook_rules {

DeliveryState StateAfter(WebhookAttempt::Outcome outcome) {
  switch (outcome) {
    case WebhookAttempt::kDelivered:
      return DeliveryState::kDelivered;
    case WebhookAttempt::kRetry:
      return DeliveryState::kPending;
    case WebhookAttempt::kGaveUp:
      return DeliveryState::kGaveUp;
    case WebhookAttempt::kRefused:
      return DeliveryState::kRefused;
  }
  CHECK(false);
  return DeliveryState::kGaveUp;
}

Millis DueAfter(const WebhookAttempt& attempt) {
  return attempt.outcome == WebhookAttempt::kRetry ? attempt.retry_at : attempt.now;
}

Status CheckRecordable(const WebhookAttempt& attempt) {
  if (attempt.id.empty()) return InvalidArgument("a webhook attempt needs a delivery id", "id");
  if (attempt.lease_owner.empty()) {
    return InvalidArgument("a webhook attempt needs its lease owner", "lease_owner");
  }
  if (attempt.attempt < 1) {
    return InvalidArgument("a webhook attempt is numbered from 1", "attempt");
  }
  if (attempt.outcome == WebhookAttempt::kRetry && attempt.retry_at <= 0) {
    return InvalidArgument("a webhook retry needs a time", "retry_at");
  }
  return Status::Ok();
}

Status LeaseLost(const WebhookAttempt& attempt) {
  return Aborted("webhook delivery " + attempt.id + " is no longer leased to " +
                 attempt.lease_owner + " for attempt " + std::to_string(attempt.attempt));
}

const char* AttemptEventType(std::string_view webhook_type) {
  return store_rules::WebhookSubjectOf(webhook_type) == store_rules::WebhookSubject::kBatch
             ? kBatchAttemptEventType
             : kAttemptEventType;
}

std::string EventData(const WebhookAttempt& attempt) {
  return attempt.event_json.empty() ? std::string("{}") : attempt.event_json;
}

}  // namespace sluice::webhook_rules
