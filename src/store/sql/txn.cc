#include "store/sql/txn.h"

#include "core/ids.h"
#include "store/job_rules.h"

namespace sluice::sql {

void Txn::event(std::string_view job_id, std::string_view tenant, Millis at,
                std::string_view type, std::string data_json) {
  Event e{.job_id = std::string(job_id),
          .tenant = std::string(tenant),
          .at = at,
          .type = std::string(type),
          .data = std::move(data_json)};
  e.webhook = store_rules::WebhookEventType(type);
  if (e.webhook) e.webhook_id = NewId("evt_", at);
  events_.push_back(std::move(e));
}

void Txn::moved(const std::string& queue, std::optional<JobStatus> from, JobStatus to,
                std::int64_t n) {
  if (from == to) return;
  if (from) count_deltas_[{queue, static_cast<int>(*from)}] -= n;
  count_deltas_[{queue, static_cast<int>(to)}] += n;
}

void Txn::flushed(int webhooks_queued) {
  news_.events += static_cast<int>(events_.size());
  news_.webhooks += webhooks_queued;
  events_.clear();
  count_deltas_.clear();
  notify_.clear();
  audit_.clear();
}

}  // namespace sluice::sql
