// The knobs of `sluice mock-llm`: latency, fault rates and a fault script. One MockOptions is
// given at start and may be replaced at run time through POST /mock/config, so that one
// simulator process can be steered by a test suite.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace sluice::mockllm {

// What the simulator does with one chat-completions request.
enum class FaultKind {
  kOk,              // 200, a real answer from the answer engine
  kHttpError,       // Fault::status (500 by default), an OpenAI-style error body
  kRateLimit,       // 429 with Retry-After: MockOptions::retry_after_s
  kTimeout,         // never answers: the request is held until the client gives up
                    // (or MockOptions::timeout_hold_ms passes, then the connection is reset)
  kGarbage,         // 200 with unusable output: for a JSON request, kGarbageBody or
                    // kGarbageContent at random; otherwise kGarbageBody
  kGarbageBody,     // 200 whose body is not JSON (an HTML error page or cut JSON)
  kGarbageContent,  // 200, valid envelope, content that is not valid JSON or misses a
                    // required property of the requested schema
  kTruncated,       // 200, content cut in half, finish_reason "length" (a stream is cut)
  kReset,           // the connection is closed without an answer (TCP reset)
};

struct Fault {
  FaultKind kind = FaultKind::kOk;
  int status = 0;  // kHttpError only: 400..599 except 429
};

// Script and header names: "ok", "500" (any 4xx/5xx status), "429", "timeout", "garbage",
// "garbage_body", "garbage_content", "truncated", "reset".
Result<Fault> ParseFault(std::string_view name);
std::string FaultName(const Fault& fault);

// "500,garbage,ok" or with repeats "429*3,ok". Empty text gives an empty script.
Result<std::vector<Fault>> ParseFaultScript(std::string_view text);

enum class LatencyDistribution {
  kUniform,    // latency_ms ± latency_jitter_ms, uniformly
  kLogNormal,  // mean latency_ms, log-space standard deviation latency_sigma: a long right
               // tail like real model latency (sigma 0.5: p50 ≈ 0.88×mean, p99 ≈ 2.8×mean)
};

struct MockOptions {
  // host:port to listen on; port 0 picks a free one (see MockLlm::port()).
  std::string listen = "127.0.0.1:9001";

  // Simulated model latency per request, waited on an event-loop timer (never a thread).
  // A request header `X-Mock-Latency-Ms: N` overrides it for that request.
  Millis latency_ms = 0;
  Millis latency_jitter_ms = 0;  // kUniform: ± this much
  LatencyDistribution latency_distribution = LatencyDistribution::kUniform;
  double latency_sigma = 0.5;  // kLogNormal only

  // Fault rates, each a probability in [0, 1], drawn per request in this order; their sum
  // must not exceed 1. The rest of the requests are answered normally.
  double error_rate = 0;   // HTTP error_status
  int error_status = 500;
  double rate_429 = 0;     // 429 with Retry-After
  int retry_after_s = 1;
  double timeout_rate = 0;
  double garbage_rate = 0;
  double reset_rate = 0;

  // Exact outcomes for the first script.size() requests, in arrival order, before the rates
  // apply. A request header `X-Mock-Fault: <name>` forces its own outcome without using up
  // a script entry. (Requests rejected with 400 do not use one either.)
  std::vector<Fault> script;

  // The longest a kTimeout request is held before its connection is reset.
  Millis timeout_hold_ms = 600'000;

  // Usage details, as OpenAI reports them: this share of each answer's prompt tokens is
  // reported as served from the provider's cache (usage.prompt_tokens_details.cached_tokens),
  // and this share of its completion tokens as reasoning (usage.completion_tokens_details
  // .reasoning_tokens, counted inside completion_tokens). Each rounded down; 0: no details.
  double cached_share = 0;
  double reasoning_share = 0;

  // The ids GET /v1/models lists. Any model name is accepted and echoed in answers.
  std::vector<std::string> models = {"mock-fast", "mock-smart"};

  // Seeds the generator behind rates, latency and garbage, so a run can be repeated
  // (exactly so with one loop thread; with more, arrival order varies).
  std::uint64_t seed = 42;

  // Event-loop threads the CLI should run the simulator on. MockLlm::Start uses the loop
  // it is given and ignores this.
  int threads = 2;
};

// Applies a JSON object of options on top of `base` and checks the result. Every field of
// MockOptions has a key of the same name; "latency_distribution" is "uniform" or
// "lognormal"; "script" is a string ("500,ok") or an array (["500", "ok"] or [500, "ok"]);
// "models" an array of strings. Unknown keys, wrong types and out-of-range values are
// InvalidArgument with the key as the field.
Result<MockOptions> ParseMockConfigJson(const std::string& json, MockOptions base = {});

// The options as a JSON object, in the form ParseMockConfigJson reads.
std::string MockOptionsToJson(const MockOptions& options);

}  // namespace sluice::mockllm
