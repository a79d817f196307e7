#include "schedules/cron.h"

#include <array>
#include <cctype>
#include <charconv>
#include <vector>

namespace sluice {

namespace {

constexpr Millis kMinute = 60'000;
constexpr Millis kDay = 24 * 60 * kMinute;

// Civil date <-> days since 1970-01-01 (H. Hinnant's algorithms), proleptic Gregorian, UTC.
std::int64_t DaysFromCivil(std::int64_t y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  std::int64_t year;
  int month, day, hour, minute, weekday;
};

Civil ToCivil(Millis t) {
  std::int64_t days = t >= 0 ? t / kDay : (t - kDay + 1) / kDay;
  Millis in_day = t - days * kDay;
  std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  Civil c;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2);
  c.hour = static_cast<int>(in_day / (60 * kMinute));
  c.minute = static_cast<int>(in_day / kMinute % 60);
  c.weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  return c;
}

Millis FromCivil(std::int64_t y, int m, int d, int hour, int minute) {
  return DaysFromCivil(y, m, d) * kDay + (hour * 60 + minute) * kMinute;
}

constexpr std::array<const char*, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                     "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<const char*, 7> kDayNames = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct FieldSpec {
  const char* name;
  int min, max;
  const char* const* names = nullptr;  // names[i] is value names_base + i
  int names_count = 0;
  int names_base = 0;
};

Result<int> Value(std::string_view s, const FieldSpec& spec) {
  if (spec.names && s.size() == 3 && std::isalpha(static_cast<unsigned char>(s[0]))) {
    std::string lower;
    for (char c : s) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    for (int i = 0; i < spec.names_count; ++i) {
      if (lower == spec.names[i]) return spec.names_base + i;
    }
  }
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    return InvalidArgument(std::string(spec.name) + ": \"" + std::string(s) + "\" is not a number");
  }
  if (v < spec.min || v > spec.max) {
    return InvalidArgument(std::string(spec.name) + ": " + std::to_string(v) + " is out of range " +
                           std::to_string(spec.min) + "-" + std::to_string(spec.max));
  }
  return v;
}

// Sets the values of one field into `out` (indexes min..max).
Status ParseField(std::string_view field, const FieldSpec& spec, std::vector<bool>& out) {
  out.assign(static_cast<std::size_t>(spec.max) + 1, false);
  if (field.empty()) return InvalidArgument(std::string(spec.name) + " is empty");
  std::size_t start = 0;
  while (start <= field.size()) {
    std::size_t comma = field.find(',', start);
    std::string_view part = field.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (part.empty()) return InvalidArgument(std::string(spec.name) + ": empty list item");
    int step = 1;
    bool stepped = false;
    if (auto slash = part.find('/'); slash != std::string_view::npos) {
      std::string_view step_text = part.substr(slash + 1);
      auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (step_text.empty() || ec != std::errc() || end != step_text.data() + step_text.size() || step < 1) {
        return InvalidArgument(std::string(spec.name) + ": bad step \"" + std::string(step_text) + "\"");
      }
      part = part.substr(0, slash);
      stepped = true;
    }
    int lo, hi;
    if (part == "*") {
      lo = spec.min;
      hi = spec.max;
    } else if (auto dash = part.find('-'); dash != std::string_view::npos) {
      ASSIGN_OR_RETURN(lo, Value(part.substr(0, dash), spec));
      ASSIGN_OR_RETURN(hi, Value(part.substr(dash + 1), spec));
      if (hi < lo) return InvalidArgument(std::string(spec.name) + ": range " + std::string(part) + " goes backwards");
    } else {
      ASSIGN_OR_RETURN(lo, Value(part, spec));
      hi = stepped ? spec.max : lo;  // "5/15" = from 5 to the end, every 15
    }
    for (int v = lo; v <= hi; v += step) out[static_cast<std::size_t>(v)] = true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return Status::Ok();
}

std::string_view Shorthand(std::string_view text) {
  if (text == "@hourly") return "0 * * * *";
  if (text == "@daily" || text == "@midnight") return "0 0 * * *";
  if (text == "@weekly") return "0 0 * * 0";
  if (text == "@monthly") return "0 0 1 * *";
  if (text == "@yearly" || text == "@annually") return "0 0 1 1 *";
  return {};
}

}  // namespace

