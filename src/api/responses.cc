#include "api/responses.h"

#include <algorithm>

#include <boost/json.hpp>

namespace sluice {

namespace json = boost::json;

Result<json::value> ParseJsonBody(const http::Request& request) {
  std::string type = request.header("content-type");
  if (!type.empty() && type.find("json") == std::string::npos) {
    return Status(StatusCode::kUnsupportedMediaType,
                  "expected Content-Type: application/json, got " + type);
  }
  boost::system::error_code ec;
  json::value v = json::parse(request.body, ec);
  if (ec) {
    return Status(StatusCode::kInvalidArgument, "the body is not valid JSON: " + ec.message())
        .with_error_code("invalid_json");
  }
  return v;
}

void SendJson(const http::Responder& responder, int status, const json::value& body,
              http::Headers headers) {
  http::Response r;
  r.status = status;
  r.body = json::serialize(body);
  r.headers = std::move(headers);
  responder.send(std::move(r));
}

void SendError(const http::Responder& responder, const Status& status) {
  http::Response r = http::ErrorResponse(status);
  // kUnavailable means "retry the call later" (core/status.h): say when.
  if (status.code() == StatusCode::kUnavailable) r.headers.emplace_back("Retry-After", "1");
  responder.send(std::move(r));
}

Result<Millis> ParseWaitParam(const http::Request& request, Millis max) {
  auto wait = request.query_param("wait");
  if (!wait || wait->empty()) return Millis{0};
  auto d = ParseDuration(*wait);
  if (!d.ok()) return InvalidArgument("wait: " + d.status().message(), "wait");
  return std::min(*d, max);
}

}  // namespace sluice
