// The seam for outbound HTTP: the gateway talks to providers through this interface, so a test
// can point it at the project's own mock-llm on a loopback port. The engine is libcurl's multi
// interface on one event thread (curl_http_client.h): thousands of calls in flight, no thread
// per call, keep-alive connection reuse, TLS with verification, proxies from the environment.
// A second engine (asio_http_client.cc) speaks plain http:// on the server's own EventLoop with
// O(1) work per call; NewRoutingHttpClient puts the two behind one HttpClient by URL scheme.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time.h"

struct sockaddr;

namespace sluice {

namespace http {
class EventLoop;
}

struct HttpRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // POST when non-empty
  Millis timeout = 60'000;
  // The largest response body accepted, counted after content decoding (what a gzip or brotli
  // answer inflates to, not what crossed the wire): past it the transfer is aborted and the
  // call ends kResponseTooLarge, so a receiver cannot make the process hold an unbounded body
  // (a 2 MiB gzip reply inflating to 2 GiB). The default only keeps a caller that forgot to
  // choose from being unbounded; callers set what their answers can legitimately be.
  std::int64_t max_response_bytes = 64 << 20;
  // Whether to offer Accept-Encoding (gzip, brotli, ...; the curl engine only). Callers that
  // read little of the answer (webhooks) turn it off: decompression costs CPU for nothing.
  bool accept_compressed = true;
};

enum class TransportError {
  kNone,        // an HTTP answer arrived (any status)
  kTimeout,     // no complete answer within the timeout
  kConnect,     // refused, unreachable, DNS
  kReset,       // the connection broke mid-way (reset, empty reply)
  kCanceled,    // cancel() was called
  kOther,
  kRefused,     // the client's address guard refused every address of the host
  // The body passed HttpRequest::max_response_bytes (after decoding): the transfer was
  // aborted. `status` holds the answer's status code (its headers had arrived), `body` is empty.
  kResponseTooLarge,
};

struct HttpResponse {
  TransportError error = TransportError::kNone;
  std::string error_message;
  int status = 0;
  std::string body;
  std::string retry_after;  // the Retry-After header, if any
  Millis elapsed = 0;
  double total_ms = 0;  // the transfer as libcurl timed it, µs precision
};

class HttpClient {
 public:
  using Callback = std::function<void(HttpResponse)>;
  virtual ~HttpClient() = default;
  // Starts a request; `done` runs exactly once, on the client's thread: keep it short.
  // Returns a handle for cancel().
  virtual std::uint64_t send(HttpRequest request, Callback done) = 0;
  // Aborts a request in flight; its callback runs with kCanceled. Unknown handles are ignored.
  virtual void cancel(std::uint64_t handle) = 0;
};

struct CurlClientOptions {
  int max_connections = 20'000;  // the connection cache: enough for every call in flight
  // When set, asked about every address libcurl is about to connect to (after DNS, for each
  // address it tries), with the URL's host (lower case, IPv6 without brackets): a non-empty
  // answer refuses that connection, and a call left with no connection ends kRefused with the
  // answer as its message. The address checked is the address connected, so DNS rebinding
  // between a check and the connect is impossible. With a guard, proxies from the environment
  // are not used (the guard must see the target's address) and only http/https is spoken.
  // Called on the client's thread: keep it quick. (Webhooks: events/webhook_target.h.)
  std::function<std::string(std::string_view host, const sockaddr& address)> address_guard;
};

std::unique_ptr<HttpClient> NewCurlHttpClient(CurlClientOptions options = {});

struct AsioClientOptions {
  int max_idle = 20'000;            // idle keep-alive connections kept, all hosts together
  Millis idle_timeout = 60'000;     // an idle connection unused this long is closed, not reused
  // A ceiling over every request's max_response_bytes: a larger body fails the call
  // (kResponseTooLarge).
  std::int64_t max_body = 64 << 20;
};

// Plain http:// only (any other scheme fails the call with kOther), no proxy, no TLS, no
// content encoding. Runs entirely on `loop` (no thread of its own): `done` runs on one of the
// loop's threads, never inside send() or cancel(). Per host:port, a LIFO pool of idle
// keep-alive connections, so each call costs O(1) whatever the number of open connections.
// A call that fails on a reused connection before any byte of the answer arrived (the server
// had closed the idle connection) is retried once on a fresh connection; as with libcurl, such
// a request may in rare cases have reached the server twice. `loop` must outlive the client;
// the client may be destroyed with calls in flight (they end kCanceled "client stopped").
std::unique_ptr<HttpClient> NewAsioHttpClient(http::EventLoop& loop, AsioClientOptions options = {});

// http:// URLs go to `plain`, everything else (https://) to `tls`. When the environment names
// a proxy for http (http_proxy, HTTP_PROXY, all_proxy or ALL_PROXY, read once here), http://
// URLs go to `tls` too (libcurl honours the proxy), unless their host is listed in no_proxy /
// NO_PROXY (exact host, domain suffix, or "*"). Handles of both clients share one space.
std::unique_ptr<HttpClient> NewRoutingHttpClient(std::unique_ptr<HttpClient> plain,
                                                 std::unique_ptr<HttpClient> tls);

}  // namespace sluice
