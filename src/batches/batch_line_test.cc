#include "batches/batch_line.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sluice {
namespace {

namespace json = boost::json;

constexpr Millis kNow = 1'800'000'000'000;

Batch MakeBatch(std::string endpoint = "/v1/chat/completions") {
  Batch b;
  b.id = "batch_X";
  b.endpoint = std::move(endpoint);
  b.created_at = kNow;
  b.expires_at = kNow + 3'600'000;
  return b;
}

// A stand-in for the API's job validation: type and queue are required, "deadline_in" (ms as a
// number here) sets a deadline, and a task default of 10 minutes applies otherwise.
Result<Job> FakeJobFromBody(const json::value& body, const std::string& tenant, Millis now) {
  const json::object& o = body.as_object();
  if (!o.contains("type")) return InvalidArgument("type is required", "type");
  if (o.contains("request") && !o.at("request").as_object().contains("messages")) {
    return InvalidArgument("request.messages must be a non-empty array", "request.messages");
  }
  Job job;
  job.id = "job_1";
  job.created_at = now;
  job.spec.tenant = tenant;
  job.spec.type = std::string(o.at("type").as_string());
  job.spec.queue = std::string(o.at("queue").as_string());
  job.spec.input_json = json::serialize(o.contains("request") ? o.at("request") : o.at("input"));
  job.spec.metadata_json = o.contains("metadata") ? json::serialize(o.at("metadata")) : "{}";
  job.spec.run_at = o.contains("run_in") ? now + o.at("run_in").as_int64() : now;
  job.spec.deadline = o.contains("deadline_in") ? now + o.at("deadline_in").as_int64() : now + 600'000;
  return job;
}

std::string CodeOf(const Result<BatchLine>& r) { return r.ok() ? "ok" : r.status().error_code(); }

TEST(BatchLineTest, StructureOfALine) {
  const std::string endpoint = "/v1/chat/completions";
  auto ok = ParseBatchLine(R"({"custom_id":"r1","method":"POST","url":"/v1/chat/completions","body":{"a":1}})",
                           endpoint);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->custom_id, "r1");
  EXPECT_EQ(json::serialize(ok->body), R"({"a":1})");

  EXPECT_EQ(CodeOf(ParseBatchLine("{not json", endpoint)), "invalid_json_line");
  EXPECT_EQ(CodeOf(ParseBatchLine("[1,2]", endpoint)), "invalid_json_line");
  EXPECT_EQ(CodeOf(ParseBatchLine(R"({"method":"POST","url":"/v1/chat/completions","body":{}})", endpoint)),
            "invalid_custom_id");
  EXPECT_EQ(CodeOf(ParseBatchLine(R"({"custom_id":7,"method":"POST","url":"/v1/chat/completions","body":{}})",
                                  endpoint)),
            "invalid_custom_id");
  EXPECT_EQ(CodeOf(ParseBatchLine("{\"custom_id\":\"" + std::string(513, 'x') +
                                      R"(","method":"POST","url":"/v1/chat/completions","body":{}})",
                                  endpoint)),
            "invalid_custom_id");
  EXPECT_EQ(CodeOf(ParseBatchLine(R"({"custom_id":"r","method":"GET","url":"/v1/chat/completions","body":{}})",
                                  endpoint)),
            "invalid_method");
  EXPECT_EQ(CodeOf(ParseBatchLine(R"({"custom_id":"r","method":"POST","url":"/v1/embeddings","body":{}})",
                                  endpoint)),
            "invalid_url");
  EXPECT_EQ(CodeOf(ParseBatchLine(R"({"custom_id":"r","method":"POST","url":"/v1/chat/completions"})", endpoint)),
            "missing_body");
  // A body of the wrong shape is the request's problem, not the file's.
  EXPECT_EQ(CodeOf(ParseBatchLine(R"({"custom_id":"r","method":"POST","url":"/v1/chat/completions","body":3})",
                                  endpoint)),
            "ok");
}

