// The fallback walk of ModelGateway against the project's own mock-llm servers, started
// in-process on loopback port 0 (one per provider, so each provider's requests are counted
// apart), through the real Asio HTTP client. Faults come from each provider's X-Mock-Fault
// header. Time is a FakeClock that moves only when a test moves it, so circuits stay open and
// deadlines hold exactly; nothing here sleeps for a fixed time or asserts a duration.
#include "gateway/gateway.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "http/event_loop.h"
#include "mockllm/mock_llm.h"
#include "mockllm/test_http_client.h"

namespace sluice {
namespace {

namespace json = boost::json;
using mockllm::testing::WaitFor;

constexpr auto kWaitLimit = std::chrono::seconds(30);

// One walk's outcome, awaitable from the test thread; counts how often `done` ran.
class Outcome {
 public:
  ModelGateway::Callback callback() {
    return [this](GatewayResult r) {
      std::lock_guard lock(mu_);
      ++runs_;
      result_ = std::move(r);
      cv_.notify_all();
    };
  }
  // The result once `done` has run; nullopt after kWaitLimit.
  std::optional<GatewayResult> wait() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kWaitLimit, [&] { return runs_ > 0; })) return std::nullopt;
    return result_;
  }
  int runs() {
    std::lock_guard lock(mu_);
    return runs_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int runs_ = 0;
  std::optional<GatewayResult> result_;
};

// The real client, each answer reaching the gateway `extra` ms later on the fake clock: a
// slow provider, without waiting for one.
class SlowAnswers final : public HttpClient {
 public:
  SlowAnswers(HttpClient& inner, FakeClock& clock, Millis extra) : inner_(inner), clock_(clock), extra_(extra) {}
  std::uint64_t send(HttpRequest request, Callback done) override {
    return inner_.send(std::move(request), [this, done = std::move(done)](HttpResponse r) {
      clock_.advance(extra_);
      done(std::move(r));
    });
  }
  void cancel(std::uint64_t handle) override { inner_.cancel(handle); }

 private:
  HttpClient& inner_;
  FakeClock& clock_;
  const Millis extra_;
};

class GatewayWalkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_.start();
    http_ = NewAsioHttpClient(loop_);
  }
  void TearDown() override {
    gateway_.reset();
    slow_.reset();
    http_.reset();
    mocks_.clear();
    loop_.stop();
  }

  // A provider served by a mock-llm of its own that answers every call with `fault` ("ok",
  // "500", "429", "400", "timeout", ...).
  ProviderConfig& AddProvider(const std::string& name, const std::string& fault) {
    mockllm::MockOptions options;
    options.listen = "127.0.0.1:0";
    auto started = mockllm::MockLlm::Start(loop_, options);
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    mocks_[name] = std::move(started).value();
    ProviderConfig p;
    p.name = name;
    p.base_url = "http://127.0.0.1:" + std::to_string(mocks_[name]->port()) + "/v1";
    p.timeout = 60'000;
    if (fault != "ok") p.headers.emplace_back("X-Mock-Fault", fault);
    config_.providers.push_back(p);
    return config_.providers.back();
  }

  void AddModel(const std::string& alias, const std::string& provider, std::vector<std::string> fallback = {},
                double usd_per_mtok = 0) {
    ModelConfig m;
    m.alias = alias;
    m.provider = provider;
    m.id = "model-" + alias;
    m.input_usd_per_mtok = usd_per_mtok;
    m.output_usd_per_mtok = usd_per_mtok;
    m.fallback = std::move(fallback);
    config_.models.push_back(m);
  }

  // Built once the config is complete (the gateway keeps references into it).
  ModelGateway& gateway() {
    if (!gateway_) gateway_ = std::make_unique<ModelGateway>(config_, client(), clock_, loop_);
    return *gateway_;
  }
  // Answers take `extra` ms of fake time; call before gateway().
  void SlowProviders(Millis extra) { slow_ = std::make_unique<SlowAnswers>(*http_, clock_, extra); }
  HttpClient& client() { return slow_ ? static_cast<HttpClient&>(*slow_) : *http_; }

  static ModelCall Call(const std::string& alias) {
    ModelCall c;
    c.alias = alias;
    c.request = json::object{
        {"messages", json::array{json::object{{"role", "user"}, {"content", "Card blocked after a double charge."}}}}};
    return c;
  }

  GatewayResult Run(ModelCall call) {
    Outcome outcome;
    gateway().call(std::move(call), outcome.callback());
    std::optional<GatewayResult> r = outcome.wait();
    EXPECT_TRUE(r.has_value()) << "the walk never finished";
    EXPECT_EQ(outcome.runs(), 1);
    return r.value_or(GatewayResult{});
  }

  // Chat requests the provider's mock has received.
  std::uint64_t Requests(const std::string& provider) { return mocks_.at(provider)->stats().requests; }
  std::int64_t InFlight(const std::string& provider) { return mocks_.at(provider)->stats().in_flight; }

  http::EventLoop loop_{2};
  FakeClock clock_;
  Config config_;
  std::map<std::string, std::unique_ptr<mockllm::MockLlm>> mocks_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<SlowAnswers> slow_;
  std::unique_ptr<ModelGateway> gateway_;
};

