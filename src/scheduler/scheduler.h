// The scheduler decides which due jobs this node starts, and keeps its leases alive.
// One thread: it wakes on new work, on a freed slot, or on its poll timer (the safety net that
// also catches run_at and retry times coming due), then
//   1. every heartbeat: renews this node's leases and reaps leases of dead workers;
//   2. every expiry tick: expires queued jobs whose deadline passed (claims skip them anyway);
//   3. claims, per queue, at most as many jobs as the queue has free slots (PlanFreeSlots, with
//      the node's capacity capped by what its providers can start: start_capacity) — never
//      prefetching work that would then wait behind a busy worker or provider — and hands each to
//      the JobRunner. On a shared store (not exclusive()) each claim also carries the queue's
//      max_concurrency as ClaimRequest::cluster_max: that limit holds across all nodes.
//      When several tenants have due jobs in the queue, its free slots are split between them
//      by weighted fair share (fair_share.h) and each tenant's share is claimed on its own
//      (ClaimRequest::tenant); slots a tenant could not use go to the others in the same turn.
//      With one tenant due the claim is the plain one; due_tenants is all that fairness costs.
// A queue whose last claim came back short is not asked again until new work arrives for it
// or the poll timer fires, so an empty queue costs nothing.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "config/config.h"
#include "core/job.h"
#include "core/time.h"
#include "scheduler/fair_share.h"
#include "store/store.h"

namespace sluice {

// Runs claimed jobs. run() must not block: it starts the attempt and returns. When the attempt
// is over (finished, lost or released) the runner calls Scheduler::slot_freed.
class JobRunner {
 public:
  virtual ~JobRunner() = default;
  virtual void run(Job job) = 0;
};

struct SchedulerOptions {
  WorkerConfig worker;
  std::vector<QueueConfig> queues;
  std::string owner;             // this process's lease owner id
  Millis expiry_tick = 200;      // how often queued deadlines are swept
  // A tenant's fair-share weight within a queue (Tenant::weight). Called on the scheduler's
  // thread for each due tenant of a shared claim, so it must be quick (no store call). Empty,
  // or an answer below 1: weight 1.
  std::function<int(const std::string& tenant)> tenant_weight = [](const std::string&) {
    return 1;
  };
  // How many attempts the node can start at once beyond its own slots: its providers' combined
  // concurrency limit (ModelGateway::provider_capacity). The node never holds more running jobs
  // than this, so a job that would only wait for a provider slot stays queued in the store
  // (blocked_reason queue_full), where another node can take it. Called on the scheduler's
  // thread each turn and by queue_full(), so it must be quick. Empty, or negative: no cap
  // beyond worker.concurrency.
  std::function<int()> start_capacity;
};

class Scheduler {
 public:
  // `on_changed` is told about jobs that the scheduler itself moved (reaped, expired), so
  // waiters can be woken.
  Scheduler(Store& store, const Clock& clock, SchedulerOptions options, JobRunner& runner,
            std::function<void(const Job&)> on_changed);
  ~Scheduler();

  void start();
  // Drain: no more claims; heartbeats go on so running jobs keep their leases.
  void stop_claiming();
  // Stops the thread. Call after the runner has no attempts left.
  void stop();

  // New work in a queue (a submit committed): claim at once.
  void wake(const std::string& queue);
  // An attempt of a job from `queue` ended: its slot is free.
  void slot_freed(const std::string& queue);

  int running(const std::string& queue) const;
  bool queue_full(const std::string& queue) const;

  // One pass of the loop (maintenance when due, then claims). Tests with a FakeClock call it
  // directly instead of start(). Returns the number of jobs claimed.
  int tick();

 private:
  void Loop();
  void Maintain(Millis now);
  int ClaimDue(Millis now);
  // Claims request.limit jobs of request.queue, split between its due tenants by fair share.
  Result<std::vector<Job>> ClaimFairly(const ClaimRequest& request);
  // The queue's due tenants (Store::due_tenants), from a short-lived cache when there were
  // several: asking costs in proportion to the tenants, claiming a slot does not.
  Result<std::vector<std::string>> DueTenants(const std::string& queue, Millis now);
  void ForgetDueTenant(const std::string& queue, const std::string& tenant);
  int TenantWeight(const std::string& tenant) const;
  // Jobs the node may run at once: worker.concurrency, capped by start_capacity.
  int NodeCapacity() const;

  Store& store_;
  const Clock& clock_;
  const SchedulerOptions options_;
  JobRunner& runner_;
  std::function<void(const Job&)> on_changed_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int> running_;     // GUARDED_BY(mu_)
  std::set<std::string> idle_queues_;      // GUARDED_BY(mu_): last claim came back short
  bool wake_pending_ = false;              // GUARDED_BY(mu_)
  bool claiming_ = true;                   // GUARDED_BY(mu_)
  bool stopping_ = false;                  // GUARDED_BY(mu_)
  std::uint64_t wakes_ = 0;                // GUARDED_BY(mu_): wake() calls so far

  // Scheduler thread only (or the caller of tick()):
  Millis next_heartbeat_ = 0;
  Millis next_expiry_ = 0;
  Millis next_poll_ = 0;
  // Fair share, per queue.
  std::map<std::string, FairShare> fair_share_;
  struct CachedDueTenants {
    std::vector<std::string> tenants;  // two or more
    Millis fetched_at = 0;
    std::uint64_t wakes = 0;           // wakes_ when it was asked: any later wake makes it stale
  };
  std::map<std::string, CachedDueTenants> due_tenants_;
  std::thread thread_;
};

}  // namespace sluice
