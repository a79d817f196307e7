#include "api/blocking_pool.h"

#include <utility>

#include "core/guarded.h"

namespace sluice {

BlockingPool::BlockingPool(BlockingPoolOptions options) : options_(options) {
  const int n = options_.threads < 1 ? 1 : options_.threads;
  threads_.reserve(n);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { loop(); });
}

BlockingPool::~BlockingPool() { stop(); }

bool BlockingPool::run(std::function<void()> work) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    if (queue_.size() >= options_.max_queued) {
      ++refused_;
      return false;
    }
    queue_.push_back(std::move(work));
  }
  wake_.notify_one();
  return true;
}

void BlockingPool::stop() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    dropped.swap(queue_);
  }
  wake_.notify_all();
  // Destroyed outside the lock: a closure's destructor may do anything, run() included.
  dropped.clear();
  std::lock_guard join_lock(join_mu_);
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

BlockingPool::Load BlockingPool::load() const {
  std::lock_guard lock(mu_);
  return Load{.threads = static_cast<int>(threads_.size()),
              .running = running_,
              .queued = queue_.size(),
              .max_queued = options_.max_queued,
              .refused = refused_};
}

void BlockingPool::loop() {
  for (;;) {
    std::function<void()> work;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      work = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    // A task that throws is logged and the thread goes on. Whoever waits for the task is
    // answered by its own wrapper (RunOffLoop sends a 500); failing that, destroying the
    // closure drops the Responder it holds, which closes the connection: never a hang.
    (void)RunGuarded("api: a blocking-pool task", [&] {
      work();
      work = nullptr;  // what the work captured goes before it counts as done
    });
    work = nullptr;  // after a throw (a destructor that throws is terminate, as anywhere)
    std::lock_guard lock(mu_);
    --running_;
  }
}

}  // namespace sluice
