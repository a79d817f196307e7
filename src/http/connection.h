// One accepted HTTP connection and the state it shares with its server. Private to http/:
// this header pulls in Asio and Beast, which stay out of the public headers.
//
// A connection is a small state machine run on its own strand, so none of its members needs a
// lock. Exactly one request is outstanding at a time: the next one is parsed only after the
// response to the previous one is fully written, which keeps pipelined clients correct.
//
//   kReading ──request parsed──▶ kHandling ──send()──────────────▶ kFlushing ──written──▶ kReading
//                                    │ start_stream()                   ▲        (keep-alive)
//                                    ▼                                  │ end()
//                                kStreaming ── write() ... ─────────────┘
//   Any phase ──error, abort(), Responder dropped, idle timeout──▶ kClosed
//   kFlushing ──written, no keep-alive──▶ kLingering (send side shut, input drained) ──▶ kClosed
#pragma once

#include <atomic>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "http/server.h"

namespace sluice::http::internal {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;
using Strand = asio::strand<asio::io_context::executor_type>;
using Socket = asio::basic_stream_socket<asio::ip::tcp, Strand>;
using DeadlineTimer =
    asio::basic_waitable_timer<SteadyClock, asio::wait_traits<SteadyClock>, Strand>;

class Connection;

// What a server shares with its acceptor and connections. It lives as long as the last of
// them, which may be after the Server object is gone.
struct ServerShared {
  ServerShared(Handler h, ServerOptions o);

  // Called on the loop threads, concurrently for different connections.
  const Handler handler;
  const ServerOptions options;
  // Bodies held now per options.body_limits entry (BodyLimit::max_in_flight). Shared with the
  // slots handed out, which may outlive the server.
  const std::vector<std::shared_ptr<std::atomic<int>>> bodies_in_flight;

  std::atomic<bool> stopping{false};
  std::atomic<int> open_connections{0};
  // The effective ServerOptions::max_connections (0 = no cap), set before the first accept.
  int max_connections = 0;
  // Set by the listener when it stopped accepting at the cap; the next close clears it and
  // calls resume_accept (set once before the first accept).
  std::atomic<bool> accept_paused{false};
  std::function<void()> resume_accept;
  // Uncounts a connection, and lets the listener accept again if it waits for a free slot.
  void connection_closed();
  // Handler invocations in progress; ~Server waits for zero, so that a destroyed server never
  // calls its handler again.
  std::atomic<int> handler_calls{0};

  // Live connections, for stop(). Touched once per connection, never per request.
  void link(Connection* c);
  void unlink(Connection* c);
  // Asks every live connection to close once it is idle.
  void stop_connections();

