// Error paths of /v1/jobs (jobs_routes.cc) against the real router and a real SqliteStore.
#include <gtest/gtest.h>

#include "api/api_test_server.h"

namespace sluice {
namespace {

using testing::ApiReply;
using testing::ApiTestServer;
using testing::ExpectApiError;

const char* kApprove = R"({"action": "approve", "output": {"category": "fraud", "confidence": 1}})";

ApiTestServer::Options SmallBodies() { return {.extra_server_toml = "max_body = \"64KiB\"\n"}; }

TEST(JobsRoutesTest, UnknownIdsAre404OnEveryJobRoute) {
  ApiTestServer api;
  ExpectApiError(api.get("/v1/jobs/job_nope"), 404, "not_found");
  ExpectApiError(api.get("/v1/jobs/job_nope?wait=50ms"), 404, "not_found");
  ExpectApiError(api.post("/v1/jobs/job_nope/cancel", ""), 404, "not_found");
  ExpectApiError(api.post("/v1/jobs/job_nope/review", kApprove), 404, "not_found");
  ExpectApiError(api.get("/v1/jobs/job_nope/result"), 404, "not_found");
  ExpectApiError(api.get("/v1/jobs/job_nope/events"), 404, "not_found");
}

TEST(JobsRoutesTest, ResultOfAJobWithoutOneIs404ResultNotReady) {
  ApiTestServer api;
  const std::string id = api.job_in(JobStatus::kQueued);
  ExpectApiError(api.get("/v1/jobs/" + id + "/result"), 404, "result_not_ready");
  const std::string done = api.job_in(JobStatus::kDone);
  EXPECT_EQ(api.get("/v1/jobs/" + done + "/result").status, 200);
}

TEST(JobsRoutesTest, CancelOfAFinishedJobIs409AndChangesNothing) {
  ApiTestServer api;
  for (JobStatus status : {JobStatus::kDone, JobStatus::kFailed, JobStatus::kCanceled}) {
    const std::string id = api.job_in(status);
    ExpectApiError(api.post("/v1/jobs/" + id + "/cancel", ""), 409, "conflict");
    EXPECT_EQ(api.store().get_job(kDefaultTenant, id)->status, status) << JobStatusName(status);
  }
  // The same route on a live job does cancel: the 409s above are about state, not the route.
  const std::string queued = api.job_in(JobStatus::kQueued);
  ApiReply r = api.post("/v1/jobs/" + queued + "/cancel", "");
  EXPECT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body.at("status").as_string(), "canceled");
}

TEST(JobsRoutesTest, ReviewOfAJobNotInReviewIs409) {
  ApiTestServer api;
  for (JobStatus status : {JobStatus::kQueued, JobStatus::kRunning, JobStatus::kDone, JobStatus::kCanceled}) {
    const std::string id = api.job_in(status);
    ExpectApiError(api.post("/v1/jobs/" + id + "/review", kApprove), 409, "conflict");
    EXPECT_EQ(api.store().get_job(kDefaultTenant, id)->status, status) << JobStatusName(status);
  }
}

TEST(JobsRoutesTest, BadReviewBodiesAre400NamingTheField) {
  ApiTestServer api;
  const std::string id = api.job_in(JobStatus::kReview);
  const std::string path = "/v1/jobs/" + id + "/review";
  ExpectApiError(api.post(path, "{not json"), 400, "invalid_json");
  ExpectApiError(api.call("POST", path, kApprove, {"Content-Type: text/plain"}), 415, "unsupported_media_type");
  ExpectApiError(api.post(path, "[1]"), 400, "invalid_argument", "action");
  ExpectApiError(api.post(path, "{}"), 400, "invalid_argument", "action");
  ExpectApiError(api.post(path, R"({"action": 7})"), 400, "invalid_argument", "action");
  ExpectApiError(api.post(path, R"({"action": "shrug"})"), 400, "invalid_argument", "action");
  ExpectApiError(api.post(path, R"({"action": "approve"})"), 400, "invalid_argument", "output");
  ExpectApiError(api.post(path, R"({"action": "approve", "output": {"category": 3}})"), 400, "invalid_argument",
                 "output");
  ExpectApiError(api.post(path, R"({"action": "reject", "reason": 5})"), 400, "invalid_argument", "reason");
  ExpectApiError(api.post(path, R"({"action": "retry", "model": "no_such_alias"})"), 400, "invalid_argument",
                 "model");
  // None of them touched the job; a good decision still goes through.
  EXPECT_EQ(api.store().get_job(kDefaultTenant, id)->status, JobStatus::kReview);
  ApiReply r = api.post(path, kApprove);
  EXPECT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body.at("status").as_string(), "done");
}

