#include "gateway/provider_call.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdlib>

#include "answer/answer_engine.h"

namespace sluice {

namespace json = boost::json;

Millis ParseRetryAfter(const std::string& value) {
  if (value.empty()) return -1;
  char* end = nullptr;
  double secs = std::strtod(value.c_str(), &end);
  if (end == value.c_str() || secs < 0 || secs > 86'400) return -1;
  return static_cast<Millis>(secs * 1000);
}

namespace {

// Defaults from the alias's params go under the request's own keys.
void MergeDefaults(json::object& request, const std::string& params_json) {
  if (params_json.empty() || params_json == "{}") return;
  boost::system::error_code ec;
  json::value defaults = json::parse(params_json, ec);
  if (ec || !defaults.is_object()) return;
  for (auto& [k, v] : defaults.as_object()) {
    if (!request.contains(k)) request[k] = v;
  }
}

std::string ProviderErrorMessage(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    if (auto* err = v.as_object().if_contains("error")) {
      if (err->is_object()) {
        if (auto* msg = err->as_object().if_contains("message"); msg && msg->is_string()) {
          return std::string(msg->as_string());
        }
      } else if (err->is_string()) {
        return std::string(err->as_string());
      }
    }
  }
  return body.substr(0, 300);
}

}  // namespace

double CallCost(const ModelConfig& m, int prompt_tokens, int completion_tokens, int cached_tokens,
                int reasoning_tokens) {
  const double cached = std::clamp(cached_tokens, 0, std::max(prompt_tokens, 0));
  const double reasoning = std::clamp(reasoning_tokens, 0, std::max(completion_tokens, 0));
  // USD per Mtok is nano-USD per thousandth of a token: sum in nano-USD, round once.
  const double nanos =
      ((prompt_tokens - cached) * m.input_usd_per_mtok +
       cached * m.cached_input_usd_per_mtok.value_or(m.input_usd_per_mtok) +
       (completion_tokens - reasoning) * m.output_usd_per_mtok +
       reasoning * m.reasoning_usd_per_mtok.value_or(m.output_usd_per_mtok)) *
      1e3;
  return static_cast<double>(std::llround(nanos)) / 1e9;
}

void PrepareRequestBody(const ModelConfig& model, json::object& request) {
  MergeDefaults(request, model.params_json);
  request["model"] = model.id;
}

HttpRequest BuildProviderRequest(const ProviderConfig& p, const std::string& api_key,
                                 const json::object& body, Millis timeout) {
  HttpRequest req;
  req.url = p.base_url + "/chat/completions";
  req.timeout = timeout > 0 ? std::min(timeout, p.timeout) : p.timeout;
  req.max_response_bytes = p.max_response;
  req.headers.emplace_back("Content-Type", "application/json");
  if (!api_key.empty()) req.headers.emplace_back("Authorization", "Bearer " + api_key);
  for (const auto& h : p.headers) req.headers.push_back(h);
  req.body = json::serialize(body);
  return req;
}

std::int64_t EstimateRequestTokens(const json::object& request) {
  std::int64_t tokens = 0;
  if (auto* messages = request.if_contains("messages"); messages && messages->is_array()) {
    for (const auto& m : messages->as_array()) {
      if (!m.is_object()) continue;
      if (auto* c = m.as_object().if_contains("content")) {
        tokens += 4 + answer::EstimateTokens(c->is_string() ? std::string_view(c->as_string())
                                                            : std::string_view(json::serialize(*c)));
      }
    }
  }
  // Any JSON number counts (1e6 is a million tokens, not "unset"), and the larger of the two
  // limits wins: this is an upper bound, so reading less than the provider may honour would let
  // a call past its budget. Capped so the products below cannot overflow.
  constexpr double kMaxTokensCounted = 1e12;
  std::int64_t max_out = 1024;  // what a call may produce when the request sets no limit
  double limit = 0;
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    if (auto* v = request.if_contains(key); v && v->is_number())
      limit = std::max(limit, v->to_number<double>());
  }
  if (limit >= 1) max_out = static_cast<std::int64_t>(std::min(limit, kMaxTokensCounted));
  // Each of the n choices may produce max_out tokens; the prompt is paid once. The product stays
  // under the same cap (the rate limiter's arithmetic relies on it, see rate_limiter.cc).
  if (auto* n = request.if_contains("n"); n && n->is_number() && n->to_number<double>() > 1) {
    const double out = static_cast<double>(max_out) * n->to_number<double>();
    max_out = static_cast<std::int64_t>(std::min(out, kMaxTokensCounted));
  }
  return tokens + max_out;
}

double EstimateCallCost(const ModelConfig& m, const json::object& request) {
  std::int64_t total = EstimateRequestTokens(request);
  // The whole estimate priced at the dearest rate: an upper bound, never an under-run.
  const double dearest = std::max({m.input_usd_per_mtok, m.output_usd_per_mtok,
                                   m.cached_input_usd_per_mtok.value_or(0),
                                   m.reasoning_usd_per_mtok.value_or(0)});
  return total * dearest / 1e6;
}

