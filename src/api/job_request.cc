#include "api/job_request.h"

#include <cmath>

#include <boost/json.hpp>

#include "api/webhook_url_field.h"
#include "core/ids.h"
#include "tasks/prompt.h"
#include "json/json_text.h"

namespace sluice {

namespace json = boost::json;

namespace {

Status CheckKnownFields(const json::object& body) {
  for (const auto& [key, value] : body) {
    if (!IsJobBodyField(key)) {
      // The most common slip: the text beside "type" instead of inside "input".
      const char* hint = key == "text" ? " (a task's input goes inside \"input\": did you mean input.text?)" : "";
      return InvalidArgument("unknown field " + std::string(key) + hint, std::string(key));
    }
  }
  return Status::Ok();
}

// Reads an optional string field: absent or null leaves `out` alone.
Status OptString(const json::object& body, const char* field, std::string& out,
                 std::size_t max_len = kMaxShortField) {
  const json::value* v = body.if_contains(field);
  if (!v || v->is_null()) return Status::Ok();
  if (!v->is_string()) return InvalidArgument(std::string(field) + " must be a string", field);
  if (v->as_string().size() > max_len) {
    return InvalidArgument(std::string(field) + " is longer than " + std::to_string(max_len) + " bytes", field);
  }
  out = std::string(v->as_string());
  return Status::Ok();
}

Status OptInt(const json::object& body, const char* field, int& out, int min, int max) {
  const json::value* v = body.if_contains(field);
  if (!v || v->is_null()) return Status::Ok();
  std::int64_t n;
  if (v->is_int64()) n = v->as_int64();
  else if (v->is_uint64() && v->as_uint64() <= INT64_MAX) n = static_cast<std::int64_t>(v->as_uint64());
  else if (v->is_double() && std::abs(v->as_double()) < 1e15 &&
           v->as_double() == std::floor(v->as_double())) {
    n = static_cast<std::int64_t>(v->as_double());
  } else {
    return InvalidArgument(std::string(field) + " must be an integer", field);
  }
  if (n < min || n > max) {
    return InvalidArgument(std::string(field) + " must be between " + std::to_string(min) + " and " +
                               std::to_string(max),
                           field);
  }
  out = static_cast<int>(n);
  return Status::Ok();
}

// A time given absolutely (`abs_field`, RFC 3339) or relative to now (`rel_field`, a duration).
// A field that is present and not null is a request: a value that does not parse (the empty
// string included) is an error naming it, never "unset", or a typo would silently drop a deadline.
Status OptTime(const json::object& body, const char* abs_field, const char* rel_field, Millis now,
               std::optional<Millis>& out) {
  auto given = [&](const char* field) {
    const json::value* v = body.if_contains(field);
    return v && !v->is_null();
  };
  std::string abs, rel;
  RETURN_IF_ERROR(OptString(body, abs_field, abs, 64));
  RETURN_IF_ERROR(OptString(body, rel_field, rel, 64));
  if (given(abs_field) && given(rel_field)) {
    return InvalidArgument(std::string("give ") + abs_field + " or " + rel_field + ", not both", rel_field);
  }
  if (given(abs_field)) {
    auto t = ParseRfc3339(abs);
    if (!t.ok())
      return InvalidArgument(std::string(abs_field) + ": " + t.status().message(), abs_field);
    out = *t;
  } else if (given(rel_field)) {
    auto d = ParseDuration(rel);
    if (!d.ok())
      return InvalidArgument(std::string(rel_field) + ": " + d.status().message(), rel_field);
    out = now + *d;
  }
  return Status::Ok();
}

Status ParseInput(const json::object& body, const JobRequestContext& ctx, JobSpec& spec) {
  const json::value* input = body.if_contains("input");
  if (!input) return InvalidArgument("input is required: {\"text\": ...} or {\"blob\": \"sha256:...\"}", "input");
  if (!input->is_object()) return InvalidArgument("input must be an object", "input");
  const json::object& in = input->as_object();
  for (const auto& [key, value] : in) {
    if (key != "text" && key != "blob") {
      return InvalidArgument("unknown field input." + std::string(key), "input." + std::string(key));
    }
  }
  const json::value* text = in.if_contains("text");
  const json::value* blob = in.if_contains("blob");
  if (text && blob) return InvalidArgument("give input.text or input.blob, not both", "input");
  if (text) {
    if (!text->is_string()) return InvalidArgument("input.text must be a string", "input.text");
    if (text->as_string().empty()) return InvalidArgument("input.text is empty", "input.text");
  } else if (blob) {
    if (!blob->is_string() || !BlobStore::IsValidId(blob->as_string())) {
      return InvalidArgument("input.blob must be a blob id \"sha256:<64 hex>\"", "input.blob");
    }
    // Renewed, not only looked up: retention then keeps the blob until this job's reference to
    // it commits (blobs/blob_store.h).
    auto stored = ctx.blobs.renew(ctx.tenant, blob->as_string());
    if (!stored.ok()) return stored.status();  // storage unreachable: 503, the client retries
    if (!*stored) {
      return InvalidArgument("no blob " + std::string(blob->as_string()) + " (upload it to POST /v1/blobs first)", "input.blob");
    }
    spec.blob_refs.push_back(std::string(blob->as_string()));
  } else {
    return InvalidArgument("input needs text or blob", "input");
  }
  spec.input_json = JsonText(in);
  return Status::Ok();
}

// Boost.JSON reads a number beyond a double's range (1e400) as infinity, and serializes
// infinity as `Infinity`, which is not JSON: the text this file stores would not parse again
// (a re-parse below would throw, or a stored job would fail when run). True when `v` holds
// one; `path` then gets its place appended (".key", "[i]"), built only on that way back.
bool FindNonFinite(const json::value& v, std::string& path) {
  if (v.is_double()) return !std::isfinite(v.get_double());
  if (v.is_object()) {
    for (const auto& [key, item] : v.get_object()) {
      if (FindNonFinite(item, path)) {
        path.insert(0, "." + std::string(key));
        return true;
      }
    }
  } else if (v.is_array()) {
    const json::array& items = v.get_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (FindNonFinite(items[i], path)) {
        path.insert(0, "[" + std::to_string(i) + "]");
        return true;
      }
    }
  }
  return false;
}

Status CheckFiniteNumbers(const json::value& v, const std::string& field) {
  std::string path;
  if (!FindNonFinite(v, path)) return Status::Ok();
  return InvalidArgument(field + path + " is a number out of range", field + path);
}

Status ParseChatRequest(const json::object& body, JobSpec& spec) {
  if (body.contains("input")) return InvalidArgument("a chat job carries `request`, not `input`", "input");
  const json::value* req = body.if_contains("request");
  if (!req) return InvalidArgument("request is required for type chat: an OpenAI chat-completions body", "request");
  if (!req->is_object()) return InvalidArgument("request must be an object", "request");
  const json::value* messages = req->as_object().if_contains("messages");
  if (!messages || !messages->is_array() || messages->as_array().empty()) {
    return InvalidArgument("request.messages must be a non-empty array", "request.messages");
  }
  std::size_t i = 0;
  for (const auto& m : messages->as_array()) {
    std::string field = "request.messages[" + std::to_string(i++) + "]";
    if (!m.is_object()) return InvalidArgument(field + " must be an object", field);
    const json::value* role = m.as_object().if_contains("role");
    if (!role || !role->is_string()) return InvalidArgument(field + ".role must be a string", field + ".role");
    if (!m.as_object().contains("content")) return InvalidArgument(field + ".content is required", field + ".content");
  }
  if (auto* stream = req->as_object().if_contains("stream"); stream && stream->is_bool() && stream->as_bool()) {
    return InvalidArgument("a queued chat job cannot stream; use POST /v1/chat/completions", "request.stream");
  }
  RETURN_IF_ERROR(CheckFiniteNumbers(*req, "request"));
  spec.input_json = JsonText(*req);
  return Status::Ok();
}

// A chat job runs on the alias its request names (unless the job pins one): it must be a
// configured alias, as on the synchronous /v1/chat/completions path.
Status CheckChatModel(const std::string& request_json, const ModelGateway& gateway) {
  json::value request = json::parse(request_json);
  const json::value* model = request.as_object().if_contains("model");
  if (!model || !model->is_string() || model->as_string().empty()) {
    return InvalidArgument("request.model must name a model alias (or set the job's model)", "request.model");
  }
  return gateway.check_alias(std::string(model->as_string()), "request.model");
}

Status ParseObjectField(const json::object& body, const char* field, std::string& out,
                        std::size_t max_bytes) {
  const json::value* v = body.if_contains(field);
  if (!v || v->is_null()) return Status::Ok();
  if (!v->is_object()) return InvalidArgument(std::string(field) + " must be an object", field);
  RETURN_IF_ERROR(CheckFiniteNumbers(*v, field));
  out = JsonText(*v);
  if (out.size() > max_bytes) {
    return InvalidArgument(std::string(field) + " is larger than " + std::to_string(max_bytes) + " bytes", field);
  }
  return Status::Ok();
}

// The call-size params the worst-case cost estimate reads (gateway/provider_call.cc): they must
// be whole numbers in range here, so the estimate and the provider read the same value. A
// float like 1e6 is accepted as the integer it is; 1.5 or -3 is refused.
constexpr double kMaxOutputTokens = 10'000'000;
constexpr double kMaxChoices = 16;  // n: more choices per call is a batch, not a job

Status CheckWholeNumber(const json::object& params, const char* key, double max,
                        const std::string& prefix) {
  const json::value* v = params.if_contains(key);
  if (!v || v->is_null()) return Status::Ok();
  const std::string field = prefix + key;
  if (!v->is_number()) return InvalidArgument(field + " must be a positive integer", field);
  const double x = v->to_number<double>();
  if (x < 1 || x > max || x != std::floor(x)) {
    return InvalidArgument(
        field + " must be an integer from 1 to " + std::to_string(static_cast<std::int64_t>(max)),
        field);
  }
  return Status::Ok();
}

Status CheckCallLimits(const json::object& params, const std::string& prefix) {
  RETURN_IF_ERROR(CheckWholeNumber(params, "max_tokens", kMaxOutputTokens, prefix));
  RETURN_IF_ERROR(CheckWholeNumber(params, "max_completion_tokens", kMaxOutputTokens, prefix));
  return CheckWholeNumber(params, "n", kMaxChoices, prefix);
}

}  // namespace

