#include "scheduler/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "core/guarded.h"
#include "scheduler/slot_plan.h"

namespace sluice {

namespace {
// Claims larger than this are split over loop turns, so one queue cannot hog a turn.
constexpr int kMaxClaimBatch = 512;
// Past this many due tenants in one queue, its claims are plain ones (priority, then age, across
// tenants): a turn split over more tenants would cost more claim transactions than it has slots.
constexpr int kMaxSharedTenants = 1'000;
// How long a list of several due tenants is reused when no wake-up came meanwhile. A wake (a
// submit, a reap) makes it stale at once, so this only bounds how late a tenant whose job comes
// due by time alone (run_at, a retry) joins the split; measured, asking costs about 3 us per due
// tenant on SQLite (bench/fair_share/due_tenants_cost.cc), which a turn that claims one slot for
// one of 100 tenants would otherwise pay each time.
constexpr Millis kDueTenantsTtl = 20;
}  // namespace

Scheduler::Scheduler(Store& store, const Clock& clock, SchedulerOptions options,
                     JobRunner& runner, std::function<void(const Job&)> on_changed)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      runner_(runner),
      on_changed_(std::move(on_changed)) {}

Scheduler::~Scheduler() { stop(); }

void Scheduler::start() {
  thread_ = std::thread([this] { Loop(); });
}

void Scheduler::stop_claiming() {
  std::lock_guard lock(mu_);
  claiming_ = false;
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::wake(const std::string& queue) {
  {
    std::lock_guard lock(mu_);
    idle_queues_.erase(queue);
    wake_pending_ = true;
    ++wakes_;
  }
  cv_.notify_one();
}

void Scheduler::slot_freed(const std::string& queue) {
  {
    std::lock_guard lock(mu_);
    auto it = running_.find(queue);
    CHECK(it != running_.end() && it->second > 0);
    --it->second;
    wake_pending_ = true;
  }
  cv_.notify_one();
}

int Scheduler::running(const std::string& queue) const {
  std::lock_guard lock(mu_);
  auto it = running_.find(queue);
  return it == running_.end() ? 0 : it->second;
}

bool Scheduler::queue_full(const std::string& queue) const {
  const int capacity = NodeCapacity();
  std::lock_guard lock(mu_);
  auto plan = PlanFreeSlots(options_.queues, running_, capacity);
  auto it = plan.find(queue);
  return it != plan.end() && it->second == 0;
}

void Scheduler::Maintain(Millis now) {
  if (now >= next_heartbeat_) {
    next_heartbeat_ = now + options_.worker.heartbeat;
    if (auto r = store_.renew_leases(options_.owner, now + options_.worker.lease); !r.ok()) {
      std::fprintf(stderr, "scheduler: lease renewal failed: %s\n", r.status().ToString().c_str());
    }
    if (auto reaped = store_.reap_expired_leases(now); reaped.ok()) {
      for (const Job& job : *reaped) {
        on_changed_(job);
        wake(job.spec.queue);
      }
    }
  }
  if (now >= next_expiry_) {
    next_expiry_ = now + options_.expiry_tick;
    if (auto expired = store_.expire_overdue(now); expired.ok()) {
      for (const Job& job : *expired) on_changed_(job);
    }
  }
}

int Scheduler::ClaimDue(Millis now) {
  std::vector<std::string> queues;
  {
    std::lock_guard lock(mu_);
    if (!claiming_) return 0;
    if (now >= next_poll_) {
      // The poll timer: jobs whose run_at or retry time came due need no wake-up.
      idle_queues_.clear();
      next_poll_ = now + options_.worker.poll;
    }
    // Queues holding reservations first: their slots are theirs before anyone else's.
    for (int pass = 0; pass < 2; ++pass) {
      for (const auto& q : options_.queues) {
        if ((q.reserved > 0) == (pass == 0) && !idle_queues_.count(q.name)) queues.push_back(q.name);
      }
    }
  }
  int claimed_total = 0;
  // Once per turn: a slot the providers free meanwhile frees a job's slot too (slot_freed), which
  // wakes the next turn.
  const int capacity = NodeCapacity();
  for (const auto& queue : queues) {
    ClaimRequest req;
    {
      // Planned again for each queue: what the queues before it just claimed is taken.
      std::lock_guard lock(mu_);
      if (!claiming_) break;
      req.limit =
          std::min(PlanFreeSlots(options_.queues, running_, capacity)[queue], kMaxClaimBatch);
    }
    if (req.limit <= 0) continue;
    req.queue = queue;
    req.owner = options_.owner;
    req.now = now;
    req.lease_until = now + options_.worker.lease;
    if (!store_.exclusive()) {
      // Other nodes claim from the same queue: its max_concurrency is theirs and ours together.
      for (const auto& q : options_.queues) {
        if (q.name == queue) req.cluster_max = q.max_concurrency;
      }
    }
    auto claimed = ClaimFairly(req);
    if (!claimed.ok()) {
      std::fprintf(stderr, "scheduler: claim failed: %s\n", claimed.status().ToString().c_str());
      continue;
    }
    {
      std::lock_guard lock(mu_);
      running_[queue] += static_cast<int>(claimed->size());
      if (static_cast<int>(claimed->size()) < req.limit) idle_queues_.insert(queue);
      else wake_pending_ = true;  // there may be more: come back next turn
    }
    claimed_total += static_cast<int>(claimed->size());
    for (Job& job : *claimed) runner_.run(std::move(job));
  }
  return claimed_total;
}

Result<std::vector<Job>> Scheduler::ClaimFairly(const ClaimRequest& request) {
  FairShare& share = fair_share_[request.queue];
  auto charge_starts = [&](const std::vector<Job>& jobs) {
    std::map<std::string, int> started;
    for (const Job& job : jobs) ++started[job.spec.tenant];
    for (const auto& [tenant, n] : started) share.Charge(tenant, TenantWeight(tenant), n);
  };
  auto due = DueTenants(request.queue, request.now);
  if (!due.ok()) {
    // Fairness is best effort; claims are not.
    std::fprintf(stderr, "scheduler: due tenants of queue %s: %s (claiming without fair share)\n",
                 request.queue.c_str(), due.status().ToString().c_str());
    return store_.claim_jobs(request);
  }
  if (due->empty()) return std::vector<Job>();
  if (due->size() == 1 || static_cast<int>(due->size()) >= kMaxSharedTenants) {
    // Nothing to share: the plain claim, charged to whoever started, so that the tenant's pass
    // keeps up with the virtual time while it runs alone.
    if (due->size() == 1) share.Split(0, {{(*due)[0], TenantWeight((*due)[0])}});
    ASSIGN_OR_RETURN(std::vector<Job> claimed, store_.claim_jobs(request));
    charge_starts(claimed);
    return claimed;
  }

  std::vector<DueTenant> sharing;
  for (const std::string& tenant : *due) sharing.push_back({tenant, TenantWeight(tenant)});
  std::vector<Job> claimed;
  int left = request.limit;
  while (left > 0 && !sharing.empty()) {
    std::vector<std::string> ran_out;  // claimed fewer than granted: nothing more due now
    for (const TenantGrant& grant : share.Split(left, sharing)) {
      ClaimRequest of_tenant = request;
      of_tenant.tenant = grant.tenant;
      of_tenant.limit = grant.slots;
      auto got = store_.claim_jobs(of_tenant);
      if (!got.ok()) {
        // What was claimed is leased: it runs. The rest waits for the next turn.
        if (claimed.empty()) return got.status();
        std::fprintf(stderr, "scheduler: claim failed: %s\n", got.status().ToString().c_str());
        return claimed;
      }
      const int n = static_cast<int>(got->size());
      share.Charge(grant.tenant, TenantWeight(grant.tenant), n);
      left -= n;
      if (n < grant.slots) ran_out.push_back(grant.tenant);
      for (Job& job : *got) claimed.push_back(std::move(job));
    }
    if (ran_out.empty()) break;
    // Their slots go to the others in this same turn.
    std::erase_if(sharing, [&](const DueTenant& t) {
      return std::find(ran_out.begin(), ran_out.end(), t.tenant) != ran_out.end();
    });
    for (const std::string& tenant : ran_out) ForgetDueTenant(request.queue, tenant);
  }
  return claimed;
}

Result<std::vector<std::string>> Scheduler::DueTenants(const std::string& queue, Millis now) {
  std::uint64_t wakes;
  {
    std::lock_guard lock(mu_);
    wakes = wakes_;
  }
  auto cached = due_tenants_.find(queue);
  if (cached != due_tenants_.end() && cached->second.wakes == wakes &&
      now >= cached->second.fetched_at && now < cached->second.fetched_at + kDueTenantsTtl) {
    return cached->second.tenants;
  }
  ASSIGN_OR_RETURN(std::vector<std::string> tenants,
                   store_.due_tenants(queue, now, kMaxSharedTenants));
  // One tenant or none is cheap to ask again, and must be: a second one is what changes a claim.
  if (tenants.size() >= 2) {
    due_tenants_[queue] = CachedDueTenants{.tenants = tenants, .fetched_at = now, .wakes = wakes};
  } else {
    due_tenants_.erase(queue);
  }
  return tenants;
}

void Scheduler::ForgetDueTenant(const std::string& queue, const std::string& tenant) {
  auto cached = due_tenants_.find(queue);
  if (cached == due_tenants_.end()) return;
  std::erase(cached->second.tenants, tenant);
  if (cached->second.tenants.size() < 2) due_tenants_.erase(cached);
}

int Scheduler::TenantWeight(const std::string& tenant) const {
  return options_.tenant_weight ? std::max(1, options_.tenant_weight(tenant)) : 1;
}

int Scheduler::NodeCapacity() const {
  const int providers = options_.start_capacity ? options_.start_capacity() : -1;
  return providers < 0 ? options_.worker.concurrency
                       : std::min(options_.worker.concurrency, providers);
}

int Scheduler::tick() {
  Millis now = clock_.now();
  Maintain(now);
  return ClaimDue(now);
}

void Scheduler::Loop() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (stopping_) return;
      Millis now = clock_.now();
      Millis next = std::min({next_heartbeat_, next_expiry_, next_poll_});
      if (!wake_pending_ && next > now) {
        cv_.wait_for(lock, std::chrono::milliseconds(next - now),
                     [this] { return wake_pending_ || stopping_; });
      }
      if (stopping_) return;
      wake_pending_ = false;
    }
    // A tick that throws is logged; the next one comes after a pause, not at once.
    if (!RunGuarded("scheduler: a tick", [this] { (void)tick(); }).ok()) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, kPauseAfterThrow, [this] { return stopping_; });
    }
  }
}

}  // namespace sluice
