// The shared engine of the Store contract (store/store.h): one PostgreSQL database that several
// `sluice serve` nodes use at once. Any node takes API calls and any node works jobs; the
// database is the only place they meet.
//
// Concurrency: every call borrows a connection from a small pool (postgres/pool.h) and runs in
// one transaction at READ COMMITTED where the contract asks for one. Nodes never wait for each
// other's claims: claim locks its rows FOR UPDATE SKIP LOCKED. Every other guarded write (a
// finish's compare-and-set, reaping, expiry, cancel) re-checks its WHERE clause on the newest
// row version after waiting for a concurrent writer, so a job changes state at most once per
// attempt, whichever node gets there first.
//
// Failures: a lost connection or a server that is down or restarting is kUnavailable (the API
// answers 503). A call whose connection broke before COMMIT was sent is retried once on a fresh
// connection (nothing of it committed), so a server restart costs no caller an error once the
// server is back. When the connection breaks during COMMIT the outcome is unknown and the call
// reports kUnavailable: a submit is acknowledged only after its COMMIT succeeded, so an
// acknowledged job is never lost, and a client retry with a dedup key cannot make it twice.
//
// Wake-ups: a submit that created jobs notifies channel "sluice_jobs" with each queue's name,
// and so does a release (the jobs of a stopping node are due at once), both in the same
// transaction, so a listener hears of work only once it can be claimed. set_wake_handler runs
// such a listener (postgres/listener.h) for this node's scheduler.
//
// Cluster-wide queue limits: a claim with ClaimRequest::cluster_max takes a transaction-scoped
// advisory lock on its queue, counts the queue's running jobs and claims at most what is left
// under the cap, so the claims of one capped queue run one at a time across the cluster (they
// are short: one statement each). Claims without a cap never take the lock.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "store/postgres/listener.h"
#include "store/postgres/pool.h"
#include "store/postgres/txn.h"
#include "store/store.h"

namespace sluice {

class PostgresStore final : public Store {
 public:
  // Connects to options.url, checks the database's encoding and applies missing migrations
  // (safe when several nodes start at once). kUnavailable when the server cannot be reached,
  // kInvalidArgument for a malformed URL, kFailedPrecondition when the database was written by
  // a newer build or does not use UTF-8.
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);

  // Other nodes share the database: a lease this process does not hold may be a live one.
  bool exclusive() const override { return false; }
  Result<std::vector<SubmitOutcome>> submit_jobs(std::span<const Job> jobs) override;
  Result<std::vector<Job>> claim_jobs(const ClaimRequest& request) override;
  Result<std::vector<Status>> finish_attempts(std::span<const AttemptFinish> items) override;
  Result<int> renew_leases(const std::string& owner, Millis lease_until) override;
  Result<int> release_leases(const std::string& owner, Millis now) override;
  Result<std::vector<Job>> reap_expired_leases(Millis now) override;
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
  Status append_event(const std::string& job_id, Millis at, const std::string& type,
                      const std::string& data_json) override;
  Result<std::vector<QueueStats>> queue_stats() override;
  Status ping() override;
  // Listens on a session of its own (postgres/listener.h); notifications of this store's own
  // commits arrive too.
  void set_wake_handler(std::function<void(const std::string& queue)> handler) override;
  // Webhook outbox (postgres_webhooks.cc) and event stream (postgres_events.cc).
  Result<std::vector<WebhookDelivery>> claim_webhook_deliveries(const WebhookClaim& claim) override;
  Result<std::vector<Status>> record_webhook_attempts(
      std::span<const WebhookAttempt> attempts) override;
  Result<int> release_webhook_leases(const std::string& owner, Millis now) override;
  Result<std::vector<JobEvent>> events_after(const std::string& tenant, std::int64_t after_seq,
                                             int limit) override;
  Result<std::int64_t> events_head() override;

  // Files and batches (postgres_batches.cc).
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
  explicit PostgresStore(pg::ConnectionPool::Options pool_options)
      : settings_(pool_options.connection), pool_(std::move(pool_options)) {}

  // Runs `body(pg::Txn&) -> Result<T>` in one transaction and commits it. A failure before
  // COMMIT was sent that may pass (kUnavailable: a broken connection, a lost deadlock) runs the
  // body again on another connection, up to kWriteRounds times in all; `body` must therefore
  // build its result afresh on each call.
  template <typename Body>
  std::invoke_result_t<Body&, pg::Txn&> write(Body&& body);

  // Runs `body(pg::Connection&) -> Result<T>`: one statement outside an explicit transaction.
  // `body` must be safe to run twice (a read, or an idempotent write): a kUnavailable failure
  // runs it once more on another connection.
  template <typename Body>
  std::invoke_result_t<Body&, pg::Connection&> read(Body&& body);

  // Applies one round of finishes, no job twice (postgres_job_lifecycle.cc).
  Status finish_round(pg::Txn& txn, std::span<const AttemptFinish> items,
                      const std::vector<std::size_t>& round, std::vector<Status>& outcomes);

  // The highest seq below which every event is visible (postgres_events.cc).
  Result<std::int64_t> settled_event_seq();

  static constexpr int kWriteRounds = 3;
  const pg::ConnectionSettings settings_;
  pg::ConnectionPool pool_;
  std::mutex listener_mu_;
  std::unique_ptr<pg::Listener> listener_;  // GUARDED_BY(listener_mu_)
  // Samples of the event sequence, oldest first (postgres_events.cc).
  struct SeqSample {
    Millis taken = 0;          // steady clock, ms
    std::int64_t seq = 0;      // the newest seq handed out when it was taken
    std::int64_t next_xid = 0; // every transaction that could own a seq <= `seq` is below this
  };
  std::mutex seq_mu_;
  std::deque<SeqSample> seq_samples_;  // GUARDED_BY(seq_mu_)
  std::int64_t settled_seq_ = 0;       // GUARDED_BY(seq_mu_)
};

// The queue_counts shard a connection's transactions add to (migrations.cc).
int CountShard(const pg::Connection& conn);

template <typename Body>
std::invoke_result_t<Body&, pg::Txn&> PostgresStore::write(Body&& body) {
  for (int round = 1;; ++round) {
    ASSIGN_OR_RETURN(pg::ConnectionPool::Lease lease, pool_.acquire());
    pg::Txn txn(lease.conn(), CountShard(lease.conn()));
    Status failed = txn.begin();
    if (failed.ok()) {
      auto result = body(txn);
      if (!result.ok()) {
        failed = result.status();
      } else {
        failed = txn.commit();
        if (failed.ok()) {
          committed({.events = txn.events_written(), .webhooks = txn.webhooks_queued()});
          return result;
        }
      }
    }
    if (failed.code() != StatusCode::kUnavailable || txn.commit_sent() || round == kWriteRounds) {
      return failed;
    }
  }
}

template <typename Body>
std::invoke_result_t<Body&, pg::Connection&> PostgresStore::read(Body&& body) {
  for (int round = 1;; ++round) {
    ASSIGN_OR_RETURN(pg::ConnectionPool::Lease lease, pool_.acquire());
    auto result = body(lease.conn());
    if (result.ok() || result.status().code() != StatusCode::kUnavailable || round == 2) {
      return result;
    }
  }
}

}  // namespace sluice
