// Every SQL statement the shared store runs, in one place, so that each can be read next to
// the indexes it relies on (migrations.cc). Each constant has static storage: Connection
// prepares a statement once per connection under the constant's address.
//
// Batches travel as arrays: a statement that writes many rows (the jobs of a submit, the
// finishes of a batch, the events of a transaction) takes one array parameter per column and
// unnests them, so a batch of any size costs one round trip, not one per row.
#pragma once

#include <array>
#include <cstddef>

namespace sluice::pg {

// Concatenates string literals at compile time into one static, NUL-terminated array.
template <std::size_t... N>
consteval auto JoinSql(const char (&... parts)[N]) {
  std::array<char, (N + ...) - sizeof...(N) + 1> out{};
  std::size_t pos = 0;
  auto append = [&](const char* part, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) out[pos++] = part[i];
  };
  (append(parts, N - 1), ...);
  out[pos] = '\0';
  return out;
}

// The columns a Job is read from, in the order of job_row.h (the embedded engine's order).
inline constexpr char kJobColumns[] =
    "id, tenant, type, input, object_id, source, prompt_version, response_schema, model, "
    "allow_fallback, params, queue, priority, deadline, run_at, max_attempts, cost_limit_usd, "
    "dedup_key, webhook_url, metadata, status, attempt, created_at, started_at, finished_at, "
    "cost_usd, error_code, error_message, next_attempt_at, lease_owner, lease_until";
inline constexpr int kJobColumnCount = 31;

// The channel a transaction that made jobs due notifies, with the queue's name as payload.
inline constexpr char kJobsChannel[] = "sluice_jobs";

// What every write transaction commits with (txn.h), in one statement: its events ($1-$5,
// inserted in array order, so seq follows it), its queue counter changes ($6-$8, one element
// per (queue, status), added to shard $9), its notifications ($10, queue names) and the
// webhook deliveries its job- and batch-ending events queue ($11 event id, $12 job or batch id,
// $13 webhook type, $14 time; a job or batch without a webhook_url queues none). Answers one
// row: the deliveries queued and the notifications sent. (`notified` is materialized, not inlined, because pg_notify is
// volatile; counting its rows runs every call.)
inline constexpr auto kFlushTransaction = JoinSql(
    "WITH logged AS ("
    " INSERT INTO events (job_id, tenant, at, type, data)"
    " SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[])),"
    " counted AS ("
    " INSERT INTO queue_counts (queue, status, shard, n)"
    " SELECT q, s, $9::smallint, d FROM unnest($6::text[], $7::smallint[], $8::bigint[])"
    " AS c (q, s, d)"
    " ON CONFLICT (queue, status, shard) DO UPDATE SET n = queue_counts.n + excluded.n),"
    " queued AS ("
    " INSERT INTO webhook_deliveries (id, job_id, tenant, type, url, created_at, state,"
    " attempts, due_at, lease_owner)"
    " SELECT w.id, j.id, j.tenant, w.type, j.webhook_url, w.at, 0, 0, w.at, ''"
    " FROM unnest($11::text[], $12::text[], $13::text[], $14::bigint[]) AS w (id, job_id, type, at)"
    " JOIN jobs AS j ON j.id = w.job_id WHERE j.webhook_url <> ''"
    " UNION ALL"
    " SELECT w.id, b.id, b.tenant, w.type, b.webhook_url, w.at, 0, 0, w.at, ''"
    " FROM unnest($11::text[], $12::text[], $13::text[], $14::bigint[]) AS w (id, job_id, type, at)"
    " JOIN batches AS b ON b.id = w.job_id WHERE b.webhook_url <> '' AND w.type LIKE 'batch.%'"
    " RETURNING 1),"
    " notified AS (SELECT pg_notify('",
    kJobsChannel, "', q) FROM unnest($10::text[]) AS q)"
    " SELECT (SELECT count(*) FROM queued), (SELECT count(*) FROM notified)");

