// What the simulator has seen: request counts by outcome, requests in flight (now and at the
// peak) and the arrival times of the latest requests, so that tests can check concurrency and
// the spacing a rate limiter produced. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/time.h"

namespace sluice::mockllm {

// Outcome names as counted: "ok", "error" (any HTTP error status), "rate_limited", "timeout",
// "garbage", "truncated", "reset", "bad_request" (a 400 for an invalid request).
struct MockStats {
  std::uint64_t requests = 0;      // POST /v1/chat/completions received
  std::int64_t in_flight = 0;      // received and not yet answered, reset or given up on
  std::int64_t peak_in_flight = 0;
  std::map<std::string, std::uint64_t> outcomes;  // every name above, zeros included
  std::vector<Millis> arrivals;    // ms since the epoch, oldest first, the latest 10 000

  std::string ToJson() const;
};

class StatsRecorder {
 public:
  static constexpr std::size_t kMaxArrivals = 10'000;

  void arrived(Millis now);
  void outcome(const std::string& name);
  void finished();  // one in-flight request was answered or dropped
  // Zeroes the counts and arrivals; in_flight stays (those requests are still open) and the
  // peak restarts from it.
  void reset();
  MockStats snapshot() const;

 private:
  mutable std::mutex mu_;
  MockStats stats_;                // guarded by mu_; arrivals kept in arrivals_
  std::deque<Millis> arrivals_;    // guarded by mu_
};

}  // namespace sluice::mockllm
