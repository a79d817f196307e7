// An HTTP/1.1 server (Boost.Beast, keep-alive, pipelining-safe) on an EventLoop. Handlers get a
// parsed Request and a Responder they may call later from any thread, so a handler can wait
// for a store commit or a job to finish without holding a thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "http/event_loop.h"

namespace sluice::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;                                      // "GET", "POST", ...
  std::string target;                                      // path and query as sent
  std::string path;                                        // percent-decoded path, no query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  Headers headers;
  std::string body;
  std::string remote_address;
  // For a route with BodyLimit::max_in_flight: one of its slots, held while this request's
  // body is in memory. A handler that keeps the body past its return keeps this with it.
  std::shared_ptr<void> body_slot;

  // Case-insensitive header lookup; empty when absent.
  std::string header(std::string_view name) const;
  // The first query parameter with this name.
  std::optional<std::string> query_param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  Headers headers;
  std::string body;
};

// Answers one request, exactly once, from any thread. A Responder dropped without an answer
// closes the connection. Copyable: copies share the one answer. No copy may outlive the
// EventLoop (it holds the connection's sockets and timers).
class Responder {
 public:
  struct Impl;
  explicit Responder(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

  void send(Response response) const;
  // Closes the connection without answering (fault injection: a reset).
  void abort() const;

  // Streaming (Server-Sent Events, chunked): start once, write chunks, end once.
  void start_stream(int status, std::string content_type, Headers headers = {}) const;
  void write(std::string chunk) const;
  // Writes a chunk, then calls `sent` (on the connection's strand) once the chunk has gone
  // out to the socket: a producer that writes its next chunk from `sent` keeps at most one
  // chunk queued, however slow the client. `sent` is dropped uncalled when the connection
  // closes first (check closed() to stop a producer that polls instead).
  void write(std::string chunk, std::function<void()> sent) const;
  void end() const;
  // True once the client went away; a stream writer should stop.
  bool closed() const;
  // Names who asked (a tenant) in this request's AccessRecord. Any thread, before the answer.
  void note_caller(std::string caller) const;

 private:
  std::shared_ptr<Impl> impl_;
};

using Handler = std::function<void(Request&&, Responder)>;

// A body limit of its own for one route (an upload endpoint), over ServerOptions::max_body.
struct BodyLimit {
  std::string method;  // "POST"
  std::string path;    // exact path, without the query: "/v1/files"
  std::int64_t max_body = 0;  // bytes, >= 0: every body has a limit
  // Bodies of this route held at once, each from its head until the handler drops
  // Request::body_slot (0 = no cap). Past it: 503 with Retry-After before any body byte is
  // read, then the connection closes. Bounds the memory of concurrent large uploads.
  int max_in_flight = 0;
};

// One request as an access log line tells it. `method` and `path` are empty when the request
// could not be parsed that far; `status` is 0 when the connection closed before any answer.
// Never a header, a query or a body: nothing secret.
struct AccessRecord {
  std::string_view method;
  std::string_view path;  // decoded, without the query
  int status = 0;
  double ms = 0;  // from the request read in full to its answer written in full (or the close)
  bool complete = false;    // the answer went out in full
  std::string_view caller;  // Responder::note_caller's, else empty
  std::string_view remote;
};

struct ServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free one
  // Larger bodies answer 413. Never unlimited (Start refuses a negative limit): Beast reserves
  // a declared Content-Length up to the limit, so a limit is what bounds that allocation.
  std::int64_t max_body = 32 << 20;
  std::vector<BodyLimit> body_limits;  // routes whose limit differs from max_body
  // Timeouts; 0 turns one off. A peer can hold a connection only by making progress.
  Millis idle_timeout = 120'000;   // silence while waiting for a request, reading or writing one
  Millis header_timeout = 10'000;  // a request head must be complete this long after its first byte
  // A body must be complete body_timeout after its head, plus one second per body_min_rate
  // bytes received: a fast upload of any size passes, a trickle is cut. Rate 0: a fixed deadline.
  Millis body_timeout = 60'000;
  std::int64_t body_min_rate = 16 << 10;  // bytes a second
  // Open connections at most (0 = no cap). At the cap the server stops accepting until one
  // closes; further clients wait in the kernel's listen backlog.
  int max_connections = 4096;
  // Called once per request, on a loop thread, once its exchange ended: quick and never
  // blocking (hand the line to an async logger). None: no record is kept at all.
  std::function<void(const AccessRecord&)> access_log;
};

class Server {
 public:
  static Result<std::unique_ptr<Server>> Start(EventLoop& loop, ServerOptions options,
                                               Handler handler);
  virtual ~Server() = default;
  virtual std::uint16_t port() const = 0;
  // Stops accepting; open connections finish their current request and close.
  virtual void stop() = 0;
  // Connections open right now.
  virtual int open_connections() const = 0;
};

// Error body of API.md: {"error": {"code", "message", "field"}} with the matching HTTP status,
// and Retry-After for a status that asks for a later retry (its own seconds, else 1).
Response ErrorResponse(const Status& status);
int HttpStatusFor(StatusCode code);
Response JsonResponse(int status, std::string body);

}  // namespace sluice::http
