// The Store contract (store/store.h), engine-independent: every engine must pass all of it.
#include "store/store_contract_test.h"

#include <gmock/gmock.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "core/time.h"

namespace sluice {
namespace {

using testing::ElementsAre;


Job NewJob(std::string id, int priority = 5, Millis run_at = kT0, std::string queue = "default") {
  return QueuedJob(std::move(id), kDefaultTenant, priority, run_at, std::move(queue));
}

void ExpectSameSpec(const JobSpec& want, const JobSpec& got) {
  EXPECT_EQ(got.tenant, want.tenant);
  EXPECT_EQ(got.type, want.type);
  EXPECT_EQ(got.input_json, want.input_json);
  EXPECT_EQ(got.object_id, want.object_id);
  EXPECT_EQ(got.source, want.source);
  EXPECT_EQ(got.prompt_version, want.prompt_version);
  EXPECT_EQ(got.response_schema, want.response_schema);
  EXPECT_EQ(got.model, want.model);
  EXPECT_EQ(got.allow_fallback, want.allow_fallback);
  EXPECT_EQ(got.mask_pii, want.mask_pii);
  EXPECT_EQ(got.params_json, want.params_json);
  EXPECT_EQ(got.queue, want.queue);
  EXPECT_EQ(got.priority, want.priority);
  EXPECT_EQ(got.deadline, want.deadline);
  EXPECT_EQ(got.run_at, want.run_at);
  EXPECT_EQ(got.max_attempts, want.max_attempts);
  EXPECT_EQ(got.cost_limit_usd, want.cost_limit_usd);
  EXPECT_EQ(got.dedup_key, want.dedup_key);
  EXPECT_EQ(got.webhook_url, want.webhook_url);
  EXPECT_EQ(got.metadata_json, want.metadata_json);
}

void ExpectSameJob(const Job& want, const Job& got) {
  EXPECT_EQ(got.id, want.id);
  ExpectSameSpec(want.spec, got.spec);
  EXPECT_EQ(got.status, want.status);
  EXPECT_EQ(got.attempt, want.attempt);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.started_at, want.started_at);
  EXPECT_EQ(got.finished_at, want.finished_at);
  EXPECT_DOUBLE_EQ(got.cost_usd, want.cost_usd);
  EXPECT_EQ(got.error.has_value(), want.error.has_value());
  if (got.error && want.error) {
    EXPECT_EQ(got.error->code, want.error->code);
    EXPECT_EQ(got.error->message, want.error->message);
  }
  EXPECT_EQ(got.next_attempt_at, want.next_attempt_at);
  EXPECT_EQ(got.lease_owner, want.lease_owner);
  EXPECT_EQ(got.lease_until, want.lease_until);
  EXPECT_EQ(got.blocked_reason, want.blocked_reason);
}

std::vector<std::string> EventTypes(const std::vector<JobEvent>& events) {
  std::vector<std::string> types;
  for (const JobEvent& e : events) types.push_back(e.type);
  return types;
}

}  // namespace

void StoreContractTest::SetUp() {
  std::string pattern = testing::TempDir() + "sluice-store-XXXXXX";
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  dir_ = pattern;
  store_ = GetParam().open(dir_);
  ASSERT_NE(store_, nullptr);
}

void StoreContractTest::TearDown() {
  store_.reset();
  std::filesystem::remove_all(dir_);
}

void StoreContractTest::Reopen() {
  store_.reset();
  store_ = GetParam().open(dir_);
  ASSERT_NE(store_, nullptr);
}

Job StoreContractTest::Submit(const Job& job) {
  auto outcomes = ValueOf(store_->submit_jobs(std::span(&job, 1)));
  if (outcomes.size() != 1) {
    ADD_FAILURE() << "submit returned " << outcomes.size() << " outcomes";
    return {};
  }
  return outcomes[0].job;
}

std::vector<Job> StoreContractTest::Claim(int limit, Millis now, const std::string& owner,
                                          const std::string& queue, Millis lease_for) {
  return ValueOf(store_->claim_jobs(ClaimRequest{
      .queue = queue, .limit = limit, .owner = owner, .now = now, .lease_until = now + lease_for}));
}

Status StoreContractTest::Finish(const AttemptFinish& item) {
  auto outcomes = ValueOf(store_->finish_attempts(std::span(&item, 1)));
  if (outcomes.size() != 1) return Internal("finish returned no outcome");
  return outcomes[0];
}

Job StoreContractTest::Get(const std::string& id, const std::string& tenant) {
  return ValueOf(store_->get_job(tenant, id));
}

AttemptFinish StoreContractTest::FinishOf(const Job& job, AttemptOutcome outcome, Millis now) {
  return AttemptFinish{.job_id = job.id,
                       .attempt = job.attempt,
                       .lease_owner = job.lease_owner,
                       .outcome = outcome,
                       .now = now,
                       .result_json = outcome == AttemptOutcome::kDone ? R"({"label":"ok"})" : ""};
}

namespace {

// --- submit and read back ---

TEST_P(StoreContractTest, SubmitThenGetRoundTripsEveryField) {
  Job job;
  job.id = "job_roundtrip";
  job.created_at = kT0;
  JobSpec& s = job.spec;
  s.tenant = "acme";
  s.type = "classify";
  s.input_json = R"({"text":"héllo \"quoted\" \\ 日本"})";
  s.object_id = "ticket-84521";
  s.source = "zendesk";
  s.prompt_version = "v2";
  s.response_schema = "ticket_class_v1";
  s.model = "fast";
  s.allow_fallback = false;  // not the default, so a dropped field shows
  s.mask_pii = true;
  s.params_json = R"({"temperature":0})";
  s.queue = "urgent";
  s.priority = 7;
  s.deadline = kT0 + 60'000;
  s.run_at = kT0 + 10;
  s.max_attempts = 4;
  s.cost_limit_usd = 0.25;
  s.dedup_key = "ticket-84521-classify-v2";
  s.webhook_url = "https://example.test/hook";
  s.metadata_json = R"({"a":1})";

  Job submitted = Submit(job);
  ExpectSameJob(job, submitted);
  ExpectSameJob(job, Get("job_roundtrip", "acme"));

  // Absent optionals stay absent; defaults stay defaults.
  Job bare = NewJob("job_bare");
  ASSERT_FALSE(bare.spec.deadline.has_value());
  ASSERT_TRUE(bare.spec.allow_fallback);
  Submit(bare);
  Job got = Get("job_bare");
  EXPECT_FALSE(got.spec.deadline.has_value());
  EXPECT_FALSE(got.spec.cost_limit_usd.has_value());
  EXPECT_FALSE(got.error.has_value());
  EXPECT_FALSE(got.started_at.has_value());
  EXPECT_TRUE(got.spec.allow_fallback);
}

