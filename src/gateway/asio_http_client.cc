// The plain-http engine of HttpClient: Boost.Asio + Beast on the server's own EventLoop.
//
// Why a second engine: libcurl 7.88 walks its connection cache linearly when it starts and ends a
// transfer, so with 10 000 calls in flight every call costs O(open connections) on the one curl
// thread (bench/README.md, "inflight"). Here every step of a call is O(1): a hash lookup for the
// host's idle pool, a pop from its LIFO stack, and one socket per call, read and written by Beast.
//
// Threading. The loop has several threads. Each call owns a strand, and every handler of the call
// (resolve, connect, write, read, its timer, a cancel) runs on it, so a call's own state needs no
// lock. Sockets are not tied to a strand (they move between calls through the idle pool): every
// socket operation binds its handler to the calling call's strand explicitly. The state shared by
// all calls (calls by handle, idle pool, DNS cache) lives in Core behind mutexes held only for a
// map operation, never across I/O or a callback.
//
// Lifetime. Queued handlers own their Call (shared_ptr) and each Call owns the Core, so the public
// client object can go away while handlers are still queued on the loop: its destructor ends the
// calls in flight (kCanceled "client stopped") and closes the idle connections.
//
// Hostnames are resolved once per host:port and cached for a minute (asio's resolver runs the
// blocking getaddrinfo on its own internal thread); IP literals, the common case for a
// provider on the same network, skip resolution altogether.
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/mutex.h"
#include "core/status.h"
#include "core/thread_annotations.h"
#include "gateway/http_client.h"
#include "http/event_loop.h"

namespace sluice {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kHeaderLimit = 64 * 1024;
// Room for a typical model answer in one read; the buffer grows past it when needed. Small on
// purpose: it is allocated while the call waits for its answer, so it counts once per call in
// flight (libcurl keeps a fixed 16 KiB receive buffer per transfer).
constexpr std::size_t kInitialReadBuffer = 2048;
constexpr auto kDnsTtl = std::chrono::seconds(60);

// Where a URL's request goes and what it asks for.
struct Target {
  std::string host;         // name or address, IPv6 without brackets
  std::uint16_t port = 80;  // 80 when the URL names none
  std::string key;          // "host:port" as in the URL: the idle-pool and DNS-cache key
  std::string host_header;  // "host[:port]" as in the URL
  std::string path;         // path and query, "/" when empty
};

Result<Target> ParseTarget(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return InvalidArgument("bad URL '" + std::string(url) + "'");
  const boost::urls::url_view& u = *parsed;
  if (u.scheme_id() != boost::urls::scheme::http) {
    return InvalidArgument("only http:// URLs go through this client: '" + std::string(url) + "'");
  }
  Target t;
  t.host = u.host_address();
  if (t.host.empty()) return InvalidArgument("URL without host: '" + std::string(url) + "'");
  if (u.has_port() && !u.port().empty()) {
    std::string_view port = u.port();
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return InvalidArgument("bad port in URL '" + std::string(url) + "'");
    }
    t.port = static_cast<std::uint16_t>(value);
  }
  t.host_header = u.encoded_host_and_port();
  t.key = t.host + ":" + std::to_string(t.port);
  t.path = u.encoded_path();
  if (t.path.empty()) t.path = "/";
  if (u.has_query()) t.path += "?" + std::string(u.encoded_query());
  return t;
}

bool IEquals(std::string_view a, std::string_view b) {
  return beast::iequals(a, b);
}

// Losing the connection (as opposed to a malformed or oversized answer, or our own close).
bool IsConnectionLoss(const error_code& ec) {
  return ec == asio::error::eof || ec == bhttp::error::end_of_stream ||
         ec == bhttp::error::partial_message || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted;
}

class Call;

// What all calls of one client share. Thread-safe.
class Core : public std::enable_shared_from_this<Core> {
 public:
  Core(http::EventLoop& loop, AsioClientOptions options)
      : io(*static_cast<asio::io_context*>(loop.native())), options(options), loop_(loop) {}

  asio::io_context& io;
  const AsioClientOptions options;

