// The Store contract for batch webhooks (store.h, "Webhook outbox"; API.md "Events"): a batch's
// final transition queues one delivery for a batch with a webhook_url, in the transition's own
// transaction, and its recorded attempts become "batch.webhook" events of the batch. Part of the
// contract suite, so it runs against every engine.
#include <gmock/gmock.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/store_contract_test.h"

namespace sluice {
namespace {

using testing::ElementsAre;

constexpr char kUrl[] = "https://hooks.example.com/batches";

Batch HookedBatch(std::string id, std::string url = kUrl) {
  Batch b;
  b.id = std::move(id);
  b.endpoint = "/v1/chat/completions";
  b.input_file_id = "file_in";
  b.completion_window = "24h";
  b.created_at = kT0;
  b.expires_at = kT0 + 86'400'000;
  b.webhook_url = std::move(url);
  return b;
}

std::vector<WebhookDelivery> ClaimAll(Store& store, Millis now) {
  return ValueOf(store.claim_webhook_deliveries(
      {.owner = "node-w", .now = now, .lease_until = now + 60'000, .limit = 100}));
}

// Moves a fresh batch through validating → in_progress → finalizing (into `outcome`), as the
// runner does, without its final transition.
void BringToFinalizing(Store& store, const std::string& id, BatchStatus outcome) {
  ValueOf(store.transition_batch(BatchTransition{.id = id,
                                                 .from = {BatchStatus::kValidating},
                                                 .to = BatchStatus::kInProgress,
                                                 .now = kT0 + 1,
                                                 .total = 0,
                                                 .event_type = "batch.in_progress"}));
  ValueOf(store.transition_batch(BatchTransition{.id = id,
                                                 .from = {BatchStatus::kInProgress},
                                                 .to = BatchStatus::kFinalizing,
                                                 .now = kT0 + 2,
                                                 .outcome = outcome}));
}

BatchTransition FinalTransition(const std::string& id, BatchStatus to, Millis now) {
  return BatchTransition{.id = id,
                         .from = {BatchStatus::kFinalizing},
                         .to = to,
                         .now = now,
                         .final_counts = BatchRequestCounts{},
                         .event_type = std::string("batch.") + BatchStatusName(to)};
}

TEST_P(StoreContractTest, AFinalBatchTransitionQueuesOneDeliveryOnlyForAHookedBatch) {
  ASSERT_TRUE(store_->create_batch(HookedBatch("batch_hooked")).ok());
  ASSERT_TRUE(store_->create_batch(HookedBatch("batch_plain", "")).ok());
  EXPECT_EQ(ValueOf(store_->get_batch(kDefaultTenant, "batch_hooked")).webhook_url, kUrl);
  EXPECT_EQ(ValueOf(store_->get_batch(kDefaultTenant, "batch_plain")).webhook_url, "");
  for (const char* id : {"batch_hooked", "batch_plain"}) {
    BringToFinalizing(*store_, id, BatchStatus::kCompleted);
  }
  // batch.in_progress is no end: nothing is queued before the final transition.
  EXPECT_TRUE(ClaimAll(*store_, kT0 + 5).empty());

  std::vector<CommitNews> heard;
  std::mutex mu;
  store_->set_commit_listener([&](const CommitNews& news) {
    std::lock_guard lock(mu);
    heard.push_back(news);
  });
  for (const char* id : {"batch_hooked", "batch_plain"}) {
    ValueOf(store_->transition_batch(FinalTransition(id, BatchStatus::kCompleted, kT0 + 10)));
  }
  store_->set_commit_listener({});
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(heard.size(), 2u);
    EXPECT_EQ(heard[0].webhooks, 1);  // wakes the dispatcher
    EXPECT_EQ(heard[1].webhooks, 0);
  }

  std::vector<WebhookDelivery> due = ClaimAll(*store_, kT0 + 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_THAT(due[0].id, testing::StartsWith("evt_"));
  EXPECT_EQ(due[0].job_id, "batch_hooked");  // the subject's id: here a batch
  EXPECT_EQ(due[0].tenant, kDefaultTenant);
  EXPECT_EQ(due[0].type, "batch.completed");
  EXPECT_EQ(due[0].url, kUrl);
  EXPECT_EQ(due[0].created_at, kT0 + 10);
  EXPECT_EQ(due[0].attempts, 0);
}

TEST_P(StoreContractTest, EveryBatchEndQueuesItsOwnWebhookType) {
  ASSERT_TRUE(store_->create_batch(HookedBatch("batch_a")).ok());
  ASSERT_TRUE(store_->create_batch(HookedBatch("batch_b")).ok());
  ASSERT_TRUE(store_->create_batch(HookedBatch("batch_c")).ok());
  ASSERT_TRUE(store_->create_batch(HookedBatch("batch_d")).ok());
  // A file that fails validation ends the batch at once.
  ValueOf(store_->transition_batch(BatchTransition{.id = "batch_a",
                                                   .from = {BatchStatus::kValidating},
                                                   .to = BatchStatus::kFailed,
                                                   .now = kT0 + 1,
                                                   .errors_json = R"({"object":"list","data":[]})",
                                                   .event_type = "batch.failed"}));
  BringToFinalizing(*store_, "batch_b", BatchStatus::kExpired);
  ValueOf(store_->transition_batch(FinalTransition("batch_b", BatchStatus::kExpired, kT0 + 3)));
  ValueOf(store_->transition_batch(BatchTransition{.id = "batch_c",
                                                   .from = {BatchStatus::kValidating},
                                                   .to = BatchStatus::kCancelling,
                                                   .now = kT0 + 1}));
  ValueOf(store_->transition_batch(BatchTransition{.id = "batch_c",
                                                   .from = {BatchStatus::kCancelling},
                                                   .to = BatchStatus::kFinalizing,
                                                   .now = kT0 + 2,
                                                   .outcome = BatchStatus::kCancelled}));
  ValueOf(store_->transition_batch(FinalTransition("batch_c", BatchStatus::kCancelled, kT0 + 4)));
  BringToFinalizing(*store_, "batch_d", BatchStatus::kCompleted);
  ValueOf(store_->transition_batch(FinalTransition("batch_d", BatchStatus::kCompleted, kT0 + 5)));

  std::vector<std::string> seen;
  for (const WebhookDelivery& d : ClaimAll(*store_, kT0 + 10)) seen.push_back(d.job_id + " " + d.type);
  std::sort(seen.begin(), seen.end());
  EXPECT_THAT(seen, ElementsAre("batch_a batch.failed", "batch_b batch.expired",
                                "batch_c batch.cancelled", "batch_d batch.completed"));
}

TEST_P(StoreContractTest, ARefusedBatchTransitionQueuesNothing) {
  ASSERT_TRUE(store_->create_batch(HookedBatch("batch_1")).ok());
  BringToFinalizing(*store_, "batch_1", BatchStatus::kCompleted);
  // A finalizer that lost the lease (another node holds it) changes nothing, queues nothing.
  ASSERT_TRUE(ValueOf(store_->lease_batch_work("node-b", kT0 + 3, kT0 + 60'000)).has_value());
  BatchTransition stale = FinalTransition("batch_1", BatchStatus::kCompleted, kT0 + 4);
  stale.owner = "node-a";
  EXPECT_EQ(store_->transition_batch(stale).status().code(), StatusCode::kAborted);
  EXPECT_TRUE(ClaimAll(*store_, kT0 + 4).empty());

  BatchTransition won = FinalTransition("batch_1", BatchStatus::kCompleted, kT0 + 5);
  won.owner = "node-b";
  ValueOf(store_->transition_batch(won));
  // The same final transition again: the compare-and-set on the status refuses it.
  EXPECT_EQ(store_->transition_batch(won).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->transition_batch(FinalTransition("batch_1", BatchStatus::kCancelled, kT0 + 6))
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  std::vector<WebhookDelivery> due = ClaimAll(*store_, kT0 + 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].type, "batch.completed");
}

TEST_P(StoreContractTest, ABatchDeliveryAttemptIsABatchWebhookEventOfTheBatch) {
  ASSERT_TRUE(store_->create_batch(HookedBatch("batch_1")).ok());
  BringToFinalizing(*store_, "batch_1", BatchStatus::kCompleted);
  ValueOf(store_->transition_batch(FinalTransition("batch_1", BatchStatus::kCompleted, kT0 + 5)));
  WebhookDelivery d = ClaimAll(*store_, kT0 + 5).at(0);
  WebhookAttempt attempt{.id = d.id,
                         .lease_owner = d.lease_owner,
                         .attempt = 1,
                         .outcome = WebhookAttempt::kDelivered,
                         .now = kT0 + 7,
                         .payload = R"({"type":"batch.completed"})",
                         .event_json = R"({"status_code":204})"};
  std::vector<Status> outcomes =
      ValueOf(store_->record_webhook_attempts(std::span(&attempt, 1)));
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].ok());
  // The shared engine shows an event once it settled (store.h events_after): wait for it.
  std::optional<JobEvent> recorded;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!recorded && std::chrono::steady_clock::now() < until) {
    for (const JobEvent& e : ValueOf(store_->events_after(kDefaultTenant, 0, 1000))) {
      if (e.type == "batch.webhook" || e.type == "webhook") recorded = e;
    }
    if (!recorded) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(recorded.has_value());
  EXPECT_EQ(recorded->job_id, "batch_1");
  EXPECT_EQ(recorded->type, "batch.webhook");
  EXPECT_EQ(recorded->at, kT0 + 7);
  EXPECT_EQ(recorded->data_json, R"({"status_code":204})");
  EXPECT_TRUE(ClaimAll(*store_, kT0 + 1'000'000'000).empty());
}

}  // namespace
}  // namespace sluice