void ExpectCall(const CallResult& c, const std::string& alias, const std::string& provider, CallOutcome outcome,
                const std::string& code) {
  EXPECT_EQ(c.alias, alias);
  EXPECT_EQ(c.provider, provider);
  EXPECT_EQ(c.model_id, "model-" + alias);
  EXPECT_EQ(c.outcome, outcome) << c.code << ": " << c.message;
  EXPECT_EQ(c.code, code) << c.message;
}

TEST_F(GatewayWalkTest, A500FallsToTheNextAliasWhichAnswers) {
  config_.providers.reserve(3);
  AddProvider("pa", "500");
  AddProvider("pb", "ok");
  AddProvider("pc", "ok");
  AddModel("a", "pa", {"b", "c"});
  AddModel("b", "pb");
  AddModel("c", "pc");

  GatewayResult r = Run(Call("a"));
  ASSERT_EQ(r.calls.size(), 2u);
  ExpectCall(r.calls[0], "a", "pa", CallOutcome::kRetryable, "provider_error");
  EXPECT_EQ(r.calls[0].http_status, 500);
  ExpectCall(r.calls[1], "b", "pb", CallOutcome::kOk, "ok");
  EXPECT_EQ(r.final().alias, "b");
  EXPECT_FALSE(r.final().text.empty());
  EXPECT_GT(r.final().prompt_tokens, 0);
  EXPECT_TRUE(r.skipped.empty());
  EXPECT_EQ(Requests("pa"), 1u);
  EXPECT_EQ(Requests("pb"), 1u);
  EXPECT_EQ(Requests("pc"), 0u);  // one answer ends the walk
}

TEST_F(GatewayWalkTest, A429AndThenA500WalkTwoAliasesToTheThird) {
  config_.providers.reserve(3);
  AddProvider("pa", "429");
  AddProvider("pb", "500");
  AddProvider("pc", "ok");
  AddModel("a", "pa", {"b", "c"});
  AddModel("b", "pb");
  AddModel("c", "pc");

  GatewayResult r = Run(Call("a"));
  ASSERT_EQ(r.calls.size(), 3u);
  ExpectCall(r.calls[0], "a", "pa", CallOutcome::kRetryable, "rate_limited");
  EXPECT_EQ(r.calls[0].http_status, 429);
  EXPECT_EQ(r.calls[0].retry_after_ms, 1000);  // the mock's Retry-After: 1
  ExpectCall(r.calls[1], "b", "pb", CallOutcome::kRetryable, "provider_error");
  ExpectCall(r.calls[2], "c", "pc", CallOutcome::kOk, "ok");
  EXPECT_EQ(Requests("pa"), 1u);
  EXPECT_EQ(Requests("pb"), 1u);
  EXPECT_EQ(Requests("pc"), 1u);
}

