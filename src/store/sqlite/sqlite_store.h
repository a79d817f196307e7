// The embedded engine of the Store contract (store/store.h): one SQLite database in WAL mode at
// <data_dir>/sluice.db, owned by one process (DataDirLock).
//
// Concurrency: every write runs on one writer connection under write_mu_, in one transaction
// per call (BEGIN IMMEDIATE ... COMMIT). Reads run on a small pool of read connections, so a
// GET never waits behind a group commit's fsync: WAL readers see the last committed state.
// Throughput for many small submissions comes from batching them into one call
// (store/group_commit.h), not from concurrent writers, which SQLite would serialize anyway.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/sqlite/connection.h"
#include "store/sqlite/data_dir_lock.h"
#include "store/store.h"

namespace sluice {

namespace sqlite {
class WriteTxn;
}

class SqliteStore final : public Store {
 public:
  // Creates data_dir when missing, takes its lock (kFailedPrecondition when another Store
  // holds it), opens or creates sluice.db and applies missing migrations.
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~SqliteStore() override;

  bool exclusive() const override { return true; }
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
  // Webhook outbox and event stream (sqlite_webhooks.cc).
  Result<std::vector<WebhookDelivery>> claim_webhook_deliveries(const WebhookClaim& claim) override;
  Result<std::vector<Status>> record_webhook_attempts(
      std::span<const WebhookAttempt> attempts) override;
  Result<int> release_webhook_leases(const std::string& owner, Millis now) override;
  Result<std::vector<JobEvent>> events_after(const std::string& tenant, std::int64_t after_seq,
                                             int limit) override;
  Result<std::int64_t> events_head() override;

  // Files and batches (sqlite_batches.cc).
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
  // A read connection borrowed from the pool for one call; returned when it goes away.
  class Reader;

  SqliteStore(std::string db_path, sqlite::DataDirLock lock,
              std::unique_ptr<sqlite::Connection> writer);

  Result<Reader> reader();
  void give_back(std::unique_ptr<sqlite::Connection> conn);

  // Applies one valid finish item inside the finish transaction: true when the compare-and-set
  // matched, false when the job is not running under that (attempt, lease owner). An error is
  // a storage failure and fails the whole call.
  Result<bool> finish_one(sqlite::WriteTxn& txn, const AttemptFinish& item);

  const std::string db_path_;
  // Declared first so it is released last, after every connection has closed.
  sqlite::DataDirLock lock_;

  std::mutex write_mu_;
  std::unique_ptr<sqlite::Connection> writer_;  // GUARDED_BY(write_mu_)

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<sqlite::Connection>> idle_readers_;  // GUARDED_BY(readers_mu_)
};

}  // namespace sluice
