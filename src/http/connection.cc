#include "http/connection.h"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <exception>
#include <limits>
#include <span>
#include <utility>

#include "http/request_framing.h"
#include "http/request_target.h"
#include "http/response_head.h"

namespace sluice::http::internal {
namespace {

namespace beast_http = boost::beast::http;
using boost::system::error_code;

// Reads ask for 4 KiB (a typical request), up to 64 KiB while a large body is arriving.
constexpr std::size_t kReadChunk = 4 * 1024;
constexpr std::size_t kMaxReadChunk = 64 * 1024;
// Bytes of later (pipelined) requests buffered while one is being handled; beyond this the
// connection stops reading until the current response is written.
constexpr std::size_t kPipelineCap = 64 * 1024;
// After a final response with Connection: close, how long unread input is drained before the
// socket closes (closing with unread input sends a reset that can destroy the response).
constexpr std::chrono::milliseconds kLingerLimit{2000};
constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";

bool IsWouldBlock(const error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

std::string ChunkSizeLine(std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  char digits[20];
  int n = 0;
  do {
    digits[n++] = kHex[size & 0xf];
    size >>= 4;
  } while (size != 0);
  std::string line;
  line.reserve(static_cast<std::size_t>(n) + 2);
  while (n > 0) line.push_back(digits[--n]);
  line.append("\r\n");
  return line;
}

}  // namespace

// ---- ServerShared ----------------------------------------------------------------------

namespace {

std::vector<std::shared_ptr<std::atomic<int>>> InFlightCounters(const ServerOptions& options) {
  std::vector<std::shared_ptr<std::atomic<int>>> counters;
  for (std::size_t i = 0; i < options.body_limits.size(); ++i) {
    counters.push_back(std::make_shared<std::atomic<int>>(0));
  }
  return counters;
}

}  // namespace

ServerShared::ServerShared(Handler h, ServerOptions o)
    : handler(std::move(h)), options(std::move(o)), bodies_in_flight(InFlightCounters(options)) {}

void ServerShared::link(Connection* c) {
  std::lock_guard<std::mutex> lock(mu_);
  c->next_ = live_;
  if (live_ != nullptr) live_->prev_ = c;
  live_ = c;
}

void ServerShared::unlink(Connection* c) {
  std::lock_guard<std::mutex> lock(mu_);
  if (c->prev_ != nullptr) c->prev_->next_ = c->next_;
  if (c->next_ != nullptr) c->next_->prev_ = c->prev_;
  if (live_ == c) live_ = c->next_;
  c->prev_ = c->next_ = nullptr;
}

void ServerShared::connection_closed() {
  open_connections.fetch_sub(1, std::memory_order_acq_rel);
  if (accept_paused.load() && accept_paused.exchange(false) && resume_accept) resume_accept();
}

void ServerShared::stop_connections() {
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Connection* c = live_; c != nullptr; c = c->next_) {
      // A connection whose last reference is being dropped is still listed until its
      // destructor takes mu_; lock() then yields null and it is skipped.
      if (auto conn = c->weak_from_this().lock()) live.push_back(std::move(conn));
    }
  }
  // Outside mu_: dropping what may be the last reference runs ~Connection, which takes it.
  for (auto& conn : live) conn->stop_when_idle();
}

// ---- Connection: lifetime --------------------------------------------------------------

Connection::Connection(Socket socket, std::shared_ptr<ServerShared> server)
    : server_(std::move(server)),
      strand_(socket.get_executor()),
      socket_(std::move(socket)),
      deadline_(strand_) {
  server_->open_connections.fetch_add(1, std::memory_order_relaxed);
  error_code ec;
  auto peer = socket_.remote_endpoint(ec);
  if (!ec) remote_address_ = peer.address().to_string();
  const Millis idle = server_->options.idle_timeout;
  // No timeout configured: a day stands in for "never", and keeps the timer arithmetic simple.
  idle_limit_ = std::chrono::milliseconds(idle > 0 ? idle : 24 * 3600 * 1000);
  linger_limit_ = std::min<SteadyClock::duration>(idle_limit_, kLingerLimit);
  header_limit_ = std::chrono::milliseconds(std::max<Millis>(server_->options.header_timeout, 0));
  body_limit_time_ = std::chrono::milliseconds(std::max<Millis>(server_->options.body_timeout, 0));
  body_min_rate_ = std::max<std::int64_t>(server_->options.body_min_rate, 0);
}

