// The model gateway: the one place that turns "call alias X with this chat request" into a
// provider call, and a provider's answer (or silence) into a classified CallResult with usage
// and cost. Workers (and later the synchronous /v1/chat/completions path) go through it.
//
// Error classes (what the caller's retry policy keys on):
//   kRetryable  timeout, connect error, reset, 408, 429 (retry_after_ms set), 5xx, a 200 without
//               a usable message (garbage), a body past the provider's max_response
//               (response_too_large)
//   kFatal      400/401/403/404/422 and other 4xx: the request itself is wrong; retrying wastes money
//   kCanceled   the caller canceled (job canceled, deadline hit, shutdown)
// A walk refused by stop_starting() before any provider call ends with one kRetryable
// CallResult coded kNotStarted (GatewayResult::not_started()).
#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/mutex.h"
#include "core/status.h"
#include "core/thread_annotations.h"
#include "core/time.h"
#include "gateway/circuit_breaker.h"
#include "gateway/http_client.h"
#include "http/event_loop.h"

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
  // Parts of the two counts above, from usage.prompt_tokens_details.cached_tokens and
  // usage.completion_tokens_details.reasoning_tokens (0 when the provider does not say).
  int cached_tokens = 0;
  int reasoning_tokens = 0;
  double cost_usd = 0;       // a whole number of nano-USD (CallCost)
  std::string model_id;  // the exact model the provider says it ran
  std::string alias;
  std::string provider;
  Millis started_at = 0;
  Millis ms = 0;
  double provider_ms = 0;      // the HTTP exchange alone, µs-precise (for overhead accounting)
  Millis retry_after_ms = -1;  // from Retry-After, -1 when absent

  // The call reached a provider (the built-in `local` one too), so it may have cost money and
  // is a model call of the cost ledger; false for a walk's synthetic, uncharged result.
  bool reached_provider() const { return !provider.empty(); }
  // Tokens were used but nothing was charged: the alias has no price for them, so cost reports
  // under-count. The built-in `local` provider is free by design, never unpriced.
  bool unpriced() const {
    return cost_usd == 0 && prompt_tokens + completion_tokens > 0 && provider != "local";
  }
};

// The code of a walk's synthetic result when the gateway stopped starting calls (a node
// draining) before this walk made any provider call.
inline constexpr const char* kNotStarted = "not_started";
// The code of a walk's synthetic result when every alias of its chain was skipped before any
// call (open circuits, exhausted rate limits): GatewayResult::unavailable().
inline constexpr const char* kNoModelAvailable = "no_model_available";

struct ModelCall {
  std::string alias;
  boost::json::object request;   // OpenAI chat-completions body; "model" is set per alias
  Millis timeout = 0;            // caps each provider call (0 = the provider's own timeout)
  std::optional<Millis> deadline;  // absolute: no wait or call past it
  bool allow_fallback = true;    // false: only `alias` itself is tried
  std::optional<double> budget_usd;  // what may still be spent; a call that could exceed it is not made
  // A rate limit that would hold the call longer than this skips the alias, as one that would
  // hold it past the deadline does: queued work is then handed back (blocked) instead of
  // waiting here while it shows running. Unset: wait up to the deadline (the synchronous path).
  std::optional<Millis> max_limit_wait;
};

// What one gateway call did: every provider call it made, in order (a fallback chain walk
// makes several), and the aliases it skipped without calling (open circuit, exhausted limits).
struct GatewayResult {
  std::vector<CallResult> calls;
  std::vector<std::pair<std::string, std::string>> skipped;  // (alias, "circuit_open" | "rate_limited")
  // The answer to use, or the last failure. A walk that made no call at all (every alias
  // skipped, or over budget) holds one synthetic, uncharged CallResult describing why.
  const CallResult& final() const { return calls.back(); }
  double cost_usd() const;
  // No provider call was made because the gateway stopped starting calls (stop_starting): the
  // caller may hand the job back as if it never ran.
  bool not_started() const { return calls.size() == 1 && calls[0].code == kNotStarted; }
  // No provider call was made because every alias was skipped: the caller may hold the job
  // back (queued, blocked) instead of counting an attempt against a provider it never reached.
  bool unavailable() const { return calls.size() == 1 && calls[0].code == kNoModelAvailable; }
  // Why, as a job's blocked_reason: "circuit_open" when every skip was an open circuit, else
  // "rate_limited".
  std::string unavailable_reason() const;
  // When unavailable(): the earliest time a skipped alias may take a call again (the end of its
  // circuit's cool-down, its rate limit's refill); 0 when none said.
  Millis available_at = 0;
};

// The alias every install has: the built-in no-network provider.
inline constexpr const char* kLocalAlias = "local";

// Per alias (provider+model) state for /v1/stats and /metrics.
struct AliasStats {
  std::string alias;
  std::string provider;
  std::int64_t calls = 0;
  std::int64_t failures = 0;
  double cost_usd = 0;
  std::string circuit;  // "closed" | "open" | "half_open"; "" for local
};

// The gateway owns, per provider, a concurrency limiter (AIMD on 429) and an rpm/tpm rate
// limiter, and per provider+model a circuit breaker. A call walks its alias's chain
// [alias, fallback...]: an alias whose circuit is open, or whose limits cannot admit the call
// before the deadline, is skipped at once (not an attempt); waiting for a limit or a slot is
// not an attempt either; a retryable failure moves on to the next alias in the same walk. So
// one walk makes at most one call per alias: retries of the whole walk belong to the caller
// (the job's attempts), never to the gateway — no retry storms underneath.
class ModelGateway {
 public:
  using Callback = std::function<void(GatewayResult)>;

