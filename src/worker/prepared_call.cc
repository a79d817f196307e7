#include "worker/prepared_call.h"

#include <boost/json.hpp>

#include "gateway/gateway.h"
#include "gateway/provider_call.h"
#include "privacy/chat_masking.h"
#include "tasks/prompt.h"

namespace sluice {

namespace json = boost::json;

std::string DefaultAlias(const TaskType& task, const QueueConfig* queue, const ModelGateway& gateway) {
  if (queue && !queue->model.empty() && gateway.has_alias(queue->model)) return queue->model;
  if (!task.model.empty() && gateway.has_alias(task.model)) return task.model;
  return kLocalAlias;
}

namespace {

Result<json::object> ParseObject(const std::string& text, const char* field) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return InvalidArgument(std::string(field) + " is not a JSON object", field);
  return std::move(v.as_object());
}

Result<std::string> InputText(const json::object& input, const std::string& tenant,
                              const BlobStore& blobs) {
  if (auto* text = input.if_contains("text"); text && text->is_string()) {
    return std::string(text->as_string());
  }
  if (auto* blob = input.if_contains("blob"); blob && blob->is_string()) {
    auto content = blobs.get(tenant, std::string(blob->as_string()));
    if (!content.ok()) return InvalidArgument("input blob: " + content.status().message(), "input.blob");
    return std::move(content).value();
  }
  return InvalidArgument("input needs text or blob", "input");
}

// The request without what Sluice itself builds: what is left are the model params.
json::object ParamsOf(json::object body, bool task_job) {
  body.erase("model");
  body.erase("messages");
  // A task's response_format is its schema (recorded as response_schema); a chat job's is the
  // client's own choice, so it stays.
  if (task_job) body.erase("response_format");
  return body;
}

void RecordSentParams(PreparedCall& call, const ModelGateway& gateway, bool allow_fallback,
                      bool task_job) {
  call.request_params = ParamsOf(call.request, task_job);
  for (const ModelConfig* m : gateway.chain(call.alias, allow_fallback)) {
    json::object body = call.request;
    PrepareRequestBody(*m, body);  // the gateway's own merge, so the record cannot drift from it
    call.sent_params[m->alias] = ParamsOf(std::move(body), task_job);
  }
}

// Masks what the provider will read; the params were recorded before and hold no text.
void MaskIfAsked(PreparedCall& call, bool mask, const privacy::PiiMasker& masker) {
  if (!mask) return;
  auto mapping = std::make_shared<privacy::PiiMapping>();
  privacy::MaskChatRequest(masker, call.request, *mapping);
  call.pii = std::move(mapping);
}

}  // namespace

json::object PreparedCall::params_sent_to(const std::string& alias_called) const {
  auto it = sent_params.find(alias_called);
  if (it != sent_params.end()) return it->second;
  return request_params;
}

Result<PreparedCall> PrepareCall(const Job& job, const TaskRegistry& tasks, const BlobStore& blobs,
                                 const ModelGateway& gateway, const QueueConfig* queue,
                                 const privacy::PiiMasker& masker) {
  PreparedCall call;
  if (job.spec.type == kChatType) {
    ASSIGN_OR_RETURN(call.request, ParseObject(job.spec.input_json, "request"));
    call.alias = job.spec.model;
    if (call.alias.empty()) {
      if (auto* m = call.request.if_contains("model"); m && m->is_string()) {
        call.alias = std::string(m->as_string());
      }
    }
    // Checked at submit; an alias removed from the config since then fails the job.
    if (!gateway.has_alias(call.alias)) {
      return InvalidArgument("model alias " + call.alias + " is no longer configured", "request.model");
    }
    RecordSentParams(call, gateway, job.spec.allow_fallback, /*task_job=*/false);
    MaskIfAsked(call, job.spec.mask_pii, masker);
    return call;
  }
  const TaskType* task = tasks.find(job.spec.type);
  if (!task) return InvalidArgument("task type " + job.spec.type + " is no longer in the tasks dir", "type");
  const TaskVersion* version = task->find_version(job.spec.prompt_version);
  if (!version) {
    return InvalidArgument("prompt version " + job.spec.prompt_version + " of " + job.spec.type +
                               " is no longer in the tasks dir",
                           "prompt_version");
  }
  ASSIGN_OR_RETURN(json::object input, ParseObject(job.spec.input_json, "input"));
  RenderInput render;
  ASSIGN_OR_RETURN(render.text, InputText(input, job.spec.tenant, blobs));
  if (!job.spec.object_id.empty()) render.object_id = job.spec.object_id;
  ASSIGN_OR_RETURN(render.metadata, ParseObject(job.spec.metadata_json, "metadata"));
  ASSIGN_OR_RETURN(render.params, ParseObject(job.spec.params_json, "params"));
  if (!job.spec.response_schema.empty() && job.spec.response_schema != version->schema_name()) {
    render.schema = tasks.find_schema(job.spec.response_schema);
    if (!render.schema) {
      return InvalidArgument("response schema " + job.spec.response_schema + " is gone", "response_schema");
    }
  }
  ASSIGN_OR_RETURN(call.request, BuildChatRequest(*version, render));
  call.alias = job.spec.model.empty() ? DefaultAlias(*task, queue, gateway) : job.spec.model;
  call.schema = render.schema ? render.schema : version->schema.get();
  call.review = version->review ? &*version->review : nullptr;
  RecordSentParams(call, gateway, job.spec.allow_fallback, /*task_job=*/true);
  MaskIfAsked(call, job.spec.mask_pii || version->mask_pii, masker);
  return call;
}

}  // namespace sluice
