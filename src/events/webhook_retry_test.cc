#include "events/webhook_retry.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

const WebhookRetryPolicy kPolicy{.base = 1'000, .max = 3'600'000, .max_attempts = 12,
                                 .max_age = 86'400'000};

TEST(WebhookRetryTest, DoublesFromTheBaseUpToTheCap) {
  // With the jitter at its top, the delay is the schedule itself.
  EXPECT_EQ(WebhookRetryDelay(kPolicy, 1, 1.0), 1'000);
  EXPECT_EQ(WebhookRetryDelay(kPolicy, 2, 1.0), 2'000);
  EXPECT_EQ(WebhookRetryDelay(kPolicy, 3, 1.0), 4'000);
  EXPECT_EQ(WebhookRetryDelay(kPolicy, 12, 1.0), 2'048'000);
  EXPECT_EQ(WebhookRetryDelay(kPolicy, 13, 1.0), 3'600'000);
  EXPECT_EQ(WebhookRetryDelay(kPolicy, 1'000, 1.0), 3'600'000);  // no overflow
}

TEST(WebhookRetryTest, JitterStaysWithinTheUpperHalf) {
  for (int attempt : {1, 2, 5, 20}) {
    const Millis top = WebhookRetryDelay(kPolicy, attempt, 1.0);
    EXPECT_EQ(WebhookRetryDelay(kPolicy, attempt, 0.0), top / 2) << attempt;
    const Millis mid = WebhookRetryDelay(kPolicy, attempt, 0.5);
    EXPECT_GT(mid, top / 2) << attempt;
    EXPECT_LT(mid, top) << attempt;
  }
}

TEST(WebhookRetryTest, GivesUpAfterTheLastAttemptOrTheMaxAge) {
  EXPECT_FALSE(WebhookGivesUp(kPolicy, 11, 1'000, 0));
  EXPECT_TRUE(WebhookGivesUp(kPolicy, 12, 1'000, 0));
  EXPECT_FALSE(WebhookGivesUp(kPolicy, 3, 86'399'999, 0));
  EXPECT_TRUE(WebhookGivesUp(kPolicy, 3, 86'400'000, 0));
}

TEST(WebhookRetryTest, HonoursRetryAfterUpToTheCap) {
  EXPECT_EQ(WebhookNextAttemptAt(kPolicy, 1, 10'000, -1, 1.0), 11'000);
  EXPECT_EQ(WebhookNextAttemptAt(kPolicy, 1, 10'000, 30'000, 1.0), 40'000);
  EXPECT_EQ(WebhookNextAttemptAt(kPolicy, 1, 10'000, 500, 1.0), 11'000);  // never sooner
  EXPECT_EQ(WebhookNextAttemptAt(kPolicy, 1, 0, 99'000'000, 1.0), 3'600'000);
}

}  // namespace
}  // namespace sluice