TEST(BatchLineTest, AChatLineIsAChatJobOfTheBatch) {
  Batch batch = MakeBatch();
  BatchLine line{.custom_id = "request-1", .body = json::parse(R"({"model":"fast","messages":[]})")};
  auto job = BatchLineJob(line, batch, FakeJobFromBody, kNow);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->spec.type, "chat");
  EXPECT_EQ(job->spec.queue, "batch");
  EXPECT_EQ(job->spec.input_json, R"({"model":"fast","messages":[]})");
  // custom_ids repeat across batches: the dedup key is scoped to the batch.
  EXPECT_EQ(job->spec.dedup_key, "batch_X:request-1");
  // The completion window is the deadline, not the job type's default.
  EXPECT_EQ(job->spec.deadline, batch.expires_at);
  EXPECT_EQ(job->spec.metadata_json, R"({"batch_id":"batch_X","custom_id":"request-1"})");

  BatchLine bad{.custom_id = "r", .body = json::parse(R"({"model":"fast"})")};
  auto refused = BatchLineJob(bad, batch, FakeJobFromBody, kNow);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().field(), "body.messages");
  BatchLine not_object{.custom_id = "r", .body = json::value(3)};
  EXPECT_EQ(BatchLineJob(not_object, batch, FakeJobFromBody, kNow).status().field(), "body");
}

TEST(BatchLineTest, AJobsLineIsItsBodyWithTheBatchDefaults) {
  Batch batch = MakeBatch("/v1/jobs");
  BatchLine line{.custom_id = "t1", .body = json::parse(R"({"type":"classify_ticket","input":{"text":"x"}})")};
  auto job = BatchLineJob(line, batch, FakeJobFromBody, kNow);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->spec.type, "classify_ticket");
  EXPECT_EQ(job->spec.queue, "batch");
  EXPECT_EQ(job->spec.dedup_key, "batch_X:t1");
  EXPECT_EQ(job->spec.deadline, batch.expires_at);

  BatchLine own_queue{.custom_id = "t2",
                      .body = json::parse(R"({"type":"x","queue":"default","input":{},"deadline_in":1000})")};
  job = BatchLineJob(own_queue, batch, FakeJobFromBody, kNow);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->spec.queue, "default");
  EXPECT_EQ(job->spec.deadline, kNow + 1000);  // an earlier deadline of its own is kept
  BatchLine late{.custom_id = "t3", .body = json::parse(R"({"type":"x","input":{},"deadline_in":99999999})")};
  job = BatchLineJob(late, batch, FakeJobFromBody, kNow);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->spec.deadline, batch.expires_at);  // never past the window

  BatchLine dedup{.custom_id = "t4", .body = json::parse(R"({"type":"x","input":{},"dedup_key":"mine"})")};
  EXPECT_EQ(BatchLineJob(dedup, batch, FakeJobFromBody, kNow).status().field(), "body.dedup_key");
  BatchLine untyped{.custom_id = "t5", .body = json::parse(R"({"input":{}})")};
  EXPECT_EQ(BatchLineJob(untyped, batch, FakeJobFromBody, kNow).status().field(), "body.type");
  BatchLine after_window{.custom_id = "t6", .body = json::parse(R"({"type":"x","input":{},"run_in":7200000})")};
  EXPECT_EQ(BatchLineJob(after_window, batch, FakeJobFromBody, kNow).status().field(), "body.run_at");
}

TEST(BatchLineTest, AStoreThatCannotAnswerIsNotTheRequestsFault) {
  Batch batch = MakeBatch("/v1/jobs");
  BatchLine line{.custom_id = "t1", .body = json::parse(R"({"type":"x"})")};
  auto unavailable = [](const json::value&, const std::string&, Millis) -> Result<Job> {
    return Unavailable("blob store unreachable");
  };
  EXPECT_EQ(BatchLineJob(line, batch, unavailable, kNow).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace sluice
