// One write transaction of the shared store, and what must commit with every state change: its
// job events, the per-queue status counters (queue_counts) and the notifications that wake
// idle nodes. These are collected while the transaction runs and written by one statement just
// before COMMIT (kFlushTransaction), so a transaction of any size costs BEGIN, its own
// statements, one flush and COMMIT. Writing the counters last also keeps their row locks for
// the shortest time.
//
//   Txn txn(conn, shard);
//   RETURN_IF_ERROR(txn.begin());
//   ... statements, txn.event(...), txn.moved(...), txn.notify(...) ...
//   RETURN_IF_ERROR(txn.commit());   // any early return rolls everything back
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "core/job.h"
#include "core/status.h"
#include "core/time.h"
#include "store/postgres/connection.h"
#include "store/postgres/text.h"

namespace sluice::pg {

class Txn {
 public:
  // `shard`: the queue_counts shard this transaction adds to (migrations.cc).
  Txn(Connection& conn, int shard) : conn_(conn), shard_(shard) {}
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  // Rolls back unless commit() succeeded.
  ~Txn();

  Status begin();
  // Writes the events, counter changes and notifications, then COMMIT. On failure nothing
  // stays, except when the connection broke during COMMIT: then the outcome is unknown.
  Status commit();
  // True once COMMIT was sent: from then on, a failure may hide a committed transaction, and
  // running the work again could apply it twice.
  bool commit_sent() const { return commit_sent_; }
  // What the committed transaction wrote (Store::set_commit_listener).
  int events_written() const { return events_written_; }
  int webhooks_queued() const { return webhooks_queued_; }

  Connection& conn() { return conn_; }

  // Appends an event to the job's history. An event that ends a job
  // (store_rules::WebhookEventType) also queues its webhook delivery when the job has a
  // webhook_url, by the same flush: the outbox row commits or rolls back with the transition.
  void event(std::string_view job_id, std::string_view tenant, Millis at, std::string_view type,
             std::string_view data_json);
  // Records that `n` jobs of `queue` moved from `from` (nullopt: newly created) to `to`.
  void moved(const std::string& queue, std::optional<JobStatus> from, JobStatus to,
             std::int64_t n = 1);
  // Wakes nodes listening for new work in `queue`, once the transaction commits.
  void notify(const std::string& queue) { notify_.insert(queue); }

 private:
  Status flush();

  Connection& conn_;
  const int shard_;
  bool open_ = false;
  bool commit_sent_ = false;
  TextArray event_job_ids_, event_tenants_, event_ats_, event_types_, event_data_;
  TextArray webhook_ids_, webhook_job_ids_, webhook_types_, webhook_ats_;
  int events_ = 0;  // in the arrays, not flushed yet
  int events_written_ = 0;
  int webhooks_queued_ = 0;
  std::map<std::pair<std::string, int>, std::int64_t> count_deltas_;
  std::set<std::string> notify_;
};

}  // namespace sluice::pg
