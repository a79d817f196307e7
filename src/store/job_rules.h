// The rules every engine applies the same way when it writes jobs: what a submitted job
// starts as, which outcome leads to which status and event, and the error an outcome leaves.
// Engines differ in SQL, never in these.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/job.h"
#include "core/status.h"
#include "store/store.h"

namespace sluice::store_rules {

// What submit stores: the spec and identity the caller gave, with a fresh job's state.
Job AsSubmitted(const Job& job);
// A job must carry an id, created_at, a tenant and a queue to be stored.
Status CheckSubmittable(const Job& job);
JobStatus StatusAfter(AttemptOutcome outcome);
// The job event an outcome appends: "done", "retry", "failed", "review", "expired", "blocked".
const char* EventTypeOf(AttemptOutcome outcome);
// The error an outcome leaves on the job: none after success, none after a blocked call (its
// reason is the job's blocked_reason, and the job keeps the error it had); a failure without a
// code still says what happened, so that a failed job never shows no reason at all.
std::optional<JobError> ErrorAfter(const AttemptFinish& item);
// A done attempt must carry its result; a blocked one its reason (error.code).
Status CheckFinishable(const AttemptFinish& item);
// An approval must carry the result record it stores.
Status CheckReviewable(const ReviewAction& action);
// The job event a review decision appends: "review_approved", "review_rejected", "review_retry".
const char* ReviewEventType(const ReviewAction& action);
// That event's data: the action, and the reason (reject) or pinned model (retry).
std::string ReviewEventData(const ReviewAction& action);
// The webhook an event fires, or nullptr when it fires none: the events that end a job or
// hand it to a person ("done", "failed", "expired", "canceled", "review", and the review
// decisions "review_approved" → job.done, "review_rejected" → job.failed), and the events that
// end a batch ("batch.completed", "batch.failed", "batch.expired", "batch.cancelled", each its
// own webhook type). Both engines call this from the one place every event is written (their
// transaction's event()), so no transition can forget its webhook.
const char* WebhookEventType(std::string_view event_type);

// What a webhook is about: its data is that job's or that batch's object, and its delivery's
// job_id (the event's subject id) names a job or a batch.
enum class WebhookSubject { kJob, kBatch };
// By the webhook type: "batch.*" is about a batch, everything else about a job.
WebhookSubject WebhookSubjectOf(std::string_view webhook_type);

}  // namespace sluice::store_rules
