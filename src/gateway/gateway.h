// The model gateway: the one place that turns "call alias X with this chat request" into a
// provider call, and a provider's answer (or silence) into a classified CallResult with usage
// and cost. Workers (and later the synchronous /v1/chat/completions path) go through it.
//
// Error classes (what the caller's retry policy keys on):
//   kRetryable  timeout, connect error, reset, 408, 429 (retry_after_ms set), 5xx, a 200 without
//               a usable message (garbage)
//   kFatal      400/401/403/404/422 and other 4xx: the request itself is wrong; retrying wastes money
//   kCanceled   the caller canceled (job canceled, deadline hit, shutdown)
// Fallback chains, circuit breakers and rate limits hook in here (see the gateway issue).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "config/config.h"
#include "core/status.h"
#include "core/time.h"
#include "gateway/http_client.h"

namespace sluice {

enum class CallOutcome { kOk, kRetryable, kFatal, kCanceled };

struct CallResult {
  CallOutcome outcome = CallOutcome::kOk;
  std::string code;      // "ok", "timeout", "rate_limited", "provider_error", "garbage", ...
  std::string message;
  int http_status = 0;
  std::string text;      // the assistant message content
  std::string finish_reason;
  int prompt_tokens = 0;
  int completion_tokens = 0;
  double cost_usd = 0;
  std::string model_id;  // the exact model the provider says it ran
  std::string alias;
  std::string provider;
  Millis started_at = 0;
  Millis ms = 0;
  Millis retry_after_ms = -1;  // from Retry-After, -1 when absent
};

struct ModelCall {
  std::string alias;
  boost::json::object request;  // OpenAI chat-completions body; "model" is set by the gateway
  Millis timeout = 0;           // caps the provider's timeout (a job's deadline); 0 = none
};

// The alias every install has: the built-in no-network provider.
inline constexpr const char* kLocalAlias = "local";

class ModelGateway {
 public:
  using Callback = std::function<void(CallResult)>;

  ModelGateway(const Config& config, HttpClient& http, const Clock& clock);

  // True when `alias` can be called: a configured [[model]] or "local".
  bool has_alias(const std::string& alias) const;
  const ModelConfig* model(const std::string& alias) const;

  // Starts a call; `done` runs once, on the HTTP client's thread (or inline for `local`).
  // Returns a handle for cancel().
  std::uint64_t call(ModelCall call, Callback done);
  void cancel(std::uint64_t handle);

  // Calls finished so far, by provider and outcome code, for /metrics.
  std::map<std::pair<std::string, std::string>, std::int64_t> call_counts() const;

 private:
  void Count(const std::string& provider, const std::string& code);
  CallResult Classify(const ModelConfig& model, const HttpResponse& response, Millis started) const;
  void CallLocal(const ModelConfig& model, ModelCall call, Callback done);

  const Config& config_;
  HttpClient& http_;
  const Clock& clock_;
  ModelConfig local_model_;
  std::map<std::string, std::string> api_keys_;  // provider → key, read once at start

  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::int64_t> counts_;  // GUARDED_BY(mu_)
};

// Parses a Retry-After value in seconds ("3", "1.5"); -1 when absent or unparseable.
Millis ParseRetryAfter(const std::string& value);

}  // namespace sluice
