// One line of a batch's input file: {"custom_id", "method": "POST", "url", "body"}.
//
// Two levels of problems, as OpenAI's Batch API has them:
// - a line that is not a batch request at all (not JSON, no custom_id, another method or url,
//   no body, too long) makes the whole file unfit: the batch fails with `errors`, nothing runs;
// - a request whose body is not a valid job (validated exactly as POST /v1/jobs validates it)
//   is that request's failure: it goes to the error file with status_code 400, the rest run.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "core/batch.h"
#include "core/job.h"
#include "core/status.h"

namespace sluice {

inline constexpr std::size_t kMaxCustomIdBytes = 512;

// Validates and defaults a POST /v1/jobs body for `tenant` (the API's job_request.h, injected
// by the serve command so that batches and POST /v1/jobs share one definition of a valid job).
// kInvalidArgument names the field at fault; kUnavailable means "try again later" (a blob
// lookup while the store is unreachable), never a verdict on the request.
using JobFromBody =
    std::function<Result<Job>(const boost::json::value& body, const std::string& tenant, Millis now)>;

struct BatchLine {
  std::string custom_id;
  boost::json::value body;
};

// The structure of a line: kInvalidArgument with error_code one of invalid_json_line,
// invalid_custom_id, invalid_method, invalid_url, missing_body when it is not a request of this
// batch (whose every line's url must be `endpoint`).
Result<BatchLine> ParseBatchLine(std::string_view text, std::string_view endpoint);

// The job a request of `batch` runs: a "chat" job carrying the body as its request
// (/v1/chat/completions), or the body as a job (/v1/jobs; its queue defaults to "batch").
// Either way the job's dedup key is "<batch id>:<custom_id>" (custom_ids repeat across batches,
// never within one), so submitting a line again creates nothing new; and its deadline is the
// end of the completion window (or the body's own deadline, when earlier).
// kInvalidArgument (field "body...") for a body that is not a valid job.
Result<Job> BatchLineJob(const BatchLine& line, const Batch& batch, const JobFromBody& job_from_body,
                         Millis now);

}  // namespace sluice
