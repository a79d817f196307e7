// The statements only the embedded engine runs: its forms of the writes sql::Dialect leaves to
// engines (inserting jobs, claiming, finishing), its transaction control and counters. Their
// plans are checked against the indexes by sqlite_plan_test.cc. Built once, at first use.
#pragma once

#include <string>
#include <string_view>

#include "store/sql/columns.h"
#include "store/sql/statement.h"

namespace sluice::sqlite {

struct EngineStatements {
  sql::Statement begin = sql::SqliteOnly("BEGIN IMMEDIATE");
  sql::Statement commit = sql::SqliteOnly("COMMIT");
  sql::Statement rollback = sql::SqliteOnly("ROLLBACK");
  // A job whose (tenant, dedup_key) is taken is not inserted (changes() == 0); any other
  // conflict (a reused id) is an error. The job's columns in column table order, then due_at
  // and the batch id.
  sql::Statement insert_job = sql::SqliteOnly([] {
    const int n = sql::JobColumns().size();
    return sql::SqliteSpelling("INSERT INTO jobs ({jobs}, due_at, batch_id) VALUES (" +
                               sql::JobColumns().placeholders() + ", $" + std::to_string(n + 1) +
                               ", $" + std::to_string(n + 2) +
                               ") ON CONFLICT (tenant, dedup_key) WHERE dedup_key != '' "
                               "DO NOTHING");
  }());
  sql::Statement find_by_dedup_key = sql::SqliteOnly(
      "SELECT {jobs} FROM jobs WHERE tenant = ?1 AND dedup_key = ?2 AND dedup_key != ''");
  // Frees a dedup key held by a job that ended before ?3 (StoreOptions::dedup_window), so that
  // a new job can take it: ?1 tenant, ?2 key, ?3 the newest finished_at that frees it (exclusive).
  sql::Statement free_stale_dedup_key = sql::SqliteOnly(
      "UPDATE jobs SET dedup_key = '' WHERE tenant = ?1 AND dedup_key = ?2 AND dedup_key != '' "
      "AND status IN ({done}, {failed}, {expired}, {canceled}) AND finished_at < ?3");
  // Claim walks the priority levels that have queued jobs from the highest down, and within one
  // level takes due jobs in (due_at, id) order. Each step is one seek into jobs_claim. A single
  // "ORDER BY priority DESC, due_at, id WHERE due_at <= now" would read the same index, but it
  // could not seek past not-yet-due jobs of a higher priority: a million future jobs at
  // priority 9 would be stepped over on every claim. Per level, due_at <= now is a range bound.
  sql::Statement next_queued_priority = sql::SqliteOnly(
      "SELECT priority FROM jobs WHERE status = {queued} AND queue = ?1 AND priority < ?2 "
      "ORDER BY priority DESC LIMIT 1");
  sql::Statement claim_candidates = sql::SqliteOnly(
      "SELECT rowid FROM jobs WHERE status = {queued} AND queue = ?1 AND priority = ?2 "
      "AND due_at <= ?3 AND (deadline IS NULL OR deadline > ?3) ORDER BY due_at, id LIMIT ?4");
  // The same two for one tenant's jobs (ClaimRequest::tenant: fair share), over
  // jobs_claim_tenant, whose (queue, tenant) prefix makes them the same seeks: ?3 and ?5 the
  // tenant.
  sql::Statement next_queued_priority_of_tenant = sql::SqliteOnly(
      "SELECT priority FROM jobs WHERE status = {queued} AND queue = ?1 AND tenant = ?3 "
      "AND priority < ?2 ORDER BY priority DESC LIMIT 1");
  sql::Statement claim_candidates_of_tenant = sql::SqliteOnly(
      "SELECT rowid FROM jobs WHERE status = {queued} AND queue = ?1 AND tenant = ?5 "
      "AND priority = ?2 AND due_at <= ?3 AND (deadline IS NULL OR deadline > ?3) "
      "ORDER BY due_at, id LIMIT ?4");
  sql::Statement start_attempt = sql::SqliteOnly(
      "UPDATE jobs SET status = {running}, attempt = attempt + 1, lease_owner = ?2, "
      "lease_until = ?3, started_at = coalesce(started_at, ?4), next_attempt_at = NULL, "
      "blocked_reason = '' WHERE rowid = ?1 AND status = {queued} RETURNING {jobs}");
  // Finish: a compare-and-set on (id, attempt, lease owner, running). ?1 id, ?2 attempt, ?3
  // lease owner, ?4 new status, ?5 finished_at (NULL: not finished), ?6 error code, ?7 error
  // message (NULL: none), ?8 cost to add.
  sql::Statement settle_attempt = sql::SqliteOnly(
      "UPDATE jobs SET status = ?4, finished_at = ?5, error_code = ?6, error_message = ?7, "
      "cost_usd = cost_usd + ?8, lease_owner = '', lease_until = 0 "
      "WHERE id = ?1 AND attempt = ?2 AND lease_owner = ?3 AND status = {running} "
      "RETURNING tenant, queue");
  // ?1-?3 as above, ?4 retry_at, ?5 error code, ?6 error message, ?7 cost to add.
  sql::Statement retry_attempt = sql::SqliteOnly(
      "UPDATE jobs SET status = {queued}, next_attempt_at = ?4, due_at = max(run_at, ?4), "
      "error_code = ?5, error_message = ?6, cost_usd = cost_usd + ?7, lease_owner = '', "
      "lease_until = 0 WHERE id = ?1 AND attempt = ?2 AND lease_owner = ?3 "
      "AND status = {running} RETURNING tenant, queue");
  // A call that was not started (AttemptOutcome::kBlocked): back to the queue with the attempt
  // not counted and the error left as it was. ?1-?3 as above, ?4 retry_at, ?5 blocked reason,
  // ?6 cost to add.
  sql::Statement block_attempt = sql::SqliteOnly(
      "UPDATE jobs SET status = {queued}, attempt = attempt - 1, next_attempt_at = ?4, "
      "due_at = max(run_at, ?4), blocked_reason = ?5, cost_usd = cost_usd + ?6, "
      "lease_owner = '', lease_until = 0 WHERE id = ?1 AND attempt = ?2 AND lease_owner = ?3 "
      "AND status = {running} RETURNING tenant, queue");
  sql::Statement put_attempt = sql::SqliteOnly(
      "INSERT INTO attempts (job_id, n, record) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (job_id, n) DO UPDATE SET record = excluded.record");
  sql::Statement add_to_queue_count = sql::SqliteOnly(
      "INSERT INTO queue_counts (queue, status, n) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (queue, status) DO UPDATE SET n = n + excluded.n");
  sql::Statement last_event = sql::SqliteOnly("SELECT coalesce(max(seq), 0) FROM events");
};


const EngineStatements& EngineSql();

}  // namespace sluice::sqlite