TEST(JobsRoutesTest, BadListAndWaitParametersAre400NamingTheParameter) {
  ApiTestServer api;
  ExpectApiError(api.get("/v1/jobs?status=finished"), 400, "invalid_argument", "status");
  for (const char* limit : {"0", "1001", "ten", "5x", "-1"}) {
    ExpectApiError(api.get(std::string("/v1/jobs?limit=") + limit), 400, "invalid_argument", "limit");
  }
  const std::string id = api.job_in(JobStatus::kQueued);
  ExpectApiError(api.get("/v1/jobs/" + id + "?wait=soon"), 400, "invalid_argument", "wait");
  ExpectApiError(api.post("/v1/jobs?wait=-1s", R"({"type": "ticket", "input": {"text": "x"}})"), 400,
                 "invalid_argument", "wait");
  ApiReply ok = api.get("/v1/jobs?status=queued&limit=1000");
  EXPECT_EQ(ok.status, 200) << ok.text;
  EXPECT_EQ(ok.body.at("data").as_array().size(), 1u);
}

TEST(JobsRoutesTest, BadSubmitBodiesAre400Or415AndStoreNothing) {
  ApiTestServer api;
  ExpectApiError(api.post("/v1/jobs", "{\"type\": "), 400, "invalid_json");
  ExpectApiError(api.call("POST", "/v1/jobs", R"({"type": "ticket"})", {"Content-Type: text/csv"}), 415,
                 "unsupported_media_type");
  ExpectApiError(api.post("/v1/jobs", R"({"type": "ticket", "input": {"blob": "sha256:)" + std::string(64, 'a') +
                                           R"("}})"),
                 400, "invalid_argument", "input.blob");
  ExpectApiError(api.post("/v1/jobs/bulk", R"({"jobs": 5})"), 400, "invalid_argument", "jobs");
  ExpectApiError(api.post("/v1/jobs/bulk", "nope"), 400, "invalid_json");
  EXPECT_TRUE(api.store().list_jobs(JobFilter{})->jobs.empty());
}

// Masking is asked for by the body's mask_pii or the Sluice-Mask-PII header (and the task
// version, the tenant); the job records the answer. A value that is not a clear yes or no is
// refused rather than read as "no".
TEST(JobsRoutesTest, MaskPiiComesFromTheBodyOrTheHeaderAndIsRecordedOnTheJob) {
  ApiTestServer api;
  const std::string job = R"({"type": "ticket", "input": {"text": "mail a@x.io"})";
  ExpectApiError(api.post("/v1/jobs", job + R"(, "mask_pii": "yes"})"), 400, "invalid_argument", "mask_pii");
  for (const char* path : {"/v1/jobs", "/v1/jobs/bulk"}) {
    const std::string body = std::string(path) == "/v1/jobs" ? job + "}" : R"({"jobs": [)" + job + "}]}";
    ExpectApiError(api.call("POST", path, body, {"Content-Type: application/json", "Sluice-Mask-PII: 1"}),
                   400, "invalid_argument", "Sluice-Mask-PII");
  }
  EXPECT_TRUE(api.store().list_jobs(JobFilter{})->jobs.empty());

  EXPECT_FALSE(api.post("/v1/jobs", job + "}").body.at("mask_pii").as_bool());
  EXPECT_TRUE(api.post("/v1/jobs", job + R"(, "mask_pii": true})").body.at("mask_pii").as_bool());
  ApiReply by_header =
      api.call("POST", "/v1/jobs", job + "}", {"Content-Type: application/json", "Sluice-Mask-PII: true"});
  ASSERT_EQ(by_header.status, 202) << by_header.text;
  EXPECT_TRUE(by_header.body.at("mask_pii").as_bool());
  // A job cannot turn off what the header asked for.
  ApiReply both = api.call("POST", "/v1/jobs", job + R"(, "mask_pii": false})",
                           {"Content-Type: application/json", "Sluice-Mask-PII: true"});
  EXPECT_TRUE(both.body.at("mask_pii").as_bool()) << both.text;
}

