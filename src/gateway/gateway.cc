#include "gateway/gateway.h"

#include <cstdlib>

#include <boost/json.hpp>

#include "gateway/concurrency_limiter.h"
#include "gateway/provider_call.h"
#include "gateway/rate_limiter.h"
#include "json/json_text.h"

namespace sluice {

namespace json = boost::json;

struct ModelGateway::Provider {
  Provider(const ProviderConfig& c, std::string key)
      : config(c), api_key(std::move(key)), slots(c.max_concurrency), rate({c.rpm, c.tpm}) {}
  const ProviderConfig& config;
  std::string api_key;
  ConcurrencyLimiter slots;
  RateLimiter rate;
  bool used = false;  // some [[model]] calls it (counts toward provider_capacity); fixed
};

// One call's progress along its chain.
//
// Threads. One thread at a time drives a walk: call(), then whichever callback continues it (a
// limit timer, a provider slot coming free, the provider's answer, the deadline of a slot
// wait). Each hand-off goes through the event loop, the limiter or the HTTP client, which
// order it, so `index` needs no lock. cancel() runs on any thread at any moment, and may
// finish the walk itself: so everything it or Finish touches, the result above all, is under
// `mu`, and the driver re-checks over() each time it takes the lock to record something.
struct ModelGateway::Walk {
  Walk(ModelCall c, std::vector<const ModelConfig*> aliases, Callback d)
      : call(std::move(c)), chain(std::move(aliases)), done(std::move(d)) {}

  // Set before the walk is shared (handle: before Step first runs), then only read.
  std::uint64_t handle = 0;
  const ModelCall call;
  const std::vector<const ModelConfig*> chain;
  std::size_t index = 0;  // the driving thread's place in `chain`

  Mutex mu;
  GatewayResult result GUARDED_BY(mu);  // moved out to the caller by Finish
  Callback done GUARDED_BY(mu);
  bool finished GUARDED_BY(mu) = false;
  bool canceled GUARDED_BY(mu) = false;
  // stop_starting() came before this walk had a call at a provider: it starts none.
  bool refused GUARDED_BY(mu) = false;
  std::uint64_t http_handle GUARDED_BY(mu) = 0;       // the provider call in flight
  std::shared_ptr<http::Timer> timer GUARDED_BY(mu);  // a limit wait, or a slot wait's deadline
  // A queued wait for a provider slot, and what to give back if it is abandoned.
  std::uint64_t slot_wait GUARDED_BY(mu) = 0;
  bool slot_granted GUARDED_BY(mu) = false;  // the current Send has its slot
  Provider* slot_provider GUARDED_BY(mu) = nullptr;
  const ModelConfig* slot_model GUARDED_BY(mu) = nullptr;
  std::int64_t slot_tokens GUARDED_BY(mu) = 0;

  // What a walk that left its provider's line gives back: the rate reservation of the call it
  // never sent.
  struct Unsent {
    const ModelConfig* model = nullptr;
    Provider* provider = nullptr;
    std::int64_t tokens = 0;
  };
  // Takes the walk out of its provider's line (a cancel, a refusal). True when it left before
  // its slot came: the caller then gives `unsent` back and finishes the walk. False when the
  // slot came meanwhile: `go` (or the wait's deadline timer, if it left the line first) sees
  // the stop and finishes.
  bool leave_line(Unsent& unsent) REQUIRES(mu) {
    if (!slot_provider->slots.cancel_wait(slot_wait)) return false;
    slot_wait = 0;
    unsent = Unsent{slot_model, slot_provider, slot_tokens};
    return true;
  }

  // The driver must stop: finished (a cancel won), or canceled or refused (the driver then
  // calls Finish, which records why; whoever gets there first does).
  bool over() const REQUIRES(mu) { return finished || canceled || refused; }

  // Records an alias passed over without a call; false, recording nothing, once over().
  // `available_at`: when the alias may take a call again (0: not known).
  bool skip(const std::string& alias, const char* why, Millis available_at) EXCLUDES(mu) {
    MutexLock lock(mu);
    if (over()) return false;
    result.skipped.emplace_back(alias, why);
    if (available_at > 0 && (result.available_at == 0 || available_at < result.available_at)) {
      result.available_at = available_at;
    }
    return true;
  }
};

double GatewayResult::cost_usd() const {
  double total = 0;
  for (const auto& c : calls) total += c.cost_usd;
  return total;
}

std::string GatewayResult::unavailable_reason() const {
  for (const auto& [alias, why] : skipped) {
    if (why != "circuit_open") return "rate_limited";
  }
  return "circuit_open";
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
    auto [it, first] = by_model_id_.emplace(m.id, &m);
    if (!first) it->second = nullptr;
    if (m.provider == "local") continue;
    providers_.at(m.provider)->used = true;
    auto& breaker = breakers_[BreakerKey(m)];
    if (breaker) continue;
    const ProviderConfig& p = *config_.find_provider(m.provider);
    breaker = std::make_unique<CircuitBreaker>(CircuitBreakerOptions{
        p.circuit_failures, p.circuit_failure_ratio, p.circuit_window, p.circuit_cool_down});
  }
}

