#include "gateway/gateway.h"

#include <cstdlib>

#include <boost/json.hpp>

#include "gateway/concurrency_limiter.h"
#include "gateway/provider_call.h"
#include "gateway/rate_limiter.h"

namespace sluice {

namespace json = boost::json;

struct ModelGateway::Provider {
  Provider(const ProviderConfig& c, std::string key)
      : config(c), api_key(std::move(key)), slots(c.max_concurrency), rate({c.rpm, c.tpm}) {}
  const ProviderConfig& config;
  std::string api_key;
  ConcurrencyLimiter slots;
  RateLimiter rate;
};

struct ModelGateway::Walk {
  std::uint64_t handle = 0;
  ModelCall call;
  std::vector<const ModelConfig*> chain;
  std::size_t index = 0;
  GatewayResult result;
  Callback done;
  std::mutex mu;
  bool finished = false;                 // GUARDED_BY(mu)
  bool canceled = false;                 // GUARDED_BY(mu)
  std::uint64_t http_handle = 0;         // GUARDED_BY(mu): the provider call in flight
  std::shared_ptr<http::Timer> timer;    // GUARDED_BY(mu): a limit wait in progress
  std::uint64_t slot_wait = 0;           // GUARDED_BY(mu): a queued wait for a provider slot
  bool slot_granted = false;             // GUARDED_BY(mu): the current Send has its slot
  Provider* slot_provider = nullptr;     // GUARDED_BY(mu)
};

double GatewayResult::cost_usd() const {
  double total = 0;
  for (const auto& c : calls) total += c.cost_usd;
  return total;
}

namespace {

constexpr Millis kLimitRecheck = 250;

std::string BreakerKey(const ModelConfig& m) { return m.provider + "/" + m.id; }

CallResult NoCall(const ModelCall& call, CallOutcome outcome, std::string code, std::string message,
                  Millis now) {
  CallResult r;
  r.outcome = outcome;
  r.code = std::move(code);
  r.message = std::move(message);
  r.alias = call.alias;
  r.started_at = now;
  return r;
}

}  // namespace

ModelGateway::ModelGateway(const Config& config, HttpClient& http, const Clock& clock,
                           http::EventLoop& loop)
    : config_(config), http_(http), clock_(clock), loop_(loop) {
  local_model_.alias = kLocalAlias;
  local_model_.provider = "local";
  local_model_.id = "sluice-local";
  for (const auto& p : config_.providers) {
    std::string key;
    if (!p.api_key_env.empty()) {
      if (const char* v = std::getenv(p.api_key_env.c_str())) key = v;
    }
    providers_[p.name] = std::make_unique<Provider>(p, std::move(key));
  }
  for (const auto& m : config_.models) {
    if (m.provider == "local") continue;
    auto& breaker = breakers_[BreakerKey(m)];
    if (breaker) continue;
    const ProviderConfig& p = *config_.find_provider(m.provider);
    breaker = std::make_unique<CircuitBreaker>(CircuitBreakerOptions{
        p.circuit_failures, p.circuit_failure_ratio, p.circuit_window, p.circuit_cool_down});
  }
}

ModelGateway::~ModelGateway() = default;

bool ModelGateway::has_alias(const std::string& alias) const { return model(alias) != nullptr; }

const ModelConfig* ModelGateway::model(const std::string& alias) const {
  if (const ModelConfig* m = config_.find_model(alias)) return m;
  return alias == kLocalAlias ? &local_model_ : nullptr;
}

std::vector<const ModelConfig*> ModelGateway::chain(const std::string& alias, bool allow_fallback) const {
  std::vector<const ModelConfig*> out;
  const ModelConfig* first = model(alias);
  if (!first) return out;
  out.push_back(first);
  if (!allow_fallback) return out;
  for (const auto& f : first->fallback) {
    const ModelConfig* m = model(f);
    bool seen = false;
    for (auto* x : out) seen = seen || x == m;
    if (m && !seen) out.push_back(m);
  }
  return out;
}

std::uint64_t ModelGateway::call(ModelCall call, Callback done) {
  auto walk = std::make_shared<Walk>();
  walk->chain = chain(call.alias, call.allow_fallback);
  walk->call = std::move(call);
  walk->done = std::move(done);
  if (walk->chain.empty()) {
    walk->result.calls.push_back(NoCall(walk->call, CallOutcome::kFatal, "unknown_model",
                                        "model alias '" + walk->call.alias + "' is not configured",
                                        clock_.now()));
    Finish(walk);
    return 0;
  }
  {
    std::lock_guard lock(mu_);
    walk->handle = ++next_handle_;
    walks_[walk->handle] = walk;
  }
  std::uint64_t handle = walk->handle;
  Step(walk);
  return handle;
}

void ModelGateway::Step(const std::shared_ptr<Walk>& walk) {
  const Millis now = clock_.now();
  while (walk->index < walk->chain.size()) {
    {
      std::lock_guard lock(walk->mu);
      if (walk->canceled || walk->finished) return;
    }
    const ModelConfig& m = *walk->chain[walk->index];
    if (walk->call.deadline && now >= *walk->call.deadline) break;
    json::object body = walk->call.request;
    PrepareRequestBody(m, body);
    if (walk->call.budget_usd) {
      double spent = walk->result.cost_usd();
      if (spent + EstimateCallCost(m, body) > *walk->call.budget_usd) {
        walk->result.calls.push_back(NoCall(walk->call, CallOutcome::kFatal, "cost_limit_exceeded",
                                            "a call to " + m.alias + " could cost more than the $" +
                                                std::to_string(*walk->call.budget_usd - spent) + " left of the job's cost limit",
                                            now));
        return Finish(walk);
      }
    }
    if (m.provider == "local") {
      walk->result.calls.push_back(AnswerLocally(m, body, now, clock_));
      Count(walk->result.calls.back());
      return Finish(walk);
    }
    CircuitBreaker& breaker = *breakers_.at(BreakerKey(m));
    if (breaker.state(now) == CircuitState::kOpen) {
      walk->result.skipped.emplace_back(m.alias, "circuit_open");
      ++walk->index;
      continue;
    }
    Provider& provider = *providers_.at(m.provider);
    const std::int64_t tokens = EstimateRequestTokens(body);
    RateLimiter::Grant grant = provider.rate.try_acquire(tokens, now);
    if (!grant.granted) {
      if (walk->call.deadline && grant.retry_at >= *walk->call.deadline) {
        // The limit would hold the call past the deadline: the next alias may have room.
        walk->result.skipped.emplace_back(m.alias, "rate_limited");
        ++walk->index;
        continue;
      }
      // retry_at assumes refill alone; calls finishing under their reservation give tokens
      // back sooner, so look again at least every kLimitRecheck.
      std::lock_guard lock(walk->mu);
      walk->timer = loop_.post_after(std::min(grant.retry_at - now, kLimitRecheck), [this, walk] { Step(walk); });
      return;  // waiting for a limit is not an attempt
    }
    // allow() last: in half-open it hands out the single probe, which must then really go out.
    if (!breaker.allow(now)) {
      provider.rate.reconcile(grant, 0, now);
      walk->result.skipped.emplace_back(m.alias, "circuit_open");
      ++walk->index;
      continue;
    }
    Send(walk, m, provider, grant.reserved_tokens);
    return;
  }
  // Every alias was skipped or the deadline passed before any call.
  if (walk->result.calls.empty() || walk->result.calls.back().outcome == CallOutcome::kOk) {
    bool deadline = walk->call.deadline && now >= *walk->call.deadline;
    std::string why = deadline ? "deadline_exceeded" : "no_model_available";
    std::string message = deadline ? "the deadline passed before a model could be called"
                                   : "every model of the chain is unavailable (open circuit or exhausted limits)";
    walk->result.calls.push_back(NoCall(walk->call, CallOutcome::kRetryable, why, message, now));
  }
  Finish(walk);
}

void ModelGateway::Send(const std::shared_ptr<Walk>& walk, const ModelConfig& model,
                        Provider& provider, std::int64_t reserved_tokens) {
  // Runs once a provider slot is ours: now, or later on the thread that freed one.
  auto go = [this, walk, &model, &provider, reserved_tokens] {
    json::object body = walk->call.request;
    PrepareRequestBody(model, body);
    Millis timeout = walk->call.timeout;
    if (walk->call.deadline) {
      Millis left = std::max<Millis>(1, *walk->call.deadline - clock_.now());
      timeout = timeout > 0 ? std::min(timeout, left) : left;
    }
    Millis started = clock_.now();
    std::unique_lock lock(walk->mu);
    walk->slot_wait = 0;
    walk->slot_granted = true;
    if (walk->timer) walk->timer->cancel();
    if (walk->canceled) {
      lock.unlock();  // release() may run another walk's `go` on this thread
      provider.slots.release();
      provider.rate.reconcile({true, 0, reserved_tokens}, 0, clock_.now());
      breakers_.at(BreakerKey(model))->record_canceled(clock_.now());
      return;
    }
    walk->http_handle = http_.send(BuildProviderRequest(provider.config, provider.api_key, body, timeout),
                                   [this, walk, &model, &provider, reserved_tokens, started](HttpResponse r) {
                                     r.elapsed = clock_.now() - started;
                                     OnAnswer(walk, model, provider, reserved_tokens, std::move(r));
                                   });
  };
  {
    std::lock_guard lock(walk->mu);
    walk->slot_granted = false;
    walk->slot_provider = &provider;
  }
  if (provider.slots.try_acquire()) return go();
  // No free slot: wait in line (not an attempt). wait() may run `go` at once, so no lock here.
  const std::uint64_t token = provider.slots.wait(go);
  std::lock_guard lock(walk->mu);
  if (walk->slot_granted) return;
  walk->slot_wait = token;
  if (!walk->call.deadline) return;
  // Not past the deadline: give up the place in line then, and let Step record why.
  walk->timer = loop_.post_after(std::max<Millis>(0, *walk->call.deadline - clock_.now()),
                                 [this, walk, &model, &provider, token, reserved_tokens] {
    if (!provider.slots.cancel_wait(token)) return;  // it got its slot meanwhile
    provider.rate.reconcile({true, 0, reserved_tokens}, 0, clock_.now());
    breakers_.at(BreakerKey(model))->record_canceled(clock_.now());  // a probe that never went out
    {
      std::lock_guard lock(walk->mu);
      walk->slot_wait = 0;
    }
    Step(walk);
  });
}

void ModelGateway::OnAnswer(const std::shared_ptr<Walk>& walk, const ModelConfig& model,
                            Provider& provider, std::int64_t reserved_tokens, HttpResponse response) {
  const Millis now = clock_.now();
  provider.slots.release();
  CallResult r = ClassifyResponse(model, response, now - response.elapsed);
  provider.rate.reconcile({true, 0, reserved_tokens}, r.prompt_tokens + r.completion_tokens, now);
  CircuitBreaker& breaker = *breakers_.at(BreakerKey(model));
  if (r.outcome == CallOutcome::kRetryable) {
    breaker.record_failure(now);
  } else if (r.outcome == CallOutcome::kCanceled) {
    breaker.record_canceled(now);
  } else {
    breaker.record_success(now);  // a 4xx is about the request, not the provider's health
  }
  if (r.code == "rate_limited") provider.slots.on_rate_limited(now);
  else if (r.outcome == CallOutcome::kOk) provider.slots.on_success(now);
  Count(r);
  bool retryable = r.outcome == CallOutcome::kRetryable;
  walk->result.calls.push_back(std::move(r));
  {
    std::lock_guard lock(walk->mu);
    walk->http_handle = 0;
  }
  if (retryable && walk->index + 1 < walk->chain.size()) {
    ++walk->index;
    return Step(walk);
  }
  Finish(walk);
}

void ModelGateway::Finish(const std::shared_ptr<Walk>& walk, std::optional<CallResult> last) {
  {
    std::lock_guard lock(walk->mu);
    if (walk->finished) return;
    walk->finished = true;
    if (walk->timer) walk->timer->cancel();
    // Added under the lock: a cancel racing a finishing walk appends only if it wins.
    if (last) walk->result.calls.push_back(std::move(*last));
  }
  {
    std::lock_guard lock(mu_);
    walks_.erase(walk->handle);
  }
  Callback done = std::move(walk->done);
  done(std::move(walk->result));
}

void ModelGateway::cancel(std::uint64_t handle) {
  std::shared_ptr<Walk> walk;
  {
    std::lock_guard lock(mu_);
    auto it = walks_.find(handle);
    if (it == walks_.end()) return;
    walk = it->second;
  }
  std::uint64_t http_handle = 0;
  bool finish_now = false;
  {
    std::lock_guard lock(walk->mu);
    if (walk->finished || walk->canceled) return;
    walk->canceled = true;
    http_handle = walk->http_handle;
    if (walk->timer) walk->timer->cancel();
    if (walk->slot_wait && walk->slot_provider && walk->slot_provider->slots.cancel_wait(walk->slot_wait)) {
      finish_now = true;
    }
    // Waiting on a limit timer (no call, no slot in line): nothing else will finish it.
    if (!http_handle && !walk->slot_wait) finish_now = true;
  }
  if (http_handle) {
    http_.cancel(http_handle);  // OnAnswer finishes the walk with a kCanceled result
    return;
  }
  if (finish_now) {
    Finish(walk, NoCall(walk->call, CallOutcome::kCanceled, "canceled", "canceled", clock_.now()));
  }
}

void ModelGateway::Count(const CallResult& r) {
  std::lock_guard lock(mu_);
  ++counts_[{r.provider, r.code}];
  AliasStats& s = stats_[r.alias];
  s.alias = r.alias;
  s.provider = r.provider;
  ++s.calls;
  if (r.outcome != CallOutcome::kOk) ++s.failures;
  s.cost_usd += r.cost_usd;
}

std::map<std::pair<std::string, std::string>, std::int64_t> ModelGateway::call_counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

std::vector<AliasStats> ModelGateway::alias_stats() const {
  std::vector<AliasStats> out;
  Millis now = clock_.now();
  std::lock_guard lock(mu_);
  for (const auto& m : config_.models) {
    AliasStats s = stats_.count(m.alias) ? stats_.at(m.alias) : AliasStats{m.alias, m.provider};
    if (auto it = breakers_.find(BreakerKey(m)); it != breakers_.end()) {
      s.circuit = CircuitStateName(it->second->state(now));
    }
    out.push_back(std::move(s));
  }
  if (!config_.find_model(kLocalAlias) && stats_.count(kLocalAlias)) out.push_back(stats_.at(kLocalAlias));
  return out;
}

std::map<std::string, int> ModelGateway::peak_in_flight() const {
  std::map<std::string, int> out;
  for (const auto& [name, p] : providers_) out[name] = p->slots.peak_in_flight();
  return out;
}

}  // namespace sluice
