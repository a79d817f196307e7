#include "cli/mock_llm_command.h"


#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/stop_signals.h"
#include "http/event_loop.h"
#include "mockllm/mock_llm.h"
#include "mockllm/mock_options.h"

namespace sluice {

void AddMockLlmOptions(CLI::App& app, MockLlmFlags& f) {
  app.add_option("--listen", f.listen, "host:port to listen on");
  app.add_option("--latency", f.latency, "mean simulated latency, e.g. 400ms");
  app.add_option("--jitter", f.jitter, "uniform distribution: +/- this much");
  app.add_option("--distribution", f.distribution, "uniform or lognormal")
      ->check(CLI::IsMember({"uniform", "lognormal"}));
  app.add_option("--sigma", f.sigma, "lognormal: log-space standard deviation");
  app.add_option("--error-rate", f.error_rate, "share of requests answered with --error-status");
  app.add_option("--error-status", f.error_status, "HTTP status of injected errors");
  app.add_option("--rate-429", f.rate_429, "share of requests answered 429 with Retry-After");
  app.add_option("--retry-after", f.retry_after, "Retry-After seconds of a 429");
  app.add_option("--timeout-rate", f.timeout_rate, "share of requests never answered");
  app.add_option("--garbage-rate", f.garbage_rate, "share of requests answered with garbage");
  app.add_option("--reset-rate", f.reset_rate, "share of requests whose connection is reset");
  app.add_option("--script", f.script, "exact outcomes of the first requests, e.g. 500,garbage,ok");
  app.add_option("--cached-share", f.cached_share,
                 "share of prompt tokens reported as cached (usage details)");
  app.add_option("--reasoning-share", f.reasoning_share,
                 "share of completion tokens reported as reasoning (usage details)");
  app.add_option("--seed", f.seed, "random seed");
  app.add_option("--threads", f.threads, "event-loop threads");
}

namespace {

Result<mockllm::MockOptions> ToOptions(const MockLlmFlags& f) {
  mockllm::MockOptions o;
  o.listen = f.listen;
  ASSIGN_OR_RETURN(o.latency_ms, ParseDuration(f.latency));
  ASSIGN_OR_RETURN(o.latency_jitter_ms, ParseDuration(f.jitter));
  o.latency_distribution = f.distribution == "lognormal" ? mockllm::LatencyDistribution::kLogNormal
                                                         : mockllm::LatencyDistribution::kUniform;
  o.latency_sigma = f.sigma;
  o.error_rate = f.error_rate;
  o.error_status = f.error_status;
  o.rate_429 = f.rate_429;
  o.retry_after_s = f.retry_after;
  o.timeout_rate = f.timeout_rate;
  o.garbage_rate = f.garbage_rate;
  o.reset_rate = f.reset_rate;
  ASSIGN_OR_RETURN(o.script, mockllm::ParseFaultScript(f.script));
  o.cached_share = f.cached_share;
  o.reasoning_share = f.reasoning_share;
  o.seed = f.seed;
  o.threads = f.threads;
  // The JSON round trip applies the same range checks as POST /mock/config.
  return mockllm::ParseMockConfigJson(mockllm::MockOptionsToJson(o), o);
}

}  // namespace

int RunMockLlm(const MockLlmFlags& flags) {
  const StopSignals stop_signals;  // before any thread starts

  auto options = ToOptions(flags);
  if (!options.ok()) {
    spdlog::error("mock-llm: {}", options.status().ToString());
    return 2;
  }
  http::EventLoop loop(std::max(1, options->threads));
  auto mock = mockllm::MockLlm::Start(loop, *options);
  if (!mock.ok()) {
    spdlog::error("mock-llm: {}", mock.status().ToString());
    return 2;
  }
  loop.start();
  spdlog::info("mock-llm listening on 127.0.0.1:{}", (*mock)->port());
  stop_signals.wait();
  mock->reset();
  loop.stop();
  return 0;
}

}  // namespace sluice
