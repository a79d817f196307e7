// An exclusive advisory lock (flock) on <data_dir>/LOCK, held for as long as the object lives.
// It is what makes Store::exclusive() true for the embedded engine: while one process holds it,
// no other process (and no second Store in this one) can open the same data dir, so every lease
// not held by the holder belongs to a dead process. The kernel drops the lock when the process
// dies, so a crash never leaves a stale lock behind.
#pragma once

#include <string>

#include "core/status.h"

namespace sluice::sqlite {

class DataDirLock {
 public:
  // kFailedPrecondition when another holder has the lock; kUnavailable when the file cannot
  // be opened.
  static Result<DataDirLock> Acquire(const std::string& data_dir);

  DataDirLock(DataDirLock&& other) noexcept;
  DataDirLock& operator=(DataDirLock&&) = delete;
  DataDirLock(const DataDirLock&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace sluice::sqlite
