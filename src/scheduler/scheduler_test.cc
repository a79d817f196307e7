// The scheduler over a real embedded store and a FakeClock: tick() is driven by hand, so lease
// renewal, reaping, expiry and slot accounting are checked without sleeping.
#include "scheduler/scheduler.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "core/ids.h"

namespace sluice {
namespace {

// Records what it was asked to run; the test decides when each attempt ends.
class RecordingRunner : public JobRunner {
 public:
  void run(Job job) override { started.push_back(std::move(job)); }
  std::vector<Job> started;
};

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "sluice-sched-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto store = Store::Open({dir_, "", /*durable=*/false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    options_.worker.concurrency = 6;
    options_.worker.lease = 10'000;
    options_.worker.heartbeat = 2'000;
    options_.worker.poll = 500;
    options_.queues = {{"default", 100, 0}, {"batch", 100, 0}, {"urgent", 3, 2}};
    options_.owner = "node-a";
  }
  void TearDown() override {
    scheduler_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  Scheduler& scheduler() {
    if (!scheduler_) {
      scheduler_ = std::make_unique<Scheduler>(*store_, clock_, options_, runner_,
                                               [this](const Job& job) { changed_.push_back(job.id); });
    }
    return *scheduler_;
  }
  std::string Submit(const std::string& queue, int priority = 5, std::optional<Millis> deadline = {},
                     Millis run_at = 0) {
    Job job;
    job.id = NewId("job_", clock_.now());
    job.created_at = clock_.now();
    job.spec.type = "classify_ticket";
    job.spec.queue = queue;
    job.spec.priority = priority;
    job.spec.deadline = deadline;
    job.spec.run_at = run_at ? run_at : clock_.now();
    auto out = store_->submit_jobs(std::span<const Job>(&job, 1));
    EXPECT_TRUE(out.ok());
    return job.id;
  }
  JobStatus StatusOf(const std::string& id) { return store_->get_job(kDefaultTenant, id)->status; }

  std::string dir_;
  FakeClock clock_;
  std::unique_ptr<Store> store_;
  SchedulerOptions options_;
  RecordingRunner runner_;
  std::vector<std::string> changed_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(SchedulerTest, ClaimsOnlyAsManyAsThereAreFreeSlots) {
  for (int i = 0; i < 10; ++i) Submit("default");
  EXPECT_EQ(scheduler().tick(), 4);  // 6 slots, 2 reserved for urgent
  EXPECT_EQ(scheduler().running("default"), 4);
  EXPECT_EQ(scheduler().tick(), 0);
  EXPECT_TRUE(scheduler().queue_full("default"));
  scheduler().slot_freed("default");
  EXPECT_EQ(scheduler().tick(), 1);
  EXPECT_EQ(runner_.started.size(), 5u);
}

TEST_F(SchedulerTest, UrgentRunsWhileABatchBacklogWaits) {
  for (int i = 0; i < 20; ++i) Submit("batch");
  scheduler().tick();
  EXPECT_EQ(scheduler().running("batch"), 4);
  std::string urgent = Submit("urgent", 9);
  scheduler().wake("urgent");
  scheduler().tick();
  EXPECT_EQ(StatusOf(urgent), JobStatus::kRunning);
  EXPECT_EQ(scheduler().running("urgent"), 1);
}

TEST_F(SchedulerTest, HigherPriorityFirstWithinAQueue) {
  options_.worker.concurrency = 1;
  options_.queues = {{"default", 1, 0}, {"batch", 1, 0}};
  Submit("default", 1);
  std::string high = Submit("default", 9);
  scheduler().tick();
  ASSERT_EQ(runner_.started.size(), 1u);
  EXPECT_EQ(runner_.started[0].id, high);
}

TEST_F(SchedulerTest, ScheduledJobWaitsForItsRunAt) {
  std::string later = Submit("default", 5, {}, clock_.now() + 5'000);
  EXPECT_EQ(scheduler().tick(), 0);
  clock_.advance(5'000);  // past the poll period too: the idle queue is asked again
  EXPECT_EQ(scheduler().tick(), 1);
  EXPECT_EQ(StatusOf(later), JobStatus::kRunning);
}

TEST_F(SchedulerTest, QueuedJobPastItsDeadlineExpiresAndIsNeverClaimed) {
  options_.worker.concurrency = 1;
  options_.queues = {{"default", 1, 0}, {"batch", 1, 0}};
  Submit("default");
  std::string doomed = Submit("default", 5, clock_.now() + 1'000);
  scheduler().tick();  // the first job takes the only slot
  clock_.advance(1'500);
  scheduler().tick();
  EXPECT_EQ(StatusOf(doomed), JobStatus::kExpired);
  EXPECT_NE(std::find(changed_.begin(), changed_.end(), doomed), changed_.end());
  scheduler().slot_freed("default");
  EXPECT_EQ(scheduler().tick(), 0);
}

TEST_F(SchedulerTest, HeartbeatKeepsLeasesAndReaperTakesDeadOnesBack) {
  std::string id = Submit("default");
  scheduler().tick();
  ASSERT_EQ(StatusOf(id), JobStatus::kRunning);
  // Our heartbeats keep the lease alive well past its first expiry.
  for (int i = 0; i < 10; ++i) {
    clock_.advance(2'000);
    scheduler().tick();
  }
  EXPECT_EQ(StatusOf(id), JobStatus::kRunning);
  // Another node's scheduler sees a lease nobody renews (ours stopped) and takes it back.
  SchedulerOptions other = options_;
  other.owner = "node-b";
  RecordingRunner other_runner;
  Scheduler node_b(*store_, clock_, other, other_runner, [](const Job&) {});
  clock_.advance(options_.worker.lease + 1);
  node_b.tick();
  ASSERT_EQ(other_runner.started.size(), 1u);
  EXPECT_EQ(other_runner.started[0].id, id);
  EXPECT_EQ(other_runner.started[0].attempt, 2);
  EXPECT_EQ(other_runner.started[0].lease_owner, "node-b");
}

TEST_F(SchedulerTest, QueuesClaimingInOneTurnShareTheNodeSlots) {
  for (int i = 0; i < 10; ++i) {
    Submit("default");
    Submit("batch");
  }
  scheduler().tick();
  // 6 slots, 2 of them reserved for urgent: default and batch together get 4, not 4 each.
  EXPECT_EQ(scheduler().running("default") + scheduler().running("batch"), 4);
  for (int i = 0; i < 3; ++i) Submit("urgent");
  scheduler().wake("urgent");
  scheduler().tick();
  EXPECT_EQ(scheduler().running("urgent"), 2);
  EXPECT_EQ(runner_.started.size(), 6u);
}

TEST_F(SchedulerTest, NoClaimsWhileDraining) {
  Submit("default");
  scheduler().stop_claiming();
  EXPECT_EQ(scheduler().tick(), 0);
}

}  // namespace
}  // namespace sluice
