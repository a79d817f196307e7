// GET /v1/models and the /mock/* control endpoints.
#include <boost/json.hpp>

#include "mockllm/completion.h"
#include "mockllm/mock_state.h"

namespace sluice::mockllm {

void HandleModels(const MockLlm::State& state, const http::Responder& responder) {
  boost::json::array data;
  for (const std::string& id : state.options().models) {
    data.push_back(boost::json::object{{"id", id}, {"object", "model"}, {"created", 0}, {"owned_by", "sluice-mock"}});
  }
  responder.send(http::JsonResponse(
      200, boost::json::serialize(boost::json::object{{"object", "list"}, {"data", std::move(data)}})));
}

void HandleMockControl(MockLlm::State& state, const http::Request& request, const http::Responder& responder) {
  const std::string& path = request.path;
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";
  if (path == "/mock/stats" && get) {
    return responder.send(http::JsonResponse(200, state.stats.snapshot().ToJson()));
  }
  if (path == "/mock/requests" && get) {
    boost::json::array data;
    for (const std::string& body : state.requests.snapshot()) {
      boost::system::error_code ec;
      boost::json::value parsed = boost::json::parse(body, ec);
      data.push_back(ec ? boost::json::value(body) : std::move(parsed));  // not JSON: as text
    }
    return responder.send(
        http::JsonResponse(200, boost::json::serialize(boost::json::object{{"data", std::move(data)}})));
  }
  if (path == "/mock/reset" && post) {
    state.stats.reset();
    state.requests.clear();
    return responder.send(http::JsonResponse(200, R"({"status":"ok"})"));
  }
  if (path == "/mock/config" && get) {
    return responder.send(http::JsonResponse(200, MockOptionsToJson(state.options())));
  }
  if (path == "/mock/config" && post) {
    MockOptions current = state.options();
    Result<MockOptions> next = ParseMockConfigJson(request.body, current);
    if (!next.ok()) {
      return responder.send(OpenAiError(400, next.status().message(), "invalid_request_error",
                                        next.status().field()));
    }
    if (next->listen != current.listen || next->threads != current.threads) {
      return responder.send(OpenAiError(400, "listen and threads cannot change at run time",
                                        "invalid_request_error"));
    }
    state.configure(*next);
    return responder.send(http::JsonResponse(200, MockOptionsToJson(*next)));
  }
  responder.send(OpenAiError(404, "no such endpoint: " + request.method + " " + path,
                             "invalid_request_error", "not_found"));
}

}  // namespace sluice::mockllm
