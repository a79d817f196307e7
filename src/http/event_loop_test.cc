#include "http/event_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "http/test_client.h"

namespace sluice::http {
namespace {

using testing::WaitFor;
using namespace std::chrono_literals;

TEST(EventLoopTest, PostRunsOnALoopThread) {
  EventLoop loop(2);
  loop.start();
  std::promise<std::thread::id> ran_on;
  loop.post([&] { ran_on.set_value(std::this_thread::get_id()); });
  auto future = ran_on.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  EXPECT_NE(future.get(), std::this_thread::get_id());
  loop.stop();
}

TEST(EventLoopTest, WorkPostedBeforeStartRunsOnceStarted) {
  EventLoop loop(1);
  std::atomic<bool> ran{false};
  loop.post([&] { ran = true; });
  auto timer = loop.post_after(0, [&] {});
  EXPECT_FALSE(ran.load());
  loop.start();
  EXPECT_TRUE(WaitFor([&] { return ran.load(); }));
  loop.stop();
}

TEST(EventLoopTest, PostAfterFiresNoEarlierThanItsDelay) {
  EventLoop loop(2);
  loop.start();
  const auto started = std::chrono::steady_clock::now();
  std::promise<std::chrono::steady_clock::time_point> fired;
  auto timer = loop.post_after(30, [&] { fired.set_value(std::chrono::steady_clock::now()); });
  auto future = fired.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  EXPECT_GE(future.get() - started, 30ms);
  loop.stop();
}

TEST(EventLoopTest, DroppingTheHandleDoesNotCancel) {
  EventLoop loop(1);
  loop.start();
  std::atomic<bool> fired{false};
  loop.post_after(1, [&] { fired = true; });  // handle discarded at once
  EXPECT_TRUE(WaitFor([&] { return fired.load(); }));
  loop.stop();
}

// One loop thread runs timers in expiry order, so once the later timer has run, the earlier,
// cancelled one would have run too had cancel() not worked.
TEST(EventLoopTest, CancelPreventsFiring) {
  EventLoop loop(1);
  loop.start();
  std::atomic<bool> cancelled_ran{false};
  std::promise<void> later_ran;
  auto cancelled = loop.post_after(20, [&] { cancelled_ran = true; });
  auto later = loop.post_after(60, [&] { later_ran.set_value(); });
  cancelled->cancel();
  ASSERT_EQ(later_ran.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(cancelled_ran.load());
  loop.stop();
}

TEST(EventLoopTest, CancelFromManyThreadsAtOnceIsSafe) {
  EventLoop loop(2);
  loop.start();
  std::atomic<int> ran{0};
  std::vector<std::shared_ptr<Timer>> timers;
  for (int i = 0; i < 200; ++i) timers.push_back(loop.post_after(50, [&] { ++ran; }));
  std::vector<std::thread> cancellers;
  for (int t = 0; t < 4; ++t) {
    cancellers.emplace_back([&] {
      for (auto& timer : timers) timer->cancel();
    });
  }
  for (auto& t : cancellers) t.join();
  std::promise<void> after;
  auto probe = loop.post_after(100, [&] { after.set_value(); });
  ASSERT_EQ(after.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_EQ(ran.load(), 0);
  loop.stop();
}

TEST(EventLoopTest, CancelReleasesTheCallbackPromptly) {
  EventLoop loop(1);
  loop.start();
  auto payload = std::make_shared<int>(7);
  std::weak_ptr<int> watch = payload;
  auto timer = loop.post_after(3'600'000, [payload] { (void)payload; });
  payload.reset();
  EXPECT_FALSE(watch.expired());
  timer->cancel();
  EXPECT_TRUE(WaitFor([&] { return watch.expired(); }));
  timer->cancel();  // a second cancel is a no-op
  loop.stop();
}

TEST(EventLoopTest, CancelAfterFiringIsHarmless) {
  EventLoop loop(2);
  loop.start();
  std::atomic<int> ran{0};
  auto timer = loop.post_after(0, [&] { ++ran; });
  ASSERT_TRUE(WaitFor([&] { return ran.load() == 1; }));
  timer->cancel();
  EXPECT_EQ(ran.load(), 1);
  loop.stop();
}

TEST(EventLoopTest, ThousandsOfTimersAllFire) {
  EventLoop loop(2);
  loop.start();
  constexpr int kTimers = 10'000;
  std::atomic<int> fired{0};
  for (int i = 0; i < kTimers; ++i) loop.post_after(i % 50, [&] { ++fired; });
  EXPECT_TRUE(WaitFor([&] { return fired.load() == kTimers; }));
  loop.stop();
}

TEST(EventLoopTest, StopDropsPendingWorkAndCanRestart) {
  EventLoop loop(2);
  loop.start();
  std::atomic<bool> far_fired{false};
  auto far = loop.post_after(3'600'000, [&] { far_fired = true; });
  loop.stop();  // returns without waiting for the hour-long timer
  EXPECT_FALSE(far_fired.load());
  loop.start();
  std::atomic<bool> ran{false};
  loop.post([&] { ran = true; });
  EXPECT_TRUE(WaitFor([&] { return ran.load(); }));
  loop.stop();
}

TEST(EventLoopTest, AThrowingTaskDoesNotStopTheLoop) {
  EventLoop loop(1);
  loop.start();
  loop.post([] { throw std::runtime_error("boom"); });
  std::atomic<bool> ran{false};
  loop.post([&] { ran = true; });
  EXPECT_TRUE(WaitFor([&] { return ran.load(); }));
  loop.stop();
}

}  // namespace
}  // namespace sluice::http
