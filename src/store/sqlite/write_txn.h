// One write transaction of the embedded store, and what must commit with every state change:
// its job event and the per-queue status counters (queue_counts). The caller holds the store's
// write mutex for the transaction's whole life.
//
//   WriteTxn txn(conn);
//   RETURN_IF_ERROR(txn.begin());
//   ... statements, txn.event(...), txn.moved(...) ...
//   RETURN_IF_ERROR(txn.commit());   // any early return rolls everything back
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/job.h"
#include "core/status.h"
#include "core/time.h"
#include "store/sqlite/connection.h"

namespace sluice::sqlite {

// When a transaction's commit reaches the disk.
// - kSynced: the log is fsynced before COMMIT returns. Every write that anyone is told about
//   (an accepted submit, a result, a cancel, a review) commits this way.
// - kUnsynced: the log is fsynced by the next synced commit (the log is one file written in
//   order, so that fsync covers these frames too) or by a checkpoint. Only for writes nobody is
//   told about and whose loss merely repeats work: claims and lease renewals. A killed process
//   loses nothing (the frames are in the OS's cache); a power cut may undo a claim made since
//   the last synced commit, and then the job is simply queued again (at-least-once), while any
//   result written for it was synced, and with it the claim.
enum class CommitSync { kSynced, kUnsynced };

class WriteTxn {
 public:
  explicit WriteTxn(Connection& conn, CommitSync sync = CommitSync::kSynced)
      : conn_(conn), sync_(sync) {}
  WriteTxn(const WriteTxn&) = delete;
  WriteTxn& operator=(const WriteTxn&) = delete;
  // Rolls back unless commit() succeeded.
  ~WriteTxn();

  // BEGIN IMMEDIATE: takes the database write lock now, not at the first write.
  Status begin();
  // Writes the counter changes, then COMMIT. On failure everything is rolled back.
  Status commit();

  Connection& conn() { return conn_; }

  // Appends an event to the job's (or batch's) history. An event that ends a job or a batch
  // (store_rules::WebhookEventType) also queues its webhook delivery when the job or batch has
  // a webhook_url: the outbox row commits or rolls back with the transition.
  Status event(const std::string& job_id, const std::string& tenant, Millis at,
               std::string_view type, const std::string& data_json);
  // Records that `n` jobs of `queue` moved from `from` (nullopt: newly created) to `to`.
  void moved(const std::string& queue, std::optional<JobStatus> from, JobStatus to,
             std::int64_t n = 1);

 private:
  Status flush_counts();

  // Back to synced commits after an unsynced transaction, whatever its end.
  void restore_sync();

  Connection& conn_;
  CommitSync sync_;
  bool open_ = false;
  int events_ = 0;    // appended in this transaction
  int webhooks_ = 0;  // deliveries queued in this transaction
  std::map<std::pair<std::string, int>, std::int64_t> count_deltas_;
};

}  // namespace sluice::sqlite
