// The "Hardening" defects: input bounds, request framing, slow clients and slow readers.
// Every wait is bounded; timings appear only as generous failure detectors.
#include <poll.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http/server.h"
#include "http/test_client.h"

namespace sluice::http {
namespace {

using testing::RawSocket;
using testing::TestServer;
using testing::WaitFor;

void Ok(Request&&, Responder responder) { responder.send(JsonResponse(200, "{}")); }

// Sends `piece` up to `times` times, stopping early once the server has answered (or closed).
void SendUntilAnswered(RawSocket& raw, const std::string& piece, int times) {
  for (int i = 0; i < times; ++i) {
    if (!raw.send(piece)) return;
    if (raw.readable()) return;
  }
}

constexpr char kChunkedHead[] =
    "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";

TEST(ServerHardeningTest, AChunkSizeLineThatNeverEndsAnswers400AndCloses) {
  TestServer server(Ok);
  RawSocket raw(server.port());
  ASSERT_TRUE(raw.send(kChunkedHead));
  ASSERT_TRUE(raw.send("1;ext="));
  // Up to 4 MiB of one extension; the bound is a few KiB.
  SendUntilAnswered(raw, std::string(16 * 1024, 'a'), 256);
  ASSERT_TRUE(raw.read_until("\r\n\r\n")) << "no answer to an endless chunk-size line";
  EXPECT_TRUE(raw.received().starts_with("HTTP/1.1 400 ")) << raw.received();
  EXPECT_NE(raw.received().find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(WaitFor([&] { return server.server().open_connections() == 0; }));
}

TEST(ServerHardeningTest, EndlessTrailersAnswer431AndClose) {
  TestServer server(Ok);
  RawSocket raw(server.port());
  ASSERT_TRUE(raw.send(kChunkedHead));
  ASSERT_TRUE(raw.send("3\r\nabc\r\n0\r\n"));
  std::string trailers;
  for (int i = 0; i < 1024; ++i) trailers += "X-T: " + std::to_string(i) + "\r\n";
  SendUntilAnswered(raw, trailers, 256);
  ASSERT_TRUE(raw.read_until("\r\n\r\n")) << "no answer to endless trailers";
  EXPECT_TRUE(raw.received().starts_with("HTTP/1.1 431 ")) << raw.received();
  EXPECT_TRUE(WaitFor([&] { return server.server().open_connections() == 0; }));
}

TEST(ServerHardeningTest, ManySmallTrailersAnswer431) {
  std::atomic<int> calls{0};
  TestServer server([&](Request&& r, Responder responder) {
    ++calls;
    Ok(std::move(r), std::move(responder));
  });
  RawSocket raw(server.port());
  std::string request = std::string(kChunkedHead) + "3\r\nabc\r\n0\r\n";
  for (int i = 0; i < 200; ++i) request += "T:\r\n";
  request += "\r\n";
  ASSERT_TRUE(raw.send(request));
  ASSERT_TRUE(raw.read_until("\r\n\r\n"));
  EXPECT_TRUE(raw.received().starts_with("HTTP/1.1 431 ")) << raw.received();
  EXPECT_EQ(calls.load(), 0);
}

TEST(ServerHardeningTest, AHeadOverTheLimitAnswers431) {
  TestServer server(Ok);
  RawSocket raw(server.port());
  ASSERT_TRUE(raw.send("GET / HTTP/1.1\r\nHost: x\r\n"));
  SendUntilAnswered(raw, "X-Fill: " + std::string(1000, 'f') + "\r\n", 1024);
  ASSERT_TRUE(raw.read_until("\r\n\r\n"));
  EXPECT_TRUE(raw.received().starts_with("HTTP/1.1 431 ")) << raw.received();
}

TEST(ServerHardeningTest, AChunkedBodyOverTheLimitAnswers413WhileItArrives) {
  ServerOptions options;
  options.max_body = 64 * 1024;
  TestServer server(Ok, options);
  RawSocket raw(server.port());
  ASSERT_TRUE(raw.send(kChunkedHead));
  SendUntilAnswered(raw, "1000\r\n" + std::string(0x1000, 'b') + "\r\n", 1024);
  ASSERT_TRUE(raw.read_until("\r\n\r\n"));
  EXPECT_TRUE(raw.received().starts_with("HTTP/1.1 413 ")) << raw.received();
}

TEST(ServerHardeningTest, TransferEncodingOtherThanChunkedAnswers400AndCloses) {
  std::atomic<int> calls{0};
  TestServer server([&](Request&& r, Responder responder) {
    ++calls;
    Ok(std::move(r), std::move(responder));
  });
  const std::string smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  for (std::string te : {"gzip", "chunked, identity", "identity", "gzip, chunked",
                         "chunked\r\nTransfer-Encoding: chunked"}) {
    RawSocket raw(server.port());
    ASSERT_TRUE(raw.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te + "\r\n\r\n" +
                         smuggled));
    EXPECT_TRUE(raw.read_until_closed()) << te;
    EXPECT_TRUE(raw.received().starts_with("HTTP/1.1 400 ")) << te << ": " << raw.received();
    EXPECT_EQ(raw.received().find("HTTP/1.1 200"), std::string::npos) << te;
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST(ServerHardeningTest, ConflictingLengthsAnswer400AndClose) {
  std::atomic<int> calls{0};
  TestServer server([&](Request&& r, Responder responder) {
    ++calls;
    Ok(std::move(r), std::move(responder));
  });
  for (std::string framing :
       {"Transfer-Encoding: gzip\r\nContent-Length: 3", "Content-Length: 3\r\nTransfer-Encoding: gzip",
        "Transfer-Encoding: chunked\r\nContent-Length: 3", "Content-Length: 3\r\nContent-Length: 4",
        "Content-Length: 3, 4"}) {
    RawSocket raw(server.port());
    ASSERT_TRUE(raw.send("POST / HTTP/1.1\r\nHost: x\r\n" + framing + "\r\n\r\nabcd"));
    EXPECT_TRUE(raw.read_until_closed()) << framing;
    EXPECT_TRUE(raw.received().starts_with("HTTP/1.1 400 ")) << framing << ": " << raw.received();
  }
  EXPECT_EQ(calls.load(), 0);
}

}  // namespace
}  // namespace sluice::http
