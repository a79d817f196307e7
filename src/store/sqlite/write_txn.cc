#include "store/sqlite/write_txn.h"

#include "core/ids.h"
#include "store/job_rules.h"
#include "store/sqlite/queries.h"

namespace sluice::sqlite {

WriteTxn::~WriteTxn() {
  if (open_) {
    // A failed ROLLBACK leaves nothing better to do: SQLite rolls back itself when the
    // connection next begins, and the caller already returns the error that brought us here.
    auto rollback = conn_.prepare(kRollback);
    if (rollback.ok()) (void)rollback->run();
  }
  restore_sync();
}

void WriteTxn::restore_sync() {
  if (sync_ == CommitSync::kSynced) return;
  sync_ = CommitSync::kSynced;
  // Should it fail, the connection keeps committing unsynced: say so loudly rather than
  // silently weaken "accepted means durable". It cannot fail short of memory exhaustion.
  CHECK(conn_.set_sync_each_commit(true).ok());
}

Status WriteTxn::begin() {
  if (sync_ == CommitSync::kUnsynced) RETURN_IF_ERROR(conn_.set_sync_each_commit(false));
  ASSIGN_OR_RETURN(Statement q, conn_.prepare(kBegin));
  RETURN_IF_ERROR(q.run());
  open_ = true;
  return Status::Ok();
}

Status WriteTxn::commit() {
  RETURN_IF_ERROR(flush_counts());
  ASSIGN_OR_RETURN(Statement q, conn_.prepare(kCommit));
  RETURN_IF_ERROR(q.run());
  open_ = false;
  restore_sync();
  conn_.committed(events_, webhooks_);
  return Status::Ok();
}

Status WriteTxn::event(const std::string& job_id, const std::string& tenant, Millis at,
                       std::string_view type, const std::string& data_json) {
  ASSIGN_OR_RETURN(Statement q, conn_.prepare(kInsertEvent));
  q.bind_text(1, job_id);
  q.bind_text(2, tenant);
  q.bind_int(3, at);
  q.bind_text(4, type);
  q.bind_text(5, data_json);
  RETURN_IF_ERROR(q.run());
  ++events_;
  const char* webhook = store_rules::WebhookEventType(type);
  if (!webhook) return Status::Ok();
  // Inserts nothing for a job (or batch) without a webhook_url.
  const std::string id = NewId("evt_", at);
  const bool batch = store_rules::WebhookSubjectOf(webhook) == store_rules::WebhookSubject::kBatch;
  ASSIGN_OR_RETURN(Statement queue, conn_.prepare(batch ? kQueueBatchWebhook : kQueueWebhook));
  queue.bind_text(1, id);
  queue.bind_text(2, std::string_view(webhook));
  queue.bind_int(3, at);
  queue.bind_text(4, job_id);
  RETURN_IF_ERROR(queue.run());
  webhooks_ += conn_.changes();
  return Status::Ok();
}

void WriteTxn::moved(const std::string& queue, std::optional<JobStatus> from, JobStatus to,
                     std::int64_t n) {
  if (from == to) return;
  if (from) count_deltas_[{queue, static_cast<int>(*from)}] -= n;
  count_deltas_[{queue, static_cast<int>(to)}] += n;
}

Status WriteTxn::flush_counts() {
  if (count_deltas_.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(Statement q, conn_.prepare(kAddToQueueCount));
  for (const auto& [key, delta] : count_deltas_) {
    if (delta == 0) continue;
    q.bind_text(1, key.first);
    q.bind_int(2, key.second);
    q.bind_int(3, delta);
    RETURN_IF_ERROR(q.run());
    q.reset();
  }
  count_deltas_.clear();
  return Status::Ok();
}

}  // namespace sluice::sqlite
