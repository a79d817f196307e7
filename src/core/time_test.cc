#include "core/time.h"

#include <gtest/gtest.h>

#include "core/ids.h"

namespace sluice {
namespace {

TEST(TimeTest, Rfc3339RoundTrip) {
  auto t = ParseRfc3339("2026-11-29T12:00:00.123Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, 1795953600123);
  EXPECT_EQ(FormatRfc3339(*t), "2026-11-29T12:00:00.123Z");
  EXPECT_EQ(*ParseRfc3339("2026-11-29T14:00:00+02:00"), 1795953600000);
  EXPECT_EQ(*ParseRfc3339("2026-11-29T12:00:00.5Z"), 1795953600500);
  EXPECT_TRUE(ParseRfc3339("2028-02-29T00:00:00Z").ok());  // a leap day
}

TEST(TimeTest, Rfc3339RejectsGarbage) {
  for (const char* bad : {"", "tomorrow", "2026-13-01T00:00:00Z", "2026-11-29T12:00:00",
                          "2026-11-29T12:00:00Zjunk", "2026-11-29T25:00:00Z",
                          "2999-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
                          "2026-01-01T00:00:00+25:00"}) {
    EXPECT_FALSE(ParseRfc3339(bad).ok()) << bad;
  }
}

TEST(TimeTest, Durations) {
  EXPECT_EQ(*ParseDuration("250ms"), 250);
  EXPECT_EQ(*ParseDuration("30s"), 30'000);
  EXPECT_EQ(*ParseDuration("10m"), 600'000);
  EXPECT_EQ(*ParseDuration("2h"), 7'200'000);
  EXPECT_EQ(*ParseDuration("1m30s"), 90'000);
  EXPECT_EQ(*ParseDuration("1.5s"), 1'500);
  for (const char* bad : {"", "-1s", "10", "5 s", "abc", "1x", ".s", "1m.s", "s", "1.2.3s"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(TimeTest, ByteSizes) {
  EXPECT_EQ(*ParseByteSize("32MiB"), 32 << 20);
  EXPECT_EQ(*ParseByteSize("100"), 100);
  EXPECT_FALSE(ParseByteSize("lots").ok());
}

// Each part of a duration was bounded, their sum was not: a long enough string (a config value,
// a batch's completion_window) overflowed Millis, undefined behaviour (UBSan under fuzz_config).
TEST(TimeTest, DurationOfManyPartsIsBoundedNotOverflowed) {
  std::string parts;
  for (int i = 0; i < 10'000; ++i) parts += "11574074d";  // each part ~1e15 ms
  EXPECT_FALSE(ParseDuration(parts).ok());
  EXPECT_FALSE(ParseDuration("1000000000000000ms1ms").ok());
  EXPECT_EQ(*ParseDuration("999999999999999ms1ms"), 1'000'000'000'000'000);
}

// A size whose unit shifts it past int64 wrapped: "8589934592GiB" read as INT64_MIN, which a
// config's max_body takes as "no limit".
TEST(TimeTest, ByteSizeThatWouldOverflowIsRefused) {
  EXPECT_FALSE(ParseByteSize("8589934592GiB").ok());
  EXPECT_EQ(*ParseByteSize("8589934591GiB"), 8589934591LL << 30);
  EXPECT_EQ(*ParseByteSize("1125899906842624"), 1LL << 50);
}

TEST(IdsTest, PrefixedAndSortableWithinOneMillisecond) {
  std::string prev = NewId("job_", 1000);
  EXPECT_EQ(prev.rfind("job_", 0), 0u);
  EXPECT_EQ(prev.size(), 4u + 26u);
  for (int i = 0; i < 1000; ++i) {
    std::string next = NewId("job_", 1000);
    EXPECT_LT(prev, next);
    prev = next;
  }
  EXPECT_LT(prev, NewId("job_", 1001));
}

}  // namespace
}  // namespace sluice
