// SqlStore: the writes that move a job through its life. Each public method is one transaction
// (Dialect::write), and every state change in it appends its event and adjusts the queue
// counters through the Txn before the same COMMIT. What each event says is decided here, once.
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "store/audit_entries.h"
#include "store/event_data.h"
#include "store/job_rules.h"
#include "store/sql/sql_store.h"
#include "store/sql/statements.h"

namespace sluice::sql {

namespace {

using store_rules::ErrorAfter;
using store_rules::EventTypeOf;
using store_rules::StatusAfter;

// Splits finish items into rounds in which no job appears twice: the contract applies two
// finishes of one job one after the other (the second then finds the attempt over), and a
// bulk update changes a row at most once. Item order is kept within and across rounds.
std::vector<std::vector<std::size_t>> FinishRounds(std::span<const AttemptFinish> items,
                                                   const std::vector<Status>& valid) {
  std::vector<std::vector<std::size_t>> rounds;
  std::map<std::string_view, std::size_t> seen;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!valid[i].ok()) continue;
    const std::size_t round = seen[items[i].job_id]++;
    if (round == rounds.size()) rounds.emplace_back();
    rounds[round].push_back(i);
  }
  return rounds;
}

Status LeaseLost(const AttemptFinish& item) {
  return Aborted("job " + item.job_id + " is no longer running attempt " +
                 std::to_string(item.attempt) + " under lease owner " + item.lease_owner);
}

// What a finish's event says: the attempt, and the error, the retry time or why it was held.
std::string FinishEventData(const AttemptFinish& item) {
  EventData data;
  data.add("attempt", item.attempt);
  if (const std::optional<JobError> error = ErrorAfter(item)) data.add_error(*error);
  if (item.outcome == AttemptOutcome::kBlocked) data.add("reason", item.error.code);
  if (item.outcome == AttemptOutcome::kRetry || item.outcome == AttemptOutcome::kBlocked) {
    data.add_time("retry_at", item.retry_at);
  }
  return data.str();
}

void SortById(std::vector<Job>& jobs) {
  std::sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.id < b.id; });
}

}  // namespace

Result<std::vector<SubmitOutcome>> SqlStore::submit_jobs(std::span<const Job> jobs) {
  for (const Job& job : jobs) RETURN_IF_ERROR(store_rules::CheckSubmittable(job));
  using Outcomes = std::vector<SubmitOutcome>;
  if (jobs.empty()) return Outcomes();
  std::vector<Job> fresh;
  fresh.reserve(jobs.size());
  for (const Job& job : jobs) fresh.push_back(store_rules::AsSubmitted(job));

  return write<Outcomes>([&](Txn& txn) -> Result<Outcomes> {
    ASSIGN_OR_RETURN(std::vector<std::optional<Job>> holders,
                     dialect_->insert_jobs(txn, fresh, "", /*want_holders=*/true));
    Outcomes outcomes;
    outcomes.reserve(fresh.size());
    for (std::size_t i = 0; i < fresh.size(); ++i) {
      const Job& job = fresh[i];
      if (holders[i]) {
        // The dedup key is taken, by an older job or by one earlier in this very batch.
        outcomes.push_back(SubmitOutcome{.job = std::move(*holders[i]), .deduplicated = true});
        continue;
      }
      txn.event(job.id, job.spec.tenant, job.created_at, "submitted",
                EventData().add("queue", job.spec.queue).add("priority", job.spec.priority).str());
      txn.moved(job.spec.queue, std::nullopt, JobStatus::kQueued);
      txn.notify(job.spec.queue);
      outcomes.push_back(SubmitOutcome{.job = job});
    }
    return outcomes;
  });
}

Result<std::vector<Job>> SqlStore::claim_jobs(const ClaimRequest& request) {
  using Jobs = std::vector<Job>;
  if (request.limit <= 0) return Jobs();
  if (request.owner.empty()) return InvalidArgument("a claim needs a lease owner", "owner");
  return write<Jobs>(
      [&](Txn& txn) -> Result<Jobs> {
        ASSIGN_OR_RETURN(Jobs claimed, dialect_->claim(txn, request));
        for (const Job& job : claimed) {
          txn.event(job.id, job.spec.tenant, request.now, "started",
                    EventData()
                        .add("attempt", job.attempt)
                        .add("lease_owner", job.lease_owner)
                        .add_time("lease_until", job.lease_until)
                        .str());
          txn.moved(job.spec.queue, JobStatus::kQueued, JobStatus::kRunning);
        }
        return claimed;
      },
      // A claim is nobody's acknowledgement (sql/dialect.h, CommitSync).
      CommitSync::kUnsynced);
}

