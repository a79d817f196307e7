#include "gateway/rate_limiter.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

constexpr Millis kT0 = 1'000'000;

TEST(RateLimiterTest, UnlimitedAlwaysGrants) {
  RateLimiter limiter(RateLimits{});
  EXPECT_TRUE(limiter.unlimited());
  for (int i = 0; i < 10'000; ++i) {
    auto grant = limiter.try_acquire(1'000'000, kT0);
    ASSERT_TRUE(grant.granted);
    EXPECT_EQ(grant.reserved_tokens, 1'000'000);
  }
}

TEST(RateLimiterTest, RpmTakesAMinutesBurstThenSpacesCallsEvenly) {
  RateLimiter limiter(RateLimits{.rpm = 60});
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(limiter.try_acquire(0, kT0).granted) << i;

  auto denied = limiter.try_acquire(0, kT0);
  EXPECT_FALSE(denied.granted);
  EXPECT_EQ(denied.retry_at, kT0 + 1'000);
  EXPECT_EQ(limiter.try_acquire(0, kT0 + 400).retry_at, kT0 + 1'000);
  EXPECT_FALSE(limiter.try_acquire(0, kT0 + 999).granted);

  // One request a second from here on.
  for (int s = 1; s <= 5; ++s) {
    const Millis now = kT0 + s * 1'000;
    ASSERT_TRUE(limiter.try_acquire(0, now).granted) << s;
    auto next = limiter.try_acquire(0, now);
    EXPECT_FALSE(next.granted);
    EXPECT_EQ(next.retry_at, now + 1'000);
  }
}

TEST(RateLimiterTest, RpmRetryAtIsExactForOddRates) {
  // 7 a minute: one every 8571.43 ms, so the second request after the burst is due at the
  // first millisecond the bucket holds a whole request again: ceil(60000 / 7) = 8572.
  RateLimiter limiter(RateLimits{.rpm = 7});
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(limiter.try_acquire(0, kT0).granted);
  auto denied = limiter.try_acquire(0, kT0);
  EXPECT_EQ(denied.retry_at, kT0 + 8'572);
  EXPECT_FALSE(limiter.try_acquire(0, kT0 + 8'571).granted);
  EXPECT_TRUE(limiter.try_acquire(0, kT0 + 8'572).granted);
}

TEST(RateLimiterTest, IdleTimeRefillsOnlyUpToOneMinute) {
  RateLimiter limiter(RateLimits{.rpm = 60});
  ASSERT_TRUE(limiter.try_acquire(0, kT0).granted);
  // An hour later the bucket holds 60, not 3600.
  const Millis later = kT0 + 3'600'000;
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(limiter.try_acquire(0, later).granted);
  EXPECT_FALSE(limiter.try_acquire(0, later).granted);
}

TEST(RateLimiterTest, TpmReservesEstimatedTokens) {
  RateLimiter limiter(RateLimits{.tpm = 6'000});  // 100 tokens a second
  auto first = limiter.try_acquire(4'000, kT0);
  ASSERT_TRUE(first.granted);
  EXPECT_EQ(first.reserved_tokens, 4'000);
  ASSERT_TRUE(limiter.try_acquire(1'500, kT0).granted);  // 500 left
  auto denied = limiter.try_acquire(1'000, kT0);
  EXPECT_FALSE(denied.granted);
  EXPECT_EQ(denied.retry_at, kT0 + 5'000);  // 500 more tokens at 100 a second
  EXPECT_TRUE(limiter.try_acquire(500, kT0).granted);  // a smaller one still fits
  EXPECT_EQ(limiter.try_acquire(1'000, kT0).retry_at, kT0 + 10'000);
}

TEST(RateLimiterTest, GivingBackUnusedTokensLetsTheNextRequestInEarlier) {
  RateLimiter limiter(RateLimits{.tpm = 6'000});
  auto grant = limiter.try_acquire(6'000, kT0);  // prompt + max_tokens estimate
  ASSERT_TRUE(grant.granted);
  EXPECT_EQ(limiter.try_acquire(2'000, kT0 + 1'000).retry_at, kT0 + 20'000);
  limiter.reconcile(grant, /*actual_tokens=*/1'000, kT0 + 1'000);  // 5 000 come back
  EXPECT_TRUE(limiter.try_acquire(2'000, kT0 + 1'000).granted);
}

TEST(RateLimiterTest, FailedCallWithNoUsageReturnsAllItsTokens) {
  RateLimiter limiter(RateLimits{.tpm = 6'000});
  auto grant = limiter.try_acquire(6'000, kT0);
  ASSERT_TRUE(grant.granted);
  limiter.reconcile(grant, 0, kT0);
  EXPECT_TRUE(limiter.try_acquire(6'000, kT0).granted);
}

TEST(RateLimiterTest, OverReportedUsageDelaysLaterRequests) {
  RateLimiter limiter(RateLimits{.tpm = 6'000});
  auto grant = limiter.try_acquire(1'000, kT0);
  ASSERT_TRUE(grant.granted);
  EXPECT_TRUE(limiter.try_acquire(0, kT0).granted);  // 5 000 left
  limiter.reconcile(grant, /*actual_tokens=*/7'000, kT0);  // 6 000 more: the bucket is at -1 000
  auto denied = limiter.try_acquire(1'000, kT0);
  EXPECT_FALSE(denied.granted);
  EXPECT_EQ(denied.retry_at, kT0 + 20'000);  // 2 000 tokens at 100 a second
}

TEST(RateLimiterTest, GivingBackNeverFillsBeyondOneMinute) {
  RateLimiter limiter(RateLimits{.tpm = 6'000});
  auto grant = limiter.try_acquire(1'000, kT0);
  ASSERT_TRUE(grant.granted);
  limiter.reconcile(grant, 0, kT0 + 60'000);  // refilled already; the 1 000 are not extra
  ASSERT_TRUE(limiter.try_acquire(6'000, kT0 + 60'000).granted);
  EXPECT_FALSE(limiter.try_acquire(1, kT0 + 60'000).granted);
}

TEST(RateLimiterTest, OversizedRequestWaitsForAFullBucketAndOverdraws) {
  RateLimiter limiter(RateLimits{.tpm = 6'000});
  ASSERT_TRUE(limiter.try_acquire(600, kT0).granted);
  auto denied = limiter.try_acquire(9'000, kT0);
  EXPECT_FALSE(denied.granted);
  EXPECT_EQ(denied.retry_at, kT0 + 6'000);  // until the bucket is full again
  auto big = limiter.try_acquire(9'000, kT0 + 6'000);
  ASSERT_TRUE(big.granted);
  EXPECT_EQ(big.reserved_tokens, 9'000);
  // The bucket is at -3 000: a 100-token request waits for 3 100 tokens of refill.
  EXPECT_EQ(limiter.try_acquire(100, kT0 + 6'000).retry_at, kT0 + 6'000 + 31'000);
}

TEST(RateLimiterTest, BothLimitsMustAllowAndRetryAtIsTheLaterOne) {
  RateLimiter limiter(RateLimits{.rpm = 60, .tpm = 6'000});
  ASSERT_TRUE(limiter.try_acquire(6'000, kT0).granted);
  // Requests are plentiful, tokens are not: 1 000 tokens take 10 s.
  EXPECT_EQ(limiter.try_acquire(1'000, kT0).retry_at, kT0 + 10'000);
  for (int i = 0; i < 59; ++i) ASSERT_TRUE(limiter.try_acquire(0, kT0).granted);
  // Now requests are out too, but they come back sooner (1 s) than the tokens.
  EXPECT_EQ(limiter.try_acquire(1'000, kT0).retry_at, kT0 + 10'000);
  EXPECT_EQ(limiter.try_acquire(0, kT0).retry_at, kT0 + 1'000);
}

TEST(RateLimiterTest, DeniedRequestsReserveNothing) {
  RateLimiter limiter(RateLimits{.rpm = 2, .tpm = 100});
  ASSERT_TRUE(limiter.try_acquire(50, kT0).granted);  // 1 request and 50 tokens left
  for (int i = 0; i < 100; ++i) ASSERT_FALSE(limiter.try_acquire(60, kT0).granted);
  // Had any denial taken a request or tokens, this would not fit.
  EXPECT_TRUE(limiter.try_acquire(50, kT0).granted);
}

TEST(RateLimiterTest, ReconcileOfADeniedGrantIsIgnored) {
  RateLimiter limiter(RateLimits{.tpm = 100});
  ASSERT_TRUE(limiter.try_acquire(100, kT0).granted);
  auto denied = limiter.try_acquire(100, kT0);
  ASSERT_FALSE(denied.granted);
  limiter.reconcile(denied, 0, kT0);
  EXPECT_FALSE(limiter.try_acquire(1, kT0).granted);
}

}  // namespace
}  // namespace sluice
