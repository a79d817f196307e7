// SqliteStore: the writes that move a job through its life. Each public method is one
// transaction on the writer connection under write_mu_, and every state change in it appends
// its event and adjusts the queue counters before the same COMMIT (sqlite/write_txn.h).
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/job_rules.h"
#include "store/sqlite/event_data.h"
#include "store/sqlite/job_row.h"
#include "store/sqlite/queries.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/write_txn.h"

namespace sluice {

using sqlite::EventData;
using sqlite::Statement;
using sqlite::WriteTxn;

namespace {

using store_rules::AsSubmitted;
using store_rules::CheckFinishable;
using store_rules::CheckSubmittable;
using store_rules::ErrorAfter;
using store_rules::EventTypeOf;
using store_rules::StatusAfter;

void BindError(Statement& q, int first, const std::optional<JobError>& error) {
  if (error) {
    q.bind_text(first, error->code);
    q.bind_text(first + 1, error->message);
  } else {
    q.bind_null(first);
    q.bind_null(first + 1);
  }
}

// Runs a statement whose RETURNING clause yields jobs; collects them all.
Result<std::vector<Job>> CollectJobs(Statement& q) {
  std::vector<Job> jobs;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) return jobs;
    jobs.push_back(sqlite::ReadJob(q));
  }
}

}  // namespace

Result<std::vector<SubmitOutcome>> SqliteStore::submit_jobs(std::span<const Job> jobs) {
  for (const Job& job : jobs) RETURN_IF_ERROR(CheckSubmittable(job));
  std::vector<SubmitOutcome> outcomes;
  if (jobs.empty()) return outcomes;
  outcomes.reserve(jobs.size());

  std::lock_guard lock(write_mu_);
  WriteTxn txn(*writer_);
  RETURN_IF_ERROR(txn.begin());
  ASSIGN_OR_RETURN(Statement insert, writer_->prepare(sqlite::kInsertJob.data()));
  for (const Job& job : jobs) {
    SubmitOutcome outcome{.job = AsSubmitted(job)};
    const Job& fresh = outcome.job;
    sqlite::BindJob(insert, fresh);
    insert.bind_int(sqlite::kJobColumnCount + 1, fresh.spec.run_at);  // due_at
    RETURN_IF_ERROR(insert.run());
    insert.reset();
    if (writer_->changes() == 0) {
      // The dedup key is taken, by an older job or by one earlier in this very batch.
      ASSIGN_OR_RETURN(Statement find, writer_->prepare(sqlite::kFindByDedupKey.data()));
      find.bind_text(1, fresh.spec.tenant);
      find.bind_text(2, fresh.spec.dedup_key);
      ASSIGN_OR_RETURN(bool found, find.step());
      CHECK(found);  // the insert just conflicted on this very key, inside this transaction
      outcome.job = sqlite::ReadJob(find);
      outcome.deduplicated = true;
    } else {
      std::string data =
          EventData().add("queue", fresh.spec.queue).add("priority", fresh.spec.priority).str();
      RETURN_IF_ERROR(txn.event(fresh.id, fresh.spec.tenant, fresh.created_at, "submitted", data));
      txn.moved(fresh.spec.queue, std::nullopt, JobStatus::kQueued);
    }
    outcomes.push_back(std::move(outcome));
  }
  RETURN_IF_ERROR(txn.commit());
  return outcomes;
}