// --- submit ---
// Inserts fresh jobs, one array per spec column ($1-$21, see SubmitColumns in job_row.h), in
// array order: when two jobs of one batch share a dedup key, the first one is created. A job
// whose (tenant, dedup_key) is taken is skipped (no row returned); any other conflict (a
// reused id) fails the statement.
inline constexpr char kInsertJobs[] =
    "INSERT INTO jobs (id, tenant, type, input, object_id, source, prompt_version, "
    "response_schema, model, allow_fallback, params, queue, priority, deadline, run_at, "
    "max_attempts, cost_limit_usd, dedup_key, webhook_url, metadata, status, attempt, "
    "created_at, started_at, finished_at, cost_usd, error_code, error_message, "
    "next_attempt_at, lease_owner, lease_until, due_at) "
    "SELECT u.id, u.tenant, u.type, u.input, u.object_id, u.source, u.prompt_version, "
    "u.response_schema, u.model, u.allow_fallback, u.params, u.queue, u.priority, u.deadline, "
    "u.run_at, u.max_attempts, u.cost_limit_usd, u.dedup_key, u.webhook_url, u.metadata, 0, 0, "
    "u.created_at, NULL, NULL, 0, NULL, NULL, NULL, '', 0, u.run_at "
    "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "
    "$7::text[], $8::text[], $9::text[], $10::smallint[], $11::text[], $12::text[], "
    "$13::integer[], $14::bigint[], $15::bigint[], $16::integer[], $17::float8[], $18::text[], "
    "$19::text[], $20::text[], $21::bigint[]) WITH ORDINALITY "
    "AS u (id, tenant, type, input, object_id, source, prompt_version, response_schema, model, "
    "allow_fallback, params, queue, priority, deadline, run_at, max_attempts, cost_limit_usd, "
    "dedup_key, webhook_url, metadata, created_at, ord) "
    "ORDER BY u.ord "
    "ON CONFLICT (tenant, dedup_key) WHERE dedup_key <> '' DO NOTHING "
    "RETURNING id";
// The jobs holding the given (tenant, dedup_key) pairs ($1 tenants, $2 keys).
inline constexpr auto kFindByDedupKeys =
    JoinSql("SELECT ", kJobColumns,
            " FROM jobs WHERE (tenant, dedup_key) IN "
            "(SELECT * FROM unnest($1::text[], $2::text[])) AND dedup_key <> ''");

// --- claim ---
// One statement: walk the priority levels that have queued jobs from the highest down (each
// step one seek into jobs_claim), take each level's due jobs in (due_at, id) order, lock them
// FOR UPDATE SKIP LOCKED (rows another node is claiming right now are passed over, not waited
// for), stop at the limit, and start an attempt on each. Per level, due_at <= now is a range
// bound: a million not-yet-due jobs at a higher priority are never stepped over one by one,
// which a single ORDER BY priority DESC, due_at, id would do. The update finds its rows with
// id = ANY(ARRAY(...)), a primary key lookup whatever the planner guesses of the CTE's size.
// $1 queue, $2 now, $3 lease owner, $4 lease until, $5 limit. Rows come in claim order.
inline constexpr auto kClaimJobs = JoinSql(
    "WITH RECURSIVE levels (level) AS ("
    " (SELECT priority FROM jobs WHERE status = 0 AND queue = $1::text"
    "  ORDER BY priority DESC LIMIT 1)"
    " UNION ALL"
    " SELECT (SELECT j.priority FROM jobs AS j"
    "  WHERE j.status = 0 AND j.queue = $1::text AND j.priority < l.level"
    "  ORDER BY j.priority DESC LIMIT 1)"
    " FROM levels AS l WHERE l.level IS NOT NULL),"
    " picked AS ("
    " SELECT c.pick_id FROM levels AS l CROSS JOIN LATERAL ("
    "  SELECT j.id AS pick_id FROM jobs AS j"
    "  WHERE j.status = 0 AND j.queue = $1::text AND j.priority = l.level"
    "  AND j.due_at <= $2::bigint AND (j.deadline IS NULL OR j.deadline > $2::bigint)"
    "  ORDER BY j.due_at, j.id LIMIT $5::bigint FOR UPDATE SKIP LOCKED) AS c"
    " WHERE l.level IS NOT NULL LIMIT $5::bigint),"
    " started AS ("
    " UPDATE jobs SET status = 1, attempt = attempt + 1, lease_owner = $3::text,"
    " lease_until = $4::bigint, started_at = coalesce(started_at, $2::bigint),"
    " next_attempt_at = NULL"
    " WHERE id = ANY (ARRAY (SELECT pick_id FROM picked)) AND status = 0"
    " RETURNING ",
    kJobColumns,
    ", due_at) "
    "SELECT ",
    kJobColumns, " FROM started ORDER BY priority DESC, due_at, id");

