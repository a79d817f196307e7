// The listening side of the HTTP server: binds, accepts, and hands each socket to a
// Connection on its own strand. Per-request work lives in connection.cc.
#include <sys/resource.h>

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <charconv>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "http/connection.h"

namespace sluice::http {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using internal::Connection;
using internal::ServerShared;

constexpr int kListenBacklog = 4096;  // the kernel caps it at net.core.somaxconn
// After an accept failure that will repeat at once (out of file descriptors), wait a little
// instead of spinning; connections queue in the backlog meanwhile.
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};

// "host:port", "[v6]:port", ":port" (all interfaces); host may be a name.
Result<tcp::endpoint> ResolveListen(std::string_view listen, asio::io_context& io) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) {
    return InvalidArgument("listen address must be host:port, got '" + std::string(listen) + "'",
                           "listen");
  }
  std::string_view host = listen.substr(0, colon);
  const std::string_view port_text = listen.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return InvalidArgument("bad port in listen address '" + std::string(listen) + "'", "listen");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host == "*") host = "0.0.0.0";
  error_code parse_error;
  const auto address = asio::ip::make_address(host, parse_error);
  if (!parse_error) return tcp::endpoint(address, static_cast<unsigned short>(port));
  tcp::resolver resolver(io);
  error_code resolve_error;
  auto results = resolver.resolve(host, port_text, resolve_error);
  if (resolve_error || results.empty()) {
    return InvalidArgument(
        "cannot resolve listen host '" + std::string(host) + "': " + resolve_error.message(),
        "listen");
  }
  return results.begin()->endpoint();
}

// Accepts connections until closed. The acceptor is touched from the loop (accept
// completions) and from stop() on any thread, so a mutex guards it; it is taken once per
// connection, never per request.
class Listener final : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& io, std::shared_ptr<ServerShared> shared)
      : io_(io), shared_(std::move(shared)), acceptor_(io), retry_(io) {}

  Status open(const tcp::endpoint& endpoint) {
    error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(kListenBacklog, ec);
    if (!ec) port_ = acceptor_.local_endpoint(ec).port();
    if (ec) {
      return Unavailable("cannot listen on " + endpoint.address().to_string() + ":" +
                         std::to_string(endpoint.port()) + ": " + ec.message());
    }
    return Status::Ok();
  }

  std::uint16_t port() const { return port_; }

  void accept() {
    std::lock_guard<std::mutex> lock(mu_);
    accept_locked();
  }

  void close() {
    std::lock_guard<std::mutex> lock(mu_);
    error_code ec;
    acceptor_.close(ec);
    retry_.cancel();
  }

 private:
  void accept_locked() {
    if (!acceptor_.is_open()) return;
    // Each connection gets its own strand: its handlers never run concurrently, and
    // different connections run in parallel on the loop's threads.
    acceptor_.async_accept(
        asio::make_strand(io_),
        [self = shared_from_this()](const error_code& ec, internal::Socket socket) {
          self->on_accept(ec, std::move(socket));
        });
  }

  void on_accept(const error_code& ec, internal::Socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      // Non-blocking so that Connection can drain ready bytes without waiting; Asio's async
      // operations work the same either way.
      socket.non_blocking(true, ignored);
      std::make_shared<Connection>(std::move(socket), shared_)->start();
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (!ec || ec == asio::error::connection_aborted) {
      if (!pause_at_capacity()) accept_locked();
      return;
    }
    // Out of descriptors or memory: the same error would come back at once.
    retry_.expires_after(kAcceptRetryDelay);
    retry_.async_wait([self = shared_from_this()](const error_code& wait_error) {
      if (!wait_error) self->accept();
    });
  }

  // At the cap the listener stops accepting rather than accepting and closing: waiting
  // clients sit in the kernel's backlog, holding no descriptor of ours, and are served once a
  // slot frees (slow peers are cut by the head and body deadlines), instead of being turned
  // away to retry at once. True when paused; the next closed connection resumes it.
  bool pause_at_capacity() {
    const int cap = shared_->max_connections;
    if (cap <= 0 || shared_->open_connections.load() < cap) return false;
    shared_->accept_paused.store(true);
    // A connection that closed between the check and the flag saw no pause: look again.
    if (shared_->open_connections.load() < cap && shared_->accept_paused.exchange(false)) {
      return false;
    }
    return true;
  }

  asio::io_context& io_;
  const std::shared_ptr<ServerShared> shared_;
  std::mutex mu_;
  tcp::acceptor acceptor_;    // guarded by mu_
  asio::steady_timer retry_;  // guarded by mu_
  std::uint16_t port_ = 0;
};

// The configured cap, lowered to what the descriptor limit allows with room to spare for the
// store, outbound calls and files: a cap above it would not keep accept() from running out.
int EffectiveMaxConnections(int configured) {
  constexpr rlim_t kReservedDescriptors = 256;
  rlimit limit{};
  if (configured <= 0 || ::getrlimit(RLIMIT_NOFILE, &limit) != 0 ||
      limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur <= 2 * kReservedDescriptors) {
    return configured;
  }
  const rlim_t room = limit.rlim_cur - kReservedDescriptors;
  return room < static_cast<rlim_t>(configured) ? static_cast<int>(room) : configured;
}

class ServerImpl final : public Server {
 public:
  ServerImpl(std::shared_ptr<ServerShared> shared, std::shared_ptr<Listener> listener)
      : shared_(std::move(shared)), listener_(std::move(listener)) {}

  // Stops, then waits for handler calls in progress on the loop's threads (they are short:
  // handlers must not block), so the handler is never called after this returns. Must not
  // run inside the handler itself.
  ~ServerImpl() override {
    stop();
    while (shared_->handler_calls.load() > 0) std::this_thread::yield();
  }

  std::uint16_t port() const override { return listener_->port(); }

  void stop() override {
    shared_->stopping.store(true);
    listener_->close();
    shared_->stop_connections();
  }

  int open_connections() const override {
    return shared_->open_connections.load(std::memory_order_relaxed);
  }

 private:
  const std::shared_ptr<ServerShared> shared_;
  const std::shared_ptr<Listener> listener_;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(EventLoop& loop, ServerOptions options,
                                              Handler handler) {
  if (!handler) return InvalidArgument("an HTTP server needs a handler");
  if (options.max_body < 0)
    return InvalidArgument("an HTTP server's max_body must not be negative");
  for (const BodyLimit& l : options.body_limits) {
    if (l.max_body < 0) {
      return InvalidArgument("the body limit of " + l.method + " " + l.path +
                             " must not be negative");
    }
  }
  auto& io = *static_cast<asio::io_context*>(loop.native());
  ASSIGN_OR_RETURN(tcp::endpoint endpoint, ResolveListen(options.listen, io));
  auto shared = std::make_shared<ServerShared>(std::move(handler), std::move(options));
  auto listener = std::make_shared<Listener>(io, shared);
  shared->max_connections = EffectiveMaxConnections(shared->options.max_connections);
  shared->resume_accept = [weak = std::weak_ptr<Listener>(listener)] {
    if (auto l = weak.lock()) l->accept();
  };
  RETURN_IF_ERROR(listener->open(endpoint));
  listener->accept();
  return std::unique_ptr<Server>(
      std::make_unique<ServerImpl>(std::move(shared), std::move(listener)));
}

}  // namespace sluice::http