Result<std::vector<Job>> SqliteStore::claim_jobs(const ClaimRequest& request) {
  std::vector<Job> claimed;
  if (request.limit <= 0) return claimed;
  if (request.owner.empty()) return InvalidArgument("a claim needs a lease owner", "owner");
  const auto limit = static_cast<std::size_t>(request.limit);

  std::lock_guard lock(write_mu_);
  // A claim is nobody's acknowledgement: it commits without its own fsync (write_txn.h).
  WriteTxn txn(*writer_, sqlite::CommitSync::kUnsynced);
  RETURN_IF_ERROR(txn.begin());

  // Pick first, then update: the picking statements read jobs_claim, which the updates change.
  std::vector<std::int64_t> rowids;
  {
    ASSIGN_OR_RETURN(Statement next_priority, writer_->prepare(sqlite::kNextQueuedPriority));
    ASSIGN_OR_RETURN(Statement candidates, writer_->prepare(sqlite::kClaimCandidates));
    std::int64_t below = std::numeric_limits<std::int64_t>::max();
    while (rowids.size() < limit) {
      next_priority.bind_text(1, request.queue);
      next_priority.bind_int(2, below);
      ASSIGN_OR_RETURN(bool found, next_priority.step());
      if (!found) break;
      std::int64_t priority = next_priority.int_at(0);
      next_priority.reset();

      candidates.bind_text(1, request.queue);
      candidates.bind_int(2, priority);
      candidates.bind_int(3, request.now);
      candidates.bind_int(4, static_cast<std::int64_t>(limit - rowids.size()));
      for (;;) {
        ASSIGN_OR_RETURN(bool row, candidates.step());
        if (!row) break;
        rowids.push_back(candidates.int_at(0));
      }
      candidates.reset();
      below = priority;
    }
  }

  ASSIGN_OR_RETURN(Statement start, writer_->prepare(sqlite::kStartAttempt.data()));
  for (std::int64_t rowid : rowids) {
    start.bind_int(1, rowid);
    start.bind_text(2, request.owner);
    start.bind_int(3, request.lease_until);
    start.bind_int(4, request.now);
    ASSIGN_OR_RETURN(bool row, start.step());
    CHECK(row);  // picked as queued a moment ago in this same transaction
    Job job = sqlite::ReadJob(start);
    RETURN_IF_ERROR(start.run());
    start.reset();
    std::string data = EventData()
                           .add("attempt", job.attempt)
                           .add("lease_owner", job.lease_owner)
                           .add_time("lease_until", job.lease_until)
                           .str();
    RETURN_IF_ERROR(txn.event(job.id, job.spec.tenant, request.now, "started", data));
    txn.moved(job.spec.queue, JobStatus::kQueued, JobStatus::kRunning);
    claimed.push_back(std::move(job));
  }
  RETURN_IF_ERROR(txn.commit());
  return claimed;
}

Result<std::vector<Status>> SqliteStore::finish_attempts(std::span<const AttemptFinish> items) {
  std::vector<Status> outcomes;
  if (items.empty()) return outcomes;
  outcomes.reserve(items.size());
  std::lock_guard lock(write_mu_);
  WriteTxn txn(*writer_);
  RETURN_IF_ERROR(txn.begin());
  for (const AttemptFinish& item : items) {
    Status valid = CheckFinishable(item);
    if (!valid.ok()) {
      outcomes.push_back(std::move(valid));
      continue;
    }
    ASSIGN_OR_RETURN(bool applied, finish_one(txn, item));
    outcomes.push_back(applied ? Status::Ok()
                               : Aborted("job " + item.job_id + " is no longer running attempt " +
                                         std::to_string(item.attempt) + " under lease owner " +
                                         item.lease_owner));
  }
  RETURN_IF_ERROR(txn.commit());
  return outcomes;
}

Result<bool> SqliteStore::finish_one(WriteTxn& txn, const AttemptFinish& item) {
  const JobStatus to = StatusAfter(item.outcome);
  const std::optional<JobError> error = ErrorAfter(item);
  const bool retry = item.outcome == AttemptOutcome::kRetry;
  std::string tenant;
  std::string queue;
  {
    ASSIGN_OR_RETURN(Statement q,
                     txn.conn().prepare(retry ? sqlite::kRetryAttempt : sqlite::kSettleAttempt));
    q.bind_text(1, item.job_id);
    q.bind_int(2, item.attempt);
    q.bind_text(3, item.lease_owner);
    if (retry) {
      q.bind_int(4, item.retry_at);
      BindError(q, 5, error);
      q.bind_real(7, item.cost_usd);
    } else {
      q.bind_int(4, static_cast<int>(to));
      // Review waits for a person: the job is not finished yet.
      if (to == JobStatus::kReview) {
        q.bind_null(5);
      } else {
        q.bind_int(5, item.now);
      }
      BindError(q, 6, error);
      q.bind_real(8, item.cost_usd);
    }
    ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) return false;
    tenant = q.text_at(0);
    queue = q.text_at(1);
    RETURN_IF_ERROR(q.run());
  }
  if (!item.attempt_json.empty()) {
    ASSIGN_OR_RETURN(Statement q, txn.conn().prepare(sqlite::kPutAttempt));
    q.bind_text(1, item.job_id);
    q.bind_int(2, item.attempt);
    q.bind_text(3, item.attempt_json);
    RETURN_IF_ERROR(q.run());
  }
  if (!item.result_json.empty() && (to == JobStatus::kDone || to == JobStatus::kReview)) {
    ASSIGN_OR_RETURN(Statement q, txn.conn().prepare(sqlite::kPutResult));
    q.bind_text(1, item.job_id);
    q.bind_text(2, item.result_json);
    RETURN_IF_ERROR(q.run());
  }
  EventData data;
  data.add("attempt", item.attempt);
  if (error) data.add_error(*error);
  if (retry) data.add_time("retry_at", item.retry_at);
  RETURN_IF_ERROR(txn.event(item.job_id, tenant, item.now, EventTypeOf(item.outcome), data.str()));
  txn.moved(queue, JobStatus::kRunning, to);
  return true;
}