CallResult ClassifyResponse(const ModelConfig& model, const HttpResponse& r, Millis started) {
  CallResult out;
  out.alias = model.alias;
  out.provider = model.provider;
  out.model_id = model.id;
  out.started_at = started;
  out.ms = r.elapsed;
  out.provider_ms = r.total_ms;
  out.http_status = r.status;
  auto fail = [&](CallOutcome outcome, std::string code, std::string message) {
    out.outcome = outcome;
    out.code = std::move(code);
    out.message = std::move(message);
    return out;
  };
  switch (r.error) {
    case TransportError::kNone: break;
    case TransportError::kTimeout: return fail(CallOutcome::kRetryable, "timeout", r.error_message);
    case TransportError::kConnect: return fail(CallOutcome::kRetryable, "connect_error", r.error_message);
    case TransportError::kReset: return fail(CallOutcome::kRetryable, "connection_reset", r.error_message);
    case TransportError::kCanceled: return fail(CallOutcome::kCanceled, "canceled", r.error_message);
    case TransportError::kOther: return fail(CallOutcome::kRetryable, "transport_error", r.error_message);
    // Providers are called without an address guard; should one ever refuse, treat it as a
    // connection that could not be made.
    case TransportError::kRefused: return fail(CallOutcome::kRetryable, "connect_error", r.error_message);
    // Retryable as a broken answer is: the next alias of the chain (another provider) may
    // answer within its own limit, and a later attempt may get a shorter answer.
    case TransportError::kResponseTooLarge:
      return fail(CallOutcome::kRetryable, "response_too_large", r.error_message);
  }
  if (r.status == 429) {
    out.retry_after_ms = ParseRetryAfter(r.retry_after);
    return fail(CallOutcome::kRetryable, "rate_limited", ProviderErrorMessage(r.body));
  }
  if (r.status >= 500 || r.status == 408) {
    return fail(CallOutcome::kRetryable, "provider_error",
                "HTTP " + std::to_string(r.status) + ": " + ProviderErrorMessage(r.body));
  }
  if (r.status >= 400) {
    return fail(CallOutcome::kFatal, "provider_rejected",
                "HTTP " + std::to_string(r.status) + ": " + ProviderErrorMessage(r.body));
  }
  if (r.status != 200) {
    return fail(CallOutcome::kRetryable, "provider_error", "unexpected HTTP " + std::to_string(r.status));
  }
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return fail(CallOutcome::kRetryable, "garbage", "the answer is not JSON");
  const json::object& body = v.as_object();
  // Usage counts even when the content is unusable: the provider billed it.
  if (auto* usage = body.if_contains("usage"); usage && usage->is_object()) {
    auto tokens = [&](const char* key) {
      auto* n = usage->as_object().if_contains(key);
      return n && n->is_int64() ? static_cast<int>(n->as_int64()) : 0;
    };
    // OpenAI's details: parts of the two counts above, priced apart where the alias says.
    auto detail = [&](const char* details, const char* key) {
      auto* d = usage->as_object().if_contains(details);
      if (!d || !d->is_object()) return 0;
      auto* n = d->as_object().if_contains(key);
      return n && n->is_int64() && n->as_int64() > 0 ? static_cast<int>(n->as_int64()) : 0;
    };
    out.prompt_tokens = tokens("prompt_tokens");
    out.completion_tokens = tokens("completion_tokens");
    out.cached_tokens =
        std::min(detail("prompt_tokens_details", "cached_tokens"), std::max(out.prompt_tokens, 0));
    out.reasoning_tokens = std::min(detail("completion_tokens_details", "reasoning_tokens"),
                                    std::max(out.completion_tokens, 0));
  }
  out.cost_usd = CallCost(model, out.prompt_tokens, out.completion_tokens, out.cached_tokens,
                          out.reasoning_tokens);
  if (auto* m = body.if_contains("model"); m && m->is_string() && !m->as_string().empty()) {
    out.model_id = std::string(m->as_string());
  }
  const json::value* choices = body.if_contains("choices");
  if (!choices || !choices->is_array() || choices->as_array().empty() ||
      !choices->as_array()[0].is_object()) {
    return fail(CallOutcome::kRetryable, "garbage", "the answer has no choices");
  }
  const json::object& choice = choices->as_array()[0].as_object();
  const json::value* message = choice.if_contains("message");
  const json::value* content = message && message->is_object() ? message->as_object().if_contains("content") : nullptr;
  const json::value* finish = choice.if_contains("finish_reason");
  if (!content || !content->is_string()) {
    return fail(CallOutcome::kRetryable, "garbage", "the answer has no message content");
  }
  if (!finish || !finish->is_string()) {
    return fail(CallOutcome::kRetryable, "garbage", "the answer has no finish_reason (cut short?)");
  }
  out.text = std::string(content->as_string());
  out.finish_reason = std::string(finish->as_string());
  out.outcome = CallOutcome::kOk;
  out.code = "ok";
  return out;
}

CallResult AnswerLocally(const ModelConfig& model, const json::object& request, Millis started,
                         const Clock& clock) {
  answer::Answer a = answer::AnswerChat(request);
  CallResult out;
  out.outcome = CallOutcome::kOk;
  out.code = "ok";
  out.alias = model.alias;
  out.provider = "local";
  out.model_id = model.id;
  out.text = std::move(a.content);
  out.finish_reason = "stop";
  out.prompt_tokens = a.prompt_tokens;
  out.completion_tokens = a.completion_tokens;
  out.cost_usd = CallCost(model, a.prompt_tokens, a.completion_tokens);
  out.started_at = started;
  out.ms = clock.now() - started;
  return out;
}

}  // namespace sluice
