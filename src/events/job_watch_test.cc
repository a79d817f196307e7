#include "events/job_watch.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace sluice {
namespace {

TEST(JobWatchTest, NotifyRunsEachWaiterOnceAndOnlyForItsJob) {
  JobWatch watch;
  int a = 0, b = 0;
  watch.watch("job_a", [&] { ++a; });
  watch.watch("job_a", [&] { ++a; });
  watch.watch("job_b", [&] { ++b; });
  watch.notify("job_a");
  EXPECT_EQ(a, 2);
  EXPECT_EQ(b, 0);
  watch.notify("job_a");
  EXPECT_EQ(a, 2);
  EXPECT_EQ(watch.waiting(), 1u);
}

TEST(JobWatchTest, UnwatchedWaiterNeverRuns) {
  JobWatch watch;
  int ran = 0;
  auto token = watch.watch("job_a", [&] { ++ran; });
  watch.unwatch("job_a", token);
  watch.notify("job_a");
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(watch.waiting(), 0u);
}

TEST(JobWatchTest, CallbackMayWatchAgain) {
  JobWatch watch;
  int ran = 0;
  watch.watch("job_a", [&] {
    ++ran;
    watch.watch("job_a", [&] { ++ran; });
  });
  watch.notify("job_a");
  watch.notify("job_a");
  EXPECT_EQ(ran, 2);
}

// 10 000 long-polls on one job, half of which time out (unwatch) in an order unlike the one
// they came in: the other half still run once each, and nothing is left behind. With a list
// per job each unwatch was a scan (50 M comparisons here); with the map it is a lookup.
TEST(JobWatchTest, TenThousandWaitersWatchAndUnwatchCorrectly) {
  constexpr int kWaiters = 10'000;
  JobWatch watch;
  std::vector<int> ran(kWaiters, 0);
  std::vector<std::uint64_t> tokens;
  for (int i = 0; i < kWaiters; ++i) tokens.push_back(watch.watch("job_a", [&ran, i] { ++ran[i]; }));
  watch.watch("job_b", [] {});
  EXPECT_EQ(watch.waiting(), static_cast<std::size_t>(kWaiters) + 1);
  for (int i = kWaiters - 1; i >= 0; i -= 2) watch.unwatch("job_a", tokens[i]);
  watch.unwatch("job_a", tokens[kWaiters - 1]);  // twice: harmless
  watch.unwatch("job_b", tokens[0]);             // another job's token: nothing
  EXPECT_EQ(watch.waiting(), static_cast<std::size_t>(kWaiters / 2) + 1);
  watch.notify("job_a");
  for (int i = 0; i < kWaiters; ++i) EXPECT_EQ(ran[i], i % 2 == 0 ? 1 : 0) << i;
  EXPECT_EQ(watch.waiting(), 1u);
  for (int i = 0; i < kWaiters; i += 2) watch.unwatch("job_a", tokens[i]);  // ran already
  EXPECT_EQ(watch.waiting(), 1u);
}

}  // namespace
}  // namespace sluice
