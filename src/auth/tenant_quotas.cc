#include "auth/tenant_quotas.h"

#include <algorithm>
#include <cmath>

#include "json/json_text.h"

namespace sluice::auth {

namespace {

Status Exhausted(std::string code, std::string message, int retry_after_s) {
  return Status(StatusCode::kResourceExhausted, std::move(message))
      .with_error_code(std::move(code))
      .with_retry_after(std::max(1, retry_after_s));
}

// Seconds until the first of next month (UTC): when a spent budget frees itself.
int SecondsToNextMonth(Millis now) {
  std::string iso = FormatRfc3339(now);
  int year = std::stoi(iso.substr(0, 4));
  int month = std::stoi(iso.substr(5, 2));
  if (++month == 13) {
    month = 1;
    ++year;
  }
  char next[32];
  std::snprintf(next, sizeof(next), "%04d-%02d-01T00:00:00Z", year, month);
  auto start = ParseRfc3339(next);
  if (!start.ok()) return 3600;
  return static_cast<int>(std::min<Millis>((*start - now) / 1000 + 1, 31LL * 24 * 3600));
}

}  // namespace

Status BudgetExceeded(const std::string& tenant, double budget_usd, Millis now) {
  return Exhausted(
      "budget_exceeded",
      "tenant " + tenant + " has spent its monthly budget of $" + NumberText(budget_usd),
      SecondsToNextMonth(now));
}

Status TenantQuotas::admit_request(const Caller& caller) {
  const std::int64_t rpm = caller.limits.rpm;
  if (rpm <= 0 || caller.admin) return Status::Ok();
  const Millis now = clock_.now();
  const double per_ms = static_cast<double>(rpm) / 60'000.0;
  MutexLock lock(mu_);
  auto [it, fresh] = buckets_.try_emplace(caller.tenant, Bucket{static_cast<double>(rpm), now});
  Bucket& b = it->second;
  b.tokens = std::min<double>(static_cast<double>(rpm),
                              b.tokens + per_ms * static_cast<double>(std::max<Millis>(0, now - b.at)));
  b.at = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return Status::Ok();
  }
  const int wait_s = static_cast<int>(std::ceil((1.0 - b.tokens) / per_ms / 1000.0));
  return Exhausted("rate_limited",
                   "tenant " + caller.tenant + " is over its " + std::to_string(rpm) +
                       " requests a minute",
                   wait_s);
}

Status TenantQuotas::admit_spend(const Caller& caller) const {
  if (caller.admin || !caller.usage) return Status::Ok();
  const double budget = caller.limits.monthly_budget_usd;
  if (budget > 0 && caller.usage->spent_usd >= budget) {
    return BudgetExceeded(caller.tenant, budget, clock_.now());
  }
  return Status::Ok();
}

Status TenantQuotas::admit_jobs(const Caller& caller, std::int64_t n) {
  RETURN_IF_ERROR(admit_spend(caller));
  if (caller.admin || !caller.usage) return Status::Ok();
  const Tenant& t = caller.limits;
  const TenantUsage& usage = *caller.usage;
  if (t.max_queued <= 0) return Status::Ok();
  MutexLock lock(mu_);
  Accepted& a = accepted_[caller.tenant];
  // A newer lookup counted everything accepted before it: start counting again from it. An
  // older one (another key's cache entry of the same tenant) keeps the newer baseline.
  if (caller.looked_up_at > a.since) a = Accepted{caller.looked_up_at, 0};
  const std::int64_t live = usage.live_jobs + a.jobs;
  if (live + n > t.max_queued) {
    return Exhausted("quota_exceeded",
                     "tenant " + caller.tenant + " has " + std::to_string(live) +
                         " live jobs; its limit is " + std::to_string(t.max_queued),
                     5);
  }
  a.jobs += n;
  return Status::Ok();
}

}  // namespace sluice::auth
