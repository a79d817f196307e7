// SqliteStore: the webhook outbox (claim, record) and the event stream. Deliveries are queued
// by WriteTxn::event in the transaction of the job's transition (write_txn.cc).
#include <algorithm>
#include <string>
#include <vector>

#include "store/sqlite/queries.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/write_txn.h"
#include "store/webhook_rules.h"

namespace sluice {

using sqlite::Statement;
using sqlite::WriteTxn;

Result<std::vector<WebhookDelivery>> SqliteStore::claim_webhook_deliveries(
    const WebhookClaim& claim) {
  std::vector<WebhookDelivery> claimed;
  if (claim.limit <= 0) return claimed;
  if (claim.owner.empty()) return InvalidArgument("a claim needs a lease owner", "owner");
  std::lock_guard lock(write_mu_);
  WriteTxn txn(*writer_);
  RETURN_IF_ERROR(txn.begin());
  {
    ASSIGN_OR_RETURN(Statement q, writer_->prepare(sqlite::kClaimWebhooks));
    q.bind_text(1, claim.owner);
    q.bind_int(2, claim.now);
    q.bind_int(3, claim.lease_until);
    q.bind_int(4, claim.limit);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.step());
      if (!row) break;
      claimed.push_back(WebhookDelivery{.id = q.text_at(0),
                                        .job_id = q.text_at(1),
                                        .tenant = q.text_at(2),
                                        .type = q.text_at(3),
                                        .url = q.text_at(4),
                                        .created_at = q.int_at(5),
                                        .attempts = static_cast<int>(q.int_at(6)),
                                        .payload = q.text_at(7),
                                        .lease_owner = q.text_at(8)});
    }
  }
  RETURN_IF_ERROR(txn.commit());
  std::sort(claimed.begin(), claimed.end(),
            [](const WebhookDelivery& a, const WebhookDelivery& b) { return a.id < b.id; });
  return claimed;
}

Result<std::vector<Status>> SqliteStore::record_webhook_attempts(
    std::span<const WebhookAttempt> attempts) {
  std::vector<Status> outcomes;
  if (attempts.empty()) return outcomes;
  outcomes.reserve(attempts.size());
  std::lock_guard lock(write_mu_);
  WriteTxn txn(*writer_);
  RETURN_IF_ERROR(txn.begin());
  for (const WebhookAttempt& a : attempts) {
    Status valid = webhook_rules::CheckRecordable(a);
    if (!valid.ok()) {
      outcomes.push_back(std::move(valid));
      continue;
    }
    std::string job_id, tenant, type;
    {
      ASSIGN_OR_RETURN(Statement q, writer_->prepare(sqlite::kRecordWebhook));
      q.bind_text(1, a.id);
      q.bind_text(2, a.lease_owner);
      q.bind_int(3, a.attempt);
      q.bind_int(4, static_cast<int>(webhook_rules::StateAfter(a.outcome)));
      q.bind_int(5, webhook_rules::DueAfter(a));
      q.bind_text(6, a.payload);
      if (a.outcome == WebhookAttempt::kRetry) {
        q.bind_null(7);
      } else {
        q.bind_int(7, a.now);
      }
      ASSIGN_OR_RETURN(bool row, q.step());
      if (!row) {
        outcomes.push_back(webhook_rules::LeaseLost(a));
        continue;
      }
      job_id = q.text_at(0);
      tenant = q.text_at(1);
      type = q.text_at(2);
      RETURN_IF_ERROR(q.run());
    }
    RETURN_IF_ERROR(txn.event(job_id, tenant, a.now, webhook_rules::AttemptEventType(type),
                              webhook_rules::EventData(a)));
    outcomes.push_back(Status::Ok());
  }
  RETURN_IF_ERROR(txn.commit());
  return outcomes;
}

Result<int> SqliteStore::release_webhook_leases(const std::string& owner, Millis now) {
  std::lock_guard lock(write_mu_);
  // One statement in autocommit mode is its own transaction.
  ASSIGN_OR_RETURN(Statement q, writer_->prepare(sqlite::kReleaseWebhookLeases));
  q.bind_text(1, owner);
  q.bind_int(2, now);
  RETURN_IF_ERROR(q.run());
  return writer_->changes();
}

}  // namespace sluice
