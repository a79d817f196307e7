#include "store/audit_entries.h"

#include "store/audit_chain.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace sluice {

namespace json = boost::json;

namespace {

Result<AuditEntry> Entry(Millis at, std::string tenant, std::string actor, std::string action,
                         std::string job_id, const json::object& detail) {
  return MakeAuditEntry(at, std::move(tenant), std::move(actor), std::move(action),
                        std::move(job_id), json::serialize(detail));
}

}  // namespace

Result<AuditEntry> ModelCallEntry(const CallCharge& call) {
  json::object detail{
      {"attempt", call.attempt},
      {"task_type", call.task_type},
      {"provider", call.provider},
      {"model", call.model_id},
      {"model_alias", call.model_alias},
      {"prompt_version", call.prompt_version},
      {"usage", json::object{{"prompt_tokens", call.prompt_tokens},
                             {"completion_tokens", call.completion_tokens},
                             {"cached_tokens", call.cached_tokens},
                             {"reasoning_tokens", call.reasoning_tokens}}},
      {"cost_usd", UsdOfNanos(call.cost_nano_usd)},
      {"outcome", call.outcome},
  };
  if (call.unpriced) detail["unpriced"] = true;
  if (!call.pii_masked_json.empty()) {
    boost::system::error_code ec;
    json::value masked = json::parse(call.pii_masked_json, ec);
    if (!ec && masked.is_object()) detail["pii"] = json::object{{"masked", std::move(masked)}};
  }
  return Entry(call.at, call.tenant, call.actor, "model_call", call.job_id, detail);
}

Result<AuditEntry> ReviewEntry(const ReviewAction& action) {
  json::object detail;
  const char* name = "review.approve";
  if (action.kind == ReviewAction::kReject) {
    name = "review.reject";
    detail["reason"] = action.reason;
  } else if (action.kind == ReviewAction::kRetry) {
    name = "review.retry";
    detail["model_alias"] = action.model;
  }
  return Entry(action.now, action.tenant, action.actor, name, action.id, detail);
}

Result<AuditEntry> TenantEntry(const TenantPatch& patch, bool created) {
  json::object changes;
  if (patch.weight) changes["weight"] = *patch.weight;
  if (patch.rpm) changes["rpm"] = *patch.rpm;
  if (patch.max_queued) changes["max_queued"] = *patch.max_queued;
  if (patch.monthly_budget_usd) changes["monthly_budget_usd"] = *patch.monthly_budget_usd;
  if (patch.mask_pii) changes["mask_pii"] = *patch.mask_pii;
  return Entry(patch.now, patch.id, kAuditActorAdmin, created ? "tenant.create" : "tenant.update",
               "", json::object{{"changes", std::move(changes)}});
}

Result<AuditEntry> KeyCreatedEntry(const ApiKey& key) {
  return Entry(key.created_at, key.tenant, kAuditActorAdmin, "key.create", "",
               json::object{{"key_id", key.id}, {"name", key.name}});
}

Result<AuditEntry> KeyRevokedEntry(const ApiKey& key, Millis at) {
  return Entry(at, key.tenant, kAuditActorAdmin, "key.revoke", "",
               json::object{{"key_id", key.id}, {"name", key.name}});
}

}  // namespace sluice
