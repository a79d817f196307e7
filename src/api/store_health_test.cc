#include "api/store_health.h"

#include <atomic>
#include <condition_variable>
#include <mutex>

#include <gtest/gtest.h>

#include "http/test_client.h"

namespace sluice {
namespace {

using http::testing::WaitFor;

// A ping that waits until released, then answers `answer` (a store that hangs, then recovers).
class ScriptedPing {
 public:
  Status operator()() {
    std::unique_lock lock(mu_);
    ++calls_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return released_; });
    return answer_;
  }
  void release(Status answer) {
    std::lock_guard lock(mu_);
    answer_ = std::move(answer);
    released_ = true;
    cv_.notify_all();
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
  bool released_ = false;
  Status answer_;
};

TEST(StoreHealthTest, OnePingAtATimeHowEverManyAskAndAllHearItsOutcome) {
  FakeClock clock;
  ScriptedPing ping;
  StoreHealth health([&ping] { return ping(); }, clock);
  BlockingPool pool({.threads = 4, .max_queued = 4});
  EXPECT_FALSE(health.snapshot().checked);

  std::atomic<int> heard{0};
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(health.check(pool, [&heard](const Status& s) {
      EXPECT_EQ(s.code(), StatusCode::kUnavailable);
      ++heard;
    }));
  }
  ASSERT_TRUE(WaitFor([&] { return ping.calls() == 1; }));
  StoreHealth::Snapshot pending = health.snapshot();
  ASSERT_TRUE(pending.pending_since.has_value());
  EXPECT_EQ(*pending.pending_since, clock.now());
  EXPECT_FALSE(pending.checked);

  clock.advance(5'000);
  ping.release(Unavailable("connection refused"));
  ASSERT_TRUE(WaitFor([&] { return heard.load() == 3; }));
  EXPECT_EQ(ping.calls(), 1);
  StoreHealth::Snapshot after = health.snapshot();
  EXPECT_TRUE(after.checked);
  EXPECT_FALSE(after.ok);
  EXPECT_EQ(after.error, "connection refused");
  EXPECT_EQ(after.checked_at, clock.now());
  EXPECT_FALSE(after.pending_since.has_value());
}

TEST(StoreHealthTest, ARefusedPingIsNotPendingAndTellsOnlyThoseWhoJoined) {
  FakeClock clock;
  StoreHealth health([] { return Status::Ok(); }, clock);
  BlockingPool pool({.threads = 1, .max_queued = 0});
  // A queue of 0 refuses everything: nothing runs, nothing is left pending.
  bool called = false;
  EXPECT_FALSE(health.check(pool, [&called](const Status&) { called = true; }));
  EXPECT_FALSE(called);
  EXPECT_FALSE(health.snapshot().pending_since.has_value());
}

}  // namespace
}  // namespace sluice
