#include "auth/tenant_quotas.h"

#include <gtest/gtest.h>

namespace sluice::auth {
namespace {

Caller TenantCaller(std::string tenant, Tenant limits, std::optional<TenantUsage> usage = {},
                    Millis looked_up_at = 0) {
  Caller c;
  c.tenant = tenant;
  limits.id = tenant;
  c.limits = limits;
  c.usage = usage;
  c.looked_up_at = looked_up_at;
  return c;
}

TEST(TenantQuotasTest, RpmIsABucketOfAMinutesRequestsRefilledContinuously) {
  FakeClock clock;
  TenantQuotas quotas(clock);
  Caller c = TenantCaller("acme", Tenant{.rpm = 60});
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(quotas.admit_request(c).ok()) << i;
  Status refused = quotas.admit_request(c);
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.error_code(), "rate_limited");
  EXPECT_EQ(refused.retry_after_s(), 1);  // one request a second comes back
  clock.advance(1'000);
  EXPECT_TRUE(quotas.admit_request(c).ok());
  EXPECT_FALSE(quotas.admit_request(c).ok());
  // Another tenant, and a tenant without a limit, are not held back.
  EXPECT_TRUE(quotas.admit_request(TenantCaller("beta", Tenant{.rpm = 60})).ok());
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(quotas.admit_request(TenantCaller("free", Tenant{})).ok());
}

TEST(TenantQuotasTest, MaxQueuedCountsTheLookupsLiveJobsPlusWhatWasAcceptedSince) {
  FakeClock clock;
  TenantQuotas quotas(clock);
  Tenant limits{.max_queued = 10};
  Caller c = TenantCaller("acme", limits, TenantUsage{.live_jobs = 7}, 100);
  EXPECT_TRUE(quotas.admit_jobs(c, 2).ok());
  Status refused = quotas.admit_jobs(c, 2);  // 7 + 2 + 2 > 10
  EXPECT_EQ(refused.error_code(), "quota_exceeded");
  EXPECT_GT(refused.retry_after_s(), 0);
  EXPECT_TRUE(quotas.admit_jobs(c, 1).ok());  // exactly 10
  EXPECT_FALSE(quotas.admit_jobs(c, 1).ok());
  // A newer lookup saw 4 live jobs (some ended): counting starts again from it.
  Caller later = TenantCaller("acme", limits, TenantUsage{.live_jobs = 4}, 200);
  EXPECT_TRUE(quotas.admit_jobs(later, 6).ok());
  EXPECT_FALSE(quotas.admit_jobs(later, 1).ok());
  // An older lookup (another key's cache entry) does not reset the newer count.
  EXPECT_FALSE(quotas.admit_jobs(c, 1).ok());
}

TEST(TenantQuotasTest, ASpentBudgetRefusesSubmitsAndSyncCallsUntilTheNextMonth) {
  FakeClock clock(*ParseRfc3339("2026-12-31T23:59:00Z"));
  TenantQuotas quotas(clock);
  Tenant limits{.monthly_budget_usd = 5};
  EXPECT_TRUE(quotas.admit_spend(TenantCaller("acme", limits, TenantUsage{.spent_usd = 4.99})).ok());
  Caller spent = TenantCaller("acme", limits, TenantUsage{.spent_usd = 5});
  Status refused = quotas.admit_jobs(spent, 1);
  EXPECT_EQ(refused.error_code(), "budget_exceeded");
  EXPECT_EQ(refused.retry_after_s(), 61);  // the first of January
  EXPECT_EQ(quotas.admit_spend(spent).error_code(), "budget_exceeded");
  Caller admin = spent;
  admin.admin = true;
  EXPECT_TRUE(quotas.admit_jobs(admin, 1).ok());
}

}  // namespace
}  // namespace sluice::auth
