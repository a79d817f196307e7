// /healthz, /readyz, /metrics, /v1/stats (operations_routes.cc) and the router's own answers,
// against the real router and a real SqliteStore.
#include <condition_variable>
#include <mutex>

#include <gtest/gtest.h>

#include "api/api_test_server.h"

namespace sluice {
namespace {

using testing::ApiReply;
using testing::ApiTestServer;
using testing::ExpectApiError;

TEST(OperationsRoutesTest, UnknownPathsAre404AndWrongMethods405) {
  ApiTestServer api;
  ExpectApiError(api.get("/v2/jobs"), 404, "not_found");
  ExpectApiError(api.get("/"), 404, "not_found");
  for (const char* path : {"/healthz", "/readyz", "/metrics", "/v1/stats"}) {
    ExpectApiError(api.post(path, "{}"), 405, "method_not_allowed");
  }
}

TEST(OperationsRoutesTest, HealthReadinessMetricsAndStatsAnswer) {
  ApiTestServer api;
  ApiReply ready = api.get("/readyz");
  EXPECT_EQ(ready.status, 200) << ready.text;
  // The ping behind /readyz is what /healthz reports, from memory.
  ApiReply health = api.get("/healthz");
  ASSERT_EQ(health.status, 200) << health.text;
  EXPECT_EQ(health.body.at("status").as_string(), "ok");
  EXPECT_EQ(health.body.at("store").at("state").as_string(), "ok") << health.text;
  EXPECT_EQ(health.body.at("blocking").at("threads").as_int64(), 8);
  ApiReply metrics = api.get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.text.find("sluice_api_blocking_queued 0"), std::string::npos) << metrics.text;
  ApiReply stats = api.get("/v1/stats");
  EXPECT_EQ(stats.status, 200) << stats.text;
  EXPECT_EQ(stats.body.at("object").as_string(), "stats");
}

// One pool thread, one queue slot, both taken by work that waits on a gate, as a hung store
// would take them.
class SaturatedPoolTest : public ::testing::Test {
 protected:
  SaturatedPoolTest() : api_({.pool = {.threads = 1, .max_queued = 1}}) {
    auto hold = [this] {
      std::unique_lock lock(mu_);
      ++holding_;
      cv_.notify_all();
      cv_.wait(lock, [this] { return open_; });
    };
    EXPECT_TRUE(api_.ctx().blocking->run(hold));
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return holding_ == 1; });  // the thread is taken
    }
    EXPECT_TRUE(api_.ctx().blocking->run(hold));  // and the queue's one slot
  }
  ~SaturatedPoolTest() override { Open(); }

  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

  ApiTestServer api_;
  std::mutex mu_;
  std::condition_variable cv_;
  int holding_ = 0;     // GUARDED_BY(mu_)
  bool open_ = false;   // GUARDED_BY(mu_)
};

TEST_F(SaturatedPoolTest, StoreRoutesAnswer503WithRetryAfterAndHealthzStillAnswers) {
  const std::string id = "job_x";
  for (auto [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/v1/jobs/" + id},
           {"GET", "/v1/jobs"},
           {"POST", "/v1/jobs/" + id + "/cancel"},
           {"GET", "/v1/jobs/" + id + "/result"},
           {"GET", "/v1/jobs/" + id + "/events"},
           {"GET", "/v1/batches"},
           {"GET", "/v1/batches/batch_x"},
           {"GET", "/v1/files/file_x"},
           {"GET", "/v1/blobs/sha256:" + std::string(64, '0')},
           {"GET", "/metrics"},
           {"GET", "/v1/stats"},
           {"GET", "/readyz"}}) {
    ApiReply r = api_.call(method, path);
    ExpectApiError(r, 503, "server_busy");
    EXPECT_EQ(r.retry_after, "1") << method << " " << path;
  }
  ApiReply review = api_.post("/v1/jobs/" + id + "/review", R"({"action": "reject"})");
  ExpectApiError(review, 503, "server_busy");
  ApiReply blob = api_.call("POST", "/v1/blobs", "bytes", {"Content-Type: text/plain"});
  ExpectApiError(blob, 503, "server_busy");
  // Validation needs no store: still a 400 naming the field, not a 503.
  ExpectApiError(api_.get("/v1/jobs?limit=0"), 400, "invalid_argument", "limit");

  ApiReply health = api_.get("/healthz");
  ASSERT_EQ(health.status, 200) << health.text;
  EXPECT_EQ(health.body.at("blocking").at("running").as_int64(), 1);
  EXPECT_EQ(health.body.at("blocking").at("queued").as_int64(), 1);
  EXPECT_GE(health.body.at("blocking").at("refused").as_int64(), 14);

  // Once the store answers again, so do the routes.
  Open();
  ASSERT_TRUE(http::testing::WaitFor([&] { auto l = api_.ctx().blocking->load(); return l.running == 0 && l.queued == 0; }));
  ExpectApiError(api_.get("/v1/jobs/" + id), 404, "not_found");
}

}  // namespace
}  // namespace sluice
