// The Store contract for the audit log (store/audit_records.h): each recorded thing appends its
// entry in its own transaction (and only when it happens), seal_audit makes one unbroken chain
// of them, reads filter it, and retention prunes a prefix behind an anchor. Part of the contract
// suite, so it runs against every engine.
#include <gmock/gmock.h>

#include <cstdint>
#include <string>
#include <vector>

#include "store/audit_chain.h"
#include "store/store_contract_test.h"

namespace sluice {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using testing::Not;

// A call of ChargeOf's with what only the audit record holds.
CallCharge CallOf(const Job& job, std::string alias, std::int64_t nanos) {
  CallCharge c = ChargeOf(job, std::move(alias), nanos);
  c.outcome = "ok";
  c.prompt_version = "v2";
  c.pii_masked_json = R"({"EMAIL":2})";
  return c;
}

// Seals everything pending; the number sealed.
std::int64_t SealAll(Store& store) {
  std::int64_t sealed = 0;
  for (;;) {
    Result<int> n = store.seal_audit(7);  // small, so that tests cross seal boundaries
    if (!n.ok()) {
      ADD_FAILURE() << n.status().ToString();
      return sealed;
    }
    if (*n == 0) return sealed;
    sealed += *n;
  }
}

std::vector<AuditRecord> All(Store& store, AuditFilter filter = {}) {
  std::vector<AuditRecord> all;
  filter.limit = 1000;
  for (;;) {
    std::vector<AuditRecord> page = ValueOf(store.audit_records(filter));
    if (page.empty()) return all;
    filter.after = page.back().seq;
    all.insert(all.end(), page.begin(), page.end());
  }
}

// The chain from the store's anchor verifies; the number of records.
std::int64_t Verify(Store& store) {
  AuditChainCheck check(ValueOf(store.audit_anchor()));
  for (const AuditRecord& r : All(store)) {
    Status s = check.next_stored(r);
    if (!s.ok()) {
      ADD_FAILURE() << s.ToString();
      return -1;
    }
  }
  return check.checked();
}

std::vector<std::string> Actions(const std::vector<AuditRecord>& records) {
  std::vector<std::string> actions;
  for (const AuditRecord& r : records) actions.push_back(r.action);
  return actions;
}

TEST_P(StoreContractTest, AuditRecordsEachModelCallOfAMatchingFinishAndSealsThemInOrder) {
  Submit(QueuedJob("job_1", "acme"));
  Job running = Claim(1, kT0).at(0);
  AttemptFinish f = FinishOf(running, AttemptOutcome::kDone, kT0 + 5);
  f.result_json = "{}";
  f.charges = {CallOf(running, "fast", 1'500'000), CallOf(running, "strong", 7)};
  f.charges[0].outcome = "timeout";
  ASSERT_TRUE(Finish(f).ok());

  if (store_->exclusive()) {
    // The one writer seals each entry in the transaction that made it.
    EXPECT_EQ(ValueOf(store_->audit_pending()), 0);
    EXPECT_EQ(SealAll(*store_), 0);
  } else {
    // A shared engine's entries wait for a sealer, and are not visible before.
    EXPECT_EQ(ValueOf(store_->audit_pending()), 2);
    EXPECT_TRUE(All(*store_).empty());
    EXPECT_EQ(SealAll(*store_), 2);
    EXPECT_EQ(ValueOf(store_->audit_pending()), 0);
  }

  std::vector<AuditRecord> records = All(*store_);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].seq, 1);
  EXPECT_EQ(records[0].tenant, "acme");
  EXPECT_EQ(records[0].job_id, "job_1");
  EXPECT_EQ(records[0].action, "model_call");
  EXPECT_THAT(records[0].record_json, HasSubstr(R"("cost_usd":0.0015,)"));
  EXPECT_THAT(records[0].record_json, HasSubstr(R"("outcome":"timeout")"));
  EXPECT_THAT(records[0].record_json, HasSubstr(R"("pii":{"masked":{"EMAIL":2}})"));
  EXPECT_THAT(records[0].record_json, HasSubstr(R"("prompt_version":"v2")"));
  EXPECT_THAT(records[0].record_json, HasSubstr(std::string(R"("prev_hash":")") + kAuditGenesis));
  EXPECT_THAT(records[1].record_json, HasSubstr(R"("model_alias":"strong")"));
  EXPECT_THAT(records[1].record_json, HasSubstr(R"("prev_hash":")" + records[0].hash));
  EXPECT_EQ(Verify(*store_), 2);
}

TEST_P(StoreContractTest, AuditWritesNothingForAFinishWhoseLeaseWasLost) {
  Submit(QueuedJob("job_z"));
  Job claimed = Claim(1, kT0).at(0);
  AttemptFinish zombie = FinishOf(claimed, AttemptOutcome::kDone, kT0 + 1);
  zombie.result_json = "{}";
  zombie.lease_owner = "someone-else";
  zombie.charges = {CallOf(claimed, "fast", 1)};
  EXPECT_EQ(Finish(zombie).code(), StatusCode::kAborted);
  EXPECT_EQ(ValueOf(store_->audit_pending()), 0);
}

TEST_P(StoreContractTest, AuditRecordsSyncCallsReviewsAndKeyAndTenantChanges) {
  ValueOf(store_->put_tenant(TenantPatch{.id = "acme", .rpm = 600, .now = kT0}));
  ValueOf(store_->put_tenant(TenantPatch{.id = "acme", .monthly_budget_usd = 5.0, .now = kT0 + 1}));
  ASSERT_TRUE(
      store_
          ->create_api_key(ApiKey{
              .id = "key_a", .tenant = "acme", .name = "crm", .hash = "h_a", .created_at = kT0 + 2})
          .ok());
  ValueOf(store_->revoke_api_key("key_a", kT0 + 3));
  ValueOf(store_->revoke_api_key("key_a", kT0 + 4));  // changes nothing: no second record
  CallCharge sync{.tenant = "acme",
                  .task_type = kSyncTaskType,
                  .provider = "primary",
                  .model_alias = "fast",
                  .at = kT0 + 5,
                  .actor = "key_b",
                  .outcome = "ok"};
  ASSERT_TRUE(store_->settle_sync_call("", 0, std::span(&sync, 1)).ok());

  Submit(QueuedJob("job_r", "acme"));
  Job running = Claim(1, kT0).at(0);
  AttemptFinish review = FinishOf(running, AttemptOutcome::kReview, kT0 + 6);
  review.result_json = R"({"label":"maybe"})";
  review.error = JobError{"low_confidence", "0.4"};
  ASSERT_TRUE(Finish(review).ok());
  ValueOf(store_->review_job({.tenant = "acme",
                              .id = "job_r",
                              .kind = ReviewAction::kReject,
                              .reason = "wrong label",
                              .now = kT0 + 7,
                              .actor = "key_rev"}));
  SealAll(*store_);

  std::vector<AuditRecord> records = All(*store_);
  EXPECT_THAT(Actions(records), ElementsAre("tenant.create", "tenant.update", "key.create",
                                            "key.revoke", "model_call", "review.reject"));
  EXPECT_THAT(records[0].record_json, HasSubstr(R"("changes":{"rpm":600})"));
  EXPECT_THAT(records[1].record_json, HasSubstr(R"("changes":{"monthly_budget_usd":5})"));
  EXPECT_THAT(records[2].record_json, HasSubstr(R"("key_id":"key_a")"));
  EXPECT_THAT(records[2].record_json, Not(HasSubstr("h_a")));  // never the key's hash
  EXPECT_THAT(records[4].record_json, HasSubstr(R"("actor":"key_b")"));
  EXPECT_THAT(records[5].record_json, HasSubstr(R"("actor":"key_rev")"));
  EXPECT_THAT(records[5].record_json, HasSubstr(R"("reason":"wrong label")"));
  EXPECT_EQ(records[5].job_id, "job_r");
  EXPECT_EQ(Verify(*store_), 6);
}

TEST_P(StoreContractTest, AuditReadsFilterByTenantJobAndActionAndPage) {
  for (const char* tenant : {"acme", "beta", "acme"}) {
    ValueOf(store_->put_tenant(TenantPatch{.id = tenant, .weight = 2, .now = kT0}));
  }
  Submit(QueuedJob("job_a", "acme"));
  Job running = Claim(1, kT0).at(0);
  AttemptFinish f = FinishOf(running, AttemptOutcome::kDone, kT0 + 5);
  f.result_json = "{}";
  f.charges = {CallOf(running, "fast", 1), CallOf(running, "fast", 2)};
  ASSERT_TRUE(Finish(f).ok());
  SealAll(*store_);

  EXPECT_EQ(All(*store_).size(), 5u);
  EXPECT_THAT(Actions(All(*store_, {.tenant = "acme"})),
              ElementsAre("tenant.create", "tenant.update", "model_call", "model_call"));
  EXPECT_THAT(Actions(All(*store_, {.tenant = "beta"})), ElementsAre("tenant.create"));
  EXPECT_EQ(All(*store_, {.tenant = "beta", .job_id = "job_a"}).size(), 0u);
  EXPECT_EQ(All(*store_, {.tenant = "acme", .job_id = "job_a"}).size(), 2u);
  EXPECT_EQ(All(*store_, {.job_id = "job_a"}).size(), 2u);
  EXPECT_THAT(Actions(All(*store_, {.action = "tenant.create"})),
              ElementsAre("tenant.create", "tenant.create"));
  std::vector<AuditRecord> page = ValueOf(store_->audit_records({.after = 1, .limit = 2}));
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].seq, 2);
  EXPECT_EQ(page[1].seq, 3);
}

