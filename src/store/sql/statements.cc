#include "store/sql/statements.h"

#include <string>

#include "store/sql/columns.h"

namespace sluice::sql {

namespace {

// A statement PostgreSQL runs with a row-lock clause appended. SQLite needs none: its one
// writer holds the database's write lock for the whole transaction.
Statement WithRowLock(const std::string& postgres, std::string_view lock = " FOR UPDATE") {
  return PerDialect(SqliteSpelling(Splice(postgres)), postgres + std::string(lock));
}

Statement ListJobs(unsigned filters) {
  std::string sql = "SELECT {jobs} FROM jobs WHERE tenant = $1::text";
  int n = 1;
  auto next = [&n] { return "$" + std::to_string(++n); };
  if (filters & kByStatus) sql += " AND status = " + next() + "::smallint";
  if (filters & kByType) sql += " AND type = " + next() + "::text";
  if (filters & kByQueue) sql += " AND queue = " + next() + "::text";
  // The literal "object_id != ''" lets SQLite's planner use the partial index jobs_tenant_object.
  if (filters & kByObjectId) sql += " AND object_id = " + next() + "::text AND object_id != ''";
  if (filters & kAfterCursor) sql += " AND id < " + next() + "::text";
  sql += " ORDER BY id DESC LIMIT " + next() + "::bigint";
  return Portable(sql);
}

// Store::audit_records for a set of AuditList filters: each along the index that holds it
// (audit_log_tenant, audit_log_job, or the chain's own order), the action a residual filter.
Statement AuditRecords(unsigned filters) {
  std::string sql =
      "SELECT seq, at, tenant, action, job_id, record, hash FROM audit_log "
      "WHERE seq > $1::bigint AND ($3::text = '' OR action = $3::text)";
  int n = 3;
  auto next = [&n] { return "$" + std::to_string(++n); };
  if (filters & kAuditByTenant) sql += " AND tenant = " + next() + "::text";
  // The literal "job_id <> ''" lets SQLite's planner use the partial index audit_log_job.
  if (filters & kAuditByJob) sql += " AND job_id = " + next() + "::text AND job_id <> ''";
  sql += " ORDER BY seq LIMIT $2::bigint";
  return Portable(sql);
}

// Fair share (Store::due_tenants): the tenants of a queue whose queued jobs claim would take
// now, by id, from jobs_claim_tenant alone. A recursive walk that holds one row at a time, each
// step a few index seeks, so that neither a tenant's 100 000 due jobs nor its 100 000
// not-yet-due ones are ever stepped over one by one. A row (tenant, level, due) is a probe of one
// priority level of a tenant (due NULL), or that probe answered (due: whether the level holds a
// job claim would take now). After an answer comes the probe of the tenant's next lower level
// when this one was not due, else of the next tenant's highest level; a probe without a tenant
// ends the walk (it is never asked for its levels: PostgreSQL, whose statistics may call the
// tenant column unselective, could answer that from another index by a scan). Levels are walked
// as claim walks them: due_at <= now is a range bound only within one level.
Statement DueTenants() {
  auto queued = [](const char* j) {
    return std::string(j) + ".status = {queued} AND " + j + ".queue = $1::text";
  };
  auto highest_level_of = [&](const std::string& tenant) {
    return "(SELECT h.priority FROM jobs AS h WHERE " + queued("h") + " AND h.tenant = " +
           tenant + " ORDER BY h.priority DESC LIMIT 1)";
  };
  const std::string next_tenant = "(SELECT n.tenant FROM jobs AS n WHERE " + queued("n") +
                                  " AND n.tenant > w.tenant ORDER BY n.tenant LIMIT 1)";
  const std::string lower_level = "(SELECT l.priority FROM jobs AS l WHERE " + queued("l") +
                                  " AND l.tenant = w.tenant AND l.priority < w.level "
                                  "ORDER BY l.priority DESC LIMIT 1)";
  // Not EXISTS (...): PostgreSQL plans an EXISTS that it expects to match many rows as a
  // sequential scan that stops at the first match, which a level of not-yet-due jobs turns into
  // a scan of the table. The ORDER BY of the index's own order keeps it a seek.
  const std::string level_due = "(SELECT d.due_at FROM jobs AS d WHERE " + queued("d") +
                                " AND d.tenant = w.tenant AND d.priority = w.level "
                                "AND d.due_at <= $2::bigint "
                                "AND (d.deadline IS NULL OR d.deadline > $2::bigint) "
                                "ORDER BY d.due_at LIMIT 1) IS NOT NULL";
  const std::string stays = "NOT w.due AND " + lower_level + " IS NOT NULL";
  return Portable(
      "WITH RECURSIVE walk (tenant, level, due) AS ("
      " SELECT s.tenant, s.priority, NULL::boolean FROM (SELECT f.tenant, f.priority FROM jobs AS f"
      " WHERE " + queued("f") + " ORDER BY f.tenant, f.priority DESC LIMIT 1) AS s"
      " UNION ALL"
      " SELECT"
      " CASE WHEN w.due IS NULL THEN w.tenant WHEN " + stays + " THEN w.tenant"
      " ELSE " + next_tenant + " END,"
      " CASE WHEN w.due IS NULL THEN w.level WHEN " + stays + " THEN " + lower_level +
      " WHEN " + next_tenant + " IS NOT NULL THEN " + highest_level_of(next_tenant) + " END,"
      " CASE WHEN w.due IS NULL THEN " + level_due + " END"
      " FROM walk AS w WHERE w.tenant IS NOT NULL) "
      "SELECT tenant FROM walk WHERE due LIMIT $3::bigint");
}

// "col = $2::type, ...": every column but the first (the key) set from its parameter.
template <typename T>
std::string Assignments(const Table<T>& table) {
  std::string out;
  int n = 1;
  for (const Column<T>& c : table.columns()) {
    if (n++ == 1) continue;
    if (!out.empty()) out += ", ";
    out += std::string(c.name) + " = $" + std::to_string(n - 1) + "::" + CastName(c.type);
  }
  return out;
}

// Deletes the rows whose `column` is one of the ids in $1 (a JSON array of strings), with the
// condition `also`: one statement for any number of ids on either engine, each id one seek into
// the column's index.
Statement DeleteByIds(const std::string& table, const std::string& column,
                      const std::string& also = "") {
  return PerDialect("DELETE FROM " + table + " WHERE " + column +
                        " IN (SELECT value FROM json_each(?1))" + also,
                    "DELETE FROM " + table + " WHERE " + column +
                        " = ANY (ARRAY (SELECT json_array_elements_text($1::json)))" + also);
}

// model_calls' columns in the order of the JSON rows of insert_charges (sql_costs.cc).
constexpr char kChargeColumns[] =
    "tenant, month, at, job_id, attempt, task_type, provider, model_alias, model_id, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost_nano_usd, unpriced";

// A file of a purged batch goes unless another batch reads it as its input.
constexpr char kNoBatchReads[] =
    " AND NOT EXISTS (SELECT 1 FROM batches WHERE batches.input_file_id = ";

Statements Build() {
  const std::string batch_params = BatchColumns().placeholders();
  Statements s{
      // --- jobs: reads ---
      .get_job = Portable("SELECT {jobs} FROM jobs WHERE id = $1::text AND tenant = $2::text"),
      .job_exists = Portable("SELECT 1 FROM jobs WHERE id = $1::text AND tenant = $2::text"),
      .get_result = Portable(
          "SELECT r.result FROM results AS r JOIN jobs AS j ON j.id = r.job_id "
          "WHERE r.job_id = $1::text AND j.tenant = $2::text"),
      .get_attempts = Portable("SELECT record FROM attempts WHERE job_id = $1::text ORDER BY n"),
      .job_events =
          Portable("SELECT {events} FROM events WHERE job_id = $1::text ORDER BY seq"),
      // PostgreSQL keeps shards of each counter (its migrations.cc); SQLite one row each.
      .queue_counts = Portable(
          "SELECT queue, status, sum(n)::bigint FROM queue_counts GROUP BY queue, status "
          "ORDER BY queue, status"),
      .oldest_queued = Portable(
          "SELECT min(created_at) FROM jobs WHERE status = {queued} AND queue = $1::text"),
      // The tenant's rows through jobs_tenant_status: proportional to its jobs (retention
      // bounds them), never to other tenants'.
      .tenant_stats = Portable(
          "SELECT queue, status, count(*), coalesce(sum(cost_usd), 0) FROM jobs "
          "WHERE tenant = $1::text GROUP BY queue, status ORDER BY queue, status"),
      .due_tenants = DueTenants(),
      .ping = Portable("SELECT 1"),
      .list_jobs = {},

      // --- jobs: transitions ---
      .lock_job_status = WithRowLock(
          "SELECT status, queue FROM jobs WHERE id = $1::text AND tenant = $2::text"),
      .cancel_job = Portable(
          "UPDATE jobs SET status = {canceled}, finished_at = $3::bigint, lease_owner = '', "
          "lease_until = 0 WHERE id = $1::text AND tenant = $2::text "
          "AND status IN ({queued}, {running}, {review}) RETURNING {jobs}"),
      .approve_review = Portable(
          "UPDATE jobs SET status = {done}, finished_at = $3::bigint, error_code = NULL, "
          "error_message = NULL WHERE id = $1::text AND tenant = $2::text AND status = {review} "
          "RETURNING {jobs}"),
      .reject_review = Portable(
          "UPDATE jobs SET status = {failed}, finished_at = $3::bigint, error_code = 'rejected', "
          "error_message = $4::text WHERE id = $1::text AND tenant = $2::text "
          "AND status = {review} RETURNING {jobs}"),
      // Due now, with at least one attempt left.
      .retry_review = Portable(
          "UPDATE jobs SET status = {queued}, finished_at = NULL, next_attempt_at = NULL, "
          "due_at = $3::bigint, max_attempts = greatest(max_attempts, attempt + 1), "
          "model = CASE WHEN $4::text = '' THEN model ELSE $4::text END "
          "WHERE id = $1::text AND tenant = $2::text AND status = {review} RETURNING {jobs}"),
      .put_result = Portable(
          "INSERT INTO results (job_id, result) VALUES ($1::text, $2::text) "
          "ON CONFLICT (job_id) DO UPDATE SET result = excluded.result"),
      .renew_leases = Portable(
          "UPDATE jobs SET lease_until = $2::bigint WHERE status = {running} "
          "AND lease_owner = $1::text"),
      .release_leases = Portable(
          "UPDATE jobs SET status = {queued}, attempt = attempt - 1, lease_owner = '', "
          "lease_until = 0 WHERE status = {running} AND lease_owner = $1::text "
          "RETURNING id, tenant, queue, attempt"),
      // A dead worker's job goes back to the queue while attempts are left, else fails. (SET
      // expressions read the row as it was before the update.)
      .reap_expired = Portable(
          "UPDATE jobs SET "
          "status = CASE WHEN attempt < max_attempts THEN {queued} ELSE {failed} END, "
          "finished_at = CASE WHEN attempt < max_attempts THEN NULL ELSE $1::bigint END, "
          "error_code = CASE WHEN attempt < max_attempts THEN error_code ELSE 'lease_expired' "
          "END, error_message = CASE WHEN attempt < max_attempts THEN error_message "
          "ELSE 'the lease of attempt ' || attempt || ' expired and no attempt is left' END, "
          "lease_owner = '', lease_until = 0 "
          "WHERE status = {running} AND lease_until < $2::bigint RETURNING {jobs}"),
      .expire_overdue = Portable(
          "UPDATE jobs SET status = {expired}, finished_at = $1::bigint, "
          "error_code = 'deadline_exceeded', "
          "error_message = 'the deadline passed before the job could run' "
          "WHERE status = {queued} AND deadline <= $1::bigint RETURNING {jobs}"),

      // --- events and the webhook outbox ---
      .insert_event = Portable(
          "INSERT INTO events (job_id, tenant, at, type, data) "
          "VALUES ($1::text, $2::text, $3::bigint, $4::text, $5::text)"),
      // Inserts nothing for a job (or batch) without a webhook_url.
      .queue_job_webhook = Portable(
          "INSERT INTO webhook_deliveries (id, job_id, tenant, type, url, created_at, state, "
          "attempts, due_at, lease_owner) "
          "SELECT $1::text, id, tenant, $2::text, webhook_url, $3::bigint, {delivery_pending}, "
          "0, $3::bigint, '' FROM jobs WHERE id = $4::text AND webhook_url != ''"),
      .queue_batch_webhook = Portable(
          "INSERT INTO webhook_deliveries (id, job_id, tenant, type, url, created_at, state, "
          "attempts, due_at, lease_owner) "
          "SELECT $1::text, id, tenant, $2::text, webhook_url, $3::bigint, {delivery_pending}, "
          "0, $3::bigint, '' FROM batches WHERE id = $4::text AND webhook_url != ''"),
      // A range of events_tenant.
      .events_after = Portable(
          "SELECT {events} FROM events WHERE tenant = $1::text AND seq > $2::bigint "
          "AND seq <= $3::bigint ORDER BY seq LIMIT $4::bigint"),
      // Leases due pending deliveries (a range of webhook_due); the lease's end becomes the due
      // time, so an unrecorded claim comes due again. PostgreSQL passes over rows another node
      // is claiming right now.
      .claim_webhooks = PerDialect(
          "UPDATE webhook_deliveries SET lease_owner = ?1, due_at = ?3 WHERE rowid IN ("
          "SELECT rowid FROM webhook_deliveries WHERE state = {delivery_pending} "
          "AND due_at <= ?2 ORDER BY due_at LIMIT ?4) RETURNING {deliveries}",
          "UPDATE webhook_deliveries SET lease_owner = $1::text, due_at = $3::bigint "
          "WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = {delivery_pending} "
          "AND due_at <= $2::bigint ORDER BY due_at LIMIT $4::bigint FOR UPDATE SKIP LOCKED) "
          "RETURNING {deliveries}"),
      // Compare-and-set on (id, lease owner, attempts done): $1 id, $2 owner, $3 this attempt's
      // number, $4 new state, $5 next due time, $6 payload (kept if none yet), $7 finished_at.
      .record_webhook = Portable(
          "UPDATE webhook_deliveries SET attempts = $3::integer, state = $4::smallint, "
          "due_at = $5::bigint, lease_owner = '', payload = coalesce(payload, $6::text), "
          "finished_at = $7::bigint WHERE id = $1::text AND lease_owner = $2::text "
          "AND attempts = $3::integer - 1 AND state = {delivery_pending} "
          "RETURNING job_id, tenant, type"),
      .release_webhook_leases = Portable(
          "UPDATE webhook_deliveries SET lease_owner = '', due_at = $2::bigint "
          "WHERE state = {delivery_pending} AND lease_owner != '' "
          "AND ($1::text = '' OR lease_owner = $1::text)"),

      // --- files ---
      .create_file = Portable("INSERT INTO files ({files}, complete) VALUES (" +
                              FileColumns().placeholders() + ", 0)"),
      .put_file_chunk = Portable(
          "INSERT INTO file_chunks (file_id, n, content) VALUES ($1::text, $2::bigint, "
          "$3::bytea) ON CONFLICT (file_id, n) DO UPDATE SET content = excluded.content"),
      .complete_file =
          Portable("UPDATE files SET complete = 1, bytes = $2::bigint WHERE id = $1::text"),
      .delete_chunks = Portable("DELETE FROM file_chunks WHERE file_id = $1::text"),
      .delete_file = Portable("DELETE FROM files WHERE id = $1::text"),
      .get_file = Portable(
          "SELECT {files} FROM files WHERE id = $1::text AND tenant = $2::text AND complete = 1"),
      .get_file_chunk =
          Portable("SELECT content FROM file_chunks WHERE file_id = $1::text AND n = $2::bigint")
              .with_binary_result(),

      // --- batches ---
      .insert_batch = Portable("INSERT INTO batches ({batches}) VALUES (" + batch_params + ")"),
      .update_batch = Portable("UPDATE batches SET " + Assignments(BatchColumns()) +
                               " WHERE id = $1::text"),
      .get_batch =
          Portable("SELECT {batches} FROM batches WHERE id = $1::text AND tenant = $2::text"),
      .lock_batch = WithRowLock("SELECT {batches} FROM batches WHERE id = $1::text"),
      .list_batches = Portable(
          "SELECT {batches} FROM batches WHERE tenant = $1::text ORDER BY id DESC "
          "LIMIT $2::bigint"),
      .list_batches_after = Portable(
          "SELECT {batches} FROM batches WHERE tenant = $1::text AND id < $3::text "
          "ORDER BY id DESC LIMIT $2::bigint"),
      // A batch that needs a node's exclusive work (batch_rules::NeedsExclusiveWork) with a
      // free lease; PostgreSQL skips rows another node holds locked.
      .lease_batch = WithRowLock(
          "SELECT {batches} FROM batches "
          "WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling') "
          "AND (status IN ('validating', 'finalizing') OR ingested = 0) "
          "AND (runner = '' OR runner_until < $2::bigint) AND $1::text != '' "
          "ORDER BY id LIMIT 1",
          " FOR UPDATE SKIP LOCKED"),
      .open_batches = Portable(
          "SELECT {batches} FROM batches WHERE status IN ('in_progress', 'cancelling') "
          "AND ingested = 1 ORDER BY id LIMIT $1::bigint"),
      .batch_progress = Portable(
          "SELECT status, count(*) FROM jobs WHERE batch_id = $1::text GROUP BY status "
          "UNION ALL SELECT -1, count(*) FROM batch_line_errors WHERE batch_id = $1::text"),
      .insert_line_error = Portable("INSERT INTO batch_line_errors (batch_id, {line_errors}) "
                                    "VALUES ($1::text, " +
                                    LineErrorColumns().placeholders(2) +
                                    ") ON CONFLICT (batch_id, line) DO NOTHING"),
      .batch_line_errors = Portable(
          "SELECT {line_errors} FROM batch_line_errors WHERE batch_id = $1::text "
          "AND line > $2::bigint ORDER BY line LIMIT $3::bigint"),
      // PostgreSQL: MATERIALIZED so that the LIMIT applies once (an IN (subquery) may be
      // planned to run again), and rows another node is changing are passed over.
      .cancel_batch_jobs = PerDialect(
          "UPDATE jobs SET status = {canceled}, finished_at = ?2, lease_owner = '', "
          "lease_until = 0 WHERE rowid IN (SELECT rowid FROM jobs WHERE batch_id = ?1 "
          "AND status = {queued} LIMIT ?3) RETURNING id, tenant, queue",
          "WITH picked AS MATERIALIZED (SELECT id FROM jobs WHERE batch_id = $1::text "
          "AND status = {queued} LIMIT $3::bigint FOR UPDATE SKIP LOCKED) "
          "UPDATE jobs SET status = {canceled}, finished_at = $2::bigint, lease_owner = '', "
          "lease_until = 0 FROM picked WHERE jobs.id = picked.id AND jobs.status = {queued} "
          "RETURNING jobs.id, jobs.tenant, jobs.queue"),
      .batch_jobs = Portable(
          "SELECT {jobs}, (SELECT result FROM results WHERE job_id = jobs.id) FROM jobs "
          "WHERE batch_id = $1::text AND id > $2::text ORDER BY id LIMIT $3::bigint"),

      // --- tenants and API keys ---
      // A concurrent creation of the same id waits for the first and then inserts nothing.
      .insert_tenant = Portable("INSERT INTO tenants ({tenants}) VALUES (" +
                                TenantColumns().placeholders() + ") ON CONFLICT (id) DO NOTHING"),
      .lock_tenant = WithRowLock("SELECT {tenants} FROM tenants WHERE id = $1::text"),
      .update_tenant = Portable("UPDATE tenants SET " + Assignments(TenantColumns()) +
                                " WHERE id = $1::text"),
      .get_tenant = Portable("SELECT {tenants} FROM tenants WHERE id = $1::text"),
      .list_tenants = Portable("SELECT {tenants} FROM tenants ORDER BY id"),
      .tenant_exists = Portable("SELECT 1 FROM tenants WHERE id = $1::text"),
      // A range of jobs_tenant_status. Only moves due_at earlier: a job already due stays as
      // it is, and the claim that takes it clears blocked_reason.
      .unblock_jobs = Portable(
          "UPDATE jobs SET due_at = $2::bigint WHERE tenant = $1::text AND status = {queued} "
          "AND blocked_reason = $3::text AND due_at > $2::bigint RETURNING queue"),
      .insert_api_key = Portable("INSERT INTO api_keys ({api_keys}) VALUES (" +
                                 ApiKeyColumns().placeholders() + ")"),
      .list_api_keys =
          Portable("SELECT {api_keys} FROM api_keys WHERE tenant = $1::text ORDER BY id"),
      .list_all_api_keys = Portable("SELECT {api_keys} FROM api_keys ORDER BY id"),
      // A second revoke keeps the first time.
      .revoke_api_key = Portable(
          "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2::bigint) WHERE id = $1::text "
          "RETURNING {api_keys}"),
      .find_api_key = Portable("SELECT {api_keys} FROM api_keys WHERE hash = $1::text"),
      .any_api_key = Portable("SELECT 1 FROM api_keys LIMIT 1"),
      // Three seeks into jobs_tenant_status, counted from the index alone.
      .live_jobs = Portable(
          "SELECT count(*) FROM jobs WHERE tenant = $1::text "
          "AND status IN ({queued}, {running}, {review})"),

      // --- budgets ---
      .spent = Portable(
          "SELECT spent_usd FROM tenant_usage WHERE tenant = $1::text AND month = $2::text"),
      // Makes sure the month's row exists and locks it until the transaction ends (an upsert
      // that changes nothing still locks the row it conflicted on, and reads its newest
      // version): the one lock that serializes the reservations of a tenant's month across
      // nodes. SQLite's one writer serializes them anyway.
      .lock_usage = Portable(
          "INSERT INTO tenant_usage (tenant, month, spent_usd) VALUES ($1::text, $2::text, 0) "
          "ON CONFLICT (tenant, month) DO UPDATE SET spent_usd = tenant_usage.spent_usd "
          "RETURNING spent_usd"),
      // The month's spend so far from its jobs' costs, unless the month already has a row.
      .seed_usage = Portable(
          "INSERT INTO tenant_usage (tenant, month, spent_usd) "
          "SELECT $1::text, $2::text, coalesce(sum(cost_usd), 0) FROM jobs "
          "WHERE tenant = $1::text AND created_at >= $3::bigint AND created_at < $4::bigint "
          "ON CONFLICT (tenant, month) DO NOTHING"),
      .add_spend = Portable(
          "INSERT INTO tenant_usage (tenant, month, spent_usd) "
          "VALUES ($1::text, $2::text, $3::float8) ON CONFLICT (tenant, month) "
          "DO UPDATE SET spent_usd = tenant_usage.spent_usd + excluded.spent_usd"),
      // A range of budget_reservations_tenant.
      .live_reserved = Portable(
          "SELECT coalesce(sum(amount_usd), 0) FROM budget_reservations WHERE tenant = $1::text "
          "AND month = $2::text AND expires_at > $3::bigint"),
      // Deletes up to $3 expired reservations of the tenant (their calls' nodes died). PostgreSQL
      // passes over rows a settlement is deleting right now, so a sweep never waits for one
      // while it holds a month's lock that the settlement needs next.
      .sweep_reservations = PerDialect(
          "DELETE FROM budget_reservations WHERE rowid IN (SELECT rowid FROM budget_reservations "
          "WHERE tenant = ?1 AND expires_at <= ?2 LIMIT ?3)",
          "DELETE FROM budget_reservations WHERE id IN (SELECT id FROM budget_reservations "
          "WHERE tenant = $1::text AND expires_at <= $2::bigint LIMIT $3::bigint "
          "FOR UPDATE SKIP LOCKED)"),
      .insert_reservation = Portable("INSERT INTO budget_reservations ({reservations}) VALUES (" +
                                     ReservationColumns().placeholders() + ")"),
      .delete_reservation = Portable(
          "DELETE FROM budget_reservations WHERE id = $1::text RETURNING tenant, month"),

      // --- the cost ledger ---
      // One statement for any number of rows on either engine (as the retention deletes).
      .insert_charges = PerDialect(
          "INSERT INTO model_calls (" + std::string(kChargeColumns) + ") SELECT "
          "json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), "
          "json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'), "
          "json_extract(value, '$[6]'), json_extract(value, '$[7]'), json_extract(value, '$[8]'), "
          "json_extract(value, '$[9]'), json_extract(value, '$[10]'), "
          "json_extract(value, '$[11]'), json_extract(value, '$[12]'), "
          "json_extract(value, '$[13]'), json_extract(value, '$[14]') FROM json_each(?1)",
          "INSERT INTO model_calls (" + std::string(kChargeColumns) + ") SELECT "
          "r->>0, r->>1, (r->>2)::bigint, r->>3, (r->>4)::integer, r->>5, r->>6, r->>7, r->>8, "
          "(r->>9)::bigint, (r->>10)::bigint, (r->>11)::bigint, (r->>12)::bigint, "
          "(r->>13)::bigint, (r->>14)::integer FROM json_array_elements($1::json) AS r"),
      // A range of model_calls_month. Integer sums: exact (cost_records.h); PostgreSQL sums
      // bigints as numeric, cast back (a month of one install stays far below 2^63 nano-USD).
      .cost_lines = Portable(
          "SELECT tenant, task_type, provider, model_alias, model_id, count(*), "
          "sum(prompt_tokens)::bigint, sum(completion_tokens)::bigint, "
          "sum(cached_tokens)::bigint, sum(reasoning_tokens)::bigint, "
          "sum(cost_nano_usd)::bigint, sum(unpriced)::bigint FROM model_calls "
          "WHERE month = $1::text AND ($2::text = '' OR tenant = $2::text) "
          "GROUP BY tenant, task_type, provider, model_alias, model_id "
          "ORDER BY tenant, task_type, provider, model_alias, model_id"),
      .cost_jobs = Portable(
          "SELECT tenant, count(DISTINCT job_id) FROM model_calls "
          "WHERE month = $1::text AND ($2::text = '' OR tenant = $2::text) AND job_id <> '' "
          "GROUP BY tenant ORDER BY tenant"),

      // --- the audit log ---
      // SQLite has one writer; on PostgreSQL a node that does not get the lock seals nothing
      // this time (another one is sealing).
      .audit_seal_lock = PerDialect(
          "SELECT 1",
          "SELECT CASE WHEN pg_try_advisory_xact_lock(127978142631522) THEN 1 ELSE 0 END"),
      .audit_head = Portable("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"),
      .audit_anchor = Portable("SELECT seq, hash FROM audit_anchor WHERE id = 1"),
      .put_audit_anchor = Portable(
          "INSERT INTO audit_anchor (id, seq, hash) VALUES (1, $1::bigint, $2::text) "
          "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash"),
      .audit_pending_batch = Portable(
          "SELECT id, at, tenant, actor, action, job_id, record, prev_hash_at, seq_at "
          "FROM audit_pending "
          "ORDER BY id LIMIT $1::bigint"),
      .audit_pending_count = Portable("SELECT count(*) FROM audit_pending"),
      .insert_audit_records = PerDialect(
          "INSERT INTO audit_log (seq, at, tenant, action, job_id, record, hash) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
          "INSERT INTO audit_log (seq, at, tenant, action, job_id, record, hash) SELECT "
          "(r->>0)::bigint, (r->>1)::bigint, r->>2, r->>3, r->>4, r->>5, r->>6 "
          "FROM json_array_elements($1::json) AS r"),
      .delete_audit_pending = PostgresOnly(
          "DELETE FROM audit_pending WHERE id IN "
          "(SELECT value::bigint FROM json_array_elements_text($1::json))"),
      .audit_oldest = Portable(
          "SELECT seq, at, hash FROM audit_log ORDER BY seq LIMIT $1::bigint"),
      .prune_audit = Portable("DELETE FROM audit_log WHERE seq <= $1::bigint"),

      // --- retention ---
      .insert_job_blob = Portable(
          "INSERT INTO job_blobs (job_id, tenant, blob_id) VALUES ($1::text, $2::text, $3::text) "
          "ON CONFLICT DO NOTHING"),
      .blob_referenced = Portable(
          "SELECT 1 FROM job_blobs WHERE tenant = $1::text AND blob_id = $2::text LIMIT 1"),
      // Oldest first along jobs_finished (the status list is its WHERE, spelt the same so that
      // SQLite may use it). A job whose webhook is still being delivered stays until the
      // delivery ends. PostgreSQL passes over rows another node is purging right now.
      .pick_finished_jobs = WithRowLock(
          "SELECT id, queue, status FROM jobs "
          "WHERE status IN ({done}, {failed}, {expired}, {canceled}) AND finished_at < $1::bigint "
          "AND NOT EXISTS (SELECT 1 FROM webhook_deliveries AS w WHERE w.job_id = jobs.id "
          "AND w.state = {delivery_pending}) ORDER BY finished_at LIMIT $2::bigint",
          " FOR UPDATE SKIP LOCKED"),
      // A batch ended at the time of its final status. Batches are few next to jobs: a scan.
      .pick_final_batches = WithRowLock(
          "SELECT id, input_file_id, output_file_id, error_file_id FROM batches "
          "WHERE status IN ('completed', 'failed', 'expired', 'cancelled') "
          "AND CASE status WHEN 'completed' THEN completed_at WHEN 'failed' THEN failed_at "
          "WHEN 'expired' THEN expired_at ELSE cancelled_at END < $1::bigint "
          "AND NOT EXISTS (SELECT 1 FROM webhook_deliveries AS w WHERE w.job_id = batches.id "
          "AND w.state = {delivery_pending}) ORDER BY id LIMIT $2::bigint",
          " FOR UPDATE SKIP LOCKED"),
      .delete_job_results = DeleteByIds("results", "job_id"),
      .delete_job_attempts = DeleteByIds("attempts", "job_id"),
      .delete_job_blobs = DeleteByIds("job_blobs", "job_id"),
      .delete_jobs = DeleteByIds("jobs", "id"),
      .delete_subject_events = DeleteByIds("events", "job_id"),
      .delete_subject_webhooks = DeleteByIds("webhook_deliveries", "job_id"),
      .delete_line_errors = DeleteByIds("batch_line_errors", "batch_id"),
      .delete_batches = DeleteByIds("batches", "id"),
      .delete_unread_chunks = DeleteByIds("file_chunks", "file_id",
                                          std::string(kNoBatchReads) + "file_chunks.file_id)"),
      .delete_unread_files =
          DeleteByIds("files", "id", std::string(kNoBatchReads) + "files.id)"),
  };
  for (unsigned f = 0; f < s.list_jobs.size(); ++f) s.list_jobs[f] = ListJobs(f);
  for (unsigned f = 0; f < s.audit_records.size(); ++f) s.audit_records[f] = AuditRecords(f);
  return s;
}

}  // namespace

const Statements& Sql() {
  static const auto* const kStatements = new Statements(Build());
  return *kStatements;
}

}  // namespace sluice::sql