// The spec read back by list and claim is the same as by get (allow_fallback both ways).
TEST_P(StoreContractTest, ListAndClaimCarryTheSpec) {
  Job pinned = NewJob("job_a_pinned", /*priority=*/9);
  pinned.spec.model = "fast";
  pinned.spec.allow_fallback = false;
  Job open = NewJob("job_b_open", /*priority=*/1);
  open.spec.model = "fast";
  Submit(pinned);
  Submit(open);

  JobPage page = ValueOf(store_->list_jobs(JobFilter{.tenant = kDefaultTenant}));
  ASSERT_EQ(page.jobs.size(), 2u);
  ExpectSameSpec(open.spec, page.jobs[0].spec);  // newest id first
  ExpectSameSpec(pinned.spec, page.jobs[1].spec);

  std::vector<Job> claimed = Claim(2, kT0);
  ASSERT_THAT(Ids(claimed), ElementsAre("job_a_pinned", "job_b_open"));
  ExpectSameSpec(pinned.spec, claimed[0].spec);
  ExpectSameSpec(open.spec, claimed[1].spec);
}

TEST_P(StoreContractTest, SubmitStoresAFreshJobWhateverStateItCarries) {
  Job job = NewJob("job_fresh");
  job.status = JobStatus::kDone;
  job.attempt = 3;
  job.cost_usd = 1.5;
  job.lease_owner = "someone";
  job.lease_until = kT0 + 5;
  job.error = JobError{"x", "y"};
  Job got = Submit(job);
  EXPECT_EQ(got.status, JobStatus::kQueued);
  EXPECT_EQ(got.attempt, 0);
  EXPECT_EQ(got.cost_usd, 0);
  EXPECT_EQ(got.lease_owner, "");
  EXPECT_FALSE(got.error.has_value());
  ExpectSameJob(got, Get("job_fresh"));
}

TEST_P(StoreContractTest, GetIsScopedToTheTenant) {
  Job job = NewJob("job_t");
  job.spec.tenant = "acme";
  Submit(job);
  EXPECT_EQ(store_->get_job("other", "job_t").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->get_job("acme", "job_missing").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->get_job("acme", "job_t").ok());
}

TEST_P(StoreContractTest, SubmitIsAllOrNothing) {
  std::vector<Job> batch = {NewJob("job_ok"), NewJob("")};
  EXPECT_EQ(store_->submit_jobs(batch).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->get_job(kDefaultTenant, "job_ok").status().code(), StatusCode::kNotFound);

  Submit(NewJob("job_taken"));
  std::vector<Job> reuse = {NewJob("job_new"), NewJob("job_taken")};
  EXPECT_FALSE(store_->submit_jobs(reuse).ok());
  EXPECT_EQ(store_->get_job(kDefaultTenant, "job_new").status().code(), StatusCode::kNotFound);
}

// --- dedup ---

TEST_P(StoreContractTest, DedupKeyReturnsTheExistingJob) {
  Job first = NewJob("job_first");
  first.spec.dedup_key = "k1";
  Submit(first);
  Job second = NewJob("job_second");
  second.spec.dedup_key = "k1";
  auto outcomes = ValueOf(store_->submit_jobs(std::span(&second, 1)));
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].deduplicated);
  EXPECT_EQ(outcomes[0].job.id, "job_first");
  EXPECT_EQ(store_->get_job(kDefaultTenant, "job_second").status().code(), StatusCode::kNotFound);
  // Also once the first has finished: one key, one job, one result.
  Job claimed = Claim(1, kT0).at(0);
  ASSERT_TRUE(Finish(FinishOf(claimed, AttemptOutcome::kDone, kT0 + 1)).ok());
  outcomes = ValueOf(store_->submit_jobs(std::span(&second, 1)));
  EXPECT_TRUE(outcomes.at(0).deduplicated);
  EXPECT_EQ(outcomes.at(0).job.status, JobStatus::kDone);
}

TEST_P(StoreContractTest, DedupAppliesWithinOneBatch) {
  std::vector<Job> batch = {NewJob("job_a"), NewJob("job_b"), NewJob("job_c")};
  batch[0].spec.dedup_key = "same";
  batch[1].spec.dedup_key = "same";
  auto outcomes = ValueOf(store_->submit_jobs(batch));
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_FALSE(outcomes[0].deduplicated);
  EXPECT_TRUE(outcomes[1].deduplicated);
  EXPECT_EQ(outcomes[1].job.id, "job_a");
  EXPECT_FALSE(outcomes[2].deduplicated);
  EXPECT_EQ(outcomes[2].job.id, "job_c");
  EXPECT_EQ(ValueOf(store_->list_jobs(JobFilter{})).jobs.size(), 2u);
}

TEST_P(StoreContractTest, DedupIsPerTenantAndSkipsEmptyKeys) {
  Job a = NewJob("job_a");
  a.spec.tenant = "t1";
  a.spec.dedup_key = "k";
  Job b = NewJob("job_b");
  b.spec.tenant = "t2";
  b.spec.dedup_key = "k";
  std::vector<Job> batch = {a, b, NewJob("job_c"), NewJob("job_d")};
  auto outcomes = ValueOf(store_->submit_jobs(batch));
  ASSERT_EQ(outcomes.size(), 4u);
  for (const SubmitOutcome& o : outcomes) EXPECT_FALSE(o.deduplicated) << o.job.id;
  EXPECT_TRUE(store_->get_job("t2", "job_b").ok());
  EXPECT_TRUE(store_->get_job(kDefaultTenant, "job_d").ok());
}

// --- claim ---

