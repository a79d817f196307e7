// One store read of a job for all the long-polls woken by the same change. A job's change wakes
// every `?wait=` on it at once; without this, N waiters cost N reads of the same row. Requests
// for a job while a read of it is in flight wait for one more read started after it ends (the
// running one may predate the change that woke them), so any number of waiters woken together
// cost at most two reads. The reads run on the API's blocking pool (api/blocking_pool.h).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "api/blocking_pool.h"
#include "core/job.h"
#include "core/status.h"
#include "store/store.h"

namespace sluice {

class SharedJobReads {
 public:
  using Done = std::function<void(const Result<Job>&)>;

  explicit SharedJobReads(Store& store) : store_(store) {}

  // Reads the tenant's job on `pool` and calls `done` there with the answer. False when the pool
  // refused the read (full, stopping): `done` is then not called.
  bool read(BlockingPool& pool, const std::string& tenant, const std::string& id, Done done);

 private:
  struct Group {
    std::vector<Done> next;  // waiting for a read that starts after the one in flight
  };
  // Reads until no one waits for a newer read; `current` are answered by the first.
  void Run(const std::string& key, const std::string& tenant, const std::string& id,
           std::vector<Done> current);

  Store& store_;
  std::mutex mu_;
  std::map<std::string, Group> in_flight_;  // GUARDED_BY(mu_): by tenant + '\0' + id
};

}  // namespace sluice
