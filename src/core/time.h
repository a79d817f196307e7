// Time as the server sees it: wall-clock milliseconds since the Unix epoch, read through an
// injected Clock so that the scheduler, leases and deadlines can be tested with a FakeClock.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace sluice {

using Millis = std::int64_t;  // ms since the Unix epoch, or a duration in ms

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Millis now() const override;
  static SystemClock& Instance();
};

// A clock that moves only when told. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Millis start = 1'800'000'000'000) : now_(start) {}
  Millis now() const override { return now_.load(); }
  void advance(Millis by) { now_ += by; }
  void set(Millis to) { now_ = to; }

 private:
  std::atomic<Millis> now_;
};

// "2026-11-29T12:00:00.123Z". Always UTC with milliseconds.
std::string FormatRfc3339(Millis t);
// Accepts RFC 3339 with a Z or +hh:mm offset and optional fraction.
Result<Millis> ParseRfc3339(std::string_view text);
// "250ms", "30s", "10m", "2h", "1d", also "1m30s". Rejects negatives and empty input.
Result<Millis> ParseDuration(std::string_view text);
// "32MiB", "512KiB", "1000" (bytes).
Result<std::int64_t> ParseByteSize(std::string_view text);

}  // namespace sluice
