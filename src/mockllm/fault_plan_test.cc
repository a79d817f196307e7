#include "mockllm/fault_plan.h"

#include <gtest/gtest.h>

#include <map>

namespace sluice::mockllm {
namespace {

TEST(FaultPlan, ScriptFirstThenRates) {
  MockOptions o;
  o.script = *ParseFaultScript("500,429,ok");
  o.error_rate = 1.0;
  FaultPlan plan(o);
  EXPECT_EQ(plan.next({}, {}).fault.status, 500);
  EXPECT_EQ(plan.next({}, {}).fault.kind, FaultKind::kRateLimit);
  EXPECT_EQ(plan.next({}, {}).fault.kind, FaultKind::kOk);
  EXPECT_EQ(plan.script_left(), 0u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(plan.next({}, {}).fault.kind, FaultKind::kHttpError);
}

TEST(FaultPlan, ForcedFaultDoesNotUseTheScript) {
  MockOptions o;
  o.script = *ParseFaultScript("500");
  FaultPlan plan(o);
  EXPECT_EQ(plan.next(Fault{FaultKind::kReset}, {}).fault.kind, FaultKind::kReset);
  EXPECT_EQ(plan.script_left(), 1u);
  EXPECT_EQ(plan.next({}, {}).fault.status, 500);
}

TEST(FaultPlan, RatesSplitRequestsAndTheSeedRepeatsThem) {
  MockOptions o;
  o.error_rate = 0.2;
  o.rate_429 = 0.2;
  o.garbage_rate = 0.2;
  o.seed = 1234;
  FaultPlan a(o);
  FaultPlan b(o);
  std::map<FaultKind, int> counts;
  for (int i = 0; i < 5000; ++i) {
    Decision da = a.next({}, {});
    Decision db = b.next({}, {});
    ASSERT_EQ(da.fault.kind, db.fault.kind);
    ++counts[da.fault.kind];
  }
  EXPECT_NEAR(counts[FaultKind::kHttpError], 1000, 150);
  EXPECT_NEAR(counts[FaultKind::kRateLimit], 1000, 150);
  EXPECT_NEAR(counts[FaultKind::kGarbage], 1000, 150);
  EXPECT_NEAR(counts[FaultKind::kOk], 2000, 200);
  EXPECT_EQ(counts[FaultKind::kTimeout], 0);
  EXPECT_EQ(counts[FaultKind::kReset], 0);
}

TEST(FaultPlan, UniformJitterStaysInBounds) {
  MockOptions o;
  o.latency_ms = 100;
  o.latency_jitter_ms = 30;
  FaultPlan plan(o);
  Millis lo = 1000;
  Millis hi = 0;
  for (int i = 0; i < 2000; ++i) {
    Millis l = plan.next({}, {}).latency_ms;
    lo = std::min(lo, l);
    hi = std::max(hi, l);
  }
  EXPECT_GE(lo, 70);
  EXPECT_LE(hi, 130);
  EXPECT_LT(lo, 80);  // the whole range is used
  EXPECT_GT(hi, 120);
}

TEST(FaultPlan, LogNormalHasTheConfiguredMeanAndALongTail) {
  MockOptions o;
  o.latency_ms = 200;
  o.latency_distribution = LatencyDistribution::kLogNormal;
  o.latency_sigma = 0.5;
  FaultPlan plan(o);
  double sum = 0;
  Millis max = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    Millis l = plan.next({}, {}).latency_ms;
    sum += static_cast<double>(l);
    max = std::max(max, l);
  }
  EXPECT_NEAR(sum / n, 200, 10);
  EXPECT_GT(max, 2 * 200);
}

TEST(FaultPlan, LatencyOverrideAndReset) {
  MockOptions o;
  o.latency_ms = 100;
  FaultPlan plan(o);
  EXPECT_EQ(plan.next({}, Millis{5}).latency_ms, 5);
  EXPECT_EQ(plan.next({}, {}).latency_ms, 100);
  o.latency_ms = 7;
  o.script = *ParseFaultScript("reset");
  plan.reset(o);
  Decision d = plan.next({}, {});
  EXPECT_EQ(d.latency_ms, 7);
  EXPECT_EQ(d.fault.kind, FaultKind::kReset);
}

}  // namespace
}  // namespace sluice::mockllm
