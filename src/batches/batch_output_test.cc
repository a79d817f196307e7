#include "batches/batch_output.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sluice {
namespace {

namespace json = boost::json;

Batch MakeBatch() {
  Batch b;
  b.id = "batch_ABC";
  b.expires_at = 10'000'000;
  return b;
}

BatchJobRow Row(JobStatus status, std::string type = "chat") {
  BatchJobRow row;
  row.job.id = "job_123";
  row.job.spec.type = std::move(type);
  row.job.spec.dedup_key = "batch_ABC:req:1";
  row.job.spec.deadline = 10'000'000;
  row.job.status = status;
  row.job.finished_at = 5'000'000;
  return row;
}

json::object Parse(const std::string& line) { return json::parse(line).as_object(); }

TEST(BatchOutputTest, ADoneChatJobIsAChatCompletion) {
  BatchJobRow row = Row(JobStatus::kDone);
  row.result_json = R"({"text":"Hi","model":"gpt-4o-mini","finish_reason":"stop","usage":{"total_tokens":3}})";
  OutputLine line = FormatJobLine(MakeBatch(), BatchStatus::kCompleted, row);
  ASSERT_TRUE(line.ok);
  json::object o = Parse(line.json);
  EXPECT_EQ(o["id"], "batch_req_123");
  EXPECT_EQ(o["custom_id"], "req:1");  // everything after the batch id and ':'
  EXPECT_TRUE(o["error"].is_null());
  json::object& response = o["response"].as_object();
  EXPECT_EQ(response["status_code"], 200);
  EXPECT_EQ(response["request_id"], "job_123");
  json::object& body = response["body"].as_object();
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["model"], "gpt-4o-mini");
  EXPECT_EQ(body["created"], 5000);
  EXPECT_EQ(body["choices"].as_array()[0].at("message").at("content"), "Hi");
  EXPECT_EQ(body["choices"].as_array()[0].at("finish_reason"), "stop");
  EXPECT_EQ(body["usage"].at("total_tokens"), 3);
}

TEST(BatchOutputTest, ADoneTaskJobCarriesItsResultRecord) {
  BatchJobRow row = Row(JobStatus::kDone, "classify_ticket");
  row.result_json = R"({"output":{"category":"fraud"}})";
  OutputLine line = FormatJobLine(MakeBatch(), BatchStatus::kCompleted, row);
  ASSERT_TRUE(line.ok);
  EXPECT_EQ(Parse(line.json)["response"].at("body").at("output").at("category"), "fraud");
}

TEST(BatchOutputTest, EveryOtherEndGoesToTheErrorFile) {
  Batch batch = MakeBatch();
  BatchJobRow failed = Row(JobStatus::kFailed);
  failed.job.error = JobError{"provider_rejected", "bad request"};
  OutputLine f = FormatJobLine(batch, BatchStatus::kCompleted, failed);
  EXPECT_FALSE(f.ok);
  EXPECT_EQ(Parse(f.json)["response"].at("status_code"), 400);
  EXPECT_EQ(Parse(f.json)["response"].at("body").at("error").at("code"), "provider_rejected");
  failed.job.error = JobError{"timeout", "slow"};
  EXPECT_EQ(Parse(FormatJobLine(batch, BatchStatus::kCompleted, failed).json)["response"].at("status_code"), 500);

  BatchJobRow review = Row(JobStatus::kReview);
  review.result_json = R"({"output":{"confidence":0.1}})";
  json::object r = Parse(FormatJobLine(batch, BatchStatus::kCompleted, review).json);
  EXPECT_EQ(r["response"].at("status_code"), 422);
  EXPECT_EQ(r["response"].at("body").at("error").at("code"), "review_required");
  EXPECT_EQ(r["response"].at("body").at("result").at("output").at("confidence"), 0.1);

  json::object expired = Parse(FormatJobLine(batch, BatchStatus::kExpired, Row(JobStatus::kExpired)).json);
  EXPECT_TRUE(expired["response"].is_null());
  EXPECT_EQ(expired["error"].at("code"), "batch_expired");
  BatchJobRow own = Row(JobStatus::kExpired);
  own.job.spec.deadline = 1'000;
  EXPECT_EQ(Parse(FormatJobLine(batch, BatchStatus::kCompleted, own).json)["error"].at("code"), "request_timeout");

  EXPECT_EQ(Parse(FormatJobLine(batch, BatchStatus::kCancelled, Row(JobStatus::kCanceled)).json)["error"].at("code"),
            "batch_cancelled");
  EXPECT_EQ(Parse(FormatJobLine(batch, BatchStatus::kCompleted, Row(JobStatus::kCanceled)).json)["error"].at("code"),
            "request_cancelled");
  EXPECT_EQ(Parse(FormatJobLine(batch, BatchStatus::kExpired, Row(JobStatus::kRunning)).json)["error"].at("code"),
            "batch_expired");
}

TEST(BatchOutputTest, LineErrors) {
  Batch batch = MakeBatch();
  json::object bad = Parse(FormatLineError(
      batch, BatchLineError{.line = 7, .custom_id = "r7", .status_code = 400, .code = "invalid_request",
                            .message = "model alias nope is not configured", .field = "body.model"}));
  EXPECT_EQ(bad["id"], "batch_req_ABC_L7");
  EXPECT_EQ(bad["custom_id"], "r7");
  EXPECT_EQ(bad["response"].at("status_code"), 400);
  EXPECT_TRUE(bad["response"].at("request_id").is_null());
  EXPECT_EQ(bad["response"].at("body").at("error").at("field"), "body.model");
  EXPECT_TRUE(bad["error"].is_null());
  json::object cancelled = Parse(FormatLineError(
      batch, BatchLineError{.line = 8, .custom_id = "r8", .status_code = 0, .code = "batch_cancelled", .message = "m"}));
  EXPECT_TRUE(cancelled["response"].is_null());
  EXPECT_EQ(cancelled["error"].at("code"), "batch_cancelled");
}

}  // namespace
}  // namespace sluice