TEST_F(GatewayWalkTest, ANonRetryable400StopsTheWalk) {
  config_.providers.reserve(2);
  AddProvider("pa", "400");
  AddProvider("pb", "ok");
  AddModel("a", "pa", {"b"});
  AddModel("b", "pb");

  GatewayResult r = Run(Call("a"));
  ASSERT_EQ(r.calls.size(), 1u);
  ExpectCall(r.final(), "a", "pa", CallOutcome::kFatal, "provider_rejected");
  EXPECT_EQ(r.final().http_status, 400);
  EXPECT_EQ(Requests("pa"), 1u);
  EXPECT_EQ(Requests("pb"), 0u);  // the request itself is wrong: no other model is asked
}

TEST_F(GatewayWalkTest, AnOpenCircuitIsSkippedWithoutAnAttempt) {
  config_.providers.reserve(2);
  ProviderConfig& pa = AddProvider("pa", "500");
  pa.circuit_failures = 1;  // the first failure opens it
  pa.circuit_window = 0;
  pa.circuit_cool_down = 600'000;  // the fake clock never gets there
  AddProvider("pb", "ok");
  AddModel("a", "pa", {"b"});
  AddModel("b", "pb");

  GatewayResult first = Run(Call("a"));
  ASSERT_EQ(first.calls.size(), 2u);
  ExpectCall(first.calls[0], "a", "pa", CallOutcome::kRetryable, "provider_error");
  ExpectCall(first.calls[1], "b", "pb", CallOutcome::kOk, "ok");
  EXPECT_TRUE(first.skipped.empty());

  GatewayResult second = Run(Call("a"));
  ASSERT_EQ(second.calls.size(), 1u);  // no attempt recorded for a
  ExpectCall(second.final(), "b", "pb", CallOutcome::kOk, "ok");
  ASSERT_EQ(second.skipped.size(), 1u);
  EXPECT_EQ(second.skipped[0], std::make_pair(std::string("a"), std::string("circuit_open")));
  EXPECT_EQ(Requests("pa"), 1u);  // still only the first walk's call
  EXPECT_EQ(Requests("pb"), 2u);

  // With nothing to fall back to, the walk says why instead of calling.
  ModelCall alone = Call("a");
  alone.allow_fallback = false;
  GatewayResult third = Run(std::move(alone));
  ASSERT_EQ(third.calls.size(), 1u);
  EXPECT_EQ(third.final().code, "no_model_available");
  EXPECT_EQ(third.final().outcome, CallOutcome::kRetryable);
  EXPECT_TRUE(third.final().provider.empty());  // synthetic: no provider was called
  EXPECT_EQ(Requests("pa"), 1u);

  bool seen = false;
  for (const AliasStats& s : gateway().alias_stats()) {
    if (s.alias != "a") continue;
    seen = true;
    EXPECT_EQ(s.circuit, "open");
    EXPECT_EQ(s.calls, 1);
  }
  EXPECT_TRUE(seen);
}

TEST_F(GatewayWalkTest, APassedDeadlineCallsNothing) {
  AddProvider("pa", "ok");
  AddModel("a", "pa");

  ModelCall call = Call("a");
  call.deadline = clock_.now();
  GatewayResult r = Run(std::move(call));
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.final().code, "deadline_exceeded");
  EXPECT_EQ(r.final().outcome, CallOutcome::kRetryable);
  EXPECT_EQ(Requests("pa"), 0u);
}

