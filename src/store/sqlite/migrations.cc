#include "store/sqlite/migrations.h"

#include <array>

#include "store/sqlite/sqlite_session.h"

namespace sluice::sqlite {

namespace {

// THE RULE FOR CHANGING THE FORMAT: this list is append only. A migration that has shipped is
// never edited, reordered or removed, because databases in the field already ran it and record
// only its number. To change the schema, append {next version, sql} that transforms the
// previous shape into the new one (the same numbered change goes into the PostgreSQL engine).
// Values persisted inside columns follow the same rule: JobStatus numbers (core/job.h) are
// append only, times are integer ms since the Unix epoch.
//
// Index reasoning (every index slows submit a little; each one below earns its place):
// - jobs_claim: claim is a range seek per priority level over queued rows only (the partial
//   WHERE keeps finished jobs out, so the index holds just the queue). deadline and status are
//   carried so that the claim query is answered from the index alone (SQLite 3.40 counts a
//   partial index as covering only when it holds the columns of its own WHERE too; a
//   constant 0 costs no payload bytes).
// - jobs_dedup: one job per (tenant, dedup_key); it is also the submit-time conflict target.
// - jobs_deadline / jobs_lease / jobs_lease_owner: expiry, reaping and heartbeats touch only
//   the few rows they concern.
// - jobs_tenant / jobs_tenant_status / jobs_tenant_object: listing newest first, optionally
//   by status or object_id, without a sort.
// - jobs_queued_age: oldest queued job per queue for queue_stats.
// - queue_counts: per (queue, status) counters kept in the same transaction as every state
//   change, so queue_stats never counts a million rows.
constexpr std::array kMigrations = {
    sql::Migration{1, R"sql(
CREATE TABLE jobs (
  id              TEXT PRIMARY KEY,
  tenant          TEXT NOT NULL,
  type            TEXT NOT NULL,
  input           TEXT NOT NULL,
  object_id       TEXT NOT NULL,
  source          TEXT NOT NULL,
  prompt_version  TEXT NOT NULL,
  response_schema TEXT NOT NULL,
  model           TEXT NOT NULL,
  params          TEXT NOT NULL,
  queue           TEXT NOT NULL,
  priority        INTEGER NOT NULL,
  deadline        INTEGER,           -- ms; NULL: none
  run_at          INTEGER NOT NULL,
  max_attempts    INTEGER NOT NULL,
  cost_limit_usd  REAL,              -- NULL: none
  dedup_key       TEXT NOT NULL,     -- '': no dedup
  webhook_url     TEXT NOT NULL,
  metadata        TEXT NOT NULL,
  status          INTEGER NOT NULL,  -- JobStatus
  attempt         INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  started_at      INTEGER,
  finished_at     INTEGER,
  cost_usd        REAL NOT NULL,
  error_code      TEXT,              -- NULL: no error
  error_message   TEXT,
  next_attempt_at INTEGER,
  lease_owner     TEXT NOT NULL,     -- '': not leased
  lease_until     INTEGER NOT NULL,
  -- When a queued job may be claimed: run_at, or max(run_at, next_attempt_at) after a retry.
  -- One column, so that claim is one ordered index range.
  due_at          INTEGER NOT NULL
);
CREATE INDEX jobs_claim ON jobs (queue, priority DESC, due_at, id, deadline, status)
  WHERE status = 0;
CREATE UNIQUE INDEX jobs_dedup ON jobs (tenant, dedup_key) WHERE dedup_key != '';
CREATE INDEX jobs_deadline ON jobs (deadline) WHERE status = 0 AND deadline IS NOT NULL;
CREATE INDEX jobs_lease ON jobs (lease_until) WHERE status = 1;
CREATE INDEX jobs_lease_owner ON jobs (lease_owner) WHERE status = 1;
CREATE INDEX jobs_tenant ON jobs (tenant, id);
CREATE INDEX jobs_tenant_status ON jobs (tenant, status, id);
CREATE INDEX jobs_tenant_object ON jobs (tenant, object_id, id) WHERE object_id != '';
CREATE INDEX jobs_queued_age ON jobs (queue, created_at) WHERE status = 0;

CREATE TABLE results (
  job_id TEXT PRIMARY KEY,
  result TEXT NOT NULL
);

CREATE TABLE attempts (
  job_id TEXT NOT NULL,
  n      INTEGER NOT NULL,
  record TEXT NOT NULL,
  PRIMARY KEY (job_id, n)
);

-- AUTOINCREMENT: seq is never reused, even after the newest events are deleted, so a stream
-- cursor ("events after seq N") stays meaningful.
CREATE TABLE events (
  seq    INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL,
  tenant TEXT NOT NULL,
  at     INTEGER NOT NULL,
  type   TEXT NOT NULL,
  data   TEXT NOT NULL
);
CREATE INDEX events_job ON events (job_id, seq);

CREATE TABLE queue_counts (
  queue  TEXT NOT NULL,
  status INTEGER NOT NULL,
  n      INTEGER NOT NULL,
  PRIMARY KEY (queue, status)
) WITHOUT ROWID;
)sql"},
    // A job may forbid its pinned model from falling back to the alias's chain (0). Jobs
    // written before this column existed keep the old behaviour: fallback allowed (1).
    sql::Migration{2, R"sql(
ALTER TABLE jobs ADD COLUMN allow_fallback INTEGER NOT NULL DEFAULT 1;
)sql"},
    // The shared engine's migration 3 adds its blobs table; the embedded engine keeps blobs in
    // files under the data dir (blobs/file_blob_store.h), so here the version only moves on and
    // both engines keep one numbering.
    sql::Migration{3, R"sql(
SELECT 1;
)sql"},
    // Files and batches (core/batch.h, sqlite/sqlite_batches.cc). A job made from a batch line
    // carries the batch's id; jobs_batch_status counts a batch's jobs by status from the index
    // alone, jobs_batch_id walks them in id order when the output files are written. Both are
    // partial: jobs outside batches cost them nothing. File content lives in chunks of at most
    // ~1 MiB, so no reader or writer ever holds a whole file. A batch's status is its name.
    sql::Migration{4, R"sql(
ALTER TABLE jobs ADD COLUMN batch_id TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_batch_status ON jobs (batch_id, status) WHERE batch_id != '';
CREATE INDEX jobs_batch_id ON jobs (batch_id, id) WHERE batch_id != '';

CREATE TABLE files (
  id         TEXT PRIMARY KEY,
  tenant     TEXT NOT NULL,
  purpose    TEXT NOT NULL,
  filename   TEXT NOT NULL,
  bytes      INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  complete   INTEGER NOT NULL   -- 0 while its chunks are being written: invisible
);
CREATE TABLE file_chunks (
  file_id TEXT NOT NULL,
  n       INTEGER NOT NULL,
  content BLOB NOT NULL,
  PRIMARY KEY (file_id, n)
) WITHOUT ROWID;

CREATE TABLE batches (
  id                TEXT PRIMARY KEY,
  tenant            TEXT NOT NULL,
  endpoint          TEXT NOT NULL,
  input_file_id     TEXT NOT NULL,
  completion_window TEXT NOT NULL,
  metadata          TEXT NOT NULL,
  status            TEXT NOT NULL,
  outcome           TEXT,              -- NULL until finalizing
  errors            TEXT NOT NULL,     -- '': none
  output_file_id    TEXT NOT NULL,
  error_file_id     TEXT NOT NULL,
  created_at        INTEGER NOT NULL,
  expires_at        INTEGER NOT NULL,
  in_progress_at    INTEGER,
  finalizing_at     INTEGER,
  completed_at      INTEGER,
  failed_at         INTEGER,
  expired_at        INTEGER,
  cancelling_at     INTEGER,
  cancelled_at      INTEGER,
  total             INTEGER NOT NULL,
  completed         INTEGER NOT NULL,
  failed            INTEGER NOT NULL,
  ingested          INTEGER NOT NULL,
  ingest_line       INTEGER NOT NULL,
  ingest_offset     INTEGER NOT NULL,
  runner            TEXT NOT NULL,
  runner_until      INTEGER NOT NULL
);
CREATE INDEX batches_tenant ON batches (tenant, id);
CREATE INDEX batches_active ON batches (status, id)
  WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling');

CREATE TABLE batch_line_errors (
  batch_id    TEXT NOT NULL,
  line        INTEGER NOT NULL,
  custom_id   TEXT NOT NULL,
  status_code INTEGER NOT NULL,   -- 0: no response, only an error
  code        TEXT NOT NULL,
  message     TEXT NOT NULL,
  field       TEXT NOT NULL,
  PRIMARY KEY (batch_id, line)
) WITHOUT ROWID;
)sql"},
    // The webhook outbox (store.h "Webhook outbox"): one row per event to deliver, written in
    // the transaction of the job's transition. state: 0 pending, 1 delivered, 2 gave up,
    // 3 refused (values persisted: append only). due_at is when a pending row may be claimed;
    // a claim moves it to the lease's end, so a dead node's delivery becomes due again.
    // webhook_due holds only pending rows. events_tenant serves the event stream (events of one
    // tenant after a seq) without reading other tenants' events.
    sql::Migration{5, R"sql(
CREATE TABLE webhook_deliveries (
  id          TEXT PRIMARY KEY,     -- "evt_...", the Sluice-Event-Id
  job_id      TEXT NOT NULL,
  tenant      TEXT NOT NULL,
  type        TEXT NOT NULL,        -- "job.done", ...
  url         TEXT NOT NULL,
  created_at  INTEGER NOT NULL,     -- ms: the transition's time
  state       INTEGER NOT NULL,
  attempts    INTEGER NOT NULL,
  due_at      INTEGER NOT NULL,     -- ms
  lease_owner TEXT NOT NULL,        -- '': not leased
  payload     TEXT,                 -- the body of the first attempt; NULL before it
  finished_at INTEGER
);
CREATE INDEX webhook_due ON webhook_deliveries (due_at) WHERE state = 0;
CREATE INDEX events_tenant ON events (tenant, seq);
)sql"},
    // A batch's webhook_url (Sluice's extension of POST /v1/batches): its final transition
    // queues a delivery in the outbox, like a job's end. '': none.
    sql::Migration{6, R"sql(
ALTER TABLE batches ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
)sql"},
    // Tenants, API keys, budgets, fair share and retention (store/tenant_records.h).
    // - api_keys_hash: a request's key is found by the hash of its secret, never by a scan.
    // - tenant_usage: the month's settled spend of a tenant with a budget; budget_reservations:
    //   the worst case of the calls in flight, each until it is settled or expires (a dead node's
    //   reservations stop counting on their own).
    // - jobs.blocked_reason: why a queued job is held ('budget'); '' for none.
    // - jobs_claim_tenant: the claim of one tenant's due jobs in a queue (fair share), and the
    //   tenants that have due jobs there, from the index alone.
    // - jobs_finished: retention walks terminal jobs by the time they ended.
    // - job_blobs: which job references which of its tenant's blobs, so that retention deletes
    //   only blobs no remaining job needs. Jobs stored before it get theirs from their input
    //   (a blob input is stored as exactly {"blob":"sha256:<64 hex>"}, api/job_request.cc).
    // - webhook_deliveries_job: retention deletes a job's deliveries with it (and keeps a job
    //   whose delivery is still pending).
    sql::Migration{7, R"sql(
CREATE TABLE tenants (
  id                 TEXT PRIMARY KEY,
  weight             INTEGER NOT NULL,
  rpm                INTEGER NOT NULL,   -- API requests a minute, 0: no limit
  max_queued         INTEGER NOT NULL,   -- live jobs, 0: no limit
  monthly_budget_usd REAL NOT NULL,      -- 0: no limit
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL
);
CREATE TABLE api_keys (
  id         TEXT PRIMARY KEY,           -- "key_..."
  tenant     TEXT NOT NULL,
  name       TEXT NOT NULL,
  hash       TEXT NOT NULL,              -- hex sha256 of the secret
  created_at INTEGER NOT NULL,
  revoked_at INTEGER                     -- NULL: live
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);
CREATE INDEX api_keys_tenant ON api_keys (tenant, id);
CREATE TABLE tenant_usage (
  tenant    TEXT NOT NULL,
  month     TEXT NOT NULL,               -- "2026-12" (UTC)
  spent_usd REAL NOT NULL,
  PRIMARY KEY (tenant, month)
) WITHOUT ROWID;
CREATE TABLE budget_reservations (
  id         TEXT PRIMARY KEY,           -- "<job id>:<attempt>", or a sync call's id
  tenant     TEXT NOT NULL,
  month      TEXT NOT NULL,
  amount_usd REAL NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX budget_reservations_tenant ON budget_reservations (tenant, month);
ALTER TABLE jobs ADD COLUMN blocked_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_claim_tenant ON jobs (queue, tenant, priority DESC, due_at, id, deadline, status)
  WHERE status = 0;
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE status IN (2, 3, 5, 6);
CREATE TABLE job_blobs (
  job_id  TEXT NOT NULL,
  tenant  TEXT NOT NULL,
  blob_id TEXT NOT NULL,
  PRIMARY KEY (job_id, blob_id)
) WITHOUT ROWID;
CREATE INDEX job_blobs_blob ON job_blobs (tenant, blob_id);
INSERT INTO job_blobs (job_id, tenant, blob_id)
  SELECT id, tenant, substr(input, 10, 71) FROM jobs
  WHERE input LIKE '{"blob":"sha256:%' AND length(input) = 82;
CREATE INDEX webhook_deliveries_job ON webhook_deliveries (job_id);
)sql"},
    // PII masking (privacy/): a job's own flag (resolved at submit from the body, the
    // Sluice-Mask-PII header, its prompt version and its tenant) and a tenant's default.
    sql::Migration{8, R"sql(
ALTER TABLE jobs ADD COLUMN mask_pii INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN mask_pii INTEGER NOT NULL DEFAULT 0;
)sql"},
    // The cost ledger (store/cost_records.h): one row per model call, written with the call's
    // attempt finish or sync settlement, never deleted by retention. Money in integer nano-USD
    // so that sums are exact. month is the UTC month of `at`, stored so that a month's report is
    // one range of model_calls_month.
    sql::Migration{9, R"sql(
CREATE TABLE model_calls (
  seq               INTEGER PRIMARY KEY,
  tenant            TEXT NOT NULL,
  month             TEXT NOT NULL,       -- "2026-11" (UTC), of at
  at                INTEGER NOT NULL,    -- when the call started
  job_id            TEXT NOT NULL,       -- '' for a synchronous call
  attempt           INTEGER NOT NULL,    -- 0 for a synchronous call
  task_type         TEXT NOT NULL,       -- the job's type; 'sync' for a synchronous call
  provider          TEXT NOT NULL,
  model_alias       TEXT NOT NULL,
  model_id          TEXT NOT NULL,
  prompt_tokens     INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  cached_tokens     INTEGER NOT NULL,    -- of prompt_tokens
  reasoning_tokens  INTEGER NOT NULL,    -- of completion_tokens
  cost_nano_usd     INTEGER NOT NULL,
  unpriced          INTEGER NOT NULL     -- 1: tokens used, nothing charged (no price)
);
CREATE INDEX model_calls_month ON model_calls (month, tenant);
)sql"},
    // The audit log (store/audit_records.h): entries pending with the transaction of what they
    // record, the sealed hash chain, and the anchor of what retention pruned. Records are
    // inserted once and never updated; only a whole prefix of the chain is ever deleted.
    sql::Migration{10, R"sql(
CREATE TABLE audit_pending (
  id      INTEGER PRIMARY KEY,
  at      INTEGER NOT NULL,
  tenant  TEXT NOT NULL,
  actor   TEXT NOT NULL,
  action  TEXT NOT NULL,
  job_id  TEXT NOT NULL,
  record  TEXT NOT NULL,     -- canonical JSON but for prev_hash and seq (AuditEntry)
  prev_hash_at INTEGER NOT NULL,
  seq_at  INTEGER NOT NULL
);
CREATE TABLE audit_log (
  seq     INTEGER PRIMARY KEY,   -- the chain's order: one seq, one record, no fork
  at      INTEGER NOT NULL,
  tenant  TEXT NOT NULL,
  action  TEXT NOT NULL,
  job_id  TEXT NOT NULL,
  record  TEXT NOT NULL,     -- the canonical JSON without hash (store/audit_chain.h)
  hash    TEXT NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log (tenant, seq);
CREATE INDEX audit_log_job ON audit_log (job_id, seq) WHERE job_id <> '';
CREATE TABLE audit_anchor (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  seq     INTEGER NOT NULL,  -- the last pruned record
  hash    TEXT NOT NULL
);
)sql"},
};

}  // namespace

std::span<const sql::Migration> Migrations() {
  return kMigrations;
}

Status ApplyMigrations(Connection& conn) {
  ConnectionSession session(conn);
  return sql::ApplyMigrations(
      session, Migrations(),
      {.begin = "BEGIN IMMEDIATE",  // the write lock: one process migrates at a time
       .lock = nullptr,
       .create_table = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY "
                       "KEY, applied_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS "
                       "INTEGER) * 1000))"});
}

}  // namespace sluice::sqlite
