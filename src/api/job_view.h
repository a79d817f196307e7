// The single-job answer of API.md (GET /v1/jobs/{id}): the job object with its result record
// (and every attempt) embedded once it has one. Webhook payloads carry exactly this object
// (events/webhook_dispatcher.h), so a receiver sees what a GET would have shown.
#pragma once

#include <string>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/job.h"
#include "core/status.h"
#include "store/store.h"

namespace sluice {

// The result record with every attempt, oldest first; kNotFound until there is a result.
Result<boost::json::value> ResultView(Store& store, const std::string& tenant, const std::string& id);

// JobToJson plus "result": the record when done or in review, else null.
boost::json::object JobView(Store& store, const Job& job, Millis now, bool queue_full);

}  // namespace sluice
