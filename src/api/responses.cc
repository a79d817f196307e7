#include "api/responses.h"
#include "json/json_text.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include <boost/json.hpp>

namespace sluice {

namespace json = boost::json;

namespace {

// Exactly application/json, any parameters (charset) allowed. A browser can send a
// cross-origin POST without asking first only with text/plain, form or multipart types, so
// insisting on this one is what keeps a web page from driving a loopback server.
bool IsJsonMediaType(std::string_view type) {
  std::string_view essence = type.substr(0, type.find(';'));
  while (!essence.empty() && (essence.back() == ' ' || essence.back() == '\t')) {
    essence.remove_suffix(1);
  }
  while (!essence.empty() && (essence.front() == ' ' || essence.front() == '\t')) {
    essence.remove_prefix(1);
  }
  constexpr std::string_view kJson = "application/json";
  return essence.size() == kJson.size() &&
         std::equal(essence.begin(), essence.end(), kJson.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

}  // namespace

Result<json::value> ParseJsonBody(const http::Request& request) {
  std::string type = request.header("content-type");
  if (!IsJsonMediaType(type)) {
    return Status(StatusCode::kUnsupportedMediaType,
                  "expected Content-Type: application/json, got " +
                      (type.empty() ? std::string("none") : type));
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
  r.body = JsonText(body);
  r.headers = std::move(headers);
  responder.send(std::move(r));
}

void SendError(const http::Responder& responder, const Status& status) {
  responder.send(http::ErrorResponse(status));
}

Result<Millis> ParseWaitParam(const http::Request& request, Millis max) {
  auto wait = request.query_param("wait");
  if (!wait || wait->empty()) return Millis{0};
  auto d = ParseDuration(*wait);
  if (!d.ok()) return InvalidArgument("wait: " + d.status().message(), "wait");
  return std::min(*d, max);
}

}  // namespace sluice
