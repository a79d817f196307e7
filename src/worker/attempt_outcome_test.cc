#include "worker/attempt_outcome.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tasks/registry.h"
#include "tasks/test_util.h"

namespace sluice {
namespace {

namespace json = boost::json;

class DecideAttemptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = TaskRegistry::Load(testing::BundledTasksDir());
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    tasks_ = std::make_unique<TaskRegistry>(std::move(loaded).value());
    const TaskType* task = tasks_->find("classify_ticket");
    call_.alias = "fast";
    call_.schema = task->current()->schema.get();
    call_.review = task->current()->review ? &*task->current()->review : nullptr;
    job_.id = "job_1";
    job_.spec.type = "classify_ticket";
    job_.spec.prompt_version = task->current()->id;
    job_.spec.max_attempts = 3;
    job_.attempt = 1;
    job_.lease_owner = "node-a";
    job_.created_at = kNow - 500;
    job_.started_at = kNow - 100;
    worker_.retry_base = 1'000;
    worker_.retry_max = 60'000;
  }

  static GatewayResult Walk(CallResult r) {
    GatewayResult g;
    g.calls.push_back(std::move(r));
    return g;
  }
  GatewayResult Ok(const std::string& text) {
    CallResult r;
    r.outcome = CallOutcome::kOk;
    r.code = "ok";
    r.text = text;
    r.finish_reason = "stop";
    r.prompt_tokens = 100;
    r.completion_tokens = 20;
    r.cost_usd = 0.001;
    return Walk(r);
  }
  GatewayResult Failure(CallOutcome outcome, const std::string& code) {
    CallResult r;
    r.outcome = outcome;
    r.code = code;
    r.message = "boom";
    return Walk(r);
  }

  static constexpr Millis kNow = 1'800'000'000'000;
  std::unique_ptr<TaskRegistry> tasks_;
  PreparedCall call_;
  Job job_;
  WorkerConfig worker_;
};

const char* kGoodAnswer =
    R"({"category":"double_charge","urgent":false,"confidence":0.9,"summary":"Charged twice."})";

TEST_F(DecideAttemptTest, ValidAnswerIsDoneWithAResultRecord) {
  AttemptFinish f = DecideAttempt(job_, call_, Ok(kGoodAnswer), kNow, worker_, 0.5);
  EXPECT_EQ(f.outcome, AttemptOutcome::kDone);
  EXPECT_EQ(f.lease_owner, "node-a");
  EXPECT_EQ(f.attempt, 1);
  json::value result = json::parse(f.result_json);
  EXPECT_EQ(result.at("output").at("category"), "double_charge");
  EXPECT_EQ(result.at("prompt_version").as_string(), job_.spec.prompt_version);
  EXPECT_EQ(result.at("response_schema"), "ticket_class_v1");
  EXPECT_EQ(result.at("usage").at("total_tokens"), 120);
  EXPECT_EQ(result.at("queue_ms"), 400);
  EXPECT_DOUBLE_EQ(f.cost_usd, 0.001);
  EXPECT_EQ(json::parse(f.attempt_json).at(0).at("outcome").as_string(), "ok");
}

TEST_F(DecideAttemptTest, LowConfidenceGoesToReviewWithItsResult) {
  std::string low = R"({"category":"fraud","urgent":true,"confidence":0.3,"summary":"?"})";
  AttemptFinish f = DecideAttempt(job_, call_, Ok(low), kNow, worker_, 0.5);
  EXPECT_EQ(f.outcome, AttemptOutcome::kReview);
  EXPECT_EQ(f.error.code, "review_rule");
  EXPECT_FALSE(f.result_json.empty());
}

TEST_F(DecideAttemptTest, SchemaInvalidRetriesThenGoesToReview) {
  std::string bad = R"({"category":"weather","urgent":false,"confidence":0.9,"summary":"x"})";
  AttemptFinish f = DecideAttempt(job_, call_, Ok(bad), kNow, worker_, 0.5);
  EXPECT_EQ(f.outcome, AttemptOutcome::kRetry);
  EXPECT_EQ(f.error.code, "schema_invalid");
  job_.attempt = 3;
  f = DecideAttempt(job_, call_, Ok(bad), kNow, worker_, 0.5);
  EXPECT_EQ(f.outcome, AttemptOutcome::kReview);
  EXPECT_EQ(f.error.code, "schema_invalid");
  EXPECT_NE(f.error.message.find("category"), std::string::npos) << f.error.message;
}

