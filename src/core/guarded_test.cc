#include "core/guarded.h"

#include <filesystem>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sluice {
namespace {

std::vector<std::string>* g_lines = nullptr;  // the test's log sink (a GuardedLog is a plain function)
void Collect(const std::string& line) { g_lines->push_back(line); }

class RunGuardedTest : public testing::Test {
 protected:
  void SetUp() override { g_lines = &lines_; }
  void TearDown() override { g_lines = nullptr; }
  std::vector<std::string> lines_;
};

TEST_F(RunGuardedTest, ReturnsWhatTheWorkReturns) {
  int ran = 0;
  EXPECT_TRUE(RunGuarded("void work", [&] { ++ran; }, Collect).ok());
  EXPECT_EQ(RunGuarded("status work", [] { return Unavailable("away"); }, Collect).code(),
            StatusCode::kUnavailable);
  Result<int> r = RunGuarded("result work", [] { return Result<int>(7); }, Collect);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(ran, 1);
  EXPECT_TRUE(lines_.empty());
}

TEST_F(RunGuardedTest, AFilesystemErrorBecomesAnInternalStatusAndALogLine) {
  Status s = RunGuarded(
      "reading the inbox",
      [] { (void)std::filesystem::file_size("/nonexistent/sluice-guarded-test"); }, Collect);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("reading the inbox threw"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("nonexistent"), std::string::npos) << s.message();
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0], s.message());
}

TEST_F(RunGuardedTest, BadAllocAndNonStandardExceptionsAreCaughtToo) {
  Result<int> r = RunGuarded("allocating", []() -> Result<int> { throw std::bad_alloc(); }, Collect);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  Status s = RunGuarded("odd", [] { throw 42; }, Collect);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("non-standard"), std::string::npos);
  EXPECT_EQ(lines_.size(), 2u);
}

}  // namespace
}  // namespace sluice
