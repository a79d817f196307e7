// Small helpers shared by the route files: JSON bodies in, JSON answers out.
#pragma once

#include <boost/json/value.hpp>

#include "core/status.h"
#include "http/server.h"

namespace sluice {

// The request body as JSON. 415 unless the content type is application/json (absent too),
// 400 when the body does not parse.
Result<boost::json::value> ParseJsonBody(const http::Request& request);
void SendJson(const http::Responder& responder, int status, const boost::json::value& body,
              http::Headers headers = {});
// kUnavailable answers carry Retry-After.
void SendError(const http::Responder& responder, const Status& status);
// `?wait=10s`: 0 when absent; InvalidArgument when malformed; capped at `max`.
Result<Millis> ParseWaitParam(const http::Request& request, Millis max);

}  // namespace sluice