Connection::~Connection() {
  server_->unlink(this);
  if (counted_) server_->connection_closed();
}

void Connection::start() {
  // Listed only now that make_shared has set weak_from_this(): stop_connections() reads it
  // from another thread. One linked after that pass sees `stopping` in begin() instead.
  server_->link(this);
  asio::dispatch(strand_, [self = shared_from_this()] { self->begin(); });
}

void Connection::stop_when_idle() {
  asio::post(strand_, [self = shared_from_this()] {
    const bool idle = self->phase_ == Phase::kReading && !self->writing_ &&
                      self->buffer_.size() == 0 && !(self->parser_ && self->parser_->got_some());
    // A busy connection sees `stopping` when its response is written, and closes then.
    if (idle) self->close_now(false);
  });
}

void Connection::begin() {
  if (server_->stopping.load()) {
    close_now(false);
    return;
  }
  activity_ = SteadyClock::now();
  arm_deadline(activity_ + idle_limit_);
  parse_input();
}

void Connection::close_now(bool reset) {
  if (phase_ == Phase::kClosed) return;
  if (exchange_) log_exchange(false);
  phase_ = Phase::kClosed;
  closed_.store(true, std::memory_order_release);
  error_code ec;
  deadline_.cancel();
  if (reset) socket_.set_option(asio::socket_base::linger(true, 0), ec);
  socket_.close(ec);  // pending operations complete with operation_aborted
  parser_.reset();
  body_slot_.reset();
  pending_.clear();  // inflight_ stays: a cancelled write may still refer to it
  pending_sent_.clear();
  inflight_sent_.clear();
  buffer_.clear();
  buffer_.shrink_to_fit();
  if (counted_) {
    counted_ = false;
    server_->connection_closed();
  }
}

// ---- Connection: reading ---------------------------------------------------------------

// GCC 12 misreads boost::optional's storage in content_length_remaining() (sanitizer builds).
// Clang has no such warning (and would warn about the unknown group).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
std::size_t Connection::read_size() const {
  std::size_t want = kReadChunk;
  if (parser_ && parser_->is_header_done()) {
    auto remaining = parser_->content_length_remaining();
    want = remaining ? static_cast<std::size_t>(
                           std::clamp<std::uint64_t>(*remaining, kReadChunk, kMaxReadChunk))
                     : kMaxReadChunk;  // chunked body: length unknown
  }
  // Use spare capacity the buffer already has rather than asking for less.
  const std::size_t spare = buffer_.capacity() - buffer_.size();
  return std::min(std::max(want, spare), kMaxReadChunk);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

void Connection::read_more() {
  if (reading_ || peer_eof_ || phase_ == Phase::kClosed) return;
  reading_ = true;
  last_read_size_ = read_size();
  socket_.async_read_some(
      buffer_.prepare(last_read_size_),
      [self = shared_from_this()](const error_code& ec, std::size_t n) { self->on_read(ec, n); });
}

void Connection::on_read(const error_code& ec, std::size_t n) {
  reading_ = false;
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    on_read_error(ec);
    return;
  }
  buffer_.commit(n);
  may_have_unread_ = n == last_read_size_;
  switch (phase_) {
    case Phase::kReading:
      activity_ = SteadyClock::now();
      parse_input();
      return;
    case Phase::kLingering:
      buffer_.consume(buffer_.size());
      read_more();
      return;
    default:
      // Bytes of a pipelined request: they wait in the buffer for the current response.
      watch();
      return;
  }
}

void Connection::on_read_error(const error_code& ec) {
  if (ec == asio::error::eof) peer_eof_ = true;
  closed_.store(true, std::memory_order_release);
  if (phase_ == Phase::kHandling || phase_ == Phase::kFlushing) {
    // A peer that only shut its sending side may still read the answer; a reset peer cannot.
    keep_alive_ = false;
    if (ec != asio::error::eof) close_now(false);
    return;
  }
  close_now(false);  // reading, lingering, or a stream whose reader left
}

