// The job object of API.md, as JSON.
#pragma once

#include <boost/json/object.hpp>

#include "core/job.h"

namespace sluice {

// `blocked_reason` for a queued job: "scheduled", "retry_backoff", "queue_full" or null.
// `queue_full` comes from the scheduler, so the caller passes it in.
boost::json::object JobToJson(const Job& job, Millis now, bool queue_full);

}  // namespace sluice
