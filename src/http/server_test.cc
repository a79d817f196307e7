#include "http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "http/test_client.h"

namespace sluice::http {
namespace {

using testing::CurlClient;
using testing::RawSocket;
using testing::Reply;
using testing::TestServer;
using testing::WaitFor;

// Answers with what it saw, one line per item, so tests can check the parsed Request.
void Echo(Request&& request, Responder responder) {
  std::string body = request.method + "\n" + request.target + "\n" + request.path + "\n";
  for (const auto& [key, value] : request.query) body += "q:" + key + "=" + value + "\n";
  body += "h:" + request.header("x-custom") + "\n";
  body += "b:" + request.body + "\n";
  body += "r:" + request.remote_address + "\n";
  Response response;
  response.content_type = "text/plain";
  response.headers.emplace_back("X-Answer", "42");
  response.body = std::move(body);
  responder.send(std::move(response));
}

TEST(ServerTest, GetRoundTripDecodesPathQueryAndHeaders) {
  TestServer server(Echo);
  CurlClient client;
  Reply reply =
      client.get(server.url("/v1/a%20b/c?x=1&y=hello%20world&z=a+b&flag"), {"X-Custom: shiny"});
  ASSERT_EQ(reply.code, CURLE_OK);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body,
            "GET\n/v1/a%20b/c?x=1&y=hello%20world&z=a+b&flag\n/v1/a b/c\n"
            "q:x=1\nq:y=hello world\nq:z=a b\nq:flag=\nh:shiny\nb:\nr:127.0.0.1\n");
  EXPECT_EQ(reply.header("server"), "sluice");
  EXPECT_EQ(reply.header("content-type"), "text/plain");
  EXPECT_EQ(reply.header("x-answer"), "42");
  EXPECT_EQ(reply.header("content-length"), std::to_string(reply.body.size()));
}

TEST(ServerTest, PostBodyReachesTheHandler) {
  TestServer server(Echo);
  CurlClient client;
  const std::string payload(100'000, 'p');
  Reply reply = client.post(server.url("/v1/jobs"), payload, {"Content-Type: text/plain"});
  ASSERT_EQ(reply.code, CURLE_OK);
  EXPECT_EQ(reply.status, 200);
  EXPECT_NE(reply.body.find("POST\n/v1/jobs\n/v1/jobs\n"), std::string::npos);
  EXPECT_NE(reply.body.find("b:" + payload + "\n"), std::string::npos);
}

TEST(ServerTest, KeepAliveReusesOneConnection) {
  TestServer server(Echo);
  CurlClient client;
  long connects = 0;
  std::set<long> local_ports;
  for (int i = 0; i < 50; ++i) {
    Reply reply = i % 2 == 0 ? client.get(server.url("/n?i=" + std::to_string(i)))
                             : client.post(server.url("/n"), "body " + std::to_string(i));
    ASSERT_EQ(reply.code, CURLE_OK);
    ASSERT_EQ(reply.status, 200);
    connects += reply.new_connections;
    local_ports.insert(reply.local_port);
  }
  EXPECT_EQ(connects, 1);
  EXPECT_EQ(local_ports.size(), 1u);
  EXPECT_EQ(server.server().open_connections(), 1);
}

TEST(ServerTest, HandlerMayAnswerLaterFromAnotherThread) {
  std::mutex mu;
  std::vector<std::thread> threads;
  TestServer server([&](Request&& request, Responder responder) {
    std::lock_guard<std::mutex> lock(mu);
    threads.emplace_back([responder, path = request.path] {
      responder.send(JsonResponse(202, "{\"path\":\"" + path + "\"}"));
    });
  });
  CurlClient client;
  for (int i = 0; i < 5; ++i) {
    Reply reply = client.get(server.url("/later/" + std::to_string(i)));
    ASSERT_EQ(reply.code, CURLE_OK);
    EXPECT_EQ(reply.status, 202);
    EXPECT_EQ(reply.body, "{\"path\":\"/later/" + std::to_string(i) + "\"}");
    EXPECT_EQ(reply.header("content-type"), "application/json");
  }
  std::lock_guard<std::mutex> lock(mu);
  for (auto& t : threads) t.join();
}

TEST(ServerTest, HandlerMayAnswerFromALoopTimer) {
  EventLoop* loop = nullptr;
  TestServer server([&](Request&&, Responder responder) {
    loop->post_after(5, [responder] { responder.send(JsonResponse(200, "{}")); });
  });
  loop = &server.loop();
  CurlClient client;
  Reply reply = client.get(server.url("/timer"));
  ASSERT_EQ(reply.code, CURLE_OK);
  EXPECT_EQ(reply.body, "{}");
}

TEST(ServerTest, SecondAnswerIsIgnored) {
  TestServer server([](Request&& request, Responder responder) {
    Response first;
    first.body = "first " + request.path;
    responder.send(first);
    Response second;
    second.body = "second " + request.path;
    responder.send(second);
    responder.abort();                   // ignored too: already answered
    responder.start_stream(200, "x/y");  // and this
  });
  CurlClient client;
  Reply one = client.get(server.url("/1"));
  Reply two = client.get(server.url("/2"));  // same connection: no stale bytes in between
  ASSERT_EQ(one.code, CURLE_OK);
  ASSERT_EQ(two.code, CURLE_OK);
  EXPECT_EQ(one.body, "first /1");
  EXPECT_EQ(two.body, "first /2");
  EXPECT_EQ(two.new_connections, 0);
}

TEST(ServerTest, DroppedResponderClosesTheConnection) {
  TestServer server([](Request&&, Responder) {});
  CurlClient client;
  Reply reply = client.get(server.url("/dropped"));
  EXPECT_EQ(reply.code, CURLE_GOT_NOTHING);
  EXPECT_TRUE(WaitFor([&] { return server.server().open_connections() == 0; }));
}

TEST(ServerTest, ResponderDroppedLaterOnAnotherThreadClosesTheConnection) {
  std::mutex mu;
  std::vector<std::thread> threads;
  TestServer server([&](Request&&, Responder responder) {
    std::lock_guard<std::mutex> lock(mu);
    threads.emplace_back([r = std::move(responder)]() mutable { Responder gone = std::move(r); });
  });
  CurlClient client;
  EXPECT_EQ(client.get(server.url("/dropped-later")).code, CURLE_GOT_NOTHING);
  std::lock_guard<std::mutex> lock(mu);
  for (auto& t : threads) t.join();
}

TEST(ServerTest, AbortResetsTheConnection) {
  TestServer server([](Request&&, Responder responder) { responder.abort(); });
  CurlClient client;
  Reply reply = client.get(server.url("/abort"));
  EXPECT_TRUE(reply.code == CURLE_RECV_ERROR || reply.code == CURLE_GOT_NOTHING)
      << curl_easy_strerror(reply.code);
  EXPECT_EQ(reply.status, 0);

  RawSocket raw(server.port());
  ASSERT_TRUE(raw.send("GET /abort HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_FALSE(raw.read_until_closed());  // a reset, not an orderly close
  EXPECT_EQ(raw.received(), "");
}

TEST(ServerTest, HandlerExceptionAnswers500) {
  TestServer server([](Request&&, Responder) { throw std::runtime_error("bug"); });
  CurlClient client;
  Reply reply = client.get(server.url("/throws"));
  ASSERT_EQ(reply.code, CURLE_OK);
  EXPECT_EQ(reply.status, 500);
  auto error = boost::json::parse(reply.body).at("error");
  EXPECT_EQ(error.at("code").as_string(), "internal");
}

TEST(ServerTest, BodyOverTheLimitAnswers413AndSkipsTheHandler) {
  std::atomic<int> calls{0};
  ServerOptions options;
  options.max_body = 1024;
  TestServer server(
      [&](Request&&, Responder responder) {
        ++calls;
        responder.send(JsonResponse(200, "{}"));
      },
      options);
  CurlClient client;
  Reply small = client.post(server.url("/small"), std::string(1024, 'a'));
  EXPECT_EQ(small.status, 200);

  // Content-Length over the limit, a 4 KiB body sent at once.
  Reply declared = client.post(server.url("/declared"), std::string(4096, 'a'));
  ASSERT_EQ(declared.code, CURLE_OK);
  EXPECT_EQ(declared.status, 413);
  auto error = boost::json::parse(declared.body).at("error");
  EXPECT_EQ(error.at("code").as_string(), "payload_too_large");
  EXPECT_EQ(declared.header("connection"), "close");

  // A large body, which curl sends after `Expect: 100-continue`.
  Reply large =
      client.post(server.url("/large"), std::string(4 << 20, 'a'), {"Expect: 100-continue"});
  ASSERT_EQ(large.code, CURLE_OK);
  EXPECT_EQ(large.status, 413);

  // A chunked body has no declared length: the limit trips while it is read.
  Reply chunked = client.post(server.url("/chunked"), std::string(64 * 1024, 'a'),
                              {"Transfer-Encoding: chunked"});
  ASSERT_EQ(chunked.code, CURLE_OK);
  EXPECT_EQ(chunked.status, 413);
  EXPECT_EQ(calls.load(), 1);
}

// A declared length near 2^64 is refused from the head: nothing is reserved for it (Beast's
// string_body reserves Content-Length once the parser accepts it).
TEST(ServerTest, AHugeDeclaredLengthAnswers413WithoutReservingIt) {
  std::atomic<int> calls{0};
  ServerOptions options;
  options.max_body = 1 << 20;
  options.body_limits = {{.method = "POST", .path = "/v1/files", .max_body = 8 << 20}};
  TestServer server(
      [&](Request&&, Responder responder) {
        ++calls;
        responder.send(JsonResponse(200, "{}"));
      },
      options);
  for (const char* path : {"/v1/files", "/v1/jobs"}) {
    RawSocket raw(server.port());
    ASSERT_TRUE(raw.send(std::string("POST ") + path +
                         " HTTP/1.1\r\nHost: x\r\nContent-Length: 108853798127648313\r\n\r\nab"));
    EXPECT_TRUE(raw.read_until_closed()) << path;
    EXPECT_TRUE(raw.received().starts_with("HTTP/1.1 413 ")) << raw.received();
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST(ServerTest, StartRefusesANegativeBodyLimit) {
  EventLoop loop(1);
  auto handler = [](Request&&, Responder) {};
  ServerOptions negative;
  negative.max_body = -1;
  EXPECT_EQ(Server::Start(loop, negative, handler).status().code(), StatusCode::kInvalidArgument);
  ServerOptions route;
  route.body_limits = {{.method = "PUT", .path = "/any", .max_body = -1}};
  EXPECT_EQ(Server::Start(loop, route, handler).status().code(), StatusCode::kInvalidArgument);
}

TEST(ServerTest, ExpectContinueIsAnsweredBeforeTheBody) {
  TestServer server(Echo);
  RawSocket raw(server.port());
  ASSERT_TRUE(raw.send(
      "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  ASSERT_TRUE(raw.read_until("\r\n\r\n"));
  EXPECT_EQ(raw.received(), "HTTP/1.1 100 Continue\r\n\r\n");
  raw.clear();
  ASSERT_TRUE(raw.send("hello"));
  ASSERT_TRUE(raw.read_until("r:127.0.0.1\n"));
  EXPECT_TRUE(raw.received().starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_NE(raw.received().find("b:hello\n"), std::string::npos);
}

TEST(ServerTest, MalformedRequestAnswers400AndCloses) {
  std::atomic<int> calls{0};
  TestServer server([&](Request&&, Responder responder) {
    ++calls;
    responder.send(JsonResponse(200, "{}"));
  });
  for (std::string garbage :
       {"GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: nope\r\n\r\n"}) {
    RawSocket raw(server.port());
    ASSERT_TRUE(raw.send(garbage));
    EXPECT_TRUE(raw.read_until_closed()) << garbage;
    EXPECT_TRUE(raw.received().starts_with("HTTP/1.1 400 Bad Request\r\n")) << raw.received();
    EXPECT_NE(raw.received().find("Connection: close\r\n"), std::string::npos);
    EXPECT_NE(raw.received().find("\"code\":\"bad_request\""), std::string::npos);
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST(ServerTest, BadTargetAnswers400AndKeepsTheConnection) {
  TestServer server(Echo);
  RawSocket raw(server.port());
  ASSERT_TRUE(
      raw.send("GET /bad%zz HTTP/1.1\r\nHost: x\r\n\r\nGET /good HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(raw.read_until("r:127.0.0.1\n"));
  EXPECT_TRUE(raw.received().starts_with("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_NE(raw.received().find("HTTP/1.1 200 OK\r\n"), std::string::npos);
}

// Three requests in one packet; the handler answers each later, the first slowest. Responses
// come back in request order, and the handler never holds two requests of one connection.
TEST(ServerTest, PipelinedRequestsAreAnsweredInOrderOneAtATime) {
  std::atomic<int> outstanding{0};
  std::atomic<int> most_outstanding{0};
  EventLoop* loop = nullptr;
  TestServer server([&](Request&& request, Responder responder) {
    const int now = ++outstanding;
    int seen = most_outstanding.load();
    while (now > seen && !most_outstanding.compare_exchange_weak(seen, now)) {
    }
    const Millis delay = request.path == "/1" ? 30 : request.path == "/2" ? 15 : 1;
    loop->post_after(delay, [&, responder, path = request.path] {
      --outstanding;
      Response response;
      response.content_type = "text/plain";
      response.body = "answer" + path;
      responder.send(std::move(response));
    });
  });
  loop = &server.loop();
  RawSocket raw(server.port());
  ASSERT_TRUE(
      raw.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
               "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
               "GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_TRUE(raw.read_until_closed());
  const std::string& got = raw.received();
  const auto a1 = got.find("answer/1");
  const auto a2 = got.find("answer/2");
  const auto a3 = got.find("answer/3");
  ASSERT_NE(a1, std::string::npos);
  ASSERT_NE(a2, std::string::npos);
  ASSERT_NE(a3, std::string::npos);
  EXPECT_LT(a1, a2);
  EXPECT_LT(a2, a3);
  EXPECT_EQ(most_outstanding.load(), 1);
}

TEST(ServerTest, Http10ClosesUnlessAskedToKeepAlive) {
  TestServer server(Echo);
  {
    RawSocket raw(server.port());
    ASSERT_TRUE(raw.send("GET /old HTTP/1.0\r\n\r\n"));
    EXPECT_TRUE(raw.read_until_closed());
    EXPECT_TRUE(raw.received().starts_with("HTTP/1.0 200 OK\r\n"));
    EXPECT_NE(raw.received().find("Connection: close\r\n"), std::string::npos);
  }
  RawSocket raw(server.port());
  ASSERT_TRUE(raw.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  ASSERT_TRUE(raw.read_until("r:127.0.0.1\n"));
  EXPECT_NE(raw.received().find("Connection: keep-alive\r\n"), std::string::npos);
  raw.clear();
  ASSERT_TRUE(raw.send("GET /b HTTP/1.0\r\n\r\n"));  // same connection still served
  EXPECT_TRUE(raw.read_until_closed());
  EXPECT_NE(raw.received().find("\n/b\n"), std::string::npos);
}

TEST(ServerTest, HeadAnswersWithoutABody) {
  TestServer server(Echo);
  RawSocket raw(server.port());
  ASSERT_TRUE(raw.send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /g HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(raw.read_until("r:127.0.0.1\n"));
  const std::string& got = raw.received();
  // The HEAD answer is a head only; the very next bytes are the GET's status line.
  const auto end_of_head = got.find("\r\n\r\n");
  ASSERT_NE(end_of_head, std::string::npos);
  EXPECT_TRUE(got.substr(end_of_head + 4).starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_NE(got.substr(0, end_of_head).find("Content-Length: "), std::string::npos);
}

TEST(ServerTest, IdleConnectionsTimeOut) {
  ServerOptions options;
  options.idle_timeout = 50;
  TestServer server(Echo, options);
  RawSocket raw(server.port());
  ASSERT_TRUE(raw.send("GET /once HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(raw.read_until("r:127.0.0.1\n"));
  EXPECT_TRUE(raw.read_until_closed());  // then nothing: the server closes it
  EXPECT_TRUE(WaitFor([&] { return server.server().open_connections() == 0; }));
}

TEST(ServerTest, AHandlerMayHoldARequestLongerThanTheIdleTimeout) {
  ServerOptions options;
  options.idle_timeout = 20;
  EventLoop* loop = nullptr;
  TestServer server(
      [&](Request&&, Responder responder) {
        loop->post_after(200, [responder] { responder.send(JsonResponse(200, "{\"late\":1}")); });
      },
      options);
  loop = &server.loop();
  CurlClient client;
  Reply reply = client.get(server.url("/slow"));
  ASSERT_EQ(reply.code, CURLE_OK);
  EXPECT_EQ(reply.body, "{\"late\":1}");
}

TEST(ServerTest, ClosedTurnsTrueWhenTheClientLeaves) {
  std::mutex mu;
  std::optional<Responder> held;
  TestServer server([&](Request&&, Responder responder) {
    std::lock_guard<std::mutex> lock(mu);
    held = responder;
  });
  RawSocket raw(server.port());
  ASSERT_TRUE(raw.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return held.has_value();
  }));
  EXPECT_FALSE(held->closed());
  raw.close();
  EXPECT_TRUE(WaitFor([&] { return held->closed(); }));
  held->send(JsonResponse(200, "{}"));  // harmless after the client left
  std::lock_guard<std::mutex> lock(mu);
  held.reset();
  EXPECT_TRUE(WaitFor([&] { return server.server().open_connections() == 0; }));
}

// All clients are held until the last one has arrived: the server must have them all open
// and in its handler at once.
TEST(ServerTest, ManyConcurrentClientsAreAllAnswered) {
  constexpr int kClients = 200;
  std::mutex mu;
  std::vector<std::pair<Responder, std::string>> waiting;
  TestServer server([&](Request&& request, Responder responder) {
    std::vector<std::pair<Responder, std::string>> release;
    {
      std::lock_guard<std::mutex> lock(mu);
      waiting.emplace_back(std::move(responder), request.path);
      if (waiting.size() == kClients) release.swap(waiting);
    }
    for (auto& [r, path] : release) r.send(JsonResponse(200, "\"" + path + "\""));
  });
  CURLM* multi = curl_multi_init();
  std::vector<std::unique_ptr<CurlClient>> clients;
  std::vector<std::string> bodies(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<CurlClient>());
    CURL* easy = clients.back()->easy();
    const std::string url = server.url("/c/" + std::to_string(i));
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &bodies[static_cast<size_t>(i)]);
    curl_easy_setopt(
        easy, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* out) {
          static_cast<std::string*>(out)->append(data, size * n);
          return size * n;
        });
    curl_multi_add_handle(multi, easy);
  }
  int running = 0;
  do {
    curl_multi_perform(multi, &running);
    if (running > 0) curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  } while (running > 0);
  int ok = 0;
  for (int i = 0; i < kClients; ++i) {
    long status = 0;
    curl_easy_getinfo(clients[static_cast<size_t>(i)]->easy(), CURLINFO_RESPONSE_CODE, &status);
    if (status == 200 && bodies[static_cast<size_t>(i)] == "\"/c/" + std::to_string(i) + "\"") ++ok;
    curl_multi_remove_handle(multi, clients[static_cast<size_t>(i)]->easy());
  }
  curl_multi_cleanup(multi);
  EXPECT_EQ(ok, kClients);
}

TEST(ServerTest, StopClosesIdleConnectionsAndRefusesNewOnes) {
  std::mutex mu;
  std::optional<Responder> held;
  TestServer server([&](Request&& request, Responder responder) {
    if (request.path == "/hold") {
      std::lock_guard<std::mutex> lock(mu);
      held = responder;
      return;
    }
    responder.send(JsonResponse(200, "{}"));
  });
  RawSocket idle(server.port());
  ASSERT_TRUE(idle.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(idle.read_until("{}"));
  RawSocket busy(server.port());
  ASSERT_TRUE(busy.send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return held.has_value();
  }));

  server.server().stop();
  EXPECT_TRUE(idle.read_until_closed());
  RawSocket late(server.port());
  EXPECT_FALSE(late.connected());

  // The busy one finishes its request, told that the connection closes, then closes.
  held->send(JsonResponse(200, "{\"done\":true}"));
  EXPECT_TRUE(busy.read_until_closed());
  EXPECT_NE(busy.received().find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(busy.received().find("{\"done\":true}"), std::string::npos);
  busy.close();  // the server lingers until the client has closed its side too
  EXPECT_TRUE(WaitFor([&] { return server.server().open_connections() == 0; }));
  held.reset();  // a Responder must not outlive the EventLoop
}

// A stop while connections are being accepted on the loop's threads: under ThreadSanitizer
// this caught stop() reading a new connection's weak_from_this() while make_shared was still
// setting it. Every connection, accepted before or during the stop, ends closed.
TEST(ServerTest, StopRacingAcceptsClosesEveryConnection) {
  for (int round = 0; round < 20; ++round) {
    TestServer server([](Request&&, Responder responder) { responder.send(JsonResponse(200, "{}")); });
    std::atomic<bool> done{false};
    std::thread dialer([&] {
      std::vector<std::unique_ptr<RawSocket>> sockets;
      while (!done.load() && sockets.size() < 200) {
        sockets.push_back(std::make_unique<RawSocket>(server.port()));
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(round % 5));
    server.server().stop();
    done.store(true);
    dialer.join();
    EXPECT_TRUE(WaitFor([&] { return server.server().open_connections() == 0; }));
  }
}

// What an access log is told: one record per request once its exchange ended, with the
// caller a handler named and nothing of the query.
TEST(ServerTest, AccessLogGetsOneRecordPerRequest) {
  struct Line {
    std::string method, path, caller;
    int status;
    bool complete;
  };
  std::mutex mu;
  std::vector<Line> lines;
  ServerOptions options;
  options.max_body = 16;
  options.access_log = [&](const AccessRecord& r) {
    std::lock_guard lock(mu);
    lines.push_back(
        {std::string(r.method), std::string(r.path), std::string(r.caller), r.status, r.complete});
  };
  TestServer server(
      [](Request&& request, Responder responder) {
        if (request.path == "/gone") return;  // dropped unanswered: the connection closes
        responder.note_caller("acme");
        if (request.path == "/stream") {
          responder.start_stream(200, "text/event-stream");
          responder.write("data: 1\n\n");
          responder.end();
          return;
        }
        responder.send(JsonResponse(201, "{}"));
      },
      options);
  CurlClient client;
  EXPECT_EQ(client.get(server.url("/v1/jobs?after=secret")).status, 201);
  EXPECT_EQ(client.get(server.url("/stream")).status, 200);
  EXPECT_EQ(client.post(server.url("/big"), std::string(64, 'a')).status, 413);
  EXPECT_EQ(client.get(server.url("/gone")).code, CURLE_GOT_NOTHING);
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return lines.size() == 4;
  }));
  std::lock_guard lock(mu);
  EXPECT_EQ(lines[0].method, "GET");
  EXPECT_EQ(lines[0].path, "/v1/jobs");  // never the query
  EXPECT_EQ(lines[0].status, 201);
  EXPECT_EQ(lines[0].caller, "acme");
  EXPECT_TRUE(lines[0].complete);
  EXPECT_EQ(lines[1].path, "/stream");
  EXPECT_EQ(lines[1].status, 200);
  EXPECT_TRUE(lines[1].complete);
  EXPECT_EQ(lines[2].method, "POST");  // refused from its head, before any handler
  EXPECT_EQ(lines[2].path, "/big");
  EXPECT_EQ(lines[2].status, 413);
  EXPECT_EQ(lines[2].caller, "");
  EXPECT_EQ(lines[3].path, "/gone");
  EXPECT_EQ(lines[3].status, 0);
  EXPECT_FALSE(lines[3].complete);
}

TEST(ServerTest, StartRejectsBadListenAddresses) {
  EventLoop loop(1);
  auto handler = [](Request&&, Responder) {};
  for (const char* listen : {"nonsense", "127.0.0.1:99999", "127.0.0.1:x"}) {
    ServerOptions options;
    options.listen = listen;
    auto server = Server::Start(loop, options, handler);
    ASSERT_FALSE(server.ok()) << listen;
    EXPECT_EQ(server.status().code(), StatusCode::kInvalidArgument);
  }
  // A port already taken.
  auto first = Server::Start(loop, {}, handler);
  ASSERT_TRUE(first.ok());
  ServerOptions taken;
  taken.listen = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = Server::Start(loop, taken, handler);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace sluice::http
