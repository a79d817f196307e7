// The Store contract for tenants, API keys and budgets (store.h, "Tenants, API keys and
// budgets"), blocked attempts and the dedup window: part of the contract suite, so it runs
// against every engine.
#include <gmock/gmock.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "store/store_contract_test.h"

namespace sluice {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;

constexpr Millis kDay = 24LL * 3600 * 1000;
const std::string kMonth = MonthOf(kT0);  // "2027-01"

Job TenantJob(std::string id, std::string tenant, Millis created_at = kT0) {
  Job job = QueuedJob(std::move(id), std::move(tenant), 5, created_at);
  job.created_at = created_at;
  return job;
}

std::vector<std::string> TenantIds(const std::vector<Tenant>& tenants) {
  std::vector<std::string> ids;
  for (const Tenant& t : tenants) ids.push_back(t.id);
  return ids;
}

std::vector<std::string> KeyIds(const std::vector<ApiKey>& keys) {
  std::vector<std::string> ids;
  for (const ApiKey& k : keys) ids.push_back(k.id);
  return ids;
}

ApiKey Key(std::string id, std::string tenant, std::string hash) {
  return ApiKey{.id = std::move(id),
                .tenant = std::move(tenant),
                .name = "crm-prod",
                .hash = std::move(hash),
                .created_at = kT0};
}

BudgetReservation Reservation(std::string id, double amount, double budget,
                              std::string tenant = "acme", Millis now = kT0,
                              Millis expires_at = kT0 + 60'000) {
  return BudgetReservation{.id = std::move(id),
                           .tenant = std::move(tenant),
                           .month = MonthOf(now),
                           .amount_usd = amount,
                           .budget_usd = budget,
                           .now = now,
                           .expires_at = expires_at};
}

// ---- tenants --------------------------------------------------------------------------------

TEST_P(StoreContractTest, PutTenantCreatesWithDefaultsThenChangesOnlyTheGivenFields) {
  auto created = ValueOf(store_->put_tenant(TenantPatch{.id = "acme", .rpm = 600, .now = kT0}));
  EXPECT_TRUE(created.created);
  EXPECT_EQ(created.tenant.id, "acme");
  EXPECT_EQ(created.tenant.weight, 1);
  EXPECT_EQ(created.tenant.rpm, 600);
  EXPECT_EQ(created.tenant.max_queued, 0);
  EXPECT_EQ(created.tenant.monthly_budget_usd, 0);
  EXPECT_FALSE(created.tenant.mask_pii);
  EXPECT_EQ(created.tenant.created_at, kT0);
  EXPECT_EQ(created.tenant.updated_at, kT0);

  auto patched = ValueOf(store_->put_tenant(
      TenantPatch{.id = "acme", .weight = 3, .monthly_budget_usd = 50.5, .now = kT0 + 10}));
  EXPECT_FALSE(patched.created);
  EXPECT_EQ(patched.tenant.weight, 3);
  EXPECT_EQ(patched.tenant.rpm, 600);  // not given: kept
  EXPECT_EQ(patched.tenant.max_queued, 0);
  EXPECT_EQ(patched.tenant.monthly_budget_usd, 50.5);
  EXPECT_EQ(patched.tenant.created_at, kT0);
  EXPECT_EQ(patched.tenant.updated_at, kT0 + 10);

  // Back to "no limit" is a change like any other.
  ValueOf(store_->put_tenant(
      TenantPatch{.id = "acme", .rpm = 0, .max_queued = 100'000, .now = kT0 + 20}));
  Tenant stored = ValueOf(store_->get_tenant("acme"));
  EXPECT_EQ(stored.weight, 3);
  EXPECT_EQ(stored.rpm, 0);
  EXPECT_EQ(stored.max_queued, 100'000);
  EXPECT_EQ(stored.monthly_budget_usd, 50.5);
  EXPECT_EQ(stored.created_at, kT0);
  EXPECT_EQ(stored.updated_at, kT0 + 20);
  EXPECT_FALSE(stored.mask_pii);
  ValueOf(store_->put_tenant(TenantPatch{.id = "acme", .mask_pii = true, .now = kT0 + 30}));
  Reopen();
  EXPECT_EQ(ValueOf(store_->get_tenant("acme")).max_queued, 100'000);
  EXPECT_TRUE(ValueOf(store_->get_tenant("acme")).mask_pii);
  EXPECT_EQ(ValueOf(store_->get_tenant("acme")).monthly_budget_usd, 50.5);
}

TEST_P(StoreContractTest, PutTenantRefusesBadFieldsNamingThem) {
  auto field_of = [&](const TenantPatch& patch) {
    Status status = store_->put_tenant(patch).status();
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
    return status.field();
  };
  EXPECT_EQ(field_of(TenantPatch{.id = "", .now = kT0}), "id");
  EXPECT_EQ(field_of(TenantPatch{.id = "acme", .weight = 0, .now = kT0}), "weight");
  EXPECT_EQ(field_of(TenantPatch{.id = "acme", .rpm = -1, .now = kT0}), "rpm");
  EXPECT_EQ(field_of(TenantPatch{.id = "acme", .max_queued = -5, .now = kT0}), "max_queued");
  EXPECT_EQ(field_of(TenantPatch{.id = "acme", .monthly_budget_usd = -0.01, .now = kT0}),
            "monthly_budget_usd");
  // Nothing was created by the refused calls, and a refused patch changes nothing.
  EXPECT_EQ(store_->get_tenant("acme").status().code(), StatusCode::kNotFound);
  ValueOf(store_->put_tenant(TenantPatch{.id = "acme", .weight = 2, .now = kT0}));
  EXPECT_EQ(field_of(TenantPatch{.id = "acme", .weight = -1, .now = kT0}), "weight");
  EXPECT_EQ(ValueOf(store_->get_tenant("acme")).weight, 2);
}

TEST_P(StoreContractTest, TenantsAreListedByIdAndAnUnknownOneIsNotFound) {
  EXPECT_TRUE(ValueOf(store_->list_tenants()).empty());
  for (const char* id : {"zeta", "acme", "mid"}) {
    ValueOf(store_->put_tenant(TenantPatch{.id = id, .now = kT0}));
  }
  EXPECT_THAT(TenantIds(ValueOf(store_->list_tenants())), ElementsAre("acme", "mid", "zeta"));
  EXPECT_EQ(store_->get_tenant("nope").status().code(), StatusCode::kNotFound);
}

// ---- API keys -------------------------------------------------------------------------------

TEST_P(StoreContractTest, ApiKeysAreListedPerTenantRevokedOnceAndFoundByHash) {
  for (const char* id : {"acme", "beta"}) {
    ValueOf(store_->put_tenant(TenantPatch{.id = id, .now = kT0}));
  }
  EXPECT_FALSE(ValueOf(store_->any_api_key()));
  ASSERT_TRUE(store_->create_api_key(Key("key_b", "acme", "hash_b")).ok());
  ASSERT_TRUE(store_->create_api_key(Key("key_a", "acme", "hash_a")).ok());
  ASSERT_TRUE(store_->create_api_key(Key("key_c", "beta", "hash_c")).ok());
  EXPECT_TRUE(ValueOf(store_->any_api_key()));

  std::vector<ApiKey> acme = ValueOf(store_->list_api_keys("acme"));
  EXPECT_THAT(KeyIds(acme), ElementsAre("key_a", "key_b"));
  ASSERT_EQ(acme.size(), 2u);
  EXPECT_EQ(acme[0].tenant, "acme");
  EXPECT_EQ(acme[0].name, "crm-prod");
  EXPECT_EQ(acme[0].hash, "hash_a");
  EXPECT_EQ(acme[0].created_at, kT0);
  EXPECT_FALSE(acme[0].revoked_at.has_value());
  EXPECT_THAT(KeyIds(ValueOf(store_->list_api_keys(""))), ElementsAre("key_a", "key_b", "key_c"));
  EXPECT_TRUE(ValueOf(store_->list_api_keys("nobody")).empty());

  ApiKey revoked = ValueOf(store_->revoke_api_key("key_a", kT0 + 100));
  EXPECT_EQ(revoked.id, "key_a");
  EXPECT_EQ(revoked.revoked_at, kT0 + 100);
  // A second revoke keeps the first time.
  EXPECT_EQ(ValueOf(store_->revoke_api_key("key_a", kT0 + 200)).revoked_at, kT0 + 100);
  EXPECT_EQ(store_->revoke_api_key("key_zz", kT0).status().code(), StatusCode::kNotFound);

  // Found by hash, revoked or not; revoked keys stay listed and keys stay "ever created".
  ApiKey found = ValueOf(store_->find_api_key("hash_a"));
  EXPECT_EQ(found.id, "key_a");
  EXPECT_EQ(found.revoked_at, kT0 + 100);
  EXPECT_EQ(ValueOf(store_->find_api_key("hash_c")).tenant, "beta");
  EXPECT_FALSE(ValueOf(store_->find_api_key("hash_c")).revoked_at.has_value());
  EXPECT_EQ(store_->find_api_key("hash_zz").status().code(), StatusCode::kNotFound);
  EXPECT_THAT(KeyIds(ValueOf(store_->list_api_keys("acme"))), ElementsAre("key_a", "key_b"));
  Reopen();
  EXPECT_TRUE(ValueOf(store_->any_api_key()));
  EXPECT_EQ(ValueOf(store_->find_api_key("hash_a")).revoked_at, kT0 + 100);
}

TEST_P(StoreContractTest, AnApiKeyNeedsAKnownTenantAndAFreshIdAndHash) {
  EXPECT_EQ(store_->create_api_key(Key("key_a", "ghost", "hash_a")).code(), StatusCode::kNotFound);
  EXPECT_FALSE(ValueOf(store_->any_api_key()));
  ValueOf(store_->put_tenant(TenantPatch{.id = "acme", .now = kT0}));
  ASSERT_TRUE(store_->create_api_key(Key("key_a", "acme", "hash_a")).ok());
  EXPECT_EQ(store_->create_api_key(Key("key_a", "acme", "hash_other")).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->create_api_key(Key("key_other", "acme", "hash_a")).code(),
            StatusCode::kAlreadyExists);
  EXPECT_THAT(KeyIds(ValueOf(store_->list_api_keys(""))), ElementsAre("key_a"));
  EXPECT_EQ(ValueOf(store_->find_api_key("hash_a")).id, "key_a");
}

// ---- budgets --------------------------------------------------------------------------------

TEST_P(StoreContractTest, AReservationFitsOnlyWithinTheBudgetLeft) {
  auto reserve = [&](std::vector<BudgetReservation> items) {
    return ValueOf(store_->reserve_budget(items));
  };
  EXPECT_THAT(reserve({Reservation("r1", 6, 10)}), ElementsAre(true));
  EXPECT_THAT(reserve({Reservation("r2", 5, 10)}), ElementsAre(false));
  // In one call, each item counts the ones before it.
  EXPECT_THAT(
      reserve({Reservation("r3", 3, 10), Reservation("r4", 3, 10), Reservation("r5", 1, 10)}),
      ElementsAre(true, false, true));  // exactly 10 fits
  TenantUsage usage = ValueOf(store_->tenant_usage("acme", kMonth, kT0));
  EXPECT_EQ(usage.month, kMonth);
  EXPECT_DOUBLE_EQ(usage.reserved_usd, 10);
  EXPECT_DOUBLE_EQ(usage.spent_usd, 0);
  // Other tenants and other months have budgets of their own.
  EXPECT_THAT(reserve({Reservation("b1", 10, 10, "beta")}), ElementsAre(true));
  BudgetReservation next_month = Reservation("n1", 10, 10);
  next_month.month = MonthOf(MonthSpanOf(kT0).end);  // a call that counts against February
  EXPECT_THAT(reserve({next_month}), ElementsAre(true));
  EXPECT_DOUBLE_EQ(ValueOf(store_->tenant_usage("acme", kMonth, kT0)).reserved_usd, 10);
  // A budget raised by the caller lets more in.
  EXPECT_THAT(reserve({Reservation("r6", 5, 15)}), ElementsAre(true));
}

TEST_P(StoreContractTest, AReservationIsValidatedAndReservingItsIdAgainReplacesIt) {
  EXPECT_EQ(store_->reserve_budget(std::vector{Reservation("r1", 1, 0)}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->reserve_budget(std::vector{Reservation("r1", -1, 10)}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->reserve_budget(std::vector{Reservation("r1", 1, 10, "acme", kT0, kT0)})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->reserve_budget(std::vector{Reservation("r1", 1, 10), Reservation("r1", 1, 10)})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_DOUBLE_EQ(ValueOf(store_->tenant_usage("acme", kMonth, kT0)).reserved_usd, 0);

  // A released attempt comes back with the same number: its new reservation replaces the old.
  ASSERT_TRUE(ValueOf(store_->reserve_budget(std::vector{Reservation("job_a:1", 8, 10)}))[0]);
  ASSERT_TRUE(ValueOf(store_->reserve_budget(std::vector{Reservation("job_a:1", 9, 10)}))[0]);
  EXPECT_DOUBLE_EQ(ValueOf(store_->tenant_usage("acme", kMonth, kT0)).reserved_usd, 9);
}

TEST_P(StoreContractTest, AnExpiredReservationStopsCounting) {
  const Millis expires = kT0 + 1000;
  ASSERT_TRUE(ValueOf(store_->reserve_budget(
      std::vector{Reservation("dead_node", 8, 10, "acme", kT0, expires)}))[0]);
  EXPECT_DOUBLE_EQ(ValueOf(store_->tenant_usage("acme", kMonth, expires - 1)).reserved_usd, 8);
  EXPECT_FALSE(ValueOf(store_->reserve_budget(
      std::vector{Reservation("r2", 8, 10, "acme", expires - 1, expires + 60'000)}))[0]);
  EXPECT_DOUBLE_EQ(ValueOf(store_->tenant_usage("acme", kMonth, expires)).reserved_usd, 0);
  EXPECT_TRUE(ValueOf(store_->reserve_budget(
      std::vector{Reservation("r3", 8, 10, "acme", expires, expires + 60'000)}))[0]);
  // The swept reservation is gone: settling it later adds nothing.
  ASSERT_TRUE(store_->settle_budget("dead_node", 5).ok());
  EXPECT_DOUBLE_EQ(ValueOf(store_->tenant_usage("acme", kMonth, expires)).spent_usd, 0);
}

TEST_P(StoreContractTest, SettlingASyncCallMovesItsReservationIntoTheMonthsSpend) {
  ASSERT_TRUE(ValueOf(store_->reserve_budget(std::vector{Reservation("sync_1", 5, 10)}))[0]);
  ASSERT_TRUE(store_->settle_budget("sync_1", 2.25).ok());
  TenantUsage usage = ValueOf(store_->tenant_usage("acme", kMonth, kT0));
  EXPECT_DOUBLE_EQ(usage.spent_usd, 2.25);
  EXPECT_DOUBLE_EQ(usage.reserved_usd, 0);
  // Settled once: again adds nothing; an unknown id neither.
  ASSERT_TRUE(store_->settle_budget("sync_1", 2.25).ok());
  ASSERT_TRUE(store_->settle_budget("never_reserved", 1).ok());
  EXPECT_DOUBLE_EQ(ValueOf(store_->tenant_usage("acme", kMonth, kT0)).spent_usd, 2.25);
  EXPECT_EQ(store_->settle_budget("sync_1", -1).code(), StatusCode::kInvalidArgument);
  // The spend counts against the month: 2.25 + 7.75 fits 10, a cent more does not.
  ASSERT_TRUE(ValueOf(store_->reserve_budget(std::vector{Reservation("sync_2", 7.75, 10)}))[0]);
  EXPECT_FALSE(ValueOf(store_->reserve_budget(std::vector{Reservation("sync_3", 0.01, 10)}))[0]);
  Reopen();
  EXPECT_DOUBLE_EQ(ValueOf(store_->tenant_usage("acme", kMonth, kT0)).spent_usd, 2.25);
  EXPECT_DOUBLE_EQ(ValueOf(store_->tenant_usage("acme", kMonth, kT0)).reserved_usd, 7.75);
}

TEST_P(StoreContractTest, AFinishSettlesItsAttemptsReservation) {
  Submit(TenantJob("job_a", "acme"));
  Job running = Claim(1, kT0).at(0);
  const std::string id = AttemptReservationId(running.id, running.attempt);
  ASSERT_TRUE(ValueOf(store_->reserve_budget(std::vector{Reservation(id, 5, 10)}))[0]);
  // Another reservation of the tenant stays as it is.
  ASSERT_TRUE(ValueOf(store_->reserve_budget(std::vector{Reservation("sync_1", 1, 10)}))[0]);

  AttemptFinish done = FinishOf(running, AttemptOutcome::kDone, kT0 + 10);
  done.cost_usd = 1.5;
  done.settles_reservation = true;
  ASSERT_TRUE(Finish(done).ok());
  TenantUsage usage = ValueOf(store_->tenant_usage("acme", kMonth, kT0 + 10));
  EXPECT_DOUBLE_EQ(usage.spent_usd, 1.5);
  EXPECT_DOUBLE_EQ(usage.reserved_usd, 1);
  EXPECT_DOUBLE_EQ(Get("job_a", "acme").cost_usd, 1.5);

  // A finish that does not say it settles leaves reservations alone.
  Submit(TenantJob("job_b", "acme"));
  Job second = Claim(1, kT0 + 20).at(0);
  const std::string second_id = AttemptReservationId(second.id, second.attempt);
  ASSERT_TRUE(ValueOf(
      store_->reserve_budget(std::vector{Reservation(second_id, 2, 10, "acme", kT0 + 20)}))[0]);
  AttemptFinish unsettled = FinishOf(second, AttemptOutcome::kDone, kT0 + 30);
  unsettled.cost_usd = 0.5;
  ASSERT_TRUE(Finish(unsettled).ok());
  usage = ValueOf(store_->tenant_usage("acme", kMonth, kT0 + 30));
  EXPECT_DOUBLE_EQ(usage.spent_usd, 1.5);
  EXPECT_DOUBLE_EQ(usage.reserved_usd, 3);
}

TEST_P(StoreContractTest, AnAbortedFinishStillSettlesItsReservation) {
  Submit(TenantJob("job_a", "acme"));
  Job running = Claim(1, kT0, "node-a", "default", /*lease_for=*/1000).at(0);
  const std::string id = AttemptReservationId(running.id, running.attempt);
  ASSERT_TRUE(ValueOf(store_->reserve_budget(std::vector{Reservation(id, 5, 10)}))[0]);
  ASSERT_EQ(ValueOf(store_->reap_expired_leases(kT0 + 2000)).size(), 1u);

  // The zombie's call was made and cost what it cost, though its result is refused.
  AttemptFinish late = FinishOf(running, AttemptOutcome::kDone, kT0 + 3000);
  late.cost_usd = 0.75;
  late.settles_reservation = true;
  EXPECT_EQ(Finish(late).code(), StatusCode::kAborted);
  TenantUsage usage = ValueOf(store_->tenant_usage("acme", kMonth, kT0 + 3000));
  EXPECT_DOUBLE_EQ(usage.spent_usd, 0.75);
  EXPECT_DOUBLE_EQ(usage.reserved_usd, 0);
  Job job = Get("job_a", "acme");
  EXPECT_EQ(job.status, JobStatus::kQueued);
  EXPECT_DOUBLE_EQ(job.cost_usd, 0);  // the refused finish changed nothing of the job
}

// Reservations from many threads at once (on PostgreSQL, over the store's pool of
// connections): serialized per tenant, so exactly what fits is reserved, never more.
TEST_P(StoreContractTest, ConcurrentReservationsNeverOvershootTheBudget) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 63;     // ~1000 reservations in all
  constexpr double kAmount = 0.125;  // exact in binary: the sums below are exact too
  constexpr double kBudget = 50;     // 400 of them fit
  // Some spend already counts.
  ASSERT_TRUE(ValueOf(store_->reserve_budget(std::vector{Reservation("spent", 2, kBudget)}))[0]);
  ASSERT_TRUE(store_->settle_budget("spent", 2).ok());

  std::atomic<int> reserved{0}, refused{0}, errors{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        BudgetReservation r =
            Reservation("r_" + std::to_string(t) + "_" + std::to_string(i), kAmount, kBudget);
        auto fits = store_->reserve_budget(std::span(&r, 1));
        if (!fits.ok()) {
          ++errors;
          ADD_FAILURE() << fits.status().ToString();
        } else if ((*fits)[0]) {
          ++reserved;
        } else {
          ++refused;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(reserved.load() + refused.load(), kThreads * kPerThread);
  EXPECT_EQ(reserved.load(), static_cast<int>((kBudget - 2) / kAmount));  // 384: all that fit
  TenantUsage usage = ValueOf(store_->tenant_usage("acme", kMonth, kT0));
  EXPECT_LE(usage.spent_usd + usage.reserved_usd, kBudget);
  EXPECT_DOUBLE_EQ(usage.reserved_usd, reserved.load() * kAmount);
}

// ---- blocked attempts -----------------------------------------------------------------------

TEST_P(StoreContractTest, ABlockedAttemptIsNotCountedAndWaitsUntilRetryAt) {
  Job job = TenantJob("job_a", "acme");
  job.spec.max_attempts = 2;
  Submit(job);
  // An earlier attempt's error stays: a blocked call records none.
  Job first = Claim(1, kT0).at(0);
  AttemptFinish retry = FinishOf(first, AttemptOutcome::kRetry, kT0 + 1);
  retry.retry_at = kT0 + 2;
  retry.error = JobError{"provider_503", "upstream unavailable"};
  ASSERT_TRUE(Finish(retry).ok());
  Job running = Claim(1, kT0 + 2).at(0);
  ASSERT_EQ(running.attempt, 2);

  AttemptFinish blocked = FinishOf(running, AttemptOutcome::kBlocked, kT0 + 10);
  blocked.retry_at = kT0 + 60'000;
  blocked.error = JobError{kBlockedByBudget, "the month's budget is spent"};
  blocked.attempt_json = R"({"n":2,"outcome":"blocked"})";
  ASSERT_TRUE(Finish(blocked).ok());

  Job held = Get("job_a", "acme");
  EXPECT_EQ(held.status, JobStatus::kQueued);
  EXPECT_EQ(held.attempt, 1);  // given back
  EXPECT_EQ(held.blocked_reason, "budget");
  EXPECT_EQ(held.next_attempt_at, kT0 + 60'000);
  EXPECT_EQ(held.lease_owner, "");
  EXPECT_FALSE(held.finished_at.has_value());
  ASSERT_TRUE(held.error.has_value());
  EXPECT_EQ(held.error->code, "provider_503");
  // The call never started: no attempt record.
  EXPECT_TRUE(ValueOf(store_->get_attempts("acme", "job_a")).empty());

  std::vector<JobEvent> events = ValueOf(store_->job_events("acme", "job_a"));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().type, "blocked");
  EXPECT_THAT(events.back().data_json, HasSubstr(R"("reason":"budget")"));
  EXPECT_THAT(events.back().data_json, HasSubstr(R"("attempt":2)"));

  auto stats = ValueOf(store_->queue_stats());
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].by_status[static_cast<int>(JobStatus::kQueued)], 1);
  EXPECT_EQ(stats[0].by_status[static_cast<int>(JobStatus::kRunning)], 0);

  EXPECT_TRUE(Claim(1, kT0 + 59'999).empty());
  Job again = Claim(1, kT0 + 60'000).at(0);
  EXPECT_EQ(again.attempt, 2);  // the same number once more: the last one allowed
  EXPECT_EQ(again.blocked_reason, "");
  EXPECT_EQ(Get("job_a", "acme").blocked_reason, "");
  AttemptFinish done = FinishOf(again, AttemptOutcome::kDone, kT0 + 60'010);
  ASSERT_TRUE(Finish(done).ok());
  EXPECT_EQ(Get("job_a", "acme").status, JobStatus::kDone);
}

TEST_P(StoreContractTest, ABlockedAttemptNeedsItsReasonAndIsACompareAndSet) {
  Submit(TenantJob("job_a", "acme"));
  Job running = Claim(1, kT0).at(0);
  AttemptFinish no_reason = FinishOf(running, AttemptOutcome::kBlocked, kT0 + 1);
  EXPECT_EQ(Finish(no_reason).code(), StatusCode::kInvalidArgument);
  AttemptFinish stranger = FinishOf(running, AttemptOutcome::kBlocked, kT0 + 1);
  stranger.error.code = kBlockedByBudget;
  stranger.lease_owner = "node-z";
  EXPECT_EQ(Finish(stranger).code(), StatusCode::kAborted);
  Job still = Get("job_a", "acme");
  EXPECT_EQ(still.status, JobStatus::kRunning);
  EXPECT_EQ(still.attempt, 1);
  EXPECT_EQ(still.blocked_reason, "");
}

TEST_P(StoreContractTest, RaisingOrRemovingTheBudgetMakesBudgetBlockedJobsDue) {
  ValueOf(store_->put_tenant(TenantPatch{.id = "acme", .monthly_budget_usd = 10, .now = kT0}));
  ValueOf(store_->put_tenant(TenantPatch{.id = "beta", .monthly_budget_usd = 10, .now = kT0}));
  const Millis later = kT0 + 3'600'000;  // when the blocked jobs would be tried again
  // Claims every due job and blocks it for the budget until `later`; returns their ids.
  auto block_all = [&](Millis now) {
    std::vector<std::string> ids;
    for (const Job& job : Claim(10, now)) {
      AttemptFinish item = FinishOf(job, AttemptOutcome::kBlocked, now);
      item.retry_at = later;
      item.error.code = kBlockedByBudget;
      EXPECT_TRUE(Finish(item).ok());
      ids.push_back(job.id);
    }
    EXPECT_TRUE(Claim(10, now + 1).empty());
    return ids;
  };
  for (const char* id : {"job_a1", "job_a2"}) Submit(TenantJob(id, "acme"));
  Submit(TenantJob("job_b1", "beta"));
  EXPECT_THAT(block_all(kT0), ElementsAre("job_a1", "job_a2", "job_b1"));

  // Lowered, or set again as it was: still held.
  ValueOf(store_->put_tenant(TenantPatch{.id = "acme", .monthly_budget_usd = 5, .now = kT0 + 10}));
  ValueOf(store_->put_tenant(TenantPatch{.id = "acme", .monthly_budget_usd = 5, .now = kT0 + 11}));
  EXPECT_TRUE(Claim(10, kT0 + 12).empty());
  // Raised: the tenant's budget-blocked jobs are due now; another tenant's stay held.
  ValueOf(store_->put_tenant(TenantPatch{.id = "acme", .monthly_budget_usd = 20, .now = kT0 + 20}));
  std::vector<Job> freed = Claim(10, kT0 + 20);
  ASSERT_EQ(freed.size(), 2u);
  EXPECT_EQ(freed[0].id, "job_a1");
  EXPECT_EQ(freed[1].id, "job_a2");
  for (const Job& job : freed) EXPECT_EQ(job.blocked_reason, "");
  for (const Job& job : freed) {
    AttemptFinish item = FinishOf(job, AttemptOutcome::kBlocked, kT0 + 30);
    item.retry_at = later;
    item.error.code = kBlockedByBudget;
    ASSERT_TRUE(Finish(item).ok());
  }
  EXPECT_TRUE(Claim(10, kT0 + 31).empty());
  // Removed (0: no limit): due now as well.
  ValueOf(store_->put_tenant(TenantPatch{.id = "acme", .monthly_budget_usd = 0, .now = kT0 + 40}));
  EXPECT_EQ(Claim(10, kT0 + 40).size(), 2u);
  Job beta = Get("job_b1", "beta");
  EXPECT_EQ(beta.status, JobStatus::kQueued);
  EXPECT_EQ(beta.blocked_reason, "budget");
  EXPECT_TRUE(Claim(10, kT0 + 41).empty());
  EXPECT_EQ(Claim(10, later).size(), 1u);  // its own retry time still holds
}

TEST_P(StoreContractTest, OnlyBudgetBlockedJobsAreFreedByABudgetChange) {
  ValueOf(store_->put_tenant(TenantPatch{.id = "acme", .monthly_budget_usd = 10, .now = kT0}));
  Submit(TenantJob("job_a", "acme"));
  Job running = Claim(1, kT0).at(0);
  AttemptFinish item = FinishOf(running, AttemptOutcome::kBlocked, kT0);
  item.retry_at = kT0 + 3'600'000;
  item.error.code = "concurrency";  // held for another reason
  ASSERT_TRUE(Finish(item).ok());
  ValueOf(store_->put_tenant(TenantPatch{.id = "acme", .monthly_budget_usd = 0, .now = kT0 + 10}));
  EXPECT_TRUE(Claim(1, kT0 + 10).empty());
  EXPECT_EQ(Get("job_a", "acme").blocked_reason, "concurrency");
}

TEST_P(StoreContractTest, SettingABudgetSeedsTheMonthsSpendFromItsJobs) {
  ValueOf(store_->put_tenant(TenantPatch{.id = "acme", .now = kT0}));
  const MonthSpan month = MonthSpanOf(kT0);
  // Costs of this month's jobs count; last month's and another tenant's do not.
  auto finished_with_cost = [&](Job job, double cost) {
    Submit(job);
    Job running = Claim(1, std::max(job.created_at, kT0)).at(0);
    AttemptFinish done = FinishOf(running, AttemptOutcome::kDone, kT0 + 1);
    done.cost_usd = cost;
    ASSERT_TRUE(Finish(done).ok());
  };
  finished_with_cost(TenantJob("job_1", "acme", month.start), 1.25);
  finished_with_cost(TenantJob("job_2", "acme", kT0), 2.5);
  finished_with_cost(TenantJob("job_0", "acme", month.start - 1), 4);
  finished_with_cost(TenantJob("job_x", "beta", kT0), 8);

  EXPECT_DOUBLE_EQ(ValueOf(store_->tenant_usage("acme", kMonth, kT0)).spent_usd, 0);
  ValueOf(store_->put_tenant(TenantPatch{.id = "acme", .monthly_budget_usd = 100, .now = kT0 + 5}));
  EXPECT_DOUBLE_EQ(ValueOf(store_->tenant_usage("acme", kMonth, kT0 + 5)).spent_usd, 3.75);
  EXPECT_DOUBLE_EQ(ValueOf(store_->tenant_usage("acme", MonthOf(month.start - 1), kT0)).spent_usd,
                   0);

  // Raising it seeds nothing again; neither does removing and setting it once the month has
  // a row: from then on, settlements count the month.
  finished_with_cost(TenantJob("job_3", "acme", kT0 + 2), 10);
  ValueOf(store_->put_tenant(TenantPatch{.id = "acme", .monthly_budget_usd = 200, .now = kT0 + 6}));
  ValueOf(store_->put_tenant(TenantPatch{.id = "acme", .monthly_budget_usd = 0, .now = kT0 + 7}));
  ValueOf(store_->put_tenant(TenantPatch{.id = "acme", .monthly_budget_usd = 50, .now = kT0 + 8}));
  EXPECT_DOUBLE_EQ(ValueOf(store_->tenant_usage("acme", kMonth, kT0 + 8)).spent_usd, 3.75);

  // A tenant created with a budget is seeded too.
  finished_with_cost(TenantJob("job_g", "gamma", kT0), 0.5);
  ValueOf(store_->put_tenant(TenantPatch{.id = "gamma", .monthly_budget_usd = 1, .now = kT0 + 9}));
  EXPECT_DOUBLE_EQ(ValueOf(store_->tenant_usage("gamma", kMonth, kT0 + 9)).spent_usd, 0.5);
}

TEST_P(StoreContractTest, LiveJobsAreTheQueuedRunningAndReviewJobsOfTheTenant) {
  EXPECT_EQ(ValueOf(store_->live_jobs("acme")), 0);
  for (const char* id : {"job_1", "job_2", "job_3", "job_4", "job_5"}) {
    Submit(TenantJob(id, "acme"));
  }
  Submit(TenantJob("job_x", "beta"));
  std::vector<Job> running = Claim(3, kT0);  // job_1..job_3
  ASSERT_EQ(running.size(), 3u);
  ASSERT_TRUE(Finish(FinishOf(running[0], AttemptOutcome::kDone, kT0 + 1)).ok());
  ASSERT_TRUE(Finish(FinishOf(running[1], AttemptOutcome::kReview, kT0 + 1)).ok());
  ValueOf(store_->cancel_job("acme", "job_4", kT0 + 2));
  // Left: job_2 review, job_3 running, job_5 queued (job_x is beta's).
  EXPECT_EQ(ValueOf(store_->live_jobs("acme")), 3);
  EXPECT_EQ(ValueOf(store_->live_jobs("beta")), 1);
  EXPECT_EQ(ValueOf(store_->tenant_usage("acme", kMonth, kT0)).live_jobs, 3);
}

TEST_P(StoreContractTest, TenantStatsCountOnlyTheTenantsJobsByQueueAndStatusWithTheirCost) {
  for (const char* id : {"job_1", "job_2", "job_3"}) Submit(TenantJob(id, "acme"));
  Job other_queue = TenantJob("job_4", "acme");
  other_queue.spec.queue = "batch";
  Submit(other_queue);
  Submit(TenantJob("job_x", "beta"));
  std::vector<Job> running = Claim(1, kT0);  // job_1
  ASSERT_EQ(running.size(), 1u);
  AttemptFinish done = FinishOf(running[0], AttemptOutcome::kDone, kT0 + 1);
  done.cost_usd = 0.25;
  ASSERT_TRUE(Finish(done).ok());

  std::vector<QueueStats> stats = ValueOf(store_->tenant_stats("acme"));
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0].queue, "batch");
  EXPECT_EQ(stats[0].by_status[static_cast<int>(JobStatus::kQueued)], 1);
  EXPECT_EQ(stats[1].queue, "default");
  EXPECT_EQ(stats[1].by_status[static_cast<int>(JobStatus::kQueued)], 2);
  EXPECT_EQ(stats[1].by_status[static_cast<int>(JobStatus::kDone)], 1);
  EXPECT_DOUBLE_EQ(stats[1].cost_usd, 0.25);
  std::vector<QueueStats> beta = ValueOf(store_->tenant_stats("beta"));
  ASSERT_EQ(beta.size(), 1u);
  EXPECT_EQ(beta[0].by_status[static_cast<int>(JobStatus::kQueued)], 1);
  EXPECT_TRUE(ValueOf(store_->tenant_stats("nobody")).empty());
}

// ---- the dedup window (StoreOptions::dedup_window, 30 days by default) ---------------------

// A job with dedup key `key`, created at `created_at`.
Job Keyed(std::string id, Millis created_at, std::string key = "order-42") {
  Job job = TenantJob(std::move(id), kDefaultTenant, created_at);
  job.spec.dedup_key = std::move(key);
  return job;
}

TEST_P(StoreContractTest, AKeyWhoseJobEndedLongerAgoThanTheWindowMakesANewJob) {
  Submit(Keyed("job_old", kT0));
  Job running = Claim(1, kT0).at(0);
  ASSERT_TRUE(Finish(FinishOf(running, AttemptOutcome::kDone, kT0 + 1000)).ok());

  const Millis much_later = kT0 + 1000 + 30 * kDay + 1;
  std::vector<Job> batch = {Keyed("job_new", much_later), Keyed("job_same", much_later)};
  auto outcomes = ValueOf(store_->submit_jobs(batch));
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_FALSE(outcomes[0].deduplicated);
  EXPECT_EQ(outcomes[0].job.id, "job_new");
  // The new job holds the key now, even within the same call.
  EXPECT_TRUE(outcomes[1].deduplicated);
  EXPECT_EQ(outcomes[1].job.id, "job_new");

  EXPECT_EQ(Get("job_new").status, JobStatus::kQueued);
  Job old = Get("job_old");
  EXPECT_EQ(old.status, JobStatus::kDone);
  EXPECT_EQ(old.spec.dedup_key, "");  // let go of it
  EXPECT_EQ(store_->get_job(kDefaultTenant, "job_same").status().code(), StatusCode::kNotFound);
  auto stats = ValueOf(store_->queue_stats());
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].by_status[static_cast<int>(JobStatus::kQueued)], 1);

  // And a resubmission deduplicates to the new one.
  auto again = ValueOf(store_->submit_jobs(std::vector{Keyed("job_third", much_later + 1)}));
  EXPECT_TRUE(again.at(0).deduplicated);
  EXPECT_EQ(again.at(0).job.id, "job_new");
}

TEST_P(StoreContractTest, AKeyOfALiveOrRecentlyEndedJobStillDeduplicates) {
  // Live for ever so long: still the one job.
  Submit(Keyed("job_live", kT0, "live-key"));
  auto live =
      ValueOf(store_->submit_jobs(std::vector{Keyed("job_dup", kT0 + 90 * kDay, "live-key")}));
  EXPECT_TRUE(live.at(0).deduplicated);
  EXPECT_EQ(live.at(0).job.id, "job_live");

  // Ended within the window (any way of ending): still the one job.
  Submit(Keyed("job_canceled", kT0, "canceled-key"));
  ValueOf(store_->cancel_job(kDefaultTenant, "job_canceled", kT0 + 10));
  auto canceled = ValueOf(store_->submit_jobs(
      std::vector{Keyed("job_dup2", kT0 + 10 + 30 * kDay, "canceled-key")}));  // exactly the window
  EXPECT_TRUE(canceled.at(0).deduplicated);
  EXPECT_EQ(canceled.at(0).job.id, "job_canceled");
  EXPECT_EQ(Get("job_canceled").spec.dedup_key, "canceled-key");
  // One millisecond later it has ended longer ago than the window.
  auto fresh = ValueOf(
      store_->submit_jobs(std::vector{Keyed("job_dup3", kT0 + 11 + 30 * kDay, "canceled-key")}));
  EXPECT_FALSE(fresh.at(0).deduplicated);
  EXPECT_EQ(fresh.at(0).job.id, "job_dup3");

  // Another tenant's old job with the same key is no hit at all.
  Job other = Keyed("job_other", kT0 + 100 * kDay, "live-key");
  other.spec.tenant = "beta";
  EXPECT_FALSE(ValueOf(store_->submit_jobs(std::vector{other})).at(0).deduplicated);
}

}  // namespace
}  // namespace sluice
