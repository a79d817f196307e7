// A cron expression of five fields, in UTC: minute hour day-of-month month day-of-week.
//
//   field          values        names
//   minute         0-59
//   hour           0-23
//   day of month   1-31
//   month          1-12          jan..dec
//   day of week    0-7           sun..sat (0 and 7 are Sunday)
//
// Each field is `*`, a value, a range `a-b`, a step `*/n`, `a-b/n` or `a/n` (a to the field's
// end), or a comma list of those. Names are case-insensitive. `@hourly`, `@daily` (`@midnight`),
// `@weekly`, `@monthly`, `@yearly` (`@annually`) are the usual shorthands.
//
// Day of month and day of week follow cron's OR rule: when both are restricted, a day matches
// if either matches ("0 0 1,15 * mon" = the 1st, the 15th and every Monday); when one of them
// is unrestricted, only the other counts. As in Vixie cron, a field counts as unrestricted when
// it starts with `*` (so `*/2` in day of month leaves day of week alone).
// An expression that can never fire (`0 0 30 2 *`) is rejected.
#pragma once

#include <bitset>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"

namespace sluice {

class CronExpr {
 public:
  static Result<CronExpr> Parse(std::string_view text);

  // The first fire time strictly after `t` (whole minutes, UTC); nullopt if none within ~8 years.
  std::optional<Millis> next_after(Millis t) const;
  // Whether the minute that contains `t` is a fire time.
  bool matches(Millis t) const;
  const std::string& text() const { return text_; }

 private:
  bool day_matches(int day_of_month, int weekday) const;

  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;      // 1..31
  std::bitset<13> months_;    // 1..12
  std::bitset<7> weekdays_;   // 0 = Sunday
  bool days_star_ = false;
  bool weekdays_star_ = false;
};

}  // namespace sluice