// While a request is being handled nothing is read for the next one, but the socket is
// watched (async_wait, no buffer) so that a peer that disconnects is noticed: closed() turns
// true and a stream or long-poll can stop early. Readiness is edge-triggered in Asio's epoll
// reactor, so bytes that were already waiting before the watch started must be drained first,
// or the watch (and a read queued behind it) would wait for an edge that never comes.
void Connection::watch() {
  if (phase_ != Phase::kHandling && phase_ != Phase::kStreaming) return;
  if (watching_ || reading_ || peer_eof_ || buffer_.size() >= kPipelineCap) return;
  if (may_have_unread_ && !drain_ready_bytes()) return;
  watching_ = true;
  socket_.async_wait(Socket::wait_read,
                     [self = shared_from_this()](const error_code& ec) { self->on_watch(ec); });
}

// Reads what the kernel holds without blocking (the socket is in non-blocking mode). False
// when watching must not go on: the pipeline cap was reached or the connection failed.
bool Connection::drain_ready_bytes() {
  while (buffer_.size() < kPipelineCap) {
    error_code ec;
    const std::size_t n = socket_.read_some(buffer_.prepare(kReadChunk), ec);
    if (IsWouldBlock(ec)) {
      may_have_unread_ = false;
      return true;
    }
    if (ec) {
      on_read_error(ec);
      return false;
    }
    buffer_.commit(n);
    if (n < kReadChunk) {
      may_have_unread_ = false;
      return true;
    }
  }
  return false;
}

void Connection::on_watch(const error_code& ec) {
  watching_ = false;
  if (ec || phase_ == Phase::kClosed) return;
  if (phase_ == Phase::kReading) {
    read_more();  // a no-op when the read for the next request is already pending
    return;
  }
  if (reading_) return;
  may_have_unread_ = true;  // readable: drain, then watch again
  watch();
}

// ---- Connection: parsing and dispatch --------------------------------------------------

void Connection::parse_input() {
  if (phase_ != Phase::kReading) return;
  if (!parser_) {
    parser_.emplace();
    // The largest limit of any route lets the header through; apply_body_limit() then sets
    // this request's own before the body is parsed (non-eager: put() stops after the header).
    // Beast's own default (8 MiB) must never apply.
    const std::int64_t max_body = HeadBodyLimit(server_->options);
    parser_->body_limit(static_cast<std::uint64_t>(max_body));
    body_limit_ = max_body;
    parser_->header_limit(kHeaderLimit);
    parser_->eager(false);
    continue_checked_ = false;
    body_limit_applied_ = false;
    head_started_ = false;
  }
  // The head deadline runs from its first byte, not from the wait for it (idle_timeout's).
  if (!head_started_ && (buffer_.size() > 0 || parser_->got_some())) {
    head_started_ = true;
    head_start_ = SteadyClock::now();
    if (header_limit_ > SteadyClock::duration::zero()) arm_deadline_by(head_start_ + header_limit_);
  }
  error_code ec;
  while (buffer_.size() > 0 && !parser_->is_done()) {
    const std::size_t n = parser_->put(buffer_.data(), ec);
    buffer_.consume(n);
    if (ec == beast_http::error::need_more) {
      ec = {};
      break;
    }
    if (ec) {
      reject_request(ec);
      return;
    }
    if (parser_->is_header_done() && !body_limit_applied_) {
      if (!check_framing() || !apply_body_limit()) return;
    }
    if (n == 0) break;
  }
  if (parser_->is_header_done() && !check_held_bytes()) return;
  if (parser_->is_done()) {
    dispatch_request();
    return;
  }
  if (parser_->is_header_done() && !continue_checked_) maybe_send_continue();
  read_more();
}

