// /v1/batches: create, get, list, cancel (API.md "Files and batches"; the OpenAI Batch API).
// The routes only write the batch's row and wake the batch runner (src/batches), which
// validates the input file, turns its lines into jobs and writes the output files. Every store
// call runs off the event loop (api/off_loop.h).
#include <boost/json.hpp>

#include "api/batch_json.h"
#include "api/off_loop.h"
#include "api/responses.h"
#include "api/routes.h"
#include "api/webhook_url_field.h"
#include "core/ids.h"
#include "json/json_text.h"

namespace sluice {

namespace json = boost::json;

namespace {

// Endpoints a batch may run: OpenAI's chat completions, and Sluice's own jobs (a line's body
// is a POST /v1/jobs body).
constexpr const char* kEndpoints[] = {"/v1/chat/completions", "/v1/jobs"};
// completion_window: OpenAI accepts only "24h"; Sluice takes any duration in this range (a short
// window makes expiry testable; the jobs' deadline is the window's end).
constexpr Millis kMinWindow = 1'000;
constexpr Millis kMaxWindow = 7 * 24 * 3'600'000LL;
// OpenAI's metadata rule: up to 16 string pairs, keys up to 64 chars, values up to 512.
constexpr std::size_t kMaxMetadataKeys = 16;
constexpr std::size_t kMaxMetadataKey = 64;
constexpr std::size_t kMaxMetadataValue = 512;
constexpr int kDefaultListLimit = 20;
constexpr int kMaxListLimit = 100;

Result<std::string> RequiredString(const json::object& body, const char* field) {
  const json::value* v = body.if_contains(field);
  if (!v || v->is_null()) return InvalidArgument(std::string(field) + " is required", field);
  if (!v->is_string() || v->as_string().empty()) {
    return InvalidArgument(std::string(field) + " must be a non-empty string", field);
  }
  return std::string(v->as_string());
}

Result<std::string> ParseMetadata(const json::object& body) {
  const json::value* v = body.if_contains("metadata");
  if (!v || v->is_null()) return std::string("null");
  if (!v->is_object()) return InvalidArgument("metadata must be an object of strings", "metadata");
  const json::object& m = v->as_object();
  if (m.size() > kMaxMetadataKeys) {
    return InvalidArgument("metadata holds at most 16 keys", "metadata");
  }
  for (const auto& [key, value] : m) {
    const std::string field = "metadata." + std::string(key);
    if (key.size() > kMaxMetadataKey) return InvalidArgument("a metadata key is longer than 64 characters", field);
    if (!value.is_string()) return InvalidArgument(field + " must be a string", field);
    if (value.as_string().size() > kMaxMetadataValue) {
      return InvalidArgument(field + " is longer than 512 characters", field);
    }
  }
  return JsonText(m);
}

Result<Batch> ParseCreate(ApiContext& ctx, const std::string& tenant, const json::value& value) {
  if (!value.is_object()) return InvalidArgument("the body must be a JSON object");
  const json::object& body = value.as_object();
  for (const auto& [key, v] : body) {
    if (key != "input_file_id" && key != "endpoint" && key != "completion_window" && key != "metadata" &&
        key != "webhook_url") {
      return InvalidArgument("unknown field " + std::string(key), std::string(key));
    }
  }
  Batch batch;
  ASSIGN_OR_RETURN(batch.input_file_id, RequiredString(body, "input_file_id"));
  ASSIGN_OR_RETURN(batch.endpoint, RequiredString(body, "endpoint"));
  bool known = false;
  for (const char* e : kEndpoints) known = known || batch.endpoint == e;
  if (!known) {
    return InvalidArgument("endpoint must be /v1/chat/completions or /v1/jobs, not " + batch.endpoint.substr(0, 128),
                           "endpoint")
        .with_error_code("unsupported_endpoint");
  }
  ASSIGN_OR_RETURN(batch.completion_window, RequiredString(body, "completion_window"));
  auto window = ParseDuration(batch.completion_window);
  if (!window.ok() || *window < kMinWindow || *window > kMaxWindow) {
    return InvalidArgument("completion_window must be a duration from 1s to 168h, like \"24h\"", "completion_window");
  }
  ASSIGN_OR_RETURN(batch.metadata_json, ParseMetadata(body));
  // Sluice's extension, read exactly as a job's (the SSRF guard included).
  ASSIGN_OR_RETURN(batch.webhook_url, ParseWebhookUrl(body, ctx.config.webhooks.allow_hosts));

  auto file = ctx.store.get_file(tenant, batch.input_file_id);
  if (!file.ok()) {
    if (file.status().code() != StatusCode::kNotFound) return file.status();
    return Status(StatusCode::kNotFound, "no file " + batch.input_file_id.substr(0, 128), "input_file_id");
  }
  if (file->purpose != kFilePurposeBatch) {
    return InvalidArgument("file " + file->id + " has purpose " + file->purpose + ", not batch", "input_file_id");
  }
  const Millis now = ctx.clock.now();
  batch.id = NewId("batch_", now);
  batch.tenant = tenant;
  batch.created_at = now;
  batch.expires_at = now + *window;
  return batch;
}

void Create(ApiContext& ctx, http::Request&& req, http::Responder responder, const auth::Caller& caller) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return SendError(responder, body.status());
  // A batch's lines are admitted as a whole: it is refused while the tenant is at its live-job
  // limit or has spent its month's budget, and then runs all its lines.
  if (ctx.quotas) {
    if (Status quota = ctx.quotas->admit_jobs(caller, 1); !quota.ok()) return SendError(responder, quota);
  }
  // ParseCreate reads the input file's row: off the loop too.
  RunOffLoop(ctx, responder, [&ctx, tenant = caller.tenant, body = std::move(body).value(), responder] {
    auto batch = ParseCreate(ctx, tenant, body);
    if (!batch.ok()) return SendError(responder, batch.status());
    Status created = ctx.store.create_batch(*batch);
    if (!created.ok()) return SendError(responder, created);
    if (ctx.batches) ctx.batches->batches_changed();
    SendJson(responder, 200, BatchToJson(*batch));
  });
}

void List(ApiContext& ctx, http::Request&& req, http::Responder responder, const std::string& tenant) {
  int limit = kDefaultListLimit;
  if (auto text = req.query_param("limit"); text && !text->empty()) {
    char* end = nullptr;
    long n = std::strtol(text->c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > kMaxListLimit) {
      return SendError(responder, InvalidArgument("limit must be an integer from 1 to 100", "limit"));
    }
    limit = static_cast<int>(n);
  }
  RunOffLoop(ctx, responder, [&ctx, tenant, limit, after = req.query_param("after").value_or(""), responder] {
    auto page = ctx.store.list_batches(tenant, limit, after);
    if (!page.ok()) return SendError(responder, page.status());
    json::array data;
    for (const Batch& b : page->batches) data.push_back(BatchToJson(b));
    json::value first = page->batches.empty() ? json::value(nullptr) : json::value(page->batches.front().id);
    json::value last = page->batches.empty() ? json::value(nullptr) : json::value(page->batches.back().id);
    SendJson(responder, 200,
             json::object{{"object", "list"},
                          {"data", std::move(data)},
                          {"first_id", std::move(first)},
                          {"last_id", std::move(last)},
                          {"has_more", page->has_more}});
  });
}

// validating or in_progress → cancelling: the runner cancels the queued jobs and, once none is
// running, writes the files (kept results in the output file, the rest as batch_cancelled).
// Cancelling a batch that is already cancelling or cancelled answers it as it is.
void Cancel(ApiContext& ctx, const std::string& tenant, const std::string& id, const http::Responder& responder) {
  // The tenant's batch or 404, before anything changes (another tenant's id is unknown).
  auto batch = ctx.store.get_batch(tenant, id);
  if (!batch.ok()) return SendError(responder, batch.status());
  auto moved = ctx.store.transition_batch(BatchTransition{.id = id,
                                                          .from = {BatchStatus::kValidating, BatchStatus::kInProgress},
                                                          .to = BatchStatus::kCancelling,
                                                          .now = ctx.clock.now()});
  if (moved.ok()) {
    if (ctx.batches) ctx.batches->batches_changed();
    return SendJson(responder, 200, BatchToJson(*moved));
  }
  if (moved.status().code() != StatusCode::kFailedPrecondition) return SendError(responder, moved.status());
  batch = ctx.store.get_batch(tenant, id);
  if (!batch.ok()) return SendError(responder, batch.status());
  if (batch->status == BatchStatus::kCancelling || batch->status == BatchStatus::kCancelled) {
    return SendJson(responder, 200, BatchToJson(*batch));
  }
  SendError(responder, FailedPrecondition("batch " + id + " is " + BatchStatusName(batch->status) +
                                          " and can no longer be cancelled"));
}

}  // namespace

