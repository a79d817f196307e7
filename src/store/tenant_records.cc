#include "store/tenant_records.h"

#include <chrono>
#include <cstdio>
#include <string>

namespace sluice {

namespace {

std::chrono::year_month MonthHolding(Millis t) {
  using namespace std::chrono;
  const year_month_day day(floor<days>(sys_time<milliseconds>(milliseconds(t))));
  return day.year() / day.month();
}

Millis StartOf(std::chrono::year_month month) {
  using namespace std::chrono;
  return duration_cast<milliseconds>(sys_days(month / 1).time_since_epoch()).count();
}

}  // namespace

std::string MonthOf(Millis t) {
  const std::chrono::year_month month = MonthHolding(t);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u", static_cast<int>(month.year()),
                static_cast<unsigned>(month.month()));
  return buf;
}

std::string AttemptReservationId(std::string_view job_id, int attempt) {
  return std::string(job_id) + ":" + std::to_string(attempt);
}

MonthSpan MonthSpanOf(Millis t) {
  const std::chrono::year_month month = MonthHolding(t);
  return {.start = StartOf(month), .end = StartOf(month + std::chrono::months(1))};
}

}  // namespace sluice
