#include "batches/batch_line.h"

#include <algorithm>

#include <boost/json.hpp>

namespace sluice {

namespace json = boost::json;

namespace {

Status LineError(const char* code, std::string message) {
  return InvalidArgument(std::move(message)).with_error_code(code);
}

// The job API names fields of its own body ("request.messages", "input.text"); in a batch
// line they sit under "body".
Status InBody(const Status& s, bool chat) {
  const std::string& field = s.field();
  std::string in_body = "body";
  if (chat && field.rfind("request", 0) == 0) {
    in_body += field.substr(7);
  } else if (!field.empty()) {
    in_body += "." + field;
  }
  Status out(s.code(), s.message(), in_body);
  if (!s.error_code().empty()) out.with_error_code(s.error_code());
  return out;
}

}  // namespace

Result<BatchLine> ParseBatchLine(std::string_view text, std::string_view endpoint) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return LineError("invalid_json_line", ec ? "the line is not valid JSON: " + ec.message()
                                             : "the line is not a JSON object");
  }
  json::object& o = v.as_object();
  const json::value* custom_id = o.if_contains("custom_id");
  if (!custom_id || !custom_id->is_string() || custom_id->as_string().empty()) {
    return LineError("invalid_custom_id", "custom_id must be a non-empty string");
  }
  if (custom_id->as_string().size() > kMaxCustomIdBytes) {
    return LineError("invalid_custom_id", "custom_id is longer than 512 bytes");
  }
  const json::value* method = o.if_contains("method");
  if (!method || !method->is_string() || method->as_string() != "POST") {
    return LineError("invalid_method", "method must be \"POST\"");
  }
  const json::value* url = o.if_contains("url");
  if (!url || !url->is_string() || url->as_string() != endpoint) {
    return LineError("invalid_url", "url must be the batch's endpoint " + std::string(endpoint) +
                                        " (one url for the whole file)");
  }
  json::value* body = o.if_contains("body");
  if (!body || body->is_null()) return LineError("missing_body", "body is required");
  return BatchLine{.custom_id = std::string(custom_id->as_string()), .body = std::move(*body)};
}

Result<Job> BatchLineJob(const BatchLine& line, const Batch& batch, const JobFromBody& job_from_body,
                         Millis now) {
  if (!line.body.is_object()) return InvalidArgument("body must be a JSON object", "body");
  const json::object& body = line.body.as_object();
  const bool chat = batch.endpoint != "/v1/jobs";
  json::object job_body;
  bool explicit_deadline = false;
  if (chat) {
    job_body["type"] = kChatType;
    job_body["request"] = body;
    job_body["queue"] = "batch";
    job_body["metadata"] = json::object{{"batch_id", batch.id}, {"custom_id", line.custom_id}};
  } else {
    if (body.contains("dedup_key")) {
      return InvalidArgument("dedup_key is set by the batch (\"<batch id>:<custom_id>\")", "body.dedup_key");
    }
    job_body = body;
    if (!job_body.contains("queue")) job_body["queue"] = "batch";
    explicit_deadline = body.contains("deadline") || body.contains("deadline_in");
  }
  Result<Job> job = job_from_body(job_body, batch.tenant, now);
  if (!job.ok()) {
    if (job.status().code() != StatusCode::kInvalidArgument) return job.status();
    return InBody(job.status(), chat);
  }
  JobSpec& spec = job->spec;
  // The completion window is the deadline of every request; a task type's own default
  // (deadline_in) does not shorten it, a deadline the line asks for may.
  spec.deadline = explicit_deadline && spec.deadline ? std::min(*spec.deadline, batch.expires_at)
                                                     : batch.expires_at;
  if (spec.run_at >= batch.expires_at) {
    return InvalidArgument("run_at is after the batch's completion window ends", "body.run_at");
  }
  spec.dedup_key = batch.id + ":" + line.custom_id;
  return job;
}

}  // namespace sluice
