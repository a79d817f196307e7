#include "store/postgres/txn.h"

#include "core/ids.h"
#include "store/job_rules.h"
#include "store/postgres/queries.h"

namespace sluice::pg {

Txn::~Txn() {
  if (!open_) return;
  // A failed ROLLBACK leaves the connection in an unknown state: the pool closes a connection
  // that comes back with a transaction open, and the server rolls back when it goes.
  (void)conn_.exec("ROLLBACK");
}

Status Txn::begin() {
  RETURN_IF_ERROR(conn_.exec("BEGIN"));
  open_ = true;
  return Status::Ok();
}

Status Txn::commit() {
  RETURN_IF_ERROR(flush());
  commit_sent_ = true;
  Status committed = conn_.exec("COMMIT");
  if (!committed.ok()) {
    if (conn_.broken()) {
      // The reply was lost: the transaction may or may not have committed.
      return Unavailable("the connection broke during COMMIT, its outcome is unknown: " +
                         committed.message());
    }
    open_ = !conn_.idle();  // the server refused the commit and rolled back
    return committed;
  }
  open_ = false;
  return Status::Ok();
}

void Txn::event(std::string_view job_id, std::string_view tenant, Millis at, std::string_view type,
                std::string_view data_json) {
  event_job_ids_.add(job_id);
  event_tenants_.add(tenant);
  event_ats_.add(at);
  event_types_.add(type);
  event_data_.add(data_json);
  ++events_;
  if (const char* webhook = store_rules::WebhookEventType(type)) {
    webhook_ids_.add(NewId("evt_", at));
    webhook_job_ids_.add(job_id);
    webhook_types_.add(webhook);
    webhook_ats_.add(at);
  }
}

void Txn::moved(const std::string& queue, std::optional<JobStatus> from, JobStatus to,
                std::int64_t n) {
  if (from == to) return;
  if (from) count_deltas_[{queue, static_cast<int>(*from)}] -= n;
  count_deltas_[{queue, static_cast<int>(to)}] += n;
}

Status Txn::flush() {
  TextArray queues, statuses, deltas, notify;
  // In key order: two transactions lock shared counter rows in the same order, never crosswise.
  for (const auto& [key, delta] : count_deltas_) {
    if (delta == 0) continue;
    queues.add(key.first);
    statuses.add(key.second);
    deltas.add(delta);
  }
  for (const std::string& queue : notify_) notify.add(queue);
  if (event_job_ids_.empty() && queues.empty() && notify.empty()) return Status::Ok();
  Params params;
  params.add_literal(event_job_ids_.str())
      .add_literal(event_tenants_.str())
      .add_literal(event_ats_.str())
      .add_literal(event_types_.str())
      .add_literal(event_data_.str())
      .add_literal(queues.str())
      .add_literal(statuses.str())
      .add_literal(deltas.str())
      .add(shard_)
      .add_literal(notify.str())
      .add_literal(webhook_ids_.str())
      .add_literal(webhook_job_ids_.str())
      .add_literal(webhook_types_.str())
      .add_literal(webhook_ats_.str());
  ASSIGN_OR_RETURN(Rows rows, conn_.run(kFlushTransaction.data(), params));
  if (rows.size() > 0) webhooks_queued_ += static_cast<int>(rows.int_at(0, 0));
  events_written_ += events_;
  events_ = 0;
  event_job_ids_ = event_tenants_ = event_ats_ = event_types_ = event_data_ = TextArray();
  webhook_ids_ = webhook_job_ids_ = webhook_types_ = webhook_ats_ = TextArray();
  count_deltas_.clear();
  notify_.clear();
  return Status::Ok();
}

}  // namespace sluice::pg
