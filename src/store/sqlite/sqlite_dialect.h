// The embedded engine: one SQLite database in WAL mode at <data_dir>/sluice.db, owned by one
// process (DataDirLock), under the store core (sql/sql_store.h).
//
// Concurrency: every write runs on one writer connection under write_mu_, in one transaction
// per call (BEGIN IMMEDIATE ... COMMIT). Reads run on a small pool of read connections, so a
// GET never waits behind a group commit's fsync: WAL readers see the last committed state.
// Throughput for many small submissions comes from batching them into one call
// (store/group_commit.h), not from concurrent writers, which SQLite would serialize anyway.
//
// Commit durability (sql::CommitSync): a kSynced commit fsyncs the log before COMMIT returns.
// A kUnsynced one (claims, lease renewals: writes nobody is told about) leaves the log to the
// next synced commit, which covers its frames too (the log is one file written in order), or to
// a checkpoint. A killed process loses nothing (the frames are in the OS's cache); a power cut
// may undo a claim made since the last synced commit, and then the job is simply queued again
// (at-least-once), while any result written for it was synced, and with it the claim.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "store/sql/dialect.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/data_dir_lock.h"
#include "store/store.h"

namespace sluice::sqlite {

class SqliteDialect final : public sql::Dialect {
 public:
  // Creates data_dir when missing, takes its lock (kFailedPrecondition when another store
  // holds it), opens or creates sluice.db and applies missing migrations.
  static Result<std::unique_ptr<sql::Dialect>> Open(const StoreOptions& options);
  ~SqliteDialect() override;

  sql::Syntax syntax() const override { return sql::Syntax::kSqlite; }
  bool exclusive() const override { return true; }
  Result<CommitNews> write(sql::CommitSync sync,
                           const std::function<Status(sql::Txn&)>& body) override;
  Status read(const std::function<Status(sql::Session&)>& body) override;
  Result<std::vector<std::optional<Job>>> insert_jobs(sql::Txn& txn, std::span<const Job> jobs,
                                                      const std::string& batch_id,
                                                      bool want_holders) override;
  Result<std::vector<Job>> claim(sql::Txn& txn, const ClaimRequest& request) override;
  Result<std::vector<std::optional<sql::SettledJob>>> finish(
      sql::Txn& txn, std::span<const AttemptFinish* const> items) override;
  Result<std::int64_t> visible_event_seq() override;

 private:
  SqliteDialect(std::string db_path, DataDirLock lock, std::unique_ptr<Connection> writer,
                Millis dedup_window)
      : db_path_(std::move(db_path)),
        dedup_window_(dedup_window),
        lock_(std::move(lock)),
        writer_(std::move(writer)) {}

  // Writes the Txn's events (each with the webhook delivery it queues) and counter changes.
  Status flush(sql::Txn& txn) REQUIRES(write_mu_);
  Status seal_audit_entries(sql::Txn& txn) REQUIRES(write_mu_);
  // The job_blobs rows of a job just inserted (spec.blob_refs).
  Status insert_blob_refs(const Job& job) REQUIRES(write_mu_);

  Result<std::unique_ptr<Connection>> take_reader();
  void give_back(std::unique_ptr<Connection> conn);

  const std::string db_path_;
  const Millis dedup_window_;  // StoreOptions::dedup_window
  // Declared first so it is released last, after every connection has closed.
  DataDirLock lock_;

  // Held for a whole write() (one transaction); the core calls insert_jobs, claim and finish
  // only from inside it.
  Mutex write_mu_;
  std::unique_ptr<Connection> writer_ GUARDED_BY(write_mu_);

  Mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> idle_readers_ GUARDED_BY(readers_mu_);
};

}  // namespace sluice::sqlite
