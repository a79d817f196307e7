// Error paths of /v1/blobs (blobs_routes.cc) against the real router and a file blob store.
#include <gtest/gtest.h>

#include "api/api_test_server.h"

namespace sluice {
namespace {

using testing::ApiReply;
using testing::ApiTestServer;
using testing::ExpectApiError;

TEST(BlobsRoutesTest, EmptyUnknownMalformedAndOversize) {
  ApiTestServer api({.extra_server_toml = "max_body = \"8KiB\"\n"});
  ExpectApiError(api.call("POST", "/v1/blobs", "", {"Content-Type: application/octet-stream"}), 400,
                 "invalid_argument", "body");
  ExpectApiError(api.get("/v1/blobs/sha256:" + std::string(64, '0')), 404, "not_found");
  ExpectApiError(api.get("/v1/blobs/md5:abc"), 400, "invalid_argument", "id");
  ExpectApiError(api.call("POST", "/v1/blobs", std::string(9 * 1024, 'b'), {"Content-Type: text/plain"}), 413,
                 "payload_too_large");
  ExpectApiError(api.call("DELETE", "/v1/blobs/sha256:" + std::string(64, '0')), 405, "method_not_allowed");
  ExpectApiError(api.get("/v1/blobs"), 405, "method_not_allowed");
  // The same routes work: stored once (201), again (200), read back.
  ApiReply first = api.call("POST", "/v1/blobs", "some bytes", {"Content-Type: text/plain"});
  EXPECT_EQ(first.status, 201) << first.text;
  EXPECT_EQ(api.call("POST", "/v1/blobs", "some bytes", {"Content-Type: text/plain"}).status, 200);
  ApiReply read = api.get("/v1/blobs/" + std::string(first.body.at("id").as_string()));
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(read.text, "some bytes");
}

// A job that names a blob records the reference (what retention keeps a blob for); a blob that
// only another tenant put is no blob at all to this one, however equal the bytes.
TEST(BlobsRoutesTest, AJobRecordsTheBlobItNamesAndAnotherTenantsBlobIsNone) {
  ApiTestServer api;
  ApiReply put = api.call("POST", "/v1/blobs", "ticket text", {"Content-Type: text/plain"});
  ASSERT_EQ(put.status, 201) << put.text;
  const std::string ours(put.body.at("id").as_string());
  ApiReply job =
      api.post("/v1/jobs", R"({"type": "ticket", "input": {"blob": ")" + ours + R"("}})");
  EXPECT_EQ(job.status, 202) << job.text;
  EXPECT_TRUE(*api.store().blob_referenced(kDefaultTenant, ours));

  auto theirs = api.ctx().blobs.put("acme", "acme's own bytes");
  ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
  ExpectApiError(api.get("/v1/blobs/" + theirs->id), 404, "not_found");
  ExpectApiError(
      api.post("/v1/jobs", R"({"type": "ticket", "input": {"blob": ")" + theirs->id + R"("}})"),
      400, "invalid_argument", "input.blob");
  EXPECT_FALSE(*api.store().blob_referenced(kDefaultTenant, theirs->id));
}

}  // namespace
}  // namespace sluice