Result<Job> ParseJobRequest(const json::value& value, const JobRequestContext& ctx) {
  if (!value.is_object()) return InvalidArgument("a job must be a JSON object");
  const json::object& body = value.as_object();
  RETURN_IF_ERROR(CheckKnownFields(body));
  Job job;
  JobSpec& spec = job.spec;
  spec.tenant = ctx.tenant;

  const json::value* type = body.if_contains("type");
  if (!type || !type->is_string() || type->as_string().empty()) {
    return InvalidArgument("type is required: a task type or \"chat\"", "type");
  }
  spec.type = std::string(type->as_string());
  const TaskType* task = nullptr;
  if (spec.type == kChatType) {
    RETURN_IF_ERROR(ParseChatRequest(body, spec));
  } else {
    task = ctx.tasks.find(spec.type);
    if (!task) {
      std::string known = kChatType;
      for (const std::string& name : ctx.tasks.names()) known += ", " + name;
      return InvalidArgument("unknown task type '" + spec.type + "' (the types are " + known + ")", "type");
    }
    if (task->is_pipeline()) {
      return InvalidArgument("pipeline task types cannot be submitted yet", "type");
    }
    if (body.contains("request")) return InvalidArgument("`request` is only for type chat", "request");
    RETURN_IF_ERROR(ParseInput(body, ctx, spec));
  }

  RETURN_IF_ERROR(OptString(body, "object_id", spec.object_id));
  RETURN_IF_ERROR(OptString(body, "source", spec.source));
  RETURN_IF_ERROR(OptString(body, "prompt_version", spec.prompt_version, 64));
  RETURN_IF_ERROR(OptString(body, "response_schema", spec.response_schema, 128));
  RETURN_IF_ERROR(OptString(body, "model", spec.model, 128));
  RETURN_IF_ERROR(OptString(body, "dedup_key", spec.dedup_key));
  if (task) {
    if (spec.prompt_version.empty()) spec.prompt_version = task->current()->id;
    const TaskVersion* version = task->find_version(spec.prompt_version);
    if (!version) {
      return InvalidArgument("task type " + spec.type + " has no prompt version " + spec.prompt_version,
                             "prompt_version");
    }
    if (spec.response_schema.empty()) spec.response_schema = version->schema_name();
    if (!spec.response_schema.empty() && !ctx.tasks.find_schema(spec.response_schema)) {
      return InvalidArgument("unknown response schema " + spec.response_schema, "response_schema");
    }
  } else if (!spec.prompt_version.empty() || !spec.response_schema.empty()) {
    return InvalidArgument("prompt_version and response_schema are for task types, not chat",
                           spec.prompt_version.empty() ? "response_schema" : "prompt_version");
  }
  if (!spec.model.empty()) RETURN_IF_ERROR(ctx.gateway.check_alias(spec.model, "model"));
  if (!task && spec.model.empty()) RETURN_IF_ERROR(CheckChatModel(spec.input_json, ctx.gateway));
  ASSIGN_OR_RETURN(spec.webhook_url, ParseWebhookUrl(body, ctx.config.webhooks.allow_hosts));

  spec.mask_pii = ctx.mask_pii;
  if (const json::value* mask = body.if_contains("mask_pii"); mask && !mask->is_null()) {
    if (!mask->is_bool()) return InvalidArgument("mask_pii must be true or false", "mask_pii");
    spec.mask_pii = spec.mask_pii || mask->as_bool();
  }
  // The pinned version's own flag, on the job too: its record says whether it is masked.
  if (task && task->find_version(spec.prompt_version)->mask_pii) spec.mask_pii = true;
  if (const json::value* fallback = body.if_contains("fallback"); fallback && !fallback->is_null()) {
    if (!fallback->is_bool()) return InvalidArgument("fallback must be true or false", "fallback");
    spec.allow_fallback = fallback->as_bool();
  }
  RETURN_IF_ERROR(ParseObjectField(body, "params", spec.params_json, kMaxMetadataBytes));
  if (spec.params_json != "{}") {
    json::value params = json::parse(spec.params_json);
    for (const auto& [key, v] : params.as_object()) {
      if (IsReservedParam(key)) {
        return InvalidArgument("params." + std::string(key) + " may not be set by a job: " +
                                   std::string(ReservedParamReason(key)),
                               "params." + std::string(key));
      }
    }
    RETURN_IF_ERROR(CheckCallLimits(params.as_object(), "params."));
  }
  if (!task) RETURN_IF_ERROR(CheckCallLimits(json::parse(spec.input_json).as_object(), "request."));
  RETURN_IF_ERROR(ParseObjectField(body, "metadata", spec.metadata_json, kMaxMetadataBytes));

  spec.queue = task ? task->queue : "default";
  RETURN_IF_ERROR(OptString(body, "queue", spec.queue, 128));
  if (!ctx.config.find_queue(spec.queue)) {
    return InvalidArgument("unknown queue " + spec.queue + " (configure it with [[queue]])", "queue");
  }
  RETURN_IF_ERROR(OptInt(body, "priority", spec.priority, 0, 9));
  spec.max_attempts = task ? task->max_attempts : 3;
  RETURN_IF_ERROR(OptInt(body, "max_attempts", spec.max_attempts, 1, 100));

  if (const json::value* limit = body.if_contains("cost_limit_usd"); limit && !limit->is_null()) {
    if (!limit->is_number() || limit->to_number<double>() <= 0) {
      return InvalidArgument("cost_limit_usd must be a positive number", "cost_limit_usd");
    }
    spec.cost_limit_usd = limit->to_number<double>();
  }

  std::optional<Millis> run_at, deadline;
  RETURN_IF_ERROR(OptTime(body, "run_at", "run_in", ctx.now, run_at));
  RETURN_IF_ERROR(OptTime(body, "deadline", "deadline_in", ctx.now, deadline));
  if (!run_at && task && task->run_in) run_at = ctx.now + *task->run_in;
  spec.run_at = std::max(ctx.now, run_at.value_or(ctx.now));
  if (!deadline && task && task->deadline_in) deadline = spec.run_at + *task->deadline_in;
  if (deadline) {
    const char* field = body.contains("deadline_in") ? "deadline_in" : "deadline";
    if (*deadline <= ctx.now) return InvalidArgument("the deadline is already past", field);
    if (*deadline <= spec.run_at) return InvalidArgument("the deadline is before run_at", field);
  }
  spec.deadline = deadline;

  if (spec.dedup_key.empty() && !spec.object_id.empty()) {
    spec.dedup_key = spec.type + ":" + spec.object_id + ":" + spec.prompt_version;
  }
  job.id = NewId("job_", ctx.now);
  job.created_at = ctx.now;
  return job;
}

}  // namespace sluice
