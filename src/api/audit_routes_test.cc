// GET /v1/audit (audit_routes.cc) against the real router and a real SqliteStore: sealed records
// with their hash last, oldest first, paging by `next`, filters, 400s for bad paging, and the
// sync path's actor. (Which tenant sees what needs keys: tests/integration/test_audit.py.)
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "api/api_test_server.h"
#include "store/audit_chain.h"

namespace sluice {
namespace {

using testing::ApiReply;
using testing::ApiTestServer;
using testing::ExpectApiError;

// Runs one job to done, its attempt making `calls` calls; its id.
std::string RunJob(ApiTestServer& api, int calls) {
  return api.run_job_with_calls(std::vector<CallCharge>(
      calls, CallCharge{.provider = "primary", .model_alias = "fast", .outcome = "ok"}));
}

void SealAll(ApiTestServer& api) {
  while (*api.store().seal_audit(100) > 0) {
  }
}

TEST(AuditRoutesTest, ListsSealedRecordsWithTheirHashAndPagesByNext) {
  ApiTestServer api;
  const std::string first = RunJob(api, 2);
  RunJob(api, 1);
  SealAll(api);  // nothing to do here: the embedded store seals each entry as it commits

  ApiReply page = api.get("/v1/audit?limit=2");
  ASSERT_EQ(page.status, 200) << page.text;
  const boost::json::array& data = page.body.at("data").as_array();
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[0].at("seq").as_int64(), 1);
  EXPECT_EQ(data[0].at("action").as_string(), "model_call");
  EXPECT_EQ(data[0].at("job_id").as_string(), first);
  EXPECT_EQ(data[0].at("actor").as_string(), "system");
  EXPECT_EQ(data[1].at("prev_hash").as_string(), data[0].at("hash").as_string());
  EXPECT_EQ(page.body.at("next").as_int64(), 2);
  // The record is its canonical text with the hash appended: the hash checks out.
  auto split = SplitAuditLine(boost::json::serialize(data[0]));
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(AuditHash(kAuditGenesis, split->first), data[0].at("hash").as_string());

  ApiReply rest = api.get("/v1/audit?limit=2&after=2");
  ASSERT_EQ(rest.status, 200) << rest.text;
  ASSERT_EQ(rest.body.at("data").as_array().size(), 1u);
  EXPECT_EQ(rest.body.at("data").at(0).at("seq").as_int64(), 3);
  EXPECT_TRUE(rest.body.at("next").is_null());

  EXPECT_EQ(api.get("/v1/audit?job_id=" + first).body.at("data").as_array().size(), 2u);
  EXPECT_EQ(api.get("/v1/audit?action=key.create").body.at("data").as_array().size(), 0u);
}

TEST(AuditRoutesTest, RefusesPagingOutOfRange) {
  ApiTestServer api;
  ExpectApiError(api.get("/v1/audit?limit=0"), 400, "invalid_argument", "limit");
  ExpectApiError(api.get("/v1/audit?limit=1001"), 400, "invalid_argument", "limit");
  ExpectApiError(api.get("/v1/audit?after=x"), 400, "invalid_argument", "after");
  ExpectApiError(api.get("/v1/audit?after=-1"), 400, "invalid_argument", "after");
}

TEST(AuditRoutesTest, ASyncCallIsRecordedAsTheCallersCall) {
  ApiTestServer api;
  ApiReply chat = api.post("/v1/chat/completions",
                           R"({"model": "fast", "messages": [{"role": "user", "content": "hi"}]})");
  ASSERT_EQ(chat.status, 200) << chat.text;
  // The settlement (with its entry) runs after the answer, off the loop.
  for (int i = 0; i < 500 && *api.store().audit_pending() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  SealAll(api);
  ApiReply r = api.get("/v1/audit");
  ASSERT_EQ(r.status, 200) << r.text;
  ASSERT_EQ(r.body.at("data").as_array().size(), 1u);
  const boost::json::value& record = r.body.at("data").at(0);
  EXPECT_EQ(record.at("task_type").as_string(), "sync");
  EXPECT_EQ(record.at("job_id").as_string(), "");
  EXPECT_EQ(record.at("actor").as_string(), "anonymous");  // no authentication here
  EXPECT_EQ(record.at("outcome").as_string(), "ok");
  EXPECT_EQ(r.text.find("\"hi\""), std::string::npos);  // no prompt text
}

}  // namespace
}  // namespace sluice