TEST_F(GatewayWalkTest, TheDeadlineEndsTheWalkAfterASlowFailure) {
  config_.providers.reserve(2);
  AddProvider("pa", "500");
  AddProvider("pb", "ok");
  AddModel("a", "pa", {"b"});
  AddModel("b", "pb");
  SlowProviders(5'000);  // a's 500 comes back after the deadline

  ModelCall call = Call("a");
  call.deadline = clock_.now() + 1'000;
  GatewayResult r = Run(std::move(call));
  ASSERT_EQ(r.calls.size(), 1u);
  ExpectCall(r.final(), "a", "pa", CallOutcome::kRetryable, "provider_error");
  EXPECT_EQ(Requests("pa"), 1u);
  EXPECT_EQ(Requests("pb"), 0u);  // no call past the deadline
}

TEST_F(GatewayWalkTest, TheCostLimitStopsBeforeACallThatCouldExceedIt) {
  config_.providers.reserve(3);
  AddProvider("pa", "500");
  AddProvider("pb", "ok");
  AddProvider("pc", "ok");
  AddModel("a", "pa", {"b", "c"}, /*usd_per_mtok=*/0);
  AddModel("b", "pb", {}, /*usd_per_mtok=*/1'000);  // ~1 000 tokens estimated: ~$1
  AddModel("c", "pc", {}, /*usd_per_mtok=*/0);

  ModelCall call = Call("a");
  call.budget_usd = 0.5;
  GatewayResult r = Run(std::move(call));
  ASSERT_EQ(r.calls.size(), 2u);
  ExpectCall(r.calls[0], "a", "pa", CallOutcome::kRetryable, "provider_error");
  EXPECT_EQ(r.final().code, "cost_limit_exceeded");
  EXPECT_EQ(r.final().outcome, CallOutcome::kFatal);
  EXPECT_NE(r.final().message.find("b"), std::string::npos) << r.final().message;
  EXPECT_EQ(r.cost_usd(), 0);
  EXPECT_EQ(Requests("pa"), 1u);
  EXPECT_EQ(Requests("pb"), 0u);
  EXPECT_EQ(Requests("pc"), 0u);  // the limit ends the walk; it does not skip to a cheaper alias
}

TEST_F(GatewayWalkTest, CancelMidWalkAbortsTheCallInFlightAndStops) {
  config_.providers.reserve(3);
  AddProvider("pa", "500");
  AddProvider("pb", "timeout");  // held until the client gives up
  AddProvider("pc", "ok");
  AddModel("a", "pa", {"b", "c"});
  AddModel("b", "pb");
  AddModel("c", "pc");

  Outcome outcome;
  std::uint64_t handle = gateway().call(Call("a"), outcome.callback());
  ASSERT_NE(handle, 0u);
  ASSERT_TRUE(WaitFor([&] { return InFlight("pb") == 1; }, kWaitLimit));  // a failed, b is out
  EXPECT_EQ(outcome.runs(), 0);
  gateway().cancel(handle);

  std::optional<GatewayResult> r = outcome.wait();
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->calls.size(), 2u);
  ExpectCall(r->calls[0], "a", "pa", CallOutcome::kRetryable, "provider_error");
  ExpectCall(r->calls[1], "b", "pb", CallOutcome::kCanceled, "canceled");
  EXPECT_TRUE(WaitFor([&] { return InFlight("pb") == 0; }, kWaitLimit));  // the connection went
  EXPECT_EQ(Requests("pc"), 0u);
  gateway().cancel(handle);  // a finished walk: ignored
  EXPECT_EQ(outcome.runs(), 1);
}

TEST_F(GatewayWalkTest, CancelWhileWaitingForARateLimitFinishesAtOnce) {
  ProviderConfig& pa = AddProvider("pa", "ok");
  pa.rpm = 1;  // the first walk takes the minute's only request; the fake clock never refills it
  AddModel("a", "pa");

  GatewayResult first = Run(Call("a"));
  ExpectCall(first.final(), "a", "pa", CallOutcome::kOk, "ok");

  Outcome outcome;
  std::uint64_t handle = gateway().call(Call("a"), outcome.callback());
  EXPECT_EQ(outcome.runs(), 0);  // waiting for the limit: no call, no result
  gateway().cancel(handle);
  std::optional<GatewayResult> r = outcome.wait();
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->calls.size(), 1u);
  EXPECT_EQ(r->final().outcome, CallOutcome::kCanceled);
  EXPECT_EQ(r->final().code, "canceled");
  EXPECT_TRUE(r->final().provider.empty());  // no provider call was made
  EXPECT_EQ(Requests("pa"), 1u);
  EXPECT_EQ(outcome.runs(), 1);
}

