#include "gateway/circuit_breaker.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

constexpr Millis kT0 = 1'000'000;

CircuitBreakerOptions Options(int consecutive, double ratio, int window, Millis cool_down) {
  return CircuitBreakerOptions{.consecutive_failures = consecutive,
                               .failure_ratio = ratio,
                               .window = window,
                               .cool_down = cool_down};
}

// Records `n` outcomes of calls that allow() let through.
void Record(CircuitBreaker& cb, int n, bool failed, Millis now) {
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(cb.allow(now));
    if (failed) {
      cb.record_failure(now);
    } else {
      cb.record_success(now);
    }
  }
}

// Opens `cb` (built with 3 consecutive failures) at `now`.
void OpenAt(CircuitBreaker& cb, Millis now) {
  Record(cb, 3, /*failed=*/true, now);
  ASSERT_EQ(cb.state(now), CircuitState::kOpen);
}

TEST(CircuitBreakerTest, StartsClosedAndAllows) {
  CircuitBreaker cb;
  EXPECT_EQ(cb.state(kT0), CircuitState::kClosed);
  EXPECT_TRUE(cb.allow(kT0));
  EXPECT_EQ(cb.open_until(), 0);
  EXPECT_EQ(cb.opened_count(), 0);
}

TEST(CircuitBreakerTest, OpensOnConsecutiveFailures) {
  CircuitBreaker cb(Options(3, 0.5, 0, 5'000));
  Record(cb, 2, /*failed=*/true, kT0);
  EXPECT_EQ(cb.state(kT0), CircuitState::kClosed);
  Record(cb, 1, /*failed=*/true, kT0 + 7);
  EXPECT_EQ(cb.state(kT0 + 7), CircuitState::kOpen);
  EXPECT_FALSE(cb.allow(kT0 + 7));
  EXPECT_EQ(cb.open_until(), kT0 + 7 + 5'000);
  EXPECT_EQ(cb.opened_count(), 1);
}

TEST(CircuitBreakerTest, SuccessResetsTheConsecutiveCount) {
  CircuitBreaker cb(Options(3, 0.5, 0, 5'000));
  for (int round = 0; round < 5; ++round) {
    Record(cb, 2, /*failed=*/true, kT0);
    Record(cb, 1, /*failed=*/false, kT0);
  }
  EXPECT_EQ(cb.state(kT0), CircuitState::kClosed);
  EXPECT_EQ(cb.snapshot(kT0).consecutive_failures, 0);
  Record(cb, 2, /*failed=*/true, kT0);
  EXPECT_EQ(cb.state(kT0), CircuitState::kClosed);
  Record(cb, 1, /*failed=*/true, kT0);
  EXPECT_EQ(cb.state(kT0), CircuitState::kOpen);
}

TEST(CircuitBreakerTest, OpensOnFailureShareOnlyOnceTheWindowIsFull) {
  // Never three in a row, but half of the last 10.
  CircuitBreaker cb(Options(3, 0.5, 10, 5'000));
  for (int i = 0; i < 4; ++i) {
    Record(cb, 1, /*failed=*/true, kT0);
    Record(cb, 1, /*failed=*/false, kT0);
  }
  Record(cb, 1, /*failed=*/true, kT0);
  // 5 failures of 9 calls: over the ratio, but the window is not full yet.
  EXPECT_EQ(cb.snapshot(kT0).window_calls, 9);
  EXPECT_EQ(cb.snapshot(kT0).window_failures, 5);
  EXPECT_EQ(cb.state(kT0), CircuitState::kClosed);
  Record(cb, 1, /*failed=*/false, kT0);
  // 5 of 10 = 0.5, but a success never opens the circuit; the next failure judges it.
  EXPECT_EQ(cb.state(kT0), CircuitState::kClosed);
  Record(cb, 1, /*failed=*/true, kT0 + 1);  // window: 5 of the last 10 still (oldest F left)
  EXPECT_EQ(cb.state(kT0 + 1), CircuitState::kOpen);
  EXPECT_EQ(cb.opened_count(), 1);
}

TEST(CircuitBreakerTest, RatioSlidesOverTheLastWindowOutcomes) {
  CircuitBreaker cb(Options(0, 0.3, 10, 5'000));  // consecutive rule off; 3 of 10
  Record(cb, 2, /*failed=*/true, kT0);
  Record(cb, 8, /*failed=*/false, kT0);  // 2 of 10
  EXPECT_EQ(cb.state(kT0), CircuitState::kClosed);
  Record(cb, 2, /*failed=*/false, kT0);  // the two failures slid out: 0 of 10
  EXPECT_EQ(cb.snapshot(kT0).window_failures, 0);
  Record(cb, 2, /*failed=*/true, kT0);  // 2 of 10
  EXPECT_EQ(cb.state(kT0), CircuitState::kClosed);
  Record(cb, 1, /*failed=*/true, kT0);  // 3 of 10 = 0.3 exactly (0.3 × 10 is not 3 in binary)
  EXPECT_EQ(cb.state(kT0), CircuitState::kOpen);
}

TEST(CircuitBreakerTest, HalfOpenLetsExactlyOneProbeThrough) {
  CircuitBreaker cb(Options(3, 0.5, 0, 5'000));
  OpenAt(cb, kT0);
  EXPECT_FALSE(cb.allow(kT0 + 4'999));
  EXPECT_EQ(cb.state(kT0 + 4'999), CircuitState::kOpen);
  EXPECT_EQ(cb.state(kT0 + 5'000), CircuitState::kHalfOpen);
  EXPECT_TRUE(cb.allow(kT0 + 5'000));  // the probe
  EXPECT_FALSE(cb.allow(kT0 + 5'000));
  EXPECT_FALSE(cb.allow(kT0 + 60'000));  // still waiting for the probe, however long
  EXPECT_EQ(cb.state(kT0 + 60'000), CircuitState::kHalfOpen);
  EXPECT_EQ(cb.open_until(), 0);
}

TEST(CircuitBreakerTest, ProbeSuccessClosesWithAFreshHistory) {
  CircuitBreaker cb(Options(3, 0.5, 0, 5'000));
  OpenAt(cb, kT0);
  ASSERT_TRUE(cb.allow(kT0 + 5'000));
  cb.record_success(kT0 + 5'100);
  EXPECT_EQ(cb.state(kT0 + 5'100), CircuitState::kClosed);
  EXPECT_TRUE(cb.allow(kT0 + 5'100));
  EXPECT_TRUE(cb.allow(kT0 + 5'100));
  // The failures from before are forgotten: it takes three new ones to open again.
  Record(cb, 2, /*failed=*/true, kT0 + 5'200);
  EXPECT_EQ(cb.state(kT0 + 5'200), CircuitState::kClosed);
  EXPECT_EQ(cb.opened_count(), 1);
}

TEST(CircuitBreakerTest, ProbeFailureReopensWithAFreshCoolDown) {
  CircuitBreaker cb(Options(3, 0.5, 0, 5'000));
  OpenAt(cb, kT0);
  ASSERT_TRUE(cb.allow(kT0 + 6'000));
  cb.record_failure(kT0 + 6'500);
  EXPECT_EQ(cb.state(kT0 + 6'500), CircuitState::kOpen);
  EXPECT_EQ(cb.open_until(), kT0 + 11'500);
  EXPECT_EQ(cb.opened_count(), 2);
  EXPECT_FALSE(cb.allow(kT0 + 11'499));
  EXPECT_TRUE(cb.allow(kT0 + 11'500));  // the next probe
  EXPECT_FALSE(cb.allow(kT0 + 11'500));
}

TEST(CircuitBreakerTest, CanceledProbeLetsTheNextCallerProbe) {
  CircuitBreaker cb(Options(3, 0.5, 0, 5'000));
  OpenAt(cb, kT0);
  ASSERT_TRUE(cb.allow(kT0 + 5'000));
  cb.record_canceled(kT0 + 5'001);
  EXPECT_EQ(cb.state(kT0 + 5'001), CircuitState::kHalfOpen);
  EXPECT_TRUE(cb.allow(kT0 + 5'002));
  EXPECT_FALSE(cb.allow(kT0 + 5'002));
  cb.record_success(kT0 + 5'003);
  EXPECT_EQ(cb.state(kT0 + 5'003), CircuitState::kClosed);
}

TEST(CircuitBreakerTest, LateReportsWhileOpenChangeNothing) {
  CircuitBreaker cb(Options(3, 0.5, 0, 5'000));
  // Four calls go out while closed; three fail and open the circuit, the fourth reports late.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(cb.allow(kT0));
  for (int i = 0; i < 3; ++i) cb.record_failure(kT0 + 10);
  ASSERT_EQ(cb.state(kT0 + 10), CircuitState::kOpen);
  cb.record_success(kT0 + 20);
  EXPECT_EQ(cb.state(kT0 + 20), CircuitState::kOpen);
  cb.record_failure(kT0 + 30);
  EXPECT_EQ(cb.open_until(), kT0 + 10 + 5'000);
  EXPECT_EQ(cb.opened_count(), 1);
  // Past the cool-down but before anyone asked: still no probe out, so a late report is ignored.
  cb.record_success(kT0 + 6'000);
  EXPECT_EQ(cb.state(kT0 + 6'000), CircuitState::kHalfOpen);
  EXPECT_TRUE(cb.allow(kT0 + 6'000));
}

TEST(CircuitBreakerTest, StateNames) {
  EXPECT_STREQ(CircuitStateName(CircuitState::kClosed), "closed");
  EXPECT_STREQ(CircuitStateName(CircuitState::kOpen), "open");
  EXPECT_STREQ(CircuitStateName(CircuitState::kHalfOpen), "half_open");
}

}  // namespace
}  // namespace sluice
