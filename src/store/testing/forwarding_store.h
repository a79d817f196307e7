// A Store that passes every call to another one: the base of test doubles that change one or two
// methods (a gate, a failure injected at the seam) and leave the rest to a real engine. The
// commit listener is the inner store's own (set it there).
#pragma once

#include "store/store.h"

namespace sluice {

class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(Store& inner) : inner_(inner) {}

  bool exclusive() const override { return inner_.exclusive(); }
  Result<std::vector<SubmitOutcome>> submit_jobs(std::span<const Job> jobs) override {
    return inner_.submit_jobs(jobs);
  }
  Result<std::vector<Job>> claim_jobs(const ClaimRequest& r) override {
    return inner_.claim_jobs(r);
  }
  Result<std::vector<Status>> finish_attempts(std::span<const AttemptFinish> items) override {
    return inner_.finish_attempts(items);
  }
  Result<int> renew_leases(const std::string& o, Millis t) override {
    return inner_.renew_leases(o, t);
  }
  Result<int> release_leases(const std::string& o, Millis t) override {
    return inner_.release_leases(o, t);
  }
  Result<std::vector<Job>> reap_leases(Millis before, Millis t) override {
    return inner_.reap_leases(before, t);
  }
  Result<std::vector<Job>> expire_overdue(Millis t) override { return inner_.expire_overdue(t); }
  Result<Job> cancel_job(const std::string& t, const std::string& id, Millis now) override {
    return inner_.cancel_job(t, id, now);
  }
  Result<Job> review_job(const ReviewAction& a) override { return inner_.review_job(a); }
  Result<Job> get_job(const std::string& t, const std::string& id) override {
    return inner_.get_job(t, id);
  }
  Result<std::string> get_result(const std::string& t, const std::string& id) override {
    return inner_.get_result(t, id);
  }
  Result<std::vector<std::string>> get_attempts(const std::string& t,
                                                const std::string& id) override {
    return inner_.get_attempts(t, id);
  }
  Result<JobPage> list_jobs(const JobFilter& f) override { return inner_.list_jobs(f); }
  Result<std::vector<JobEvent>> job_events(const std::string& t, const std::string& id) override {
    return inner_.job_events(t, id);
  }
  Result<std::vector<QueueStats>> queue_stats() override { return inner_.queue_stats(); }
  Result<std::vector<QueueStats>> tenant_stats(const std::string& t) override {
    return inner_.tenant_stats(t);
  }
  Status ping() override { return inner_.ping(); }
  void set_wake_handler(std::function<void(const std::string&)> h) override {
    inner_.set_wake_handler(std::move(h));
  }

  Status create_file(const StoredFile& f) override { return inner_.create_file(f); }
  Status put_file_chunk(const std::string& id, std::int64_t n, std::string_view b) override {
    return inner_.put_file_chunk(id, n, b);
  }
  Status complete_file(const std::string& id, std::int64_t b) override {
    return inner_.complete_file(id, b);
  }
  Status delete_file(const std::string& id) override { return inner_.delete_file(id); }
  Result<StoredFile> get_file(const std::string& t, const std::string& id) override {
    return inner_.get_file(t, id);
  }
  Result<std::optional<std::string>> get_file_chunk(const std::string& id,
                                                    std::int64_t n) override {
    return inner_.get_file_chunk(id, n);
  }
  Status create_batch(const Batch& b) override { return inner_.create_batch(b); }
  Result<Batch> get_batch(const std::string& t, const std::string& id) override {
    return inner_.get_batch(t, id);
  }
  Result<BatchPage> list_batches(const std::string& t, int limit,
                                 const std::string& after) override {
    return inner_.list_batches(t, limit, after);
  }
  Result<Batch> transition_batch(const BatchTransition& t) override {
    return inner_.transition_batch(t);
  }
  Result<std::optional<Batch>> lease_batch_work(const std::string& o, Millis now,
                                                Millis until) override {
    return inner_.lease_batch_work(o, now, until);
  }
  Result<BatchChunkOutcome> ingest_batch_chunk(const BatchChunk& c) override {
    return inner_.ingest_batch_chunk(c);
  }
  Result<std::vector<Batch>> open_batches(int limit) override { return inner_.open_batches(limit); }
  Result<BatchProgress> batch_progress(const std::string& id) override {
    return inner_.batch_progress(id);
  }
  Result<int> cancel_batch_jobs(const std::string& id, Millis now, int limit) override {
    return inner_.cancel_batch_jobs(id, now, limit);
  }
  Result<std::vector<BatchJobRow>> batch_jobs(const std::string& id, const std::string& after,
                                              int limit) override {
    return inner_.batch_jobs(id, after, limit);
  }
  Result<std::vector<BatchLineError>> batch_line_errors(const std::string& id,
                                                        std::int64_t after, int limit) override {
    return inner_.batch_line_errors(id, after, limit);
  }

