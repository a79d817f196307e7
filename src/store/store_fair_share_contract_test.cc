// The Store contract, continued: fair share (store.h, due_tenants and ClaimRequest::tenant).
// Runs against every engine, like store_contract_test.cc.
#include <gmock/gmock.h>

#include <string>
#include <vector>

#include "store/store_contract_test.h"

namespace sluice {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;

class FairShare {
 public:
  explicit FairShare(Store& store) : store_(store) {}
  std::vector<std::string> DueTenants(Millis now, int limit = 100,
                                      const std::string& queue = "default") {
    return ValueOf(store_.due_tenants(queue, now, limit));
  }
  std::vector<Job> ClaimOf(const std::string& tenant, int limit, Millis now,
                           const std::string& queue = "default", int cluster_max = 0) {
    return ValueOf(store_.claim_jobs(ClaimRequest{.queue = queue,
                                                  .limit = limit,
                                                  .owner = "node-a",
                                                  .now = now,
                                                  .lease_until = now + 30'000,
                                                  .cluster_max = cluster_max,
                                                  .tenant = tenant}));
  }

 private:
  Store& store_;
};

// --- due_tenants ---

TEST_P(StoreContractTest, DueTenantsAreTheTenantsWhoseJobsAClaimWouldTakeNow) {
  Job expired_deadline = QueuedJob("job_d1", "delta");
  expired_deadline.spec.deadline = kT0 + 5;
  Job open_deadline = QueuedJob("job_g1", "golf");
  open_deadline.spec.deadline = kT0 + 50;
  std::vector<Job> batch = {
      QueuedJob("job_a1", "acme"),
      QueuedJob("job_a2", "acme", 9),
      // beta: a not-yet-due job at a higher priority than its due one
      QueuedJob("job_b1", "beta", 9, kT0 + 1'000),
      QueuedJob("job_b2", "beta", 1),
      // cyan: nothing due yet, at any level
      QueuedJob("job_c1", "cyan", 9, kT0 + 1'000),
      QueuedJob("job_c2", "cyan", 2, kT0 + 1'000),
      expired_deadline,
      // echo: due, but in another queue
      QueuedJob("job_e1", "echo", 5, kT0, "batch"),
      open_deadline,
  };
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  FairShare fair(*store_);
  EXPECT_THAT(fair.DueTenants(kT0 + 10), ElementsAre("acme", "beta", "golf"));
  EXPECT_THAT(fair.DueTenants(kT0 + 1'000), ElementsAre("acme", "beta", "cyan"));
  EXPECT_THAT(fair.DueTenants(kT0 - 1), IsEmpty());
  EXPECT_THAT(fair.DueTenants(kT0 + 10, 100, "batch"), ElementsAre("echo"));
  EXPECT_THAT(fair.DueTenants(kT0 + 10, 100, "nowhere"), IsEmpty());
}

TEST_P(StoreContractTest, DueTenantsComeByIdUpToTheLimit) {
  std::vector<Job> batch;
  for (const char* tenant : {"t4", "t2", "t5", "t1", "t3"}) {
    batch.push_back(QueuedJob(std::string("job_") + tenant, tenant));
  }
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  FairShare fair(*store_);
  EXPECT_THAT(fair.DueTenants(kT0, 2), ElementsAre("t1", "t2"));
  EXPECT_THAT(fair.DueTenants(kT0, 5), ElementsAre("t1", "t2", "t3", "t4", "t5"));
  EXPECT_THAT(fair.DueTenants(kT0, 0), IsEmpty());
}

TEST_P(StoreContractTest, DueTenantsFollowClaimsAndRetries) {
  std::vector<Job> batch = {QueuedJob("job_a1", "acme"), QueuedJob("job_b1", "beta")};
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  FairShare fair(*store_);
  Job running = fair.ClaimOf("acme", 10, kT0).at(0);
  EXPECT_THAT(fair.DueTenants(kT0), ElementsAre("beta"));  // a running job is not due

  AttemptFinish retry = FinishOf(running, AttemptOutcome::kRetry, kT0 + 1);
  retry.retry_at = kT0 + 500;
  retry.error = JobError{"provider_503", "upstream unavailable"};
  ASSERT_TRUE(Finish(retry).ok());
  EXPECT_THAT(fair.DueTenants(kT0 + 499), ElementsAre("beta"));
  EXPECT_THAT(fair.DueTenants(kT0 + 500), ElementsAre("acme", "beta"));
}

// One tenant's flood, due or not, hides no other tenant.
TEST_P(StoreContractTest, DueTenantsSeeEveryTenantBesideAFlood) {
  std::vector<Job> batch;
  for (int i = 0; i < 2'000; ++i) {
    batch.push_back(QueuedJob("job_a" + std::to_string(10'000 + i), "acme", i % 10, kT0 + i));
    batch.push_back(
        QueuedJob("job_f" + std::to_string(10'000 + i), "later", i % 10, kT0 + 100'000 + i));
  }
  batch.push_back(QueuedJob("job_z1", "zulu", 0));
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  FairShare fair(*store_);
  EXPECT_THAT(fair.DueTenants(kT0), ElementsAre("acme", "zulu"));
  EXPECT_THAT(fair.DueTenants(kT0 + 100'000), ElementsAre("acme", "later", "zulu"));
}

// --- claims of one tenant ---

TEST_P(StoreContractTest, ATenantClaimTakesOnlyThatTenantsDueJobsInClaimOrder) {
  Job passed = QueuedJob("job_b_passed", "beta", 9);
  passed.spec.deadline = kT0 + 5;
  std::vector<Job> batch = {
      QueuedJob("job_a1", "acme", 9),
      QueuedJob("job_b_low", "beta", 1),
      QueuedJob("job_b_late", "beta", 5, kT0 + 3),
      QueuedJob("job_b_early", "beta", 5, kT0 + 1),
      QueuedJob("job_b_top", "beta", 7, kT0 + 2),
      QueuedJob("job_b_future", "beta", 9, kT0 + 1'000),
      QueuedJob("job_b_elsewhere", "beta", 9, kT0, "batch"),
      passed,
  };
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  FairShare fair(*store_);
  std::vector<Job> claimed = fair.ClaimOf("beta", 10, kT0 + 10);
  EXPECT_THAT(Ids(claimed), ElementsAre("job_b_top", "job_b_early", "job_b_late", "job_b_low"));
  for (const Job& job : claimed) {
    EXPECT_EQ(job.spec.tenant, "beta");
    EXPECT_EQ(job.status, JobStatus::kRunning);
    EXPECT_EQ(job.attempt, 1);
    EXPECT_EQ(job.lease_owner, "node-a");
    EXPECT_EQ(Get(job.id, "beta").status, JobStatus::kRunning);
  }
  EXPECT_EQ(Get("job_a1", "acme").status, JobStatus::kQueued);
  EXPECT_EQ(Get("job_b_elsewhere", "beta").status, JobStatus::kQueued);
  EXPECT_THAT(fair.ClaimOf("beta", 10, kT0 + 10), IsEmpty());
  EXPECT_THAT(fair.ClaimOf("nobody", 10, kT0 + 10), IsEmpty());
}

TEST_P(StoreContractTest, ATenantClaimHonoursItsLimitAndAnUnfilteredClaimTakesAnyTenant) {
  std::vector<Job> batch;
  for (int i = 0; i < 4; ++i) {
    batch.push_back(QueuedJob("job_a" + std::to_string(i), "acme", 5, kT0 + i));
    batch.push_back(QueuedJob("job_b" + std::to_string(i), "beta", 5, kT0 + i));
  }
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  FairShare fair(*store_);
  EXPECT_THAT(Ids(fair.ClaimOf("beta", 3, kT0 + 10)), ElementsAre("job_b0", "job_b1", "job_b2"));
  EXPECT_THAT(Ids(fair.ClaimOf("", 3, kT0 + 10)), ElementsAre("job_a0", "job_a1", "job_a2"));
  EXPECT_THAT(Ids(Claim(10, kT0 + 10)), ElementsAre("job_a3", "job_b3"));
  // The claims' events and counters are those of any claim.
  auto stats = ValueOf(store_->queue_stats());
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].by_status[static_cast<int>(JobStatus::kRunning)], 8);
  EXPECT_EQ(stats[0].by_status[static_cast<int>(JobStatus::kQueued)], 0);
  auto events = ValueOf(store_->job_events("beta", "job_b0"));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type, "started");
}

// A shared engine's cap counts the queue's running jobs of every tenant.
TEST_P(StoreContractTest, ATenantClaimOnASharedStoreStaysUnderTheQueuesClusterMax) {
  if (store_->exclusive()) GTEST_SKIP() << "an exclusive engine may ignore cluster_max";
  std::vector<Job> batch;
  for (int i = 0; i < 4; ++i) {
    batch.push_back(QueuedJob("job_a" + std::to_string(i), "acme"));
    batch.push_back(QueuedJob("job_b" + std::to_string(i), "beta"));
  }
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  FairShare fair(*store_);
  EXPECT_EQ(fair.ClaimOf("acme", 3, kT0, "default", /*cluster_max=*/5).size(), 3u);
  EXPECT_EQ(fair.ClaimOf("beta", 10, kT0, "default", /*cluster_max=*/5).size(), 2u);
  EXPECT_THAT(fair.ClaimOf("beta", 10, kT0, "default", /*cluster_max=*/5), IsEmpty());
}

}  // namespace
}  // namespace sluice
