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

class WriteTxn {
 public:
  explicit WriteTxn(Connection& conn) : conn_(conn) {}
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

  Connection& conn_;
  bool open_ = false;
  int events_ = 0;    // appended in this transaction
  int webhooks_ = 0;  // deliveries queued in this transaction
  std::map<std::pair<std::string, int>, std::int64_t> count_deltas_;
};

}  // namespace sluice::sqlite
