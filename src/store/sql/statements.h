// Every statement the store core runs, named, each with its text for both dialects
// (sql/statement.h), so that each can be read next to the indexes it relies on (both engines'
// migrations.cc) and its SQLite plan checked by a test (sqlite/sqlite_plan_test.cc). Built once,
// at first use; the texts have static storage (engines cache prepared statements by address).
//
// Parameters are listed per statement as $1, $2, ...; job status numbers are spliced from
// JobStatus ({queued}, ...), column lists from sql/columns.h ({jobs}, ...).
#pragma once

#include <array>

#include "store/sql/statement.h"

namespace sluice::sql {

struct Statements {
  // --- jobs: reads ---
  Statement get_job;          // $1 id, $2 tenant
  Statement job_exists;       // $1 id, $2 tenant
  Statement get_result;       // $1 id, $2 tenant
  Statement get_attempts;     // $1 job id
  Statement job_events;       // $1 job id
  Statement queue_counts;     // per (queue, status): the count
  Statement oldest_queued;    // $1 queue
  Statement tenant_stats;     // $1 tenant → queue, status, count, cost
  Statement due_tenants;      // $1 queue, $2 now, $3 limit → tenant (fair share)
  Statement ping;
  // list_jobs, one per combination of JobFilter's optional filters (ListFilter bits):
  // parameters tenant, then the present filters in bit order, then the limit.
  std::array<Statement, 32> list_jobs;

  // --- jobs: transitions (guarded updates) ---
  // Locks the row on PostgreSQL: the status read decides a cancel's or review's outcome.
  Statement lock_job_status;  // $1 id, $2 tenant → status, queue
  Statement cancel_job;       // $1 id, $2 tenant, $3 now → {jobs}
  Statement approve_review;   // $1 id, $2 tenant, $3 now → {jobs}
  Statement reject_review;    // $1 id, $2 tenant, $3 now, $4 reason → {jobs}
  Statement retry_review;     // $1 id, $2 tenant, $3 now, $4 alias to pin ('': keep) → {jobs}
  Statement put_result;       // $1 job id, $2 result
  Statement renew_leases;     // $1 owner, $2 lease until
  Statement release_leases;   // $1 owner → id, tenant, queue, attempt
  Statement reap_expired;     // $1 now → {jobs}
  Statement expire_overdue;   // $1 now → {jobs}

  // --- events and the webhook outbox ---
  Statement insert_event;          // $1 job id, $2 tenant, $3 at, $4 type, $5 data
  Statement queue_job_webhook;     // $1 event id, $2 webhook type, $3 at, $4 job id
  Statement queue_batch_webhook;   // $1 event id, $2 webhook type, $3 at, $4 batch id
  Statement events_after;          // $1 tenant, $2 after seq, $3 up to seq, $4 limit → {events}
  Statement claim_webhooks;        // $1 owner, $2 now, $3 lease until, $4 limit → {deliveries}
  Statement record_webhook;        // see statements.cc → job_id, tenant, type
  Statement release_webhook_leases;  // $1 owner ('': every owner), $2 now

  // --- files ---
  Statement create_file;     // {files} as $1..$6
  Statement put_file_chunk;  // $1 file id, $2 n, $3 bytes
  Statement complete_file;   // $1 file id, $2 bytes
  Statement delete_chunks;   // $1 file id
  Statement delete_file;     // $1 file id
  Statement get_file;        // $1 id, $2 tenant → {files}
  Statement get_file_chunk;  // $1 file id, $2 n → content (bytes)

  // --- batches ---
  Statement insert_batch;       // {batches} as $1..$29
  Statement update_batch;       // {batches} as $1..$29, by id
  Statement get_batch;          // $1 id, $2 tenant
  Statement lock_batch;         // $1 id
  Statement list_batches;       // $1 tenant, $2 limit
  Statement list_batches_after; // $1 tenant, $2 limit, $3 before id
  Statement lease_batch;        // $1 owner, $2 now
  Statement open_batches;       // $1 limit
  Statement batch_progress;     // $1 batch id → status (-1: line errors), count
  Statement insert_line_error;  // $1 batch id, {line_errors} as $2..$7
  Statement batch_line_errors;  // $1 batch id, $2 after line, $3 limit → {line_errors}
  Statement cancel_batch_jobs;  // $1 batch id, $2 now, $3 limit → id, tenant, queue
  Statement batch_jobs;         // $1 batch id, $2 after id, $3 limit → {jobs}, result

