#include "api/store_health.h"

#include <utility>

namespace sluice {

StoreHealth::Snapshot StoreHealth::snapshot() const {
  std::lock_guard lock(mu_);
  return last_;
}

bool StoreHealth::check(BlockingPool& pool, std::function<void(const Status&)> done) {
  const bool mine = static_cast<bool>(done);
  {
    std::lock_guard lock(mu_);
    if (last_.pending_since) {
      if (mine) waiting_.push_back(std::move(done));
      return true;
    }
    last_.pending_since = clock_.now();
    if (mine) waiting_.push_back(std::move(done));  // first in line: ours
  }
  if (pool.run([this] { finish(ping_()); })) return true;
  // Refused: no ping runs. Callers that joined meanwhile were promised an outcome; ours was not.
  std::vector<std::function<void(const Status&)>> joined;
  {
    std::lock_guard lock(mu_);
    last_.pending_since.reset();
    joined.swap(waiting_);
  }
  const Status busy = Unavailable("the server is busy: no thread is free to ask the store");
  for (std::size_t i = mine ? 1 : 0; i < joined.size(); ++i) joined[i](busy);
  return false;
}

void StoreHealth::finish(const Status& status) {
  std::vector<std::function<void(const Status&)>> waiting;
  {
    std::lock_guard lock(mu_);
    last_.checked = true;
    last_.ok = status.ok();
    last_.error = status.ok() ? std::string() : status.message();
    last_.checked_at = clock_.now();
    last_.pending_since.reset();
    waiting.swap(waiting_);
  }
  for (auto& done : waiting) done(status);
}

}  // namespace sluice
