#include "core/time.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <limits>

namespace sluice {

Millis SystemClock::now() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

std::string FormatRfc3339(Millis t) {
  std::time_t secs = static_cast<std::time_t>(t >= 0 ? t / 1000 : (t - 999) / 1000);
  int ms = static_cast<int>(t - static_cast<Millis>(secs) * 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000,
                (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
                tm.tm_sec % 100, ms % 1000);
  return buf;
}

namespace {

bool ReadDigits(std::string_view s, size_t& pos, int count, int& out) {
  out = 0;
  for (int i = 0; i < count; ++i, ++pos) {
    if (pos >= s.size() || s[pos] < '0' || s[pos] > '9') return false;
    out = out * 10 + (s[pos] - '0');
  }
  return true;
}

bool Expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || (s[pos] != c && !(c == 'T' && (s[pos] == 't' || s[pos] == ' ')))) {
    return false;
  }
  ++pos;
  return true;
}

}  // namespace

Result<Millis> ParseRfc3339(std::string_view s) {
  const Status bad = InvalidArgument("not an RFC 3339 time: '" + std::string(s) + "'");
  size_t pos = 0;
  int year, mon, day, hour, min, sec;
  if (!ReadDigits(s, pos, 4, year) || !Expect(s, pos, '-') || !ReadDigits(s, pos, 2, mon) ||
      !Expect(s, pos, '-') || !ReadDigits(s, pos, 2, day) || !Expect(s, pos, 'T') ||
      !ReadDigits(s, pos, 2, hour) || !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, min) ||
      !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, sec)) {
    return bad;
  }
  static constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mon < 1 || mon > 12 || hour > 23 || min > 59 || sec > 60) return bad;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day < 1 || day > kDaysIn[mon - 1] + (mon == 2 && leap ? 1 : 0)) return bad;
  Millis frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) frac = frac * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad;
    for (; digits < 3; ++digits) frac *= 10;
  }
  Millis offset_ms = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!ReadDigits(s, pos, 2, oh) || !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, om) ||
        oh > 23 || om > 59) {
      return bad;
    }
    offset_ms = sign * (oh * 3600 + om * 60) * 1000LL;
  } else {
    return bad;
  }
  if (pos != s.size()) return bad;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  std::time_t secs = timegm(&tm);
  return static_cast<Millis>(secs) * 1000 + frac - offset_ms;
}

namespace {
// About 31 700 years: longer is no duration anyone means. Each part is at most this, and so is
// the sum, which keeps `total` far from overflowing.
constexpr Millis kMaxDurationMs = 1'000'000'000'000'000;
}  // namespace

Result<Millis> ParseDuration(std::string_view s) {
  const Status bad = InvalidArgument("not a duration like \"250ms\", \"30s\", \"10m\", \"2h\": '" +
                                     std::string(s) + "'");
  if (s.empty()) return bad;
  Millis total = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    double number = 0;
    size_t start = pos;
    double scale = 0;
    while (pos < s.size() && ((s[pos] >= '0' && s[pos] <= '9') || s[pos] == '.')) {
      if (s[pos] == '.') {
        if (scale != 0) return bad;
        scale = 0.1;
      } else if (scale == 0) {
        number = number * 10 + (s[pos] - '0');
      } else {
        number += (s[pos] - '0') * scale;
        scale /= 10;
      }
      ++pos;
    }
    // "." alone is not a number: ".s" must not read as zero seconds.
    if (pos == start || (pos == start + 1 && s[start] == '.')) return bad;
    size_t unit_start = pos;
    while (pos < s.size() && s[pos] >= 'a' && s[pos] <= 'z') ++pos;
    std::string_view unit = s.substr(unit_start, pos - unit_start);
    double factor;
    if (unit == "ms") factor = 1;
    else if (unit == "s") factor = 1000;
    else if (unit == "m") factor = 60'000;
    else if (unit == "h") factor = 3'600'000;
    else if (unit == "d") factor = 86'400'000;
    else return bad;
    double add = number * factor;
    if (add > kMaxDurationMs) return bad;
    total += static_cast<Millis>(add);
    // Bounded as a whole, not only per part: thousands of parts would overflow Millis.
    if (total > kMaxDurationMs) return bad;
  }
  return total;
}

Result<std::int64_t> ParseByteSize(std::string_view s) {
  const Status bad = InvalidArgument("not a size like \"32MiB\": '" + std::string(s) + "'");
  size_t pos = 0;
  std::int64_t n = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    n = n * 10 + (s[pos++] - '0');
    if (n > (1LL << 50)) return bad;
  }
  if (pos == 0) return bad;
  std::string_view unit = s.substr(pos);
  int shift = -1;
  if (unit.empty() || unit == "B") shift = 0;
  if (unit == "KiB" || unit == "KB" || unit == "K") shift = 10;
  if (unit == "MiB" || unit == "MB" || unit == "M") shift = 20;
  if (unit == "GiB" || unit == "GB" || unit == "G") shift = 30;
  if (shift < 0) return bad;
  // n << shift must fit: a size that wrapped would read as negative (no limit) or as another.
  if (n > (std::numeric_limits<std::int64_t>::max() >> shift)) return bad;
  return n << shift;
}

}  // namespace sluice