// Cancels racing walks at every stage (before the first call, between a's failure and b's
// call, during b's call, after the end): every walk finishes exactly once, a canceled one
// ends kCanceled, and its recorded calls are those that really went out, in order.
TEST_F(GatewayWalkTest, CancelsRacingTheWalkFinishEachWalkExactlyOnce) {
  config_.providers.reserve(2);
  // a's failures must not open its circuit: every walk is to call a first (this test is about
  // cancels, and an open circuit would skip a, timing-dependently).
  ProviderConfig& pa = AddProvider("pa", "500");
  pa.circuit_failures = 0;
  pa.circuit_window = 0;
  AddProvider("pb", "ok");
  AddModel("a", "pa", {"b"});
  AddModel("b", "pb");
  ModelGateway& g = gateway();

  constexpr int kWalks = 200;
  std::vector<Outcome> outcomes(kWalks);
  std::vector<std::atomic<std::uint64_t>> handles(kWalks);
  std::atomic<int> started{0};
  std::thread canceler([&] {
    for (int i = 0; i < kWalks; ++i) {
      while (started.load() <= i) std::this_thread::yield();
      g.cancel(handles[i].load());
    }
  });
  for (int i = 0; i < kWalks; ++i) {
    handles[i] = g.call(Call("a"), outcomes[i].callback());
    started.store(i + 1);
  }
  canceler.join();

  int canceled = 0;
  for (int i = 0; i < kWalks; ++i) {
    std::optional<GatewayResult> r = outcomes[i].wait();
    ASSERT_TRUE(r.has_value()) << "walk " << i << " never finished";
    ASSERT_FALSE(r->calls.empty());
    const CallResult& last = r->final();
    if (last.outcome == CallOutcome::kCanceled) {
      ++canceled;
    } else {
      ExpectCall(last, "b", "pb", CallOutcome::kOk, "ok");
    }
    // Real calls first (a, then b), each at most once; a cancel marker only at the end.
    for (std::size_t k = 0; k < r->calls.size(); ++k) {
      const CallResult& c = r->calls[k];
      if (c.provider.empty()) {
        EXPECT_EQ(k + 1, r->calls.size()) << "walk " << i;
        EXPECT_EQ(c.outcome, CallOutcome::kCanceled);
      } else {
        EXPECT_EQ(c.alias, k == 0 ? "a" : "b") << "walk " << i;
      }
    }
  }
  for (int i = 0; i < kWalks; ++i) EXPECT_EQ(outcomes[i].runs(), 1) << "walk " << i;
  RecordProperty("canceled", canceled);  // how many cancels won: timing, so not asserted
  // Every call that went out came back: no slot, connection or request is left behind.
  EXPECT_TRUE(WaitFor([&] { return InFlight("pa") == 0 && InFlight("pb") == 0; }, kWaitLimit));
}

TEST_F(GatewayWalkTest, AnUnknownAliasFailsWithoutACall) {
  AddProvider("pa", "ok");
  AddModel("a", "pa");
  GatewayResult r = Run(Call("nope"));
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.final().code, "unknown_model");
  EXPECT_EQ(r.final().outcome, CallOutcome::kFatal);
  EXPECT_EQ(Requests("pa"), 0u);
}

