// Taking back a dead predecessor's leases, on a real embedded store.
#include "store/lease_takeover.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

namespace sluice {
namespace {

class LeaseTakeoverTest : public ::testing::Test {
 protected:
  static constexpr Millis kT0 = 1'800'000'000'000;

  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "sluice-takeover-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto store = Store::Open({dir_, "", /*durable=*/false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Submit(const std::string& id, const std::string& webhook_url = "") {
    Job job;
    job.id = id;
    job.created_at = kT0;
    job.spec.type = "classify_ticket";
    job.spec.run_at = kT0;
    job.spec.webhook_url = webhook_url;
    ASSERT_TRUE(store_->submit_jobs(std::span<const Job>(&job, 1)).ok());
  }
  std::vector<Job> Claim(int n) {
    return store_
        ->claim_jobs(ClaimRequest{.queue = "default",
                                  .limit = n,
                                  .owner = "dead-node",
                                  .now = kT0,
                                  .lease_until = kT0 + 3'600'000})
        .value();
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(LeaseTakeoverTest, RunningJobsOfADeadProcessAreQueuedAgainAtOnce) {
  Submit("job_a");
  Submit("job_b");
  Submit("job_c");
  ASSERT_EQ(Claim(2).size(), 2u);

  // Long before their leases would run out.
  auto taken = TakeOverDeadProcessLeases(*store_, kT0 + 1);

  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(taken->jobs, 2);
  EXPECT_EQ(taken->webhooks, 0);
  for (const char* id : {"job_a", "job_b", "job_c"}) {
    Job job = store_->get_job(kDefaultTenant, id).value();
    EXPECT_EQ(job.status, JobStatus::kQueued) << id;
    EXPECT_EQ(job.lease_owner, "") << id;
  }
  EXPECT_EQ(Claim(3).size(), 3u);  // all three can run now
}

TEST_F(LeaseTakeoverTest, AJobWithNoAttemptLeftFailsAsOfNowNotAsOfTheEndOfTime) {
  Job job;
  job.id = "job_last";
  job.created_at = kT0;
  job.spec.type = "classify_ticket";
  job.spec.run_at = kT0;
  job.spec.max_attempts = 1;
  ASSERT_TRUE(store_->submit_jobs(std::span<const Job>(&job, 1)).ok());
  ASSERT_EQ(Claim(1).size(), 1u);  // its one attempt, under the dead process's lease

  auto taken = TakeOverDeadProcessLeases(*store_, kT0 + 5);

  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(taken->jobs, 1);
  Job failed = store_->get_job(kDefaultTenant, "job_last").value();
  EXPECT_EQ(failed.status, JobStatus::kFailed);
  ASSERT_TRUE(failed.error.has_value());
  EXPECT_EQ(failed.error->code, "lease_expired");
  // The takeover's own time, not the "every lease is over" bound it reaps with.
  ASSERT_TRUE(failed.finished_at.has_value());
  EXPECT_EQ(*failed.finished_at, kT0 + 5);
  auto events = store_->job_events(kDefaultTenant, "job_last");
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  int seen = 0;
  for (const JobEvent& e : *events) {
    if (e.type != "lease_expired" && e.type != "failed") continue;
    ++seen;
    EXPECT_EQ(e.at, kT0 + 5) << e.type;
  }
  EXPECT_EQ(seen, 2);
}

TEST_F(LeaseTakeoverTest, LeasedWebhookDeliveriesAreDueAgainAtOnce) {
  Submit("job_a", "https://hooks.example.com/a");
  std::vector<Job> running = Claim(1);
  ASSERT_EQ(running.size(), 1u);
  AttemptFinish done{.job_id = "job_a",
                     .attempt = running[0].attempt,
                     .lease_owner = "dead-node",
                     .outcome = AttemptOutcome::kDone,
                     .now = kT0,
                     .result_json = R"({"label":"ok"})"};
  ASSERT_TRUE(store_->finish_attempts(std::span<const AttemptFinish>(&done, 1)).ok());
  auto leased = store_->claim_webhook_deliveries(
      WebhookClaim{.owner = "dead-node", .now = kT0, .lease_until = kT0 + 3'600'000, .limit = 1});
  ASSERT_TRUE(leased.ok());
  ASSERT_EQ(leased->size(), 1u);

  auto taken = TakeOverDeadProcessLeases(*store_, kT0 + 1);

  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(taken->jobs, 0);
  EXPECT_EQ(taken->webhooks, 1);
  auto again = store_->claim_webhook_deliveries(
      WebhookClaim{.owner = "new-node", .now = kT0 + 1, .lease_until = kT0 + 60'000, .limit = 1});
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ(again->front().id, leased->front().id);
}

}  // namespace
}  // namespace sluice
