// Error paths of /v1/chat/completions (chat_routes.cc) against the real router.
#include <gtest/gtest.h>

#include "api/api_test_server.h"

namespace sluice {
namespace {

using testing::ApiReply;
using testing::ApiTestServer;
using testing::ExpectApiError;

TEST(ChatRoutesTest, BadBodiesAre400NamingTheField) {
  ApiTestServer api;
  const std::string path = "/v1/chat/completions";
  ExpectApiError(api.post(path, "{\"model\""), 400, "invalid_json");
  ExpectApiError(api.call("POST", path, "{}", {"Content-Type: text/plain"}), 415, "unsupported_media_type");
  ExpectApiError(api.post(path, "[]"), 400, "invalid_argument");
  ExpectApiError(api.post(path, R"({"messages": [{"role": "user", "content": "hi"}]})"), 400, "invalid_argument",
                 "model");
  ExpectApiError(api.post(path, R"({"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}]})"), 400,
                 "invalid_argument", "model");
  ExpectApiError(api.post(path, R"({"model": "fast", "messages": []})"), 400, "invalid_argument", "messages");
  ExpectApiError(api.post(path, R"({"model": "fast", "messages": [{"content": "hi"}]})"), 400, "invalid_argument",
                 "messages[0]");
  ExpectApiError(api.post(path, R"({"model": "fast", "messages": [{"role": "user", "content": "hi"}], "stream": 1})"),
                 400, "invalid_argument", "stream");
}

TEST(ChatRoutesTest, InputOverTheSyncLimitIs413UseAsync) {
  ApiTestServer api({.extra_server_toml = "sync_max_input_tokens = 10\n"});
  std::string words;
  for (int i = 0; i < 200; ++i) words += "word ";
  ExpectApiError(api.post("/v1/chat/completions",
                          R"({"model": "fast", "messages": [{"role": "user", "content": ")" + words + "\"}]}"),
                 413, "use_async");
  ApiReply ok = api.post("/v1/chat/completions", R"({"model": "fast", "messages": [{"role": "user", "content": "hi"}]})");
  EXPECT_EQ(ok.status, 200) << ok.text;
}

TEST(ChatRoutesTest, WrongMethodIs405AndOversizeBodyIs413) {
  ApiTestServer api({.extra_server_toml = "max_body = \"4KiB\"\n"});
  ExpectApiError(api.get("/v1/chat/completions"), 405, "method_not_allowed");
  ExpectApiError(api.post("/v1/chat/completions", R"({"model": "fast", "messages": [{"role": "user", "content": ")" +
                                                      std::string(5000, 'a') + "\"}]}"),
                 413, "payload_too_large");
}

}  // namespace
}  // namespace sluice
