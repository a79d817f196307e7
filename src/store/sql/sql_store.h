// The one implementation of the Store contract (store/store.h) for both engines: every rule,
// statement and row mapping, written once over a Dialect (sql/dialect.h) that does only what
// the engines truly do differently. sql_store.cc holds the reads, sql_job_lifecycle.cc the job
// transitions, sql_batches.cc files and batches, sql_webhooks.cc the outbox and event stream.
//
// Thread-safety: as the Store contract says, every method may be called from any thread; the
// dialect serializes or pools connections.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/sql/dialect.h"
#include "store/store.h"

namespace sluice::sql {

class SqlStore final : public Store {
 public:
  // `audit`: append audit entries with what they record (StoreOptions::audit).
  explicit SqlStore(std::unique_ptr<Dialect> dialect, bool audit = true)
      : dialect_(std::move(dialect)), audit_(audit) {}

  bool exclusive() const override { return dialect_->exclusive(); }
  Result<std::vector<SubmitOutcome>> submit_jobs(std::span<const Job> jobs) override;
  Result<std::vector<Job>> claim_jobs(const ClaimRequest& request) override;
  Result<std::vector<Status>> finish_attempts(std::span<const AttemptFinish> items) override;
  Result<int> renew_leases(const std::string& owner, Millis lease_until) override;
  Result<int> release_leases(const std::string& owner, Millis now) override;
  Result<std::vector<Job>> reap_leases(Millis expired_before, Millis now) override;
  Result<std::vector<Job>> expire_overdue(Millis now) override;
  Result<Job> cancel_job(const std::string& tenant, const std::string& id, Millis now) override;
  Result<Job> review_job(const ReviewAction& action) override;
  Result<Job> get_job(const std::string& tenant, const std::string& id) override;
  Result<std::string> get_result(const std::string& tenant, const std::string& id) override;
  Result<std::vector<std::string>> get_attempts(const std::string& tenant,
                                                const std::string& id) override;
  Result<JobPage> list_jobs(const JobFilter& filter) override;
  Result<std::vector<JobEvent>> job_events(const std::string& tenant,
                                           const std::string& id) override;
  Result<std::vector<QueueStats>> queue_stats() override;
  Result<std::vector<QueueStats>> tenant_stats(const std::string& tenant) override;
  Status ping() override;
  void set_wake_handler(std::function<void(const std::string& queue)> handler) override {
    dialect_->set_wake_handler(std::move(handler));
  }

  Result<std::vector<WebhookDelivery>> claim_webhook_deliveries(const WebhookClaim& claim) override;
  Result<std::vector<Status>> record_webhook_attempts(
      std::span<const WebhookAttempt> attempts) override;
  Result<int> release_webhook_leases(const std::string& owner, Millis now) override;
  Result<std::vector<JobEvent>> events_after(const std::string& tenant, std::int64_t after_seq,
                                             int limit) override;
  Result<std::int64_t> events_head() override { return dialect_->visible_event_seq(); }

  // Tenants, keys, budgets (sql_tenants.cc); fair share (sql_fair_share.cc) and retention
  // (sql_retention.cc).
  Result<TenantWrite> put_tenant(const TenantPatch& patch) override;
  Result<Tenant> get_tenant(const std::string& id) override;
  Result<std::vector<Tenant>> list_tenants() override;
  Status create_api_key(const ApiKey& key) override;
  Result<std::vector<ApiKey>> list_api_keys(const std::string& tenant) override;
  Result<ApiKey> revoke_api_key(const std::string& id, Millis now) override;
  Result<ApiKey> find_api_key(const std::string& hash) override;
  Result<bool> any_api_key() override;
  Result<TenantUsage> tenant_usage(const std::string& tenant, const std::string& month,
                                   Millis now) override;
  Result<std::vector<bool>> reserve_budget(std::span<const BudgetReservation> items) override;
  Status settle_budget(const std::string& reservation_id, double cost_usd) override;
  Status settle_sync_call(const std::string& reservation_id, double cost_usd,
                          std::span<const CallCharge> charges) override;
  Result<CostLedgerMonth> cost_report(const std::string& month,
                                      const std::string& tenant) override;
  Result<std::int64_t> live_jobs(const std::string& tenant) override;
  Result<int> seal_audit(int limit) override;
  Result<std::vector<AuditRecord>> audit_records(const AuditFilter& filter) override;
  Result<AuditAnchor> audit_anchor() override;
  Result<std::int64_t> audit_pending() override;
  Result<std::int64_t> prune_audit(Millis before, int limit) override;
  Result<std::vector<std::string>> due_tenants(const std::string& queue, Millis now,
                                               int limit) override;
  Result<PurgeCounts> purge_finished(Millis before, int limit) override;
  Result<bool> blob_referenced(const std::string& tenant, const std::string& blob_id) override;

