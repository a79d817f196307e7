#include "schedules/cron.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

Millis T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }
std::string Next(const char* expr, const char* after) {
  auto e = CronExpr::Parse(expr);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  auto n = e->next_after(T(after));
  return n ? FormatRfc3339(*n) : "never";
}

TEST(CronTest, EveryMinuteIsTheNextWholeMinute) {
  EXPECT_EQ(Next("* * * * *", "2026-03-01T10:15:30Z"), "2026-03-01T10:16:00.000Z");
  EXPECT_EQ(Next("* * * * *", "2026-03-01T10:15:00Z"), "2026-03-01T10:16:00.000Z");  // strictly after
}

TEST(CronTest, DailyAtTwoRollsOverDayMonthAndYear) {
  EXPECT_EQ(Next("0 2 * * *", "2026-03-01T01:59:59Z"), "2026-03-01T02:00:00.000Z");
  EXPECT_EQ(Next("0 2 * * *", "2026-03-01T02:00:00Z"), "2026-03-02T02:00:00.000Z");
  EXPECT_EQ(Next("0 2 * * *", "2026-12-31T03:00:00Z"), "2027-01-01T02:00:00.000Z");
  EXPECT_EQ(Next("@daily", "2026-12-31T03:00:00Z"), "2027-01-01T00:00:00.000Z");
}

TEST(CronTest, MonthEnds) {
  // The 31st skips the months that have none.
  EXPECT_EQ(Next("0 0 31 * *", "2026-01-31T00:00:00Z"), "2026-03-31T00:00:00.000Z");
  EXPECT_EQ(Next("0 0 31 * *", "2026-04-01T00:00:00Z"), "2026-05-31T00:00:00.000Z");
  // February 29 only in leap years.
  EXPECT_EQ(Next("0 12 29 2 *", "2026-01-01T00:00:00Z"), "2028-02-29T12:00:00.000Z");
  // The last day of February and the 1st of March are neighbours.
  EXPECT_EQ(Next("30 23 * * *", "2026-02-28T23:30:00Z"), "2026-03-01T23:30:00.000Z");
  EXPECT_EQ(Next("0 0 1 * *", "2026-02-15T00:00:00Z"), "2026-03-01T00:00:00.000Z");
}

TEST(CronTest, ListsRangesStepsAndNames) {
  EXPECT_EQ(Next("*/15 * * * *", "2026-03-01T10:46:00Z"), "2026-03-01T11:00:00.000Z");
  EXPECT_EQ(Next("5/20 * * * *", "2026-03-01T10:26:00Z"), "2026-03-01T10:45:00.000Z");
  EXPECT_EQ(Next("0 9-17/4 * * *", "2026-03-01T13:01:00Z"), "2026-03-01T17:00:00.000Z");
  EXPECT_EQ(Next("0 8,12,18 * * *", "2026-03-01T12:00:00Z"), "2026-03-01T18:00:00.000Z");
  EXPECT_EQ(Next("0 0 * jun-aug *", "2026-03-01T00:00:00Z"), "2026-06-01T00:00:00.000Z");
  // 2026-03-01 is a Sunday; MON-FRI at 9.
  EXPECT_EQ(Next("0 9 * * MON-FRI", "2026-03-01T00:00:00Z"), "2026-03-02T09:00:00.000Z");
  EXPECT_EQ(Next("0 9 * * 1-5", "2026-03-06T10:00:00Z"), "2026-03-09T09:00:00.000Z");  // Fri → Mon
  // 7 is Sunday too.
  EXPECT_EQ(Next("0 0 * * 7", "2026-03-02T00:00:00Z"), "2026-03-08T00:00:00.000Z");
  EXPECT_EQ(Next("@weekly", "2026-03-02T00:00:00Z"), "2026-03-08T00:00:00.000Z");
}

TEST(CronTest, DayOfMonthOrDayOfWeekWhenBothAreRestricted) {
  // The 15th or any Friday: from Sunday 2026-03-01, Friday the 6th comes first, then the 13th
  // (a Friday), then the 15th (a Sunday, matching by day of month).
  EXPECT_EQ(Next("0 0 15 * fri", "2026-03-01T00:00:00Z"), "2026-03-06T00:00:00.000Z");
  EXPECT_EQ(Next("0 0 15 * fri", "2026-03-13T00:00:00Z"), "2026-03-15T00:00:00.000Z");
  // Day of week "*": only the day of month counts (and the other way round).
  EXPECT_EQ(Next("0 0 15 * *", "2026-03-01T00:00:00Z"), "2026-03-15T00:00:00.000Z");
  EXPECT_EQ(Next("0 0 * * fri", "2026-03-07T00:00:00Z"), "2026-03-13T00:00:00.000Z");
  // A field starting with * counts as unrestricted (Vixie cron): */2 days AND Mondays.
  EXPECT_EQ(Next("0 0 */2 * mon", "2026-03-01T00:00:00Z"), "2026-03-09T00:00:00.000Z");
}

TEST(CronTest, MatchesWholeMinutes) {
  auto e = CronExpr::Parse("30 2 * * *").value();
  EXPECT_TRUE(e.matches(T("2026-03-01T02:30:45Z")));
  EXPECT_FALSE(e.matches(T("2026-03-01T02:31:00Z")));
}

TEST(CronTest, RejectsBadExpressionsWithClearMessages) {
  struct Case {
    const char* expr;
    const char* says;
  } cases[] = {
      {"* * * *", "5 fields"},
      {"* * * * * *", "5 fields"},
      {"60 * * * *", "minute: 60 is out of range 0-59"},
      {"* 24 * * *", "hour: 24 is out of range"},
      {"* * 0 * *", "day of month: 0 is out of range"},
      {"* * * 13 *", "month: 13 is out of range"},
      {"* * * * 8", "day of week: 8 is out of range"},
      {"*/0 * * * *", "bad step"},
      {"5-1 * * * *", "goes backwards"},
      {"a * * * *", "not a number"},
      {"1,,2 * * * *", "empty list item"},
      {"0 0 30 2 *", "never fires"},
      {"@sometimes", "unknown cron shorthand"},
      {"", "5 fields"},
  };
  for (const auto& c : cases) {
    auto e = CronExpr::Parse(c.expr);
    ASSERT_FALSE(e.ok()) << c.expr;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(e.status().message().find(c.says), std::string::npos) << c.expr << ": " << e.status().message();
  }
}

}  // namespace
}  // namespace sluice
