#include "scheduler/slot_plan.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

const std::vector<QueueConfig> kQueues = {
    {"default", 100, 0}, {"batch", 100, 0}, {"urgent", 10, 4}};

TEST(SlotPlanTest, IdleNodeKeepsReservationsForTheirQueue) {
  auto plan = PlanFreeSlots(kQueues, {}, 20);
  EXPECT_EQ(plan["urgent"], 10);
  EXPECT_EQ(plan["batch"], 16);  // 20 minus urgent's 4 reserved
  EXPECT_EQ(plan["default"], 16);
}

TEST(SlotPlanTest, BatchBacklogCannotTakeUrgentReservation) {
  auto plan = PlanFreeSlots(kQueues, {{"batch", 16}}, 20);
  EXPECT_EQ(plan["batch"], 0);
  EXPECT_EQ(plan["default"], 0);
  EXPECT_EQ(plan["urgent"], 4);
}

TEST(SlotPlanTest, UrgentBeyondItsReservationSharesTheRest) {
  auto plan = PlanFreeSlots(kQueues, {{"urgent", 4}}, 20);
  EXPECT_EQ(plan["urgent"], 6);  // its max is 10
  EXPECT_EQ(plan["batch"], 16);
}

TEST(SlotPlanTest, MaxConcurrencyCapsAQueue) {
  auto plan = PlanFreeSlots({{"default", 3, 0}}, {{"default", 2}}, 100);
  EXPECT_EQ(plan["default"], 1);
}

TEST(SlotPlanTest, FullNodeStartsNothing) {
  auto plan = PlanFreeSlots(kQueues, {{"default", 10}, {"urgent", 10}}, 20);
  for (auto& [q, n] : plan) EXPECT_EQ(n, 0) << q;
}

}  // namespace
}  // namespace sluice
