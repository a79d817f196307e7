#include "store/postgres/migrations.h"

#include <array>

#include "store/postgres/pg_session.h"

namespace sluice::pg {

namespace {

// THE RULE FOR CHANGING THE FORMAT: this list is append only. A migration that has shipped is
// never edited, reordered or removed, because databases in the field already ran it and record
// only its number. To change the schema, append {next version, sql} that transforms the
// previous shape into the new one, with the same number as the embedded engine's change
// (store/sqlite/migrations.cc). Values persisted inside columns follow the same rule: JobStatus
// numbers (core/job.h) are append only, times are integer ms since the Unix epoch.
//
// Column types mirror the embedded engine's: times BIGINT ms, status SMALLINT, JSON as TEXT
// (the store never looks inside). Keys that are compared or sorted (ids, tenants, queues,
// dedup keys, lease owners) use the "C" collation: byte order, as in SQLite, whatever the
// database's locale, and the cheapest comparison there is.
//
// Index reasoning (as in the embedded engine; every index slows submit a little):
// - jobs_claim: claim walks the queued rows of one queue by priority level, then (due_at, id)
//   within a level; the partial WHERE keeps finished jobs out, so the index holds just the
//   queues.
// - jobs_dedup: one job per (tenant, dedup_key); also the ON CONFLICT target of submit.
// - jobs_deadline / jobs_lease / jobs_lease_owner: expiry, reaping and heartbeats touch only
//   the few rows they concern.
// - jobs_tenant / jobs_tenant_status / jobs_tenant_object: listing newest first, optionally
//   by status or object_id, without a sort.
// - jobs_queued_age: oldest queued job per queue for queue_stats.
// - queue_counts: per (queue, status) counters kept in the same transaction as every state
//   change, so queue_stats never counts a million rows. Unlike SQLite, many transactions
//   commit at once here, and one counter row per (queue, status) would make every submit,
//   claim and finish of a queue wait in line for that row's lock until the holder's commit
//   is flushed. So each counter is split over shards (a transaction adds to the shard of its
//   server process); queue_stats sums them.
constexpr std::array kMigrations = {
    sql::Migration{1, R"sql(
CREATE TABLE jobs (
  id              TEXT COLLATE "C" PRIMARY KEY,
  tenant          TEXT COLLATE "C" NOT NULL,
  type            TEXT COLLATE "C" NOT NULL,
  input           TEXT NOT NULL,
  object_id       TEXT COLLATE "C" NOT NULL,
  source          TEXT NOT NULL,
  prompt_version  TEXT NOT NULL,
  response_schema TEXT NOT NULL,
  model           TEXT NOT NULL,
  params          TEXT NOT NULL,
  queue           TEXT COLLATE "C" NOT NULL,
  priority        INTEGER NOT NULL,
  deadline        BIGINT,            -- ms; NULL: none
  run_at          BIGINT NOT NULL,
  max_attempts    INTEGER NOT NULL,
  cost_limit_usd  DOUBLE PRECISION,  -- NULL: none
  dedup_key       TEXT COLLATE "C" NOT NULL,  -- '': no dedup
  webhook_url     TEXT NOT NULL,
  metadata        TEXT NOT NULL,
  status          SMALLINT NOT NULL, -- JobStatus
  attempt         INTEGER NOT NULL,
  created_at      BIGINT NOT NULL,
  started_at      BIGINT,
  finished_at     BIGINT,
  cost_usd        DOUBLE PRECISION NOT NULL,
  error_code      TEXT,              -- NULL: no error
  error_message   TEXT,
  next_attempt_at BIGINT,
  lease_owner     TEXT COLLATE "C" NOT NULL,  -- '': not leased
  lease_until     BIGINT NOT NULL,
  -- When a queued job may be claimed: run_at, or max(run_at, next_attempt_at) after a retry.
  -- One column, so that claim is one ordered index range per priority level.
  due_at          BIGINT NOT NULL
);
CREATE INDEX jobs_claim ON jobs (queue, priority DESC, due_at, id) WHERE status = 0;
CREATE UNIQUE INDEX jobs_dedup ON jobs (tenant, dedup_key) WHERE dedup_key <> '';
CREATE INDEX jobs_deadline ON jobs (deadline) WHERE status = 0 AND deadline IS NOT NULL;
CREATE INDEX jobs_lease ON jobs (lease_until) WHERE status = 1;
CREATE INDEX jobs_lease_owner ON jobs (lease_owner) WHERE status = 1;
CREATE INDEX jobs_tenant ON jobs (tenant, id);
CREATE INDEX jobs_tenant_status ON jobs (tenant, status, id);
CREATE INDEX jobs_tenant_object ON jobs (tenant, object_id, id) WHERE object_id <> '';
CREATE INDEX jobs_queued_age ON jobs (queue, created_at) WHERE status = 0;

CREATE TABLE results (
  job_id TEXT COLLATE "C" PRIMARY KEY,
  result TEXT NOT NULL
);

CREATE TABLE attempts (
  job_id TEXT COLLATE "C" NOT NULL,
  n      INTEGER NOT NULL,
  record TEXT NOT NULL,
  PRIMARY KEY (job_id, n)
);

-- An identity never reuses a value, so a stream cursor ("events after seq N") stays
-- meaningful. Values are taken when a transaction inserts, not when it commits: a reader may
-- see seq N+1 before N's transaction commits.
CREATE TABLE events (
  seq    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id TEXT COLLATE "C" NOT NULL,
  tenant TEXT COLLATE "C" NOT NULL,
  at     BIGINT NOT NULL,
  type   TEXT NOT NULL,
  data   TEXT NOT NULL
);
CREATE INDEX events_job ON events (job_id, seq);

CREATE TABLE queue_counts (
  queue  TEXT COLLATE "C" NOT NULL,
  status SMALLINT NOT NULL,
  shard  SMALLINT NOT NULL,
  n      BIGINT NOT NULL,
  PRIMARY KEY (queue, status, shard)
);
)sql"},
    // A job may forbid its pinned model from falling back to the alias's chain (0). Jobs
    // written before this column existed keep the old behaviour: fallback allowed (1).
    sql::Migration{2, R"sql(
ALTER TABLE jobs ADD COLUMN allow_fallback SMALLINT NOT NULL DEFAULT 1;
)sql"},
    // Blobs live in the shared database, so every node reads what any node took
    // (postgres/postgres_blob_store.h). The id is the content's sha256; rows are never updated.
    // The embedded engine keeps its blobs in files: its migration 3 changes nothing.
    sql::Migration{3, R"sql(
CREATE TABLE blobs (
  id         TEXT COLLATE "C" PRIMARY KEY,  -- "sha256:<64 hex>"
  bytes      BIGINT NOT NULL,
  content    BYTEA NOT NULL,
  created_at BIGINT NOT NULL                -- ms
);
)sql"},
    // Files and batches, as the embedded engine's migration 4 (store/sqlite/migrations.cc):
    // jobs.batch_id with two partial indexes, file metadata plus ~1 MiB content chunks, batch
    // rows, and the line errors of batches.
    sql::Migration{4, R"sql(
ALTER TABLE jobs ADD COLUMN batch_id TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX jobs_batch_status ON jobs (batch_id, status) WHERE batch_id <> '';
CREATE INDEX jobs_batch_id ON jobs (batch_id, id) WHERE batch_id <> '';

CREATE TABLE files (
  id         TEXT COLLATE "C" PRIMARY KEY,
  tenant     TEXT COLLATE "C" NOT NULL,
  purpose    TEXT NOT NULL,
  filename   TEXT NOT NULL,
  bytes      BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  complete   SMALLINT NOT NULL
);
CREATE TABLE file_chunks (
  file_id TEXT COLLATE "C" NOT NULL,
  n       BIGINT NOT NULL,
  content BYTEA NOT NULL,
  PRIMARY KEY (file_id, n)
);

CREATE TABLE batches (
  id                TEXT COLLATE "C" PRIMARY KEY,
  tenant            TEXT COLLATE "C" NOT NULL,
  endpoint          TEXT NOT NULL,
  input_file_id     TEXT NOT NULL,
  completion_window TEXT NOT NULL,
  metadata          TEXT NOT NULL,
  status            TEXT NOT NULL,
  outcome           TEXT,
  errors            TEXT NOT NULL,
  output_file_id    TEXT NOT NULL,
  error_file_id     TEXT NOT NULL,
  created_at        BIGINT NOT NULL,
  expires_at        BIGINT NOT NULL,
  in_progress_at    BIGINT,
  finalizing_at     BIGINT,
  completed_at      BIGINT,
  failed_at         BIGINT,
  expired_at        BIGINT,
  cancelling_at     BIGINT,
  cancelled_at      BIGINT,
  total             BIGINT NOT NULL,
  completed         BIGINT NOT NULL,
  failed            BIGINT NOT NULL,
  ingested          SMALLINT NOT NULL,
  ingest_line       BIGINT NOT NULL,
  ingest_offset     BIGINT NOT NULL,
  runner            TEXT COLLATE "C" NOT NULL,
  runner_until      BIGINT NOT NULL
);
CREATE INDEX batches_tenant ON batches (tenant, id);
CREATE INDEX batches_active ON batches (status, id)
  WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling');

CREATE TABLE batch_line_errors (
  batch_id    TEXT COLLATE "C" NOT NULL,
  line        BIGINT NOT NULL,
  custom_id   TEXT NOT NULL,
  status_code INTEGER NOT NULL,
  code        TEXT NOT NULL,
  message     TEXT NOT NULL,
  field       TEXT NOT NULL,
  PRIMARY KEY (batch_id, line)
);
)sql"},
    // The webhook outbox, as in the embedded engine's migration 5 (store.h "Webhook outbox").
    // state: 0 pending, 1 delivered, 2 gave up, 3 refused (persisted: append only). Claims lock
    // due pending rows FOR UPDATE SKIP LOCKED and move due_at to the lease's end, so nodes
    // never deliver one event at once and a dead node's delivery becomes due again.
    // events_tenant serves the event stream of one tenant.
    sql::Migration{5, R"sql(
CREATE TABLE webhook_deliveries (
  id          TEXT COLLATE "C" PRIMARY KEY,  -- "evt_...", the Sluice-Event-Id
  job_id      TEXT COLLATE "C" NOT NULL,
  tenant      TEXT COLLATE "C" NOT NULL,
  type        TEXT NOT NULL,                 -- "job.done", ...
  url         TEXT NOT NULL,
  created_at  BIGINT NOT NULL,               -- ms: the transition's time
  state       SMALLINT NOT NULL,
  attempts    INTEGER NOT NULL,
  due_at      BIGINT NOT NULL,               -- ms
  lease_owner TEXT COLLATE "C" NOT NULL,     -- '': not leased
  payload     TEXT,                          -- the body of the first attempt; NULL before it
  finished_at BIGINT
);
CREATE INDEX webhook_due ON webhook_deliveries (due_at) WHERE state = 0;
CREATE INDEX events_tenant ON events (tenant, seq);
)sql"},
    // A batch's webhook_url (Sluice's extension of POST /v1/batches): its final transition
    // queues a delivery in the outbox, like a job's end. '': none.
    sql::Migration{6, R"sql(
ALTER TABLE batches ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
)sql"},
    // Tenants, API keys, budgets, fair share and retention, as the embedded engine's migration 7
    // (store/sqlite/migrations.cc). Blobs become per tenant: the same bytes of two tenants are two
    // rows, and one tenant's id never finds another's blob. From here blobs.created_at is a
    // blob's age for retention: a put or a submit that names the blob moves it to now.
    sql::Migration{7, R"sql(
CREATE TABLE tenants (
  id                 TEXT COLLATE "C" PRIMARY KEY,
  weight             INTEGER NOT NULL,
  rpm                BIGINT NOT NULL,             -- API requests a minute, 0: no limit
  max_queued         BIGINT NOT NULL,             -- live jobs, 0: no limit
  monthly_budget_usd DOUBLE PRECISION NOT NULL,   -- 0: no limit
  created_at         BIGINT NOT NULL,
  updated_at         BIGINT NOT NULL
);
CREATE TABLE api_keys (
  id         TEXT COLLATE "C" PRIMARY KEY,        -- "key_..."
  tenant     TEXT COLLATE "C" NOT NULL,
  name       TEXT NOT NULL,
  hash       TEXT COLLATE "C" NOT NULL,           -- hex sha256 of the secret
  created_at BIGINT NOT NULL,
  revoked_at BIGINT                               -- NULL: live
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);
CREATE INDEX api_keys_tenant ON api_keys (tenant, id);
CREATE TABLE tenant_usage (
  tenant    TEXT COLLATE "C" NOT NULL,
  month     TEXT COLLATE "C" NOT NULL,            -- "2026-12" (UTC)
  spent_usd DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (tenant, month)
);
CREATE TABLE budget_reservations (
  id         TEXT COLLATE "C" PRIMARY KEY,        -- "<job id>:<attempt>", or a sync call's id
  tenant     TEXT COLLATE "C" NOT NULL,
  month      TEXT COLLATE "C" NOT NULL,
  amount_usd DOUBLE PRECISION NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX budget_reservations_tenant ON budget_reservations (tenant, month);
ALTER TABLE jobs ADD COLUMN blocked_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_claim_tenant ON jobs (queue, tenant, priority DESC, due_at, id) WHERE status = 0;
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE status IN (2, 3, 5, 6);
CREATE TABLE job_blobs (
  job_id  TEXT COLLATE "C" NOT NULL,
  tenant  TEXT COLLATE "C" NOT NULL,
  blob_id TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (job_id, blob_id)
);
CREATE INDEX job_blobs_blob ON job_blobs (tenant, blob_id);
ALTER TABLE blobs ADD COLUMN tenant TEXT COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE blobs DROP CONSTRAINT blobs_pkey;
ALTER TABLE blobs ADD PRIMARY KEY (tenant, id);
INSERT INTO job_blobs (job_id, tenant, blob_id)
  SELECT id, tenant, substr(input, 10, 71) FROM jobs
  WHERE input LIKE '{"blob":"sha256:%' AND length(input) = 82;
CREATE INDEX webhook_deliveries_job ON webhook_deliveries (job_id);
)sql"},
    // PII masking, as the embedded engine's migration 8.
    sql::Migration{8, R"sql(
ALTER TABLE jobs ADD COLUMN mask_pii SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN mask_pii SMALLINT NOT NULL DEFAULT 0;
)sql"},
    // The cost ledger, as the embedded engine's migration 9 (store/sqlite/migrations.cc).
    sql::Migration{9, R"sql(
CREATE TABLE model_calls (
  seq               BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  tenant            TEXT COLLATE "C" NOT NULL,
  month             TEXT COLLATE "C" NOT NULL,    -- "2026-11" (UTC), of at
  at                BIGINT NOT NULL,              -- when the call started
  job_id            TEXT COLLATE "C" NOT NULL,    -- '' for a synchronous call
  attempt           INTEGER NOT NULL,             -- 0 for a synchronous call
  task_type         TEXT COLLATE "C" NOT NULL,    -- the job's type; 'sync' for a synchronous call
  provider          TEXT COLLATE "C" NOT NULL,
  model_alias       TEXT COLLATE "C" NOT NULL,
  model_id          TEXT COLLATE "C" NOT NULL,
  prompt_tokens     BIGINT NOT NULL,
  completion_tokens BIGINT NOT NULL,
  cached_tokens     BIGINT NOT NULL,              -- of prompt_tokens
  reasoning_tokens  BIGINT NOT NULL,              -- of completion_tokens
  cost_nano_usd     BIGINT NOT NULL,
  unpriced          INTEGER NOT NULL              -- 1: tokens used, nothing charged (no price)
);
CREATE INDEX model_calls_month ON model_calls (month, tenant);
)sql"},
    // The audit log, as the embedded engine's migration 10 (store/sqlite/migrations.cc).
    sql::Migration{10, R"sql(
CREATE TABLE audit_pending (
  id      BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  at      BIGINT NOT NULL,
  tenant  TEXT COLLATE "C" NOT NULL,
  actor   TEXT COLLATE "C" NOT NULL,
  action  TEXT COLLATE "C" NOT NULL,
  job_id  TEXT COLLATE "C" NOT NULL,
  record  TEXT NOT NULL,
  prev_hash_at BIGINT NOT NULL,
  seq_at  BIGINT NOT NULL
);
CREATE TABLE audit_log (
  seq     BIGINT PRIMARY KEY,
  at      BIGINT NOT NULL,
  tenant  TEXT COLLATE "C" NOT NULL,
  action  TEXT COLLATE "C" NOT NULL,
  job_id  TEXT COLLATE "C" NOT NULL,
  record  TEXT NOT NULL,
  hash    TEXT COLLATE "C" NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log (tenant, seq);
CREATE INDEX audit_log_job ON audit_log (job_id, seq) WHERE job_id <> '';
CREATE TABLE audit_anchor (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  seq     BIGINT NOT NULL,
  hash    TEXT COLLATE "C" NOT NULL
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
      {.begin = "BEGIN",
       // A key of our own: one node at a time migrates a database. Advisory locks are per
       // database, so schemas of one database migrate one after the other, which costs nothing
       // worth a per-schema key.
       .lock = "SELECT pg_advisory_xact_lock(127978142631521)",
       .create_table = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY "
                       "KEY, applied_at BIGINT NOT NULL DEFAULT (extract(epoch FROM now()) * "
                       "1000)::bigint)"});
}

}  // namespace sluice::pg