// A queue with a cluster-wide cap (ClaimRequest::cluster_max): its claims take this
// transaction-scoped lock first, so they run one after the other across all nodes; each then
// counts the queue's running jobs, which every earlier claim has committed by the time the lock
// is granted ($1 queue). Finishes, reaps and releases never take it: they only lower the count,
// so a claim that misses one of them errs on the safe side.
inline constexpr char kLockQueueClaims[] =
    "SELECT pg_advisory_xact_lock(hashtext('sluice.queue.' || $1::text))";
// The queue's running jobs, counted from the rows themselves (a walk of the small jobs_lease
// partial index): the one number a cap may not be wrong about.
inline constexpr char kCountRunning[] =
    "SELECT count(*) FROM jobs WHERE status = 1 AND queue = $1::text";

// --- finish: compare-and-set on (id, attempt, lease owner, running), one row per job ---
// Arrays, one element per finish (no job twice): $1 id, $2 attempt, $3 lease owner, $4 new
// status, $5 retry (true: back to the queue), $6 finished_at (NULL: not finished), $7
// retry_at, $8 error code, $9 error message (NULL: no error), $10 cost to add, $11 attempt
// record ('': none), $12 result to keep ('': none). The attempt records and results of the
// finishes whose compare-and-set matched are written by the same statement. Returns the jobs
// that matched.
inline constexpr char kFinishAttempts[] =
    "WITH u AS ("
    " SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::smallint[],"
    " $5::boolean[], $6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::float8[],"
    " $11::text[], $12::text[])"
    " AS u (f_id, f_attempt, f_owner, f_status, f_retry, f_finished_at, f_retry_at,"
    " f_error_code, f_error_message, f_cost, f_record, f_result)),"
    " settled AS ("
    " UPDATE jobs SET status = u.f_status,"
    " finished_at = CASE WHEN u.f_retry THEN finished_at ELSE u.f_finished_at END,"
    " next_attempt_at = CASE WHEN u.f_retry THEN u.f_retry_at ELSE next_attempt_at END,"
    " due_at = CASE WHEN u.f_retry THEN greatest(run_at, u.f_retry_at) ELSE due_at END,"
    " error_code = u.f_error_code, error_message = u.f_error_message,"
    " cost_usd = cost_usd + u.f_cost, lease_owner = '', lease_until = 0"
    " FROM u WHERE id = u.f_id AND attempt = u.f_attempt AND lease_owner = u.f_owner"
    " AND status = 1"
    " RETURNING id, tenant, queue),"
    " recorded AS ("
    " INSERT INTO attempts (job_id, n, record)"
    " SELECT u.f_id, u.f_attempt, u.f_record FROM u JOIN settled ON settled.id = u.f_id"
    " WHERE u.f_record <> ''"
    " ON CONFLICT (job_id, n) DO UPDATE SET record = excluded.record),"
    " kept AS ("
    " INSERT INTO results (job_id, result)"
    " SELECT u.f_id, u.f_result FROM u JOIN settled ON settled.id = u.f_id"
    " WHERE u.f_result <> ''"
    " ON CONFLICT (job_id) DO UPDATE SET result = excluded.result)"
    " SELECT id, tenant, queue FROM settled";

// --- leases, reaping, expiry, cancel ---
inline constexpr char kRenewLeases[] =
    "UPDATE jobs SET lease_until = $2::bigint WHERE status = 1 AND lease_owner = $1::text";
inline constexpr char kReleaseLeases[] =
    "UPDATE jobs SET status = 0, attempt = attempt - 1, lease_owner = '', lease_until = 0 "
    "WHERE status = 1 AND lease_owner = $1::text RETURNING id, tenant, queue, attempt";
