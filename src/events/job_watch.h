// Wake-ups for whoever waits on a job: long-polls (`?wait=`) and, later, SSE streams. A state
// change is announced after it is committed; waiters re-read the store, so a lost or early
// wake-up costs one read, never a wrong answer. Single-node: in the shared store a node also
// learns of changes made by other nodes (LISTEN/NOTIFY), which will call notify() the same way.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace sluice {

class JobWatch {
 public:
  using Callback = std::function<void()>;

  // Runs `cb` once, at the next notify() for `job_id` (on the notifier's thread).
  // Returns a token for unwatch().
  std::uint64_t watch(const std::string& job_id, Callback cb);
  // Forgets a waiter that gave up (its wait timed out). Harmless if it already ran. O(1): a
  // job with thousands of long-polls does not make each one's timeout scan the others.
  void unwatch(const std::string& job_id, std::uint64_t token);
  // Runs the job's waiters, outside the lock, and forgets them. Each callback should be quick
  // (post its store read elsewhere, as api/job_waiter.cc does): they run on this thread.
  void notify(const std::string& job_id);
  std::size_t waiting() const;

 private:
  using Waiters = std::unordered_map<std::uint64_t, Callback>;  // by token
  mutable std::mutex mu_;
  std::uint64_t next_token_ = 0;                            // GUARDED_BY(mu_)
  std::size_t waiting_ = 0;                                 // GUARDED_BY(mu_): over every job
  std::unordered_map<std::string, Waiters> waiters_;        // GUARDED_BY(mu_)
};

}  // namespace sluice
