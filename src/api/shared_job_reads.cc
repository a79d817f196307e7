#include "api/shared_job_reads.h"

#include <utility>

namespace sluice {

bool SharedJobReads::read(BlockingPool& pool, const std::string& tenant, const std::string& id,
                          Done done) {
  std::string key = tenant + '\0' + id;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(key);
    if (it != in_flight_.end()) {
      it->second.next.push_back(std::move(done));
      return true;
    }
    in_flight_.emplace(key, Group{});
  }
  std::vector<Done> current;
  current.push_back(std::move(done));
  auto work = [this, key, tenant, id, current = std::move(current)]() mutable {
    Run(key, tenant, id, std::move(current));
  };
  if (pool.run(std::move(work))) return true;
  // Refused: nobody else can have joined a read that never started without being told so.
  std::vector<Done> orphans;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(key);
    orphans = std::move(it->second.next);
    in_flight_.erase(it);
  }
  const Result<Job> busy = Status(StatusCode::kUnavailable, "the server is busy: retry shortly")
                               .with_error_code("server_busy");
  for (Done& d : orphans) d(busy);
  return false;
}

void SharedJobReads::Run(const std::string& key, const std::string& tenant, const std::string& id,
                         std::vector<Done> current) {
  for (;;) {
    const Result<Job> job = store_.get_job(tenant, id);
    for (Done& d : current) d(job);
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(key);
    if (it->second.next.empty()) {
      in_flight_.erase(it);
      return;
    }
    current = std::move(it->second.next);
    it->second.next.clear();
  }
}

}  // namespace sluice
