#include "store/postgres/job_row.h"

#include <array>

#include "store/postgres/queries.h"
#include "store/postgres/text.h"

namespace sluice::pg {

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

// The arrays of kInsertJobs, $1..$21 in this order.
enum SubmitColumn : int {
  kSubmitId,
  kSubmitTenant,
  kSubmitType,
  kSubmitInput,
  kSubmitObjectId,
  kSubmitSource,
  kSubmitPromptVersion,
  kSubmitResponseSchema,
  kSubmitModel,
  kSubmitAllowFallback,
  kSubmitParams,
  kSubmitQueue,
  kSubmitPriority,
  kSubmitDeadline,
  kSubmitRunAt,
  kSubmitMaxAttempts,
  kSubmitCostLimitUsd,
  kSubmitDedupKey,
  kSubmitWebhookUrl,
  kSubmitMetadata,
  kSubmitCreatedAt,
  kSubmitColumnCount,
};

}  // namespace

Job ReadJob(const Rows& rows, int row, int first) {
  auto at = [first](Column c) { return first + c; };
  auto text = [&](Column c) { return rows.text_at(row, at(c)); };
  auto integer = [&](Column c) { return rows.int_at(row, at(c)); };
  auto optional_int = [&](Column c) { return rows.optional_int_at(row, at(c)); };
  Job job;
  job.id = text(kId);
  JobSpec& spec = job.spec;
  spec.tenant = text(kTenant);
  spec.type = text(kType);
  spec.input_json = text(kInput);
  spec.object_id = text(kObjectId);
  spec.source = text(kSource);
  spec.prompt_version = text(kPromptVersion);
  spec.response_schema = text(kResponseSchema);
  spec.model = text(kModel);
  spec.allow_fallback = integer(kAllowFallback) != 0;
  spec.params_json = text(kParams);
  spec.queue = text(kQueue);
  spec.priority = static_cast<int>(integer(kPriority));
  spec.deadline = optional_int(kDeadline);
  spec.run_at = integer(kRunAt);
  spec.max_attempts = static_cast<int>(integer(kMaxAttempts));
  spec.cost_limit_usd = rows.optional_real_at(row, at(kCostLimitUsd));
  spec.dedup_key = text(kDedupKey);
  spec.webhook_url = text(kWebhookUrl);
  spec.metadata_json = text(kMetadata);
  job.status = static_cast<JobStatus>(integer(kStatus));
  job.attempt = static_cast<int>(integer(kAttempt));
  job.created_at = integer(kCreatedAt);
  job.started_at = optional_int(kStartedAt);
  job.finished_at = optional_int(kFinishedAt);
  job.cost_usd = rows.real_at(row, at(kCostUsd));
  if (!rows.is_null(row, at(kErrorCode))) {
    job.error = JobError{text(kErrorCode), text(kErrorMessage)};
  }
  job.next_attempt_at = optional_int(kNextAttemptAt);
  job.lease_owner = text(kLeaseOwner);
  job.lease_until = integer(kLeaseUntil);
  return job;
}

Params SubmitParams(std::span<const Job> jobs) {
  std::array<TextArray, kSubmitColumnCount> columns;
  for (const Job& job : jobs) {
    const JobSpec& spec = job.spec;
    columns[kSubmitId].add(job.id);
    columns[kSubmitTenant].add(spec.tenant);
    columns[kSubmitType].add(spec.type);
    columns[kSubmitInput].add(spec.input_json);
    columns[kSubmitObjectId].add(spec.object_id);
    columns[kSubmitSource].add(spec.source);
    columns[kSubmitPromptVersion].add(spec.prompt_version);
    columns[kSubmitResponseSchema].add(spec.response_schema);
    columns[kSubmitModel].add(spec.model);
    columns[kSubmitAllowFallback].add(spec.allow_fallback ? 1 : 0);
    columns[kSubmitParams].add(spec.params_json);
    columns[kSubmitQueue].add(spec.queue);
    columns[kSubmitPriority].add(spec.priority);
    columns[kSubmitDeadline].add(spec.deadline);
    columns[kSubmitRunAt].add(spec.run_at);
    columns[kSubmitMaxAttempts].add(spec.max_attempts);
    columns[kSubmitCostLimitUsd].add(spec.cost_limit_usd);
    columns[kSubmitDedupKey].add(spec.dedup_key);
    columns[kSubmitWebhookUrl].add(spec.webhook_url);
    columns[kSubmitMetadata].add(spec.metadata_json);
    columns[kSubmitCreatedAt].add(job.created_at);
  }
  Params params;
  for (const TextArray& column : columns) params.add_literal(column.str());
  return params;
}

}  // namespace sluice::pg
