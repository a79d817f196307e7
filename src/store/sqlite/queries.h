// Every SQL statement the embedded store runs on a hot path, in one place, so that each can be
// read next to the indexes it relies on (migrations.cc) and its plan checked by a test
// (sqlite_plan_test.cc). Each constant has static storage: Connection caches the prepared
// statement under the constant's address, so no SQL text is built per call.
#pragma once

#include <array>
#include <cstddef>

namespace sluice::sqlite {

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

// The columns a Job is read from and written to, in the order of job_row.h.
inline constexpr char kJobColumns[] =
    "id, tenant, type, input, object_id, source, prompt_version, response_schema, model, "
    "allow_fallback, params, queue, priority, deadline, run_at, max_attempts, cost_limit_usd, "
    "dedup_key, webhook_url, metadata, status, attempt, created_at, started_at, finished_at, "
    "cost_usd, error_code, error_message, next_attempt_at, lease_owner, lease_until";
inline constexpr int kJobColumnCount = 31;

inline constexpr char kBegin[] = "BEGIN IMMEDIATE";
inline constexpr char kCommit[] = "COMMIT";
inline constexpr char kRollback[] = "ROLLBACK";

inline constexpr char kInsertEvent[] =
    "INSERT INTO events (job_id, tenant, at, type, data) VALUES (?1, ?2, ?3, ?4, ?5)";
inline constexpr char kAddToQueueCount[] =
    "INSERT INTO queue_counts (queue, status, n) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (queue, status) DO UPDATE SET n = n + excluded.n";

// --- submit ---
// A job whose (tenant, dedup_key) is taken is not inserted (changes() == 0); any other
// conflict (a reused id) is an error. Parameters: the kJobColumnCount job columns, then due_at.
inline constexpr auto kInsertJob = JoinSql(
    "INSERT INTO jobs (", kJobColumns,
    ", due_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
    "?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32) "
    "ON CONFLICT (tenant, dedup_key) WHERE dedup_key != '' DO NOTHING");
inline constexpr auto kFindByDedupKey = JoinSql(
    "SELECT ", kJobColumns, " FROM jobs WHERE tenant = ?1 AND dedup_key = ?2 AND dedup_key != ''");

// --- claim ---
// Claim walks the priority levels that have queued jobs from the highest down, and within one
// level takes due jobs in (due_at, id) order. Each step is one seek into jobs_claim. A single
// "ORDER BY priority DESC, due_at, id WHERE due_at <= now" would read the same index, but it
// could not seek past not-yet-due jobs of a higher priority: a million future jobs at
// priority 9 would be stepped over on every claim. Per level, due_at <= now is a range bound.
inline constexpr char kNextQueuedPriority[] =
    "SELECT priority FROM jobs WHERE status = 0 AND queue = ?1 AND priority < ?2 "
    "ORDER BY priority DESC LIMIT 1";
inline constexpr char kClaimCandidates[] =
    "SELECT rowid FROM jobs WHERE status = 0 AND queue = ?1 AND priority = ?2 AND due_at <= ?3 "
    "AND (deadline IS NULL OR deadline > ?3) ORDER BY due_at, id LIMIT ?4";
inline constexpr auto kStartAttempt = JoinSql(
    "UPDATE jobs SET status = 1, attempt = attempt + 1, lease_owner = ?2, lease_until = ?3, "
    "started_at = coalesce(started_at, ?4), next_attempt_at = NULL "
    "WHERE rowid = ?1 AND status = 0 RETURNING ",
    kJobColumns);

// --- finish: compare-and-set on (id, attempt, lease owner, running) ---
// ?1 id, ?2 attempt, ?3 lease owner, ?4 new status, ?5 finished_at (NULL: not finished),
// ?6 error code, ?7 error message (NULL: none), ?8 cost to add.
inline constexpr char kSettleAttempt[] =
    "UPDATE jobs SET status = ?4, finished_at = ?5, error_code = ?6, error_message = ?7, "
    "cost_usd = cost_usd + ?8, lease_owner = '', lease_until = 0 "
    "WHERE id = ?1 AND attempt = ?2 AND lease_owner = ?3 AND status = 1 "
    "RETURNING tenant, queue";
// ?1-?3 as above, ?4 retry_at, ?5 error code, ?6 error message, ?7 cost to add.
inline constexpr char kRetryAttempt[] =
    "UPDATE jobs SET status = 0, next_attempt_at = ?4, due_at = max(run_at, ?4), "
    "error_code = ?5, error_message = ?6, cost_usd = cost_usd + ?7, lease_owner = '', "
    "lease_until = 0 "
    "WHERE id = ?1 AND attempt = ?2 AND lease_owner = ?3 AND status = 1 "
    "RETURNING tenant, queue";
inline constexpr char kPutResult[] =
    "INSERT INTO results (job_id, result) VALUES (?1, ?2) "
    "ON CONFLICT (job_id) DO UPDATE SET result = excluded.result";
inline constexpr char kPutAttempt[] =
    "INSERT INTO attempts (job_id, n, record) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (job_id, n) DO UPDATE SET record = excluded.record";

// --- leases, reaping, expiry, cancel ---
inline constexpr char kRenewLeases[] =
    "UPDATE jobs SET lease_until = ?2 WHERE status = 1 AND lease_owner = ?1";
inline constexpr char kReleaseLeases[] =
    "UPDATE jobs SET status = 0, attempt = attempt - 1, lease_owner = '', lease_until = 0 "
    "WHERE status = 1 AND lease_owner = ?1 RETURNING id, tenant, queue, attempt";
// A dead worker's job goes back to the queue while attempts are left, else fails. (SET
// expressions read the row as it was before the update.)
inline constexpr auto kReapExpiredLeases = JoinSql(
    "UPDATE jobs SET "
    "status = CASE WHEN attempt < max_attempts THEN 0 ELSE 3 END, "
    "finished_at = CASE WHEN attempt < max_attempts THEN NULL ELSE ?1 END, "
    "error_code = CASE WHEN attempt < max_attempts THEN error_code ELSE 'lease_expired' END, "
    "error_message = CASE WHEN attempt < max_attempts THEN error_message "
    "ELSE 'the lease of attempt ' || attempt || ' expired and no attempt is left' END, "
    "lease_owner = '', lease_until = 0 "
    "WHERE status = 1 AND lease_until < ?1 RETURNING ",
    kJobColumns);
inline constexpr auto kExpireOverdue = JoinSql(
    "UPDATE jobs SET status = 5, finished_at = ?1, error_code = 'deadline_exceeded', "
    "error_message = 'the deadline passed before the job could run' "
    "WHERE status = 0 AND deadline <= ?1 RETURNING ",
    kJobColumns);
inline constexpr char kJobStatusAndQueue[] =
    "SELECT status, queue FROM jobs WHERE id = ?1 AND tenant = ?2";
inline constexpr auto kCancelJob = JoinSql(
    "UPDATE jobs SET status = 6, finished_at = ?3, lease_owner = '', lease_until = 0 "
    "WHERE id = ?1 AND tenant = ?2 AND status IN (0, 1, 4) RETURNING ",
    kJobColumns);

// --- review: guarded on status = review (4); ?1 id, ?2 tenant, ?3 now ---
inline constexpr auto kApproveReview = JoinSql(
    "UPDATE jobs SET status = 2, finished_at = ?3, error_code = NULL, error_message = NULL "
    "WHERE id = ?1 AND tenant = ?2 AND status = 4 RETURNING ",
    kJobColumns);
// ?4 the reason.
inline constexpr auto kRejectReview = JoinSql(
    "UPDATE jobs SET status = 3, finished_at = ?3, error_code = 'rejected', error_message = ?4 "
    "WHERE id = ?1 AND tenant = ?2 AND status = 4 RETURNING ",
    kJobColumns);
// Due now, with at least one attempt left; ?4 the alias to pin ('': keep the job's model).
inline constexpr auto kRetryReview = JoinSql(
    "UPDATE jobs SET status = 0, finished_at = NULL, next_attempt_at = NULL, due_at = ?3, "
    "max_attempts = max(max_attempts, attempt + 1), "
    "model = CASE WHEN ?4 = '' THEN model ELSE ?4 END "
    "WHERE id = ?1 AND tenant = ?2 AND status = 4 RETURNING ",
    kJobColumns);

// --- reads ---
inline constexpr auto kGetJob =
    JoinSql("SELECT ", kJobColumns, " FROM jobs WHERE id = ?1 AND tenant = ?2");
inline constexpr char kJobExists[] = "SELECT 1 FROM jobs WHERE id = ?1 AND tenant = ?2";
inline constexpr char kGetResult[] =
    "SELECT r.result FROM results AS r JOIN jobs AS j ON j.id = r.job_id "
    "WHERE r.job_id = ?1 AND j.tenant = ?2";
inline constexpr char kGetAttempts[] = "SELECT record FROM attempts WHERE job_id = ?1 ORDER BY n";
inline constexpr char kJobEvents[] =
    "SELECT seq, job_id, at, type, data FROM events WHERE job_id = ?1 ORDER BY seq";
inline constexpr char kAppendEvent[] =
    "INSERT INTO events (job_id, tenant, at, type, data) "
    "SELECT id, tenant, ?2, ?3, ?4 FROM jobs WHERE id = ?1";
inline constexpr char kQueueCounts[] =
    "SELECT queue, status, n FROM queue_counts ORDER BY queue, status";
inline constexpr char kOldestQueued[] =
    "SELECT min(created_at) FROM jobs WHERE status = 0 AND queue = ?1";
inline constexpr char kPing[] = "SELECT 1";

// --- webhook outbox (sqlite_webhooks.cc) and event stream ---
// Queues the delivery of a job's end event, for a job with a webhook_url (else inserts nothing):
// ?1 event id, ?2 webhook type, ?3 the transition's time, ?4 job id.
inline constexpr char kQueueWebhook[] =
    "INSERT INTO webhook_deliveries (id, job_id, tenant, type, url, created_at, state, attempts, "
    "due_at, lease_owner) "
    "SELECT ?1, id, tenant, ?2, webhook_url, ?3, 0, 0, ?3, '' FROM jobs "
    "WHERE id = ?4 AND webhook_url != ''";
// The same for a batch's end (batch.completed, ...): ?4 is the batch id.
inline constexpr char kQueueBatchWebhook[] =
    "INSERT INTO webhook_deliveries (id, job_id, tenant, type, url, created_at, state, attempts, "
    "due_at, lease_owner) "
    "SELECT ?1, id, tenant, ?2, webhook_url, ?3, 0, 0, ?3, '' FROM batches "
    "WHERE id = ?4 AND webhook_url != ''";
// Leases due pending deliveries (a range of webhook_due): ?1 owner, ?2 now, ?3 lease until,
// ?4 limit. The lease's end becomes the due time, so an unrecorded claim comes due again.
inline constexpr char kClaimWebhooks[] =
    "UPDATE webhook_deliveries SET lease_owner = ?1, due_at = ?3 WHERE rowid IN ("
    "SELECT rowid FROM webhook_deliveries WHERE state = 0 AND due_at <= ?2 "
    "ORDER BY due_at LIMIT ?4) "
    "RETURNING id, job_id, tenant, type, url, created_at, attempts, coalesce(payload, ''), "
    "lease_owner";
// Compare-and-set on (id, lease owner, attempts done): ?1 id, ?2 owner, ?3 this attempt's
// number, ?4 new state, ?5 next due time, ?6 payload (kept if none yet), ?7 finished_at.
inline constexpr char kRecordWebhook[] =
    "UPDATE webhook_deliveries SET attempts = ?3, state = ?4, due_at = ?5, lease_owner = '', "
    "payload = coalesce(payload, ?6), finished_at = ?7 "
    "WHERE id = ?1 AND lease_owner = ?2 AND attempts = ?3 - 1 AND state = 0 "
    "RETURNING job_id, tenant, type";
// ?1 owner ('': every owner), ?2 now.
inline constexpr char kReleaseWebhookLeases[] =
    "UPDATE webhook_deliveries SET lease_owner = '', due_at = ?2 "
    "WHERE state = 0 AND lease_owner != '' AND (?1 = '' OR lease_owner = ?1)";
inline constexpr char kLastEvent[] = "SELECT coalesce(max(seq), 0) FROM events";
// ?1 tenant, ?2 after seq, ?3 limit: a range of events_tenant.
inline constexpr char kEventsAfter[] =
    "SELECT seq, job_id, at, type, data FROM events WHERE tenant = ?1 AND seq > ?2 "
    "ORDER BY seq LIMIT ?3";

// list_jobs: which optional filters a query has.
enum ListFilter : unsigned {
  kByStatus = 1,
  kByType = 2,
  kByQueue = 4,
  kByObjectId = 8,
  kAfterCursor = 16,
};
// The list query for one combination of filters (parameters: ?1 tenant, ?2 status, ?3 type,
// ?4 queue, ?5 object_id, ?6 cursor, ?7 limit), newest first. Built once per combination, so
// the planner sees plain equality terms and picks the index that fits.
const char* ListJobsSql(unsigned filters);

}  // namespace sluice::sqlite