  Result<std::vector<WebhookDelivery>> claim_webhook_deliveries(const WebhookClaim& c) override {
    return inner_.claim_webhook_deliveries(c);
  }
  Result<std::vector<Status>> record_webhook_attempts(
      std::span<const WebhookAttempt> a) override {
    return inner_.record_webhook_attempts(a);
  }
  Result<int> release_webhook_leases(const std::string& o, Millis now) override {
    return inner_.release_webhook_leases(o, now);
  }
  Result<std::vector<JobEvent>> events_after(const std::string& t, std::int64_t after,
                                             int limit) override {
    return inner_.events_after(t, after, limit);
  }
  Result<std::int64_t> events_head() override { return inner_.events_head(); }

  Result<TenantWrite> put_tenant(const TenantPatch& p) override { return inner_.put_tenant(p); }
  Result<Tenant> get_tenant(const std::string& id) override { return inner_.get_tenant(id); }
  Result<std::vector<Tenant>> list_tenants() override { return inner_.list_tenants(); }
  Status create_api_key(const ApiKey& k) override { return inner_.create_api_key(k); }
  Result<std::vector<ApiKey>> list_api_keys(const std::string& t) override {
    return inner_.list_api_keys(t);
  }
  Result<ApiKey> revoke_api_key(const std::string& id, Millis now) override {
    return inner_.revoke_api_key(id, now);
  }
  Result<ApiKey> find_api_key(const std::string& h) override { return inner_.find_api_key(h); }
  Result<bool> any_api_key() override { return inner_.any_api_key(); }
  Result<TenantUsage> tenant_usage(const std::string& t, const std::string& m,
                                   Millis now) override {
    return inner_.tenant_usage(t, m, now);
  }
  Result<std::vector<bool>> reserve_budget(std::span<const BudgetReservation> items) override {
    return inner_.reserve_budget(items);
  }
  Status settle_budget(const std::string& id, double cost) override {
    return inner_.settle_budget(id, cost);
  }
  Status settle_sync_call(const std::string& id, double cost,
                          std::span<const CallCharge> charges) override {
    return inner_.settle_sync_call(id, cost, charges);
  }
  Result<CostLedgerMonth> cost_report(const std::string& month,
                                      const std::string& tenant) override {
    return inner_.cost_report(month, tenant);
  }
  Result<std::int64_t> live_jobs(const std::string& t) override { return inner_.live_jobs(t); }
  Result<int> seal_audit(int limit) override { return inner_.seal_audit(limit); }
  Result<std::vector<AuditRecord>> audit_records(const AuditFilter& filter) override {
    return inner_.audit_records(filter);
  }
  Result<AuditAnchor> audit_anchor() override { return inner_.audit_anchor(); }
  Result<std::int64_t> audit_pending() override { return inner_.audit_pending(); }
  Result<std::int64_t> prune_audit(Millis before, int limit) override {
    return inner_.prune_audit(before, limit);
  }
  Result<std::vector<std::string>> due_tenants(const std::string& q, Millis now,
                                               int limit) override {
    return inner_.due_tenants(q, now, limit);
  }
  Result<PurgeCounts> purge_finished(Millis before, int limit) override {
    return inner_.purge_finished(before, limit);
  }
  Result<bool> blob_referenced(const std::string& t, const std::string& b) override {
    return inner_.blob_referenced(t, b);
  }

 protected:
  Store& inner_;
};

}  // namespace sluice
