// Error paths of /v1/files (files_routes.cc) against the real router and a real SqliteStore.
#include <gtest/gtest.h>

#include "api/api_test_server.h"

namespace sluice {
namespace {

using testing::ApiReply;
using testing::ApiTestServer;
using testing::ExpectApiError;
using testing::Multipart;

ApiReply Upload(ApiTestServer& api, const std::vector<std::pair<std::string, std::string>>& fields,
                const std::string& file_field, const std::string& content) {
  auto [body, type] = Multipart(fields, file_field, content);
  return api.call("POST", "/v1/files", body, {type});
}

TEST(FilesRoutesTest, UnknownIdsAre404) {
  ApiTestServer api;
  ExpectApiError(api.get("/v1/files/file_nope"), 404, "not_found");
  ExpectApiError(api.get("/v1/files/file_nope/content"), 404, "not_found");
}

TEST(FilesRoutesTest, BadUploadsAre4xxNamingTheField) {
  ApiTestServer api({.extra_server_toml = "max_file = \"1KiB\"\n"});
  ExpectApiError(api.post("/v1/files", R"({"purpose": "batch"})"), 415, "unsupported_media_type");
  ExpectApiError(api.call("POST", "/v1/files", "x", {"Content-Type: multipart/form-data"}), 400,
                 "invalid_argument");
  ExpectApiError(Upload(api, {}, "file", "{}\n"), 400, "invalid_argument", "purpose");
  ExpectApiError(Upload(api, {{"purpose", "fine-tune"}}, "file", "{}\n"), 400, "invalid_argument", "purpose");
  ExpectApiError(Upload(api, {{"purpose", "batch"}}, "", ""), 400, "invalid_argument", "file");
  ExpectApiError(Upload(api, {{"purpose", "batch"}}, "file", ""), 400, "invalid_argument", "file");
  ExpectApiError(Upload(api, {{"purpose", "batch"}}, "file", std::string(2048, 'x')), 413, "payload_too_large",
                 "file");
  // A good upload on the same server, read back through both GET routes.
  ApiReply ok = Upload(api, {{"purpose", "batch"}}, "file", "{\"a\": 1}\n");
  ASSERT_EQ(ok.status, 200) << ok.text;
  const std::string id(ok.body.at("id").as_string());
  EXPECT_EQ(api.get("/v1/files/" + id).body.at("bytes").as_int64(), 9);
  ApiReply content = api.get("/v1/files/" + id + "/content");
  EXPECT_EQ(content.status, 200);
  EXPECT_EQ(content.text, "{\"a\": 1}\n");
}

TEST(FilesRoutesTest, WrongMethodsAre405) {
  ApiTestServer api;
  ExpectApiError(api.get("/v1/files"), 405, "method_not_allowed");
  ExpectApiError(api.call("DELETE", "/v1/files/file_x"), 405, "method_not_allowed");
  ExpectApiError(api.post("/v1/files/file_x/content", "{}"), 405, "method_not_allowed");
}

}  // namespace
}  // namespace sluice