  std::uint64_t next_handle() { return last_handle_.fetch_add(1, std::memory_order_relaxed) + 1; }

  // False once the client is shut down: the call is not taken.
  bool add_call(std::uint64_t handle, std::shared_ptr<Call> call) EXCLUDES(calls_mu_) {
    MutexLock lock(calls_mu_);
    if (stopped_) return false;
    calls_.emplace(handle, std::move(call));
    return true;
  }
  void remove_call(std::uint64_t handle) EXCLUDES(calls_mu_) {
    MutexLock lock(calls_mu_);
    calls_.erase(handle);
  }
  std::shared_ptr<Call> find_call(std::uint64_t handle) EXCLUDES(calls_mu_) {
    MutexLock lock(calls_mu_);
    auto it = calls_.find(handle);
    return it == calls_.end() ? nullptr : it->second;
  }

  // The most recently parked live connection to `key`, or null. Connections idle longer than
  // options.idle_timeout are closed on the way.
  std::unique_ptr<tcp::socket> take_idle(const std::string& key) EXCLUDES(pool_mu_) {
    std::vector<std::unique_ptr<tcp::socket>> expired;  // closed outside the lock
    std::unique_ptr<tcp::socket> found;
    {
      MutexLock lock(pool_mu_);
      auto it = idle_.find(key);
      if (it == idle_.end()) return nullptr;
      const auto oldest_usable = SteadyClock::now() - std::chrono::milliseconds(options.idle_timeout);
      std::deque<IdleConnection>& stack = it->second;
      while (!stack.empty() && !found) {
        IdleConnection c = std::move(stack.back());
        stack.pop_back();
        --idle_count_;
        if (c.since < oldest_usable) {
          expired.push_back(std::move(c.socket));
        } else {
          found = std::move(c.socket);
        }
      }
    }
    return found;
  }

  // Parks a connection after a complete answer; closes it instead when the pool is full or the
  // client is shut down.
  void put_idle(const std::string& key, std::unique_ptr<tcp::socket> socket) EXCLUDES(pool_mu_) {
    MutexLock lock(pool_mu_);
    if (pool_stopped_ || idle_count_ >= options.max_idle) return;  // socket closes on return
    idle_[key].push_back({std::move(socket), SteadyClock::now()});
    ++idle_count_;
  }

  std::optional<std::vector<tcp::endpoint>> cached_endpoints(const std::string& key) EXCLUDES(pool_mu_) {
    MutexLock lock(pool_mu_);
    auto it = dns_.find(key);
    if (it == dns_.end() || it->second.expires < SteadyClock::now()) return std::nullopt;
    return it->second.endpoints;
  }
  void cache_endpoints(const std::string& key, std::vector<tcp::endpoint> endpoints) EXCLUDES(pool_mu_) {
    MutexLock lock(pool_mu_);
    dns_[key] = {std::move(endpoints), SteadyClock::now() + kDnsTtl};
  }

  // Closes idle connections past options.idle_timeout, then comes back later. Without it, a
  // pool that grew at a peak would keep connections the server has long closed (CLOSE_WAIT
  // sockets holding file descriptors) at the bottom of its stacks.
  void sweep() EXCLUDES(pool_mu_) {
    std::vector<std::unique_ptr<tcp::socket>> expired;
    {
      MutexLock lock(pool_mu_);
      if (pool_stopped_) return;
      const auto oldest_usable = SteadyClock::now() - std::chrono::milliseconds(options.idle_timeout);
      for (auto it = idle_.begin(); it != idle_.end();) {
        std::deque<IdleConnection>& stack = it->second;
        while (!stack.empty() && stack.front().since < oldest_usable) {  // oldest at the front
          expired.push_back(std::move(stack.front().socket));
          stack.pop_front();
          --idle_count_;
        }
        it = stack.empty() ? idle_.erase(it) : std::next(it);
      }
    }
    expired.clear();
    schedule_sweep();
  }