  Status create_file(const StoredFile& file) override;
  Status put_file_chunk(const std::string& file_id, std::int64_t n,
                        std::string_view bytes) override;
  Status complete_file(const std::string& file_id, std::int64_t bytes) override;
  Status delete_file(const std::string& file_id) override;
  Result<StoredFile> get_file(const std::string& tenant, const std::string& id) override;
  Result<std::optional<std::string>> get_file_chunk(const std::string& file_id,
                                                    std::int64_t n) override;
  Status create_batch(const Batch& batch) override;
  Result<Batch> get_batch(const std::string& tenant, const std::string& id) override;
  Result<BatchPage> list_batches(const std::string& tenant, int limit,
                                 const std::string& after) override;
  Result<Batch> transition_batch(const BatchTransition& t) override;
  Result<std::optional<Batch>> lease_batch_work(const std::string& owner, Millis now,
                                                Millis lease_until) override;
  Result<BatchChunkOutcome> ingest_batch_chunk(const BatchChunk& chunk) override;
  Result<std::vector<Batch>> open_batches(int limit) override;
  Result<BatchProgress> batch_progress(const std::string& batch_id) override;
  Result<int> cancel_batch_jobs(const std::string& batch_id, Millis now, int limit) override;
  Result<std::vector<BatchJobRow>> batch_jobs(const std::string& batch_id,
                                              const std::string& after_id, int limit) override;
  Result<std::vector<BatchLineError>> batch_line_errors(const std::string& batch_id,
                                                        std::int64_t after_line,
                                                        int limit) override;

 private:
  // Runs `body(Txn&) -> Result<T>` as one transaction (Dialect::write) and tells the commit
  // listener what it wrote.
  template <typename T, typename Body>
  Result<T> write(Body&& body, CommitSync sync = CommitSync::kSynced) {
    std::optional<T> out;
    ASSIGN_OR_RETURN(CommitNews news, dialect_->write(sync, [&](Txn& txn) -> Status {
      Result<T> result = body(txn);
      if (!result.ok()) return result.status();
      out = std::move(result).value();
      return Status::Ok();
    }));
    committed(news);
    return std::move(*out);
  }
  // Runs one statement as a transaction of its own; returns how many rows it changed.
  Result<std::int64_t> exec(const Statement& stmt, const Params& params,
                            CommitSync sync = CommitSync::kSynced) {
    return write<std::int64_t>(
        [&](Txn& txn) { return txn.session().exec(stmt, params); }, sync);
  }
  // Runs `body(Session&) -> Result<T>` (Dialect::read).
  template <typename T, typename Body>
  Result<T> read(Body&& body) {
    std::optional<T> out;
    RETURN_IF_ERROR(dialect_->read([&](Session& session) -> Status {
      Result<T> result = body(session);
      if (!result.ok()) return result.status();
      out = std::move(result).value();
      return Status::Ok();
    }));
    return std::move(*out);
  }

  // Settles reservations in `txn` (sql_tenants.cc): each (id, cost) removes the reservation and
  // adds the cost to its month's spend; ids with no reservation add nothing.
  static Status settle_reservations(Txn& txn,
                                    std::vector<std::pair<std::string, double>> settlements);

  // Appends charges to the cost ledger in `txn` (sql_costs.cc), in one statement.
  static Status write_charges(Txn& txn, std::span<const CallCharge* const> charges);
  // The audit entries of the calls of `charges` (none unless audit_), made before a
  // transaction so that the JSON work stays off the engine's write lock.
  Result<std::vector<AuditEntry>> call_entries(std::span<const CallCharge> charges) const;
  // Adds entries to `txn`, to be written with it (nothing unless audit_).
  void audit(Txn& txn, std::span<const AuditEntry> entries) const {
    if (!audit_) return;
    for (const AuditEntry& e : entries) txn.audit(e);
  }

  const std::unique_ptr<Dialect> dialect_;
  const bool audit_;
};

}  // namespace sluice::sql