// The rules are request_framing.h's. (Beast itself reads a request with a Transfer-Encoding
// other than chunked as having no body and would parse the body as the next request.)
bool Connection::check_framing() {
  const auto& request = parser_->get();
  std::vector<std::string_view> encodings;
  for (const auto& field : request) {
    if (field.name() != beast_http::field::transfer_encoding) continue;
    encodings.emplace_back(field.value().data(), field.value().size());
  }
  const bool has_length = request.find(beast_http::field::content_length) != request.end();
  if (auto refusal = CheckTransferEncoding(encodings, has_length)) {
    reject_request(refusal->status, refusal->http_status);
    return false;
  }
  return true;
}

// What Beast holds unparsed after the head is bounded (request_framing.h, CheckHeldBytes).
bool Connection::check_held_bytes() {
  const auto& request = parser_->get();
  const bool done = parser_->is_done();
  const auto fields =
      done ? static_cast<std::size_t>(std::distance(request.begin(), request.end())) : 0;
  std::string_view held(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  if (auto refusal = CheckHeldBytes(done, fields, header_fields_, held)) {
    reject_request(refusal->status, refusal->http_status);
    return false;
  }
  return true;
}

bool Connection::apply_body_limit() {
  body_limit_applied_ = true;
  const auto& request = parser_->get();
  const std::string_view method(request.method_string().data(), request.method_string().size());
  const std::string_view target(request.target().data(), request.target().size());
  const std::optional<std::size_t> route = RouteOfBodyLimit(server_->options, method, target);
  const std::int64_t limit = route ? server_->options.body_limits[*route].max_body : server_->options.max_body;
  body_limit_ = limit;
  if (route && !take_body_slot(*route)) return false;
  header_fields_ = static_cast<std::size_t>(std::distance(request.begin(), request.end()));
  const auto length = parser_->content_length();
  // Refused before Beast reserves the declared length (string_body reserves Content-Length).
  if (length && *length > static_cast<std::uint64_t>(limit)) {
    reject_request(beast_http::error::body_limit);
    return false;
  }
  parser_->body_limit(static_cast<std::uint64_t>(limit));
  parser_->eager(true);
  body_start_ = SteadyClock::now();
  if (auto at = request_deadline()) arm_deadline_by(*at);
  return true;
}

// A slot of the route's BodyLimit::max_in_flight, taken before any body byte is read; false
// (and answered 503) when they are all held.
bool Connection::take_body_slot(std::size_t route) {
  const int cap = server_->options.body_limits[route].max_in_flight;
  if (cap <= 0) return true;
  std::shared_ptr<std::atomic<int>> held = server_->bodies_in_flight[route];
  if (held->fetch_add(1) >= cap) {
    held->fetch_sub(1);
    reject_request(Unavailable("too many uploads to this route are in progress (" +
                               std::to_string(cap) + " at once); retry shortly")
                       .with_error_code("too_many_uploads")
                       .with_retry_after(1),
                   503);
    return false;
  }
  body_slot_ =
      std::shared_ptr<void>(nullptr, [held = std::move(held)](void*) { held->fetch_sub(1); });
  return true;
}

// A client that sent `Expect: 100-continue` waits for this before sending its body. An
// oversized body never gets here: its Content-Length already failed the body limit.
void Connection::maybe_send_continue() {
  continue_checked_ = true;
  const auto& request = parser_->get();
  if (request.version() < 11) return;
  auto expect = request.find(beast_http::field::expect);
  if (expect == request.end() || !boost::beast::iequals(expect->value(), "100-continue")) return;
  pending_.emplace_back(kContinue);
  flush();
}

void Connection::reject_request(const Status& status, int http_status) {
  Response response = ErrorResponse(status);
  response.status = http_status;
  answer_and_close(std::move(response));
}

void Connection::reject_request(const error_code& ec) {
  Response response;
  if (ec == beast_http::error::body_limit) {
    response = ErrorResponse(
        Status(StatusCode::kPayloadTooLarge,
               "the request body is larger than " + std::to_string(body_limit_) + " bytes"));
  } else if (ec == beast_http::error::header_limit) {
    response = ErrorResponse(InvalidArgument("the request headers are larger than 64 KiB")
                                 .with_error_code("headers_too_large"));
    response.status = 431;
  } else {
    response = ErrorResponse(
        InvalidArgument("malformed HTTP request: " + ec.message()).with_error_code("bad_request"));
  }
  answer_and_close(std::move(response));
}

void Connection::answer_and_close(Response response) {
  // The framing is lost (or the body is not wanted): answer, then close.
  if (logs_access() && !exchange_) {
    // The request line is in the message once parsed, even when a field then failed.
    if (parser_ && !parser_->get().method_string().empty()) {
      const auto& head = parser_->get();
      const std::string_view target(head.target().data(), head.target().size());
      open_exchange(std::string_view(head.method_string().data(), head.method_string().size()),
                    target.substr(0, target.find('?')));
    } else {
      open_exchange({}, {});
    }
  }
  parser_.reset();
  body_slot_.reset();
  version_ = 11;
  head_request_ = false;
  keep_alive_ = false;
  phase_ = Phase::kHandling;
  respond(std::move(response));
}

void Connection::dispatch_request() {
  auto& message = parser_->get();
  version_ = message.version() == 10 ? 10 : 11;
  keep_alive_ = message.keep_alive();
  head_request_ = message.method() == beast_http::verb::head;
  phase_ = Phase::kHandling;

  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  const bool target_ok = DecodeRequestTarget(request.target, request.path, request.query);
  if (logs_access()) open_exchange(request.method, request.path);
  if (!target_ok) {
    parser_.reset();
    respond(ErrorResponse(InvalidArgument("malformed request target", "target")));
    return;
  }
  request.headers.reserve(static_cast<std::size_t>(std::distance(message.begin(), message.end())));
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());
  request.body_slot = std::move(body_slot_);
  request.remote_address = remote_address_;
  parser_.reset();
  if (buffer_.size() == 0 && buffer_.capacity() > kMaxReadChunk) buffer_.shrink_to_fit();

  // Dekker-style with ~Server: either it sees this call counted, or this sees `stopping`.
  server_->handler_calls.fetch_add(1);
  if (server_->stopping.load()) {
    server_->handler_calls.fetch_sub(1);
    keep_alive_ = false;
    respond(ErrorResponse(Unavailable("the server is shutting down")));
    return;
  }
  {
    Responder responder(std::make_shared<Responder::Impl>(shared_from_this()));
    try {
      server_->handler(std::move(request), responder);
    } catch (const std::exception& e) {
      // The handler's own bug, but one request must not take the loop down.
      responder.send(ErrorResponse(Internal(std::string("handler failed: ") + e.what())));
    } catch (...) {
      responder.send(ErrorResponse(Internal("handler failed")));
    }
  }  // an unanswered, unkept Responder closes the connection here
  server_->handler_calls.fetch_sub(1, std::memory_order_release);
  watch();
}

