// Tenants, API keys and budgets (store.h "Tenants, API keys and budgets").
#include "store/sql/sql_store.h"

namespace sluice::sql {

namespace {
Status NotYet() { return Status(StatusCode::kInternal, "not implemented yet"); }
}  // namespace

Result<TenantWrite> SqlStore::put_tenant(const TenantPatch&) { return NotYet(); }
Result<Tenant> SqlStore::get_tenant(const std::string&) { return NotYet(); }
Result<std::vector<Tenant>> SqlStore::list_tenants() { return NotYet(); }
Status SqlStore::create_api_key(const ApiKey&) { return NotYet(); }
Result<std::vector<ApiKey>> SqlStore::list_api_keys(const std::string&) { return NotYet(); }
Result<ApiKey> SqlStore::revoke_api_key(const std::string&, Millis) { return NotYet(); }
Result<ApiKey> SqlStore::find_api_key(const std::string&) { return NotYet(); }
Result<bool> SqlStore::any_api_key() { return false; }
Result<TenantUsage> SqlStore::tenant_usage(const std::string&, const std::string&, Millis) {
  return NotYet();
}
Result<std::vector<bool>> SqlStore::reserve_budget(std::span<const BudgetReservation>) {
  return NotYet();
}
Status SqlStore::settle_budget(const std::string&, double) { return NotYet(); }
Result<std::int64_t> SqlStore::live_jobs(const std::string&) { return NotYet(); }

}  // namespace sluice::sql