TEST_P(StoreContractTest, AuditChainContinuesAcrossSealsAndAReopen) {
  for (int i = 0; i < 20; ++i) {
    ValueOf(store_->put_tenant(TenantPatch{.id = "t" + std::to_string(i), .now = kT0 + i}));
    if (i % 6 == 0) SealAll(*store_);
  }
  Reopen();
  ValueOf(store_->put_tenant(TenantPatch{.id = "last", .now = kT0 + 99}));
  SealAll(*store_);
  EXPECT_EQ(Verify(*store_), 21);
}

TEST_P(StoreContractTest, AuditPruneDeletesAPrefixAndAnchorsWhatRemains) {
  for (int i = 0; i < 10; ++i) {
    ValueOf(store_->put_tenant(TenantPatch{.id = "t" + std::to_string(i), .now = kT0 + i}));
  }
  SealAll(*store_);
  std::vector<AuditRecord> before = All(*store_);
  // Records made before kT0 + 6 go, three at a time.
  EXPECT_EQ(ValueOf(store_->prune_audit(kT0 + 6, 3)), 3);
  EXPECT_EQ(ValueOf(store_->prune_audit(kT0 + 6, 3)), 3);
  EXPECT_EQ(ValueOf(store_->prune_audit(kT0 + 6, 3)), 0);
  AuditAnchor anchor = ValueOf(store_->audit_anchor());
  EXPECT_EQ(anchor.seq, 6);
  EXPECT_EQ(anchor.hash, before[5].hash);
  EXPECT_EQ(All(*store_).front().seq, 7);
  EXPECT_EQ(Verify(*store_), 4);

  // Pruning everything leaves the anchor as the head new records link to.
  EXPECT_EQ(ValueOf(store_->prune_audit(kT0 + 1000, 100)), 4);
  EXPECT_TRUE(All(*store_).empty());
  ValueOf(store_->put_tenant(TenantPatch{.id = "after", .now = kT0 + 2000}));
  SealAll(*store_);
  std::vector<AuditRecord> after = All(*store_);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].seq, 11);
  EXPECT_THAT(after[0].record_json, HasSubstr(R"("prev_hash":")" + before[9].hash));
  EXPECT_EQ(Verify(*store_), 1);
}

TEST_P(StoreContractTest, ATamperedRecordFailsTheChainCheck) {
  for (int i = 0; i < 4; ++i) {
    ValueOf(store_->put_tenant(TenantPatch{.id = "t" + std::to_string(i), .now = kT0 + i}));
  }
  SealAll(*store_);
  std::vector<AuditRecord> records = All(*store_);
  records[2].record_json.replace(records[2].record_json.find("\"t2\""), 4, "\"tX\"");
  AuditChainCheck check(ValueOf(store_->audit_anchor()));
  EXPECT_TRUE(check.next_stored(records[0]).ok());
  EXPECT_TRUE(check.next_stored(records[1]).ok());
  EXPECT_THAT(check.next_stored(records[2]).message(), HasSubstr("audit record 3"));
}

}  // namespace
}  // namespace sluice