// A dead worker's job goes back to the queue while attempts are left, else fails. (SET
// expressions read the row as it was before the update.) Rows come ordered by id.
inline constexpr auto kReapExpiredLeases = JoinSql(
    "WITH reaped AS (UPDATE jobs SET "
    "status = CASE WHEN attempt < max_attempts THEN 0 ELSE 3 END, "
    "finished_at = CASE WHEN attempt < max_attempts THEN NULL ELSE $1::bigint END, "
    "error_code = CASE WHEN attempt < max_attempts THEN error_code ELSE 'lease_expired' END, "
    "error_message = CASE WHEN attempt < max_attempts THEN error_message "
    "ELSE 'the lease of attempt ' || attempt || ' expired and no attempt is left' END, "
    "lease_owner = '', lease_until = 0 "
    "WHERE status = 1 AND lease_until < $1::bigint RETURNING ",
    kJobColumns, ") SELECT ", kJobColumns, " FROM reaped ORDER BY id");
inline constexpr auto kExpireOverdue = JoinSql(
    "WITH expired AS (UPDATE jobs SET status = 5, finished_at = $1::bigint, "
    "error_code = 'deadline_exceeded', "
    "error_message = 'the deadline passed before the job could run' "
    "WHERE status = 0 AND deadline <= $1::bigint RETURNING ",
    kJobColumns, ") SELECT ", kJobColumns, " FROM expired ORDER BY id");
// Locks the row: the status read decides the cancel's outcome and its counter change.
inline constexpr char kLockJobStatusAndQueue[] =
    "SELECT status, queue FROM jobs WHERE id = $1::text AND tenant = $2::text FOR UPDATE";
inline constexpr auto kCancelJob = JoinSql(
    "UPDATE jobs SET status = 6, finished_at = $3::bigint, lease_owner = '', lease_until = 0 "
    "WHERE id = $1::text AND tenant = $2::text AND status IN (0, 1, 4) RETURNING ",
    kJobColumns);

// --- review: guarded on status = review (4); $1 id, $2 tenant, $3 now ---
// $4 the result record that replaces the kept one.
inline constexpr auto kApproveReview = JoinSql(
    "WITH approved AS (UPDATE jobs SET status = 2, finished_at = $3::bigint, error_code = NULL, "
    "error_message = NULL WHERE id = $1::text AND tenant = $2::text AND status = 4 RETURNING ",
    kJobColumns,
    "), kept AS (INSERT INTO results (job_id, result) SELECT id, $4::text FROM approved "
    "ON CONFLICT (job_id) DO UPDATE SET result = excluded.result) "
    "SELECT ",
    kJobColumns, " FROM approved");
// $4 the reason.
inline constexpr auto kRejectReview = JoinSql(
    "UPDATE jobs SET status = 3, finished_at = $3::bigint, error_code = 'rejected', "
    "error_message = $4::text WHERE id = $1::text AND tenant = $2::text AND status = 4 "
    "RETURNING ",
    kJobColumns);
// Due now, with at least one attempt left; $4 the alias to pin ('': keep the job's model).
inline constexpr auto kRetryReview = JoinSql(
    "UPDATE jobs SET status = 0, finished_at = NULL, next_attempt_at = NULL, due_at = $3::bigint, "
    "max_attempts = greatest(max_attempts, attempt + 1), "
    "model = CASE WHEN $4::text = '' THEN model ELSE $4::text END "
    "WHERE id = $1::text AND tenant = $2::text AND status = 4 RETURNING ",
    kJobColumns);

// --- reads ---
inline constexpr auto kGetJob =
    JoinSql("SELECT ", kJobColumns, " FROM jobs WHERE id = $1::text AND tenant = $2::text");
inline constexpr char kGetResult[] =
    "SELECT r.result FROM results AS r JOIN jobs AS j ON j.id = r.job_id "
    "WHERE r.job_id = $1::text AND j.tenant = $2::text";
// No row: no such job. One row with a NULL record: a job without attempts.
inline constexpr char kGetAttempts[] =
    "SELECT a.record FROM jobs AS j LEFT JOIN attempts AS a ON a.job_id = j.id "
    "WHERE j.id = $1::text AND j.tenant = $2::text ORDER BY a.n";
// No row: no such job. One row with a NULL seq: a job without events.
inline constexpr char kJobEvents[] =
    "SELECT e.seq, e.job_id, e.at, e.type, e.data FROM jobs AS j "
    "LEFT JOIN events AS e ON e.job_id = j.id "
    "WHERE j.id = $1::text AND j.tenant = $2::text ORDER BY e.seq";