  // `loop` provides timers for limit waits; it must outlive the gateway.
  ModelGateway(const Config& config, HttpClient& http, const Clock& clock, http::EventLoop& loop);
  ~ModelGateway();

  // True when `alias` can be called: a configured [[model]], "local", or the provider model id
  // of exactly one [[model]] (OpenAI clients name "gpt-4o-mini"; it answers to the alias that
  // calls it, so their code runs unchanged). An id several aliases call names none of them.
  bool has_alias(const std::string& alias) const;
  // OK when has_alias(alias); else InvalidArgument on `field` naming the aliases there are.
  Status check_alias(const std::string& alias, const std::string& field) const;
  const ModelConfig* model(const std::string& alias) const;
  // [alias, its fallbacks...] as configured (just [alias] without fallback).
  std::vector<const ModelConfig*> chain(const std::string& alias, bool allow_fallback) const;
  // The most `call` can cost: every model of its chain called once at its worst case (the
  // prompt plus the answer's token limit at the model's prices). What a tenant's budget
  // reserves before the call; with call.budget_usd set to it, the walk never spends more.
  double worst_case_cost(const ModelCall& call) const;

  // Starts a call; `done` runs once, on some gateway thread (inline for `local`).
  // Returns a handle for cancel().
  std::uint64_t call(ModelCall call, Callback done) EXCLUDES(mu_);
  // Aborts a call: unless it has finished already, `done` runs with a final kCanceled result
  // (calls answered before the cancel stay listed, their cost counted). Any thread. Unknown and
  // finished handles are ignored.
  void cancel(std::uint64_t handle) EXCLUDES(mu_);

  // A draining node's end of starting: from now on no provider call starts. Every walk that has
  // no call at a provider (waiting for a slot, on a limit timer, between aliases) finishes at
  // once — with kNotStarted when it made no call yet, or with its last call's result — and
  // later call()s finish inline the same way. Calls already at a provider run to their end
  // (their walks do not go on to a fallback). Any thread; idempotent; cannot be undone.
  void stop_starting() EXCLUDES(mu_);

  // How many provider calls this gateway can run at once: the sum over the providers that some
  // [[model]] uses of their current concurrency limit (AIMD lowers it after 429s). -1 when no
  // model uses a provider (only "local", which has no limit). What the scheduler claims up to,
  // so that claimed jobs can start instead of waiting here while they show `running`.
  int provider_capacity() const;

  // Calls finished so far, by provider and outcome code, for /metrics.
  std::map<std::pair<std::string, std::string>, std::int64_t> call_counts() const EXCLUDES(mu_);
  std::vector<AliasStats> alias_stats() const EXCLUDES(mu_);
  // Peak concurrent calls per provider since start.
  std::map<std::string, int> peak_in_flight() const;

  struct Walk;      // one call's progress along its chain (its lock rules: gateway.cc)
  struct Provider;  // a provider's limiters

 private:
  // The walk's lock is taken inside these, never held across them; mu_ and a walk's lock are
  // never held together.
  void Step(const std::shared_ptr<Walk>& walk) EXCLUDES(mu_);
  void Send(const std::shared_ptr<Walk>& walk, const ModelConfig& model, Provider& provider,
            std::int64_t reserved_tokens) EXCLUDES(mu_);
  void OnAnswer(const std::shared_ptr<Walk>& walk, const ModelConfig& model, Provider& provider,
                std::int64_t reserved_tokens, HttpResponse response) EXCLUDES(mu_);
  // Gives back what a call that never went out held: its rate-limit reservation, and the
  // circuit's probe if it was the half-open one.
  void ReturnUnsent(const ModelConfig& model, Provider& provider, std::int64_t reserved_tokens);
  // Hands the result to the caller once; `last`, if given, is appended first. Later calls do
  // nothing. A canceled walk always ends with a kCanceled result.
  void Finish(const std::shared_ptr<Walk>& walk, std::optional<CallResult> last = std::nullopt)
      EXCLUDES(mu_);
  void Count(const CallResult& result) EXCLUDES(mu_);
  // stop_starting() for one walk: finishes it unless it is over or has a call at a provider.
  void Refuse(const std::shared_ptr<Walk>& walk) EXCLUDES(mu_);

  const Config& config_;
  HttpClient& http_;
  const Clock& clock_;
  http::EventLoop& loop_;
  ModelConfig local_model_;
  // Provider model id → the one [[model]] calling it; nullptr when several do.
  std::unordered_map<std::string, const ModelConfig*> by_model_id_;
  std::map<std::string, std::unique_ptr<Provider>> providers_;  // fixed after construction
  std::map<std::string, std::unique_ptr<CircuitBreaker>> breakers_;  // by "provider/model id"; fixed
  // stop_starting() was called; never cleared.
  std::atomic<bool> starting_stopped_{false};

  mutable Mutex mu_;
  std::map<std::pair<std::string, std::string>, std::int64_t> counts_ GUARDED_BY(mu_);
  std::map<std::string, AliasStats> stats_ GUARDED_BY(mu_);
  std::map<std::uint64_t, std::shared_ptr<Walk>> walks_ GUARDED_BY(mu_);  // unfinished, by handle
  std::uint64_t next_handle_ GUARDED_BY(mu_) = 0;
};

// Parses a Retry-After value in seconds ("3", "1.5"); -1 when absent or unparseable.
Millis ParseRetryAfter(const std::string& value);

}  // namespace sluice