  // --- tenants and API keys ---
  Statement insert_tenant;      // {tenants} as $1..$7; nothing when the id exists
  Statement lock_tenant;        // $1 id → {tenants}
  Statement update_tenant;      // {tenants} as $1..$7, by id
  Statement get_tenant;         // $1 id → {tenants}
  Statement list_tenants;       // → {tenants}
  Statement tenant_exists;      // $1 id
  // $1 tenant, $2 now, $3 the blocked reason → queue of each job made due
  Statement unblock_jobs;
  Statement insert_api_key;     // {api_keys} as $1..$6
  Statement list_api_keys;      // $1 tenant → {api_keys}
  Statement list_all_api_keys;  // → {api_keys}
  Statement revoke_api_key;     // $1 id, $2 now → {api_keys}
  Statement find_api_key;       // $1 hash → {api_keys}
  Statement any_api_key;
  Statement live_jobs;          // $1 tenant → count

  // --- budgets: tenant_usage and budget_reservations ---
  Statement spent;                // $1 tenant, $2 month → spent_usd
  Statement lock_usage;           // $1 tenant, $2 month → spent_usd
  Statement seed_usage;           // $1 tenant, $2 month, $3 month start, $4 month end
  Statement add_spend;            // $1 tenant, $2 month, $3 cost
  Statement live_reserved;        // $1 tenant, $2 month, $3 now → sum of amount_usd
  Statement sweep_reservations;   // $1 tenant, $2 now, $3 limit
  Statement insert_reservation;   // {reservations} as $1..$5
  Statement delete_reservation;   // $1 id → tenant, month

  // --- the cost ledger: model_calls (sql_costs.cc) ---
  // $1 a JSON array of rows, each an array in the column order of sql_costs.cc ChargesJson
  Statement insert_charges;
  // $1 month, $2 tenant ('': every tenant) → tenant, task_type, provider, model_alias,
  // model_id, calls, prompt, completion, cached, reasoning tokens, cost_nano_usd, unpriced calls
  Statement cost_lines;
  Statement cost_jobs;            // $1 month, $2 tenant ('': every tenant) → tenant, jobs

  // --- the audit log (sql_audit.cc) ---
  // 1 when this transaction may seal (PostgreSQL: a transaction-scoped advisory lock), else 0
  Statement audit_seal_lock;
  Statement audit_head;             // → seq, hash of the newest record
  Statement audit_anchor;           // → seq, hash
  Statement put_audit_anchor;       // $1 seq, $2 hash
  // $1 limit → id, at, tenant, actor, action, job_id, record, prev_hash_at, seq_at
  Statement audit_pending_batch;
  Statement audit_pending_count;    // → count
  // SQLite (its flush seals each entry), one record: $1 seq, $2 at, $3 tenant, $4 action,
  // $5 job_id, $6 record, $7 hash; PostgreSQL (the sealer), any number: $1 a JSON array of such
  // rows. (PostgreSQL's flush statement writes the entries to audit_pending.)
  Statement insert_audit_records;
  // PostgreSQL: $1 a JSON array of the ids sealed (never "up to an id": a lower one may still
  // be in flight)
  Statement delete_audit_pending;
  // $1 after seq, $2 limit, $3 action ('': any), then $4 tenant and/or job_id by the index
  // (AuditList bits) → seq, at, tenant, action, job_id, record, hash
  std::array<Statement, 4> audit_records;
  Statement audit_oldest;           // $1 limit → seq, at, hash, oldest first
  Statement prune_audit;            // $1 up to seq

  // --- retention (sql_retention.cc) ---
  // "ids" parameters are one JSON array of strings, so that one statement deletes the rows of
  // any number of jobs or batches on either engine.
  Statement insert_job_blob;          // $1 job id, $2 tenant, $3 blob id (SQLite's submit)
  Statement blob_referenced;          // $1 tenant, $2 blob id
  Statement pick_finished_jobs;       // $1 before, $2 limit → id, queue, status
  Statement pick_final_batches;       // $1 before, $2 limit → id, input, output, error file ids
  Statement delete_job_results;       // $1 job ids
  Statement delete_job_attempts;      // $1 job ids
  Statement delete_job_blobs;         // $1 job ids
  Statement delete_jobs;              // $1 job ids
  Statement delete_subject_events;    // $1 job or batch ids
  Statement delete_subject_webhooks;  // $1 job or batch ids
  Statement delete_line_errors;       // $1 batch ids
  Statement delete_batches;           // $1 batch ids
  Statement delete_unread_chunks;     // $1 file ids: the chunks of those no remaining batch reads
  Statement delete_unread_files;      // $1 file ids: those no remaining batch reads
};

// AuditFilter's optional filters, as bits of the audit_records index.
enum AuditList : unsigned {
  kAuditByTenant = 1,
  kAuditByJob = 2,
};

// JobFilter's optional filters, as bits of the list_jobs index.
enum ListFilter : unsigned {
  kByStatus = 1,
  kByType = 2,
  kByQueue = 4,
  kByObjectId = 8,
  kAfterCursor = 16,
};

const Statements& Sql();

}  // namespace sluice::sql
