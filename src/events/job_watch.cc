#include "events/job_watch.h"

#include <algorithm>

namespace sluice {

std::uint64_t JobWatch::watch(const std::string& job_id, Callback cb) {
  std::lock_guard lock(mu_);
  std::uint64_t token = ++next_token_;
  waiters_[job_id].push_back({token, std::move(cb)});
  return token;
}

void JobWatch::unwatch(const std::string& job_id, std::uint64_t token) {
  std::lock_guard lock(mu_);
  auto it = waiters_.find(job_id);
  if (it == waiters_.end()) return;
  std::erase_if(it->second, [&](const Waiter& w) { return w.token == token; });
  if (it->second.empty()) waiters_.erase(it);
}

void JobWatch::notify(const std::string& job_id) {
  std::vector<Waiter> ready;
  {
    std::lock_guard lock(mu_);
    auto it = waiters_.find(job_id);
    if (it == waiters_.end()) return;
    ready.swap(it->second);
    waiters_.erase(it);
  }
  // Outside the lock: a callback may watch again.
  for (auto& w : ready) w.cb();
}

std::size_t JobWatch::waiting() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (auto& [id, list] : waiters_) n += list.size();
  return n;
}

}  // namespace sluice
