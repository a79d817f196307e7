// PostgresStore: the writes that move a job through its life. Each public method is one
// transaction (PostgresStore::write), and every state change in it appends its event and
// adjusts the queue counters before the same COMMIT (postgres/txn.h). The rules of each change
// (what a fresh job looks like, which error an outcome leaves, each event's data) are the
// embedded engine's (sqlite/sqlite_job_lifecycle.cc): one contract, one behaviour.
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "store/job_rules.h"
#include "store/postgres/job_row.h"
#include "store/postgres/postgres_store.h"
#include "store/postgres/queries.h"
#include "store/postgres/text.h"
#include "store/sqlite/event_data.h"

namespace sluice {

using pg::Params;
using pg::Rows;
using pg::TextArray;
using pg::Txn;
using sqlite::EventData;

namespace {

using store_rules::AsSubmitted;
using store_rules::CheckFinishable;
using store_rules::CheckSubmittable;
using store_rules::ErrorAfter;
using store_rules::EventTypeOf;
using store_rules::StatusAfter;

std::vector<Job> ReadJobs(const Rows& rows) {
  std::vector<Job> jobs;
  jobs.reserve(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) jobs.push_back(pg::ReadJob(rows, i));
  return jobs;
}

// Splits finish items into rounds in which no job appears twice: one UPDATE changes a row at
// most once, while the contract applies two finishes of one job one after the other (the
// second then finds the attempt over). Item order is kept within and across rounds.
std::vector<std::vector<std::size_t>> FinishRounds(std::span<const AttemptFinish> items,
                                                   const std::vector<Status>& valid) {
  std::vector<std::vector<std::size_t>> rounds;
  std::map<std::string_view, std::size_t> seen;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!valid[i].ok()) continue;
    std::size_t round = seen[items[i].job_id]++;
    if (round == rounds.size()) rounds.emplace_back();
    rounds[round].push_back(i);
  }
  return rounds;
}

}  // namespace

Result<std::vector<SubmitOutcome>> PostgresStore::submit_jobs(std::span<const Job> jobs) {
  for (const Job& job : jobs) RETURN_IF_ERROR(CheckSubmittable(job));
  if (jobs.empty()) return std::vector<SubmitOutcome>();
  std::vector<Job> fresh;
  fresh.reserve(jobs.size());
  for (const Job& job : jobs) fresh.push_back(AsSubmitted(job));
  const Params insert = pg::SubmitParams(fresh);

  return write([&](Txn& txn) -> Result<std::vector<SubmitOutcome>> {
    ASSIGN_OR_RETURN(Rows inserted, txn.conn().run(pg::kInsertJobs, insert));
    std::unordered_set<std::string> created;
    for (int i = 0; i < inserted.size(); ++i) created.insert(inserted.text_at(i, 0));

    std::vector<SubmitOutcome> outcomes;
    outcomes.reserve(fresh.size());
    TextArray dedup_tenants, dedup_keys;
    for (const Job& job : fresh) {
      outcomes.push_back(SubmitOutcome{.job = job});
      if (!created.contains(job.id)) {
        // The dedup key is taken, by an older job or by one earlier in this very batch.
        outcomes.back().deduplicated = true;
        dedup_tenants.add(job.spec.tenant);
        dedup_keys.add(job.spec.dedup_key);
        continue;
      }
      std::string data =
          EventData().add("queue", job.spec.queue).add("priority", job.spec.priority).str();
      txn.event(job.id, job.spec.tenant, job.created_at, "submitted", data);
      txn.moved(job.spec.queue, std::nullopt, JobStatus::kQueued);
      txn.notify(job.spec.queue);
    }
    if (dedup_tenants.empty()) return outcomes;

    ASSIGN_OR_RETURN(
        Rows found,
        txn.conn().run(pg::kFindByDedupKeys.data(),
                       Params().add_literal(dedup_tenants.str()).add_literal(dedup_keys.str())));
    std::map<std::pair<std::string, std::string>, Job> holders;
    for (int i = 0; i < found.size(); ++i) {
      Job holder = pg::ReadJob(found, i);
      std::pair key(holder.spec.tenant, holder.spec.dedup_key);
      holders.emplace(std::move(key), std::move(holder));
    }
    for (SubmitOutcome& outcome : outcomes) {
      if (!outcome.deduplicated) continue;
      auto it = holders.find({outcome.job.spec.tenant, outcome.job.spec.dedup_key});
      if (it == holders.end()) {
        return Internal("job " + outcome.job.id +
                        " was neither inserted nor found under its dedup key");
      }
      outcome.job = it->second;
    }
    return outcomes;
  });
}

