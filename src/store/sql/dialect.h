// The seam between the store core (sql/sql_store.h, written once) and an engine: everything
// the two engines truly do differently, and nothing else. An engine owns its connections (one
// SQLite writer and a reader pool; a PostgreSQL pool with a listener), runs transactions with
// its own flush and retry rules, and does the few writes whose best form differs: inserting many
// jobs, claiming, finishing many attempts. Every other statement and every rule lives in the
// core, so a new table or transition is written once.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/job.h"
#include "core/status.h"
#include "store/sql/session.h"
#include "store/sql/txn.h"
#include "store/store.h"

namespace sluice::sql {

// When a write's commit must be on disk (SQLite; PostgreSQL commits every write durably).
// kSynced for every write anyone is told about; kUnsynced only for claims and lease renewals,
// whose loss in a power cut merely repeats work (sqlite/sqlite_dialect.h).
enum class CommitSync { kSynced, kUnsynced };

// Where a finish that matched left its job.
struct SettledJob {
  std::string tenant;
  std::string queue;
};

class Dialect {
 public:
  virtual ~Dialect() = default;

  virtual Syntax syntax() const = 0;
  // True when this process is the only one using the store (Store::exclusive).
  virtual bool exclusive() const = 0;

  // Runs `body` in one transaction, flushes the Txn and commits; returns what the commit wrote.
  // On failure nothing stays. An engine may run `body` again on a fresh connection when it
  // failed before COMMIT was sent for a reason that may pass, so `body` must build its results
  // afresh on each call.
  virtual Result<CommitNews> write(CommitSync sync, const std::function<Status(Txn&)>& body) = 0;
  // Runs `body` on a connection outside any explicit transaction (reads). It may run twice.
  virtual Status read(const std::function<Status(Session&)>& body) = 0;

  // Inserts fresh jobs (as store_rules::AsSubmitted made them) in order, with `batch_id` (""
  // for none). A job whose (tenant, dedup_key) is taken, by an older job or by one earlier in
  // `jobs`, is not inserted, unless its holder is terminal and finished more than the store's
  // dedup window (StoreOptions::dedup_window, 0: never) before the new job's created_at: then
  // the holder's dedup_key becomes '' and the new job is inserted, in this same transaction.
  // Per job: nullopt when it was created, else the job holding its key (read only when
  // `want_holders`; otherwise an empty Job). Each created job's spec.blob_refs become its
  // job_blobs rows (retention keeps the blobs they name); a job without any costs nothing more.
  virtual Result<std::vector<std::optional<Job>>> insert_jobs(Txn& txn, std::span<const Job> jobs,
                                                              const std::string& batch_id,
                                                              bool want_holders) = 0;
  // Leases up to request.limit due jobs of the queue (Store::claim_jobs) and returns them as
  // they are after the change, in claim order. Events and counters are the core's.
  virtual Result<std::vector<Job>> claim(Txn& txn, const ClaimRequest& request) = 0;
  // Applies the compare-and-set of each finish (valid ones, no job twice), its attempt record
  // and its result. Per item: where its job was, or nullopt when it no longer runs that attempt
  // under that owner.
  virtual Result<std::vector<std::optional<SettledJob>>> finish(
      Txn& txn, std::span<const AttemptFinish* const> items) = 0;

  // The highest event seq a reader may be given now: below it, no event may still commit
  // (Store::events_after).
  virtual Result<std::int64_t> visible_event_seq() = 0;
  // Store::set_wake_handler.
  virtual void set_wake_handler(std::function<void(const std::string& queue)> handler) {
    (void)handler;
  }
};

}  // namespace sluice::sql
