// PostgresStore: the webhook outbox (claim, record). Deliveries are queued by pg::Txn's flush
// in the transaction of the job's transition (txn.cc, kFlushTransaction).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "store/postgres/postgres_store.h"
#include "store/postgres/queries.h"
#include "store/postgres/text.h"
#include "store/webhook_rules.h"

namespace sluice {

using pg::Params;
using pg::Rows;
using pg::TextArray;
using pg::Txn;

Result<std::vector<WebhookDelivery>> PostgresStore::claim_webhook_deliveries(
    const WebhookClaim& claim) {
  if (claim.limit <= 0) return std::vector<WebhookDelivery>();
  if (claim.owner.empty()) return InvalidArgument("a claim needs a lease owner", "owner");
  return write([&](Txn& txn) -> Result<std::vector<WebhookDelivery>> {
    Params params;
    params.add(claim.owner)
        .add(claim.now)
        .add(claim.lease_until)
        .add(static_cast<std::int64_t>(claim.limit));
    ASSIGN_OR_RETURN(Rows rows, txn.conn().run(pg::kClaimWebhooks, params));
    std::vector<WebhookDelivery> claimed;
    claimed.reserve(static_cast<std::size_t>(rows.size()));
    for (int i = 0; i < rows.size(); ++i) {
      claimed.push_back(WebhookDelivery{.id = rows.text_at(i, 0),
                                        .job_id = rows.text_at(i, 1),
                                        .tenant = rows.text_at(i, 2),
                                        .type = rows.text_at(i, 3),
                                        .url = rows.text_at(i, 4),
                                        .created_at = rows.int_at(i, 5),
                                        .attempts = static_cast<int>(rows.int_at(i, 6)),
                                        .payload = rows.text_at(i, 7),
                                        .lease_owner = rows.text_at(i, 8)});
    }
    std::sort(claimed.begin(), claimed.end(),
              [](const WebhookDelivery& a, const WebhookDelivery& b) { return a.id < b.id; });
    return claimed;
  });
}

Result<std::vector<Status>> PostgresStore::record_webhook_attempts(
    std::span<const WebhookAttempt> attempts) {
  std::vector<Status> valid;
  valid.reserve(attempts.size());
  for (const WebhookAttempt& a : attempts) valid.push_back(webhook_rules::CheckRecordable(a));
  if (attempts.empty()) return valid;

  return write([&](Txn& txn) -> Result<std::vector<Status>> {
    std::vector<Status> outcomes = valid;
    // One UPDATE changes a row at most once: a delivery named twice gets its first item applied
    // here and the later ones answered as lease lost (the first one ended the lease).
    std::map<std::string, std::size_t, std::less<>> first;
    TextArray ids, owners, numbers, states, dues, payloads, finished;
    for (std::size_t i = 0; i < attempts.size(); ++i) {
      if (!valid[i].ok()) continue;
      const WebhookAttempt& a = attempts[i];
      if (!first.emplace(a.id, i).second) {
        outcomes[i] = webhook_rules::LeaseLost(a);
        continue;
      }
      ids.add(a.id);
      owners.add(a.lease_owner);
      numbers.add(a.attempt);
      states.add(static_cast<int>(webhook_rules::StateAfter(a.outcome)));
      dues.add(webhook_rules::DueAfter(a));
      payloads.add(a.payload);
      if (a.outcome == WebhookAttempt::kRetry) {
        finished.add_null();
      } else {
        finished.add(a.now);
      }
    }
    if (first.empty()) return outcomes;
    Params params;
    for (const TextArray* column : {&ids, &owners, &numbers, &states, &dues, &payloads, &finished}) {
      params.add_literal(column->str());
    }
    ASSIGN_OR_RETURN(Rows rows, txn.conn().run(pg::kRecordWebhooks, params));
    struct Subject {
      std::string id, tenant, type;
    };
    std::map<std::string, Subject, std::less<>> matched;
    for (int r = 0; r < rows.size(); ++r) {
      matched.emplace(rows.text_at(r, 0),
                      Subject{rows.text_at(r, 1), rows.text_at(r, 2), rows.text_at(r, 3)});
    }
    for (const auto& [id, i] : first) {
      const WebhookAttempt& a = attempts[i];
      auto it = matched.find(id);
      if (it == matched.end()) {
        outcomes[i] = webhook_rules::LeaseLost(a);
        continue;
      }
      const Subject& subject = it->second;
      txn.event(subject.id, subject.tenant, a.now, webhook_rules::AttemptEventType(subject.type),
                webhook_rules::EventData(a));
    }
    return outcomes;
  });
}

Result<int> PostgresStore::release_webhook_leases(const std::string& owner, Millis now) {
  // One statement, its own transaction, and safe to run twice.
  return read([&](pg::Connection& conn) -> Result<int> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(pg::kReleaseWebhookLeases, Params().add(owner).add(now)));
    return static_cast<int>(rows.affected());
  });
}

}  // namespace sluice
