#include "store/lease_takeover.h"

#include <limits>

namespace sluice {

Result<LeaseTakeover> TakeOverDeadProcessLeases(Store& store, Millis now) {
  LeaseTakeover taken;
  if (!store.exclusive()) return taken;
  // Every job lease is over, however long it was granted for (as of the end of time); the
  // change itself happens now (a failed job's finished_at, the events).
  auto jobs = store.reap_leases(std::numeric_limits<Millis>::max(), now);
  if (jobs.ok()) taken.jobs = static_cast<int>(jobs->size());
  // Tried even when the jobs failed: the deliveries do not depend on them.
  auto webhooks = store.release_webhook_leases("", now);
  if (webhooks.ok()) taken.webhooks = *webhooks;
  if (!jobs.ok()) return jobs.status();
  if (!webhooks.ok()) return webhooks.status();
  return taken;
}

}  // namespace sluice