Result<std::vector<Status>> SqlStore::finish_attempts(std::span<const AttemptFinish> items) {
  std::vector<Status> valid;
  valid.reserve(items.size());
  for (const AttemptFinish& item : items) valid.push_back(store_rules::CheckFinishable(item));
  if (items.empty()) return valid;
  const std::vector<std::vector<std::size_t>> rounds = FinishRounds(items, valid);

  // The calls were made whether or not their finish still matches: their reservations settle
  // in any case.
  std::vector<std::pair<std::string, double>> settlements;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!valid[i].ok() || !items[i].settles_reservation) continue;
    settlements.emplace_back(AttemptReservationId(items[i].job_id, items[i].attempt),
                             items[i].cost_usd);
  }

  // Each matching finish's audit entries, made before the transaction (off the write lock).
  std::vector<std::vector<AuditEntry>> entries(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!valid[i].ok()) continue;
    ASSIGN_OR_RETURN(entries[i], call_entries(items[i].charges));
  }

  using Outcomes = std::vector<Status>;
  return write<Outcomes>([&](Txn& txn) -> Result<Outcomes> {
    Outcomes outcomes = valid;
    // The model calls of the finishes that matched: the cost ledger holds what the attempt
    // records hold (store.h, AttemptFinish::charges).
    std::vector<const CallCharge*> charges;
    for (const std::vector<std::size_t>& round : rounds) {
      std::vector<const AttemptFinish*> batch;
      batch.reserve(round.size());
      for (std::size_t i : round) batch.push_back(&items[i]);
      ASSIGN_OR_RETURN(std::vector<std::optional<SettledJob>> settled,
                       dialect_->finish(txn, batch));
      for (std::size_t k = 0; k < round.size(); ++k) {
        const AttemptFinish& item = items[round[k]];
        if (!settled[k]) {
          outcomes[round[k]] = LeaseLost(item);
          continue;
        }
        txn.event(item.job_id, settled[k]->tenant, item.now, EventTypeOf(item.outcome),
                  FinishEventData(item));
        txn.moved(settled[k]->queue, JobStatus::kRunning, StatusAfter(item.outcome));
        for (const CallCharge& c : item.charges) charges.push_back(&c);
        audit(txn, entries[round[k]]);
      }
    }
    RETURN_IF_ERROR(write_charges(txn, charges));
    if (!settlements.empty()) RETURN_IF_ERROR(settle_reservations(txn, settlements));
    return outcomes;
  });
}

Result<int> SqlStore::renew_leases(const std::string& owner, Millis lease_until) {
  // A renewal is no state change, so it leaves no event: the history would be all heartbeats.
  ASSIGN_OR_RETURN(std::int64_t renewed, exec(Sql().renew_leases,
                                               Params().add(owner).add(lease_until),
                                               CommitSync::kUnsynced));
  return static_cast<int>(renewed);
}

Result<int> SqlStore::release_leases(const std::string& owner, Millis now) {
  return write<int>([&](Txn& txn) -> Result<int> {
    struct Released {
      std::string id, tenant, queue;
      std::int64_t attempt;
    };
    ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                     txn.session().query(Sql().release_leases, Params().add(owner)));
    ASSIGN_OR_RETURN(std::vector<Released> released,
                     Collect<Released>(*rows, [](const Row& row) {
                       return Released{row.text_at(0), row.text_at(1), row.text_at(2),
                                       row.int_at(3)};
                     }));
    rows.reset();
    for (const Released& job : released) {
      // The event names the attempt that was given up, not the restored count.
      txn.event(job.id, job.tenant, now, "released",
                EventData().add("attempt", job.attempt + 1).str());
      txn.moved(job.queue, JobStatus::kRunning, JobStatus::kQueued);
      txn.notify(job.queue);
    }
    return static_cast<int>(released.size());
  });
}

