#include "scheduler/fair_share.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <utility>

namespace sluice {

std::int64_t FairShare::Stride(int weight) {
  return std::max<std::int64_t>(1, kStrideUnit / std::max(1, weight));
}

void FairShare::Advance() {
  bool any = false;
  std::int64_t lowest = 0;
  for (const std::string& tenant : due_) {
    auto it = pass_.find(tenant);
    if (it == pass_.end()) continue;
    lowest = any ? std::min(lowest, it->second) : it->second;
    any = true;
  }
  if (any) virtual_time_ = std::max(virtual_time_, lowest);
  if (virtual_time_ >= kRebaseAt) {
    for (auto& [tenant, pass] : pass_) pass -= virtual_time_;
    virtual_time_ = 0;
  }
}

std::vector<TenantGrant> FairShare::Split(int slots, const std::vector<DueTenant>& due) {
  Advance();
  due_.clear();
  for (const DueTenant& t : due) {
    due_.insert(t.tenant);
    std::int64_t& pass = pass_.try_emplace(t.tenant, virtual_time_).first->second;
    pass = std::max(pass, virtual_time_);
  }
  // An idle tenant at or behind V would rejoin at V anyway: forgetting it changes nothing.
  std::erase_if(pass_, [&](const auto& entry) {
    return !due_.count(entry.first) && entry.second <= virtual_time_;
  });

  // Hand out the slots one by one on a copy of the passes, lowest pass first, ties by id.
  std::vector<const DueTenant*> by_id;
  for (const DueTenant& t : due) by_id.push_back(&t);
  std::sort(by_id.begin(), by_id.end(),
            [](const DueTenant* a, const DueTenant* b) { return a->tenant < b->tenant; });
  using Next = std::pair<std::int64_t, std::size_t>;  // (pass, rank in by_id)
  std::priority_queue<Next, std::vector<Next>, std::greater<>> next;
  for (std::size_t rank = 0; rank < by_id.size(); ++rank) {
    next.emplace(pass_[by_id[rank]->tenant], rank);
  }
  std::vector<TenantGrant> grants;
  std::vector<int> grant_of(by_id.size(), -1);
  for (int n = 0; n < slots && !next.empty(); ++n) {
    auto [pass, rank] = next.top();
    next.pop();
    if (grant_of[rank] < 0) {
      grant_of[rank] = static_cast<int>(grants.size());
      grants.push_back(TenantGrant{.tenant = by_id[rank]->tenant});
    }
    ++grants[static_cast<std::size_t>(grant_of[rank])].slots;
    next.emplace(pass + Stride(by_id[rank]->weight), rank);
  }
  return grants;
}

void FairShare::Charge(const std::string& tenant, int weight, int started) {
  if (started <= 0) return;
  std::int64_t& pass = pass_.try_emplace(tenant, virtual_time_).first->second;
  pass = std::max(pass, virtual_time_) + started * Stride(weight);
}

std::int64_t FairShare::pass_of(const std::string& tenant) const {
  auto it = pass_.find(tenant);
  return it == pass_.end() ? -1 : it->second;
}

}  // namespace sluice