// Every duration and time field of a job body: what cannot be parsed is a 400 naming the field,
// never "unset" (an empty string used to create a job with no deadline). Single jobs and bulk
// items go through the same parser, so both are checked.
TEST(JobsRoutesTest, UnparseableDurationAndTimeFieldsAre400NamingTheField) {
  ApiTestServer api;
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"deadline_in",
       {R"("")", R"("soon")", R"("-5s")", R"("30")", R"("s")", R"(".s")", R"("30s ")", "30", "true",
        R"(["30s"])", "{}"}},
      {"run_in",
       {R"("")", R"("later")", R"("-1m")", R"("1m30")", R"(".m")", "3600", "false", "[]"}},
      {"deadline",
       {R"("")", R"("tomorrow")", R"("2999-01-01")", R"("2999-01-01T00:00:00")", "1893456000",
        "true", "{}"}},
      {"run_at", {R"("")", R"("next tuesday")", R"("2999-13-01T00:00:00Z")", "0", "[]"}},
  };
  for (const auto& [field, values] : cases) {
    for (const std::string& value : values) {
      const std::string job =
          R"({"type": "ticket", "input": {"text": "x"}, ")" + field + R"(": )" + value + "}";
      SCOPED_TRACE(job);
      ExpectApiError(api.post("/v1/jobs", job), 400, "invalid_argument", field);
      ApiReply bulk = api.post("/v1/jobs/bulk", R"({"jobs": [)" + job + "]}");
      ASSERT_EQ(bulk.status, 200) << bulk.text;
      const auto& item = bulk.body.at("jobs").as_array().at(0).as_object();
      ASSERT_TRUE(item.contains("error")) << bulk.text;
      EXPECT_EQ(item.at("error").at("code").as_string(), "invalid_argument") << bulk.text;
      EXPECT_EQ(item.at("error").at("field").as_string(), field) << bulk.text;
    }
  }
  EXPECT_TRUE(api.store().list_jobs(JobFilter{})->jobs.empty());
  // The same fields with good values are accepted: the 400s above are about the values.
  for (const char* good :
       {R"("deadline_in": "1m30s")", R"("run_in": "250ms")",
        R"("deadline": "2999-01-01T00:00:00Z")", R"("run_at": "2999-01-01T00:00:00.5+02:00")"}) {
    ApiReply r = api.post(
        "/v1/jobs", std::string(R"({"type": "ticket", "input": {"text": "x"}, )") + good + "}");
    EXPECT_EQ(r.status, 202) << good << " " << r.text;
  }
}

// max_tokens, max_completion_tokens and n size the worst-case cost of a call, so they must be
// whole numbers in range, for a task job's params and a chat job's request alike.
TEST(JobsRoutesTest, CallSizeParamsMustBeWholeNumbersInRange) {
  ApiTestServer api;
  for (const char* key : {"max_tokens", "max_completion_tokens", "n"}) {
    for (const char* value : {"0", "-3", "1.5", "\"200\"", "true", "1e9", "[]"}) {
      SCOPED_TRACE(std::string(key) + "=" + value);
      ExpectApiError(
          api.post("/v1/jobs",
                   std::string(R"({"type": "ticket", "input": {"text": "x"}, "params": {")") + key +
                       R"(": )" + value + "}}"),
          400, "invalid_argument", std::string("params.") + key);
      ExpectApiError(api.post("/v1/jobs",
                              std::string(R"({"type": "chat", "request": {"model": "fast", )"
                                          R"("messages": [{"role": "user", "content": "hi"}], ")") +
                                  key + R"(": )" + value + "}}"),
                     400, "invalid_argument", std::string("request.") + key);
    }
  }
  ExpectApiError(
      api.post("/v1/jobs", R"({"type": "ticket", "input": {"text": "x"}, "params": {"n": 17}})"),
      400, "invalid_argument", "params.n");
  EXPECT_TRUE(api.store().list_jobs(JobFilter{})->jobs.empty());
  ApiReply ok = api.post(
      "/v1/jobs", R"({"type": "ticket", "input": {"text": "x"}, )"
                  R"("params": {"max_tokens": 2e3, "max_completion_tokens": 100, "n": 16}})");
  EXPECT_EQ(ok.status, 202) << ok.text;
}

