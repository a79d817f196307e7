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

// Sends `piece` once every 100 ms until the server closes; true if it did within `tries`.
bool TrickleUntilClosed(RawSocket& raw, const std::string& piece, int tries) {
  for (int i = 0; i < tries; ++i) {
    if (!raw.send(piece)) return true;  // reset: closed
    if (raw.readable()) {
      raw.read_until_closed();  // an answer (408) then EOF, or a reset
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST(ServerHardeningTest, AHeadTrickledByteByByteIsCutAtTheHeaderTimeout) {
  ServerOptions options;
  options.idle_timeout = 60'000;  // each byte would reset it: it must not be what cuts
  options.header_timeout = 1'000;
  TestServer server(Ok, options);
  RawSocket raw(server.port());
  ASSERT_TRUE(raw.send("GET / HTTP/1.1\r\n"));
  EXPECT_TRUE(TrickleUntilClosed(raw, "X", 100)) << "not closed within 10 s";
  EXPECT_TRUE(WaitFor([&] { return server.server().open_connections() == 0; }));
}

TEST(ServerHardeningTest, ABodyTrickledBelowTheMinimumRateIsCut) {
  ServerOptions options;
  options.idle_timeout = 60'000;
  options.body_timeout = 1'000;
  options.body_min_rate = 1 << 20;
  TestServer server(Ok, options);
  RawSocket raw(server.port());
  ASSERT_TRUE(raw.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"));
  EXPECT_TRUE(TrickleUntilClosed(raw, "b", 100)) << "not closed within 10 s";
  EXPECT_TRUE(WaitFor([&] { return server.server().open_connections() == 0; }));
}

TEST(ServerHardeningTest, ABodyAtAGoodRateIsNotCut) {
  ServerOptions options;
  options.body_timeout = 1'000;
  options.body_min_rate = 1024;
  TestServer server(Ok, options);
  RawSocket raw(server.port());
  ASSERT_TRUE(raw.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 262144\r\n\r\n"));
  // 256 KiB in 16 pieces, 100 ms apart: far above 1 KiB/s, longer than body_timeout.
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(raw.send(std::string(16 * 1024, 'b')));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(raw.read_until("{}"));
  EXPECT_TRUE(raw.received().starts_with("HTTP/1.1 200 ")) << raw.received();
}

TEST(ServerHardeningTest, PastTheConnectionCapNewConnectionsWaitForAFreeSlot) {
  ServerOptions options;
  options.max_connections = 4;
  TestServer server(Ok, options);
  std::vector<std::unique_ptr<RawSocket>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawSocket>(server.port()));
    ASSERT_TRUE(held.back()->connected());
  }
  ASSERT_TRUE(WaitFor([&] { return server.server().open_connections() == 4; }));
  RawSocket waiting(server.port());  // queued in the kernel's backlog
  ASSERT_TRUE(waiting.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(waiting.readable()) << "answered past the cap";
  EXPECT_LE(server.server().open_connections(), 4);
  held.front()->close();
  ASSERT_TRUE(waiting.read_until("{}")) << "not served once a slot freed";
  EXPECT_TRUE(waiting.received().starts_with("HTTP/1.1 200 "));
}

TEST(ServerHardeningTest, AWriteToASlowReaderSurvivesWhileItProgresses) {
  const std::string big(32 << 20, 'z');
  ServerOptions options;
  options.idle_timeout = 1'000;
  TestServer server(
      [&](Request&&, Responder responder) {
        Response response;
        response.content_type = "text/plain";
        response.body = big;
        responder.send(std::move(response));
      },
      options);
  RawSocket raw(server.port(), /*receive_buffer=*/64 * 1024);
  ASSERT_TRUE(raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  // 256 KiB every 20 ms: steady progress, for far longer than the 1 s timeout. Bounded.
  std::size_t got = 0;
  for (int i = 0; i < 2000 && got < big.size(); ++i) {
    const std::size_t n = raw.recv_some(256 * 1024);
    if (n == 0) break;
    got += n;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(got, big.size()) << "cut after " << got << " bytes while reading steadily";
}

TEST(ServerHardeningTest, AStalledReaderIsStillCut) {
  const std::string big(32 << 20, 'z');
  ServerOptions options;
  options.idle_timeout = 1'000;
  TestServer server(
      [&](Request&&, Responder responder) {
        Response response;
        response.body = big;
        responder.send(std::move(response));
      },
      options);
  RawSocket raw(server.port(), 64 * 1024);
  ASSERT_TRUE(raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_GT(raw.recv_some(1024), 0u);  // the answer has begun; from now on nothing is read
  EXPECT_TRUE(WaitFor([&] { return server.server().open_connections() == 0; }))
      << "a reader that reads nothing was never cut off";
}

}  // namespace
}  // namespace sluice::http
