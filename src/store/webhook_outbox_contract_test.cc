// The Store contract, continued: the webhook outbox and the event stream (store.h, the blocks
// "Webhook outbox" and "Event stream"). Runs against every engine, like store_contract_test.cc.
#include <gmock/gmock.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store_contract_test.h"

namespace sluice {
namespace {

using testing::ElementsAre;
using testing::UnorderedElementsAre;

constexpr char kUrl[] = "https://hooks.example.com/sluice";

Job HookedJob(std::string id, std::string url = kUrl, std::string tenant = kDefaultTenant) {
  Job job;
  job.id = std::move(id);
  job.created_at = kT0;
  job.spec.tenant = std::move(tenant);
  job.spec.type = "classify";
  job.spec.input_json = R"({"text":"hello"})";
  job.spec.run_at = kT0;
  job.spec.webhook_url = std::move(url);
  return job;
}

class WebhookOutbox {
 public:
  explicit WebhookOutbox(Store& store) : store_(store) {}
  std::vector<WebhookDelivery> Claim(Millis now, const std::string& owner = "node-a",
                                     int limit = 100, Millis lease_for = 60'000) {
    return ValueOf(store_.claim_webhook_deliveries(
        {.owner = owner, .now = now, .lease_until = now + lease_for, .limit = limit}));
  }
  Status Record(const WebhookAttempt& attempt) {
    auto outcomes = ValueOf(store_.record_webhook_attempts(std::span(&attempt, 1)));
    if (outcomes.size() != 1) return Internal("record returned no outcome");
    return outcomes[0];
  }

