// Test-only clients for the HTTP server tests: a libcurl easy handle (reused, so keep-alive
// works as in real clients) and a raw TCP socket for what curl will not send.
#pragma once

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "http/event_loop.h"
#include "http/server.h"

namespace sluice::http::testing {

// An EventLoop and a Server on 127.0.0.1:<free port>, torn down in the right order.
class TestServer {
 public:
  explicit TestServer(Handler handler, ServerOptions options = {}, int threads = 2)
      : loop_(threads) {
    loop_.start();
    auto started = Server::Start(loop_, std::move(options), std::move(handler));
    CHECK(started.ok());
    server_ = std::move(started).value();
  }
  ~TestServer() {
    server_.reset();
    loop_.stop();
  }

  EventLoop& loop() { return loop_; }
  Server& server() { return *server_; }
  std::uint16_t port() const { return server_->port(); }
  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
  }

 private:
  EventLoop loop_;
  std::unique_ptr<Server> server_;
};

// Polls `condition` until it holds or `timeout` passes. For conditions no event announces
// (a connection count, a flag set on another thread); the timeout only bounds a failure.
inline bool WaitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

struct Reply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  long new_connections = 0;  // connections curl opened for this request
  long local_port = 0;

  std::string header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lower_name) return value;
    }
    return {};
  }
};

class CurlClient {
 public:
  CurlClient() {
    static const bool initialized = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == 0; }();
    (void)initialized;
    easy_ = curl_easy_init();
  }
  ~CurlClient() { curl_easy_cleanup(easy_); }
  CurlClient(const CurlClient&) = delete;
  CurlClient& operator=(const CurlClient&) = delete;

  CURL* easy() { return easy_; }

  // Called with each piece of body as it arrives; the default appends to Reply::body.
  void on_body(std::function<void(std::string_view)> fn) { on_body_ = std::move(fn); }

  Reply request(const std::string& method, const std::string& url, const std::string& body = {},
                const std::vector<std::string>& headers = {}) {
    Reply reply;
    reply_ = &reply;
    curl_easy_setopt(easy_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy_, CURLOPT_CUSTOMREQUEST,
                     method == "GET" || method == "HEAD" ? nullptr : method.c_str());
    if (method == "GET") {
      curl_easy_setopt(easy_, CURLOPT_HTTPGET, 1L);
    } else if (method == "HEAD") {
      curl_easy_setopt(easy_, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(easy_, CURLOPT_NOBODY, 0L);
      curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    curl_slist* list = nullptr;
    for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(easy_, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &CurlClient::WriteBody);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &CurlClient::WriteHeader);
    curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
    reply.code = curl_easy_perform(easy_);
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &reply.status);
    curl_easy_getinfo(easy_, CURLINFO_NUM_CONNECTS, &reply.new_connections);
    curl_easy_getinfo(easy_, CURLINFO_LOCAL_PORT, &reply.local_port);
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, nullptr);
    curl_slist_free_all(list);
    reply_ = nullptr;
    return reply;
  }

  Reply get(const std::string& url, const std::vector<std::string>& headers = {}) {
    return request("GET", url, {}, headers);
  }
  Reply post(const std::string& url, const std::string& body,
             const std::vector<std::string>& headers = {}) {
    return request("POST", url, body, headers);
  }

 private:
  static size_t WriteBody(char* data, size_t size, size_t n, void* self_ptr) {
    auto* self = static_cast<CurlClient*>(self_ptr);
    std::string_view piece(data, size * n);
    if (self->on_body_) {
      self->on_body_(piece);
    } else {
      self->reply_->body.append(piece);
    }
    return size * n;
  }

  static size_t WriteHeader(char* data, size_t size, size_t n, void* self_ptr) {
    auto* self = static_cast<CurlClient*>(self_ptr);
    std::string_view line(data, size * n);
    if (line.starts_with("HTTP/")) self->reply_->headers.clear();  // a new response (after 100)
    const auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string name(line.substr(0, colon));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) {
        value.remove_suffix(1);
      }
      self->reply_->headers.emplace_back(std::move(name), std::string(value));
    }
    return size * n;
  }

  CURL* easy_ = nullptr;
  Reply* reply_ = nullptr;
  std::function<void(std::string_view)> on_body_;
};

// A blocking TCP connection to 127.0.0.1. Reads give up after 10 s (a failing test, not a
// wait for something expected to take that long).
class RawSocket {
 public:
  // `receive_buffer` > 0 shrinks SO_RCVBUF (before connect, so the window follows): a slow
  // reader then really holds the server's writes back.
  explicit RawSocket(std::uint16_t port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawSocket() { close(); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return connected_; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads until `received()` contains `marker`; false on EOF, error or timeout.
  bool read_until(std::string_view marker) {
    while (received_.find(marker) == std::string::npos) {
      if (!read_some()) return false;
    }
    return true;
  }

  // Reads until the peer closes; true on an orderly close (EOF), false on reset or timeout.
  bool read_until_closed() {
    while (read_some()) {
    }
    return eof_;
  }

  // True when a read would not block now (bytes, EOF or an error are waiting).
  bool readable() const {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }

  // Reads and discards up to `max` bytes; 0 on EOF, error or a 10 s silence.
  std::size_t recv_some(std::size_t max) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 10'000) <= 0) return 0;
    std::string buf(max, '\0');
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
  }

  const std::string& received() const { return received_; }
  void clear() { received_.clear(); }
  bool eof() const { return eof_; }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  bool read_some() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 10'000) <= 0) return false;
    char buf[16 * 1024];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n == 0) eof_ = true;
    if (n <= 0) return false;
    received_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string received_;
};

}  // namespace sluice::http::testing