TEST_F(DecideAttemptTest, GarbageIsRetryableAndFailsWhenAttemptsRunOut) {
  AttemptFinish f = DecideAttempt(job_, call_, Ok("not json at all"), kNow, worker_, 0.5);
  EXPECT_EQ(f.outcome, AttemptOutcome::kRetry);
  job_.attempt = 3;
  f = DecideAttempt(job_, call_, Failure(CallOutcome::kRetryable, "provider_error"), kNow, worker_, 0.5);
  EXPECT_EQ(f.outcome, AttemptOutcome::kFailed);
  EXPECT_EQ(f.error.code, "provider_error");
}

TEST_F(DecideAttemptTest, RetryBacksOffExponentiallyAndHonoursRetryAfter) {
  GatewayResult r = Failure(CallOutcome::kRetryable, "timeout");
  AttemptFinish f = DecideAttempt(job_, call_, r, kNow, worker_, 1.0);
  EXPECT_EQ(f.retry_at, kNow + 1'000);
  job_.attempt = 2;
  f = DecideAttempt(job_, call_, r, kNow, worker_, 1.0);
  EXPECT_EQ(f.retry_at, kNow + 2'000);
  f = DecideAttempt(job_, call_, r, kNow, worker_, 0.0);
  EXPECT_EQ(f.retry_at, kNow + 1'000);  // half the delay at the low end of the jitter
  r = Failure(CallOutcome::kRetryable, "rate_limited");
  r.calls[0].retry_after_ms = 7'000;
  f = DecideAttempt(job_, call_, r, kNow, worker_, 1.0);
  EXPECT_EQ(f.retry_at, kNow + 7'000);
}

TEST_F(DecideAttemptTest, NonRetryableFailsAtOnce) {
  AttemptFinish f = DecideAttempt(job_, call_, Failure(CallOutcome::kFatal, "provider_rejected"), kNow,
                                  worker_, 0.5);
  EXPECT_EQ(f.outcome, AttemptOutcome::kFailed);
  EXPECT_EQ(f.error.code, "provider_rejected");
}

TEST_F(DecideAttemptTest, NoRetryPastTheDeadline) {
  job_.spec.deadline = kNow + 500;  // the next try could start only after it
  AttemptFinish f = DecideAttempt(job_, call_, Failure(CallOutcome::kRetryable, "timeout"), kNow, worker_, 1.0);
  EXPECT_EQ(f.outcome, AttemptOutcome::kExpired);
  EXPECT_EQ(f.error.code, "deadline_exceeded");
  job_.spec.deadline = kNow;  // the call itself ran into the deadline
  f = DecideAttempt(job_, call_, Failure(CallOutcome::kRetryable, "timeout"), kNow, worker_, 1.0);
  EXPECT_EQ(f.outcome, AttemptOutcome::kExpired);
}

TEST_F(DecideAttemptTest, CostLimitStopsRetries) {
  job_.spec.cost_limit_usd = 0.0015;
  job_.cost_usd = 0.001;
  GatewayResult r = Failure(CallOutcome::kRetryable, "garbage");
  r.calls[0].cost_usd = 0.001;
  AttemptFinish f = DecideAttempt(job_, call_, r, kNow, worker_, 0.5);
  EXPECT_EQ(f.outcome, AttemptOutcome::kFailed);
  EXPECT_EQ(f.error.code, "cost_limit_exceeded");
}

TEST_F(DecideAttemptTest, FallbackWalkRecordsEveryCallAndSumsTheirCost) {
  GatewayResult g = Failure(CallOutcome::kRetryable, "provider_error");
  g.calls[0].cost_usd = 0.0005;
  g.calls[0].alias = "fast";
  CallResult backup = Ok(kGoodAnswer).calls[0];
  backup.alias = "strong";
  g.calls.push_back(backup);
  g.skipped.emplace_back("cheap", "circuit_open");
  AttemptFinish f = DecideAttempt(job_, call_, g, kNow, worker_, 0.5);
  EXPECT_EQ(f.outcome, AttemptOutcome::kDone);
  EXPECT_DOUBLE_EQ(f.cost_usd, 0.0015);
  json::value records = json::parse(f.attempt_json);
  ASSERT_EQ(records.as_array().size(), 2u);
  EXPECT_EQ(records.at(0).at("outcome").as_string(), "provider_error");
  EXPECT_EQ(records.at(0).at("fallback").as_bool(), true);
  EXPECT_EQ(records.at(1).at("model_alias").as_string(), "strong");
  EXPECT_EQ(records.at(1).at("skipped").at(0).at("reason").as_string(), "circuit_open");
  EXPECT_EQ(json::parse(f.result_json).at("model_alias").as_string(), "strong");
}

TEST_F(DecideAttemptTest, AnAnswerFromTheLocalLastResortIsMarkedDegraded) {
  GatewayResult g = Ok(kGoodAnswer);
  g.calls[0].provider = "local";
  g.calls[0].alias = "local";
  AttemptFinish f = DecideAttempt(job_, call_, g, kNow, worker_, 0.5);
  EXPECT_TRUE(json::parse(f.result_json).at("degraded").as_bool());
  f = DecideAttempt(job_, call_, Ok(kGoodAnswer), kNow, worker_, 0.5);
  EXPECT_FALSE(json::parse(f.result_json).at("degraded").as_bool());
}

TEST(BackoffTest, CappedAtMax) {
  EXPECT_EQ(BackoffDelay(30, 1'000, 60'000, 1.0), 60'000);
  EXPECT_EQ(BackoffDelay(1, 1'000, 60'000, 1.0), 1'000);
}

TEST_F(DecideAttemptTest, EveryCallThatReachedAProviderIsAChargeWithItsUsageDetails) {
  job_.spec.tenant = "acme";
  CallResult failed;
  failed.outcome = CallOutcome::kRetryable;
  failed.code = "provider_error";
  failed.provider = "primary";
  failed.alias = "fast";
  failed.model_id = "gpt-4o-mini";
  failed.started_at = kNow - 50;
  failed.prompt_tokens = 10;  // billed, though the answer was unusable
  failed.cost_usd = 0.00002;
  CallResult ok;
  ok.outcome = CallOutcome::kOk;
  ok.code = "ok";
  ok.provider = "backup";
  ok.alias = "strong";
  ok.model_id = "gpt-4o";
  ok.started_at = kNow - 20;
  ok.text = kGoodAnswer;
  ok.finish_reason = "stop";
  ok.prompt_tokens = 100;
  ok.completion_tokens = 40;
  ok.cached_tokens = 60;
  ok.reasoning_tokens = 30;
  ok.cost_usd = 0;  // an alias without prices
  GatewayResult g;
  g.calls = {failed, ok};
  AttemptFinish f = DecideAttempt(job_, call_, g, kNow, worker_, 0.5);
  ASSERT_EQ(f.outcome, AttemptOutcome::kDone);
  ASSERT_EQ(f.charges.size(), 2u);
  EXPECT_EQ(f.charges[0].tenant, "acme");
  EXPECT_EQ(f.charges[0].job_id, "job_1");
  EXPECT_EQ(f.charges[0].attempt, 1);
  EXPECT_EQ(f.charges[0].task_type, "classify_ticket");
  EXPECT_EQ(f.charges[0].provider, "primary");
  EXPECT_EQ(f.charges[0].at, kNow - 50);
  EXPECT_EQ(f.charges[0].cost_nano_usd, 20'000);
  EXPECT_FALSE(f.charges[0].unpriced);
  EXPECT_EQ(f.charges[1].model_alias, "strong");
  EXPECT_EQ(f.charges[1].model_id, "gpt-4o");
  EXPECT_EQ(f.charges[1].cached_tokens, 60);
  EXPECT_EQ(f.charges[1].reasoning_tokens, 30);
  EXPECT_TRUE(f.charges[1].unpriced);

  json::array records = json::parse(f.attempt_json).as_array();
  const json::object& last = records.at(1).as_object();
  EXPECT_EQ(last.at("usage").at("cached_tokens").as_int64(), 60);
  EXPECT_EQ(last.at("usage").at("reasoning_tokens").as_int64(), 30);
  EXPECT_TRUE(last.at("unpriced").as_bool());
  EXPECT_FALSE(records.at(0).as_object().contains("unpriced"));
  json::object result = json::parse(f.result_json).as_object();
  EXPECT_EQ(result.at("usage").at("cached_tokens").as_int64(), 60);
}

TEST_F(DecideAttemptTest, AWalkThatReachedNoProviderHasNoCharges) {
  // The synthetic result of a walk that called nothing carries no provider.
  AttemptFinish f = DecideAttempt(job_, call_, Failure(CallOutcome::kRetryable, "over_budget"),
                                  kNow, worker_, 0.5);
  EXPECT_TRUE(f.charges.empty());
}

}  // namespace
}  // namespace sluice
