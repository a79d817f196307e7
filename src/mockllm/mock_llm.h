// `sluice mock-llm`: an OpenAI-compatible model server for tests, demos and benchmarks. It
// answers chat completions with the answer engine (meaningful, schema-valid output with no
// model), after a simulated latency, and injects the faults real providers have: errors, 429
// with Retry-After, hangs, garbage and connection resets, at random rates or exactly on cue.
//
// Endpoints:
//   POST /v1/chat/completions  the OpenAI chat.completion object (model echoed, usage counted);
//                              "stream": true answers chat.completion.chunk events over SSE.
//                              A body that is not a JSON object with a non-empty "messages"
//                              array answers 400 {"error": {"message", "type":
//                              "invalid_request_error", ...}} at once.
//                              Request headers: X-Mock-Fault: <fault name> (see ParseFault)
//                              forces this request's outcome; X-Mock-Latency-Ms: N its latency.
//   GET  /v1/models            the configured model ids, OpenAI-shaped
//   GET  /mock/stats           MockStats as JSON (requests, in_flight, peak_in_flight,
//                              outcomes, arrivals)
//   GET  /mock/requests        {"data": [...]}: the last 1024 chat request bodies received,
//                              oldest first (what a provider was sent: masked text, params)
//   POST /mock/reset           zeroes the stats and forgets the requests (the script and
//                              settings stay)
//   GET  /mock/config          the current options as JSON
//   POST /mock/config          a JSON object of options (ParseMockConfigJson) applied on top of
//                              the current ones; the script restarts, the generator is reseeded.
//                              "listen" and "threads" cannot change at run time. Answers the
//                              new options, or 400 with the reason.
//   GET  /health               {"status": "ok"}
//
// Latency is an event-loop timer, so thousands of requests can wait at once on a few
// threads; a "timeout" request is parked, and dropped once its client disconnects.
#pragma once

#include <cstdint>
#include <memory>

#include "core/status.h"
#include "http/event_loop.h"
#include "http/server.h"
#include "mockllm/mock_options.h"
#include "mockllm/mock_stats.h"

namespace sluice::mockllm {

class MockLlm {
 public:
  // Listens on options.listen and serves on `loop`, which must outlive the MockLlm and be
  // started (before or after) for anything to happen. Fails when the address cannot be bound.
  static Result<std::unique_ptr<MockLlm>> Start(http::EventLoop& loop, MockOptions options);

  // Stops listening and resets the connections of parked (timeout) requests. Requests still
  // waiting out their latency are answered when it ends, if the loop still runs.
  ~MockLlm();
  MockLlm(const MockLlm&) = delete;
  MockLlm& operator=(const MockLlm&) = delete;

  // The bound port (useful with listen port 0).
  std::uint16_t port() const;
  MockStats stats() const;
  void reset_stats();
  // Replaces the latency and fault settings (not listen or threads); the script restarts.
  void configure(const MockOptions& options);
  MockOptions options() const;

  struct State;  // shared with the handler and pending timers, which may outlive this object

 private:
  MockLlm(std::shared_ptr<State> state, std::unique_ptr<http::Server> server);
  std::shared_ptr<State> state_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace sluice::mockllm