  void schedule_sweep() EXCLUDES(pool_mu_) {
    const Millis interval = std::clamp<Millis>(options.idle_timeout / 2, 10, 10'000);
    std::weak_ptr<Core> weak = weak_from_this();
    auto timer = loop_.post_after(interval, [weak] {
      if (auto core = weak.lock()) core->sweep();
    });
    MutexLock lock(pool_mu_);
    if (pool_stopped_) {
      timer->cancel();
    } else {
      sweep_timer_ = std::move(timer);
    }
  }

  // The client is going away: no new calls, no more parking; returns the calls in flight.
  std::vector<std::shared_ptr<Call>> shutdown() EXCLUDES(pool_mu_, calls_mu_) {
    std::unordered_map<std::string, std::deque<IdleConnection>> idle;
    std::shared_ptr<http::Timer> sweep_timer;
    {
      MutexLock lock(pool_mu_);
      pool_stopped_ = true;
      idle.swap(idle_);
      idle_count_ = 0;
      sweep_timer = std::move(sweep_timer_);
    }
    if (sweep_timer) sweep_timer->cancel();
    std::vector<std::shared_ptr<Call>> calls;
    MutexLock lock(calls_mu_);
    stopped_ = true;
    calls.reserve(calls_.size());
    for (auto& [handle, call] : calls_) calls.push_back(call);
    return calls;  // the idle connections close here, as `idle` goes
  }

 private:
  struct IdleConnection {
    std::unique_ptr<tcp::socket> socket;
    SteadyClock::time_point since;
  };
  struct DnsEntry {
    std::vector<tcp::endpoint> endpoints;
    SteadyClock::time_point expires;
  };

  http::EventLoop& loop_;
  std::atomic<std::uint64_t> last_handle_{0};

  Mutex calls_mu_;
  bool stopped_ GUARDED_BY(calls_mu_) = false;
  std::unordered_map<std::uint64_t, std::shared_ptr<Call>> calls_ GUARDED_BY(calls_mu_);

  Mutex pool_mu_;
  bool pool_stopped_ GUARDED_BY(pool_mu_) = false;
  int idle_count_ GUARDED_BY(pool_mu_) = 0;
  std::unordered_map<std::string, std::deque<IdleConnection>> idle_ GUARDED_BY(pool_mu_);
  std::unordered_map<std::string, DnsEntry> dns_ GUARDED_BY(pool_mu_);
  std::shared_ptr<http::Timer> sweep_timer_ GUARDED_BY(pool_mu_);
};

// One request, from send() to its callback. After construction, everything runs on strand_.
class Call : public std::enable_shared_from_this<Call> {
 public:
  Call(std::shared_ptr<Core> core, std::uint64_t handle, HttpRequest&& request, HttpClient::Callback done)
      : core_(std::move(core)),
        handle_(handle),
        strand_(asio::make_strand(core_->io)),
        timer_(strand_),
        timeout_(std::max<Millis>(1, request.timeout)),
        max_response_bytes_(request.max_response_bytes),
        done_(std::move(done)),
        started_(SteadyClock::now()) {
    prepare(std::move(request));
  }

  const asio::strand<asio::io_context::executor_type>& strand() const { return strand_; }

