#include "mockllm/mock_llm.h"

#include "mockllm/completion.h"
#include "mockllm/mock_state.h"

namespace sluice::mockllm {
namespace {

// Routes a request to its resource's handler.
void Route(const std::shared_ptr<MockLlm::State>& state, http::Request&& request, http::Responder responder) {
  const std::string& path = request.path;
  const std::string& method = request.method;
  if (path == "/v1/chat/completions") {
    if (method != "POST") return responder.send(OpenAiError(405, "use POST", "invalid_request_error"));
    return HandleChatCompletions(state, std::move(request), std::move(responder));
  }
  if (path == "/v1/models") {
    if (method != "GET") return responder.send(OpenAiError(405, "use GET", "invalid_request_error"));
    return HandleModels(*state, responder);
  }
  if (path == "/health") return responder.send(http::JsonResponse(200, R"({"status":"ok"})"));
  if (path.rfind("/mock/", 0) == 0) return HandleMockControl(*state, request, responder);
  responder.send(OpenAiError(404, "no such endpoint: " + method + " " + path, "invalid_request_error",
                             "not_found"));
}

}  // namespace

Result<std::unique_ptr<MockLlm>> MockLlm::Start(http::EventLoop& loop, MockOptions options) {
  auto state = std::make_shared<State>(loop, options);
  http::ServerOptions server_options;
  server_options.listen = options.listen;
  ASSIGN_OR_RETURN(std::unique_ptr<http::Server> server,
                   http::Server::Start(loop, server_options,
                                       [state](http::Request&& request, http::Responder responder) {
                                         Route(state, std::move(request), std::move(responder));
                                       }));
  return std::unique_ptr<MockLlm>(new MockLlm(std::move(state), std::move(server)));
}

MockLlm::MockLlm(std::shared_ptr<State> state, std::unique_ptr<http::Server> server)
    : state_(std::move(state)), server_(std::move(server)) {}

MockLlm::~MockLlm() {
  server_->stop();
  state_->release_parked();
  server_.reset();
}

std::uint16_t MockLlm::port() const { return server_->port(); }
MockStats MockLlm::stats() const { return state_->stats.snapshot(); }
void MockLlm::reset_stats() { state_->stats.reset(); }
void MockLlm::configure(const MockOptions& options) { state_->configure(options); }
MockOptions MockLlm::options() const { return state_->options(); }

}  // namespace sluice::mockllm
