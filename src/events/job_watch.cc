#include "events/job_watch.h"

#include <utility>

namespace sluice {

std::uint64_t JobWatch::watch(const std::string& job_id, Callback cb) {
  std::lock_guard lock(mu_);
  std::uint64_t token = ++next_token_;
  waiters_[job_id].emplace(token, std::move(cb));
  ++waiting_;
  return token;
}

void JobWatch::unwatch(const std::string& job_id, std::uint64_t token) {
  Callback gone;  // destroyed outside the lock: what it captured may do anything on release
  std::lock_guard lock(mu_);
  auto it = waiters_.find(job_id);
  if (it == waiters_.end()) return;
  auto waiter = it->second.find(token);
  if (waiter == it->second.end()) return;
  gone = std::move(waiter->second);
  it->second.erase(waiter);
  --waiting_;
  if (it->second.empty()) waiters_.erase(it);
}

void JobWatch::notify(const std::string& job_id) {
  Waiters ready;
  {
    std::lock_guard lock(mu_);
    auto it = waiters_.find(job_id);
    if (it == waiters_.end()) return;
    ready.swap(it->second);
    waiters_.erase(it);
    waiting_ -= ready.size();
  }
  // Outside the lock: a callback may watch again.
  for (auto& [token, cb] : ready) cb();
}

std::size_t JobWatch::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_;
}

}  // namespace sluice