// Found by fuzz/fuzz_job_request: a number beyond a double's range is read as infinity and
// serialized as `Infinity`, not JSON. In params or a chat request, the re-parse threw out of
// validation (a 500); in metadata, the job was stored and could not run.
TEST(JobsRoutesTest, NumbersOutOfRangeAre400NamingTheFieldAndStoreNothing) {
  ApiTestServer api;
  ExpectApiError(api.post("/v1/jobs", R"({"type": "ticket", "input": {"text": "x"}, )"
                                      R"("params": {"temperature": 1e400}})"),
                 400, "invalid_argument", "params.temperature");
  ExpectApiError(api.post("/v1/jobs", R"({"type": "ticket", "input": {"text": "x"}, )"
                                      R"("metadata": {"a": {"b": [1, -1e999]}}})"),
                 400, "invalid_argument", "metadata.a.b[1]");
  ExpectApiError(api.post("/v1/jobs", R"({"type": "chat", "request": {"model": "fast", )"
                                      R"("messages": [{"role": "user", "content": "hi"}], )"
                                      R"("max_tokens": 92233720368547758071.5e+300}})"),
                 400, "invalid_argument", "request.max_tokens");
  EXPECT_TRUE(api.store().list_jobs(JobFilter{})->jobs.empty());
  ApiReply ok = api.post("/v1/jobs", R"({"type": "ticket", "input": {"text": "x"}, )"
                                     R"("metadata": {"big": 1e300, "small": -1e-400}})");
  EXPECT_EQ(ok.status, 202) << ok.text;
}

// params that would change the call's contract or slip past the cost limit are refused, each
// naming its field; sampling knobs go through.
TEST(JobsRoutesTest, ParamsThatChangeTheContractOrTheCostAreRefused) {
  ApiTestServer api;
  for (const char* key :
       {"model", "messages", "response_format", "tools", "tool_choice", "parallel_tool_calls",
        "functions", "function_call", "modalities", "audio", "stream", "stream_options",
        "service_tier", "web_search_options", "store", "metadata"}) {
    SCOPED_TRACE(key);
    ExpectApiError(
        api.post("/v1/jobs",
                 std::string(R"({"type": "ticket", "input": {"text": "x"}, "params": {")") + key +
                     R"(": null}})"),
        400, "invalid_argument", std::string("params.") + key);
  }
  EXPECT_TRUE(api.store().list_jobs(JobFilter{})->jobs.empty());
  ApiReply ok = api.post(
      "/v1/jobs", R"({"type": "ticket", "input": {"text": "x"}, "params": {"temperature": 0.2, )"
                  R"("top_p": 0.9, "seed": 7, "stop": ["\n"], "logit_bias": {"50256": -100}, )"
                  R"("user": "u-1", "presence_penalty": 0.1}})");
  EXPECT_EQ(ok.status, 202) << ok.text;
}

TEST(JobsRoutesTest, ABodyOverMaxBodyIs413) {
  ApiTestServer api(SmallBodies());
  const std::string text(70 * 1024, 'a');
  ExpectApiError(api.post("/v1/jobs", R"({"type": "ticket", "input": {"text": ")" + text + "\"}}"), 413,
                 "payload_too_large");
  ExpectApiError(api.post("/v1/jobs/job_x/review", R"({"action": "reject", "reason": ")" + text + "\"}"), 413,
                 "payload_too_large");
  EXPECT_TRUE(api.store().list_jobs(JobFilter{})->jobs.empty());
}

TEST(JobsRoutesTest, WrongMethodsAre405) {
  ApiTestServer api;
  const std::string id = api.job_in(JobStatus::kQueued);
  ExpectApiError(api.call("DELETE", "/v1/jobs"), 405, "method_not_allowed");
  ExpectApiError(api.call("PUT", "/v1/jobs/" + id), 405, "method_not_allowed");
  ExpectApiError(api.get("/v1/jobs/" + id + "/cancel"), 405, "method_not_allowed");
  ExpectApiError(api.get("/v1/jobs/" + id + "/review"), 405, "method_not_allowed");
  ExpectApiError(api.post("/v1/jobs/" + id + "/result", "{}"), 405, "method_not_allowed");
  ExpectApiError(api.get("/v1/jobs/bulk/x"), 404, "not_found");
}

}  // namespace
}  // namespace sluice
