// The attempt writer over a real embedded store wrapped so that its next commits fail (disk
// full, database down), driven by hand with a FakeClock (write_due) or on its own thread.
#include "store/attempt_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/testing/forwarding_store.h"

namespace sluice {
namespace {

using testing::ElementsAre;

// The real store, except that finish_attempts can be made to fail: `fail_next(n)` fails the
// next n calls before they touch the database; `lose_next_answers(n)` lets the next n calls
// commit and then reports a failure, as when the connection drops before COMMIT's answer.
class FaultyStore final : public ForwardingStore {
 public:
  explicit FaultyStore(Store& inner) : ForwardingStore(inner) {}

  void fail_next(int n) {
    std::lock_guard lock(mu_);
    fail_next_ = n;
  }
  void lose_next_answers(int n) {
    std::lock_guard lock(mu_);
    lose_next_ = n;
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  void wait_for_calls(int n) {
    std::unique_lock lock(mu_);
    called_.wait(lock, [&] { return calls_ >= n; });
  }
  // The job ids of every call that reached the database, one list per call.
  std::vector<std::vector<std::string>> committed() {
    std::lock_guard lock(mu_);
    return committed_;
  }

  Result<std::vector<Status>> finish_attempts(std::span<const AttemptFinish> items) override {
    bool fail = false;
    bool lose = false;
    {
      std::lock_guard lock(mu_);
      ++calls_;
      if (fail_next_ > 0) {
        --fail_next_;
        fail = true;
      } else if (lose_next_ > 0) {
        --lose_next_;
        lose = true;
      }
      if (!fail) {
        std::vector<std::string> ids;
        for (const AttemptFinish& f : items) ids.push_back(f.job_id);
        committed_.push_back(std::move(ids));
      }
    }
    called_.notify_all();
    if (fail) return Unavailable("disk full (injected)");
    auto outcomes = inner_.finish_attempts(items);
    if (lose) return Unavailable("connection lost after commit (injected)");
    return outcomes;
  }

 private:
  std::mutex mu_;
  std::condition_variable called_;
  int fail_next_ = 0;                                // GUARDED_BY(mu_)
  int lose_next_ = 0;                                // GUARDED_BY(mu_)
  int calls_ = 0;                                    // GUARDED_BY(mu_)
  std::vector<std::vector<std::string>> committed_;  // GUARDED_BY(mu_)
};

// What the writer answered, in the order it answered.
class Answers {
 public:
  AttemptWriter::Done to(std::string job_id) {
    return [this, job_id](Status status) {
      {
        std::lock_guard lock(mu_);
        order_.push_back(job_id);
        codes_.push_back(status.code());
      }
      cv_.notify_all();
    };
  }
  std::vector<std::string> order() {
    std::lock_guard lock(mu_);
    return order_;
  }
  std::vector<StatusCode> codes() {
    std::lock_guard lock(mu_);
    return codes_;
  }
  void wait_for(std::size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return order_.size() >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> order_;
  std::vector<StatusCode> codes_;
};

class AttemptWriterTest : public ::testing::Test {
 protected:
  static constexpr const char* kOwner = "node-a";

  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "sluice-writer-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto store = Store::Open({dir_, "", /*durable=*/false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    real_ = std::move(store).value();
    store_ = std::make_unique<FaultyStore>(*real_);
  }
  void TearDown() override {
    store_.reset();
    real_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Submits and claims `n` jobs: each is running under kOwner, attempt 1.
  std::vector<Job> RunningJobs(int n) {
    std::vector<Job> jobs;
    for (int i = 0; i < n; ++i) {
      Job job;
      job.id = "job_" + std::to_string(next_id_++);
      job.created_at = clock_.now();
      job.spec.type = "classify_ticket";
      job.spec.run_at = clock_.now();
      jobs.push_back(job);
    }
    EXPECT_TRUE(real_->submit_jobs(jobs).ok());
    auto claimed = real_->claim_jobs(ClaimRequest{.queue = "default",
                                                  .limit = n,
                                                  .owner = kOwner,
                                                  .now = clock_.now(),
                                                  .lease_until = clock_.now() + 60'000});
    EXPECT_TRUE(claimed.ok());
    EXPECT_EQ(claimed->size(), static_cast<std::size_t>(n));
    return claimed.ok() ? *claimed : std::vector<Job>{};
  }
  AttemptFinish DoneOf(const Job& job) {
    return AttemptFinish{.job_id = job.id,
                         .attempt = job.attempt,
                         .lease_owner = job.lease_owner,
                         .outcome = AttemptOutcome::kDone,
                         .now = clock_.now(),
                         .result_json = R"({"label":"ok"})",
                         .attempt_json = R"({"n":1})"};
  }
  JobStatus StatusOf(const std::string& id) { return real_->get_job(kDefaultTenant, id)->status; }
  std::size_t AttemptsOf(const std::string& id) {
    return real_->get_attempts(kDefaultTenant, id)->size();
  }

  std::string dir_;
  FakeClock clock_;
  std::unique_ptr<Store> real_;
  std::unique_ptr<FaultyStore> store_;
  Answers answers_;
  int next_id_ = 0;
};

TEST_F(AttemptWriterTest, FinishesQueuedTogetherShareOneCall) {
  AttemptWriter writer(*store_, clock_);
  std::vector<Job> jobs = RunningJobs(3);
  for (const Job& job : jobs) ASSERT_TRUE(writer.enqueue(DoneOf(job), answers_.to(job.id)));
  EXPECT_EQ(writer.backlog(), 3u);

  EXPECT_EQ(writer.write_due(), std::nullopt);  // everything written, nothing left

  EXPECT_THAT(store_->committed(), ElementsAre(ElementsAre("job_0", "job_1", "job_2")));
  EXPECT_THAT(answers_.order(), ElementsAre("job_0", "job_1", "job_2"));
  EXPECT_THAT(answers_.codes(), ElementsAre(StatusCode::kOk, StatusCode::kOk, StatusCode::kOk));
  for (const Job& job : jobs) EXPECT_EQ(StatusOf(job.id), JobStatus::kDone);
  EXPECT_EQ(writer.backlog(), 0u);
}

TEST_F(AttemptWriterTest, AFailedWriteIsRetriedWithGrowingPausesUntilWrittenInOrder) {
  std::vector<Millis> pauses;
  AttemptWriter writer(
      *store_, clock_,
      AttemptWriterOptions{.first_pause = 50,
                           .max_pause = 150,
                           .on_retry = [&](const Status& error, std::size_t n, Millis pause) {
                             EXPECT_EQ(error.code(), StatusCode::kUnavailable);
                             EXPECT_EQ(n, 2u);
                             pauses.push_back(pause);
                           }});
  std::vector<Job> jobs = RunningJobs(3);
  store_->fail_next(4);
  ASSERT_TRUE(writer.enqueue(DoneOf(jobs[0]), answers_.to(jobs[0].id)));
  ASSERT_TRUE(writer.enqueue(DoneOf(jobs[1]), answers_.to(jobs[1].id)));

  const Millis t0 = clock_.now();
  EXPECT_EQ(writer.write_due(), t0 + 50);
  // Not yet due: the store is not asked again, and a later finish waits behind the failed ones.
  EXPECT_EQ(writer.write_due(), t0 + 50);
  EXPECT_EQ(store_->calls(), 1);
  ASSERT_TRUE(writer.enqueue(DoneOf(jobs[2]), answers_.to(jobs[2].id)));
  clock_.advance(50);
  EXPECT_EQ(writer.write_due(), t0 + 50 + 100);
  clock_.advance(100);
  EXPECT_EQ(writer.write_due(), t0 + 150 + 150);  // capped at max_pause
  clock_.advance(150);
  EXPECT_EQ(writer.write_due(), t0 + 300 + 150);
  EXPECT_TRUE(answers_.order().empty());
  EXPECT_EQ(StatusOf(jobs[0].id), JobStatus::kRunning);
  EXPECT_EQ(writer.backlog(), 3u);

  clock_.advance(150);
  EXPECT_EQ(writer.write_due(), clock_.now());  // written; the third is due now
  EXPECT_EQ(writer.write_due(), std::nullopt);

  EXPECT_THAT(pauses, ElementsAre(50, 100, 150, 150));
  EXPECT_THAT(store_->committed(),
              ElementsAre(ElementsAre("job_0", "job_1"), ElementsAre("job_2")));
  EXPECT_THAT(answers_.order(), ElementsAre("job_0", "job_1", "job_2"));
  EXPECT_THAT(answers_.codes(), ElementsAre(StatusCode::kOk, StatusCode::kOk, StatusCode::kOk));
  for (const Job& job : jobs) {
    EXPECT_EQ(StatusOf(job.id), JobStatus::kDone);
    EXPECT_EQ(AttemptsOf(job.id), 1u);
  }
}

TEST_F(AttemptWriterTest, AfterASuccessThePauseStartsSmallAgain) {
  std::vector<Millis> pauses;
  AttemptWriter writer(*store_, clock_,
                       AttemptWriterOptions{.first_pause = 50,
                                            .max_pause = 2'000,
                                            .on_retry = [&](const Status&, std::size_t, Millis p) {
                                              pauses.push_back(p);
                                            }});
  std::vector<Job> jobs = RunningJobs(2);
  store_->fail_next(2);
  ASSERT_TRUE(writer.enqueue(DoneOf(jobs[0]), answers_.to(jobs[0].id)));
  while (auto due = writer.write_due()) clock_.set(*due);
  store_->fail_next(1);
  ASSERT_TRUE(writer.enqueue(DoneOf(jobs[1]), answers_.to(jobs[1].id)));
  while (auto due = writer.write_due()) clock_.set(*due);
  EXPECT_THAT(pauses, ElementsAre(50, 100, 50));
  EXPECT_THAT(answers_.codes(), ElementsAre(StatusCode::kOk, StatusCode::kOk));
}

TEST_F(AttemptWriterTest, ACommitWhoseAnswerWasLostIsNotAppliedTwice) {
  AttemptWriter writer(*store_, clock_);
  std::vector<Job> jobs = RunningJobs(1);
  store_->lose_next_answers(1);
  ASSERT_TRUE(writer.enqueue(DoneOf(jobs[0]), answers_.to(jobs[0].id)));
  while (auto due = writer.write_due()) clock_.set(*due);

  EXPECT_EQ(store_->calls(), 2);
  // The second write found the attempt over: the first one's result stands, once.
  EXPECT_THAT(answers_.codes(), ElementsAre(StatusCode::kAborted));
  EXPECT_EQ(StatusOf(jobs[0].id), JobStatus::kDone);
  EXPECT_EQ(AttemptsOf(jobs[0].id), 1u);
}

TEST_F(AttemptWriterTest, AnAbortedFinishIsPassedBackAndNotRetried) {
  AttemptWriter writer(*store_, clock_);
  std::vector<Job> jobs = RunningJobs(2);
  AttemptFinish zombie = DoneOf(jobs[0]);
  zombie.lease_owner = "node-zombie";  // its lease was lost to another node
  ASSERT_TRUE(writer.enqueue(zombie, answers_.to(jobs[0].id)));
  ASSERT_TRUE(writer.enqueue(DoneOf(jobs[1]), answers_.to(jobs[1].id)));

  EXPECT_EQ(writer.write_due(), std::nullopt);
  EXPECT_EQ(writer.write_due(), std::nullopt);

  EXPECT_EQ(store_->calls(), 1);
  EXPECT_THAT(answers_.codes(), ElementsAre(StatusCode::kAborted, StatusCode::kOk));
  EXPECT_EQ(StatusOf(jobs[0].id), JobStatus::kRunning);  // the zombie changed nothing
  EXPECT_EQ(StatusOf(jobs[1].id), JobStatus::kDone);
}

TEST_F(AttemptWriterTest, GivingUpTriesOnceMoreAtOnceThenAnswersTheStoreError) {
  AttemptWriter writer(*store_, clock_);
  std::vector<Job> jobs = RunningJobs(2);
  store_->fail_next(1'000);
  ASSERT_TRUE(writer.enqueue(DoneOf(jobs[0]), answers_.to(jobs[0].id)));
  ASSERT_TRUE(writer.write_due().has_value());
  ASSERT_TRUE(writer.enqueue(DoneOf(jobs[1]), answers_.to(jobs[1].id)));

  writer.give_up();
  EXPECT_EQ(writer.write_due(), clock_.now());  // the failed one answered, the next is due now
  EXPECT_EQ(writer.write_due(), std::nullopt);  // tried once, answered at once

  EXPECT_EQ(store_->calls(), 3);
  EXPECT_THAT(answers_.order(), ElementsAre("job_0", "job_1"));
  EXPECT_THAT(answers_.codes(), ElementsAre(StatusCode::kUnavailable, StatusCode::kUnavailable));
  // Left running under the lease, which is released or runs out: another attempt follows.
  EXPECT_EQ(StatusOf(jobs[0].id), JobStatus::kRunning);
}

TEST_F(AttemptWriterTest, StopWritesEverythingQueuedThenRefusesMore) {
  AttemptWriter writer(*store_, clock_);
  std::vector<Job> jobs = RunningJobs(50);
  for (const Job& job : jobs) ASSERT_TRUE(writer.enqueue(DoneOf(job), answers_.to(job.id)));
  writer.start();
  writer.stop();

  EXPECT_EQ(answers_.order().size(), 50u);
  for (StatusCode code : answers_.codes()) EXPECT_EQ(code, StatusCode::kOk);
  for (const Job& job : jobs) EXPECT_EQ(StatusOf(job.id), JobStatus::kDone);
  EXPECT_FALSE(writer.enqueue(DoneOf(jobs[0]), answers_.to("late")));
  EXPECT_EQ(answers_.order().size(), 50u);
}

TEST_F(AttemptWriterTest, StopWaitsOutAFailingStoreUntilGiveUp) {
  SystemClock& clock = SystemClock::Instance();
  AttemptWriter writer(*store_, clock, AttemptWriterOptions{.first_pause = 1, .max_pause = 5});
  std::vector<Job> jobs = RunningJobs(2);
  store_->fail_next(1'000'000);
  writer.start();
  ASSERT_TRUE(writer.enqueue(DoneOf(jobs[0]), answers_.to(jobs[0].id)));
  ASSERT_TRUE(writer.enqueue(DoneOf(jobs[1]), answers_.to(jobs[1].id)));
  store_->wait_for_calls(3);  // failing and retrying: nothing answered meanwhile
  EXPECT_TRUE(answers_.order().empty());

  std::thread stopper([&] { writer.stop(); });
  writer.give_up();
  stopper.join();

  EXPECT_THAT(answers_.order(), ElementsAre("job_0", "job_1"));
  EXPECT_THAT(answers_.codes(), ElementsAre(StatusCode::kUnavailable, StatusCode::kUnavailable));
}

TEST_F(AttemptWriterTest, TheThreadRetriesUntilTheStoreRecovers) {
  SystemClock& clock = SystemClock::Instance();
  AttemptWriter writer(*store_, clock, AttemptWriterOptions{.first_pause = 1, .max_pause = 5});
  std::vector<Job> jobs = RunningJobs(20);
  store_->fail_next(5);
  writer.start();
  for (const Job& job : jobs) ASSERT_TRUE(writer.enqueue(DoneOf(job), answers_.to(job.id)));
  answers_.wait_for(jobs.size());
  writer.stop();

  EXPECT_GE(store_->calls(), 6);
  std::vector<std::string> expected;
  for (const Job& job : jobs) expected.push_back(job.id);
  EXPECT_EQ(answers_.order(), expected);
  for (StatusCode code : answers_.codes()) EXPECT_EQ(code, StatusCode::kOk);
  for (const Job& job : jobs) {
    EXPECT_EQ(StatusOf(job.id), JobStatus::kDone);
    EXPECT_EQ(AttemptsOf(job.id), 1u);
  }
}

TEST_F(AttemptWriterTest, StoppingBeforeStartAnswersWhatIsQueued) {
  auto writer = std::make_unique<AttemptWriter>(*store_, clock_);
  std::vector<Job> jobs = RunningJobs(1);
  ASSERT_TRUE(writer->enqueue(DoneOf(jobs[0]), answers_.to(jobs[0].id)));
  writer.reset();
  EXPECT_THAT(answers_.codes(), ElementsAre(StatusCode::kUnavailable));
  EXPECT_EQ(store_->calls(), 0);
}

}  // namespace
}  // namespace sluice
