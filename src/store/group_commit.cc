#include "store/group_commit.h"

#include <iterator>

namespace sluice {

namespace {

// Failures caused by what one request contained, not by the store.
bool BelongsToOneRequest(const Status& status) {
  return status.code() == StatusCode::kInvalidArgument ||
         status.code() == StatusCode::kAlreadyExists;
}

}  // namespace

SubmitGroupCommit::SubmitGroupCommit(Store& store, std::size_t max_jobs)
    : store_(store),
      batcher_([this](std::vector<std::vector<Job>>& requests) { return commit(requests); },
               max_jobs, [](const std::vector<Job>& jobs) { return jobs.size(); }) {}

bool SubmitGroupCommit::submit(std::vector<Job> jobs, Done done) {
  return batcher_.enqueue(std::move(jobs), std::move(done));
}

std::vector<SubmitGroupCommit::Outcome> SubmitGroupCommit::commit(
    std::vector<std::vector<Job>>& requests) {
  std::vector<Outcome> outcomes;
  outcomes.reserve(requests.size());
  if (requests.size() == 1) {
    outcomes.push_back(store_.submit_jobs(requests[0]));
    return outcomes;
  }

  std::vector<Job> merged;
  std::size_t total = 0;
  for (const auto& request : requests) total += request.size();
  merged.reserve(total);
  for (const auto& request : requests) merged.insert(merged.end(), request.begin(), request.end());

  Outcome all = store_.submit_jobs(merged);
  if (all.ok()) {
    auto next = std::make_move_iterator(all->begin());
    for (const auto& request : requests) {
      auto end = next + static_cast<std::ptrdiff_t>(request.size());
      outcomes.emplace_back(std::vector<SubmitOutcome>(next, end));
      next = end;
    }
    return outcomes;
  }
  if (!BelongsToOneRequest(all.status())) {
    for (std::size_t i = 0; i < requests.size(); ++i) outcomes.push_back(all.status());
    return outcomes;
  }
  // Nothing of the merged call was committed: give every request its own transaction.
  for (const auto& request : requests) outcomes.push_back(store_.submit_jobs(request));
  return outcomes;
}

}  // namespace sluice
