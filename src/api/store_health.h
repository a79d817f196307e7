// What /healthz and /readyz know about the store, kept in memory: the outcome of the last ping,
// and since when a ping has been running. Pings run on the blocking pool, one at a time, so a
// store that hangs costs one pool thread however often it is asked about, and no handler ever
// pings on an event-loop thread.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/blocking_pool.h"
#include "core/status.h"
#include "core/time.h"

namespace sluice {

class StoreHealth {
 public:
  // `ping`: a cheap round trip to the store (Store::ping); called on pool threads only.
  StoreHealth(std::function<Status()> ping, const Clock& clock)
      : ping_(std::move(ping)), clock_(clock) {}

  struct Snapshot {
    bool checked = false;     // a ping has ended at least once
    bool ok = false;          // the last ping's outcome
    std::string error;        // its message when it failed
    Millis checked_at = 0;    // when it ended
    std::optional<Millis> pending_since;  // a ping is running (or queued) since then
  };
  Snapshot snapshot() const;

  // Starts a ping on `pool` unless one is already running, and calls `done` (when set) with
  // its outcome, on the pool thread that ran it. False when the pool refused the ping: then
  // `done` is never called.
  [[nodiscard]] bool check(BlockingPool& pool, std::function<void(const Status&)> done = {});

 private:
  void finish(const Status& status);

  const std::function<Status()> ping_;
  const Clock& clock_;
  mutable std::mutex mu_;
  Snapshot last_;                                          // GUARDED_BY(mu_)
  std::vector<std::function<void(const Status&)>> waiting_;  // GUARDED_BY(mu_)
};

}  // namespace sluice
