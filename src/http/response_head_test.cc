#include "http/response_head.h"

#include <gtest/gtest.h>

namespace sluice::http {
namespace {

std::string Head(const ResponseHead& head) {
  std::string out;
  AppendResponseHead(head, out);
  return out;
}

TEST(ResponseHeadTest, WritesStatusServerTypeAndLength) {
  ResponseHead head;
  head.status = 201;
  head.content_type = "application/json";
  head.content_length = 12;
  EXPECT_EQ(Head(head),
            "HTTP/1.1 201 Created\r\nServer: sluice\r\nContent-Type: application/json\r\n"
            "Content-Length: 12\r\n\r\n");
}

TEST(ResponseHeadTest, KeepsFramingHeadersForItself) {
  Headers extra = {{"content-length", "99"},         {"Transfer-Encoding", "gzip"},
                   {"Connection", "upgrade"},        {"Server", "other"},
                   {"X-Evil", "a\r\nInjected: yes"}, {"Retry-After", "3"}};
  ResponseHead head;
  head.status = 429;
  head.headers = &extra;
  head.content_length = 2;
  const std::string out = Head(head);
  EXPECT_NE(out.find("Retry-After: 3\r\n"), std::string::npos);
  EXPECT_NE(out.find("Content-Length: 2\r\n"), std::string::npos);
  EXPECT_EQ(out.find("99"), std::string::npos);
  EXPECT_EQ(out.find("gzip"), std::string::npos);
  EXPECT_EQ(out.find("upgrade"), std::string::npos);
  EXPECT_EQ(out.find("other"), std::string::npos);
  EXPECT_EQ(out.find("Injected"), std::string::npos);
}

TEST(ResponseHeadTest, NoContentLengthWhereNoBodyIsAllowed) {
  ResponseHead head;
  head.status = 204;
  EXPECT_EQ(Head(head).find("Content-Length"), std::string::npos);
  head.status = 304;
  EXPECT_EQ(Head(head).find("Content-Length"), std::string::npos);
  EXPECT_FALSE(StatusAllowsBody(101));
  EXPECT_TRUE(StatusAllowsBody(200));
}

TEST(ResponseHeadTest, StreamsAreChunkedAndEventStreamsUncached) {
  ResponseHead head;
  head.content_type = "text/event-stream";
  head.framing = Framing::kChunked;
  const std::string out = Head(head);
  EXPECT_NE(out.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_NE(out.find("Cache-Control: no-cache\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Content-Length"), std::string::npos);

  Headers own = {{"Cache-Control", "no-store"}};
  head.headers = &own;
  const std::string with_own = Head(head);
  EXPECT_NE(with_own.find("Cache-Control: no-store\r\n"), std::string::npos);
  EXPECT_EQ(with_own.find("no-cache"), std::string::npos);
}

TEST(ResponseHeadTest, ConnectionHeaderFollowsVersionAndKeepAlive) {
  ResponseHead head;
  EXPECT_EQ(Head(head).find("Connection"), std::string::npos);
  head.keep_alive = false;
  EXPECT_NE(Head(head).find("Connection: close\r\n"), std::string::npos);
  head.version = 10;
  head.keep_alive = true;
  const std::string out = Head(head);
  EXPECT_TRUE(out.starts_with("HTTP/1.0 200 OK\r\n"));
  EXPECT_NE(out.find("Connection: keep-alive\r\n"), std::string::npos);
}

TEST(ResponseHeadTest, DetectsAHandlerAskingToClose) {
  EXPECT_TRUE(HeadersAskToClose({{"connection", "Close"}}));
  EXPECT_FALSE(HeadersAskToClose({{"X-Connection", "close"}}));
}

}  // namespace
}  // namespace sluice::http