ModelGateway::~ModelGateway() = default;

bool ModelGateway::has_alias(const std::string& alias) const { return model(alias) != nullptr; }

Status ModelGateway::check_alias(const std::string& alias, const std::string& field) const {
  if (has_alias(alias)) return Status::Ok();
  if (by_model_id_.count(alias)) {
    std::string callers;
    for (const ModelConfig& m : config_.models) {
      if (m.id == alias) callers += (callers.empty() ? "" : ", ") + m.alias;
    }
    return InvalidArgument(
        "model '" + alias + "' is called by several aliases (" + callers + "): name one of them",
        field);
  }
  std::string known;
  for (const ModelConfig& m : config_.models) known += m.alias + ", ";
  known += kLocalAlias;
  return InvalidArgument("model alias '" + alias + "' is not configured (the aliases are " + known + ")", field);
}

const ModelConfig* ModelGateway::model(const std::string& alias) const {
  if (const ModelConfig* m = config_.find_model(alias)) return m;
  if (alias == kLocalAlias) return &local_model_;
  auto it = by_model_id_.find(alias);
  return it == by_model_id_.end() ? nullptr : it->second;
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

double ModelGateway::worst_case_cost(const ModelCall& call) const {
  double total = 0;
  for (const ModelConfig* m : chain(call.alias, call.allow_fallback)) {
    json::object body = call.request;
    PrepareRequestBody(*m, body);
    total += EstimateCallCost(*m, body);
  }
  return total;
}

std::uint64_t ModelGateway::call(ModelCall call, Callback done) {
  std::vector<const ModelConfig*> aliases = chain(call.alias, call.allow_fallback);
  if (!aliases.empty()) call.alias = aliases.front()->alias;  // a provider model id names its alias
  auto walk = std::make_shared<Walk>(std::move(call), std::move(aliases), std::move(done));
  if (walk->chain.empty()) {
    Finish(walk, NoCall(walk->call, CallOutcome::kFatal, "unknown_model",
                        "model alias '" + walk->call.alias + "' is not configured", clock_.now()));
    return 0;
  }
  {
    MutexLock lock(mu_);
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
    bool over = false;
    double spent = 0;
    {
      MutexLock lock(walk->mu);
      // After stop_starting() no alias is tried: not the first, not a fallback.
      if (starting_stopped_ && !walk->over()) walk->refused = true;
      over = walk->over();
      spent = walk->result.cost_usd();
    }
    if (over) return Finish(walk);
    const ModelConfig& m = *walk->chain[walk->index];
    if (walk->call.deadline && now >= *walk->call.deadline) break;
    json::object body = walk->call.request;
    PrepareRequestBody(m, body);
    if (walk->call.budget_usd && spent + EstimateCallCost(m, body) > *walk->call.budget_usd) {
      return Finish(walk, NoCall(walk->call, CallOutcome::kFatal, "cost_limit_exceeded",
                                 "a call to " + m.alias + " could cost more than the $" +
                                     NumberText(*walk->call.budget_usd - spent) +
                                     " left of the job's cost limit",
                                 now));
    }
    if (m.provider == "local") {
      CallResult answer = AnswerLocally(m, body, now, clock_);
      Count(answer);
      return Finish(walk, std::move(answer));
    }
    CircuitBreaker& breaker = *breakers_.at(BreakerKey(m));
    if (breaker.state(now) == CircuitState::kOpen) {
      if (!walk->skip(m.alias, "circuit_open", breaker.open_until())) return Finish(walk);
      ++walk->index;
      continue;
    }
    Provider& provider = *providers_.at(m.provider);
    const std::int64_t tokens = EstimateRequestTokens(body);
    RateLimiter::Grant grant = provider.rate.try_acquire(tokens, now);
    if (!grant.granted) {
      const bool past_deadline = walk->call.deadline && grant.retry_at >= *walk->call.deadline;
      const bool too_long = walk->call.max_limit_wait && grant.retry_at - now > *walk->call.max_limit_wait;
      if (past_deadline || too_long) {
        // The limit would hold the call too long: the next alias may have room.
        if (!walk->skip(m.alias, "rate_limited", grant.retry_at)) return Finish(walk);
        ++walk->index;
        continue;
      }
      // retry_at assumes refill alone; calls finishing under their reservation give tokens
      // back sooner, so look again at least every kLimitRecheck.
      {
        MutexLock lock(walk->mu);
        over = walk->over();
        if (!over) {
          walk->timer = loop_.post_after(std::min(grant.retry_at - now, kLimitRecheck),
                                         [this, walk] { Step(walk); });
        }
      }
      if (over) return Finish(walk);
      return;  // waiting for a limit is not an attempt
    }
    // allow() last: in half-open it hands out the single probe, which must then really go out.
    if (!breaker.allow(now)) {
      provider.rate.reconcile(grant, 0, now);
      if (!walk->skip(m.alias, "circuit_open", 0)) return Finish(walk);  // half-open, its probe out
      ++walk->index;
      continue;
    }
    Send(walk, m, provider, grant.reserved_tokens);
    return;
  }
  // Every alias was skipped or the deadline passed before any call.
  std::optional<CallResult> why;
  {
    MutexLock lock(walk->mu);
    if (walk->result.calls.empty() || walk->result.calls.back().outcome == CallOutcome::kOk) {
      bool deadline = walk->call.deadline && now >= *walk->call.deadline;
      why = NoCall(walk->call, CallOutcome::kRetryable, deadline ? "deadline_exceeded" : kNoModelAvailable,
                   deadline ? "the deadline passed before a model could be called"
                            : "every model of the chain is unavailable (open circuit or exhausted limits)",
                   now);
    }
  }
  Finish(walk, std::move(why));
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
    const Millis started = clock_.now();
    bool over = false;
    {
      MutexLock lock(walk->mu);
      walk->slot_wait = 0;
      walk->slot_granted = true;
      if (walk->timer) walk->timer->cancel();
      // A slot handed over after stop_starting() (a call ending frees one) is given back unused.
      if (starting_stopped_ && !walk->over()) walk->refused = true;
      over = walk->over();
      // Sent under the lock so that a cancel() sees either no call (and finishes the walk)
      // or its handle. send() never runs its callback inline (HttpClient's contract).
      if (!over) {
        walk->http_handle = http_.send(
            BuildProviderRequest(provider.config, provider.api_key, body, timeout),
            [this, walk, &model, &provider, reserved_tokens, started](HttpResponse r) {
              r.elapsed = clock_.now() - started;
              OnAnswer(walk, model, provider, reserved_tokens, std::move(r));
            });
      }
    }
    if (!over) return;
    provider.slots.release();  // not under the walk's lock: it may run another walk's `go` here
    ReturnUnsent(model, provider, reserved_tokens);
    Finish(walk);
  };
  {
    MutexLock lock(walk->mu);
    walk->slot_granted = false;
    walk->slot_provider = &provider;
    walk->slot_model = &model;
    walk->slot_tokens = reserved_tokens;
  }
  if (provider.slots.try_acquire()) return go();
  // No free slot: wait in line (not an attempt). wait() may run `go` at once, so no lock here.
  const std::uint64_t token = provider.slots.wait(go);
  {
    MutexLock lock(walk->mu);
    if (walk->slot_granted) return;
    if (!walk->over()) {
      walk->slot_wait = token;
      if (!walk->call.deadline) return;
      // Not past the deadline: give up the place in line then, and let Step record why.
      walk->timer = loop_.post_after(std::max<Millis>(0, *walk->call.deadline - clock_.now()),
                                     [this, walk, &model, &provider, token, reserved_tokens] {
        if (!provider.slots.cancel_wait(token)) return;  // it got its slot meanwhile, or cancel() won
        ReturnUnsent(model, provider, reserved_tokens);  // a probe that never went out
        {
          MutexLock lock(walk->mu);
          walk->slot_wait = 0;
        }
        Step(walk);
      });
      return;
    }
    // A cancel() came before the token was known here, so it could not leave the line for
    // us. If the slot is already ours, `go` sees the cancel and finishes.
    if (!provider.slots.cancel_wait(token)) return;
  }
  ReturnUnsent(model, provider, reserved_tokens);
  Finish(walk);
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
  bool next = false;
  {
    MutexLock lock(walk->mu);
    walk->http_handle = 0;
    if (walk->finished) return;  // cannot happen while a call is out; never append after Finish
    // A cancel() that came after the answer arrived found no call to abort: it is seen here,
    // and Finish records it.
    next = r.outcome == CallOutcome::kRetryable && !walk->canceled && !walk->refused &&
           walk->index + 1 < walk->chain.size();
    walk->result.calls.push_back(std::move(r));
  }
  if (!next) return Finish(walk);
  ++walk->index;
  Step(walk);
}

