// The one table from Status codes to HTTP statuses, and the API.md error body.
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "http/server.h"

namespace sluice::http {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kAborted:
      return 409;
    case StatusCode::kCanceled:
      return 409;
    case StatusCode::kPayloadTooLarge:
      return 413;
    case StatusCode::kUnsupportedMediaType:
      return 415;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kInternal:
      return 500;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
  }
  return 500;
}

Response JsonResponse(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

Response ErrorResponse(const Status& status) {
  boost::json::object error;
  error["code"] =
      status.error_code().empty() ? StatusCodeName(status.code()) : status.error_code().c_str();
  error["message"] = status.message();
  if (!status.field().empty()) error["field"] = status.field();
  boost::json::object body;
  body["error"] = std::move(error);
  Response response = JsonResponse(HttpStatusFor(status.code()), boost::json::serialize(body));
  // kUnavailable and kResourceExhausted mean "retry the call later" (core/status.h): say when.
  if (status.retry_after_s() > 0) {
    response.headers.emplace_back("Retry-After", std::to_string(status.retry_after_s()));
  } else if (status.code() == StatusCode::kUnavailable ||
             status.code() == StatusCode::kResourceExhausted) {
    response.headers.emplace_back("Retry-After", "1");
  }
  return response;
}

}  // namespace sluice::http
