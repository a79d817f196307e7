// The simulator's shared state: settings, fault plan, stats and parked requests. Private to
// mockllm/. Held by shared_ptr from the MockLlm, the HTTP handler and pending timers, so a
// timer that fires after the MockLlm is gone still finds it.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/event_loop.h"
#include "http/server.h"
#include "mockllm/fault_plan.h"
#include "mockllm/mock_llm.h"
#include "mockllm/mock_stats.h"

namespace sluice::mockllm {

// The last kKept chat request bodies as received (GET /mock/requests), for tests that check
// what a provider was sent: masked text, params. Oldest dropped first.
class RequestLog {
 public:
  static constexpr std::size_t kKept = 1024;
  void add(std::string body);
  std::vector<std::string> snapshot() const;
  void clear();

 private:
  mutable std::mutex mu_;
  std::deque<std::string> bodies_;  // guarded by mu_
};

struct MockLlm::State : std::enable_shared_from_this<MockLlm::State> {
  State(http::EventLoop& l, MockOptions o) : loop(l), plan(o), options_(std::move(o)) {}

  MockOptions options() const;
  void configure(const MockOptions& options);

  // Holds a "timeout" request without answering it. It is dropped (and counted finished)
  // once its client disconnects, or reset after options.timeout_hold_ms.
  void park(http::Responder responder);
  // Resets every parked request's connection.
  void release_parked();

  http::EventLoop& loop;
  FaultPlan plan;
  StatsRecorder stats;
  RequestLog requests;
  std::atomic<std::uint64_t> next_id{1};

 private:
  using SteadyClock = std::chrono::steady_clock;
  struct Parked {
    http::Responder responder;
    SteadyClock::time_point until;
  };
  void sweep();
  void schedule_sweep();  // requires mu_

  mutable std::mutex mu_;
  MockOptions options_;          // guarded by mu_
  std::vector<Parked> parked_;   // guarded by mu_
  bool sweeping_ = false;        // a sweep timer is pending; guarded by mu_
};

// The handlers, one per resource.
void HandleChatCompletions(const std::shared_ptr<MockLlm::State>& state, http::Request&& request,
                           http::Responder responder);
void HandleModels(const MockLlm::State& state, const http::Responder& responder);
void HandleMockControl(MockLlm::State& state, const http::Request& request, const http::Responder& responder);

}  // namespace sluice::mockllm
