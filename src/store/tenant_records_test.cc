#include "store/tenant_records.h"

#include <gtest/gtest.h>

#include "core/time.h"

namespace sluice {
namespace {

Millis At(const char* rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : 0;
}

TEST(MonthTest, AMonthIsItsUtcCalendarMonth) {
  EXPECT_EQ(MonthOf(At("2026-12-01T00:00:00.000Z")), "2026-12");
  EXPECT_EQ(MonthOf(At("2026-11-30T23:59:59.999Z")), "2026-11");
  EXPECT_EQ(MonthOf(At("2026-12-31T23:59:59.999Z")), "2026-12");
  EXPECT_EQ(MonthOf(At("2027-01-01T00:00:00.000Z")), "2027-01");
  // Local offsets do not move it: 01:00 on the 1st at +02:00 is still the month before in UTC.
  EXPECT_EQ(MonthOf(At("2027-01-01T01:00:00+02:00")), "2026-12");
  EXPECT_EQ(MonthOf(At("2028-02-29T12:00:00Z")), "2028-02");
  EXPECT_EQ(MonthOf(0), "1970-01");
}

TEST(MonthTest, ASpanRunsFromTheFirstMillisecondToTheNextMonthsFirst) {
  const MonthSpan december = MonthSpanOf(At("2026-12-15T10:00:00Z"));
  EXPECT_EQ(december.start, At("2026-12-01T00:00:00Z"));
  EXPECT_EQ(december.end, At("2027-01-01T00:00:00Z"));
  EXPECT_EQ(MonthSpanOf(december.start).start, december.start);
  EXPECT_EQ(MonthSpanOf(december.end - 1).end, december.end);
  EXPECT_EQ(MonthSpanOf(december.end).start, december.end);
  const MonthSpan leap_february = MonthSpanOf(At("2028-02-29T23:59:59.999Z"));
  EXPECT_EQ(leap_february.end - leap_february.start, 29LL * 24 * 3600 * 1000);
  const MonthSpan february = MonthSpanOf(At("2027-02-10T00:00:00Z"));
  EXPECT_EQ(february.end - february.start, 28LL * 24 * 3600 * 1000);
}

TEST(MonthTest, AnAttemptsReservationIsNamedByJobAndAttempt) {
  EXPECT_EQ(AttemptReservationId("job_1", 3), "job_1:3");
}

}  // namespace
}  // namespace sluice