inline constexpr char kAppendEvent[] =
    "INSERT INTO events (job_id, tenant, at, type, data) "
    "SELECT id, tenant, $2::bigint, $3::text, $4::text FROM jobs WHERE id = $1::text";
// Per (queue, status): the count summed over its shards and, for queued jobs, the oldest
// one's created_at.
inline constexpr char kQueueStats[] =
    "SELECT c.queue, c.status, c.n, "
    "CASE WHEN c.status = 0 AND c.n > 0 THEN (SELECT min(j.created_at) FROM jobs AS j "
    "WHERE j.status = 0 AND j.queue = c.queue) END "
    "FROM (SELECT queue, status, sum(n)::bigint AS n FROM queue_counts "
    "GROUP BY queue, status) AS c ORDER BY c.queue, c.status";
inline constexpr char kPing[] = "SELECT 1";
inline constexpr char kServerEncoding[] = "SHOW server_encoding";

// --- webhook outbox (postgres_webhooks.cc) ---
// Leases due pending deliveries: $1 owner, $2 now, $3 lease until, $4 limit. Rows another node
// is claiming right now are passed over (SKIP LOCKED), and the lease's end becomes the due
// time, so no other node takes a claimed delivery until its lease ran out.
inline constexpr char kClaimWebhooks[] =
    "UPDATE webhook_deliveries SET lease_owner = $1::text, due_at = $3::bigint WHERE id IN ("
    "SELECT id FROM webhook_deliveries WHERE state = 0 AND due_at <= $2::bigint "
    "ORDER BY due_at LIMIT $4::bigint FOR UPDATE SKIP LOCKED) "
    "RETURNING id, job_id, tenant, type, url, created_at, attempts, coalesce(payload, ''), "
    "lease_owner";
// Compare-and-set on (id, lease owner, attempts done), one row per attempt (no delivery twice):
// arrays $1 id, $2 owner, $3 this attempt's number, $4 new state, $5 next due time, $6 payload
// (kept if none yet), $7 finished_at (NULL: pending). Returns the rows that matched.
inline constexpr char kRecordWebhooks[] =
    "UPDATE webhook_deliveries AS d SET attempts = u.n, state = u.state, due_at = u.due, "
    "lease_owner = '', payload = coalesce(d.payload, u.payload), finished_at = u.finished "
    "FROM unnest($1::text[], $2::text[], $3::integer[], $4::smallint[], $5::bigint[], "
    "$6::text[], $7::bigint[]) AS u (id, owner, n, state, due, payload, finished) "
    "WHERE d.id = u.id AND d.lease_owner = u.owner AND d.attempts = u.n - 1 AND d.state = 0 "
    "RETURNING d.id, d.job_id, d.tenant, d.type";

// $1 owner ('': every owner), $2 now.
inline constexpr char kReleaseWebhookLeases[] =
    "UPDATE webhook_deliveries SET lease_owner = '', due_at = $2::bigint "
    "WHERE state = 0 AND lease_owner <> '' AND ($1::text = '' OR lease_owner = $1::text)";

// --- event stream (postgres_events.cc) ---
// The newest seq handed out so far, committed or not (0 before the first).
inline constexpr char kLastEventSeq[] =
    "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('events', 'seq')::regclass), "
    "0)";
// The oldest transaction still running and the next transaction id, as numbers.
inline constexpr char kSnapshotBounds[] =
    "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
    "pg_snapshot_xmax(pg_current_snapshot())::text::bigint";
// $1 tenant, $2 after seq, $3 up to seq, $4 limit: a range of events_tenant.
inline constexpr char kEventsAfter[] =
    "SELECT seq, job_id, at, type, data FROM events WHERE tenant = $1::text AND seq > $2::bigint "
    "AND seq <= $3::bigint ORDER BY seq LIMIT $4::bigint";

// list_jobs: which optional filters a query has.
enum ListFilter : unsigned {
  kByStatus = 1,
  kByType = 2,
  kByQueue = 4,
  kByObjectId = 8,
  kAfterCursor = 16,
};
// The list query for one combination of filters, newest first. Parameters, numbered in this
// order and present only when their filter is: tenant, status, type, queue, object_id, cursor,
// then the limit. Built once per combination, so the planner sees plain equality terms and
// picks the index that fits.
const char* ListJobsSql(unsigned filters);

}  // namespace sluice::pg
