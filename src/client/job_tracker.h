// Follows many jobs until each has settled (terminal or review), for `sluice batch --wait`.
//
// How: a window of long-polls (GET /v1/jobs/{id}?wait=) over the oldest jobs not yet settled,
// `concurrency` at a time over keep-alive connections (ParallelRequests). A batch goes into one
// queue and its jobs run roughly in input order (FIFO within a priority), so the oldest pending
// jobs are the ones about to end: each long-poll answers the moment its job ends and the
// window moves on, and a job that ended early answers at once when its turn comes. A job still
// pending after `poll_wait` (a retry backoff, a slow call) goes to the back of the line, so a
// few slow jobs never hold the window. Each job costs about one request when the server keeps
// up, a request per `poll_wait` per window slot when it does not; the answer that settles a
// job carries its result, so `--out` needs no further call. The list endpoint cannot do this:
// it has no filter for "these ids", and paging every job of the tenant is O(all jobs) per look.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "client/api_client.h"
#include "core/status.h"
#include "core/time.h"

namespace sluice::client {

struct TrackerOptions {
  int concurrency = 32;              // long-polls in flight (and connections)
  Millis poll_wait = 2'000;          // ?wait= of each long-poll
  Millis give_up_unreachable = 30'000;  // the server unreachable this long ends the run (kUnavailable)
};

// Whether a job status is settled: done, failed, expired, canceled, or review.
bool IsSettledStatus(std::string_view status);

class JobTracker {
 public:
  using Settled = std::function<void(std::size_t index, const boost::json::object& job)>;

  JobTracker(ClientOptions client, TrackerOptions options, const Clock& clock);

  // Follows `job_id`; returns its index (in the order added).
  std::size_t add(std::string job_id);
  std::size_t size() const { return ids_.size(); }

  // Runs until every job added has settled (OK), `deadline` passes (kDeadlineExceeded), or the
  // server stays unreachable for give_up_unreachable (kUnavailable). `on_settled` runs once per
  // job with its job object (the result embedded when done), `on_tick` about every 200 ms;
  // both on this thread. A job the server does not know (404) settles as status "not_found".
  Status run(std::optional<Millis> deadline, const Settled& on_settled, const std::function<void()>& on_tick);

 private:
  ClientOptions client_;
  TrackerOptions options_;
  const Clock& clock_;
  std::vector<std::string> ids_;
  std::deque<std::size_t> pending_;  // indexes not settled and not in flight, oldest first
};

}  // namespace sluice::client