// ---- Connection: writing ---------------------------------------------------------------

void Connection::respond(Response response) {
  if (phase_ != Phase::kHandling) return;
  if (response.status < 100 || response.status > 999) response.status = 500;
  if (exchange_) exchange_->status = response.status;
  if (HeadersAskToClose(response.headers) || server_->stopping.load(std::memory_order_relaxed)) {
    keep_alive_ = false;
  }
  ResponseHead head;
  head.status = response.status;
  head.content_type = response.content_type;
  head.headers = &response.headers;
  head.version = version_;
  head.keep_alive = keep_alive_;
  head.content_length = response.body.size();
  std::string bytes;
  bytes.reserve(160);
  AppendResponseHead(head, bytes);
  pending_.push_back(std::move(bytes));
  if (!response.body.empty() && !head_request_ && StatusAllowsBody(response.status)) {
    pending_.push_back(std::move(response.body));
  }
  phase_ = Phase::kFlushing;
  flush();
}

void Connection::begin_stream(int status, std::string content_type, Headers headers) {
  if (phase_ != Phase::kHandling) return;
  if (status < 100 || status > 999) status = 500;
  if (exchange_) exchange_->status = status;
  if (HeadersAskToClose(headers) || server_->stopping.load(std::memory_order_relaxed)) {
    keep_alive_ = false;
  }
  // HTTP/1.0 has no chunked encoding: the stream ends when the connection closes.
  chunked_ = version_ >= 11;
  if (!chunked_) keep_alive_ = false;
  ResponseHead head;
  head.status = status;
  head.content_type = content_type;
  head.headers = &headers;
  head.version = version_;
  head.keep_alive = keep_alive_;
  head.framing = chunked_ ? Framing::kChunked : Framing::kUntilClose;
  std::string bytes;
  AppendResponseHead(head, bytes);
  pending_.push_back(std::move(bytes));
  phase_ = Phase::kStreaming;
  flush();
}

