// Uploads and downloads of large bodies: a route may have a body limit of its own over the
// server's max_body (ServerOptions::body_limits), and a streaming writer may pace itself on the
// client (Responder::write with a `sent` callback).
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "http/server.h"
#include "http/test_client.h"

namespace sluice::http {
namespace {

using testing::CurlClient;
using testing::RawSocket;
using testing::Reply;
using testing::TestServer;

TEST(ServerUploadTest, ARouteMayTakeLargerBodiesThanTheRest) {
  std::atomic<int> calls{0};
  ServerOptions options;
  options.max_body = 1024;
  options.body_limits.push_back({.method = "POST", .path = "/upload", .max_body = 64 * 1024});
  TestServer server(
      [&](Request&& request, Responder responder) {
        ++calls;
        responder.send(JsonResponse(200, std::to_string(request.body.size())));
      },
      options);
  CurlClient client;
  Reply upload = client.post(server.url("/upload?purpose=x"), std::string(32 * 1024, 'a'));
  EXPECT_EQ(upload.status, 200);
  EXPECT_EQ(upload.body, "32768");

  // The same body elsewhere, or with another method, is over the server's limit.
  Reply other = client.post(server.url("/jobs"), std::string(32 * 1024, 'a'));
  ASSERT_EQ(other.code, CURLE_OK);
  EXPECT_EQ(other.status, 413);
  Reply put = client.request("PUT", server.url("/upload"), std::string(32 * 1024, 'a'));
  EXPECT_EQ(put.status, 413);

  // Over the route's own limit: declared, and chunked (no declared length).
  Reply declared = client.post(server.url("/upload"), std::string(65 * 1024, 'a'));
  ASSERT_EQ(declared.code, CURLE_OK);
  EXPECT_EQ(declared.status, 413);
  auto message = boost::json::parse(declared.body).at("error").at("message").as_string();
  EXPECT_NE(std::string(message).find("65536"), std::string::npos) << message;
  Reply chunked = client.post(server.url("/upload"), std::string(65 * 1024, 'a'),
                              {"Transfer-Encoding: chunked"});
  ASSERT_EQ(chunked.code, CURLE_OK);
  EXPECT_EQ(chunked.status, 413);
  EXPECT_EQ(calls.load(), 1);
}

// BodyLimit::max_in_flight: a body whose slot a handler still holds keeps the next upload out
// (503, Retry-After, before its body is read); dropping the slot, a refused request and a
// client that leaves mid-body each give the slot back.
TEST(ServerUploadTest, BodiesInFlightPerRouteAreCapped) {
  ServerOptions options;
  options.body_limits.push_back(
      {.method = "POST", .path = "/upload", .max_body = 64 * 1024, .max_in_flight = 1});
  std::mutex mu;
  std::shared_ptr<void> kept;  // the slot of an upload "still being stored"
  std::atomic<int> calls{0};
  TestServer server(
      [&](Request&& request, Responder responder) {
        ++calls;
        if (request.path == "/upload" && request.header("x-keep") == "1") {
          std::lock_guard lock(mu);
          kept = std::move(request.body_slot);
        }
        responder.send(JsonResponse(200, std::to_string(request.body.size())));
      },
      options);
  CurlClient client;
  ASSERT_EQ(client.post(server.url("/upload"), std::string(1000, 'a'), {"X-Keep: 1"}).status, 200);

  Reply refused = client.post(server.url("/upload"), std::string(1000, 'a'));
  ASSERT_EQ(refused.code, CURLE_OK);
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.header("retry-after"), "1");
  EXPECT_EQ(std::string(boost::json::parse(refused.body).at("error").at("code").as_string()),
            "too_many_uploads");
  // Other routes are not held back.
  EXPECT_EQ(client.post(server.url("/jobs"), "{}").status, 200);
  EXPECT_EQ(calls.load(), 2);

  {
    std::lock_guard lock(mu);
    kept.reset();
  }
  EXPECT_EQ(client.post(server.url("/upload"), std::string(1000, 'a')).status, 200);
  // Over the body limit (413) and gone mid-body: neither keeps the slot.
  EXPECT_EQ(client.post(server.url("/upload"), std::string(65 * 1024, 'a')).status, 413);
  {
    RawSocket raw(server.port());
    ASSERT_TRUE(raw.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nabc"));
    // Held by the half-sent body (retried: the server may not have read its head yet).
    ASSERT_TRUE(
        testing::WaitFor([&] { return client.post(server.url("/upload"), "x").status == 503; }));
  }
  ASSERT_TRUE(
      testing::WaitFor([&] { return client.post(server.url("/upload"), "x").status == 200; }));
}

// A producer that writes chunk i+1 only from chunk i's `sent` callback: the whole stream
// arrives, in order, and each callback runs once.
TEST(ServerUploadTest, SentCallbacksPaceAStreamChunkByChunk) {
  constexpr int kChunks = 50;
  std::atomic<int> sent_calls{0};
  TestServer server([&](Request&&, Responder responder) {
    responder.start_stream(200, "application/jsonl");
    auto next = std::make_shared<std::function<void(int)>>();
    *next = [&sent_calls, responder, next](int i) {
      if (i == kChunks) {
        responder.end();
        *next = nullptr;  // breaks the self-reference
        return;
      }
      responder.write(std::string(64 * 1024, static_cast<char>('a' + i % 26)) + "\n",
                      [&sent_calls, next, i] {
                        ++sent_calls;
                        (*next)(i + 1);
                      });
    };
    (*next)(0);
  });
  CurlClient client;
  Reply reply = client.get(server.url("/content"));
  ASSERT_EQ(reply.code, CURLE_OK);
  EXPECT_EQ(reply.status, 200);
  ASSERT_EQ(reply.body.size(), static_cast<std::size_t>(kChunks) * (64 * 1024 + 1));
  EXPECT_EQ(reply.body[0], 'a');
  EXPECT_EQ(reply.body[reply.body.size() - 2], static_cast<char>('a' + (kChunks - 1) % 26));
  EXPECT_EQ(sent_calls.load(), kChunks);
}

// A client that goes away mid-stream: the pending callback is dropped with the connection, so
// the producer (and the connection it holds) is freed, not kept alive by a cycle.
TEST(ServerUploadTest, ACallbackPendingWhenTheClientLeavesIsDropped) {
  auto alive = std::make_shared<int>(0);
  std::weak_ptr<int> watch = alive;
  std::atomic<bool> started{false};
  {
    TestServer server([&, alive](Request&&, Responder responder) mutable {
      responder.start_stream(200, "application/jsonl");
      // Far more than the socket buffers take: the write stays in flight until the client
      // reads or leaves.
      responder.write(std::string(64 << 20, 'x'), [alive] {});
      alive.reset();
      started = true;
    });
    {
      RawSocket raw(server.port());
      ASSERT_TRUE(raw.send("GET /content HTTP/1.1\r\nHost: x\r\n\r\n"));
      ASSERT_TRUE(raw.read_until("\r\n\r\n"));
      ASSERT_TRUE(testing::WaitFor([&] { return started.load(); }));
    }  // the client leaves without reading the rest
    alive.reset();
    EXPECT_TRUE(testing::WaitFor([&] { return watch.expired(); }));
  }
}

}  // namespace
}  // namespace sluice::http
