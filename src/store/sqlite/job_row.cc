#include "store/sqlite/job_row.h"

#include "store/sqlite/queries.h"

namespace sluice::sqlite {

namespace {

// Column positions in kJobColumns.
enum Column : int {
  kId,
  kTenant,
  kType,
  kInput,
  kObjectId,
  kSource,
  kPromptVersion,
  kResponseSchema,
  kModel,
  kAllowFallback,
  kParams,
  kQueue,
  kPriority,
  kDeadline,
  kRunAt,
  kMaxAttempts,
  kCostLimitUsd,
  kDedupKey,
  kWebhookUrl,
  kMetadata,
  kStatus,
  kAttempt,
  kCreatedAt,
  kStartedAt,
  kFinishedAt,
  kCostUsd,
  kErrorCode,
  kErrorMessage,
  kNextAttemptAt,
  kLeaseOwner,
  kLeaseUntil,
  kColumnCount,
};
static_assert(kColumnCount == kJobColumnCount);

}  // namespace

Job ReadJob(const Statement& row, int first) {
  auto at = [first](Column c) { return first + c; };
  Job job;
  job.id = row.text_at(at(kId));
  JobSpec& spec = job.spec;
  spec.tenant = row.text_at(at(kTenant));
  spec.type = row.text_at(at(kType));
  spec.input_json = row.text_at(at(kInput));
  spec.object_id = row.text_at(at(kObjectId));
  spec.source = row.text_at(at(kSource));
  spec.prompt_version = row.text_at(at(kPromptVersion));
  spec.response_schema = row.text_at(at(kResponseSchema));
  spec.model = row.text_at(at(kModel));
  spec.allow_fallback = row.int_at(at(kAllowFallback)) != 0;
  spec.params_json = row.text_at(at(kParams));
  spec.queue = row.text_at(at(kQueue));
  spec.priority = static_cast<int>(row.int_at(at(kPriority)));
  spec.deadline = row.optional_int_at(at(kDeadline));
  spec.run_at = row.int_at(at(kRunAt));
  spec.max_attempts = static_cast<int>(row.int_at(at(kMaxAttempts)));
  spec.cost_limit_usd = row.optional_real_at(at(kCostLimitUsd));
  spec.dedup_key = row.text_at(at(kDedupKey));
  spec.webhook_url = row.text_at(at(kWebhookUrl));
  spec.metadata_json = row.text_at(at(kMetadata));
  job.status = static_cast<JobStatus>(row.int_at(at(kStatus)));
  job.attempt = static_cast<int>(row.int_at(at(kAttempt)));
  job.created_at = row.int_at(at(kCreatedAt));
  job.started_at = row.optional_int_at(at(kStartedAt));
  job.finished_at = row.optional_int_at(at(kFinishedAt));
  job.cost_usd = row.real_at(at(kCostUsd));
  if (!row.is_null(at(kErrorCode))) {
    job.error = JobError{row.text_at(at(kErrorCode)), row.text_at(at(kErrorMessage))};
  }
  job.next_attempt_at = row.optional_int_at(at(kNextAttemptAt));
  job.lease_owner = row.text_at(at(kLeaseOwner));
  job.lease_until = row.int_at(at(kLeaseUntil));
  return job;
}

void BindJob(Statement& stmt, const Job& job) {
  auto param = [](Column c) { return c + 1; };
  const JobSpec& spec = job.spec;
  stmt.bind_text(param(kId), job.id);
  stmt.bind_text(param(kTenant), spec.tenant);
  stmt.bind_text(param(kType), spec.type);
  stmt.bind_text(param(kInput), spec.input_json);
  stmt.bind_text(param(kObjectId), spec.object_id);
  stmt.bind_text(param(kSource), spec.source);
  stmt.bind_text(param(kPromptVersion), spec.prompt_version);
  stmt.bind_text(param(kResponseSchema), spec.response_schema);
  stmt.bind_text(param(kModel), spec.model);
  stmt.bind_int(param(kAllowFallback), spec.allow_fallback ? 1 : 0);
  stmt.bind_text(param(kParams), spec.params_json);
  stmt.bind_text(param(kQueue), spec.queue);
  stmt.bind_int(param(kPriority), spec.priority);
  stmt.bind_int(param(kDeadline), spec.deadline);
  stmt.bind_int(param(kRunAt), spec.run_at);
  stmt.bind_int(param(kMaxAttempts), spec.max_attempts);
  stmt.bind_real(param(kCostLimitUsd), spec.cost_limit_usd);
  stmt.bind_text(param(kDedupKey), spec.dedup_key);
  stmt.bind_text(param(kWebhookUrl), spec.webhook_url);
  stmt.bind_text(param(kMetadata), spec.metadata_json);
  stmt.bind_int(param(kStatus), static_cast<int>(job.status));
  stmt.bind_int(param(kAttempt), job.attempt);
  stmt.bind_int(param(kCreatedAt), job.created_at);
  stmt.bind_int(param(kStartedAt), job.started_at);
  stmt.bind_int(param(kFinishedAt), job.finished_at);
  stmt.bind_real(param(kCostUsd), job.cost_usd);
  if (job.error) {
    stmt.bind_text(param(kErrorCode), job.error->code);
    stmt.bind_text(param(kErrorMessage), job.error->message);
  } else {
    stmt.bind_null(param(kErrorCode));
    stmt.bind_null(param(kErrorMessage));
  }
  stmt.bind_int(param(kNextAttemptAt), job.next_attempt_at);
  stmt.bind_text(param(kLeaseOwner), job.lease_owner);
  stmt.bind_int(param(kLeaseUntil), job.lease_until);
}

}  // namespace sluice::sqlite
