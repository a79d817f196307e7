#include "batches/batch_output.h"
#include "json/json_text.h"

#include <boost/json.hpp>

namespace sluice {

namespace json = boost::json;

namespace {

std::string RequestId(const std::string& job_id) {
  const std::string_view id(job_id);
  return "batch_req_" + std::string(id.substr(id.find('_') + 1));
}

json::value ParseOrNull(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  return ec ? json::value(nullptr) : v;
}

// The chat.completion object OpenAI's API answers, rebuilt from the job's result record.
json::object ChatCompletion(const Job& job, const json::value& result) {
  const json::object* r = result.if_object();
  auto field = [r](const char* name) -> json::value {
    if (!r) return nullptr;
    const json::value* v = r->if_contains(name);
    return v ? *v : json::value(nullptr);
  };
  json::value finish = field("finish_reason");
  if (finish.is_null() || (finish.is_string() && finish.as_string().empty())) finish = "stop";
  json::object message{{"role", "assistant"}, {"content", field("text")}, {"refusal", nullptr}};
  return json::object{
      {"id", "chatcmpl-" + job.id},
      {"object", "chat.completion"},
      {"created", job.finished_at.value_or(job.created_at) / 1000},
      {"model", field("model")},
      {"choices", json::array{json::object{{"index", 0},
                                           {"message", std::move(message)},
                                           {"logprobs", nullptr},
                                           {"finish_reason", std::move(finish)}}}},
      {"usage", field("usage")},
      {"system_fingerprint", nullptr},
  };
}

json::object ErrorBody(const std::string& code, const std::string& message) {
  return json::object{{"error", json::object{{"code", code}, {"message", message}}}};
}

std::string Line(const std::string& id, const std::string& custom_id, json::value response,
                 json::value error) {
  return JsonText(json::object{{"id", id},
                                      {"custom_id", custom_id},
                                      {"response", std::move(response)},
                                      {"error", std::move(error)}});
}

json::object Response(int status_code, json::value request_id, json::value body) {
  return json::object{{"status_code", status_code}, {"request_id", std::move(request_id)}, {"body", std::move(body)}};
}

int FailedStatusCode(const std::string& code) {
  if (code == "provider_rejected" || code == "invalid_job" || code == "rejected") return 400;
  if (code == "rate_limited") return 429;
  return 500;
}

}  // namespace

std::string CustomIdOf(const Batch& batch, const Job& job) {
  const std::string prefix = batch.id + ":";
  const std::string& key = job.spec.dedup_key;
  return key.rfind(prefix, 0) == 0 ? key.substr(prefix.size()) : key;
}

OutputLine FormatJobLine(const Batch& batch, BatchStatus outcome, const BatchJobRow& row) {
  const Job& job = row.job;
  const std::string id = RequestId(job.id);
  const std::string custom_id = CustomIdOf(batch, job);
  const std::string code = job.error ? job.error->code : "";
  const std::string message = job.error ? job.error->message : "";
  switch (job.status) {
    case JobStatus::kDone: {
      json::value result = ParseOrNull(row.result_json);
      json::value body = job.spec.type == kChatType ? json::value(ChatCompletion(job, result)) : result;
      return {true, Line(id, custom_id, Response(200, json::string(job.id), std::move(body)), nullptr)};
    }
    case JobStatus::kFailed: {
      json::value body = ErrorBody(code.empty() ? "failed" : code, message);
      return {false, Line(id, custom_id, Response(FailedStatusCode(code), json::string(job.id), std::move(body)), nullptr)};
    }
    case JobStatus::kReview: {
      json::object body = ErrorBody("review_required",
                                    message.empty() ? "the answer waits for a person's review" : message);
      body["result"] = ParseOrNull(row.result_json);
      return {false, Line(id, custom_id, Response(422, json::string(job.id), std::move(body)), nullptr)};
    }
    case JobStatus::kExpired: {
      const bool own_deadline = job.spec.deadline && *job.spec.deadline < batch.expires_at;
      json::object error = own_deadline
                               ? json::object{{"code", "request_timeout"},
                                              {"message", "the request's deadline passed before it finished"}}
                               : json::object{{"code", "batch_expired"},
                                              {"message", "the batch's completion window ended before this "
                                                          "request finished"}};
      return {false, Line(id, custom_id, nullptr, std::move(error))};
    }
    case JobStatus::kCanceled: {
      json::object error = outcome == BatchStatus::kCancelled
                               ? json::object{{"code", "batch_cancelled"},
                                              {"message", "the batch was cancelled before this request ran"}}
                               : json::object{{"code", "request_cancelled"},
                                              {"message", "the request's job was cancelled"}};
      return {false, Line(id, custom_id, nullptr, std::move(error))};
    }
    case JobStatus::kQueued:
    case JobStatus::kRunning: {
      // A batch finalized with work still open (its window ended and the work did not): that
      // work's results, should they come, are not in the batch's files.
      const bool cancelled = outcome == BatchStatus::kCancelled;
      json::object error{{"code", cancelled ? "batch_cancelled" : "batch_expired"},
                         {"message", cancelled ? "the batch was cancelled before this request finished"
                                               : "the batch's completion window ended before this request "
                                                 "finished"}};
      return {false, Line(id, custom_id, nullptr, std::move(error))};
    }
  }
  return {false, Line(id, custom_id, nullptr, ErrorBody("failed", "unknown job status"))};
}

std::string FormatLineError(const Batch& batch, const BatchLineError& e) {
  const std::string_view batch_id(batch.id);
  const std::string id =
      "batch_req_" + std::string(batch_id.substr(batch_id.find('_') + 1)) + "_L" + std::to_string(e.line);
  if (e.status_code == 0) {
    return Line(id, e.custom_id, nullptr, json::object{{"code", e.code}, {"message", e.message}});
  }
  json::object error{{"code", e.code}, {"message", e.message}};
  if (!e.field.empty()) error["field"] = e.field;
  return Line(id, e.custom_id, Response(e.status_code, nullptr, json::object{{"error", std::move(error)}}), nullptr);
}

}  // namespace sluice