void Connection::stream_chunk(std::string chunk, std::function<void()> sent) {
  if (phase_ != Phase::kStreaming || head_request_) return;
  if (sent) pending_sent_.push_back(std::move(sent));
  if (chunk.empty()) {
    flush();  // nothing to write (an empty chunk would end the stream); `sent` still runs
    return;
  }
  if (chunked_) {
    pending_.push_back(ChunkSizeLine(chunk.size()));
    pending_.push_back(std::move(chunk));
    pending_.emplace_back("\r\n");
  } else {
    pending_.push_back(std::move(chunk));
  }
  flush();
}

void Connection::finish_stream() {
  if (phase_ != Phase::kStreaming) return;
  if (chunked_ && !head_request_) pending_.emplace_back("0\r\n\r\n");
  phase_ = Phase::kFlushing;
  flush();
}

void Connection::abandon() {
  if (phase_ == Phase::kHandling) {
    close_now(false);
  } else if (phase_ == Phase::kStreaming) {
    // What was written still goes out; without the last chunk the client sees a cut stream.
    keep_alive_ = false;
    phase_ = Phase::kFlushing;
    flush();
  }
}

void Connection::reset() {
  if (phase_ == Phase::kHandling || phase_ == Phase::kStreaming) close_now(true);
}

// One write in flight at a time; whatever queued meanwhile goes out in the next one, as one
// gathered write.
void Connection::flush() {
  if (writing_ || phase_ == Phase::kClosed) return;
  if (pending_.empty()) {
    if (!pending_sent_.empty()) {
      // Callbacks of empty chunks: nothing to wait for.
      std::vector<std::function<void()>> ready;
      ready.swap(pending_sent_);
      for (auto& sent : ready) sent();
    }
    if (phase_ == Phase::kFlushing) finish_response();
    return;
  }
  writing_ = true;
  activity_ = SteadyClock::now();
  inflight_.swap(pending_);
  inflight_sent_.swap(pending_sent_);
  buffers_.clear();
  for (const std::string& piece : inflight_) buffers_.emplace_back(piece.data(), piece.size());
  write_index_ = 0;
  write_some();
}

// A write goes out in pieces, each stamping `activity_`: the idle limit then cuts a reader
// that stopped reading, not one that reads slowly (async_write would count from its start).
void Connection::write_some() {
  // A span, not the vector: the operation copies the sequence it is given.
  socket_.async_write_some(std::span<const asio::const_buffer>(buffers_).subspan(write_index_),
                           [self = shared_from_this()](const error_code& ec, std::size_t n) {
                             self->on_write_some(ec, n);
                           });
}

void Connection::on_write_some(const error_code& ec, std::size_t n) {
  if (ec || phase_ == Phase::kClosed) {
    on_write(ec);
    return;
  }
  activity_ = SteadyClock::now();
  while (write_index_ < buffers_.size() && n >= buffers_[write_index_].size()) {
    n -= buffers_[write_index_].size();
    ++write_index_;
  }
  if (write_index_ == buffers_.size()) {
    on_write(ec);
    return;
  }
  buffers_[write_index_] += n;
  write_some();
}

void Connection::on_write(const error_code& ec) {
  writing_ = false;
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    close_now(false);
    return;
  }
  inflight_.clear();
  if (!inflight_sent_.empty()) {
    std::vector<std::function<void()>> sent;
    sent.swap(inflight_sent_);
    for (auto& done : sent) done();
  }
  flush();
}

void Connection::finish_response() {
  if (exchange_) log_exchange(true);
  phase_ = Phase::kReading;
  if (!keep_alive_ || peer_eof_ || server_->stopping.load(std::memory_order_relaxed)) {
    begin_linger();
    return;
  }
  activity_ = SteadyClock::now();
  parse_input();  // a pipelined request may already be buffered
}