  void start() {
    if (finished_) return;  // canceled before it started
    if (!prepare_error_.empty()) return fail(TransportError::kOther, prepare_error_);
    timer_.expires_after(std::chrono::milliseconds(timeout_));
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec || self->finished_) return;
      self->fail(TransportError::kTimeout, "no complete answer within " + std::to_string(self->timeout_) + " ms");
    });
    if (std::unique_ptr<tcp::socket> idle = core_->take_idle(target_.key)) {
      socket_ = std::move(idle);
      reused_ = true;
      return write();
    }
    open();
  }

  // Ends the call now unless it has ended already (cancel(), client shutdown).
  void stop(std::string why) {
    if (!finished_) fail(TransportError::kCanceled, std::move(why));
  }

 private:
  void prepare(HttpRequest&& request) {
    auto target = ParseTarget(request.url);
    if (!target.ok()) {
      prepare_error_ = target.status().message();
      return;
    }
    target_ = std::move(target).value();
    request_.method(request.body.empty() ? bhttp::verb::get : bhttp::verb::post);
    request_.target(target_.path);
    request_.version(11);
    request_.set(bhttp::field::host, target_.host_header);
    for (auto& [name, value] : request.headers) {
      // The framing is ours; an empty value means "leave this header out", as for libcurl.
      if (value.empty() || IEquals(name, "content-length") || IEquals(name, "transfer-encoding") ||
          IEquals(name, "connection")) {
        continue;
      }
      if (IEquals(name, "host")) {
        request_.set(bhttp::field::host, value);
      } else {
        request_.insert(name, value);
      }
    }
    request_.body() = std::move(request.body);
    request_.prepare_payload();
  }

  // A fresh connection: the address as is, or resolved (and cached) first.
  void open() {
    reused_ = false;
    socket_ = std::make_unique<tcp::socket>(core_->io);
    error_code ec;
    asio::ip::address address = asio::ip::make_address(target_.host, ec);
    if (!ec) {
      endpoints_.assign(1, tcp::endpoint(address, target_.port));
      return connect();
    }
    if (auto cached = core_->cached_endpoints(target_.key)) {
      endpoints_ = std::move(*cached);
      return connect();
    }
    resolver_.emplace(core_->io);
    resolver_->async_resolve(
        target_.host, std::to_string(target_.port),
        asio::bind_executor(strand_, [self = shared_from_this()](const error_code& ec,
                                                                tcp::resolver::results_type results) {
          if (self->finished_) return;
          if (ec) return self->fail(TransportError::kConnect, "resolve " + self->target_.host + ": " + ec.message());
          self->endpoints_.clear();
          for (const auto& entry : results) self->endpoints_.push_back(entry.endpoint());
          self->core_->cache_endpoints(self->target_.key, self->endpoints_);
          self->connect();
        }));
  }

  void connect() {
    asio::async_connect(*socket_, endpoints_,
                        asio::bind_executor(strand_, [self = shared_from_this()](const error_code& ec,
                                                                                const tcp::endpoint&) {
                          if (self->finished_) return;
                          if (ec) {
                            return self->fail(TransportError::kConnect,
                                              "connect " + self->target_.key + ": " + ec.message());
                          }
                          error_code ignored;
                          self->socket_->set_option(tcp::no_delay(true), ignored);
                          self->write();
                        }));
  }

  void write() {
    parser_.reset();
    bhttp::async_write(*socket_, request_,
                       asio::bind_executor(strand_, [self = shared_from_this()](const error_code& ec, std::size_t) {
                         if (self->finished_) return;
                         if (ec) return self->on_broken(ec);
                         self->read();
                       }));
  }

  void read() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // Beast counts the body's bytes as they arrive (and refuses a Content-Length past the limit
    // at once); this engine asks for no content encoding, so those are the decoded bytes.
    parser_->body_limit(static_cast<std::uint64_t>(
        std::max<std::int64_t>(0, std::min(core_->options.max_body, max_response_bytes_))));
    buffer_.clear();
    buffer_.reserve(kInitialReadBuffer);
    bhttp::async_read(*socket_, buffer_, *parser_,
                      asio::bind_executor(strand_, [self = shared_from_this()](const error_code& ec, std::size_t) {
                        if (self->finished_) return;
                        if (ec) return self->on_broken(ec);
                        self->on_answer();
                      }));
  }

  // Writing or reading failed. A connection taken from the pool that dies before the first byte
  // of an answer was most likely closed by the server while idle: one more try on a fresh one.
  void on_broken(const error_code& ec) {
    if (ec == bhttp::error::body_limit) {
      HttpResponse response;
      response.error = TransportError::kResponseTooLarge;
      response.error_message = "response body larger than " +
                               std::to_string(std::min(core_->options.max_body, max_response_bytes_)) + " bytes";
      if (parser_ && parser_->is_header_done()) response.status = parser_->get().result_int();
      return finish(std::move(response));
    }
    const bool nothing_answered = !parser_ || !parser_->got_some();
    if (reused_ && !retried_ && nothing_answered && IsConnectionLoss(ec)) {
      retried_ = true;
      error_code ignored;
      socket_->close(ignored);
      return open();
    }
    TransportError kind = TransportError::kOther;
    if (IsConnectionLoss(ec)) kind = TransportError::kReset;
    if (ec == asio::error::timed_out) kind = TransportError::kTimeout;
    fail(kind, (nothing_answered ? "no answer: " : "incomplete answer: ") + ec.message());
  }

  void on_answer() {
    bhttp::response<bhttp::string_body>& message = parser_->get();
    HttpResponse response;
    response.status = message.result_int();
    if (auto it = message.find(bhttp::field::retry_after); it != message.end()) {
      response.retry_after = std::string(it->value());
    }
    response.body = std::move(message.body());
    // parser keep_alive() is false for "Connection: close", for HTTP/1.0 without keep-alive and
    // for an answer delimited by the end of the connection. Leftover bytes would be read as the
    // next call's answer, so such a connection is not reused either.
    if (message.version() == 11 && parser_->keep_alive() && buffer_.size() == 0) {
      core_->put_idle(target_.key, std::move(socket_));
    }
    finish(std::move(response));
  }

  void fail(TransportError kind, std::string message) {
    HttpResponse response;
    response.error = kind;
    response.error_message = std::move(message);
    finish(std::move(response));
  }

  void finish(HttpResponse response) {
    finished_ = true;
    timer_.cancel();
    if (resolver_) resolver_->cancel();
    // Closed, not destroyed: an operation still pending on it completes (operation_aborted)
    // with the socket alive; its handler sees finished_ and stops.
    error_code ignored;
    if (socket_) socket_->close(ignored);
    core_->remove_call(handle_);
    const auto took = SteadyClock::now() - started_;
    response.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
    response.total_ms = std::chrono::duration<double, std::milli>(took).count();
    HttpClient::Callback done = std::move(done_);
    done_ = nullptr;
    if (done) done(std::move(response));
  }

  const std::shared_ptr<Core> core_;
  const std::uint64_t handle_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer timer_;
  const Millis timeout_;
  const std::int64_t max_response_bytes_;
  HttpClient::Callback done_;
  const SteadyClock::time_point started_;

  std::string prepare_error_;  // the request could not be built: the call fails at start
  Target target_;
  bhttp::request<bhttp::string_body> request_;
  std::optional<tcp::resolver> resolver_;
  std::vector<tcp::endpoint> endpoints_;
  std::unique_ptr<tcp::socket> socket_;
  bool reused_ = false;   // socket_ came from the idle pool
  bool retried_ = false;  // the one retry on a fresh connection is spent
  bool finished_ = false;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  beast::flat_buffer buffer_;
};