 private:
  Store& store_;
};

WebhookAttempt AttemptOf(const WebhookDelivery& d, WebhookAttempt::Outcome outcome, Millis now) {
  return WebhookAttempt{.id = d.id,
                        .lease_owner = d.lease_owner,
                        .attempt = d.attempts + 1,
                        .outcome = outcome,
                        .now = now,
                        .retry_at = outcome == WebhookAttempt::kRetry ? now + 1'000 : 0,
                        .payload = R"({"id":")" + d.id + R"("})",
                        .event_json = R"({"status_code":500})"};
}

std::map<std::string, std::string> TypesByJob(const std::vector<WebhookDelivery>& deliveries) {
  std::map<std::string, std::string> types;
  for (const auto& d : deliveries) types[d.job_id] = d.type;
  return types;
}

// --- queueing: one place, every ending transition ---

TEST_P(StoreContractTest, ADoneJobWithAWebhookUrlQueuesOneDelivery) {
  std::vector<Job> jobs = {HookedJob("job_hooked"), HookedJob("job_plain", "")};
  ASSERT_TRUE(store_->submit_jobs(jobs).ok());
  for (const Job& running : Claim(2, kT0)) {
    ASSERT_TRUE(Finish(FinishOf(running, AttemptOutcome::kDone, kT0 + 5)).ok());
  }
  WebhookOutbox outbox(*store_);
  std::vector<WebhookDelivery> due = outbox.Claim(kT0 + 5);
  ASSERT_EQ(due.size(), 1u);
  const WebhookDelivery& d = due[0];
  EXPECT_THAT(d.id, testing::StartsWith("evt_"));
  EXPECT_EQ(d.job_id, "job_hooked");
  EXPECT_EQ(d.tenant, kDefaultTenant);
  EXPECT_EQ(d.type, "job.done");
  EXPECT_EQ(d.url, kUrl);
  EXPECT_EQ(d.created_at, kT0 + 5);
  EXPECT_EQ(d.attempts, 0);
  EXPECT_EQ(d.payload, "");
  EXPECT_EQ(d.lease_owner, "node-a");
}

TEST_P(StoreContractTest, EveryTransitionThatEndsAJobQueuesItsWebhookAndNoOtherDoes) {
  std::vector<Job> jobs;
  for (const char* id : {"job_done", "job_failed", "job_expired", "job_review", "job_retry",
                         "job_approve", "job_reject", "job_cancel", "job_reaped", "job_overdue",
                         "job_released"}) {
    jobs.push_back(HookedJob(id));
  }
  jobs[8].spec.max_attempts = 1;       // job_reaped: its lost lease fails it
  jobs[9].spec.deadline = kT0 + 100;   // job_overdue: expires while queued
  jobs[9].spec.run_at = kT0 + 50;
  ASSERT_TRUE(store_->submit_jobs(jobs).ok());
  std::map<std::string, Job> running;
  for (Job& job : Claim(100, kT0, "node-a", "default", 10)) running[job.id] = job;
  ASSERT_EQ(running.size(), 10u);

  const Millis t = kT0 + 5;
  ASSERT_TRUE(Finish(FinishOf(running["job_done"], AttemptOutcome::kDone, t)).ok());
  ASSERT_TRUE(Finish(FinishOf(running["job_failed"], AttemptOutcome::kFailed, t)).ok());
  ASSERT_TRUE(Finish(FinishOf(running["job_expired"], AttemptOutcome::kExpired, t)).ok());
  ASSERT_TRUE(Finish(FinishOf(running["job_review"], AttemptOutcome::kReview, t)).ok());
  AttemptFinish retry = FinishOf(running["job_retry"], AttemptOutcome::kRetry, t);
  retry.retry_at = t + 1'000'000;
  ASSERT_TRUE(Finish(retry).ok());
  ASSERT_TRUE(Finish(FinishOf(running["job_approve"], AttemptOutcome::kReview, t)).ok());
  ASSERT_TRUE(Finish(FinishOf(running["job_reject"], AttemptOutcome::kReview, t)).ok());
  ASSERT_TRUE(store_->review_job({.id = "job_approve",
                                  .kind = ReviewAction::kApprove,
                                  .result_json = R"({"label":"human"})",
                                  .now = t + 1})
                  .ok());
  ASSERT_TRUE(store_->review_job({.id = "job_reject", .kind = ReviewAction::kReject,
                                  .reason = "spam", .now = t + 1})
                  .ok());
  ASSERT_TRUE(store_->cancel_job(kDefaultTenant, "job_cancel", t + 2).ok());
  ASSERT_TRUE(store_->release_leases("node-a", t + 3).ok());  // job_reaped, job_released back
  // job_reaped runs again and its worker dies: with no attempt left, the reaper fails it.
  std::vector<Job> again = Claim(1, t + 4, "node-b", "default", 10);
  ASSERT_EQ(again.size(), 1u);
  Job reaped_run = again[0];
  if (reaped_run.id != "job_reaped") {
    // The other released job came first; take job_reaped too.
    std::vector<Job> next = Claim(1, t + 4, "node-b", "default", 10);
    ASSERT_EQ(next.size(), 1u);
    reaped_run = next[0];
  }
  ASSERT_EQ(reaped_run.id, "job_reaped");
  ASSERT_FALSE(ValueOf(store_->reap_expired_leases(t + 100)).empty());
  ASSERT_EQ(ValueOf(store_->expire_overdue(kT0 + 100)).size(), 1u);
  EXPECT_EQ(Get("job_reaped").status, JobStatus::kFailed);

  WebhookOutbox outbox(*store_);
  std::map<std::string, std::string> types = TypesByJob(outbox.Claim(kT0 + 1'000));
  EXPECT_THAT(types, testing::UnorderedElementsAreArray(std::map<std::string, std::string>{
                         {"job_done", "job.done"},
                         {"job_failed", "job.failed"},
                         {"job_expired", "job.expired"},
                         {"job_review", "job.review"},
                         {"job_approve", "job.done"},  // its job.review too: see below
                         {"job_reject", "job.failed"},
                         {"job_cancel", "job.canceled"},
                         {"job_reaped", "job.failed"},
                         {"job_overdue", "job.expired"},
                     }));
}

TEST_P(StoreContractTest, AReviewThenItsDecisionQueueTwoEventsWithTheirOwnIds) {
  Submit(HookedJob("job_a"));
  ASSERT_TRUE(Finish(FinishOf(Claim(1, kT0).at(0), AttemptOutcome::kReview, kT0 + 1)).ok());
  ASSERT_TRUE(store_->review_job({.id = "job_a",
                                  .kind = ReviewAction::kApprove,
                                  .result_json = R"({"label":"human"})",
                                  .now = kT0 + 2})
                  .ok());
  std::vector<WebhookDelivery> due = WebhookOutbox(*store_).Claim(kT0 + 10);
  ASSERT_EQ(due.size(), 2u);
  std::vector<std::string> types = {due[0].type, due[1].type};
  EXPECT_THAT(types, UnorderedElementsAre("job.review", "job.done"));
  EXPECT_NE(due[0].id, due[1].id);
}

TEST_P(StoreContractTest, AFinishWhoseCompareAndSetFailsQueuesNothing) {
  Submit(HookedJob("job_a"));
  Job running = Claim(1, kT0).at(0);
  AttemptFinish zombie = FinishOf(running, AttemptOutcome::kDone, kT0 + 1);
  zombie.lease_owner = "someone-else";
  EXPECT_EQ(Finish(zombie).code(), StatusCode::kAborted);
  EXPECT_TRUE(WebhookOutbox(*store_).Claim(kT0 + 10).empty());
}

// --- claiming and recording ---

TEST_P(StoreContractTest, AClaimedDeliveryIsHiddenUntilItsLeaseEnds) {
  Submit(HookedJob("job_a"));
  ASSERT_TRUE(Finish(FinishOf(Claim(1, kT0).at(0), AttemptOutcome::kDone, kT0)).ok());
  WebhookOutbox outbox(*store_);
  EXPECT_TRUE(outbox.Claim(kT0 - 1).empty()) << "not due before its transition";
  std::vector<WebhookDelivery> a = outbox.Claim(kT0, "node-a", 10, 1'000);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_TRUE(outbox.Claim(kT0 + 999, "node-b").empty());
  // node-a died: once its lease is over, node-b delivers the same event.
  std::vector<WebhookDelivery> b = outbox.Claim(kT0 + 1'000, "node-b");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].id, a[0].id);
  EXPECT_EQ(b[0].attempts, 0);
  EXPECT_EQ(b[0].lease_owner, "node-b");
  // The late node-a cannot record over node-b's lease; node-b can.
  EXPECT_EQ(outbox.Record(AttemptOf(a[0], WebhookAttempt::kDelivered, kT0 + 1'001)).code(),
            StatusCode::kAborted);
  EXPECT_TRUE(outbox.Record(AttemptOf(b[0], WebhookAttempt::kDelivered, kT0 + 1'002)).ok());
  EXPECT_TRUE(outbox.Claim(kT0 + 1'000'000'000).empty()) << "delivered is done";
}

TEST_P(StoreContractTest, ReleasedLeasesComeDueAtOnce) {
  std::vector<Job> jobs = {HookedJob("job_a"), HookedJob("job_b")};
  ASSERT_TRUE(store_->submit_jobs(jobs).ok());
  for (const Job& running : Claim(2, kT0)) {
    ASSERT_TRUE(Finish(FinishOf(running, AttemptOutcome::kDone, kT0)).ok());
  }
  WebhookOutbox outbox(*store_);
  ASSERT_EQ(outbox.Claim(kT0, "node-a", 1).size(), 1u);
  ASSERT_EQ(outbox.Claim(kT0, "node-b", 1).size(), 1u);
  EXPECT_EQ(ValueOf(store_->release_webhook_leases("node-a", kT0 + 1)), 1);
  std::vector<WebhookDelivery> again = outbox.Claim(kT0 + 1, "node-c");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].attempts, 0);
  // Every owner's (a restart on an exclusive store): node-b's and node-c's.
  EXPECT_EQ(ValueOf(store_->release_webhook_leases("", kT0 + 2)), 2);
  EXPECT_EQ(outbox.Claim(kT0 + 2, "node-d").size(), 2u);
}

TEST_P(StoreContractTest, ClaimHonoursItsLimitOldestDueFirst) {
  std::vector<Job> jobs = {HookedJob("job_1"), HookedJob("job_2"), HookedJob("job_3")};
  ASSERT_TRUE(store_->submit_jobs(jobs).ok());
  std::vector<Job> running = Claim(3, kT0);
  ASSERT_EQ(running.size(), 3u);
  for (std::size_t i = 0; i < running.size(); ++i) {
    const Millis at = kT0 + 10 - static_cast<Millis>(i);  // the last one finished first
    ASSERT_TRUE(Finish(FinishOf(running[i], AttemptOutcome::kDone, at)).ok());
  }
  WebhookOutbox outbox(*store_);
  std::vector<WebhookDelivery> first = outbox.Claim(kT0 + 100, "node-a", 2);
  ASSERT_EQ(first.size(), 2u);
  std::vector<std::string> ids = {first[0].job_id, first[1].job_id};
  EXPECT_THAT(ids, UnorderedElementsAre(running[2].id, running[1].id));
  std::vector<WebhookDelivery> rest = outbox.Claim(kT0 + 100, "node-b", 2);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].job_id, running[0].id);
}

TEST_P(StoreContractTest, ARetryComesDueAtItsTimeWithTheFirstPayloadKept) {
  Submit(HookedJob("job_a"));
  ASSERT_TRUE(Finish(FinishOf(Claim(1, kT0).at(0), AttemptOutcome::kDone, kT0)).ok());
  WebhookOutbox outbox(*store_);
  WebhookDelivery d = outbox.Claim(kT0).at(0);
  WebhookAttempt first = AttemptOf(d, WebhookAttempt::kRetry, kT0 + 10);
  first.payload = R"({"first":true})";
  first.retry_at = kT0 + 5'000;
  ASSERT_TRUE(outbox.Record(first).ok());
  EXPECT_TRUE(outbox.Claim(kT0 + 4'999).empty());
  WebhookDelivery again = outbox.Claim(kT0 + 5'000).at(0);
  EXPECT_EQ(again.id, d.id);
  EXPECT_EQ(again.attempts, 1);
  EXPECT_EQ(again.payload, R"({"first":true})");
  WebhookAttempt second = AttemptOf(again, WebhookAttempt::kRetry, kT0 + 5'010);
  second.payload = R"({"second":true})";
  ASSERT_TRUE(outbox.Record(second).ok());
  EXPECT_EQ(outbox.Claim(kT0 + 1'000'000).at(0).payload, R"({"first":true})");
}

TEST_P(StoreContractTest, GivingUpAndRefusalEndADelivery) {
  std::vector<Job> jobs = {HookedJob("job_a"), HookedJob("job_b")};
  ASSERT_TRUE(store_->submit_jobs(jobs).ok());
  for (const Job& running : Claim(2, kT0)) {
    ASSERT_TRUE(Finish(FinishOf(running, AttemptOutcome::kFailed, kT0)).ok());
  }
  WebhookOutbox outbox(*store_);
  std::vector<WebhookDelivery> due = outbox.Claim(kT0);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_TRUE(outbox.Record(AttemptOf(due[0], WebhookAttempt::kGaveUp, kT0 + 1)).ok());
  EXPECT_TRUE(outbox.Record(AttemptOf(due[1], WebhookAttempt::kRefused, kT0 + 1)).ok());
  EXPECT_TRUE(outbox.Claim(kT0 + 1'000'000'000).empty());
}

TEST_P(StoreContractTest, EveryRecordedAttemptIsAWebhookEventOfTheJob) {
  Submit(HookedJob("job_a"));
  ASSERT_TRUE(Finish(FinishOf(Claim(1, kT0).at(0), AttemptOutcome::kDone, kT0)).ok());
  WebhookOutbox outbox(*store_);
  WebhookDelivery d = outbox.Claim(kT0).at(0);
  WebhookAttempt attempt = AttemptOf(d, WebhookAttempt::kRetry, kT0 + 7);
  attempt.event_json = R"({"event_id":")" + d.id + R"(","status_code":503})";
  ASSERT_TRUE(outbox.Record(attempt).ok());
  std::vector<JobEvent> events = ValueOf(store_->job_events(kDefaultTenant, "job_a"));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().type, "webhook");
  EXPECT_EQ(events.back().at, kT0 + 7);
  EXPECT_EQ(events.back().data_json, attempt.event_json);
}

TEST_P(StoreContractTest, ARecordNeedsItsLeaseAndANumberFromOne) {
  Submit(HookedJob("job_a"));
  ASSERT_TRUE(Finish(FinishOf(Claim(1, kT0).at(0), AttemptOutcome::kDone, kT0)).ok());
  WebhookOutbox outbox(*store_);
  WebhookDelivery d = outbox.Claim(kT0).at(0);
  WebhookAttempt wrong_number = AttemptOf(d, WebhookAttempt::kDelivered, kT0 + 1);
  wrong_number.attempt = 2;
  EXPECT_EQ(outbox.Record(wrong_number).code(), StatusCode::kAborted);
  WebhookAttempt zero = AttemptOf(d, WebhookAttempt::kDelivered, kT0 + 1);
  zero.attempt = 0;
  EXPECT_EQ(outbox.Record(zero).code(), StatusCode::kInvalidArgument);
  WebhookAttempt twice = AttemptOf(d, WebhookAttempt::kDelivered, kT0 + 1);
  std::vector<WebhookAttempt> both = {twice, twice};
  std::vector<Status> outcomes = ValueOf(store_->record_webhook_attempts(both));
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_TRUE(outcomes[0].ok());
  EXPECT_EQ(outcomes[1].code(), StatusCode::kAborted);
}

TEST_P(StoreContractTest, QueuedDeliveriesSurviveAReopen) {
  Submit(HookedJob("job_a"));
  ASSERT_TRUE(Finish(FinishOf(Claim(1, kT0).at(0), AttemptOutcome::kDone, kT0)).ok());
  Reopen();
  std::vector<WebhookDelivery> due = WebhookOutbox(*store_).Claim(kT0);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].type, "job.done");
}

TEST_P(StoreContractTest, TheCommitListenerHearsEventsAndQueuedWebhooks) {
  std::vector<CommitNews> heard;
  std::mutex mu;
  store_->set_commit_listener([&](const CommitNews& news) {
    std::lock_guard lock(mu);
    heard.push_back(news);
  });
  std::vector<Job> jobs = {HookedJob("job_a"), HookedJob("job_b", "")};
  ASSERT_TRUE(store_->submit_jobs(jobs).ok());
  std::vector<Job> running = Claim(2, kT0);
  std::vector<AttemptFinish> finishes;
  for (const Job& job : running) finishes.push_back(FinishOf(job, AttemptOutcome::kDone, kT0 + 1));
  ASSERT_TRUE(store_->finish_attempts(finishes).ok());
  store_->set_commit_listener(nullptr);
  ASSERT_TRUE(store_->cancel_job(kDefaultTenant, "job_a", kT0 + 2).status().code() ==
              StatusCode::kFailedPrecondition);
  std::lock_guard lock(mu);
  ASSERT_EQ(heard.size(), 3u);  // submit, claim, finish
  EXPECT_EQ(heard[0].events, 2);
  EXPECT_EQ(heard[0].webhooks, 0);
  EXPECT_EQ(heard[1].events, 2);
  EXPECT_EQ(heard[2].events, 2);
  EXPECT_EQ(heard[2].webhooks, 1);  // job_b has no webhook_url
}

// --- the event stream ---

// The stream may hold back events that just committed (store.h): wait until `count` arrive.
std::vector<JobEvent> EventsEventually(Store& store, const std::string& tenant, std::int64_t after,
                                       int limit, std::size_t count) {
  std::vector<JobEvent> events;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < until) {
    events = ValueOf(store.events_after(tenant, after, limit));
    if (events.size() >= count) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return events;
}

TEST_P(StoreContractTest, EventsAfterPagesOneTenantsEventsInSeqOrder) {
  std::vector<Job> jobs = {HookedJob("job_a1", "", "acme"), HookedJob("job_b1", "", "globex"),
                           HookedJob("job_a2", "", "acme")};
  ASSERT_TRUE(store_->submit_jobs(jobs).ok());
  ASSERT_TRUE(store_->cancel_job("acme", "job_a1", kT0 + 1).ok());

  std::vector<JobEvent> all = EventsEventually(*store_, "acme", 0, 100, 3);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].job_id, "job_a1");
  EXPECT_EQ(all[0].type, "submitted");
  EXPECT_EQ(all[1].job_id, "job_a2");
  EXPECT_EQ(all[2].job_id, "job_a1");
  EXPECT_EQ(all[2].type, "canceled");
  EXPECT_EQ(all[2].at, kT0 + 1);
  EXPECT_LT(all[0].seq, all[1].seq);
  EXPECT_LT(all[1].seq, all[2].seq);

  std::vector<JobEvent> page = ValueOf(store_->events_after("acme", 0, 2));
  ASSERT_EQ(page.size(), 2u);
  std::vector<JobEvent> rest = ValueOf(store_->events_after("acme", page.back().seq, 2));
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].seq, all[2].seq);
  EXPECT_TRUE(ValueOf(store_->events_after("acme", all[2].seq, 100)).empty());

  std::vector<JobEvent> globex = EventsEventually(*store_, "globex", 0, 100, 1);
  ASSERT_EQ(globex.size(), 1u);
  EXPECT_EQ(globex[0].job_id, "job_b1");
  EXPECT_TRUE(ValueOf(store_->events_after("initech", 0, 100)).empty());
}

TEST_P(StoreContractTest, AStreamFromTheHeadGetsOnlyLaterEvents) {
  Submit(HookedJob("job_old", ""));
  // Let the old event settle, so that the head is past it.
  ASSERT_EQ(EventsEventually(*store_, kDefaultTenant, 0, 100, 1).size(), 1u);
  std::int64_t head = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::vector<JobEvent> old = ValueOf(store_->events_after(kDefaultTenant, 0, 100));
  while (std::chrono::steady_clock::now() < until) {
    head = ValueOf(store_->events_head());
    if (head >= old.at(0).seq) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(head, old.at(0).seq);
  Submit(HookedJob("job_new", ""));
  std::vector<JobEvent> later = EventsEventually(*store_, kDefaultTenant, head, 100, 1);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].job_id, "job_new");
}

}  // namespace
}  // namespace sluice
