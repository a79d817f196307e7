// Error paths of /v1/batches (batches_routes.cc) against the real router and a real SqliteStore.
#include <gtest/gtest.h>

#include "api/api_test_server.h"

namespace sluice {
namespace {

using testing::ApiReply;
using testing::ApiTestServer;
using testing::ExpectApiError;

const char* kLine = R"({"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "fast", "messages": [{"role": "user", "content": "hi"}]}})";

std::string CreateBody(const std::string& file_id, const std::string& extra = {}) {
  return R"({"input_file_id": ")" + file_id +
         R"(", "endpoint": "/v1/chat/completions", "completion_window": "24h")" + extra + "}";
}

TEST(BatchesRoutesTest, UnknownIdsAre404) {
  ApiTestServer api;
  ExpectApiError(api.get("/v1/batches/batch_nope"), 404, "not_found");
  ExpectApiError(api.post("/v1/batches/batch_nope/cancel", ""), 404, "not_found");
  ExpectApiError(api.post("/v1/batches", CreateBody("file_nope")), 404, "not_found", "input_file_id");
}

TEST(BatchesRoutesTest, BadCreateBodiesAre400NamingTheField) {
  ApiTestServer api;
  const std::string file = api.upload(std::string(kLine) + "\n");
  ExpectApiError(api.post("/v1/batches", "{"), 400, "invalid_json");
  ExpectApiError(api.call("POST", "/v1/batches", CreateBody(file), {"Content-Type: text/plain"}), 415,
                 "unsupported_media_type");
  ExpectApiError(api.post("/v1/batches", "[]"), 400, "invalid_argument");
  ExpectApiError(api.post("/v1/batches", R"({"endpoint": "/v1/chat/completions", "completion_window": "24h"})"),
                 400, "invalid_argument", "input_file_id");
  ExpectApiError(api.post("/v1/batches", CreateBody(file, R"(, "colour": "blue")")), 400, "invalid_argument",
                 "colour");
  ExpectApiError(api.post("/v1/batches", R"({"input_file_id": ")" + file +
                                             R"(", "endpoint": "/v1/embeddings", "completion_window": "24h"})"),
                 400, "unsupported_endpoint", "endpoint");
  for (const char* window : {"soon", "0s", "500ms", "169h"}) {
    ExpectApiError(api.post("/v1/batches", R"({"input_file_id": ")" + file +
                                               R"(", "endpoint": "/v1/jobs", "completion_window": ")" + window +
                                               "\"}"),
                   400, "invalid_argument", "completion_window");
  }
  ExpectApiError(api.post("/v1/batches", CreateBody(file, R"(, "metadata": [])")), 400, "invalid_argument",
                 "metadata");
  ExpectApiError(api.post("/v1/batches", CreateBody(file, R"(, "metadata": {"team": 7})")), 400,
                 "invalid_argument", "metadata.team");
  ExpectApiError(api.post("/v1/batches", CreateBody(file, R"(, "webhook_url": 5)")), 400,
                 "invalid_argument", "webhook_url");
  EXPECT_TRUE(api.store().list_batches(kDefaultTenant, 100, "")->batches.empty());
  // The same file makes a batch with a good body.
  ApiReply ok = api.post("/v1/batches", CreateBody(file));
  EXPECT_EQ(ok.status, 200) << ok.text;
}

TEST(BatchesRoutesTest, CancelOfAFinishedBatchIs409) {
  ApiTestServer api;
  const std::string file = api.upload(std::string(kLine) + "\n");
  ApiReply created = api.post("/v1/batches", CreateBody(file));
  ASSERT_EQ(created.status, 200) << created.text;
  const std::string id(created.body.at("id").as_string());
  auto moved = api.store().transition_batch(
      BatchTransition{.id = id, .from = {BatchStatus::kValidating}, .to = BatchStatus::kCompleted, .now = 1});
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  ExpectApiError(api.post("/v1/batches/" + id + "/cancel", ""), 409, "conflict");
  EXPECT_EQ(api.store().get_batch(kDefaultTenant, id)->status, BatchStatus::kCompleted);
}

TEST(BatchesRoutesTest, BadListParametersAre400) {
  ApiTestServer api;
  for (const char* limit : {"0", "101", "many"}) {
    ExpectApiError(api.get(std::string("/v1/batches?limit=") + limit), 400, "invalid_argument", "limit");
  }
  ApiReply ok = api.get("/v1/batches?limit=100");
  EXPECT_EQ(ok.status, 200) << ok.text;
  EXPECT_EQ(ok.body.at("object").as_string(), "list");
}

TEST(BatchesRoutesTest, WrongMethodsAre405AndOversizeBodies413) {
  ApiTestServer api({.extra_server_toml = "max_body = \"16KiB\"\n"});
  ExpectApiError(api.call("DELETE", "/v1/batches/batch_x"), 405, "method_not_allowed");
  ExpectApiError(api.get("/v1/batches/batch_x/cancel"), 405, "method_not_allowed");
  ExpectApiError(api.call("PUT", "/v1/batches"), 405, "method_not_allowed");
  ExpectApiError(api.post("/v1/batches", CreateBody("file_x", R"(, "metadata": {"k": ")" +
                                                                  std::string(20 * 1024, 'v') + "\"}")),
                 413, "payload_too_large");
}

}  // namespace
}  // namespace sluice