Result<CronExpr> CronExpr::Parse(std::string_view text) {
  CronExpr e;
  e.text_ = std::string(text);
  std::string_view body = text;
  if (!text.empty() && text[0] == '@') {
    body = Shorthand(text);
    if (body.empty()) return InvalidArgument("unknown cron shorthand " + std::string(text));
  }
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < body.size()) {
    while (i < body.size() && std::isspace(static_cast<unsigned char>(body[i]))) ++i;
    std::size_t j = i;
    while (j < body.size() && !std::isspace(static_cast<unsigned char>(body[j]))) ++j;
    if (j > i) fields.push_back(body.substr(i, j - i));
    i = j;
  }
  if (fields.size() != 5) {
    return InvalidArgument("a cron expression has 5 fields (minute hour day-of-month month day-of-week), \"" +
                           std::string(text) + "\" has " + std::to_string(fields.size()));
  }
  static const FieldSpec kSpecs[5] = {
      {"minute", 0, 59},
      {"hour", 0, 23},
      {"day of month", 1, 31},
      {"month", 1, 12, kMonthNames.data(), 12, 1},
      {"day of week", 0, 7, kDayNames.data(), 7, 0},
  };
  std::vector<bool> v;
  RETURN_IF_ERROR(ParseField(fields[0], kSpecs[0], v));
  for (int k = 0; k < 60; ++k) e.minutes_[k] = v[k];
  RETURN_IF_ERROR(ParseField(fields[1], kSpecs[1], v));
  for (int k = 0; k < 24; ++k) e.hours_[k] = v[k];
  RETURN_IF_ERROR(ParseField(fields[2], kSpecs[2], v));
  for (int k = 1; k <= 31; ++k) e.days_[k] = v[k];
  RETURN_IF_ERROR(ParseField(fields[3], kSpecs[3], v));
  for (int k = 1; k <= 12; ++k) e.months_[k] = v[k];
  RETURN_IF_ERROR(ParseField(fields[4], kSpecs[4], v));
  for (int k = 0; k < 7; ++k) e.weekdays_[k] = v[k];
  if (v[7]) e.weekdays_[0] = true;  // 7 is Sunday too
  e.days_star_ = fields[2][0] == '*';
  e.weekdays_star_ = fields[4][0] == '*';
  // Rejects what never fires (Feb 30): some fire must come within 8 years of any time.
  if (!e.next_after(FromCivil(2024, 1, 1, 0, 0))) {
    return InvalidArgument("cron expression \"" + std::string(text) + "\" never fires");
  }
  return e;
}

bool CronExpr::day_matches(int day_of_month, int weekday) const {
  bool dom = days_[static_cast<std::size_t>(day_of_month)];
  bool dow = weekdays_[static_cast<std::size_t>(weekday)];
  if (days_star_ || weekdays_star_) return dom && dow;  // one is "*": only the other restricts
  return dom || dow;
}

bool CronExpr::matches(Millis t) const {
  Civil c = ToCivil(t);
  return months_[static_cast<std::size_t>(c.month)] && day_matches(c.day, c.weekday) &&
         hours_[static_cast<std::size_t>(c.hour)] && minutes_[static_cast<std::size_t>(c.minute)];
}

std::optional<Millis> CronExpr::next_after(Millis t) const {
  // Start at the next whole minute; skip a month, a day or an hour at a time where they do not match.
  Millis m = (t >= 0 ? t / kMinute : (t - kMinute + 1) / kMinute) * kMinute + kMinute;
  const Millis limit = m + 8 * 366 * kDay;
  while (m < limit) {
    Civil c = ToCivil(m);
    if (!months_[static_cast<std::size_t>(c.month)]) {
      int month = c.month == 12 ? 1 : c.month + 1;
      m = FromCivil(c.month == 12 ? c.year + 1 : c.year, month, 1, 0, 0);
      continue;
    }
    if (!day_matches(c.day, c.weekday)) {
      m = FromCivil(c.year, c.month, c.day, 0, 0) + kDay;
      continue;
    }
    if (!hours_[static_cast<std::size_t>(c.hour)]) {
      m = FromCivil(c.year, c.month, c.day, c.hour, 0) + 60 * kMinute;
      continue;
    }
    if (!minutes_[static_cast<std::size_t>(c.minute)]) {
      m += kMinute;
      continue;
    }
    return m;
  }
  return std::nullopt;
}

}  // namespace sluice