Result<std::vector<Job>> PostgresStore::claim_jobs(const ClaimRequest& request) {
  if (request.limit <= 0) return std::vector<Job>();
  if (request.owner.empty()) return InvalidArgument("a claim needs a lease owner", "owner");

  return write([&](Txn& txn) -> Result<std::vector<Job>> {
    std::int64_t limit = request.limit;
    if (request.cluster_max > 0) {
      // Released by COMMIT: the next claim of this queue counts what this one started.
      RETURN_IF_ERROR(txn.conn().run(pg::kLockQueueClaims, Params().add(request.queue)).status());
      ASSIGN_OR_RETURN(Rows running, txn.conn().run(pg::kCountRunning, Params().add(request.queue)));
      limit = std::min<std::int64_t>(limit, request.cluster_max - running.int_at(0, 0));
      if (limit <= 0) return std::vector<Job>();
    }
    Params params;
    params.add(request.queue)
        .add(request.now)
        .add(request.owner)
        .add(request.lease_until)
        .add(limit);
    ASSIGN_OR_RETURN(Rows rows, txn.conn().run(pg::kClaimJobs.data(), params));
    std::vector<Job> claimed = ReadJobs(rows);
    for (const Job& job : claimed) {
      std::string data = EventData()
                             .add("attempt", job.attempt)
                             .add("lease_owner", job.lease_owner)
                             .add_time("lease_until", job.lease_until)
                             .str();
      txn.event(job.id, job.spec.tenant, request.now, "started", data);
      txn.moved(job.spec.queue, JobStatus::kQueued, JobStatus::kRunning);
    }
    return claimed;
  });
}

Result<std::vector<Status>> PostgresStore::finish_attempts(std::span<const AttemptFinish> items) {
  std::vector<Status> valid;
  valid.reserve(items.size());
  for (const AttemptFinish& item : items) valid.push_back(CheckFinishable(item));
  if (items.empty()) return valid;
  const std::vector<std::vector<std::size_t>> rounds = FinishRounds(items, valid);

  return write([&](Txn& txn) -> Result<std::vector<Status>> {
    std::vector<Status> outcomes = valid;
    for (const std::vector<std::size_t>& round : rounds) {
      RETURN_IF_ERROR(finish_round(txn, items, round, outcomes));
    }
    return outcomes;
  });
}