 private:
  std::mutex mu_;
  Connection* live_ = nullptr;  // intrusive list through Connection::prev_/next_, guarded by mu_
};

// One request's access-log record while its exchange runs (Connection::open_exchange). Outside
// Connection: clang will not default-construct a nested struct with member initializers while
// the enclosing class is incomplete.
struct AccessExchange {
  std::string method;
  std::string path;
  std::string caller;
  int status = 0;
  SteadyClock::time_point start;
};

class Connection final : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Socket socket, std::shared_ptr<ServerShared> server);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts reading requests. Any thread.
  void start();
  // Closes the connection if it is idle, else after the current response. Any thread.
  void stop_when_idle();

  const Strand& strand() const { return strand_; }
  // The peer went away, the connection failed, or it was closed. Any thread.
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  // ServerOptions::access_log is set. Any thread.
  bool logs_access() const { return static_cast<bool>(server_->options.access_log); }

  // Responder operations. Strand only; each ignores calls that do not fit the phase (the
  // connection closed meanwhile).
  void respond(Response response);
  void begin_stream(int status, std::string content_type, Headers headers);
  // `sent` (optional) runs once the chunk is written; dropped if the connection closes first.
  void stream_chunk(std::string chunk, std::function<void()> sent = {});
  void finish_stream();
  void set_caller(std::string caller);  // Responder::note_caller
  void abandon();  // the last Responder copy was dropped unanswered: close
  void reset();    // abort(): close without answering, with a TCP reset

 private:
  friend struct ServerShared;
  enum class Phase : std::uint8_t {
    kReading,
    kHandling,
    kStreaming,
    kFlushing,
    kLingering,
    kClosed
  };
  using Parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

  void begin();
  void read_more();
  void on_read(const boost::system::error_code& ec, std::size_t n);
  void on_read_error(const boost::system::error_code& ec);
  std::size_t read_size() const;
  void watch();
  bool drain_ready_bytes();
  void on_watch(const boost::system::error_code& ec);
  void parse_input();
  void maybe_send_continue();
  // Once the header is parsed: this route's body limit (ServerOptions::body_limits), applied
  // before any body byte is. False when the request was refused (413).
  bool apply_body_limit();
  bool take_body_slot(std::size_t route);
  // Once the header is parsed: false when the request was refused for untrustworthy framing.
  bool check_framing();
  // After each parse once the header is done: false when what Beast holds unparsed (a
  // chunk-size line, trailers) went past its bound and the request was refused.
  bool check_held_bytes();
  void reject_request(const boost::system::error_code& ec);
  void reject_request(const Status& status, int http_status);
  void answer_and_close(Response response);
  void dispatch_request();
  void flush();
  void on_write(const boost::system::error_code& ec);
  void finish_response();
  // The access log: an exchange opens when a request is read (or refused), takes the status
  // its answer has, and is logged once when the answer is written or the connection closes.
  void open_exchange(std::string_view method, std::string_view path);
  void log_exchange(bool complete);
  void begin_linger();
  void close_now(bool reset);
  void arm_deadline(SteadyClock::time_point at);
  // Brings the timer forward to `at` if it would fire later.
  void arm_deadline_by(SteadyClock::time_point at);
  // When the head or body now being read must be complete; none outside those reads.
  std::optional<SteadyClock::time_point> request_deadline() const;
  void write_some();
  void on_write_some(const boost::system::error_code& ec, std::size_t n);
  void on_deadline();
  bool timed_phase() const;

  const std::shared_ptr<ServerShared> server_;
  const Strand strand_;
  Socket socket_;
  DeadlineTimer deadline_;
  std::string remote_address_;
  SteadyClock::duration idle_limit_;
  SteadyClock::duration linger_limit_;
  SteadyClock::duration header_limit_;     // zero: none
  SteadyClock::duration body_limit_time_;  // zero: none
  std::int64_t body_min_rate_ = 0;

  // Strand-only state.
  Phase phase_ = Phase::kReading;
  boost::beast::flat_buffer buffer_;  // bytes read and not yet parsed
  std::optional<Parser> parser_;      // the request being read
  SteadyClock::time_point activity_;  // last progress (bytes read or written)
  bool head_started_ = false;         // the current request's first byte arrived
  SteadyClock::time_point head_start_;
  SteadyClock::time_point body_start_;  // the current request's head was parsed
  std::size_t write_index_ = 0;         // first buffers_ entry not yet fully written
  std::size_t last_read_size_ = 0;
  bool reading_ = false;          // an async_read_some is pending
  bool watching_ = false;         // an async_wait(read) is pending
  bool may_have_unread_ = false;  // the last read filled its buffer: more may be queued
  bool peer_eof_ = false;
  bool writing_ = false;
  bool continue_checked_ = false;    // Expect: 100-continue looked at for this request
  bool body_limit_applied_ = false;  // apply_body_limit() ran for this request
  std::int64_t body_limit_ = 0;      // the current request's body limit (413 message)
  std::size_t header_fields_ = 0;    // fields of the current request's head (trailers follow)
  std::shared_ptr<void> body_slot_;  // the current request's BodyLimit::max_in_flight slot
  bool keep_alive_ = true;           // of the current request
  bool head_request_ = false;
  bool chunked_ = false;
  bool counted_ = true;  // still counted in open_connections
  std::optional<AccessExchange> exchange_;  // only with ServerOptions::access_log
  int version_ = 11;
  std::vector<std::string> pending_;   // response bytes queued behind the write in flight
  std::vector<std::string> inflight_;  // bytes of the write in flight
  // Stream chunks' `sent` callbacks, queued and in flight like the bytes they follow. They
  // hold Responders (and so this connection): close_now() drops them to break the cycle.
  std::vector<std::function<void()>> pending_sent_;
  std::vector<std::function<void()>> inflight_sent_;
  std::vector<asio::const_buffer> buffers_;

  std::atomic<bool> closed_{false};

  // ServerShared's live list, guarded by its mutex.
  Connection* prev_ = nullptr;
  Connection* next_ = nullptr;
};

}  // namespace sluice::http::internal

namespace sluice::http {

// One request's answer slot, shared by all copies of its Responder.
struct Responder::Impl {
  enum State : std::uint8_t { kFresh, kStreaming, kDone };
  explicit Impl(std::shared_ptr<internal::Connection> c) : conn(std::move(c)) {}
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  const std::shared_ptr<internal::Connection> conn;
  std::atomic<std::uint8_t> state{kFresh};
};

}  // namespace sluice::http