// OpenAI clients name the provider's model: it answers to the one alias that calls it, and the
// call is that alias's; an id that several aliases call is refused, naming them.
TEST_F(GatewayWalkTest, AProviderModelIdAnswersToTheOneAliasCallingIt) {
  AddProvider("pa", "ok");
  AddModel("a", "pa");
  AddModel("b", "pa");
  AddModel("b-json", "pa");
  config_.models.back().id = "model-b";  // b and b-json call the same model
  EXPECT_TRUE(gateway().has_alias("model-a"));
  EXPECT_EQ(gateway().model("model-a")->alias, "a");
  EXPECT_TRUE(gateway().check_alias("model-a", "model").ok());
  GatewayResult r = Run(Call("model-a"));
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.final().outcome, CallOutcome::kOk);
  EXPECT_EQ(r.final().alias, "a");
  EXPECT_EQ(Requests("pa"), 1u);

  EXPECT_FALSE(gateway().has_alias("model-b"));
  Status ambiguous = gateway().check_alias("model-b", "model");
  EXPECT_EQ(ambiguous.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ambiguous.message().find("several aliases (b, b-json)"), std::string::npos)
      << ambiguous.message();
  EXPECT_EQ(gateway().check_alias("model-z", "model").field(), "model");
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// stop_starting (a node draining): the walk waiting for the provider's only slot finishes at
// once, not started, and no request reaches the provider; the call already there runs to its
// answer; a walk begun afterwards starts nothing.
TEST_F(GatewayWalkTest, StopStartingRefusesWaitingWalksButLetsTheCallInFlightFinish) {
  ProviderConfig& pa = AddProvider("pa", "ok");
  pa.max_concurrency = 1;
  pa.headers.emplace_back("X-Mock-Latency-Ms", "300");
  AddModel("a", "pa");
  EXPECT_EQ(gateway().provider_capacity(), 1);

  Outcome in_flight;
  gateway().call(Call("a"), in_flight.callback());
  ASSERT_TRUE(WaitFor([&] { return InFlight("pa") == 1; }));
  Outcome waiting;
  gateway().call(Call("a"), waiting.callback());
  EXPECT_EQ(waiting.runs(), 0);  // in line for the slot

  gateway().stop_starting();
  std::optional<GatewayResult> refused = waiting.wait();
  ASSERT_TRUE(refused.has_value());
  EXPECT_TRUE(refused->not_started());
  EXPECT_EQ(refused->final().code, kNotStarted);
  EXPECT_EQ(refused->final().outcome, CallOutcome::kRetryable);
  EXPECT_TRUE(refused->final().provider.empty());

  std::optional<GatewayResult> answered = in_flight.wait();
  ASSERT_TRUE(answered.has_value());
  EXPECT_FALSE(answered->not_started());
  ExpectCall(answered->final(), "a", "pa", CallOutcome::kOk, "ok");

  GatewayResult later = Run(Call("a"));  // the slot is free now, but nothing starts
  EXPECT_TRUE(later.not_started());
  EXPECT_EQ(Requests("pa"), 1u);
  EXPECT_EQ(waiting.runs(), 1);
  EXPECT_EQ(in_flight.runs(), 1);
}

// A walk waiting out a rate limit is refused too; one whose call fails during the drain does
// not go on to its fallback, and ends with that call's own failure (it did call).
TEST_F(GatewayWalkTest, StopStartingEndsLimitWaitsAndFallbacks) {
  ProviderConfig& pa = AddProvider("pa", "500");
  pa.headers.emplace_back("X-Mock-Latency-Ms", "300");
  ProviderConfig& pb = AddProvider("pb", "ok");
  pb.rpm = 1;
  AddModel("a", "pa", {"b"});
  AddModel("b", "pb");
  EXPECT_EQ(gateway().provider_capacity(), 512);  // both providers' default max_concurrency

  GatewayResult first = Run(Call("b"));  // takes pb's only request of the minute
  ExpectCall(first.final(), "b", "pb", CallOutcome::kOk, "ok");
  Outcome limited;
  gateway().call(Call("b"), limited.callback());
  Outcome failing;
  gateway().call(Call("a"), failing.callback());
  ASSERT_TRUE(WaitFor([&] { return InFlight("pa") == 1; }));
  EXPECT_EQ(limited.runs(), 0);

  gateway().stop_starting();
  std::optional<GatewayResult> r = limited.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->not_started());
  clock_.advance(60'000);  // pb's limit would admit a call now; b is still not tried
  std::optional<GatewayResult> f = failing.wait();
  ASSERT_TRUE(f.has_value());
  ASSERT_EQ(f->calls.size(), 1u);
  EXPECT_FALSE(f->not_started());
  ExpectCall(f->final(), "a", "pa", CallOutcome::kRetryable, "provider_error");
  EXPECT_EQ(Requests("pa"), 1u);
  EXPECT_EQ(Requests("pb"), 1u);
}

}  // namespace
}  // namespace sluice
