#include "gateway/gateway.h"

#include <cstdlib>

#include <boost/json.hpp>

#include "answer/answer_engine.h"

namespace sluice {

namespace json = boost::json;

ModelGateway::ModelGateway(const Config& config, HttpClient& http, const Clock& clock)
    : config_(config), http_(http), clock_(clock) {
  local_model_.alias = kLocalAlias;
  local_model_.provider = "local";
  local_model_.id = "sluice-local";
  for (const auto& p : config_.providers) {
    if (p.api_key_env.empty()) continue;
    if (const char* key = std::getenv(p.api_key_env.c_str())) api_keys_[p.name] = key;
  }
}

bool ModelGateway::has_alias(const std::string& alias) const { return model(alias) != nullptr; }

const ModelConfig* ModelGateway::model(const std::string& alias) const {
  if (const ModelConfig* m = config_.find_model(alias)) return m;
  return alias == kLocalAlias ? &local_model_ : nullptr;
}

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

double Cost(const ModelConfig& m, int prompt_tokens, int completion_tokens) {
  return prompt_tokens * m.input_usd_per_mtok / 1e6 + completion_tokens * m.output_usd_per_mtok / 1e6;
}

}  // namespace

CallResult ModelGateway::Classify(const ModelConfig& model, const HttpResponse& r,
                                  Millis started) const {
  CallResult out;
  out.alias = model.alias;
  out.provider = model.provider;
  out.model_id = model.id;
  out.started_at = started;
  out.ms = r.elapsed;
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
    out.prompt_tokens = tokens("prompt_tokens");
    out.completion_tokens = tokens("completion_tokens");
  }
  out.cost_usd = Cost(model, out.prompt_tokens, out.completion_tokens);
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

void ModelGateway::CallLocal(const ModelConfig& model, ModelCall call, Callback done) {
  Millis started = clock_.now();
  answer::Answer a = answer::AnswerChat(call.request);
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
  out.cost_usd = Cost(model, a.prompt_tokens, a.completion_tokens);
  out.started_at = started;
  out.ms = clock_.now() - started;
  Count("local", out.code);
  done(std::move(out));
}

std::uint64_t ModelGateway::call(ModelCall call, Callback done) {
  const ModelConfig* m = model(call.alias);
  if (!m) {
    CallResult out;
    out.outcome = CallOutcome::kFatal;
    out.code = "unknown_model";
    out.message = "model alias '" + call.alias + "' is not configured";
    out.alias = call.alias;
    done(std::move(out));
    return 0;
  }
  MergeDefaults(call.request, m->params_json);
  call.request["model"] = m->id;
  if (m->provider == "local") {
    CallLocal(*m, std::move(call), std::move(done));
    return 0;
  }
  const ProviderConfig* p = config_.find_provider(m->provider);
  CHECK(p != nullptr);  // Config::Parse guarantees every alias names a provider
  HttpRequest req;
  req.url = p->base_url + "/chat/completions";
  req.timeout = call.timeout > 0 ? std::min(call.timeout, p->timeout) : p->timeout;
  req.headers.emplace_back("Content-Type", "application/json");
  if (auto it = api_keys_.find(p->name); it != api_keys_.end()) {
    req.headers.emplace_back("Authorization", "Bearer " + it->second);
  }
  for (const auto& h : p->headers) req.headers.push_back(h);
  req.body = json::serialize(call.request);
  Millis started = clock_.now();
  return http_.send(std::move(req), [this, m, started, done = std::move(done)](HttpResponse r) {
    CallResult out = Classify(*m, r, started);
    Count(out.provider, out.code);
    done(std::move(out));
  });
}

void ModelGateway::cancel(std::uint64_t handle) {
  if (handle != 0) http_.cancel(handle);
}

void ModelGateway::Count(const std::string& provider, const std::string& code) {
  std::lock_guard lock(mu_);
  ++counts_[{provider, code}];
}

std::map<std::pair<std::string, std::string>, std::int64_t> ModelGateway::call_counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

}  // namespace sluice
