#include "store/job_rules.h"

#include "store/event_data.h"

namespace sluice::store_rules {

Job AsSubmitted(const Job& job) {
  Job fresh;
  fresh.id = job.id;
  fresh.spec = job.spec;
  fresh.created_at = job.created_at;
  return fresh;
}

Status CheckSubmittable(const Job& job) {
  if (job.id.empty()) return InvalidArgument("a submitted job needs an id", "id");
  if (job.created_at <= 0) {
    return InvalidArgument("job " + job.id + " needs created_at", "created_at");
  }
  if (job.spec.tenant.empty()) {
    return InvalidArgument("job " + job.id + " needs a tenant", "tenant");
  }
  if (job.spec.queue.empty()) return InvalidArgument("job " + job.id + " needs a queue", "queue");
  return Status::Ok();
}

JobStatus StatusAfter(AttemptOutcome outcome) {
  switch (outcome) {
    case AttemptOutcome::kDone:
      return JobStatus::kDone;
    case AttemptOutcome::kRetry:
      return JobStatus::kQueued;
    case AttemptOutcome::kFailed:
      return JobStatus::kFailed;
    case AttemptOutcome::kReview:
      return JobStatus::kReview;
    case AttemptOutcome::kExpired:
      return JobStatus::kExpired;
    case AttemptOutcome::kBlocked:
      return JobStatus::kQueued;
  }
  CHECK(false);
  return JobStatus::kFailed;
}

const char* EventTypeOf(AttemptOutcome outcome) {
  switch (outcome) {
    case AttemptOutcome::kDone:
      return "done";
    case AttemptOutcome::kRetry:
      return "retry";
    case AttemptOutcome::kFailed:
      return "failed";
    case AttemptOutcome::kReview:
      return "review";
    case AttemptOutcome::kExpired:
      return "expired";
    case AttemptOutcome::kBlocked:
      return "blocked";
  }
  return "unknown";
}

std::optional<JobError> ErrorAfter(const AttemptFinish& item) {
  // A blocked call was never made: its reason is the job's blocked_reason, not an error.
  if (item.outcome == AttemptOutcome::kDone || item.outcome == AttemptOutcome::kBlocked) {
    return std::nullopt;
  }
  JobError error = item.error;
  if (error.code.empty()) {
    if (item.outcome == AttemptOutcome::kFailed) error.code = "failed";
    if (item.outcome == AttemptOutcome::kExpired) error.code = "deadline_exceeded";
  }
  if (error.code.empty() && error.message.empty()) return std::nullopt;
  return error;
}

Status CheckFinishable(const AttemptFinish& item) {
  if (item.outcome == AttemptOutcome::kDone && item.result_json.empty()) {
    return InvalidArgument("a done attempt of job " + item.job_id + " needs a result",
                           "result_json");
  }
  if (item.outcome == AttemptOutcome::kBlocked && item.error.code.empty()) {
    return InvalidArgument("a blocked attempt of job " + item.job_id + " needs its reason",
                           "error.code");
  }
  // A blocked attempt made no call; a charge names the attempt it was made for.
  for (const CallCharge& c : item.charges) {
    if (item.outcome == AttemptOutcome::kBlocked || c.job_id != item.job_id ||
        c.attempt != item.attempt) {
      return InvalidArgument("a charge of job " + item.job_id + " attempt " +
                                 std::to_string(item.attempt) + " names another call",
                             "charges");
    }
  }
  return Status::Ok();
}

Status CheckReviewable(const ReviewAction& action) {
  if (action.kind == ReviewAction::kApprove && action.result_json.empty()) {
    return InvalidArgument("an approval needs the result it records", "output");
  }
  return Status::Ok();
}

const char* ReviewEventType(const ReviewAction& action) {
  switch (action.kind) {
    case ReviewAction::kApprove:
      return "review_approved";
    case ReviewAction::kReject:
      return "review_rejected";
    case ReviewAction::kRetry:
      return "review_retry";
  }
  return "review";
}

std::string ReviewEventData(const ReviewAction& action) {
  EventData data;
  switch (action.kind) {
    case ReviewAction::kApprove:
      data.add("action", "approve");
      break;
    case ReviewAction::kReject:
      data.add("action", "reject").add("reason", action.reason);
      break;
    case ReviewAction::kRetry:
      data.add("action", "retry");
      if (!action.model.empty()) data.add("model", action.model);
      break;
  }
  return data.str();
}

const char* WebhookEventType(std::string_view event_type) {
  if (event_type == "done" || event_type == "review_approved") return "job.done";
  if (event_type == "failed" || event_type == "review_rejected") return "job.failed";
  if (event_type == "expired") return "job.expired";
  if (event_type == "canceled") return "job.canceled";
  if (event_type == "review") return "job.review";
  // A batch's final transitions (batch_work.cc); batch.in_progress is no end and fires none.
  for (const char* end : {"batch.completed", "batch.failed", "batch.expired", "batch.cancelled"}) {
    if (event_type == end) return end;
  }
  return nullptr;
}

WebhookSubject WebhookSubjectOf(std::string_view webhook_type) {
  return webhook_type.starts_with("batch.") ? WebhookSubject::kBatch : WebhookSubject::kJob;
}

}  // namespace sluice::store_rules
