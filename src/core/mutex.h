// A mutex the thread-safety analysis understands (core/thread_annotations.h): std::mutex with
// the attributes libstdc++ leaves off, and its scoped holder. Use these for state whose lock
// rules should be checked: members GUARDED_BY(mu_), helpers REQUIRES(mu_).
//
//   mutable Mutex mu_;
//   int count_ GUARDED_BY(mu_) = 0;
//   void add() EXCLUDES(mu_) { MutexLock lock(mu_); ++count_; }
//
// Not recursive. Mutex also meets BasicLockable (lock/unlock), so std::condition_variable_any
// can wait on it; the analysis then treats the wait as holding the lock throughout, which is
// what the waiting code sees.
#pragma once

#include <mutex>

#include "core/thread_annotations.h"

namespace sluice {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  bool try_lock() TRY_ACQUIRE(true) { return mu_.try_lock(); }

  // Tells the analysis that the caller holds this mutex where it cannot see so itself (a
  // callback documented to run under the lock). No run-time check: std::mutex has no owner query.
  void assert_held() const ASSERT_CAPABILITY(this) {}

 private:
  std::mutex mu_;
};

// Holds `mu` from construction to the end of the scope. For a shorter hold, open a block.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~MutexLock() RELEASE() { mu_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

}  // namespace sluice
