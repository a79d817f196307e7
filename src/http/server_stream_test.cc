// Streaming responses (chunked, Server-Sent Events) through Responder::start_stream.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "http/server.h"
#include "http/test_client.h"

namespace sluice::http {
namespace {

using testing::CurlClient;
using testing::RawSocket;
using testing::Reply;
using testing::TestServer;
using testing::WaitFor;

// The writer sends event i only after the client has received event i-1, so the test passes
// only if each chunk is delivered on its own, before the stream ends.
TEST(ServerStreamTest, ChunksArriveOneByOneInOrder) {
  constexpr int kEvents = 5;
  std::atomic<int> client_saw{0};
  std::mutex mu;
  std::vector<std::thread> writers;
  TestServer server([&](Request&& request, Responder responder) {
    if (request.path != "/events") {
      responder.send(JsonResponse(200, "{}"));
      return;
    }
    responder.start_stream(200, "text/event-stream", {{"X-Stream", "yes"}});
    std::lock_guard<std::mutex> lock(mu);
    writers.emplace_back([&, responder] {
      for (int i = 0; i < kEvents; ++i) {
        if (!WaitFor([&] { return client_saw.load() == i; })) return;
        responder.write("data: " + std::to_string(i) + "\n\n");
      }
      responder.end();
      responder.write("after end: ignored");
    });
  });
  CurlClient client;
  std::string body;
  client.on_body([&](std::string_view piece) {
    body.append(piece);
    int events = 0;
    for (auto at = body.find("\n\n"); at != std::string::npos; at = body.find("\n\n", at + 2)) {
      ++events;
    }
    client_saw = events;
  });
  Reply reply = client.get(server.url("/events"));
  ASSERT_EQ(reply.code, CURLE_OK);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(body, "data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n");
  EXPECT_EQ(reply.header("transfer-encoding"), "chunked");
  EXPECT_EQ(reply.header("content-type"), "text/event-stream");
  EXPECT_EQ(reply.header("cache-control"), "no-cache");
  EXPECT_EQ(reply.header("x-stream"), "yes");
  EXPECT_EQ(reply.header("content-length"), "");

  // The connection returns to keep-alive once the stream has ended.
  client.on_body(nullptr);
  Reply next = client.get(server.url("/plain"));
  ASSERT_EQ(next.code, CURLE_OK);
  EXPECT_EQ(next.body, "{}");
  EXPECT_EQ(next.new_connections, 0);
  std::lock_guard<std::mutex> lock(mu);
  for (auto& t : writers) t.join();
}

TEST(ServerStreamTest, ChunkFramingOnTheWire) {
  TestServer server([](Request&&, Responder responder) {
    responder.start_stream(200, "application/x-ndjson");
    responder.write("ab");
    responder.write("");  // an empty chunk would end the stream: ignored
    responder.write("cdefghijklmnopqrstu");
    responder.end();
  });
  RawSocket raw(server.port());
  ASSERT_TRUE(raw.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(raw.read_until("0\r\n\r\n"));
  const std::string& got = raw.received();
  const auto head_end = got.find("\r\n\r\n") + 2;  // keeps the last header's CRLF
  EXPECT_NE(got.substr(0, head_end).find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_EQ(got.substr(0, head_end).find("Cache-Control"), std::string::npos);
  EXPECT_EQ(got.substr(head_end + 2), "2\r\nab\r\n13\r\ncdefghijklmnopqrstu\r\n0\r\n\r\n");
}

TEST(ServerStreamTest, Http10StreamsUntilClose) {
  TestServer server([](Request&&, Responder responder) {
    responder.start_stream(200, "text/plain");
    responder.write("one ");
    responder.write("two");
    responder.end();
  });
  RawSocket raw(server.port());
  ASSERT_TRUE(raw.send("GET /s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_TRUE(raw.read_until_closed());
  const std::string& got = raw.received();
  EXPECT_TRUE(got.starts_with("HTTP/1.0 200 OK\r\n"));
  EXPECT_EQ(got.find("chunked"), std::string::npos);
  EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(got.substr(got.find("\r\n\r\n") + 4), "one two");
}

TEST(ServerStreamTest, WriterSeesClosedOnceTheClientLeaves) {
  std::mutex mu;
  std::optional<Responder> held;
  TestServer server([&](Request&&, Responder responder) {
    responder.start_stream(200, "text/event-stream");
    responder.write(": hello\n\n");
    std::lock_guard<std::mutex> lock(mu);
    held = responder;
  });
  RawSocket raw(server.port());
  ASSERT_TRUE(raw.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(raw.read_until(": hello\n\n"));
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return held.has_value();
  }));
  EXPECT_FALSE(held->closed());
  raw.close();
  EXPECT_TRUE(WaitFor([&] { return held->closed(); }));
  held->write("data: nobody listens\n\n");  // harmless
  held->end();
  EXPECT_TRUE(WaitFor([&] { return server.server().open_connections() == 0; }));
  held.reset();  // a Responder must not outlive the EventLoop
}

TEST(ServerStreamTest, StreamDroppedBeforeEndClosesTheConnection) {
  TestServer server([](Request&&, Responder responder) {
    responder.start_stream(200, "text/plain");
    responder.write("partial");
  });
  RawSocket raw(server.port());
  ASSERT_TRUE(raw.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(raw.read_until_closed());
  EXPECT_NE(raw.received().find("7\r\npartial\r\n"), std::string::npos);
  EXPECT_EQ(raw.received().find("0\r\n\r\n"), std::string::npos);  // never properly ended
}

TEST(ServerStreamTest, AbortMidStreamResets) {
  std::mutex mu;
  std::optional<Responder> held;
  TestServer server([&](Request&&, Responder responder) {
    responder.start_stream(200, "text/plain");
    responder.write("first");
    std::lock_guard<std::mutex> lock(mu);
    held = responder;
  });
  RawSocket raw(server.port());
  ASSERT_TRUE(raw.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(raw.read_until("first\r\n"));
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return held.has_value();
  }));
  held->abort();
  EXPECT_FALSE(raw.read_until_closed());  // reset, not an orderly end
  held.reset();                           // a Responder must not outlive the EventLoop
}

}  // namespace
}  // namespace sluice::http
