// The Store contract: the one durable truth about jobs, their attempts, results and history.
// One implementation (store/sql/sql_store.h) serves both engines (store/sqlite, store/postgres)
// through a dialect seam; one contract test suite runs against each. Every method is
// thread-safe and synchronous: callers that must not block an event loop go through
// SubmitGroupCommit (store/group_commit.h) and AttemptWriter (store/attempt_writer.h), which also
// batch writes, or a blocking pool (api/blocking_pool.h).
//
// Guarantees every engine keeps:
// - submit_jobs commits all its jobs in one transaction before it returns (accepted = durable).
// - A state write by a worker is a compare-and-set on (job id, attempt, lease owner, running):
//   a worker whose lease was lost gets kAborted and changes nothing.
// - Reaping and expiry are guarded updates that never touch a finished job.
// - Every state change appends a job event in the same transaction.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/job.h"
#include "core/mutex.h"
#include "core/status.h"
#include "core/time.h"
#include "store/audit_records.h"
#include "store/batch_records.h"
#include "store/cost_records.h"
#include "store/tenant_records.h"

namespace sluice {

struct StoreOptions {
  std::string data_dir;  // embedded SQLite: <data_dir>/sluice.db
  std::string url;       // "postgres://..." for the shared store
  // fsync on every commit (synchronous=FULL). Off only for throwaway test stores.
  bool durable = true;
  // A dedup hit on a terminal job that finished more than this before the new job's created_at
  // makes a new job (the old one keeps its key no longer: its dedup_key becomes ''), so an old
  // key is not squatted forever. Hits on live jobs always deduplicate. 0: keys never expire.
  Millis dedup_window = 30LL * 24 * 3600 * 1000;
  // Append audit entries ([audit] enabled; store/audit_records.h) with what they record.
  bool audit = true;
};

struct SubmitOutcome {
  Job job;
  bool deduplicated = false;  // true: a job with the same dedup key existed, nothing was created
};

struct ClaimRequest {
  std::string queue;
  int limit = 0;
  std::string owner;   // lease owner (node + process)
  Millis now = 0;
  Millis lease_until = 0;
  // A cluster-wide cap on the queue's running jobs, counted over every node (0: none). A shared
  // engine claims at most cluster_max minus the jobs of `queue` running anywhere, and
  // serializes the claims of one queue so that concurrent claims cannot overshoot together.
  // An exclusive engine may ignore it: the caller's own slot count is then the whole truth.
  int cluster_max = 0;
  // Only this tenant's jobs (fair share, scheduler/fair_share.h); empty: any tenant's.
  std::string tenant;
};

enum class AttemptOutcome {
  kDone,     // result stored, job done
  kRetry,    // job back to queued; next attempt not before retry_at
  kFailed,   // job failed for good
  kReview,   // job waits for a person; the result (if any) is kept
  kExpired,  // the deadline passed during the attempt
  // Not started: back to queued with the attempt not counted, due again at retry_at, with
  // blocked_reason = error.code ("budget", required). The job keeps the error it had and no
  // attempt record; the event is "blocked" with the reason. The next claim clears the reason.
  kBlocked,
};

struct AttemptFinish {
  std::string job_id;
  int attempt = 0;
  std::string lease_owner;
  AttemptOutcome outcome = AttemptOutcome::kDone;
  Millis now = 0;
  Millis retry_at = 0;          // kRetry and kBlocked only
  JobError error;               // all but kDone
  std::string result_json;      // kDone (required), kReview (optional): the result record
  std::string attempt_json;     // this attempt's record (outcome, model, ms, cost...)
  double cost_usd = 0;          // this attempt's cost, added to the job's total
  // The attempt held a budget reservation (AttemptReservationId, reserve_budget): this
  // transaction settles it with cost_usd, even when the finish itself is kAborted (the call
  // was made and cost what it cost).
  bool settles_reservation = false;
  // The attempt's model calls (one per alias its walk called): written to the cost ledger in
  // this transaction when the finish matches, so the ledger holds exactly the calls the
  // attempt records show. A finish that is kAborted writes none (its zombie attempt is in no
  // record either), though its reservation settles.
  std::vector<CallCharge> charges;
};

// A person's decision on a job waiting in review (POST /v1/jobs/{id}/review).
struct ReviewAction {
  std::string tenant = kDefaultTenant;
  std::string id;
  enum Kind { kApprove, kReject, kRetry } kind = kApprove;
  std::string result_json;  // kApprove (required): the result record that replaces the kept one
  std::string reason;       // kReject: becomes the error message (code "rejected")
  std::string model;        // kRetry: the alias to pin the job to; empty keeps its model
  Millis now = 0;
  std::string actor = "admin";  // who decided, for the audit log: "key_…" or "admin"
};

struct JobFilter {
  std::string tenant = kDefaultTenant;
  std::optional<JobStatus> status;
  std::string type;
  std::string queue;
  std::string object_id;
  int limit = 100;
  std::string after;  // cursor: the last id of the previous page; pages go newest first
};

struct JobPage {
  std::vector<Job> jobs;
  std::string next;  // empty when there is no further page
};

struct JobEvent {
  std::int64_t seq = 0;  // store-wide, increasing
  std::string job_id;
  Millis at = 0;
  std::string type;        // "submitted", "started", "retry", "done", "failed", ...
  std::string data_json;   // event details
};

struct QueueStats {
  std::string queue;
  std::array<std::int64_t, 7> by_status{};  // indexed by JobStatus
  std::optional<Millis> oldest_queued_created_at;
  double cost_usd = 0;  // tenant_stats only: what the jobs cost
};

// ---- Webhook outbox and event stream types (see the blocks at the end of Store) ----

// What a commit wrote, told to the commit listener right after it (Store::set_commit_listener).
struct CommitNews {
  int events = 0;    // job (or batch) events appended
  int webhooks = 0;  // webhook deliveries queued in the outbox
};

// One queued webhook delivery: the event a job's (or batch's) end produced, for its
// webhook_url. Rows are written in the same transaction as the transition, so a crash never
// loses one.
struct WebhookDelivery {
  std::string id;        // "evt_...": the Sluice-Event-Id, the same on every attempt
  std::string job_id;    // the event's subject: a job id, or a batch id for batch.* types
  std::string tenant;
  // "job.done", "job.failed", "job.expired", "job.canceled", "job.review"; "batch.completed",
  // "batch.failed", "batch.expired", "batch.cancelled" (store_rules::WebhookSubjectOf).
  std::string type;
  std::string url;
  Millis created_at = 0; // the transition's time
  int attempts = 0;      // delivery attempts recorded so far
  // The exact body sent by the first attempt, kept so that retries repeat it byte for byte;
  // empty until an attempt was recorded.
  std::string payload;
  std::string lease_owner;
};

struct WebhookClaim {
  std::string owner;     // lease owner (node + process)
  Millis now = 0;
  Millis lease_until = 0;  // another node may take the delivery after this
  int limit = 0;
};

// The outcome of one delivery attempt, recorded as a compare-and-set on (id, lease owner,
// attempts done so far).
struct WebhookAttempt {
  std::string id;
  std::string lease_owner;
  int attempt = 0;  // this attempt's number: the delivery's attempts + 1
  enum Outcome {
    kDelivered,  // a 2xx: done
    kRetry,      // try again at retry_at
    kGaveUp,     // out of attempts or time: done, undelivered
    kRefused,    // the target is forbidden (SSRF guard) or not a valid URL: done, never retried
  } outcome = kDelivered;
  Millis now = 0;
  Millis retry_at = 0;       // kRetry only
  std::string payload;       // the body sent; kept by the first recorded attempt
  std::string event_json;    // data of the "webhook" event appended to the job's history
};

class Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);
  virtual ~Store() = default;

  // True when this process is the only one using the store (the embedded engine holds a lock
  // on its data dir): then every lease not held by this process belongs to a dead one.
  virtual bool exclusive() const = 0;

  // Inserts jobs in one transaction. Jobs must carry ids and created_at. A job whose tenant
  // and non-empty dedup_key match an existing job is not inserted: its outcome is that job.
  virtual Result<std::vector<SubmitOutcome>> submit_jobs(std::span<const Job> jobs) = 0;

  // Leases up to `limit` due jobs of one queue: queued, run_at and next_attempt_at <= now,
  // deadline (if any) > now; highest priority first, then oldest. Each becomes running with
  // attempt + 1 under the given lease.
  virtual Result<std::vector<Job>> claim_jobs(const ClaimRequest& request) = 0;

  // Applies worker outcomes in one transaction. Per item: OK, or kAborted when the job is
  // not running under that (attempt, lease owner) any more.
  virtual Result<std::vector<Status>> finish_attempts(std::span<const AttemptFinish> items) = 0;

  // Heartbeat: extends every running lease of `owner`. Returns how many it extended.
  virtual Result<int> renew_leases(const std::string& owner, Millis lease_until) = 0;

  // Graceful stop: `owner`'s running jobs go back to queued; their unfinished attempt is not
  // counted. Returns how many.
  virtual Result<int> release_leases(const std::string& owner, Millis now) = 0;

  // Running jobs whose lease ended before `expired_before` (their worker died): back to queued,
  // or failed when no attempt is left. `now` is the time of the change: a failed job's
  // finished_at and the events' time (never `expired_before`, which may be the end of time when
  // a process takes back every lease of a dead predecessor). Returns the jobs after the change.
  virtual Result<std::vector<Job>> reap_leases(Millis expired_before, Millis now) = 0;
  // The reaper's case: leases that ended before now.
  Result<std::vector<Job>> reap_expired_leases(Millis now) { return reap_leases(now, now); }

  // Queued jobs whose deadline is <= now become expired. Returns them.
  virtual Result<std::vector<Job>> expire_overdue(Millis now) = 0;

  // queued/running/review → canceled. kFailedPrecondition if terminal, kNotFound if unknown.
  virtual Result<Job> cancel_job(const std::string& tenant, const std::string& id, Millis now) = 0;

  // Applies a review decision to a job in review, as a guarded update in one transaction:
  // approve → done with action.result_json as its result; reject → failed with error
  // {rejected, reason}; retry → queued, due now, with at least one attempt left and the model
  // pinned when one is given. Appends "review_approved" / "review_rejected" / "review_retry".
  // kFailedPrecondition unless the job is in review, kNotFound if unknown.
  virtual Result<Job> review_job(const ReviewAction& action) = 0;

  virtual Result<Job> get_job(const std::string& tenant, const std::string& id) = 0;
  // The result record's JSON; kNotFound until the job has one.
  virtual Result<std::string> get_result(const std::string& tenant, const std::string& id) = 0;
  // Every attempt record of the job, oldest first.
  virtual Result<std::vector<std::string>> get_attempts(const std::string& tenant,
                                                        const std::string& id) = 0;
  virtual Result<JobPage> list_jobs(const JobFilter& filter) = 0;
  virtual Result<std::vector<JobEvent>> job_events(const std::string& tenant,
                                                   const std::string& id) = 0;
  virtual Result<std::vector<QueueStats>> queue_stats() = 0;
  // One tenant's jobs by queue and status, with their cost (GET /v1/stats for a tenant): counted
  // from the tenant's own rows, so it costs in proportion to the tenant's jobs.
  virtual Result<std::vector<QueueStats>> tenant_stats(const std::string& tenant) = 0;
  // Cheap round trip: the store is reachable and answers.
  virtual Status ping() = 0;

  // Wake-ups from other processes: `handler` is called with a queue's name soon after any
  // process sharing the store committed work that is due now in that queue (a submit, a
  // release), on a thread of the store's; it must be quick. A later call replaces the handler;
  // an empty one stops the calls. Once this returns, the previous handler is never called
  // again. Best effort: wake-ups may be lost (while the store is unreachable) or repeated, so
  // callers still poll, slowly. Engines whose only user is this process (exclusive()) have
  // nothing to hear and ignore it.
  virtual void set_wake_handler(std::function<void(const std::string& queue)> handler) {
    (void)handler;
  }
  // Files and batches (API.md "Files and batches"; src/batches runs them). Files are a metadata
  // row plus numbered content chunks, so neither an upload's store write, a batch's reads nor a
  // download holds a whole file. Batches are rows of their own; their jobs are ordinary jobs
  // carrying the batch's id (jobs.batch_id), so request counts come from the jobs themselves.

  // Creates a file's metadata row, not yet visible (get_file answers kNotFound) until
  // complete_file. kAlreadyExists for a reused id.
  virtual Status create_file(const StoredFile& file) = 0;
  // Stores chunk `n` (0, 1, 2, ...) of a file's content; storing chunk n again replaces it.
  virtual Status put_file_chunk(const std::string& file_id, std::int64_t n,
                                std::string_view bytes) = 0;
  // Makes a created file visible with its final size. kNotFound for an unknown id.
  virtual Status complete_file(const std::string& file_id, std::int64_t bytes) = 0;
  // Removes a file's row and chunks, complete or not (a failed upload, a dead finalizer's files).
  virtual Status delete_file(const std::string& file_id) = 0;
  // A complete file of the tenant; kNotFound otherwise (another tenant's file too).
  virtual Result<StoredFile> get_file(const std::string& tenant, const std::string& id) = 0;
  // Chunk `n` of a file's content; nullopt past the last chunk.
  virtual Result<std::optional<std::string>> get_file_chunk(const std::string& file_id,
                                                            std::int64_t n) = 0;

  // Inserts a new batch (status validating). kAlreadyExists for a reused id.
  virtual Status create_batch(const Batch& batch) = 0;
  // The tenant's batch; before it is final its request counts are counted from its jobs.
  virtual Result<Batch> get_batch(const std::string& tenant, const std::string& id) = 0;
  // The tenant's batches, newest first, after the cursor `after` (a batch id; empty: from the
  // newest); limit is clamped to 1..100.
  virtual Result<BatchPage> list_batches(const std::string& tenant, int limit,
                                         const std::string& after) = 0;
  // Applies a guarded status change (batch_records.h). kNotFound for an unknown batch,
  // kFailedPrecondition when its status is not one of `from`, kAborted when `owner` does not
  // hold its lease. Returns the batch after the change.
  virtual Result<Batch> transition_batch(const BatchTransition& t) = 0;
  // Leases one batch (any tenant) that needs a node's exclusive work and whose lease is free
  // or ran out (even `owner`'s own live lease is not taken again: a batch whose work failed
  // waits out its lease): validating; in_progress or cancelling but not fully ingested; or
  // finalizing (its finalizer died). nullopt when there is none.
  virtual Result<std::optional<Batch>> lease_batch_work(const std::string& owner, Millis now,
                                                        Millis lease_until) = 0;
  // Applies one ingestion chunk (batch_records.h). kAborted when `owner` lost the lease.
  virtual Result<BatchChunkOutcome> ingest_batch_chunk(const BatchChunk& chunk) = 0;
  // Fully ingested batches that are in_progress or cancelling (any tenant), oldest first: the
  // ones whose jobs a runner watches.
  virtual Result<std::vector<Batch>> open_batches(int limit) = 0;
  // The batch's jobs counted by status, and its line errors.
  virtual Result<BatchProgress> batch_progress(const std::string& batch_id) = 0;
  // Up to `limit` queued jobs of the batch become canceled (with their events). Returns how
  // many; call again until 0.
  virtual Result<int> cancel_batch_jobs(const std::string& batch_id, Millis now, int limit) = 0;
  // The batch's jobs with id > after_id, by id, with their result records.
  virtual Result<std::vector<BatchJobRow>> batch_jobs(const std::string& batch_id,
                                                      const std::string& after_id, int limit) = 0;
  // The batch's line errors with line > after_line, by line.
  virtual Result<std::vector<BatchLineError>> batch_line_errors(const std::string& batch_id,
                                                                std::int64_t after_line,
                                                                int limit) = 0;

  // Webhook outbox
  //
  // A job's end (done, failed, expired, canceled, review; store_rules::WebhookEventType) queues
  // one delivery for a job with a webhook_url, in the very transaction of the transition, so
  // the delivery is as durable as the transition itself; so does a batch's final transition
  // (transition_batch with event_type batch.completed, .failed, .expired or .cancelled) for a
  // batch with a webhook_url. Deliveries are claimed under a lease
  // (claimed rows are locked against concurrent claims, so no two nodes deliver one event at
  // once); a node that dies holding one lets its lease run out, and another node delivers it.
  // Delivery is therefore at least once: receivers dedup by the event id.

  // Leases up to `limit` pending deliveries whose due time has come, oldest due first.
  virtual Result<std::vector<WebhookDelivery>> claim_webhook_deliveries(
      const WebhookClaim& claim) = 0;
  // Records attempt outcomes in one transaction, each with its event of the subject ("webhook"
  // for a job, "batch.webhook" for a batch; webhook_rules::AttemptEventType). Per item:
  // OK, or kAborted when the delivery is not leased to that owner at that attempt any more.
  virtual Result<std::vector<Status>> record_webhook_attempts(
      std::span<const WebhookAttempt> attempts) = 0;

  // Makes the leased pending deliveries of `owner` (of every owner when empty) due at `now`
  // and unleased: a stopping node hands back what it did not finish, and a process that starts
  // on an exclusive store (exclusive()) takes back its dead predecessor's leases at once
  // instead of waiting for them to run out. Returns how many.
  virtual Result<int> release_webhook_leases(const std::string& owner, Millis now) = 0;

  // Tenants, API keys and budgets (store/tenant_records.h)

  // Creates the tenant (absent fields take Tenant's defaults) or changes the given fields of
  // an existing one. kInvalidArgument, naming the field, for an empty id, a weight below 1 or
  // a negative limit. Raising or removing a budget makes the tenant's queued jobs held for
  // "budget" (kBlockedByBudget) due now. Setting a budget where there was none seeds the spend
  // of patch.now's month from the cost of the tenant's jobs created in it, unless that month
  // already has a spend.
  virtual Result<TenantWrite> put_tenant(const TenantPatch& patch) = 0;
  virtual Result<Tenant> get_tenant(const std::string& id) = 0;
  // Every tenant, by id.
  virtual Result<std::vector<Tenant>> list_tenants() = 0;
  // kAlreadyExists for a reused id or hash, kNotFound when the tenant does not exist.
  virtual Status create_api_key(const ApiKey& key) = 0;
  // The tenant's keys (every key when `tenant` is empty), by id, revoked ones included.
  virtual Result<std::vector<ApiKey>> list_api_keys(const std::string& tenant) = 0;
  // Marks the key revoked (a second revoke keeps the first time). kNotFound for an unknown id.
  virtual Result<ApiKey> revoke_api_key(const std::string& id, Millis now) = 0;
  // The key whose secret hashes to `hash`, revoked or not; kNotFound when none does.
  virtual Result<ApiKey> find_api_key(const std::string& hash) = 0;
  // Whether any API key was ever created: from then on every /v1 route needs one.
  virtual Result<bool> any_api_key() = 0;
  // The tenant's spend and live reservations in `month` ("2026-12"), and its live jobs now.
  virtual Result<TenantUsage> tenant_usage(const std::string& tenant, const std::string& month,
                                           Millis now) = 0;
  // Reserves each item in one transaction, in order: it fits when the month's spend plus the
  // tenant's live reservations of that month (expires_at > now, the call's earlier items
  // included) plus its amount stay within budget_usd. Serialized per tenant month across
  // nodes, so concurrent reservations never overshoot together. Reserving an id that holds a
  // reservation replaces it. Sweeps some of the tenant's expired reservations on the way.
  // Per item: true when reserved, false when it did not fit (nothing held). kInvalidArgument
  // for the whole call when an item lacks an id, tenant or month, has a negative amount, a
  // budget of 0, expires_at <= now, or repeats an id of the call.
  virtual Result<std::vector<bool>> reserve_budget(std::span<const BudgetReservation> items) = 0;
  // Settles a reservation: removes it and adds cost_usd (>= 0) to its month's spend. A
  // reservation that is already gone (settled, expired and swept) adds nothing. Attempts
  // settle through finish_attempts (AttemptFinish::settles_reservation) instead.
  virtual Status settle_budget(const std::string& reservation_id, double cost_usd) = 0;
  // A synchronous call's end, in one transaction: settles its reservation with cost_usd (as
  // settle_budget; an empty reservation_id: none) and writes its charges to the cost ledger.
  virtual Status settle_sync_call(const std::string& reservation_id, double cost_usd,
                                  std::span<const CallCharge> charges) = 0;
  // The cost ledger of `month` ("2026-11"), of one tenant or (empty) of every tenant
  // (store/cost_records.h). kInvalidArgument for a month that is not YYYY-MM.
  virtual Result<CostLedgerMonth> cost_report(const std::string& month,
                                              const std::string& tenant) = 0;
  // Live jobs (queued, running, review) of the tenant: what max_queued limits.
  virtual Result<std::int64_t> live_jobs(const std::string& tenant) = 0;

  // Audit log (store/audit_records.h). Model calls (the charges of finish_attempts and
  // settle_sync_call), review_job, put_tenant, create_api_key and revoke_api_key append their
  // entry in their own transaction, when the store was opened with StoreOptions::audit.

  // Seals up to `limit` pending entries into the chain in one transaction, oldest first.
  // Returns how many: 0 when none is pending or another node is sealing at this moment.
  virtual Result<int> seal_audit(int limit) = 0;
  // Sealed records (AuditFilter), oldest first.
  virtual Result<std::vector<AuditRecord>> audit_records(const AuditFilter& filter) = 0;
  virtual Result<AuditAnchor> audit_anchor() = 0;
  // Entries written and not sealed yet.
  virtual Result<std::int64_t> audit_pending() = 0;
  // Retention: deletes the oldest records while they were made before `before`, at most
  // `limit`, and makes the last one deleted the anchor, in one transaction. Returns how many;
  // call again until 0.
  virtual Result<std::int64_t> prune_audit(Millis before, int limit) = 0;

  // Fair share and retention

  // The tenants with due queued jobs in `queue` (as claim_jobs would take them), by id, at
  // most `limit`.
  virtual Result<std::vector<std::string>> due_tenants(const std::string& queue, Millis now,
                                                       int limit) = 0;
  // Deletes up to `limit` terminal jobs that finished before `before`, with their results,
  // attempts, events, webhook deliveries and blob references; and final batches that ended
  // before it, with their files. Call again until it returns zeros.
  virtual Result<PurgeCounts> purge_finished(Millis before, int limit) = 0;
  // Whether any remaining job refers to the tenant's blob (JobSpec::blob_refs).
  virtual Result<bool> blob_referenced(const std::string& tenant, const std::string& blob_id) = 0;

  // Event stream

  // The tenant's events (job and batch) with seq > after_seq, oldest first, at most `limit`.
  // Never returns an event while an older one (smaller seq) may still commit: a reader that
  // resumes from the last seq it saw misses nothing. On the shared engine this holds events
  // back until every transaction that could own an older seq has ended (postgres_events.cc).
  virtual Result<std::vector<JobEvent>> events_after(const std::string& tenant,
                                                     std::int64_t after_seq, int limit) = 0;
  // Where a stream that wants only events from now on starts: events_after(tenant, head, ...)
  // returns the events that commit after this call (and possibly a few just before it).
  virtual Result<std::int64_t> events_head() = 0;
  // `listener` is called right after each commit of this process that appended events or
  // queued webhooks, on the committing thread: it must be quick (wake a thread, no store call).
  // A later call replaces it; an empty one stops the calls.
  void set_commit_listener(std::function<void(const CommitNews&)> listener) {
    MutexLock lock(commit_listener_mu_);
    commit_listener_ = std::move(listener);
  }

 protected:
  // Engines call this after each successful commit.
  void committed(const CommitNews& news) {
    if (news.events == 0 && news.webhooks == 0) return;
    MutexLock lock(commit_listener_mu_);
    if (commit_listener_) commit_listener_(news);
  }

 private:
  Mutex commit_listener_mu_;
  std::function<void(const CommitNews&)> commit_listener_ GUARDED_BY(commit_listener_mu_);
};

}  // namespace sluice