Result<int> SqliteStore::renew_leases(const std::string& owner, Millis lease_until) {
  std::lock_guard lock(write_mu_);
  // One statement in autocommit mode is its own transaction. A renewal is no state change, so
  // it leaves no event: the history would be all heartbeats.
  ASSIGN_OR_RETURN(Statement q, writer_->prepare(sqlite::kRenewLeases));
  q.bind_text(1, owner);
  q.bind_int(2, lease_until);
  RETURN_IF_ERROR(q.run());
  return writer_->changes();
}

Result<int> SqliteStore::release_leases(const std::string& owner, Millis now) {
  struct Released {
    std::string id, tenant, queue;
    int attempt;
  };
  std::vector<Released> released;
  std::lock_guard lock(write_mu_);
  WriteTxn txn(*writer_);
  RETURN_IF_ERROR(txn.begin());
  {
    ASSIGN_OR_RETURN(Statement q, writer_->prepare(sqlite::kReleaseLeases));
    q.bind_text(1, owner);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.step());
      if (!row) break;
      released.push_back({q.text_at(0), q.text_at(1), q.text_at(2), static_cast<int>(q.int_at(3))});
    }
  }
  for (const Released& job : released) {
    // The event names the attempt that was given up, not the restored count.
    std::string data = EventData().add("attempt", job.attempt + 1).str();
    RETURN_IF_ERROR(txn.event(job.id, job.tenant, now, "released", data));
    txn.moved(job.queue, JobStatus::kRunning, JobStatus::kQueued);
  }
  RETURN_IF_ERROR(txn.commit());
  return static_cast<int>(released.size());
}

Result<std::vector<Job>> SqliteStore::reap_expired_leases(Millis now) {
  std::lock_guard lock(write_mu_);
  WriteTxn txn(*writer_);
  RETURN_IF_ERROR(txn.begin());
  std::vector<Job> reaped;
  {
    ASSIGN_OR_RETURN(Statement q, writer_->prepare(sqlite::kReapExpiredLeases.data()));
    q.bind_int(1, now);
    ASSIGN_OR_RETURN(reaped, CollectJobs(q));
  }
  for (const Job& job : reaped) {
    std::string data =
        EventData().add("attempt", job.attempt).add("next", JobStatusName(job.status)).str();
    RETURN_IF_ERROR(txn.event(job.id, job.spec.tenant, now, "lease_expired", data));
    if (job.status == JobStatus::kFailed) {
      // Failing is a state change of its own: whoever follows "failed" events sees it too.
      EventData failed;
      failed.add("attempt", job.attempt);
      if (job.error) failed.add_error(*job.error);
      RETURN_IF_ERROR(txn.event(job.id, job.spec.tenant, now, "failed", failed.str()));
    }
    txn.moved(job.spec.queue, JobStatus::kRunning, job.status);
  }
  RETURN_IF_ERROR(txn.commit());
  return reaped;
}

Result<std::vector<Job>> SqliteStore::expire_overdue(Millis now) {
  std::lock_guard lock(write_mu_);
  WriteTxn txn(*writer_);
  RETURN_IF_ERROR(txn.begin());
  std::vector<Job> expired;
  {
    ASSIGN_OR_RETURN(Statement q, writer_->prepare(sqlite::kExpireOverdue.data()));
    q.bind_int(1, now);
    ASSIGN_OR_RETURN(expired, CollectJobs(q));
  }
  for (const Job& job : expired) {
    EventData data;
    if (job.error) data.add_error(*job.error);
    RETURN_IF_ERROR(txn.event(job.id, job.spec.tenant, now, "expired", data.str()));
    txn.moved(job.spec.queue, JobStatus::kQueued, JobStatus::kExpired);
  }
  RETURN_IF_ERROR(txn.commit());
  return expired;
}