class AsioHttpClient final : public HttpClient {
 public:
  AsioHttpClient(http::EventLoop& loop, AsioClientOptions options)
      : core_(std::make_shared<Core>(loop, options)) {
    core_->schedule_sweep();
  }

  ~AsioHttpClient() override {
    std::vector<std::shared_ptr<Call>> calls = core_->shutdown();
    for (std::shared_ptr<Call>& call : calls) {
      if (core_->io.stopped()) {
        // Nothing runs on the loop (stopped, threads joined): end the call here, or never.
        call->stop("client stopped");
      } else {
        asio::post(call->strand(), [call] { call->stop("client stopped"); });
      }
    }
  }

  std::uint64_t send(HttpRequest request, Callback done) override {
    const std::uint64_t handle = core_->next_handle();
    auto call = std::make_shared<Call>(core_, handle, std::move(request), std::move(done));
    if (!core_->add_call(handle, call)) {
      asio::post(call->strand(), [call] { call->stop("client stopped"); });
      return handle;
    }
    asio::post(call->strand(), [call] { call->start(); });
    return handle;
  }

  void cancel(std::uint64_t handle) override {
    std::shared_ptr<Call> call = core_->find_call(handle);
    if (!call) return;
    asio::post(call->strand(), [call] { call->stop("canceled"); });
  }

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace

std::unique_ptr<HttpClient> NewAsioHttpClient(http::EventLoop& loop, AsioClientOptions options) {
  return std::make_unique<AsioHttpClient>(loop, options);
}

}  // namespace sluice
