#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "http/server.h"

namespace sluice::http {
namespace {

boost::json::object ErrorOf(const Response& response) {
  return boost::json::parse(response.body).as_object().at("error").as_object();
}

TEST(ErrorResponseTest, CarriesCodeMessageAndField) {
  Response response = ErrorResponse(InvalidArgument("text is required", "input.text"));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.content_type, "application/json");
  auto error = ErrorOf(response);
  EXPECT_EQ(error.at("code").as_string(), "invalid_argument");
  EXPECT_EQ(error.at("message").as_string(), "text is required");
  EXPECT_EQ(error.at("field").as_string(), "input.text");
  EXPECT_EQ(error.size(), 3u);
}

TEST(ErrorResponseTest, LeavesOutAnEmptyField) {
  auto error = ErrorOf(ErrorResponse(NotFound("no such job")));
  EXPECT_FALSE(error.contains("field"));
  EXPECT_EQ(error.at("code").as_string(), "not_found");
}

TEST(ErrorResponseTest, PrefersTheStatusErrorCode) {
  Status status(StatusCode::kPayloadTooLarge, "too big for sync");
  status.with_error_code("use_async");
  Response response = ErrorResponse(status);
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(ErrorOf(response).at("code").as_string(), "use_async");
}

TEST(ErrorResponseTest, EscapesTheMessage) {
  const std::string message = "bad \"quote\"\n\\ and \x01 control, ünïcode";
  Response response = ErrorResponse(InvalidArgument(message));
  EXPECT_EQ(response.body.find('\n'), std::string::npos);
  EXPECT_EQ(ErrorOf(response).at("message").as_string(), message);
}

TEST(ErrorResponseTest, MapsEveryCodeToItsHttpStatus) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAborted), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kCanceled), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPayloadTooLarge), 413);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnsupportedMediaType), 415);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInternal), 500);
  EXPECT_EQ(ErrorOf(ErrorResponse(Status(StatusCode::kResourceExhausted, "slow down")))
                .at("code")
                .as_string(),
            "rate_limited");
}

// Retry-After: a status's own seconds, else 1 for the "retry later" codes, else none.
TEST(ErrorResponseTest, SaysWhenToRetry) {
  auto retry_after = [](const Response& r) {
    std::string value;
    for (const auto& [name, v] : r.headers) {
      if (name == "Retry-After") value += v + ";";
    }
    return value;
  };
  EXPECT_EQ(retry_after(ErrorResponse(Unavailable("busy").with_retry_after(7))), "7;");
  EXPECT_EQ(retry_after(ErrorResponse(Unavailable("busy"))), "1;");
  EXPECT_EQ(retry_after(ErrorResponse(Status(StatusCode::kResourceExhausted, "slow down"))), "1;");
  EXPECT_EQ(retry_after(ErrorResponse(InvalidArgument("bad"))), "");
}

TEST(ErrorResponseTest, JsonResponseKeepsTheBody) {
  Response response = JsonResponse(202, R"({"id":"job_1"})");
  EXPECT_EQ(response.status, 202);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, R"({"id":"job_1"})");
}

}  // namespace
}  // namespace sluice::http