Status PostgresStore::finish_round(Txn& txn, std::span<const AttemptFinish> items,
                                   const std::vector<std::size_t>& round,
                                   std::vector<Status>& outcomes) {
  TextArray ids, attempts, owners, statuses, retries, finished_ats, retry_ats, error_codes,
      error_messages, costs, records, results;
  for (std::size_t i : round) {
    const AttemptFinish& item = items[i];
    const JobStatus to = StatusAfter(item.outcome);
    const bool retry = item.outcome == AttemptOutcome::kRetry;
    const std::optional<JobError> error = ErrorAfter(item);
    ids.add(item.job_id);
    attempts.add(item.attempt);
    owners.add(item.lease_owner);
    statuses.add(static_cast<int>(to));
    retries.add(retry);
    // Review waits for a person: the job is not finished yet.
    if (retry || to == JobStatus::kReview) {
      finished_ats.add_null();
    } else {
      finished_ats.add(item.now);
    }
    if (retry) {
      retry_ats.add(item.retry_at);
    } else {
      retry_ats.add_null();
    }
    if (error) {
      error_codes.add(error->code);
      error_messages.add(error->message);
    } else {
      error_codes.add_null();
      error_messages.add_null();
    }
    costs.add(item.cost_usd);
    records.add(item.attempt_json);
    bool keeps_result = to == JobStatus::kDone || to == JobStatus::kReview;
    results.add(keeps_result ? std::string_view(item.result_json) : std::string_view());
  }
  Params params;
  for (const TextArray* column :
       {&ids, &attempts, &owners, &statuses, &retries, &finished_ats, &retry_ats, &error_codes,
        &error_messages, &costs, &records, &results}) {
    params.add_literal(column->str());
  }
  ASSIGN_OR_RETURN(Rows rows, txn.conn().run(pg::kFinishAttempts, params));
  std::map<std::string, std::pair<std::string, std::string>, std::less<>> settled;
  for (int r = 0; r < rows.size(); ++r) {
    settled.emplace(rows.text_at(r, 0), std::pair(rows.text_at(r, 1), rows.text_at(r, 2)));
  }

  for (std::size_t i : round) {
    const AttemptFinish& item = items[i];
    auto it = settled.find(item.job_id);
    if (it == settled.end()) {
      outcomes[i] =
          Aborted("job " + item.job_id + " is no longer running attempt " +
                  std::to_string(item.attempt) + " under lease owner " + item.lease_owner);
      continue;
    }
    const auto& [tenant, queue] = it->second;
    const std::optional<JobError> error = ErrorAfter(item);
    EventData data;
    data.add("attempt", item.attempt);
    if (error) data.add_error(*error);
    if (item.outcome == AttemptOutcome::kRetry) data.add_time("retry_at", item.retry_at);
    txn.event(item.job_id, tenant, item.now, EventTypeOf(item.outcome), data.str());
    txn.moved(queue, JobStatus::kRunning, StatusAfter(item.outcome));
  }
  return Status::Ok();
}

Result<int> PostgresStore::renew_leases(const std::string& owner, Millis lease_until) {
  // One statement, its own transaction, and safe to run twice. A renewal is no state change,
  // so it leaves no event: the history would be all heartbeats.
  return read([&](pg::Connection& conn) -> Result<int> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(pg::kRenewLeases, Params().add(owner).add(lease_until)));
    return static_cast<int>(rows.affected());
  });
}

Result<int> PostgresStore::release_leases(const std::string& owner, Millis now) {
  return write([&](Txn& txn) -> Result<int> {
    ASSIGN_OR_RETURN(Rows rows, txn.conn().run(pg::kReleaseLeases, Params().add(owner)));
    for (int i = 0; i < rows.size(); ++i) {
      std::string id = rows.text_at(i, 0);
      std::string queue = rows.text_at(i, 2);
      // The event names the attempt that was given up, not the restored count.
      std::string data = EventData().add("attempt", rows.int_at(i, 3) + 1).str();
      txn.event(id, rows.view_at(i, 1), now, "released", data);
      txn.moved(queue, JobStatus::kRunning, JobStatus::kQueued);
      txn.notify(queue);
    }
    return rows.size();
  });
}

Result<std::vector<Job>> PostgresStore::reap_expired_leases(Millis now) {
  return write([&](Txn& txn) -> Result<std::vector<Job>> {
    ASSIGN_OR_RETURN(Rows rows, txn.conn().run(pg::kReapExpiredLeases.data(), Params().add(now)));
    std::vector<Job> reaped = ReadJobs(rows);
    for (const Job& job : reaped) {
      std::string data =
          EventData().add("attempt", job.attempt).add("next", JobStatusName(job.status)).str();
      txn.event(job.id, job.spec.tenant, now, "lease_expired", data);
      if (job.status == JobStatus::kFailed) {
        // Failing is a state change of its own: whoever follows "failed" events sees it too.
        EventData failed;
        failed.add("attempt", job.attempt);
        if (job.error) failed.add_error(*job.error);
        txn.event(job.id, job.spec.tenant, now, "failed", failed.str());
      }
      txn.moved(job.spec.queue, JobStatus::kRunning, job.status);
    }
    return reaped;
  });
}

