#include "store/batch_rules.h"

#include <algorithm>

namespace sluice::batch_rules {

namespace {

std::optional<Millis>* TimestampOf(Batch& b, BatchStatus s) {
  switch (s) {
    case BatchStatus::kValidating: return nullptr;  // created_at
    case BatchStatus::kFailed: return &b.failed_at;
    case BatchStatus::kInProgress: return &b.in_progress_at;
    case BatchStatus::kFinalizing: return &b.finalizing_at;
    case BatchStatus::kCompleted: return &b.completed_at;
    case BatchStatus::kExpired: return &b.expired_at;
    case BatchStatus::kCancelling: return &b.cancelling_at;
    case BatchStatus::kCancelled: return &b.cancelled_at;
  }
  return nullptr;
}

}  // namespace

Status ApplyTransition(const BatchTransition& t, Batch& batch) {
  if (std::find(t.from.begin(), t.from.end(), batch.status) == t.from.end()) {
    return FailedPrecondition("batch " + batch.id + " is " + BatchStatusName(batch.status));
  }
  if (!t.owner.empty() && (t.take_lease ? !LeaseAvailable(batch, t.owner, t.now)
                                         : batch.runner != t.owner)) {
    return Aborted("batch " + batch.id + " is leased to " + batch.runner + ", not " + t.owner);
  }
  if (!t.keep_status) {
    batch.status = t.to;
    if (std::optional<Millis>* at = TimestampOf(batch, t.to); at && !at->has_value()) *at = t.now;
  }
  if (t.total) batch.counts.total = *t.total;
  if (!t.errors_json.empty()) batch.errors_json = t.errors_json;
  if (t.outcome) batch.outcome = t.outcome;
  if (t.output_file_id) batch.output_file_id = *t.output_file_id;
  if (t.error_file_id) batch.error_file_id = *t.error_file_id;
  if (t.final_counts) batch.counts = *t.final_counts;
  if (!t.owner.empty()) {
    batch.runner = t.lease_until > 0 ? t.owner : "";
    batch.runner_until = t.lease_until;
  }
  if (IsFinal(batch.status)) {
    // Nothing is left to do for any node.
    batch.runner.clear();
    batch.runner_until = 0;
  }
  return Status::Ok();
}

bool NeedsExclusiveWork(const Batch& batch) {
  switch (batch.status) {
    case BatchStatus::kValidating:
    case BatchStatus::kFinalizing:
      return true;
    case BatchStatus::kInProgress:
    case BatchStatus::kCancelling:
      return !batch.ingested;
    default:
      return false;
  }
}

bool LeaseAvailable(const Batch& batch, const std::string& owner, Millis now) {
  return batch.runner.empty() || batch.runner == owner || batch.runner_until < now;
}

bool LeaseFree(const Batch& batch, Millis now) {
  return batch.runner.empty() || batch.runner_until < now;
}

Status CheckIngestable(const BatchChunk& chunk, const Batch& batch) {
  if (batch.ingested ||
      (batch.status != BatchStatus::kInProgress && batch.status != BatchStatus::kCancelling)) {
    return FailedPrecondition("batch " + batch.id + " is " + BatchStatusName(batch.status) +
                              (batch.ingested ? " and fully ingested" : ""));
  }
  if (batch.runner != chunk.owner) {
    return Aborted("batch " + batch.id + " is no longer leased to " + chunk.owner);
  }
  return Status::Ok();
}

Status CheckCreatable(const Batch& batch) {
  if (batch.id.empty()) return InvalidArgument("a batch needs an id", "id");
  if (batch.tenant.empty()) return InvalidArgument("a batch needs a tenant", "tenant");
  if (batch.created_at <= 0) return InvalidArgument("a batch needs created_at", "created_at");
  if (batch.status != BatchStatus::kValidating) {
    return InvalidArgument("a new batch starts validating", "status");
  }
  return Status::Ok();
}

}  // namespace sluice::batch_rules
