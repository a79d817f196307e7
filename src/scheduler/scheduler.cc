#include "scheduler/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "scheduler/slot_plan.h"

namespace sluice {

namespace {
// Claims larger than this are split over loop turns, so one queue cannot hog a turn.
constexpr int kMaxClaimBatch = 512;
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
  std::lock_guard lock(mu_);
  auto plan = PlanFreeSlots(options_.queues, running_, options_.worker.concurrency);
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
  for (const auto& queue : queues) {
    ClaimRequest req;
    {
      // Planned again for each queue: what the queues before it just claimed is taken.
      std::lock_guard lock(mu_);
      if (!claiming_) break;
      req.limit = std::min(PlanFreeSlots(options_.queues, running_, options_.worker.concurrency)[queue],
                           kMaxClaimBatch);
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
    auto claimed = store_.claim_jobs(req);
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
    tick();
  }
}

}  // namespace sluice