Result<std::vector<Job>> PostgresStore::expire_overdue(Millis now) {
  return write([&](Txn& txn) -> Result<std::vector<Job>> {
    ASSIGN_OR_RETURN(Rows rows, txn.conn().run(pg::kExpireOverdue.data(), Params().add(now)));
    std::vector<Job> expired = ReadJobs(rows);
    for (const Job& job : expired) {
      EventData data;
      if (job.error) data.add_error(*job.error);
      txn.event(job.id, job.spec.tenant, now, "expired", data.str());
      txn.moved(job.spec.queue, JobStatus::kQueued, JobStatus::kExpired);
    }
    return expired;
  });
}

Result<Job> PostgresStore::cancel_job(const std::string& tenant, const std::string& id,
                                      Millis now) {
  return write([&](Txn& txn) -> Result<Job> {
    ASSIGN_OR_RETURN(Rows current,
                     txn.conn().run(pg::kLockJobStatusAndQueue, Params().add(id).add(tenant)));
    if (current.size() == 0) return NotFound("job " + id + " not found");
    const auto from = static_cast<JobStatus>(current.int_at(0, 0));
    if (IsTerminal(from)) {
      return FailedPrecondition("job " + id + " is already " + JobStatusName(from));
    }
    ASSIGN_OR_RETURN(Rows rows,
                     txn.conn().run(pg::kCancelJob.data(), Params().add(id).add(tenant).add(now)));
    CHECK(rows.size() == 1);  // locked as cancelable a moment ago in this same transaction
    Job job = pg::ReadJob(rows, 0);
    std::string data = EventData().add("from", JobStatusName(from)).str();
    txn.event(job.id, job.spec.tenant, now, "canceled", data);
    txn.moved(job.spec.queue, from, JobStatus::kCanceled);
    return job;
  });
}

Result<Job> PostgresStore::review_job(const ReviewAction& action) {
  RETURN_IF_ERROR(store_rules::CheckReviewable(action));
  return write([&](Txn& txn) -> Result<Job> {
    ASSIGN_OR_RETURN(Rows current, txn.conn().run(pg::kLockJobStatusAndQueue,
                                                  Params().add(action.id).add(action.tenant)));
    if (current.size() == 0) return NotFound("job " + action.id + " not found");
    const auto from = static_cast<JobStatus>(current.int_at(0, 0));
    if (from != JobStatus::kReview) {
      return FailedPrecondition("job " + action.id + " is " + JobStatusName(from) +
                                ", not in review");
    }
    Params params;
    params.add(action.id).add(action.tenant).add(action.now);
    const char* sql = nullptr;
    switch (action.kind) {
      case ReviewAction::kApprove:
        sql = pg::kApproveReview.data();
        params.add(action.result_json);
        break;
      case ReviewAction::kReject:
        sql = pg::kRejectReview.data();
        params.add(action.reason);
        break;
      case ReviewAction::kRetry:
        sql = pg::kRetryReview.data();
        params.add(action.model);
        break;
    }
    ASSIGN_OR_RETURN(Rows rows, txn.conn().run(sql, params));
    CHECK(rows.size() == 1);  // locked as in review a moment ago in this same transaction
    Job job = pg::ReadJob(rows, 0);
    txn.event(job.id, job.spec.tenant, action.now, store_rules::ReviewEventType(action),
              store_rules::ReviewEventData(action));
    txn.moved(job.spec.queue, JobStatus::kReview, job.status);
    if (job.status == JobStatus::kQueued) txn.notify(job.spec.queue);
    return job;
  });
}

}  // namespace sluice
