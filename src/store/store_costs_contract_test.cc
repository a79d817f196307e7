// The Store contract for the cost ledger (store/cost_records.h): charges are written with the
// attempt finish that records them (and only when it matches), by settle_sync_call with a sync
// call's settlement, summed exactly, grouped per month, tenant, model and task type, and kept
// by retention. Part of the contract suite, so it runs against every engine.
#include <gmock/gmock.h>

#include <cstdint>
#include <string>
#include <vector>

#include "store/store_contract_test.h"

namespace sluice {
namespace {

using testing::ElementsAre;
using testing::Field;

constexpr Millis kDay = 24LL * 3600 * 1000;
const std::string kMonth = MonthOf(kT0);  // "2027-01"

CallCharge SyncCharge(std::string tenant, std::string alias, std::int64_t nanos, Millis at = kT0) {
  return CallCharge{.tenant = std::move(tenant),
                    .task_type = kSyncTaskType,
                    .provider = "primary",
                    .model_alias = alias,
                    .model_id = alias + "-id",
                    .at = at,
                    .prompt_tokens = 10,
                    .completion_tokens = 3,
                    .cost_nano_usd = nanos};
}

// Submits, claims and finishes one job of `tenant` and `type` at `at`, its one attempt making
// the given calls (alias, nano-USD).
void RunJob(Store& store, const std::string& id, const std::string& tenant, const std::string& type,
            const std::vector<std::pair<std::string, std::int64_t>>& calls, Millis at = kT0) {
  Job job = QueuedJob(id, tenant, 5, at);
  job.created_at = at;
  job.spec.type = type;
  ASSERT_TRUE(store.submit_jobs(std::span(&job, 1)).ok());
  auto claimed = store.claim_jobs(ClaimRequest{
      .queue = "default", .limit = 1, .owner = "node-a", .now = at, .lease_until = at + 30'000});
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  ASSERT_EQ(claimed->size(), 1u);
  const Job& running = claimed->at(0);
  AttemptFinish f{.job_id = running.id,
                  .attempt = running.attempt,
                  .lease_owner = running.lease_owner,
                  .outcome = AttemptOutcome::kDone,
                  .now = at + 1,
                  .result_json = "{}"};
  for (const auto& [alias, nanos] : calls) f.charges.push_back(ChargeOf(running, alias, nanos, at));
  auto outcomes = store.finish_attempts(std::span(&f, 1));
  ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();
  ASSERT_TRUE(outcomes->at(0).ok()) << outcomes->at(0).ToString();
}

std::int64_t TotalNanos(const CostLedgerMonth& report) {
  std::int64_t sum = 0;
  for (const CostLine& line : report.lines) sum += line.cost_nano_usd;
  return sum;
}

TEST_P(StoreContractTest, CostLedgerIsWrittenWithTheAttemptThatMadeTheCalls) {
  Submit(QueuedJob("job_a"));
  Job claimed = Claim(1, kT0).at(0);
  AttemptFinish f = FinishOf(claimed, AttemptOutcome::kRetry, kT0 + 5);
  f.retry_at = kT0 + 10;
  f.error = {"provider_error", "HTTP 500"};
  // A walk that fell back: two calls in one attempt.
  f.charges = {ChargeOf(claimed, "fast", 1'234), ChargeOf(claimed, "strong", 5'678)};
  ASSERT_TRUE(Finish(f).ok());

  CostLedgerMonth report = ValueOf(store_->cost_report(kMonth, ""));
  ASSERT_EQ(report.lines.size(), 2u);
  EXPECT_EQ(report.lines[0].model_alias, "fast");
  EXPECT_EQ(report.lines[0].model_id, "fast-id");
  EXPECT_EQ(report.lines[0].provider, "primary");
  EXPECT_EQ(report.lines[0].task_type, "classify");
  EXPECT_EQ(report.lines[0].calls, 1);
  EXPECT_EQ(report.lines[0].prompt_tokens, 100);
  EXPECT_EQ(report.lines[0].completion_tokens, 20);
  EXPECT_EQ(report.lines[0].cached_tokens, 40);
  EXPECT_EQ(report.lines[0].reasoning_tokens, 5);
  EXPECT_EQ(report.lines[0].cost_nano_usd, 1'234);
  EXPECT_EQ(report.lines[1].cost_nano_usd, 5'678);
  EXPECT_THAT(report.jobs, ElementsAre(Field(&TenantJobCount::jobs, 1)));
}

TEST_P(StoreContractTest, CostLedgerSkipsTheChargesOfAFinishWhoseLeaseWasLost) {
  Submit(QueuedJob("job_a"));
  Job claimed = Claim(1, kT0).at(0);
  AttemptFinish zombie = FinishOf(claimed, AttemptOutcome::kDone, kT0 + 1);
  zombie.lease_owner = "node-dead";
  zombie.charges = {ChargeOf(claimed, "fast", 999)};
  EXPECT_EQ(Finish(zombie).code(), StatusCode::kAborted);
  EXPECT_TRUE(ValueOf(store_->cost_report(kMonth, "")).lines.empty());
}

TEST_P(StoreContractTest, CostLedgerRefusesAChargeOfAnotherAttempt) {
  Submit(QueuedJob("job_a"));
  Job claimed = Claim(1, kT0).at(0);
  AttemptFinish f = FinishOf(claimed, AttemptOutcome::kDone, kT0 + 1);
  CallCharge other = ChargeOf(claimed, "fast", 1);
  other.attempt = claimed.attempt + 1;
  f.charges = {other};
  auto outcomes = store_->finish_attempts(std::span(&f, 1));
  ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();
  EXPECT_EQ(outcomes->at(0).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValueOf(store_->cost_report(kMonth, "")).lines.empty());
}

TEST_P(StoreContractTest, CostLedgerSumsAreExactIntegers) {
  // Costs whose doubles would not add up exactly (0.1 + 0.2 != 0.3): as nano-USD they do.
  Submit(QueuedJob("job_a"));
  Job claimed = Claim(1, kT0).at(0);
  AttemptFinish f = FinishOf(claimed, AttemptOutcome::kDone, kT0 + 1);
  std::int64_t expected = 0;
  for (int i = 0; i < 300; ++i) {
    const std::int64_t nanos = 100'000'000 + i * 7'919 + (i % 3);  // ~0.1 USD each
    f.charges.push_back(ChargeOf(claimed, "fast", nanos));
    expected += nanos;
  }
  // And one past 2^31 tokens of money, so that no engine sums in 32 bits.
  f.charges.push_back(ChargeOf(claimed, "fast", 5'000'000'000'000LL));
  expected += 5'000'000'000'000LL;
  ASSERT_TRUE(Finish(f).ok());
  CostLedgerMonth report = ValueOf(store_->cost_report(kMonth, ""));
  ASSERT_EQ(report.lines.size(), 1u);
  EXPECT_EQ(report.lines[0].calls, 301);
  EXPECT_EQ(report.lines[0].cost_nano_usd, expected);
  EXPECT_EQ(report.lines[0].prompt_tokens, 301 * 100);
}

TEST_P(StoreContractTest, CostLedgerGroupsByMonthTenantTaskTypeAndModel) {
  const Millis next_month = MonthSpanOf(kT0).end + kDay;
  RunJob(*store_, "job_a1", "acme", "classify", {{"fast", 10}, {"strong", 20}});
  RunJob(*store_, "job_a2", "acme", "classify", {{"fast", 30}});
  RunJob(*store_, "job_a3", "acme", "chat", {{"fast", 40}});
  RunJob(*store_, "job_b1", "globex", "classify", {{"fast", 50}});
  RunJob(*store_, "job_a4", "acme", "classify", {{"fast", 60}}, next_month);
  const CallCharge sync[] = {SyncCharge("acme", "fast", 70), SyncCharge("acme", "fast", 80)};
  ASSERT_TRUE(store_->settle_sync_call("", 0.00000015, sync).ok());

  CostLedgerMonth all = ValueOf(store_->cost_report(kMonth, ""));
  auto key = [](const CostLine& l) {
    return l.tenant + "/" + l.task_type + "/" + l.model_alias + "=" + std::to_string(l.calls) +
           ":" + std::to_string(l.cost_nano_usd);
  };
  std::vector<std::string> keys;
  for (const CostLine& l : all.lines) keys.push_back(key(l));
  EXPECT_THAT(keys, ElementsAre("acme/chat/fast=1:40", "acme/classify/fast=2:40",
                                "acme/classify/strong=1:20", "acme/sync/fast=2:150",
                                "globex/classify/fast=1:50"));
  // Jobs are distinct jobs with a call in the month; sync calls are no jobs.
  ASSERT_EQ(all.jobs.size(), 2u);
  EXPECT_EQ(all.jobs[0].tenant, "acme");
  EXPECT_EQ(all.jobs[0].jobs, 3);
  EXPECT_EQ(all.jobs[1].tenant, "globex");
  EXPECT_EQ(all.jobs[1].jobs, 1);
  EXPECT_EQ(TotalNanos(all), 10 + 20 + 30 + 40 + 50 + 70 + 80);

  CostLedgerMonth globex = ValueOf(store_->cost_report(kMonth, "globex"));
  ASSERT_EQ(globex.lines.size(), 1u);
  EXPECT_EQ(globex.lines[0].tenant, "globex");
  ASSERT_EQ(globex.jobs.size(), 1u);

  CostLedgerMonth later = ValueOf(store_->cost_report(MonthOf(next_month), ""));
  ASSERT_EQ(later.lines.size(), 1u);
  EXPECT_EQ(later.lines[0].cost_nano_usd, 60);
  EXPECT_TRUE(ValueOf(store_->cost_report("2020-01", "")).lines.empty());
}

TEST_P(StoreContractTest, CostLedgerCountsUnpricedCalls) {
  Submit(QueuedJob("job_a"));
  Job claimed = Claim(1, kT0).at(0);
  AttemptFinish f = FinishOf(claimed, AttemptOutcome::kDone, kT0 + 1);
  f.charges = {ChargeOf(claimed, "fast", 0), ChargeOf(claimed, "fast", 0),
               ChargeOf(claimed, "fast", 7)};
  f.charges[0].unpriced = true;
  f.charges[1].unpriced = true;
  ASSERT_TRUE(Finish(f).ok());
  CostLedgerMonth report = ValueOf(store_->cost_report(kMonth, ""));
  ASSERT_EQ(report.lines.size(), 1u);
  EXPECT_EQ(report.lines[0].calls, 3);
  EXPECT_EQ(report.lines[0].unpriced_calls, 2);
}

TEST_P(StoreContractTest, SettleSyncCallSettlesTheReservationWithItsCharges) {
  ASSERT_TRUE(
      store_->put_tenant(TenantPatch{.id = "acme", .monthly_budget_usd = 10.0, .now = kT0}).ok());
  BudgetReservation r{.id = "sync_1",
                      .tenant = "acme",
                      .month = kMonth,
                      .amount_usd = 1.0,
                      .budget_usd = 10.0,
                      .now = kT0,
                      .expires_at = kT0 + 60'000};
  ASSERT_TRUE(ValueOf(store_->reserve_budget(std::span(&r, 1))).at(0));
  const CallCharge charge = SyncCharge("acme", "fast", 250'000'000);
  ASSERT_TRUE(store_->settle_sync_call("sync_1", 0.25, std::span(&charge, 1)).ok());
  TenantUsage usage = ValueOf(store_->tenant_usage("acme", kMonth, kT0));
  EXPECT_DOUBLE_EQ(usage.spent_usd, 0.25);
  EXPECT_DOUBLE_EQ(usage.reserved_usd, 0.0);
  CostLedgerMonth report = ValueOf(store_->cost_report(kMonth, "acme"));
  ASSERT_EQ(report.lines.size(), 1u);
  EXPECT_EQ(report.lines[0].task_type, "sync");
  EXPECT_EQ(report.lines[0].cost_nano_usd, 250'000'000);
  EXPECT_TRUE(report.jobs.empty());
}

TEST_P(StoreContractTest, CostReportRefusesAMalformedMonth) {
  for (const char* month :
       {"", "2026", "2026-13", "2026-00", "2026-1", "26-11", "2026/11", "2026-11-01"}) {
    auto report = store_->cost_report(month, "");
    EXPECT_EQ(report.status().code(), StatusCode::kInvalidArgument) << month;
    EXPECT_EQ(report.status().field(), "month") << month;
  }
}

TEST_P(StoreContractTest, RetentionKeepsTheCostLedger) {
  RunJob(*store_, "job_a", "acme", "classify", {{"fast", 123}});
  PurgeCounts purged = ValueOf(store_->purge_finished(kT0 + 400 * kDay, 100));
  EXPECT_EQ(purged.jobs, 1);
  EXPECT_EQ(store_->get_job("acme", "job_a").status().code(), StatusCode::kNotFound);
  CostLedgerMonth report = ValueOf(store_->cost_report(kMonth, ""));
  ASSERT_EQ(report.lines.size(), 1u);
  EXPECT_EQ(report.lines[0].cost_nano_usd, 123);
  ASSERT_EQ(report.jobs.size(), 1u);
  EXPECT_EQ(report.jobs[0].jobs, 1);
}

}  // namespace
}  // namespace sluice
