// SqlStore: the webhook outbox (claim, record, release) and the event stream. Deliveries are
// queued by the engine's flush of a Txn, in the transaction of the transition (sql/txn.h).
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "store/sql/sql_store.h"
#include "store/sql/statements.h"
#include "store/webhook_rules.h"

namespace sluice::sql {

Result<std::vector<WebhookDelivery>> SqlStore::claim_webhook_deliveries(
    const WebhookClaim& claim) {
  using Deliveries = std::vector<WebhookDelivery>;
  if (claim.limit <= 0) return Deliveries();
  if (claim.owner.empty()) return InvalidArgument("a claim needs a lease owner", "owner");
  return write<Deliveries>([&](Txn& txn) -> Result<Deliveries> {
    ASSIGN_OR_RETURN(Deliveries claimed,
                     QueryAll(txn.session(), DeliveryColumns(), Sql().claim_webhooks,
                              Params()
                                  .add(claim.owner)
                                  .add(claim.now)
                                  .add(claim.lease_until)
                                  .add(claim.limit)));
    std::sort(claimed.begin(), claimed.end(),
              [](const WebhookDelivery& a, const WebhookDelivery& b) { return a.id < b.id; });
    return claimed;
  });
}

Result<std::vector<Status>> SqlStore::record_webhook_attempts(
    std::span<const WebhookAttempt> attempts) {
  std::vector<Status> valid;
  valid.reserve(attempts.size());
  for (const WebhookAttempt& a : attempts) valid.push_back(webhook_rules::CheckRecordable(a));
  if (attempts.empty()) return valid;

  using Outcomes = std::vector<Status>;
  return write<Outcomes>([&](Txn& txn) -> Result<Outcomes> {
    Outcomes outcomes = valid;
    for (std::size_t i = 0; i < attempts.size(); ++i) {
      if (!outcomes[i].ok()) continue;
      const WebhookAttempt& a = attempts[i];
      Params params;
      params.add(a.id)
          .add(a.lease_owner)
          .add(a.attempt)
          .add(static_cast<int>(webhook_rules::StateAfter(a.outcome)))
          .add(webhook_rules::DueAfter(a))
          .add(a.payload);
      if (a.outcome == WebhookAttempt::kRetry) {
        params.add_null();
      } else {
        params.add(a.now);
      }
      ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                       txn.session().query(Sql().record_webhook, std::move(params)));
      ASSIGN_OR_RETURN(bool matched, rows->next());
      if (!matched) {
        outcomes[i] = webhook_rules::LeaseLost(a);
        continue;
      }
      txn.event(rows->text_at(0), rows->text_at(1), a.now,
                webhook_rules::AttemptEventType(rows->text_at(2)), webhook_rules::EventData(a));
    }
    return outcomes;
  });
}

Result<int> SqlStore::release_webhook_leases(const std::string& owner, Millis now) {
  ASSIGN_OR_RETURN(std::int64_t released,
                   exec(Sql().release_webhook_leases, Params().add(owner).add(now)));
  return static_cast<int>(released);
}

Result<std::vector<JobEvent>> SqlStore::events_after(const std::string& tenant,
                                                     std::int64_t after_seq, int limit) {
  using Events = std::vector<JobEvent>;
  if (limit <= 0) return Events();
  // Never past the visible seq: an older event may still commit above a reader's resume point
  // otherwise (Store::events_after).
  ASSIGN_OR_RETURN(std::int64_t visible, dialect_->visible_event_seq());
  if (visible <= after_seq) return Events();
  return read<Events>([&](Session& session) -> Result<Events> {
    return QueryAll(session, EventColumns(), Sql().events_after,
                    Params().add(tenant).add(after_seq).add(visible).add(limit));
  });
}

}  // namespace sluice::sql
