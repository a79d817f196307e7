#include "http/request_framing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::http {
namespace {

std::optional<RequestRefusal> Encodings(std::vector<std::string_view> values, bool length) {
  return CheckTransferEncoding(values, length);
}

TEST(RequestFramingTest, NoTransferEncodingPasses) {
  EXPECT_FALSE(Encodings({}, false));
  EXPECT_FALSE(Encodings({}, true));
}

TEST(RequestFramingTest, ExactlyChunkedPassesInAnyCaseWithBlanks) {
  EXPECT_FALSE(Encodings({"chunked"}, false));
  EXPECT_FALSE(Encodings({"CHUNKED"}, false));
  EXPECT_FALSE(Encodings({" \tChunked\t "}, false));
}

TEST(RequestFramingTest, OtherEncodingsAreRefused) {
  for (auto values : std::vector<std::vector<std::string_view>>{{"gzip"},
                                                                {"gzip, chunked"},
                                                                {"chunked", "chunked"},
                                                                {"chunked", "gzip"},
                                                                {""},
                                                                {"chunked;x"},
                                                                {"chunke"},
                                                                {"\xc3\x87hunked"}}) {
    auto refusal = Encodings(values, false);
    ASSERT_TRUE(refusal) << values.front();
    EXPECT_EQ(refusal->http_status, 400);
    EXPECT_EQ(refusal->status.error_code(), "bad_request");
    EXPECT_NE(refusal->status.message().find("only Transfer-Encoding"), std::string::npos);
  }
}

TEST(RequestFramingTest, ChunkedBesideContentLengthIsRefused) {
  auto refusal = Encodings({"chunked"}, true);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->http_status, 400);
  EXPECT_NE(refusal->status.message().find("both Content-Length"), std::string::npos);
}

TEST(RequestFramingTest, HeldChunkLineUpToItsLimitPasses) {
  EXPECT_FALSE(CheckHeldBytes(false, 0, 3, std::string(kChunkLineLimit, 'f')));
}

TEST(RequestFramingTest, ChunkLinePastItsLimitIsRefused) {
  auto refusal = CheckHeldBytes(false, 0, 3, std::string(kChunkLineLimit + 1, 'f'));
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->http_status, 400);
  EXPECT_NE(refusal->status.message().find("chunk-size line"), std::string::npos);
  // The CRLF that ends the previous chunk's data does not make the line a trailer.
  refusal = CheckHeldBytes(false, 0, 3, "\r\n" + std::string(kChunkLineLimit, 'f'));
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->http_status, 400);
}

TEST(RequestFramingTest, HeldTrailersAreBoundedByTheirOwnLimit) {
  std::string trailers = "X-A: " + std::string(kChunkLineLimit, 'a') + "\r\n";
  EXPECT_FALSE(CheckHeldBytes(false, 0, 3, trailers));
  trailers.resize(kTrailerLimit + 1, 'b');
  auto refusal = CheckHeldBytes(false, 0, 3, trailers);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->http_status, 431);
  EXPECT_EQ(refusal->status.error_code(), "headers_too_large");
}

TEST(RequestFramingTest, DoneMessageMayAddAtMostMaxTrailersFields) {
  EXPECT_FALSE(CheckHeldBytes(true, 5 + kMaxTrailers, 5, ""));
  auto refusal = CheckHeldBytes(true, 6 + kMaxTrailers, 5, "");
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->http_status, 431);
}

TEST(RequestFramingTest, HeadBodyLimitIsTheLargest) {
  ServerOptions options;
  options.max_body = 100;
  EXPECT_EQ(HeadBodyLimit(options), 100);
  options.body_limits = {{"POST", "/v1/files", 500}, {"POST", "/v1/small", 10}};
  EXPECT_EQ(HeadBodyLimit(options), 500);
  options.max_body = 1000;
  EXPECT_EQ(HeadBodyLimit(options), 1000);
}

TEST(RequestFramingTest, RouteBodyLimitMatchesMethodAndPathWithoutQuery) {
  ServerOptions options;
  options.max_body = 100;
  options.body_limits = {{"POST", "/v1/files", 500}};
  EXPECT_EQ(RouteBodyLimit(options, "POST", "/v1/files"), 500);
  EXPECT_EQ(RouteBodyLimit(options, "POST", "/v1/files?purpose=batch"), 500);
  EXPECT_EQ(RouteBodyLimit(options, "GET", "/v1/files"), 100);
  EXPECT_EQ(RouteBodyLimit(options, "POST", "/v1/files/x"), 100);
  EXPECT_EQ(RouteBodyLimit(options, "post", "/v1/files"), 100);
  // The last match wins, and its index is what the server counts in-flight bodies by.
  options.body_limits.push_back({"POST", "/v1/files", 700});
  EXPECT_EQ(RouteOfBodyLimit(options, "POST", "/v1/files?x=1"), std::optional<std::size_t>(1));
  EXPECT_EQ(RouteBodyLimit(options, "POST", "/v1/files"), 700);
  EXPECT_EQ(RouteOfBodyLimit(options, "GET", "/v1/files"), std::nullopt);
}

}  // namespace
}  // namespace sluice::http
