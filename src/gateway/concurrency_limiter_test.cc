#include "gateway/concurrency_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <thread>
#include <vector>

namespace sluice {
namespace {

constexpr Millis kT0 = 1'000'000;
constexpr Millis kHold = 10'000;

TEST(ConcurrencyLimiterTest, TryAcquireStopsAtTheLimit) {
  ConcurrencyLimiter limiter(3, kHold);
  EXPECT_EQ(limiter.limit(), 3);
  EXPECT_EQ(limiter.max_concurrency(), 3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter.try_acquire());
  EXPECT_FALSE(limiter.try_acquire());
  EXPECT_EQ(limiter.in_flight(), 3);
  limiter.release();
  EXPECT_EQ(limiter.in_flight(), 2);
  EXPECT_TRUE(limiter.try_acquire());
  EXPECT_EQ(limiter.peak_in_flight(), 3);
}

TEST(ConcurrencyLimiterTest, WaitersGetFreedSlotsInFifoOrder) {
  ConcurrencyLimiter limiter(2, kHold);
  ASSERT_TRUE(limiter.try_acquire());
  ASSERT_TRUE(limiter.try_acquire());
  std::vector<int> order;
  for (int i = 0; i < 4; ++i) limiter.wait([&order, i] { order.push_back(i); });
  EXPECT_EQ(limiter.waiting(), 4);
  EXPECT_TRUE(order.empty());
  EXPECT_FALSE(limiter.try_acquire());  // no jumping the queue

  limiter.release();
  EXPECT_EQ(order, (std::vector<int>{0}));
  EXPECT_EQ(limiter.in_flight(), 2);  // the slot went straight to waiter 0
  limiter.release();
  limiter.release();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(limiter.waiting(), 1);
  limiter.release();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(limiter.in_flight(), 2);
  EXPECT_EQ(limiter.peak_in_flight(), 2);
  limiter.release();
  limiter.release();
  EXPECT_EQ(limiter.in_flight(), 0);
}

TEST(ConcurrencyLimiterTest, WaitWithAFreeSlotRunsTheCallbackAtOnce) {
  ConcurrencyLimiter limiter(1, kHold);
  bool ran = false;
  const std::uint64_t token = limiter.wait([&] { ran = true; });
  EXPECT_NE(token, 0u);
  EXPECT_TRUE(ran);
  EXPECT_EQ(limiter.in_flight(), 1);
  EXPECT_EQ(limiter.waiting(), 0);
  EXPECT_FALSE(limiter.cancel_wait(token));  // it already holds its slot
}

TEST(ConcurrencyLimiterTest, CanceledWaiterNeverRunsAndIsSkipped) {
  ConcurrencyLimiter limiter(1, kHold);
  ASSERT_TRUE(limiter.try_acquire());
  std::vector<int> order;
  const std::uint64_t a = limiter.wait([&] { order.push_back(1); });
  const std::uint64_t b = limiter.wait([&] { order.push_back(2); });
  const std::uint64_t c = limiter.wait([&] { order.push_back(3); });
  EXPECT_TRUE(a != b && b != c && a != c);
  EXPECT_TRUE(limiter.cancel_wait(b));
  EXPECT_FALSE(limiter.cancel_wait(b));  // only once
  EXPECT_FALSE(limiter.cancel_wait(987654));
  EXPECT_EQ(limiter.waiting(), 2);

  limiter.release();
  EXPECT_EQ(order, (std::vector<int>{1}));
  EXPECT_FALSE(limiter.cancel_wait(a));  // already admitted
  limiter.release();
  EXPECT_EQ(order, (std::vector<int>{1, 3}));
  limiter.release();
  EXPECT_EQ(order, (std::vector<int>{1, 3}));
  EXPECT_EQ(limiter.in_flight(), 0);
}

TEST(ConcurrencyLimiterTest, CallbackMayReleaseItsSlotRightAway) {
  ConcurrencyLimiter limiter(1, kHold);
  ASSERT_TRUE(limiter.try_acquire());
  int ran = 0;
  for (int i = 0; i < 3; ++i) {
    limiter.wait([&] {
      ++ran;
      limiter.release();  // re-enters the limiter from inside a callback: no deadlock
    });
  }
  limiter.release();
  EXPECT_EQ(ran, 3);
  EXPECT_EQ(limiter.in_flight(), 0);
  EXPECT_EQ(limiter.waiting(), 0);
}

TEST(ConcurrencyLimiterTest, RateLimitHalvesDownToOne) {
  ConcurrencyLimiter limiter(10, kHold);
  limiter.on_rate_limited(kT0);
  EXPECT_EQ(limiter.limit(), 5);
  limiter.on_rate_limited(kT0 + 1'000);
  EXPECT_EQ(limiter.limit(), 2);
  limiter.on_rate_limited(kT0 + 2'000);
  EXPECT_EQ(limiter.limit(), 1);
  limiter.on_rate_limited(kT0 + 3'000);
  EXPECT_EQ(limiter.limit(), 1);
}

TEST(ConcurrencyLimiterTest, A429BurstHalvesOnlyOnce) {
  // The 429s of calls that were in flight at the decrease must not halve again and again.
  ConcurrencyLimiter limiter(64, kHold);
  for (int i = 0; i < 20; ++i) limiter.on_rate_limited(kT0 + i * 10);
  EXPECT_EQ(limiter.limit(), 32);
}

TEST(ConcurrencyLimiterTest, CallsInFlightKeepTheirSlotsWhenTheLimitDrops) {
  ConcurrencyLimiter limiter(4, kHold);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(limiter.try_acquire());
  limiter.on_rate_limited(kT0);  // limit 2, 4 in flight
  int admitted = 0;
  limiter.wait([&] { ++admitted; });
  limiter.release();
  limiter.release();
  EXPECT_EQ(admitted, 0);  // 2 in flight = the limit
  EXPECT_FALSE(limiter.try_acquire());
  limiter.release();
  EXPECT_EQ(admitted, 1);
  EXPECT_EQ(limiter.in_flight(), 2);
}

TEST(ConcurrencyLimiterTest, RecoversAdditivelyOnlyAfterTheHold) {
  ConcurrencyLimiter limiter(8, kHold);
  limiter.on_rate_limited(kT0);
  ASSERT_EQ(limiter.limit(), 4);
  for (int i = 0; i < 100; ++i) limiter.on_success(kT0 + kHold - 1);
  EXPECT_EQ(limiter.limit(), 4);  // held

  const Millis after = kT0 + kHold;
  for (int i = 0; i < 3; ++i) limiter.on_success(after);
  EXPECT_EQ(limiter.limit(), 4);
  limiter.on_success(after);  // the 4th success at limit 4
  EXPECT_EQ(limiter.limit(), 5);
  for (int i = 0; i < 4; ++i) limiter.on_success(after);
  EXPECT_EQ(limiter.limit(), 5);
  limiter.on_success(after);  // the 5th at limit 5
  EXPECT_EQ(limiter.limit(), 6);
  for (int i = 0; i < 6 + 7; ++i) limiter.on_success(after);
  EXPECT_EQ(limiter.limit(), 8);
  for (int i = 0; i < 100; ++i) limiter.on_success(after);
  EXPECT_EQ(limiter.limit(), 8);  // never above max
}

TEST(ConcurrencyLimiterTest, ANewRateLimitRestartsTheHoldAndTheCount) {
  ConcurrencyLimiter limiter(8, kHold);
  limiter.on_rate_limited(kT0);  // 4
  for (int i = 0; i < 3; ++i) limiter.on_success(kT0 + kHold);
  limiter.on_rate_limited(kT0 + kHold + 1);  // 2, held until kT0 + 2 * kHold + 1
  EXPECT_EQ(limiter.limit(), 2);
  limiter.on_success(kT0 + 2 * kHold);
  limiter.on_success(kT0 + 2 * kHold);
  EXPECT_EQ(limiter.limit(), 2);
  limiter.on_success(kT0 + 2 * kHold + 1);
  EXPECT_EQ(limiter.limit(), 2);  // the 3 earlier successes were forgotten
  limiter.on_success(kT0 + 2 * kHold + 1);
  EXPECT_EQ(limiter.limit(), 3);
}

TEST(ConcurrencyLimiterTest, RaisedLimitAdmitsWaiters) {
  ConcurrencyLimiter limiter(2, kHold);
  limiter.on_rate_limited(kT0);  // 1
  ASSERT_TRUE(limiter.try_acquire());
  int admitted = 0;
  limiter.wait([&] { ++admitted; });
  limiter.wait([&] { ++admitted; });
  limiter.on_success(kT0 + kHold);  // 1 success at limit 1: limit 2
  EXPECT_EQ(limiter.limit(), 2);
  EXPECT_EQ(admitted, 1);
  EXPECT_EQ(limiter.in_flight(), 2);
  EXPECT_EQ(limiter.waiting(), 1);
}

// Several threads take slots (directly or by waiting), hold them briefly and give them back.
// The number held at once must never pass the limit, and every waiter must get its slot.
TEST(ConcurrencyLimiterTest, ThreadsNeverExceedTheLimit) {
  constexpr int kMax = 3;
  constexpr int kThreads = 8;
  constexpr int kRounds = 2'000;
  ConcurrencyLimiter limiter(kMax, kHold);
  std::atomic<int> held{0};
  std::atomic<int> worst{0};
  std::atomic<int> over_limit{0};

  auto use_slot = [&] {
    const int now_held = held.fetch_add(1) + 1;
    int seen = worst.load();
    while (now_held > seen && !worst.compare_exchange_weak(seen, now_held)) {
    }
    if (limiter.in_flight() > limiter.limit()) over_limit.fetch_add(1);
    std::this_thread::yield();
    held.fetch_sub(1);
    limiter.release();
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int r = 0; r < kRounds; ++r) {
        if (limiter.try_acquire()) {
          use_slot();
          continue;
        }
        // Shared with the callback, which may still be inside set_value() when wait() returns.
        auto got_slot = std::make_shared<std::promise<void>>();
        auto slot = got_slot->get_future();
        limiter.wait([got_slot] { got_slot->set_value(); });
        slot.wait();
        use_slot();
      }
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_LE(worst.load(), kMax);
  EXPECT_EQ(over_limit.load(), 0);
  EXPECT_LE(limiter.peak_in_flight(), kMax);
  EXPECT_GE(limiter.peak_in_flight(), 1);
  EXPECT_EQ(limiter.in_flight(), 0);
  EXPECT_EQ(limiter.waiting(), 0);
}

}  // namespace
}  // namespace sluice