Result<Job> SqliteStore::cancel_job(const std::string& tenant, const std::string& id, Millis now) {
  std::lock_guard lock(write_mu_);
  WriteTxn txn(*writer_);
  RETURN_IF_ERROR(txn.begin());
  JobStatus from = JobStatus::kQueued;
  {
    ASSIGN_OR_RETURN(Statement q, writer_->prepare(sqlite::kJobStatusAndQueue));
    q.bind_text(1, id);
    q.bind_text(2, tenant);
    ASSIGN_OR_RETURN(bool found, q.step());
    if (!found) return NotFound("job " + id + " not found");
    from = static_cast<JobStatus>(q.int_at(0));
  }
  if (IsTerminal(from)) {
    return FailedPrecondition("job " + id + " is already " + JobStatusName(from));
  }
  Job job;
  {
    ASSIGN_OR_RETURN(Statement q, writer_->prepare(sqlite::kCancelJob.data()));
    q.bind_text(1, id);
    q.bind_text(2, tenant);
    q.bind_int(3, now);
    ASSIGN_OR_RETURN(bool row, q.step());
    CHECK(row);  // read as cancelable a moment ago in this same transaction
    job = sqlite::ReadJob(q);
    RETURN_IF_ERROR(q.run());
  }
  std::string data = EventData().add("from", JobStatusName(from)).str();
  RETURN_IF_ERROR(txn.event(job.id, job.spec.tenant, now, "canceled", data));
  txn.moved(job.spec.queue, from, JobStatus::kCanceled);
  RETURN_IF_ERROR(txn.commit());
  return job;
}

Result<Job> SqliteStore::review_job(const ReviewAction& action) {
  RETURN_IF_ERROR(store_rules::CheckReviewable(action));
  std::lock_guard lock(write_mu_);
  WriteTxn txn(*writer_);
  RETURN_IF_ERROR(txn.begin());
  {
    ASSIGN_OR_RETURN(Statement q, writer_->prepare(sqlite::kJobStatusAndQueue));
    q.bind_text(1, action.id);
    q.bind_text(2, action.tenant);
    ASSIGN_OR_RETURN(bool found, q.step());
    if (!found) return NotFound("job " + action.id + " not found");
    const auto from = static_cast<JobStatus>(q.int_at(0));
    if (from != JobStatus::kReview) {
      return FailedPrecondition("job " + action.id + " is " + JobStatusName(from) +
                                ", not in review");
    }
  }
  Job job;
  {
    const char* sql = action.kind == ReviewAction::kApprove  ? sqlite::kApproveReview.data()
                      : action.kind == ReviewAction::kReject ? sqlite::kRejectReview.data()
                                                             : sqlite::kRetryReview.data();
    ASSIGN_OR_RETURN(Statement q, writer_->prepare(sql));
    q.bind_text(1, action.id);
    q.bind_text(2, action.tenant);
    q.bind_int(3, action.now);
    if (action.kind == ReviewAction::kReject) q.bind_text(4, action.reason);
    if (action.kind == ReviewAction::kRetry) q.bind_text(4, action.model);
    ASSIGN_OR_RETURN(bool row, q.step());
    CHECK(row);  // read as in review a moment ago in this same transaction
    job = sqlite::ReadJob(q);
    RETURN_IF_ERROR(q.run());
  }
  if (action.kind == ReviewAction::kApprove) {
    ASSIGN_OR_RETURN(Statement q, writer_->prepare(sqlite::kPutResult));
    q.bind_text(1, job.id);
    q.bind_text(2, action.result_json);
    RETURN_IF_ERROR(q.run());
  }
  RETURN_IF_ERROR(txn.event(job.id, job.spec.tenant, action.now, store_rules::ReviewEventType(action),
                            store_rules::ReviewEventData(action)));
  txn.moved(job.spec.queue, JobStatus::kReview, job.status);
  RETURN_IF_ERROR(txn.commit());
  return job;
}

}  // namespace sluice
