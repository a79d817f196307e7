// The synchronous fast path: POST /v1/chat/completions, OpenAI-compatible, through the same
// gateway as jobs (routing, fallback, circuit breakers, limits, cost), with no queue. Short
// interactive calls only: an input over server.sync_max_input_tokens answers 413 `use_async`.
#include <chrono>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "answer/answer_engine.h"
#include "api/mask_pii_request.h"
#include "api/off_loop.h"
#include "api/responses.h"
#include "auth/tenant_quotas.h"
#include "api/routes.h"
#include "core/ids.h"
#include "gateway/provider_call.h"
#include "json/json_text.h"
#include "privacy/chat_masking.h"
#include "worker/attempt_outcome.h"

namespace sluice {

namespace json = boost::json;

namespace {

double SteadyMs() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count() / 1000.0;
}

std::string FormatMs(double ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", ms);
  return text;
}

Status ValidateChatBody(const json::value& body, const ModelGateway& gateway) {
  if (!body.is_object()) return InvalidArgument("the body must be a JSON object");
  const json::object& o = body.as_object();
  const json::value* model = o.if_contains("model");
  if (!model || !model->is_string() || model->as_string().empty()) {
    return InvalidArgument("model is required: a model alias (GET /v1/models)", "model");
  }
  RETURN_IF_ERROR(gateway.check_alias(std::string(model->as_string()), "model"));
  const json::value* messages = o.if_contains("messages");
  if (!messages || !messages->is_array() || messages->as_array().empty()) {
    return InvalidArgument("messages must be a non-empty array", "messages");
  }
  for (std::size_t i = 0; i < messages->as_array().size(); ++i) {
    const json::value& m = messages->as_array()[i];
    std::string field = "messages[" + std::to_string(i) + "]";
    if (!m.is_object() || !m.as_object().contains("role") || !m.as_object().at("role").is_string()) {
      return InvalidArgument(field + " must be an object with a string role", field);
    }
  }
  if (const json::value* stream = o.if_contains("stream"); stream && !stream->is_bool()) {
    return InvalidArgument("stream must be true or false", "stream");
  }
  return Status::Ok();
}

int PromptTokens(const json::object& request) {
  int tokens = 0;
  for (const auto& m : request.at("messages").as_array()) {
    if (const json::value* c = m.as_object().if_contains("content")) {
      tokens += answer::EstimateTokens(c->is_string() ? std::string(c->as_string()) : json::serialize(*c));
    }
  }
  return tokens;
}

json::array CallRecords(const GatewayResult& g) {
  json::array out;
  for (const CallResult& c : g.calls) {
    out.push_back(json::object{{"provider", c.provider},
                               {"model", c.model_id},
                               {"model_alias", c.alias},
                               {"ms", c.ms},
                               {"outcome", c.code},
                               {"cost_usd", c.cost_usd}});
  }
  return out;
}

// An error the way the gateway's failure reads to an HTTP client.
Status FailureStatus(const CallResult& r) {
  StatusCode code = StatusCode::kUnavailable;
  if (r.outcome == CallOutcome::kFatal) code = StatusCode::kInvalidArgument;
  if (r.code == "timeout" || r.code == "deadline_exceeded") code = StatusCode::kDeadlineExceeded;
  return Status(code, r.message.empty() ? r.code : r.message).with_error_code(r.code);
}

void SendCompletion(const http::Responder& responder, const json::object& request, const GatewayResult& g,
                    double overhead_ms, Millis now, const privacy::PiiMapping* pii) {
  const CallResult& r = g.final();
  // The provider answered about placeholders; the client gets its own values back.
  const std::string text = pii ? pii->unmask(r.text) : r.text;
  const std::string id = "chatcmpl-" + NewId("", now);
  const std::int64_t created = now / 1000;
  json::object usage{{"prompt_tokens", r.prompt_tokens},
                     {"completion_tokens", r.completion_tokens},
                     {"total_tokens", r.prompt_tokens + r.completion_tokens}};
  json::object sluice{{"model_alias", r.alias},
                      {"provider", r.provider},
                      {"cost_usd", g.cost_usd()},
                      {"attempts", CallRecords(g)}};
  if (pii) sluice["pii"] = json::object{{"masked", pii->counts_json()}};
  http::Headers headers{{"X-Sluice-Overhead-Ms", FormatMs(overhead_ms)}, {"X-Sluice-Model-Alias", r.alias}};
  const json::value* stream = request.if_contains("stream");
  if (!stream || !stream->as_bool()) {
    json::object body{{"id", id},
                      {"object", "chat.completion"},
                      {"created", created},
                      {"model", r.model_id},
                      {"choices", json::array{json::object{
                                      {"index", 0},
                                      {"message", json::object{{"role", "assistant"}, {"content", text}}},
                                      {"logprobs", nullptr},
                                      {"finish_reason", r.finish_reason}}}},
                      {"usage", std::move(usage)},
                      {"sluice", std::move(sluice)}};
    return SendJson(responder, 200, body, std::move(headers));
  }
  // Server-Sent Events in OpenAI's chunk format. The provider call itself is not streamed:
  // the answer is complete (and its usage known) before the first chunk goes out.
  auto chunk = [&](json::object delta, json::value finish, json::value usage_value) {
    json::array choices;
    if (usage_value.is_null()) {
      choices.push_back(json::object{
          {"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr}, {"finish_reason", finish}});
    }
    json::object c{{"id", id},
                   {"object", "chat.completion.chunk"},
                   {"created", created},
                   {"model", r.model_id},
                   {"choices", std::move(choices)}};
    if (!usage_value.is_null()) c["usage"] = usage_value;
    return "data: " + JsonText(c) + "\n\n";
  };
  bool include_usage = false;
  if (auto* opts = request.if_contains("stream_options"); opts && opts->is_object()) {
    if (auto* u = opts->as_object().if_contains("include_usage"); u && u->is_bool()) include_usage = u->as_bool();
  }
  responder.start_stream(200, "text/event-stream", std::move(headers));
  responder.write(chunk(json::object{{"role", "assistant"}, {"content", ""}}, nullptr, nullptr));
  responder.write(chunk(json::object{{"content", text}}, nullptr, nullptr));
  responder.write(chunk(json::object{}, json::value(r.finish_reason), nullptr));
  if (include_usage) responder.write(chunk(json::object{}, nullptr, usage));
  responder.write("data: [DONE]\n\n");
  responder.end();
}

// Settles a finished call, off the loop: its budget reservation (`reservation`, empty for none)
// with what the call cost, and its cost ledger rows, in one transaction (Store::
// settle_sync_call). Retried while the pool is full or the store fails, since an unsettled
// reservation would drop the spend when it expires and a lost row would under-count the report.
void SettleSyncCall(ApiContext& ctx, std::string reservation, double cost_usd,
                    std::shared_ptr<const std::vector<CallCharge>> charges, int tries_left) {
  if (reservation.empty() && charges->empty()) return;
  auto again = [&ctx, reservation, cost_usd, charges, tries_left](Millis after) {
    ctx.loop.post_after(after, [&ctx, reservation, cost_usd, charges, tries_left] {
      SettleSyncCall(ctx, reservation, cost_usd, charges, tries_left - 1);
    });
  };
  const bool queued = ctx.blocking->run([&ctx, reservation, cost_usd, charges, tries_left, again] {
    Status settled = ctx.store.settle_sync_call(reservation, cost_usd, *charges);
    if (!settled.ok() && tries_left > 0) again(1'000);
  });
  if (!queued && tries_left > 0) again(100);
}

// `whose`: the tenant and actor its ledger rows and audit records name. `pii`: the placeholders
// the request was masked with (null: not masked).
void CallGateway(ApiContext& ctx, ModelCall call, const http::Responder& responder,
                 std::shared_ptr<json::object> request, double received, std::string reservation,
                 CallCharge whose, std::shared_ptr<const privacy::PiiMapping> pii) {
  if (pii) whose.pii_masked_json = JsonText(pii->counts_json());
  ctx.gateway.call(std::move(call), [&ctx, responder, request, received, pii,
                                     reservation = std::move(reservation),
                                     whose = std::move(whose)](GatewayResult g) {
    SettleSyncCall(ctx, reservation, g.cost_usd(),
                   std::make_shared<const std::vector<CallCharge>>(CallCharges(whose, g)), 30);
    const CallResult& r = g.final();
    double provider_ms = 0;
    for (const auto& c : g.calls) provider_ms += c.provider_ms;
    double overhead = std::max(0.0, SteadyMs() - received - provider_ms);
    if (r.outcome != CallOutcome::kOk) {
      Status failure = FailureStatus(r);
      if (r.retry_after_ms >= 0) failure.with_retry_after(static_cast<int>((r.retry_after_ms + 999) / 1000));
      http::Response error = http::ErrorResponse(failure);
      error.headers.emplace_back("X-Sluice-Overhead-Ms", FormatMs(overhead));
      return responder.send(std::move(error));
    }
    SendCompletion(responder, *request, g, overhead, ctx.clock.now(), pii.get());
  });
}

// A tenant with a monthly budget: the call's worst case is reserved against the month first
// (off the loop: a store write), and the walk may not spend more than it reserved.
void ReserveThenCall(ApiContext& ctx, const auth::Caller& caller, ModelCall call,
                     const http::Responder& responder, std::shared_ptr<json::object> request,
                     double received, std::shared_ptr<const privacy::PiiMapping> pii) {
  CallCharge whose{.tenant = caller.tenant, .task_type = kSyncTaskType,
                   .actor = auth::AuditActorOf(caller)};
  const Millis now = ctx.clock.now();
  BudgetReservation reservation{.id = NewId("sync_", now),
                                .tenant = caller.tenant,
                                .month = MonthOf(now),
                                .amount_usd = ctx.gateway.worst_case_cost(call),
                                .budget_usd = caller.limits.monthly_budget_usd,
                                .now = now,
                                .expires_at = now + ctx.config.server.max_wait + 60'000};
  call.budget_usd = reservation.amount_usd;
  auto shared_call = std::make_shared<ModelCall>(std::move(call));
  RunOffLoop(ctx, responder, [&ctx, reservation, shared_call, responder, request, received, pii,
                              whose = std::move(whose)] {
    auto fits = ctx.store.reserve_budget(std::span(&reservation, 1));
    if (!fits.ok()) return SendError(responder, fits.status());
    if (!fits->front()) {
      return SendError(responder, auth::BudgetExceeded(reservation.tenant, reservation.budget_usd,
                                                       reservation.now));
    }
    ctx.loop.post([&ctx, reservation, shared_call, responder, request, received, pii, whose] {
      CallGateway(ctx, std::move(*shared_call), responder, request, received, reservation.id,
                  whose, pii);
    });
  });
}

void ChatCompletions(ApiContext& ctx, http::Request&& req, http::Responder responder,
                     const auth::Caller& caller) {
  const double received = SteadyMs();
  auto body = ParseJsonBody(req);
  if (!body.ok()) return SendError(responder, body.status());
  if (Status st = ValidateChatBody(*body, ctx.gateway); !st.ok()) return SendError(responder, st);
  auto request = std::make_shared<json::object>(std::move(body->as_object()));
  int tokens = PromptTokens(*request);
  if (tokens > ctx.config.server.sync_max_input_tokens) {
    return SendError(responder,
                     Status(StatusCode::kPayloadTooLarge,
                            "the input is about " + std::to_string(tokens) + " tokens, over the synchronous limit of " +
                                std::to_string(ctx.config.server.sync_max_input_tokens) +
                                "; submit it as a job instead: POST /v1/jobs with {\"type\": \"chat\", \"request\": ...}")
                         .with_error_code("use_async"));
  }
  ModelCall call;
  call.alias = std::string(request->at("model").as_string());
  call.request = *request;
  call.request.erase("stream");
  call.request.erase("stream_options");
  auto mask = MaskPiiAsked(req, caller);
  if (!mask.ok()) return SendError(responder, mask.status());
  std::shared_ptr<privacy::PiiMapping> pii;
  if (*mask) {
    pii = std::make_shared<privacy::PiiMapping>();
    privacy::MaskChatRequest(PiiMaskerOf(ctx), call.request, *pii);
  }
  const Millis now = ctx.clock.now();
  call.deadline = now + ctx.config.server.max_wait;
  if (!caller.admin && caller.limits.monthly_budget_usd > 0) {
    if (ctx.quotas) {
      if (Status spend = ctx.quotas->admit_spend(caller); !spend.ok()) return SendError(responder, spend);
    }
    return ReserveThenCall(ctx, caller, std::move(call), responder, request, received, pii);
  }
  CallGateway(ctx, std::move(call), responder, request, received, "",
              CallCharge{.tenant = caller.tenant, .task_type = kSyncTaskType,
                         .actor = auth::AuditActorOf(caller)},
              pii);
}

}  // namespace

void AddChatRoutes(ApiContext& ctx, Router& router) {
  router.add("POST", "/v1/chat/completions", [&ctx](http::Request&& r, http::Responder s, const RouteContext& rc) {
    ChatCompletions(ctx, std::move(r), std::move(s), rc.caller);
  });
}

}  // namespace sluice