Result<std::vector<Job>> SqlStore::reap_leases(Millis expired_before, Millis now) {
  using Jobs = std::vector<Job>;
  return write<Jobs>([&](Txn& txn) -> Result<Jobs> {
    ASSIGN_OR_RETURN(Jobs reaped, QueryAll(txn.session(), JobColumns(), Sql().reap_expired,
                                           Params().add(now).add(expired_before)));
    SortById(reaped);
    for (const Job& job : reaped) {
      txn.event(job.id, job.spec.tenant, now, "lease_expired",
                EventData().add("attempt", job.attempt).add("next", JobStatusName(job.status)).str());
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

Result<std::vector<Job>> SqlStore::expire_overdue(Millis now) {
  using Jobs = std::vector<Job>;
  return write<Jobs>([&](Txn& txn) -> Result<Jobs> {
    ASSIGN_OR_RETURN(Jobs expired, QueryAll(txn.session(), JobColumns(), Sql().expire_overdue,
                                            Params().add(now)));
    SortById(expired);
    for (const Job& job : expired) {
      EventData data;
      if (job.error) data.add_error(*job.error);
      txn.event(job.id, job.spec.tenant, now, "expired", data.str());
      txn.moved(job.spec.queue, JobStatus::kQueued, JobStatus::kExpired);
    }
    return expired;
  });
}

namespace {

// The job's status, read under a row lock (PostgreSQL) inside the transaction that changes it.
Result<JobStatus> LockedStatus(Txn& txn, const std::string& tenant, const std::string& id) {
  ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                   txn.session().query(Sql().lock_job_status, Params().add(id).add(tenant)));
  ASSIGN_OR_RETURN(bool found, rows->next());
  if (!found) return NotFound("job " + id + " not found");
  return static_cast<JobStatus>(rows->int_at(0));
}

// Runs a guarded update of one job that the locked status read just allowed.
Result<Job> UpdateOne(Txn& txn, const Statement& stmt, Params params) {
  ASSIGN_OR_RETURN(std::optional<Job> job,
                   QueryFirst(txn.session(), JobColumns(), stmt, std::move(params)));
  CHECK(job.has_value());  // read as allowed a moment ago in this same transaction
  return std::move(*job);
}

}  // namespace

Result<Job> SqlStore::cancel_job(const std::string& tenant, const std::string& id, Millis now) {
  return write<Job>([&](Txn& txn) -> Result<Job> {
    ASSIGN_OR_RETURN(JobStatus from, LockedStatus(txn, tenant, id));
    if (IsTerminal(from)) {
      return FailedPrecondition("job " + id + " is already " + JobStatusName(from));
    }
    ASSIGN_OR_RETURN(Job job,
                     UpdateOne(txn, Sql().cancel_job, Params().add(id).add(tenant).add(now)));
    txn.event(job.id, job.spec.tenant, now, "canceled",
              EventData().add("from", JobStatusName(from)).str());
    txn.moved(job.spec.queue, from, JobStatus::kCanceled);
    return job;
  });
}

Result<Job> SqlStore::review_job(const ReviewAction& action) {
  RETURN_IF_ERROR(store_rules::CheckReviewable(action));
  ASSIGN_OR_RETURN(const AuditEntry entry, ReviewEntry(action));
  return write<Job>([&](Txn& txn) -> Result<Job> {
    ASSIGN_OR_RETURN(JobStatus from, LockedStatus(txn, action.tenant, action.id));
    if (from != JobStatus::kReview) {
      return FailedPrecondition("job " + action.id + " is " + JobStatusName(from) +
                                ", not in review");
    }
    Params params;
    params.add(action.id).add(action.tenant).add(action.now);
    const Statement* stmt = &Sql().approve_review;
    if (action.kind == ReviewAction::kReject) {
      stmt = &Sql().reject_review;
      params.add(action.reason);
    } else if (action.kind == ReviewAction::kRetry) {
      stmt = &Sql().retry_review;
      params.add(action.model);
    }
    ASSIGN_OR_RETURN(Job job, UpdateOne(txn, *stmt, std::move(params)));
    if (action.kind == ReviewAction::kApprove) {
      RETURN_IF_ERROR(txn.session()
                          .exec(Sql().put_result, Params().add(job.id).add(action.result_json))
                          .status());
    }
    txn.event(job.id, job.spec.tenant, action.now, store_rules::ReviewEventType(action),
              store_rules::ReviewEventData(action));
    audit(txn, std::span(&entry, 1));
    txn.moved(job.spec.queue, JobStatus::kReview, job.status);
    if (job.status == JobStatus::kQueued) txn.notify(job.spec.queue);
    return job;
  });
}

}  // namespace sluice::sql
