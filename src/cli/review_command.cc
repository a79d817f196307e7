// `sluice review ID --approve [--job-output JSON|@file] | --reject [--reason TEXT] | --retry
// [--model ALIAS]`: POST /v1/jobs/{id}/review with {"action": ..., "output" | "reason" |
// "model"}. Prints the job as the decision left it (done, failed or queued again); exit 0 when
// the decision was taken, whatever it was. A job not in review: the server's 409, exit 2.
//
// --approve without --job-output approves the job's own output as it stands (a job sent to review
// by its task's confidence rule has one): the server needs the output in the body, so it is
// read from the job first. A job with no usable output (its answer did not fit the schema) needs
// --job-output. (Not `--output`: that is -o, the output format, on every client command.)
#include <cstdio>

#include <boost/json.hpp>

#include "cli/client_commands.h"

namespace sluice {

namespace json = boost::json;

namespace {

// The output of the job's result, when it waits in review with one.
Result<json::value> OwnOutput(client::ApiClient& api, const std::string& id) {
  ASSIGN_OR_RETURN(json::value job, api.get_json("/v1/jobs/" + client::UrlEscape(id)));
  if (!job.is_object()) return Internal("the server answered a job that is not a JSON object");
  // The server's own words for a late decision (jobs_routes.cc), rather than "no output".
  if (const std::string status = JobStatusOf(job.as_object()); status != "review") {
    return FailedPrecondition("job " + id + " is " + status + ", not in review");
  }
  const json::value* result = job.as_object().if_contains("result");
  const json::value* output =
      result && result->is_object() ? result->as_object().if_contains("output") : nullptr;
  if (!output || output->is_null()) {
    return InvalidArgument(
        "job " + id +
            " has no output to approve as it stands; give --job-output JSON (or @file.json)",
        "--job-output");
  }
  return *output;
}

Result<json::object> ReviewBody(client::ApiClient& api, const ReviewFlags& f) {
  if (f.reject) {
    json::object body{{"action", "reject"}};
    if (!f.reason.empty()) body["reason"] = f.reason;
    return body;
  }
  if (f.retry) {
    json::object body{{"action", "retry"}};
    if (!f.model.empty()) body["model"] = f.model;
    return body;
  }
  json::object body{{"action", "approve"}};
  if (f.job_output.empty()) {
    ASSIGN_OR_RETURN(body["output"], OwnOutput(api, f.id));
    return body;
  }
  ASSIGN_OR_RETURN(std::string text, ReadArgOrFile(f.job_output, "--job-output"));
  boost::system::error_code ec;
  json::value output = json::parse(text, ec);
  if (ec)
    return InvalidArgument(
        "--job-output is not JSON (give a JSON value, or @file.json): " + ec.message(),
        "--job-output");
  body["output"] = std::move(output);
  return body;
}

}  // namespace

int RunReview(const ReviewFlags& f) {
  client::ApiClient api(ClientOptionsFor(f.client));
  auto body = ReviewBody(api, f);
  if (!body.ok()) return ReportError(body.status());
  auto job = api.post_json("/v1/jobs/" + client::UrlEscape(f.id) + "/review", *body);
  if (!job.ok()) return ReportError(job.status());
  PrintJob(f.client, *job);
  return kExitOk;
}

}  // namespace sluice