void ModelGateway::ReturnUnsent(const ModelConfig& model, Provider& provider, std::int64_t reserved_tokens) {
  const Millis now = clock_.now();
  provider.rate.reconcile({true, 0, reserved_tokens}, 0, now);
  breakers_.at(BreakerKey(model))->record_canceled(now);
}

void ModelGateway::Finish(const std::shared_ptr<Walk>& walk, std::optional<CallResult> last) {
  GatewayResult result;
  Callback done;
  {
    // The result is appended to and moved out under the walk's lock: a cancel() on another
    // thread may finish the walk while its driver is between steps, and the driver then
    // records nothing more (over()). Before, Step and OnAnswer appended unlocked, racing
    // this move.
    MutexLock lock(walk->mu);
    if (walk->finished) return;
    walk->finished = true;
    if (walk->timer) walk->timer->cancel();
    // A reason of the walk's own (no call made: provider empty) gives way to the cancel or
    // the refusal.
    if (last && !((walk->canceled || walk->refused) && last->provider.empty())) {
      walk->result.calls.push_back(std::move(*last));
    }
    std::vector<CallResult>& calls = walk->result.calls;
    if (walk->canceled && (calls.empty() || calls.back().outcome != CallOutcome::kCanceled)) {
      calls.push_back(NoCall(walk->call, CallOutcome::kCanceled, "canceled", "canceled", clock_.now()));
    } else if (walk->refused && calls.empty()) {
      // Refused before any call: the caller hands the job back (GatewayResult::not_started).
      // A walk that did call ends with its last call's result, which the caller judges as usual.
      calls.push_back(NoCall(walk->call, CallOutcome::kRetryable, kNotStarted,
                             "the node stopped starting provider calls before this one",
                             clock_.now()));
    }
    result = std::move(walk->result);
    done = std::move(walk->done);
  }
  {
    MutexLock lock(mu_);
    walks_.erase(walk->handle);
  }
  done(std::move(result));
}

