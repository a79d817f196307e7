#include "scheduler/fair_share.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <string>
#include <vector>

namespace sluice {
namespace {

using testing::ElementsAre;
using testing::FieldsAre;

// Splits `slots` and charges every grant in full, as when each tenant has a deep backlog.
// Returns the grants.
std::vector<TenantGrant> SplitAndStart(FairShare& share, int slots,
                                       const std::vector<DueTenant>& due) {
  std::vector<TenantGrant> grants = share.Split(slots, due);
  for (const TenantGrant& g : grants) {
    int weight = 1;
    for (const DueTenant& t : due) {
      if (t.tenant == g.tenant) weight = t.weight;
    }
    share.Charge(g.tenant, weight, g.slots);
  }
  return grants;
}

// `rounds` splits of one slot each (a node whose slots free one at a time): who started, in
// order.
std::vector<std::string> OneSlotAtATime(FairShare& share, int rounds,
                                        const std::vector<DueTenant>& due) {
  std::vector<std::string> starts;
  for (int i = 0; i < rounds; ++i) {
    for (const TenantGrant& g : SplitAndStart(share, 1, due)) starts.push_back(g.tenant);
  }
  return starts;
}

std::map<std::string, int> Count(const std::vector<std::string>& starts) {
  std::map<std::string, int> n;
  for (const std::string& t : starts) ++n[t];
  return n;
}

TEST(FairShareTest, EqualWeightsSplitOneSplitEvenlyWithTheRemainderByTenantId) {
  FairShare share;
  EXPECT_THAT(share.Split(10, {{"beta"}, {"acme"}}),
              ElementsAre(FieldsAre("acme", 5), FieldsAre("beta", 5)));
  EXPECT_THAT(share.Split(10, {{"cyan"}, {"beta"}, {"acme"}}),
              ElementsAre(FieldsAre("acme", 4), FieldsAre("beta", 3), FieldsAre("cyan", 3)));
  EXPECT_THAT(share.Split(2, {{"cyan"}, {"beta"}, {"acme"}}),
              ElementsAre(FieldsAre("acme", 1), FieldsAre("beta", 1)));
  EXPECT_TRUE(share.Split(0, {{"acme"}}).empty());
  EXPECT_TRUE(share.Split(5, {}).empty());
}

TEST(FairShareTest, EqualWeightsTakeTurnsOneSlotAtATime) {
  FairShare share;
  std::vector<std::string> starts = OneSlotAtATime(share, 6, {{"acme"}, {"beta"}});
  EXPECT_THAT(starts, ElementsAre("acme", "beta", "acme", "beta", "acme", "beta"));
  EXPECT_EQ(share.pass_of("acme"), share.pass_of("beta"));
}

TEST(FairShareTest, WeightsThreeToOneStartThreeToOne) {
  FairShare share;
  const std::vector<DueTenant> due = {{"acme", 3}, {"beta", 1}};
  EXPECT_THAT(share.Split(8, due), ElementsAre(FieldsAre("acme", 6), FieldsAre("beta", 2)));
  auto n = Count(OneSlotAtATime(share, 400, due));
  EXPECT_EQ(n["acme"], 300);
  EXPECT_EQ(n["beta"], 100);
  // Any window of the sequence keeps the ratio: no long runs of one tenant.
  std::vector<std::string> starts = OneSlotAtATime(share, 40, due);
  for (std::size_t i = 0; i + 4 <= starts.size(); i += 4) {
    auto window =
        Count({starts.begin() + static_cast<long>(i), starts.begin() + static_cast<long>(i) + 4});
    EXPECT_EQ(window["acme"], 3) << "window at " << i;
  }
}

TEST(FairShareTest, ANewcomerJoinsAtTheVirtualTimeWithoutBankedCredit) {
  FairShare share;
  OneSlotAtATime(share, 1'000, {{"acme"}});  // acme alone: a flood being drained
  const std::vector<DueTenant> both = {{"acme"}, {"beta"}};
  // beta's first job waits for at most one of acme's (its share at 1:1)...
  std::vector<std::string> first = OneSlotAtATime(share, 2, both);
  EXPECT_THAT(first, testing::Contains("beta"));
  // ...and then beta gets its share, not the 1 000 slots acme had while beta was absent.
  auto n = Count(OneSlotAtATime(share, 100, both));
  EXPECT_EQ(n["beta"], 50);
  EXPECT_EQ(n["acme"], 50);
}

TEST(FairShareTest, ANewcomerInOneBigSplitGetsItsShareOfIt) {
  FairShare share;
  SplitAndStart(share, 500, {{"acme"}});
  EXPECT_THAT(SplitAndStart(share, 10, {{"acme"}, {"beta"}}),
              ElementsAre(FieldsAre("acme", 5), FieldsAre("beta", 5)));
}

TEST(FairShareTest, AnIdleTenantBanksNoCredit) {
  FairShare share;
  const std::vector<DueTenant> both = {{"acme"}, {"beta"}};
  OneSlotAtATime(share, 100, both);
  OneSlotAtATime(share, 1'000, {{"acme"}});  // beta has nothing due meanwhile
  auto n = Count(OneSlotAtATime(share, 100, both));
  EXPECT_EQ(n["beta"], 50);
  EXPECT_EQ(n["acme"], 50);
}

TEST(FairShareTest, SlotsATenantCouldNotUseCostItNothingAndGoToTheOthers) {
  FairShare share;
  const std::vector<DueTenant> both = {{"acme"}, {"beta"}};
  ASSERT_THAT(share.Split(10, both), ElementsAre(FieldsAre("acme", 5), FieldsAre("beta", 5)));
  share.Charge("acme", 1, 2);  // acme had only 2 due jobs
  share.Charge("beta", 1, 5);
  // The same pass splits the 3 left over between the tenants that can still use them.
  EXPECT_THAT(share.Split(3, {{"beta"}}), ElementsAre(FieldsAre("beta", 3)));
  share.Charge("beta", 1, 3);
  // acme ran out of due jobs: when it has some again it joins at the virtual time, like any
  // tenant back from idle, and gets its share from then on.
  EXPECT_THAT(share.Split(10, both), ElementsAre(FieldsAre("acme", 5), FieldsAre("beta", 5)));
}

TEST(FairShareTest, ATenantServedAheadOfItsShareWaitsUntilTheOthersCatchUp) {
  FairShare share;
  const std::vector<DueTenant> both = {{"acme"}, {"beta"}};
  share.Split(2, both);
  share.Charge("acme", 1, 6);  // e.g. an unfiltered claim that took more of acme's jobs
  share.Charge("beta", 1, 1);
  EXPECT_THAT(share.Split(7, both), ElementsAre(FieldsAre("beta", 6), FieldsAre("acme", 1)));
}

TEST(FairShareTest, NoTenantStarvesBesideAHeavyOne) {
  FairShare share;
  std::vector<std::string> starts = OneSlotAtATime(share, 1'010, {{"heavy", 100}, {"light", 1}});
  auto n = Count(starts);
  EXPECT_EQ(n["light"], 10);
  // Between two starts of light, heavy starts at most 100 / 1 + 1 jobs.
  int run = 0;
  int longest = 0;
  for (const std::string& t : starts) {
    run = t == "heavy" ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  EXPECT_LE(longest, 101);
}

TEST(FairShareTest, AWeightBelowOneCountsAsOne) {
  FairShare share;
  auto n = Count(OneSlotAtATime(share, 30, {{"acme", 0}, {"beta", -4}, {"cyan", 1}}));
  EXPECT_EQ(n["acme"], 10);
  EXPECT_EQ(n["beta"], 10);
  EXPECT_EQ(n["cyan"], 10);
}

TEST(FairShareTest, AChargeOfATenantNotSplitYetJoinsAtTheVirtualTime) {
  FairShare share;
  OneSlotAtATime(share, 10, {{"acme"}});
  const std::int64_t v = share.virtual_time();
  share.Charge("beta", 1, 1);  // an unfiltered claim took a job of a tenant seen for the first time
  EXPECT_EQ(share.pass_of("beta"), v + FairShare::kStrideUnit);
}

TEST(FairShareTest, IdleTenantsThatOweNothingAreForgotten) {
  FairShare share;
  OneSlotAtATime(share, 10, {{"acme"}, {"beta"}, {"cyan"}});
  EXPECT_EQ(share.tracked(), 3u);
  OneSlotAtATime(share, 10, {{"acme"}});
  EXPECT_EQ(share.tracked(), 1u);
  EXPECT_EQ(share.pass_of("beta"), -1);
}

TEST(FairShareTest, PassesStayBoundedOverAnyNumberOfStarts) {
  FairShare share;
  const std::vector<DueTenant> both = {{"acme"}, {"beta"}};
  for (int i = 0; i < 4; ++i) {
    share.Split(2, both);
    share.Charge("acme", 1, std::numeric_limits<int>::max());
    share.Charge("beta", 1, std::numeric_limits<int>::max());
  }
  EXPECT_THAT(share.Split(10, both), ElementsAre(FieldsAre("acme", 5), FieldsAre("beta", 5)));
  EXPECT_LT(share.virtual_time(), std::int64_t{1} << 53);
  EXPECT_LT(share.pass_of("acme"), std::int64_t{1} << 53);
}

}  // namespace
}  // namespace sluice
