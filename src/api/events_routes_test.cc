// Error paths of /v1/events (events_routes.cc) against the real router and a real SqliteStore.
#include <gtest/gtest.h>

#include "api/api_test_server.h"

namespace sluice {
namespace {

using testing::ApiReply;
using testing::ApiTestServer;
using testing::ExpectApiError;

TEST(EventsRoutesTest, BadCursorsAndTypesAre400NamingTheParameter) {
  ApiTestServer api;
  for (const char* after : {"abc", "-1", "1x", ""}) {
    ExpectApiError(api.get(std::string("/v1/events?after=") + after), 400, "invalid_argument", "after");
  }
  ExpectApiError(api.call("GET", "/v1/events", {}, {"Last-Event-ID: twelve"}), 400, "invalid_argument",
                 "Last-Event-ID");
  ExpectApiError(api.get("/v1/events?types=job.done,JOB!"), 400, "invalid_argument", "types");
  ExpectApiError(api.get("/v1/events?types=job.done,,job.failed"), 400, "invalid_argument", "types");
  ExpectApiError(api.get("/v1/events?types=bogus"), 400, "invalid_argument", "types");
  ExpectApiError(api.get("/v1/events?types=job.done,job.bogus"), 400, "invalid_argument", "types");
  std::string many = "job.done";
  for (int i = 0; i < 64; ++i) many += ",job.done";
  ExpectApiError(api.get("/v1/events?types=" + many), 400, "invalid_argument", "types");
}

TEST(EventsRoutesTest, WithoutAStreamHubAValidRequestIs503WithRetryAfter) {
  ApiTestServer api;
  api.ctx().event_stream = nullptr;  // a server whose hub is not running
  ApiReply r = api.get("/v1/events?types=job.*");
  ExpectApiError(r, 503, "unavailable");
  EXPECT_EQ(r.retry_after, "1");
  ExpectApiError(api.post("/v1/events", "{}"), 405, "method_not_allowed");
}

}  // namespace
}  // namespace sluice