void ModelGateway::cancel(std::uint64_t handle) {
  std::shared_ptr<Walk> walk;
  {
    MutexLock lock(mu_);
    auto it = walks_.find(handle);
    if (it == walks_.end()) return;
    walk = it->second;
  }
  std::uint64_t http_handle = 0;
  bool finish_now = false;
  Walk::Unsent unsent;
  {
    MutexLock lock(walk->mu);
    if (walk->over()) return;
    walk->canceled = true;
    http_handle = walk->http_handle;
    if (walk->timer) walk->timer->cancel();
    if (walk->slot_wait) {
      finish_now = walk->leave_line(unsent);
    } else if (!http_handle) {
      // No call out and no place in line: waiting on a limit timer (canceled above, so
      // nothing else would finish it), or the driver is between steps (it will see the cancel
      // too; Finish runs once).
      finish_now = true;
    }
  }
  if (http_handle) {
    // OnAnswer finishes the walk, with the kCanceled result, or the answer that beat the cancel.
    http_.cancel(http_handle);
    return;
  }
  if (unsent.model) ReturnUnsent(*unsent.model, *unsent.provider, unsent.tokens);
  if (finish_now) Finish(walk);
}

void ModelGateway::stop_starting() {
  // Set before the walks are listed: a walk registered after the listing sees it in Step.
  starting_stopped_ = true;
  std::vector<std::shared_ptr<Walk>> walks;
  {
    MutexLock lock(mu_);
    for (const auto& [handle, walk] : walks_) walks.push_back(walk);
  }
  for (const auto& walk : walks) Refuse(walk);
}

void ModelGateway::Refuse(const std::shared_ptr<Walk>& walk) {
  bool finish_now = false;
  Walk::Unsent unsent;
  {
    MutexLock lock(walk->mu);
    // A call at a provider runs to its end; OnAnswer then sees the stop in Step.
    if (walk->over() || walk->http_handle) return;
    walk->refused = true;
    if (walk->timer) walk->timer->cancel();
    if (walk->slot_wait) {
      finish_now = walk->leave_line(unsent);
    } else {
      // On a limit timer (canceled above) or between steps (the driver sees over()).
      finish_now = true;
    }
  }
  if (unsent.model) ReturnUnsent(*unsent.model, *unsent.provider, unsent.tokens);
  if (finish_now) Finish(walk);
}

int ModelGateway::provider_capacity() const {
  int total = 0;
  bool any = false;
  for (const auto& [name, p] : providers_) {
    if (!p->used) continue;
    any = true;
    total += p->slots.limit();
  }
  return any ? total : -1;
}

void ModelGateway::Count(const CallResult& r) {
  MutexLock lock(mu_);
  ++counts_[{r.provider, r.code}];
  AliasStats& s = stats_[r.alias];
  s.alias = r.alias;
  s.provider = r.provider;
  ++s.calls;
  if (r.outcome != CallOutcome::kOk) ++s.failures;
  s.cost_usd += r.cost_usd;
}

std::map<std::pair<std::string, std::string>, std::int64_t> ModelGateway::call_counts() const {
  MutexLock lock(mu_);
  return counts_;
}

std::vector<AliasStats> ModelGateway::alias_stats() const {
  std::vector<AliasStats> out;
  Millis now = clock_.now();
  MutexLock lock(mu_);
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