void AddBatchRoutes(ApiContext& ctx, Router& router) {
  router.add("POST", "/v1/batches", [&ctx](http::Request&& req, http::Responder responder, const RouteContext& rc) {
    Create(ctx, std::move(req), std::move(responder), rc.caller);
  });
  router.add("GET", "/v1/batches", [&ctx](http::Request&& req, http::Responder responder, const RouteContext& rc) {
    List(ctx, std::move(req), std::move(responder), rc.tenant());
  });
  router.add("GET", "/v1/batches/{id}", [&ctx](http::Request&&, http::Responder responder, const RouteContext& rc) {
    RunOffLoop(ctx, responder, [&ctx, tenant = rc.tenant(), id = rc.params.at("id"), responder] {
      auto batch = ctx.store.get_batch(tenant, id);
      if (!batch.ok()) return SendError(responder, batch.status());
      SendJson(responder, 200, BatchToJson(*batch));
    });
  });
  router.add("POST", "/v1/batches/{id}/cancel",
             [&ctx](http::Request&&, http::Responder responder, const RouteContext& rc) {
               RunOffLoop(ctx, responder, [&ctx, tenant = rc.tenant(), id = rc.params.at("id"), responder] {
                 Cancel(ctx, tenant, id, responder);
               });
             });
}

}  // namespace sluice
