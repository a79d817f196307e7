#include "core/status.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace sluice {
namespace {

struct Job {
  std::string id;
};

Result<Job> Missing() { return NotFound("job j_42 not found"); }

TEST(ResultTest, ValueOfAnOkResult) {
  Result<Job> r = Job{"j_1"};
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.status().ok());
  EXPECT_EQ(r.value().id, "j_1");
  EXPECT_EQ(r->id, "j_1");
  EXPECT_EQ((*r).id, "j_1");
  const Result<Job>& c = r;
  EXPECT_EQ(c.value().id, "j_1");
  EXPECT_EQ(c->id, "j_1");
  EXPECT_EQ((*c).id, "j_1");
  EXPECT_EQ(std::move(r).value().id, "j_1");
}

// Every accessor of a failed Result is a CHECK failure that names the ignored status (its code
// and message), never a std::bad_variant_access that would hide it.
TEST(ResultDeathTest, ValueOfAnErrorCrashesWithTheStatus) {
  const char* kWant = "CHECK failed: .*Result.*not_found: job j_42 not found";
  Result<Job> r = Missing();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_DEATH((void)r.value(), kWant);
  EXPECT_DEATH((void)r->id, kWant);
  EXPECT_DEATH((void)(*r).id, kWant);
  const Result<Job>& c = r;
  EXPECT_DEATH((void)c.value(), kWant);
  EXPECT_DEATH((void)c->id, kWant);
  EXPECT_DEATH((void)(*c).id, kWant);
  EXPECT_DEATH((void)Missing().value(), kWant);
}

TEST(ResultDeathTest, TheFieldIsPartOfTheMessage) {
  Result<int> r = InvalidArgument("must be positive", "input.count");
  EXPECT_DEATH((void)r.value(), "invalid_argument: must be positive \\(field input.count\\)");
}

TEST(ResultDeathTest, BuildingFromAnOkStatusCrashes) {
  EXPECT_DEATH((void)Result<int>(Status::Ok()), "CHECK failed: Result built from an OK status");
}

TEST(StatusTest, ToStringHasCodeMessageAndField) {
  EXPECT_EQ(Status::Ok().ToString(), "ok");
  EXPECT_EQ(Unavailable("busy").ToString(), "unavailable: busy");
  EXPECT_EQ(InvalidArgument("bad", "input.text").ToString(), "invalid_argument: bad (field input.text)");
}

}  // namespace
}  // namespace sluice
