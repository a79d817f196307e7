#include "events/job_watch.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sluice