void Connection::set_caller(std::string caller) {
  if (exchange_) exchange_->caller = std::move(caller);
}

void Connection::open_exchange(std::string_view method, std::string_view path) {
  exchange_.emplace();
  exchange_->method = method;
  exchange_->path = path;
  exchange_->start = SteadyClock::now();
}

void Connection::log_exchange(bool complete) {
  const std::chrono::duration<double, std::milli> took = SteadyClock::now() - exchange_->start;
  AccessRecord record{.method = exchange_->method,
                      .path = exchange_->path,
                      .status = exchange_->status,
                      .ms = took.count(),
                      .complete = complete,
                      .caller = exchange_->caller,
                      .remote = remote_address_};
  try {
    server_->options.access_log(record);
  } catch (...) {
    // A log line lost is not worth a connection.
  }
  exchange_.reset();
}

void Connection::begin_linger() {
  phase_ = Phase::kLingering;
  closed_.store(true, std::memory_order_release);
  error_code ec;
  socket_.shutdown(asio::socket_base::shutdown_send, ec);
  if (ec || peer_eof_) {
    close_now(false);
    return;
  }
  buffer_.consume(buffer_.size());
  activity_ = SteadyClock::now();
  arm_deadline(activity_ + linger_limit_);
  read_more();  // until the peer closes, or the linger limit
}

// ---- Connection: timeouts --------------------------------------------------------------

// One timer per connection, re-armed lazily: a request only stamps `activity_`, and the timer,
// when it fires, either closes the connection or sleeps until the current wait could expire.
bool Connection::timed_phase() const {
  return phase_ == Phase::kReading || phase_ == Phase::kLingering || writing_;
}

void Connection::arm_deadline(SteadyClock::time_point at) {
  deadline_.expires_at(at);
  deadline_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (!ec) self->on_deadline();  // operation_aborted: re-armed or closed
  });
}

void Connection::arm_deadline_by(SteadyClock::time_point at) {
  if (at < deadline_.expiry()) arm_deadline(at);
}

// Beside the idle limit, which any byte resets, a head and a body have deadlines of their
// own, so that a peer trickling one byte at a time cannot hold a connection forever.
std::optional<SteadyClock::time_point> Connection::request_deadline() const {
  if (phase_ != Phase::kReading || !parser_ || parser_->is_done()) return std::nullopt;
  if (!parser_->is_header_done()) {
    if (!head_started_ || header_limit_ == SteadyClock::duration::zero()) return std::nullopt;
    return head_start_ + header_limit_;
  }
  if (!body_limit_applied_ || body_limit_time_ == SteadyClock::duration::zero()) {
    return std::nullopt;
  }
  auto at = body_start_ + body_limit_time_;
  if (body_min_rate_ > 0) {
    // Each body_min_rate bytes received buy one more second.
    const auto received = static_cast<std::int64_t>(parser_->get().body().size());
    at += std::chrono::microseconds(received * 1'000'000 / body_min_rate_);
  }
  return at;
}

void Connection::on_deadline() {
  if (phase_ == Phase::kClosed) return;
  const auto now = SteadyClock::now();
  const auto request_at = request_deadline();
  if (request_at && now >= *request_at) {
    // Answered, so a slow but real client learns why; the write and the linger after it are
    // bounded by their own limits.
    answer_and_close([] {
      Response r = ErrorResponse(InvalidArgument("the request took too long to arrive")
                                     .with_error_code("request_timeout"));
      r.status = 408;
      return r;
    }());
    if (phase_ != Phase::kClosed && phase_ != Phase::kLingering) arm_deadline(now + idle_limit_);
    return;
  }
  if (!timed_phase()) {
    arm_deadline(now + idle_limit_);  // a handler owns the request: no limit on it here
    return;
  }
  const auto limit = phase_ == Phase::kLingering ? linger_limit_ : idle_limit_;
  if (now - activity_ >= limit) {
    close_now(false);
    return;
  }
  auto next = activity_ + limit;
  if (request_at && *request_at < next) next = *request_at;
  arm_deadline(next);
}

}  // namespace sluice::http::internal
