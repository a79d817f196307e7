#include "client/job_tracker.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include <boost/json.hpp>

#include "client/parallel_requests.h"

namespace sluice::client {

namespace json = boost::json;

bool IsSettledStatus(std::string_view s) {
  return s == "done" || s == "failed" || s == "expired" || s == "canceled" || s == "review";
}

JobTracker::JobTracker(ClientOptions client, TrackerOptions options, const Clock& clock)
    : client_(std::move(client)), options_(options), clock_(clock) {}

std::size_t JobTracker::add(std::string job_id) {
  ids_.push_back(std::move(job_id));
  pending_.push_back(ids_.size() - 1);
  return ids_.size() - 1;
}

Status JobTracker::run(std::optional<Millis> deadline, const Settled& on_settled,
                       const std::function<void()>& on_tick) {
  ParallelRequests requests(client_, options_.concurrency);
  Millis unreachable_since = -1;  // -1: the last request got an answer
  Millis pause_until = 0;  // after an error: no new requests before this
  Status last_error;
  while (!pending_.empty() || requests.in_flight() > 0) {
    Millis now = clock_.now();
    if (deadline && now >= *deadline) {
      return Status(StatusCode::kDeadlineExceeded, "timed out waiting for " +
                                                       std::to_string(pending_.size() + requests.in_flight()) +
                                                       " jobs to end");
    }
    while (now >= pause_until && requests.in_flight() < static_cast<std::size_t>(options_.concurrency) &&
           !pending_.empty()) {
      std::size_t index = pending_.front();
      pending_.pop_front();
      Millis wait = options_.poll_wait;
      if (deadline) wait = std::clamp<Millis>(*deadline - now, 1, wait);
      requests.start(index, "GET", "/v1/jobs/" + ids_[index] + "?wait=" + std::to_string(wait) + "ms", {},
                     CallOptions{.timeout = wait + 30'000});
    }
    if (requests.in_flight() == 0 && now < pause_until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<Millis>(pause_until - now, 200)));
    }
    for (Completed& c : requests.poll(200)) {
      const std::size_t index = c.tag;
      if (!c.response.ok()) {
        // No answer: the server restarts or is gone. Try the job again after a pause.
        last_error = c.response.status();
        if (unreachable_since < 0) unreachable_since = clock_.now();
        pending_.push_front(index);
        pause_until = clock_.now() + 500;
        continue;
      }
      unreachable_since = -1;
      const ApiResponse& r = *c.response;
      if (r.status == 404) {
        json::object gone{{"id", ids_[index]}, {"status", "not_found"},
                          {"error", json::object{{"code", "not_found"}, {"message", "the server has no such job"}}}};
        on_settled(index, gone);
        continue;
      }
      if (r.status != 200 || !r.body.is_object()) {
        last_error = StatusFromResponse(r);
        pending_.push_back(index);
        if (r.status == 429 || r.status >= 500) pause_until = clock_.now() + 500;
        continue;
      }
      const json::object& job = r.body.as_object();
      const json::value* status = job.if_contains("status");
      if (status && status->is_string() && IsSettledStatus(status->as_string())) {
        on_settled(index, job);
      } else {
        pending_.push_back(index);  // still going: to the back of the line
      }
    }
    if (unreachable_since >= 0 && clock_.now() - unreachable_since >= options_.give_up_unreachable) {
      return last_error;
    }
    on_tick();
  }
  return Status::Ok();
}

}  // namespace sluice::client
