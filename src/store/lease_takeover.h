// Taking back, at start, what a dead predecessor left leased. Only this process uses an
// exclusive store (Store::exclusive(): the embedded engine holds a lock on its data dir), so
// every lease that exists when it starts belongs to a process that died holding it. Waiting
// for those leases to run out would only delay their jobs and deliveries; a shared store has
// live holders, so there the leases are left to run out (and the scheduler's reaper).
#pragma once

#include "core/status.h"
#include "core/time.h"
#include "store/store.h"

namespace sluice {

struct LeaseTakeover {
  int jobs = 0;      // running jobs back to queued (or failed, when no attempt was left)
  int webhooks = 0;  // leased webhook deliveries made due at once
};

// On an exclusive store, reaps every running job's lease and releases every webhook lease, as
// of `now`; on a shared store does nothing. Call before anything claims. Batches take theirs
// back themselves (BatchRunnerOptions::take_over_leases_at_start). The first store error is
// returned, after both were tried; each is a guarded update of its own.
Result<LeaseTakeover> TakeOverDeadProcessLeases(Store& store, Millis now);

}  // namespace sluice
