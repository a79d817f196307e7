// Waiting for a job to settle without holding a thread: `?wait=` on submit and on get.
#pragma once

#include <functional>
#include <string>

#include "api/api_context.h"

namespace sluice {

// Calls `done` once: with the job as soon as it is settled (terminal or review), or with its
// current state when `wait` ms have passed. `done` gets a NotFound if the job vanished, and
// PoolBusy() when the blocking pool had no room for one of the wait's store reads. `done` runs
// on a blocking-pool thread (api/off_loop.h), so it may call the store.
void WaitForJob(ApiContext& ctx, const std::string& tenant, const std::string& job_id, Millis wait,
                std::function<void(Result<Job>)> done);

}  // namespace sluice
