#include "worker/budget_gate.h"

#include <utility>
#include <vector>

#include "core/guarded.h"

namespace sluice {

BudgetGate::BudgetGate(Store& store, const Clock& clock, BudgetGateOptions options)
    : store_(store), clock_(clock), options_(options) {}

BudgetGate::~BudgetGate() { stop(); }

void BudgetGate::start() { thread_ = std::thread([this] { Loop(); }); }

void BudgetGate::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

const BudgetGate::Known* BudgetGate::Lookup(const std::string& tenant, Millis now) {
  auto it = known_.find(tenant);
  const bool fresh = it != known_.end() && now - it->second.read_at < options_.tenant_ttl;
  if (!fresh && !refreshing_[tenant]) {
    refreshing_[tenant] = true;
    refreshes_.push_back(tenant);
    cv_.notify_one();
  }
  return it == known_.end() ? nullptr : &it->second;
}

std::optional<double> BudgetGate::budget_of(const std::string& tenant) {
  const Millis now = clock_.now();
  std::lock_guard lock(mu_);
  const Known* known = Lookup(tenant, now);
  if (!known) return std::nullopt;
  return known->budget_usd;
}

int BudgetGate::weight_of(const std::string& tenant) {
  const Millis now = clock_.now();
  std::lock_guard lock(mu_);
  const Known* known = Lookup(tenant, now);
  return known ? known->weight : 1;
}

void BudgetGate::admit(std::string tenant, std::string reservation_id, double amount_usd, Done done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      asks_.push_back({std::move(tenant), std::move(reservation_id), amount_usd, std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(Decision::kUnavailable);
}

void BudgetGate::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !asks_.empty() || !refreshes_.empty(); });
    if (stopping_) break;
    std::deque<Ask> asks = std::move(asks_);
    std::deque<std::string> refreshes = std::move(refreshes_);
    asks_.clear();
    refreshes_.clear();
    lock.unlock();
    // A throw (the store's, an allocation's) must not end the thread nor leave a worker
    // waiting for its answer: whoever was not answered yet hears kUnavailable, and the tenants
    // being refreshed may be refreshed again.
    if (!RunGuarded("budget gate: serving asks", [&] { Serve(asks, refreshes); }).ok()) {
      for (Ask& a : asks) {
        if (a.done) std::exchange(a.done, nullptr)(Decision::kUnavailable);
      }
      std::lock_guard refresh_lock(mu_);
      for (const std::string& tenant : refreshes) refreshing_[tenant] = false;
    }
    lock.lock();
  }
  std::deque<Ask> left = std::move(asks_);
  lock.unlock();
  for (Ask& a : left) a.done(Decision::kUnavailable);
}

std::optional<double> BudgetGate::Budget(const std::string& tenant, Millis now) {
  {
    std::lock_guard lock(mu_);
    auto it = known_.find(tenant);
    if (it != known_.end() && now - it->second.read_at < options_.tenant_ttl) {
      return it->second.budget_usd;
    }
  }
  auto t = store_.get_tenant(tenant);
  if (!t.ok() && t.status().code() != StatusCode::kNotFound) return std::nullopt;
  const double budget = t.ok() ? t->monthly_budget_usd : 0;
  std::lock_guard lock(mu_);
  known_[tenant] = Known{budget, t.ok() ? t->weight : 1, now};
  refreshing_[tenant] = false;
  return budget;
}

void BudgetGate::Serve(std::deque<Ask>& asks, const std::deque<std::string>& refreshes) {
  const Millis now = clock_.now();
  for (const std::string& tenant : refreshes) (void)Budget(tenant, now);
  std::vector<BudgetReservation> items;
  std::vector<Ask*> reserving;
  for (Ask& a : asks) {
    std::optional<double> budget = Budget(a.tenant, now);
    if (!budget) {
      std::exchange(a.done, nullptr)(Decision::kUnavailable);
    } else if (*budget <= 0) {
      std::exchange(a.done, nullptr)(Decision::kNoBudget);
    } else {
      items.push_back(BudgetReservation{.id = a.reservation_id,
                                        .tenant = a.tenant,
                                        .month = MonthOf(now),
                                        .amount_usd = a.amount_usd,
                                        .budget_usd = *budget,
                                        .now = now,
                                        .expires_at = now + options_.reservation_ttl});
      reserving.push_back(&a);
    }
  }
  if (items.empty()) return;
  auto fits = store_.reserve_budget(items);
  for (std::size_t i = 0; i < reserving.size(); ++i) {
    Done done = std::exchange(reserving[i]->done, nullptr);
    if (!fits.ok()) {
      done(Decision::kUnavailable);
    } else {
      done((*fits)[i] ? Decision::kReserved : Decision::kOverBudget);
    }
  }
}

}  // namespace sluice
