// The seam for outbound HTTP: the gateway talks to providers through this interface, so a test
// can point it at the project's own mock-llm on a loopback port. The engine is libcurl's multi
// interface on one event thread (curl_http_client.h): thousands of calls in flight, no thread
// per call, keep-alive connection reuse, TLS with verification, proxies from the environment.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/time.h"

namespace sluice {

struct HttpRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // POST when non-empty
  Millis timeout = 60'000;
};

enum class TransportError {
  kNone,        // an HTTP answer arrived (any status)
  kTimeout,     // no complete answer within the timeout
  kConnect,     // refused, unreachable, DNS
  kReset,       // the connection broke mid-way (reset, empty reply)
  kCanceled,    // cancel() was called
  kOther,
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
};

std::unique_ptr<HttpClient> NewCurlHttpClient(CurlClientOptions options = {});

}  // namespace sluice