TEST_P(StoreContractTest, ClaimTakesHighestPriorityThenEarliestDueThenId) {
  std::vector<Job> batch = {NewJob("job_a", 5, kT0 + 3), NewJob("job_b", 5, kT0 + 1),
                            NewJob("job_c", 9, kT0 + 5), NewJob("job_d", 5, kT0 + 1),
                            NewJob("job_e", 1, kT0)};
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  std::vector<Job> claimed = Claim(10, kT0 + 10, "node-a");
  EXPECT_THAT(Ids(claimed), ElementsAre("job_c", "job_b", "job_d", "job_a", "job_e"));
  for (const Job& job : claimed) {
    EXPECT_EQ(job.status, JobStatus::kRunning);
    EXPECT_EQ(job.attempt, 1);
    EXPECT_EQ(job.lease_owner, "node-a");
    EXPECT_EQ(job.lease_until, kT0 + 10 + 30'000);
    EXPECT_EQ(job.started_at, kT0 + 10);
    ExpectSameJob(job, Get(job.id));
  }
}

TEST_P(StoreContractTest, ClaimHonoursLimitAndQueue) {
  std::vector<Job> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(NewJob("job_q1_" + std::to_string(i), 5, kT0, "q1"));
  for (int i = 0; i < 2; ++i) batch.push_back(NewJob("job_q2_" + std::to_string(i), 5, kT0, "q2"));
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  EXPECT_THAT(Ids(Claim(3, kT0, "w", "q1")), ElementsAre("job_q1_0", "job_q1_1", "job_q1_2"));
  EXPECT_THAT(Ids(Claim(10, kT0, "w", "q1")), ElementsAre("job_q1_3", "job_q1_4"));
  EXPECT_TRUE(Claim(10, kT0, "w", "q1").empty());
  EXPECT_TRUE(Claim(0, kT0, "w", "q2").empty());
  EXPECT_EQ(Get("job_q2_0").status, JobStatus::kQueued);
  EXPECT_EQ(Claim(10, kT0, "w", "q2").size(), 2u);
}

TEST_P(StoreContractTest, ClaimWaitsForRunAt) {
  Submit(NewJob("job_later", 5, kT0 + 100));
  EXPECT_TRUE(Claim(10, kT0 + 99).empty());
  EXPECT_EQ(Get("job_later").status, JobStatus::kQueued);
  EXPECT_THAT(Ids(Claim(10, kT0 + 100)), ElementsAre("job_later"));
}

TEST_P(StoreContractTest, ClaimPassesOverFutureHigherPriorityJobs) {
  std::vector<Job> batch;
  for (int i = 0; i < 20; ++i) batch.push_back(NewJob("job_f" + std::to_string(i), 9, kT0 + 1000));
  batch.push_back(NewJob("job_now", 2, kT0));
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  EXPECT_THAT(Ids(Claim(5, kT0)), ElementsAre("job_now"));
}

TEST_P(StoreContractTest, ClaimSkipsJobsWhoseDeadlinePassed) {
  Job passed = NewJob("job_passed");
  passed.spec.deadline = kT0 + 5;
  Job open = NewJob("job_open");
  open.spec.deadline = kT0 + 6;
  std::vector<Job> batch = {passed, open};
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  EXPECT_THAT(Ids(Claim(10, kT0 + 5)), ElementsAre("job_open"));
  EXPECT_EQ(Get("job_passed").status, JobStatus::kQueued);  // expiry is expire_overdue's job
}

TEST_P(StoreContractTest, ClaimNeedsAnOwner) {
  Submit(NewJob("job_a"));
  auto claimed = store_->claim_jobs(ClaimRequest{.queue = "default", .limit = 1, .now = kT0});
  EXPECT_EQ(claimed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Get("job_a").status, JobStatus::kQueued);
}

// --- finish ---

TEST_P(StoreContractTest, FinishIsACompareAndSetOnAttemptAndLeaseOwner) {
  Submit(NewJob("job_a"));
  Job running = Claim(1, kT0).at(0);

  AttemptFinish wrong_owner = FinishOf(running, AttemptOutcome::kDone, kT0 + 1);
  wrong_owner.lease_owner = "node-zombie";
  wrong_owner.attempt_json = R"({"n":1})";
  wrong_owner.cost_usd = 0.5;
  EXPECT_EQ(Finish(wrong_owner).code(), StatusCode::kAborted);
  AttemptFinish wrong_attempt = FinishOf(running, AttemptOutcome::kFailed, kT0 + 1);
  wrong_attempt.attempt = 2;
  EXPECT_EQ(Finish(wrong_attempt).code(), StatusCode::kAborted);
  AttemptFinish unknown = FinishOf(running, AttemptOutcome::kDone, kT0 + 1);
  unknown.job_id = "job_missing";
  EXPECT_EQ(Finish(unknown).code(), StatusCode::kAborted);

  ExpectSameJob(running, Get("job_a"));  // nothing changed
  EXPECT_EQ(store_->get_result(kDefaultTenant, "job_a").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(ValueOf(store_->get_attempts(kDefaultTenant, "job_a")).empty());

  EXPECT_TRUE(Finish(FinishOf(running, AttemptOutcome::kDone, kT0 + 1)).ok());
  // The same attempt cannot finish twice.
  EXPECT_EQ(Finish(FinishOf(running, AttemptOutcome::kFailed, kT0 + 2)).code(),
            StatusCode::kAborted);
  EXPECT_EQ(Get("job_a").status, JobStatus::kDone);
}

TEST_P(StoreContractTest, FinishDoneStoresResultAttemptAndCost) {
  Submit(NewJob("job_a"));
  Job running = Claim(1, kT0).at(0);
  AttemptFinish done = FinishOf(running, AttemptOutcome::kDone, kT0 + 50);
  done.result_json = R"({"label":"billing"})";
  done.attempt_json = R"({"n":1,"model":"m"})";
  done.cost_usd = 0.002;
  ASSERT_TRUE(Finish(done).ok());

  Job job = Get("job_a");
  EXPECT_EQ(job.status, JobStatus::kDone);
  EXPECT_EQ(job.finished_at, kT0 + 50);
  EXPECT_EQ(job.lease_owner, "");
  EXPECT_EQ(job.lease_until, 0);
  EXPECT_DOUBLE_EQ(job.cost_usd, 0.002);
  EXPECT_FALSE(job.error.has_value());
  EXPECT_EQ(ValueOf(store_->get_result(kDefaultTenant, "job_a")), R"({"label":"billing"})");
  EXPECT_THAT(ValueOf(store_->get_attempts(kDefaultTenant, "job_a")),
              ElementsAre(R"({"n":1,"model":"m"})"));
  EXPECT_EQ(store_->get_result("other", "job_a").status().code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, FinishDoneNeedsAResult) {
  Submit(NewJob("job_a"));
  Job running = Claim(1, kT0).at(0);
  AttemptFinish done = FinishOf(running, AttemptOutcome::kDone, kT0 + 1);
  done.result_json.clear();
  EXPECT_EQ(Finish(done).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Get("job_a").status, JobStatus::kRunning);
}

TEST_P(StoreContractTest, RetryRequeuesUntilRetryAtAndKeepsTheError) {
  Submit(NewJob("job_a"));
  Job running = Claim(1, kT0).at(0);
  AttemptFinish retry = FinishOf(running, AttemptOutcome::kRetry, kT0 + 10);
  retry.retry_at = kT0 + 1000;
  retry.error = JobError{"provider_503", "upstream unavailable"};
  retry.attempt_json = R"({"n":1})";
  retry.cost_usd = 0.1;
  ASSERT_TRUE(Finish(retry).ok());

  Job queued = Get("job_a");
  EXPECT_EQ(queued.status, JobStatus::kQueued);
  EXPECT_EQ(queued.attempt, 1);
  EXPECT_EQ(queued.next_attempt_at, kT0 + 1000);
  ASSERT_TRUE(queued.error.has_value());
  EXPECT_EQ(queued.error->code, "provider_503");
  EXPECT_EQ(queued.error->message, "upstream unavailable");
  EXPECT_EQ(queued.lease_owner, "");
  EXPECT_FALSE(queued.finished_at.has_value());

  EXPECT_TRUE(Claim(1, kT0 + 999).empty());
  Job second = Claim(1, kT0 + 1000, "node-b").at(0);
  EXPECT_EQ(second.attempt, 2);
  EXPECT_EQ(second.started_at, kT0);  // the first start stays
  EXPECT_FALSE(second.next_attempt_at.has_value());

  AttemptFinish done = FinishOf(second, AttemptOutcome::kDone, kT0 + 1100);
  done.attempt_json = R"({"n":2})";
  done.cost_usd = 0.2;
  ASSERT_TRUE(Finish(done).ok());
  Job finished = Get("job_a");
  EXPECT_NEAR(finished.cost_usd, 0.3, 1e-12);
  EXPECT_FALSE(finished.error.has_value());
  EXPECT_THAT(ValueOf(store_->get_attempts(kDefaultTenant, "job_a")),
              ElementsAre(R"({"n":1})", R"({"n":2})"));
}

TEST_P(StoreContractTest, RetryNeverMakesAJobDueBeforeItsRunAt) {
  Submit(NewJob("job_a", 5, kT0 + 500));
  Job running = Claim(1, kT0 + 500).at(0);
  AttemptFinish retry = FinishOf(running, AttemptOutcome::kRetry, kT0 + 501);
  retry.retry_at = kT0 + 600;
  ASSERT_TRUE(Finish(retry).ok());
  EXPECT_TRUE(Claim(1, kT0 + 599).empty());
  EXPECT_EQ(Claim(1, kT0 + 600).size(), 1u);
}

TEST_P(StoreContractTest, FailedAndExpiredAreTerminalWithTheirError) {
  std::vector<Job> batch = {NewJob("job_f"), NewJob("job_x")};
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  std::vector<Job> running = Claim(2, kT0);
  ASSERT_EQ(running.size(), 2u);
  AttemptFinish failed = FinishOf(running[0], AttemptOutcome::kFailed, kT0 + 7);
  failed.error = JobError{"invalid_output", "schema mismatch"};
  AttemptFinish expired = FinishOf(running[1], AttemptOutcome::kExpired, kT0 + 8);
  expired.error = JobError{"deadline_exceeded", "the deadline passed mid-call"};
  std::vector<AttemptFinish> items = {failed, expired};
  std::vector<Status> outcomes = ValueOf(store_->finish_attempts(items));
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_TRUE(outcomes[0].ok());
  EXPECT_TRUE(outcomes[1].ok());

  Job f = Get("job_f");
  EXPECT_EQ(f.status, JobStatus::kFailed);
  EXPECT_EQ(f.finished_at, kT0 + 7);
  ASSERT_TRUE(f.error.has_value());
  EXPECT_EQ(f.error->code, "invalid_output");
  EXPECT_EQ(f.lease_owner, "");
  Job x = Get("job_x");
  EXPECT_EQ(x.status, JobStatus::kExpired);
  EXPECT_EQ(x.finished_at, kT0 + 8);
  ASSERT_TRUE(x.error.has_value());
  EXPECT_EQ(x.error->code, "deadline_exceeded");
  EXPECT_EQ(store_->get_result(kDefaultTenant, "job_f").status().code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, ReviewKeepsTheResultAndWaits) {
  Submit(NewJob("job_r"));
  Job running = Claim(1, kT0).at(0);
  AttemptFinish review = FinishOf(running, AttemptOutcome::kReview, kT0 + 9);
  review.result_json = R"({"label":"maybe"})";
  review.error = JobError{"low_confidence", "confidence 0.41 < 0.7"};
  ASSERT_TRUE(Finish(review).ok());
  Job job = Get("job_r");
  EXPECT_EQ(job.status, JobStatus::kReview);
  EXPECT_FALSE(job.finished_at.has_value());
  ASSERT_TRUE(job.error.has_value());
  EXPECT_EQ(job.error->code, "low_confidence");
  EXPECT_EQ(ValueOf(store_->get_result(kDefaultTenant, "job_r")), R"({"label":"maybe"})");
}

TEST_P(StoreContractTest, OneFinishCallAppliesEachItemOnItsOwn) {
  std::vector<Job> batch = {NewJob("job_a"), NewJob("job_b")};
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  std::vector<Job> running = Claim(2, kT0);
  ASSERT_EQ(running.size(), 2u);
  AttemptFinish stale = FinishOf(running[1], AttemptOutcome::kDone, kT0 + 1);
  stale.attempt = 7;
  std::vector<AttemptFinish> items = {FinishOf(running[0], AttemptOutcome::kDone, kT0 + 1), stale};
  std::vector<Status> outcomes = ValueOf(store_->finish_attempts(items));
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_TRUE(outcomes[0].ok());
  EXPECT_EQ(outcomes[1].code(), StatusCode::kAborted);
  EXPECT_EQ(Get("job_a").status, JobStatus::kDone);
  EXPECT_EQ(Get("job_b").status, JobStatus::kRunning);
}

// --- leases ---

TEST_P(StoreContractTest, RenewExtendsOnlyTheOwnersRunningLeases) {
  std::vector<Job> batch = {NewJob("job_a"), NewJob("job_b"), NewJob("job_c"), NewJob("job_d")};
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  std::vector<Job> mine = Claim(3, kT0, "node-a");
  std::vector<Job> theirs = Claim(1, kT0, "node-b");
  ASSERT_EQ(mine.size(), 3u);
  ASSERT_TRUE(Finish(FinishOf(mine[2], AttemptOutcome::kDone, kT0 + 1)).ok());

  EXPECT_EQ(ValueOf(store_->renew_leases("node-a", kT0 + 90'000)), 2);
  EXPECT_EQ(Get("job_a").lease_until, kT0 + 90'000);
  EXPECT_EQ(Get("job_b").lease_until, kT0 + 90'000);
  EXPECT_EQ(Get("job_c").lease_until, 0);  // finished: no lease to renew
  EXPECT_EQ(Get("job_d").lease_until, theirs.at(0).lease_until);
  EXPECT_EQ(ValueOf(store_->renew_leases("node-nobody", kT0 + 90'000)), 0);
}

TEST_P(StoreContractTest, ReleaseRequeuesWithoutCountingTheAttempt) {
  std::vector<Job> batch = {NewJob("job_a"), NewJob("job_b")};
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  Claim(1, kT0, "node-a");
  Claim(1, kT0, "node-b");
  EXPECT_EQ(ValueOf(store_->release_leases("node-a", kT0 + 5)), 1);

  Job released = Get("job_a");
  EXPECT_EQ(released.status, JobStatus::kQueued);
  EXPECT_EQ(released.attempt, 0);
  EXPECT_EQ(released.lease_owner, "");
  EXPECT_EQ(released.lease_until, 0);
  EXPECT_EQ(Get("job_b").status, JobStatus::kRunning);

  Job again = Claim(1, kT0 + 6, "node-c").at(0);
  EXPECT_EQ(again.id, "job_a");
  EXPECT_EQ(again.attempt, 1);
}

TEST_P(StoreContractTest, ReapRequeuesOnlyRunningJobsWhoseLeaseEnded) {
  // Ids in claim order (same priority and due: by id).
  std::vector<Job> batch = {NewJob("job_1dead"), NewJob("job_2alive"), NewJob("job_3done"),
                            NewJob("job_4edge"), NewJob("job_5queued")};
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  Claim(1, kT0, "node-dead", "default", 100);      // job_1dead: lease until kT0+100
  Claim(1, kT0, "node-alive", "default", 10'000);  // job_2alive
  Job done = Claim(1, kT0, "node-x", "default", 100).at(0);
  ASSERT_TRUE(Finish(FinishOf(done, AttemptOutcome::kDone, kT0 + 1)).ok());
  Claim(1, kT0, "node-edge", "default", 500);  // job_4edge: lease until exactly kT0+500

  std::vector<Job> reaped = ValueOf(store_->reap_expired_leases(kT0 + 500));
  EXPECT_THAT(Ids(reaped), ElementsAre("job_1dead"));
  ASSERT_EQ(reaped.size(), 1u);
  EXPECT_EQ(reaped[0].status, JobStatus::kQueued);
  EXPECT_EQ(reaped[0].attempt, 1);  // the lost attempt counts
  EXPECT_EQ(reaped[0].lease_owner, "");
  ExpectSameJob(reaped[0], Get("job_1dead"));

  EXPECT_EQ(Get("job_2alive").status, JobStatus::kRunning);
  EXPECT_EQ(Get("job_4edge").status, JobStatus::kRunning);
  EXPECT_EQ(Get("job_3done").status, JobStatus::kDone);
  EXPECT_EQ(Get("job_5queued").status, JobStatus::kQueued);
  // Long after: still never touches the finished or queued ones.
  std::vector<Job> later = ValueOf(store_->reap_expired_leases(kT0 + 1'000'000));
  EXPECT_THAT(Ids(later), ElementsAre("job_2alive", "job_4edge"));
  EXPECT_EQ(Get("job_3done").status, JobStatus::kDone);
  EXPECT_EQ(Get("job_5queued").attempt, 0);
}

TEST_P(StoreContractTest, ReapFailsAJobWithNoAttemptLeft) {
  Job job = NewJob("job_a");
  job.spec.max_attempts = 2;
  Submit(job);
  Claim(1, kT0, "w1", "default", 10);
  ASSERT_EQ(ValueOf(store_->reap_expired_leases(kT0 + 20)).size(), 1u);
  Claim(1, kT0 + 30, "w2", "default", 10);
  std::vector<Job> reaped = ValueOf(store_->reap_expired_leases(kT0 + 50));
  ASSERT_EQ(reaped.size(), 1u);
  EXPECT_EQ(reaped[0].status, JobStatus::kFailed);
  EXPECT_EQ(reaped[0].attempt, 2);
  EXPECT_EQ(reaped[0].finished_at, kT0 + 50);
  ASSERT_TRUE(reaped[0].error.has_value());
  EXPECT_EQ(reaped[0].error->code, "lease_expired");
  ExpectSameJob(reaped[0], Get("job_a"));
}

TEST_P(StoreContractTest, AZombieWorkerCannotFinishAReapedAttempt) {
  Submit(NewJob("job_a"));
  Job zombie = Claim(1, kT0, "node-old", "default", 10).at(0);
  ASSERT_EQ(ValueOf(store_->reap_expired_leases(kT0 + 20)).size(), 1u);
  Job fresh = Claim(1, kT0 + 30, "node-new").at(0);
  EXPECT_EQ(Finish(FinishOf(zombie, AttemptOutcome::kDone, kT0 + 40)).code(), StatusCode::kAborted);
  EXPECT_TRUE(Finish(FinishOf(fresh, AttemptOutcome::kDone, kT0 + 41)).ok());
}

// --- expiry and cancel ---

TEST_P(StoreContractTest, ExpireOverdueExpiresOnlyQueuedJobsPastTheirDeadline) {
  Job due = NewJob("job_due");
  due.spec.deadline = kT0 + 10;
  Job later = NewJob("job_later");
  later.spec.deadline = kT0 + 11;
  Job none = NewJob("job_none");
  Job running = NewJob("job_running", 9);
  running.spec.deadline = kT0 + 5;
  std::vector<Job> batch = {due, later, none, running};
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  ASSERT_THAT(Ids(Claim(1, kT0)), ElementsAre("job_running"));

  std::vector<Job> expired = ValueOf(store_->expire_overdue(kT0 + 10));
  EXPECT_THAT(Ids(expired), ElementsAre("job_due"));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].status, JobStatus::kExpired);
  EXPECT_EQ(expired[0].finished_at, kT0 + 10);
  ASSERT_TRUE(expired[0].error.has_value());
  EXPECT_EQ(expired[0].error->code, "deadline_exceeded");
  ExpectSameJob(expired[0], Get("job_due"));
  EXPECT_EQ(Get("job_later").status, JobStatus::kQueued);
  EXPECT_EQ(Get("job_none").status, JobStatus::kQueued);
  EXPECT_EQ(Get("job_running").status, JobStatus::kRunning);
  EXPECT_TRUE(ValueOf(store_->expire_overdue(kT0 + 10)).empty());
}

TEST_P(StoreContractTest, CancelEndsQueuedRunningAndReviewJobs) {
  std::vector<Job> batch = {NewJob("job_q"), NewJob("job_run", 9), NewJob("job_rev", 8)};
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  std::vector<Job> running = Claim(2, kT0);
  ASSERT_THAT(Ids(running), ElementsAre("job_run", "job_rev"));
  ASSERT_TRUE(Finish(FinishOf(running[1], AttemptOutcome::kReview, kT0 + 1)).ok());

  for (const char* id : {"job_q", "job_run", "job_rev"}) {
    Job canceled = ValueOf(store_->cancel_job(kDefaultTenant, id, kT0 + 2));
    EXPECT_EQ(canceled.status, JobStatus::kCanceled) << id;
    EXPECT_EQ(canceled.finished_at, kT0 + 2) << id;
    EXPECT_EQ(canceled.lease_owner, "") << id;
    ExpectSameJob(canceled, Get(id));
  }
  // The worker of the canceled running job finds its lease gone.
  EXPECT_EQ(Finish(FinishOf(running[0], AttemptOutcome::kDone, kT0 + 3)).code(),
            StatusCode::kAborted);
  EXPECT_EQ(Get("job_run").status, JobStatus::kCanceled);
  EXPECT_TRUE(ValueOf(store_->reap_expired_leases(kT0 + 1'000'000)).empty());
}

TEST_P(StoreContractTest, CancelRefusesTerminalAndUnknownJobs) {
  Job job = NewJob("job_a");
  job.spec.tenant = "acme";
  Submit(job);
  EXPECT_EQ(store_->cancel_job("other", "job_a", kT0).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->cancel_job("acme", "job_missing", kT0).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->cancel_job("acme", "job_a", kT0).ok());
  Status again = store_->cancel_job("acme", "job_a", kT0 + 1).status();
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Get("job_a", "acme").finished_at, kT0);

  Submit(NewJob("job_done"));
  Job running = Claim(1, kT0).at(0);
  ASSERT_TRUE(Finish(FinishOf(running, AttemptOutcome::kDone, kT0 + 1)).ok());
  EXPECT_EQ(store_->cancel_job(kDefaultTenant, "job_done", kT0 + 2).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(Get("job_done").status, JobStatus::kDone);
}

// --- listing ---

// --- review decisions ---

TEST_P(StoreContractTest, ReviewApproveFinishesTheJobWithTheHumanResult) {
  Submit(NewJob("job_ra"));
  Job running = Claim(1, kT0).at(0);
  AttemptFinish review = FinishOf(running, AttemptOutcome::kReview, kT0 + 1);
  review.result_json = R"({"label":"maybe"})";
  review.error = JobError{"low_confidence", "confidence 0.41 < 0.7"};
  review.cost_usd = 0.25;
  ASSERT_TRUE(Finish(review).ok());

  Job job = ValueOf(store_->review_job({.id = "job_ra",
                                        .kind = ReviewAction::kApprove,
                                        .result_json = R"({"label":"human"})",
                                        .now = kT0 + 50}));
  EXPECT_EQ(job.status, JobStatus::kDone);
  EXPECT_EQ(job.finished_at, kT0 + 50);
  EXPECT_FALSE(job.error.has_value());
  EXPECT_DOUBLE_EQ(job.cost_usd, 0.25);
  ExpectSameJob(job, Get("job_ra"));
  EXPECT_EQ(ValueOf(store_->get_result(kDefaultTenant, "job_ra")), R"({"label":"human"})");
  std::vector<JobEvent> events = ValueOf(store_->job_events(kDefaultTenant, "job_ra"));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().type, "review_approved");
  EXPECT_EQ(events.back().at, kT0 + 50);
  EXPECT_EQ(events.back().data_json, R"({"action":"approve"})");
}

TEST_P(StoreContractTest, ReviewApproveNeedsAResult) {
  Submit(NewJob("job_rn"));
  ASSERT_TRUE(Finish(FinishOf(Claim(1, kT0).at(0), AttemptOutcome::kReview, kT0 + 1)).ok());
  auto job = store_->review_job({.id = "job_rn", .kind = ReviewAction::kApprove, .now = kT0 + 2});
  EXPECT_EQ(job.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Get("job_rn").status, JobStatus::kReview);
}

TEST_P(StoreContractTest, ReviewRejectFailsTheJobWithTheReason) {
  Submit(NewJob("job_rr"));
  ASSERT_TRUE(Finish(FinishOf(Claim(1, kT0).at(0), AttemptOutcome::kReview, kT0 + 1)).ok());
  Job job = ValueOf(store_->review_job({.id = "job_rr",
                                        .kind = ReviewAction::kReject,
                                        .reason = "the ticket is spam",
                                        .now = kT0 + 60}));
  EXPECT_EQ(job.status, JobStatus::kFailed);
  EXPECT_EQ(job.finished_at, kT0 + 60);
  ASSERT_TRUE(job.error.has_value());
  EXPECT_EQ(job.error->code, "rejected");
  EXPECT_EQ(job.error->message, "the ticket is spam");
  ExpectSameJob(job, Get("job_rr"));
  std::vector<JobEvent> events = ValueOf(store_->job_events(kDefaultTenant, "job_rr"));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().type, "review_rejected");
  EXPECT_EQ(events.back().data_json, R"({"action":"reject","reason":"the ticket is spam"})");
}

TEST_P(StoreContractTest, ReviewRetryRequeuesDueNowWithAnAttemptLeftAndThePinnedModel) {
  Job fresh = NewJob("job_rt");
  fresh.spec.max_attempts = 1;
  fresh.spec.model = "fast";
  Submit(fresh);
  Job running = Claim(1, kT0).at(0);
  ASSERT_TRUE(Finish(FinishOf(running, AttemptOutcome::kReview, kT0 + 1)).ok());

  Job job = ValueOf(store_->review_job({.id = "job_rt",
                                        .kind = ReviewAction::kRetry,
                                        .model = "strong",
                                        .now = kT0 + 70}));
  EXPECT_EQ(job.status, JobStatus::kQueued);
  EXPECT_EQ(job.attempt, 1);
  EXPECT_EQ(job.spec.max_attempts, 2);
  EXPECT_EQ(job.spec.model, "strong");
  EXPECT_FALSE(job.finished_at.has_value());
  ExpectSameJob(job, Get("job_rt"));
  EXPECT_TRUE(Claim(1, kT0 + 69).empty());  // due now, not before
  std::vector<Job> again = Claim(1, kT0 + 70);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].attempt, 2);
  EXPECT_EQ(again[0].spec.model, "strong");
  std::vector<JobEvent> events = ValueOf(store_->job_events(kDefaultTenant, "job_rt"));
  EXPECT_THAT(EventTypes(events),
              ElementsAre("submitted", "started", "review", "review_retry", "started"));
  EXPECT_EQ(events[3].data_json, R"({"action":"retry","model":"strong"})");
}

TEST_P(StoreContractTest, ReviewRetryKeepsTheModelAndALargerBudget) {
  Job fresh = NewJob("job_rk");
  fresh.spec.max_attempts = 5;
  fresh.spec.model = "fast";
  Submit(fresh);
  ASSERT_TRUE(Finish(FinishOf(Claim(1, kT0).at(0), AttemptOutcome::kReview, kT0 + 1)).ok());
  Job job = ValueOf(store_->review_job({.id = "job_rk", .kind = ReviewAction::kRetry, .now = kT0 + 2}));
  EXPECT_EQ(job.status, JobStatus::kQueued);
  EXPECT_EQ(job.spec.max_attempts, 5);
  EXPECT_EQ(job.spec.model, "fast");
}

TEST_P(StoreContractTest, ReviewRefusesJobsNotInReviewAndUnknownJobs) {
  Submit(NewJob("job_q"));
  Submit(NewJob("job_d", 1));
  Job done = Claim(1, kT0).at(0);
  ASSERT_EQ(done.id, "job_q");
  ASSERT_TRUE(Finish(FinishOf(done, AttemptOutcome::kDone, kT0 + 1)).ok());
  for (auto kind : {ReviewAction::kApprove, ReviewAction::kReject, ReviewAction::kRetry}) {
    for (const char* id : {"job_q", "job_d"}) {  // done, then queued
      auto job = store_->review_job(
          {.id = id, .kind = kind, .result_json = R"({"label":"x"})", .now = kT0 + 2});
      EXPECT_EQ(job.status().code(), StatusCode::kFailedPrecondition) << id;
    }
    auto unknown = store_->review_job(
        {.id = "job_none", .kind = kind, .result_json = R"({"label":"x"})", .now = kT0 + 2});
    EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  }
  EXPECT_EQ(Get("job_q").status, JobStatus::kDone);
  EXPECT_EQ(Get("job_d").status, JobStatus::kQueued);
  EXPECT_EQ(ValueOf(store_->get_result(kDefaultTenant, "job_q")), R"({"label":"ok"})");
  // A job in another tenant's review is unknown here.
  Job other = NewJob("job_t");
  other.spec.tenant = "acme";
  Submit(other);
  auto wrong = store_->review_job({.id = "job_t", .kind = ReviewAction::kRetry, .now = kT0 + 3});
  EXPECT_EQ(wrong.status().code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, ReviewDecisionsKeepTheQueueCountsExact) {
  std::vector<Job> batch;
  for (int i = 0; i < 4; ++i) batch.push_back(NewJob("job_c" + std::to_string(i)));
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  std::vector<Job> running = Claim(4, kT0);
  ASSERT_EQ(running.size(), 4u);
  for (const Job& job : running) {
    ASSERT_TRUE(Finish(FinishOf(job, AttemptOutcome::kReview, kT0 + 1)).ok());
  }
  ASSERT_TRUE(store_->review_job({.id = "job_c0", .kind = ReviewAction::kApprove,
                                  .result_json = R"({"label":"h"})", .now = kT0 + 2}).ok());
  ASSERT_TRUE(store_->review_job({.id = "job_c1", .kind = ReviewAction::kReject,
                                  .reason = "no", .now = kT0 + 2}).ok());
  ASSERT_TRUE(store_->review_job({.id = "job_c2", .kind = ReviewAction::kRetry, .now = kT0 + 2}).ok());
  EXPECT_FALSE(store_->review_job({.id = "job_c0", .kind = ReviewAction::kRetry, .now = kT0 + 3}).ok());

  std::vector<QueueStats> stats = ValueOf(store_->queue_stats());
  ASSERT_EQ(stats.size(), 1u);
  std::array<std::int64_t, 7> want{};
  want[static_cast<int>(JobStatus::kDone)] = 1;
  want[static_cast<int>(JobStatus::kFailed)] = 1;
  want[static_cast<int>(JobStatus::kQueued)] = 1;
  want[static_cast<int>(JobStatus::kReview)] = 1;
  EXPECT_EQ(stats[0].by_status, want);
}

TEST_P(StoreContractTest, ListFiltersAndPagesNewestFirst) {
  std::vector<Job> batch;
  for (int i = 1; i <= 5; ++i) {
    Job job = NewJob("job_0" + std::to_string(i));
    job.spec.type = i % 2 == 0 ? "summarize" : "classify";
    job.spec.queue = i <= 3 ? "default" : "batch";
    job.spec.object_id = i == 2 ? "ticket-2" : "";
    batch.push_back(job);
  }
  Job foreign = NewJob("job_06");
  foreign.spec.tenant = "other";
  batch.push_back(foreign);
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  Job running = Claim(1, kT0).at(0);  // job_01
  ASSERT_EQ(running.id, "job_01");

  auto list = [&](JobFilter filter) { return Ids(ValueOf(store_->list_jobs(filter)).jobs); };
  EXPECT_THAT(list({}), ElementsAre("job_05", "job_04", "job_03", "job_02", "job_01"));
  EXPECT_THAT(list({.tenant = "other"}), ElementsAre("job_06"));
  EXPECT_THAT(list({.status = JobStatus::kRunning}), ElementsAre("job_01"));
  EXPECT_THAT(list({.status = JobStatus::kQueued}),
              ElementsAre("job_05", "job_04", "job_03", "job_02"));
  EXPECT_THAT(list({.type = "summarize"}), ElementsAre("job_04", "job_02"));
  EXPECT_THAT(list({.queue = "batch"}), ElementsAre("job_05", "job_04"));
  EXPECT_THAT(list({.object_id = "ticket-2"}), ElementsAre("job_02"));
  EXPECT_THAT(list({.status = JobStatus::kQueued, .type = "classify", .queue = "default"}),
              ElementsAre("job_03"));
  EXPECT_TRUE(list({.type = "nothing"}).empty());

  JobPage page1 = ValueOf(store_->list_jobs({.limit = 2}));
  EXPECT_THAT(Ids(page1.jobs), ElementsAre("job_05", "job_04"));
  EXPECT_EQ(page1.next, "job_04");
  JobPage page2 = ValueOf(store_->list_jobs({.limit = 2, .after = page1.next}));
  EXPECT_THAT(Ids(page2.jobs), ElementsAre("job_03", "job_02"));
  EXPECT_EQ(page2.next, "job_02");
  JobPage page3 = ValueOf(store_->list_jobs({.limit = 2, .after = page2.next}));
  EXPECT_THAT(Ids(page3.jobs), ElementsAre("job_01"));
  EXPECT_EQ(page3.next, "");
  // A page that ends exactly at the last job has no next page.
  JobPage exact = ValueOf(store_->list_jobs({.limit = 5}));
  EXPECT_EQ(exact.jobs.size(), 5u);
  EXPECT_EQ(exact.next, "");
  // Paging with a filter.
  JobPage queued = ValueOf(store_->list_jobs({.status = JobStatus::kQueued, .limit = 3}));
  EXPECT_THAT(Ids(queued.jobs), ElementsAre("job_05", "job_04", "job_03"));
  EXPECT_THAT(list({.status = JobStatus::kQueued, .limit = 3, .after = queued.next}),
              ElementsAre("job_02"));
}

// --- history ---

TEST_P(StoreContractTest, EveryStateChangeLeavesAnEventOldestFirst) {
  Job job = NewJob("job_a");
  job.spec.tenant = "acme";
  Submit(job);
  Job first = Claim(1, kT0 + 1).at(0);
  AttemptFinish retry = FinishOf(first, AttemptOutcome::kRetry, kT0 + 2);
  retry.retry_at = kT0 + 3;
  retry.error = JobError{"timeout", "no answer in 30s"};
  ASSERT_TRUE(Finish(retry).ok());
  Job second = Claim(1, kT0 + 3).at(0);
  ASSERT_TRUE(Finish(FinishOf(second, AttemptOutcome::kDone, kT0 + 4)).ok());

  // The data of every event, exactly: both engines write the same bytes.
  std::vector<JobEvent> events = ValueOf(store_->job_events("acme", "job_a"));
  EXPECT_THAT(EventTypes(events), ElementsAre("submitted", "started", "retry", "started", "done"));
  ASSERT_EQ(events.size(), 5u);
  for (std::size_t i = 1; i < events.size(); ++i) EXPECT_GT(events[i].seq, events[i - 1].seq);
  EXPECT_EQ(events[0].at, kT0);
  EXPECT_EQ(events[1].at, kT0 + 1);
  EXPECT_EQ(events[4].at, kT0 + 4);
  EXPECT_EQ(events[0].data_json, R"({"queue":"default","priority":5})");
  EXPECT_EQ(events[1].data_json, R"({"attempt":1,"lease_owner":"node-a","lease_until":")" +
                                     FormatRfc3339(kT0 + 1 + 30'000) + R"("})");
  EXPECT_EQ(events[2].data_json,
            R"({"attempt":1,"error":{"code":"timeout","message":"no answer in 30s"},"retry_at":")" +
                FormatRfc3339(kT0 + 3) + R"("})");
  EXPECT_EQ(events[3].data_json, R"({"attempt":2,"lease_owner":"node-a","lease_until":")" +
                                     FormatRfc3339(kT0 + 3 + 30'000) + R"("})");
  EXPECT_EQ(events[4].data_json, R"({"attempt":2})");
  for (const JobEvent& e : events) EXPECT_EQ(e.job_id, "job_a");

  EXPECT_EQ(store_->job_events("other", "job_a").status().code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, LeaseExpiryReleaseExpiryAndCancelLeaveEvents) {
  Job lost = NewJob("job_lost");
  lost.spec.max_attempts = 1;
  Job released = NewJob("job_released");
  Job overdue = NewJob("job_overdue", 1);
  overdue.spec.deadline = kT0 + 1;
  Job canceled = NewJob("job_canceled", 1);
  std::vector<Job> batch = {lost, released, overdue, canceled};
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  Claim(1, kT0, "node-dead", "default", 10);
  Claim(1, kT0, "node-leaving");
  ASSERT_EQ(ValueOf(store_->reap_expired_leases(kT0 + 20)).size(), 1u);
  ASSERT_EQ(ValueOf(store_->release_leases("node-leaving", kT0 + 21)), 1);
  ASSERT_EQ(ValueOf(store_->expire_overdue(kT0 + 22)).size(), 1u);
  ASSERT_TRUE(store_->cancel_job(kDefaultTenant, "job_canceled", kT0 + 23).ok());

  auto types = [&](const char* id) {
    return EventTypes(ValueOf(store_->job_events(kDefaultTenant, id)));
  };
  EXPECT_THAT(types("job_lost"), ElementsAre("submitted", "started", "lease_expired", "failed"));
  EXPECT_THAT(types("job_released"), ElementsAre("submitted", "started", "released"));
  EXPECT_THAT(types("job_overdue"), ElementsAre("submitted", "expired"));
  EXPECT_THAT(types("job_canceled"), ElementsAre("submitted", "canceled"));
  // The data of each, exactly (both engines write the same bytes).
  auto data = [&](const char* id) {
    std::vector<std::string> out;
    for (const JobEvent& e : ValueOf(store_->job_events(kDefaultTenant, id))) {
      out.push_back(e.data_json);
    }
    return out;
  };
  EXPECT_THAT(data("job_lost"),
              ElementsAre(R"({"queue":"default","priority":5})", testing::_,
                          R"({"attempt":1,"next":"failed"})",
                          R"({"attempt":1,"error":{"code":"lease_expired","message":"the lease of )"
                          R"(attempt 1 expired and no attempt is left"}})"));
  EXPECT_THAT(data("job_released"),
              ElementsAre(testing::_, testing::_, R"({"attempt":1})"));
  EXPECT_THAT(data("job_overdue"),
              ElementsAre(R"({"queue":"default","priority":1})",
                          R"({"error":{"code":"deadline_exceeded","message":"the deadline )"
                          R"(passed before the job could run"}})"));
  EXPECT_THAT(data("job_canceled"), ElementsAre(testing::_, R"({"from":"queued"})"));
}

// --- stats, ping, durability ---

TEST_P(StoreContractTest, QueueStatsCountByStatusAndFindTheOldestQueued) {
  std::vector<Job> batch;
  for (int i = 0; i < 4; ++i) {
    Job job = NewJob("job_d" + std::to_string(i));
    job.created_at = kT0 + 10 * (i + 1);  // job_d0 is the oldest
    batch.push_back(job);
  }
  batch.push_back(NewJob("job_b0", 5, kT0, "batch"));
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  std::vector<Job> running = Claim(2, kT0 + 100);  // job_d0, job_d1
  ASSERT_EQ(running.size(), 2u);
  ASSERT_TRUE(Finish(FinishOf(running[0], AttemptOutcome::kDone, kT0 + 101)).ok());
  ASSERT_TRUE(store_->cancel_job(kDefaultTenant, "job_b0", kT0 + 102).ok());

  std::vector<QueueStats> stats = ValueOf(store_->queue_stats());
  ASSERT_EQ(stats.size(), 2u);
  std::sort(stats.begin(), stats.end(),
            [](const QueueStats& a, const QueueStats& b) { return a.queue < b.queue; });
  EXPECT_EQ(stats[0].queue, "batch");
  EXPECT_EQ(stats[0].by_status[static_cast<int>(JobStatus::kCanceled)], 1);
  EXPECT_EQ(stats[0].by_status[static_cast<int>(JobStatus::kQueued)], 0);
  EXPECT_FALSE(stats[0].oldest_queued_created_at.has_value());
  const QueueStats& d = stats[1];
  EXPECT_EQ(d.queue, "default");
  EXPECT_EQ(d.by_status[static_cast<int>(JobStatus::kQueued)], 2);
  EXPECT_EQ(d.by_status[static_cast<int>(JobStatus::kRunning)], 1);
  EXPECT_EQ(d.by_status[static_cast<int>(JobStatus::kDone)], 1);
  EXPECT_EQ(d.oldest_queued_created_at, kT0 + 30);  // job_d2
}

TEST_P(StoreContractTest, QueueStatsMatchARecountAfterEveryKindOfChange) {
  std::vector<Job> batch;
  for (int i = 0; i < 12; ++i) {
    Job job = NewJob("job_" + std::to_string(10 + i), i % 3);
    if (i == 9) job.spec.deadline = kT0 + 1;  // priority 0: still queued when it passes
    job.spec.max_attempts = i == 4 ? 1 : 3;   // claimed first, then reaped: fails
    batch.push_back(job);
  }
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  EXPECT_FALSE(store_->submit_jobs(batch).ok());  // reused ids: nothing changes
  std::vector<Job> running = Claim(6, kT0, "a", "default", 10);
  ASSERT_EQ(running.size(), 6u);
  AttemptFinish retry = FinishOf(running[0], AttemptOutcome::kRetry, kT0 + 1);
  retry.retry_at = kT0 + 2;
  std::vector<AttemptFinish> items = {FinishOf(running[1], AttemptOutcome::kDone, kT0 + 1),
                                      FinishOf(running[2], AttemptOutcome::kFailed, kT0 + 1),
                                      FinishOf(running[3], AttemptOutcome::kReview, kT0 + 1),
                                      retry};
  ASSERT_TRUE(store_->finish_attempts(items).ok());
  Claim(2, kT0 + 5, "b", "default", 10'000);
  ASSERT_TRUE(store_->release_leases("b", kT0 + 6).ok());
  ASSERT_TRUE(store_->reap_expired_leases(kT0 + 100).ok());
  ASSERT_TRUE(store_->expire_overdue(kT0 + 100).ok());
  ASSERT_TRUE(store_->cancel_job(kDefaultTenant, running[3].id, kT0 + 101).ok());

  std::array<std::int64_t, 7> recount{};
  for (const Job& job : ValueOf(store_->list_jobs({.limit = 1000})).jobs) {
    ++recount[static_cast<int>(job.status)];
  }
  std::vector<QueueStats> stats = ValueOf(store_->queue_stats());
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].by_status, recount);
  EXPECT_GT(recount[static_cast<int>(JobStatus::kQueued)], 0);
  EXPECT_GT(recount[static_cast<int>(JobStatus::kExpired)], 0);
  EXPECT_EQ(recount[static_cast<int>(JobStatus::kFailed)], 2);
}

TEST_P(StoreContractTest, Ping) {
  EXPECT_TRUE(store_->ping().ok());
}

TEST_P(StoreContractTest, EverythingSurvivesAReopen) {
  Job a = NewJob("job_a");
  a.spec.dedup_key = "k";
  std::vector<Job> batch = {a, NewJob("job_b")};
  ASSERT_TRUE(store_->submit_jobs(batch).ok());
  Job running = Claim(1, kT0).at(0);
  AttemptFinish done = FinishOf(running, AttemptOutcome::kDone, kT0 + 1);
  done.attempt_json = R"({"n":1})";
  ASSERT_TRUE(Finish(done).ok());
  Job before = Get("job_a");
  std::vector<JobEvent> events_before = ValueOf(store_->job_events(kDefaultTenant, "job_a"));
  std::vector<QueueStats> stats_before = ValueOf(store_->queue_stats());

  Reopen();
  ExpectSameJob(before, Get("job_a"));
  EXPECT_EQ(Get("job_b").status, JobStatus::kQueued);
  EXPECT_EQ(ValueOf(store_->get_result(kDefaultTenant, "job_a")), R"({"label":"ok"})");
  EXPECT_THAT(ValueOf(store_->get_attempts(kDefaultTenant, "job_a")), ElementsAre(R"({"n":1})"));
  EXPECT_EQ(ValueOf(store_->job_events(kDefaultTenant, "job_a")).size(), events_before.size());
  std::vector<QueueStats> stats_after = ValueOf(store_->queue_stats());
  ASSERT_EQ(stats_after.size(), stats_before.size());
  EXPECT_EQ(stats_after[0].by_status, stats_before[0].by_status);

  Job again = NewJob("job_again");
  again.spec.dedup_key = "k";
  auto outcomes = ValueOf(store_->submit_jobs(std::span(&again, 1)));
  EXPECT_TRUE(outcomes.at(0).deduplicated);
  EXPECT_EQ(outcomes.at(0).job.id, "job_a");
  EXPECT_EQ(Claim(5, kT0 + 2).size(), 1u);  // job_b, still there to run
}

}  // namespace
}  // namespace sluice
