// The libcurl engine against the project's own HTTP server on a loopback port: the response
// body cap (counted after content decoding) and the Accept-Encoding switch.
#include <gtest/gtest.h>
#include <zlib.h>

#include <condition_variable>
#include <mutex>
#include <string>

#include "core/status.h"
#include "gateway/http_client.h"
#include "http/server.h"
#include "http/test_client.h"

namespace sluice {
namespace {

using http::testing::TestServer;

HttpResponse Fetch(HttpClient& client, HttpRequest request) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<HttpResponse> out;
  client.send(std::move(request), [&](HttpResponse r) {
    std::lock_guard lock(mu);
    out = std::move(r);
    cv.notify_all();
  });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return out.has_value(); });
  return *out;
}

HttpRequest Get(std::string url, std::int64_t max_response_bytes) {
  HttpRequest r;
  r.url = std::move(url);
  r.timeout = 30'000;
  r.max_response_bytes = max_response_bytes;
  return r;
}

// `inflated` zero bytes as one gzip member: about a thousandth of that on the wire.
std::string GzipOfZeros(std::size_t inflated) {
  z_stream z{};
  CHECK(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);
  const std::string zeros(1 << 20, '\0');
  std::string out;
  char chunk[1 << 16];
  std::size_t left = inflated;
  int flush = Z_NO_FLUSH;
  do {
    const std::size_t n = std::min(left, zeros.size());
    left -= n;
    flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
    z.avail_in = static_cast<uInt>(n);
    do {
      z.next_out = reinterpret_cast<Bytef*>(chunk);
      z.avail_out = sizeof chunk;
      CHECK(deflate(&z, flush) != Z_STREAM_ERROR);
      out.append(chunk, sizeof chunk - z.avail_out);
    } while (z.avail_out == 0);
  } while (flush != Z_FINISH);
  deflateEnd(&z);
  return out;
}

http::Handler Answer(std::string body, http::Headers headers = {}) {
  return [body = std::move(body), headers = std::move(headers)](http::Request&&, http::Responder responder) {
    http::Response response;
    response.status = 200;
    response.content_type = "application/json";
    response.headers = headers;
    response.body = body;
    responder.send(std::move(response));
  };
}

TEST(CurlHttpClientTest, ABodyUnderTheCapArrivesWhole) {
  TestServer server(Answer(std::string(1000, 'x')));
  auto client = NewCurlHttpClient();
  HttpResponse r = Fetch(*client, Get(server.url("/small"), 1000));
  ASSERT_EQ(r.error, TransportError::kNone) << r.error_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), 1000u);
}

TEST(CurlHttpClientTest, ABodyPastTheCapIsAbortedAsResponseTooLarge) {
  TestServer server(Answer(std::string(4 << 20, 'x')));
  auto client = NewCurlHttpClient();
  HttpResponse r = Fetch(*client, Get(server.url("/big"), 64 << 10));
  EXPECT_EQ(r.error, TransportError::kResponseTooLarge) << r.error_message;
  EXPECT_EQ(r.status, 200);  // the headers had arrived
  EXPECT_TRUE(r.body.empty());
  EXPECT_NE(r.error_message.find("65536"), std::string::npos) << r.error_message;
}

// A decompression bomb: 64 KiB on the wire, 64 MiB decoded. The decoded bytes count.
TEST(CurlHttpClientTest, TheCapCountsDecodedBytesOfAGzipAnswer) {
  const std::string bomb = GzipOfZeros(64 << 20);
  ASSERT_LT(bomb.size(), 1u << 20);
  TestServer server(Answer(bomb, {{"Content-Encoding", "gzip"}}));
  auto client = NewCurlHttpClient();
  HttpResponse r = Fetch(*client, Get(server.url("/bomb"), 1 << 20));
  EXPECT_EQ(r.error, TransportError::kResponseTooLarge) << r.error_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());

  // The same encoding within the cap decodes as before.
  TestServer small(Answer(GzipOfZeros(100'000), {{"Content-Encoding", "gzip"}}));
  HttpResponse ok = Fetch(*client, Get(small.url("/gzip"), 1 << 20));
  ASSERT_EQ(ok.error, TransportError::kNone) << ok.error_message;
  EXPECT_EQ(ok.body, std::string(100'000, '\0'));
}

}  // namespace
}  // namespace sluice
