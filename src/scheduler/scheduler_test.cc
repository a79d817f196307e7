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
  // `n` due jobs of `tenant` in the default queue, in one commit.
  void SubmitMany(const std::string& tenant, int n) {
    std::vector<Job> jobs;
    for (int i = 0; i < n; ++i) {
      Job job;
      job.id = NewId("job_", clock_.now());
      job.created_at = clock_.now();
      job.spec.tenant = tenant;
      job.spec.type = "classify_ticket";
      job.spec.queue = "default";
      job.spec.run_at = clock_.now();
      jobs.push_back(std::move(job));
    }
    ASSERT_TRUE(store_->submit_jobs(jobs).ok());
  }
  // One turn of a node whose attempts end at once: claims, then finishes what it started and
  // frees those slots. Returns the jobs it started.
  std::vector<Job> RunTurn() {
    scheduler().tick();
    std::vector<Job> started(runner_.started.begin() + static_cast<long>(finished_),
                             runner_.started.end());
    finished_ = runner_.started.size();
    std::vector<AttemptFinish> done;
    for (const Job& job : started) {
      done.push_back(AttemptFinish{.job_id = job.id,
                                   .attempt = job.attempt,
                                   .lease_owner = job.lease_owner,
                                   .now = clock_.now(),
                                   .result_json = "{}"});
    }
    EXPECT_TRUE(store_->finish_attempts(done).ok());
    for (const Job& job : started) scheduler().slot_freed(job.spec.queue);
    return started;
  }
  static int CountOf(const std::vector<Job>& jobs, const std::string& tenant) {
    return static_cast<int>(std::count_if(jobs.begin(), jobs.end(),
                                          [&](const Job& j) { return j.spec.tenant == tenant; }));
  }

  std::string dir_;
  FakeClock clock_;
  std::unique_ptr<Store> store_;
  SchedulerOptions options_;
  RecordingRunner runner_;
  std::vector<std::string> changed_;
  std::size_t finished_ = 0;  // runner_.started[0, finished_) were finished by RunTurn
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

// API.md "Fairness": one tenant's flood does not delay another tenant's jobs by more than its
// own share. acme's 5 000 jobs are older than beta's 10 (claim order alone would run them all
// first); with fair share beta's start while acme has done a handful.
TEST_F(SchedulerTest, AFloodOfOneTenantDoesNotHoldBackAnotherTenantsJobs) {
  SubmitMany("acme", 5'000);
  clock_.advance(1);
  SubmitMany("beta", 10);
  int acme_done = 0;
  int beta_started = 0;
  for (int turn = 0; turn < 100 && beta_started < 10; ++turn) {
    std::vector<Job> started = RunTurn();
    ASSERT_FALSE(started.empty());
    beta_started += CountOf(started, "beta");
    acme_done += CountOf(started, "acme");
  }
  EXPECT_EQ(beta_started, 10);
  EXPECT_LT(acme_done, 5'000 / 4);
  EXPECT_LE(acme_done, 12);  // 4 slots a turn, 2 each: beta's 10 take 5 turns
}

TEST_F(SchedulerTest, WeightsShareTheStartsThreeToOne) {
  options_.tenant_weight = [](const std::string& tenant) { return tenant == "acme" ? 3 : 1; };
  SubmitMany("acme", 1'000);
  SubmitMany("beta", 1'000);
  int acme = 0;
  int beta = 0;
  for (int turn = 0; turn < 100; ++turn) {
    std::vector<Job> started = RunTurn();
    acme += CountOf(started, "acme");
    beta += CountOf(started, "beta");
  }
  ASSERT_EQ(acme + beta, 400);  // 4 slots a turn
  EXPECT_NEAR(static_cast<double>(acme) / beta, 3.0, 0.1);
}

// A tenant that arrives while another has run alone gets its share from its first turn on: its
// first job is not delayed, and the other's solo run is no credit for the newcomer either.
TEST_F(SchedulerTest, ATenantArrivingLateGetsItsShareAtOnceButNoBurst) {
  SubmitMany("acme", 1'000);
  for (int turn = 0; turn < 50; ++turn) RunTurn();
  SubmitMany("beta", 100);
  scheduler().wake("default");
  std::vector<Job> first = RunTurn();
  EXPECT_EQ(CountOf(first, "beta"), 2);
  EXPECT_EQ(CountOf(first, "acme"), 2);
}

TEST_F(SchedulerTest, SlotsOneTenantCannotUseGoToTheOthersInTheSameTurn) {
  SubmitMany("acme", 1);
  SubmitMany("beta", 100);
  std::vector<Job> started = RunTurn();
  EXPECT_EQ(started.size(), 4u);  // every free slot is used
  EXPECT_EQ(CountOf(started, "acme"), 1);
  EXPECT_EQ(CountOf(started, "beta"), 3);
}

TEST_F(SchedulerTest, ATenantWhoseJobComesDueLaterJoinsTheSplit) {
  SubmitMany("acme", 100);
  SubmitMany("beta", 100);
  RunTurn();  // both due: the list of due tenants is reused for a little while
  Job later;
  later.id = NewId("job_", clock_.now());
  later.created_at = clock_.now();
  later.spec.tenant = "cyan";
  later.spec.type = "classify_ticket";
  later.spec.queue = "default";
  later.spec.run_at = clock_.now() + 1'000;  // due by time alone: no wake-up announces it
  ASSERT_TRUE(store_->submit_jobs(std::span<const Job>(&later, 1)).ok());
  clock_.advance(1'000);
  std::vector<Job> started = RunTurn();
  EXPECT_EQ(CountOf(started, "cyan"), 1);
}

// The providers can start 3 calls (ModelGateway::provider_capacity): the node claims 3 of its
// 6 slots and the rest stay queued (queue_full), so nothing waits for a provider
// slot while it shows `running`. A lower provider limit (AIMD after 429s) claims nothing more
// until running jobs end; no provider limit (-1) leaves the node's own slots.
TEST_F(SchedulerTest, ClaimsNoMoreThanTheProvidersCanStart) {
  int providers = 3;
  options_.queues = {{"default", 100, 0}};
  options_.start_capacity = [&providers] { return providers; };
  for (int i = 0; i < 10; ++i) Submit("default");
  EXPECT_EQ(scheduler().tick(), 3);
  EXPECT_EQ(scheduler().tick(), 0);
  EXPECT_TRUE(scheduler().queue_full("default"));
  providers = 2;
  scheduler().slot_freed("default");
  EXPECT_EQ(scheduler().tick(), 0);  // 2 running, the providers' limit
  scheduler().slot_freed("default");
  EXPECT_EQ(scheduler().tick(), 1);
  EXPECT_EQ(scheduler().running("default"), 2);
  providers = -1;
  EXPECT_FALSE(scheduler().queue_full("default"));
  EXPECT_EQ(scheduler().tick(), 4);  // the node's 6 slots
  EXPECT_EQ(runner_.started.size(), 8u);
}

TEST_F(SchedulerTest, NoClaimsWhileDraining) {
  Submit("default");
  scheduler().stop_claiming();
  EXPECT_EQ(scheduler().tick(), 0);
}

}  // namespace
}  // namespace sluice
