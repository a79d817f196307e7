// libcurl multi on one thread, driven by epoll through curl's socket interface
// (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION). Other threads hand requests over through a
// locked queue and an eventfd; completions run on this thread.
#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <unordered_map>

#include "core/mutex.h"
#include "core/status.h"
#include "core/thread_annotations.h"
#include "gateway/http_client.h"

namespace sluice {
namespace {

Millis SteadyMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

struct Transfer {
  std::uint64_t handle = 0;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  HttpRequest request;
  HttpClient::Callback done;
  HttpResponse response;
  Millis started = 0;
  char error_buffer[CURL_ERROR_SIZE] = {};
  // With an address guard: the URL's host, and why the guard refused a connection (if it did).
  const CurlClientOptions* options = nullptr;
  std::string host;
  std::string refused;
  // The body passed request.max_response_bytes: OnBody refused it, which aborts the transfer.
  bool too_large = false;
};

TransportError ErrorOf(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: return TransportError::kTimeout;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return TransportError::kConnect;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE: return TransportError::kReset;
    default: return TransportError::kOther;
  }
}

// The URL's host as the guard sees it: lower case, IPv6 without brackets or zone.
std::string UrlHostOf(const std::string& url) {
  CURLU* u = curl_url();
  std::string host;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char* part = nullptr;
    if (curl_url_get(u, CURLUPART_HOST, &part, 0) == CURLUE_OK && part) host = part;
    curl_free(part);
  }
  curl_url_cleanup(u);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return host;
}

// CURLOPT_OPENSOCKETFUNCTION: the one place every connection's address passes through.
curl_socket_t OnOpenSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(user);
  if (purpose == CURLSOCKTYPE_IPCXN && t->options && t->options->address_guard) {
    std::string why = t->options->address_guard(t->host, address->addr);
    if (!why.empty()) {
      t->refused = std::move(why);
      return CURL_SOCKET_BAD;
    }
  }
  return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

// libcurl hands over decoded bytes (after gzip / brotli), a chunk at a time, so counting here
// bounds what an answer inflates to, not merely what crossed the wire. Returning less than the
// chunk aborts the transfer (CURLE_WRITE_ERROR).
size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * n;
  const auto cap = static_cast<std::uint64_t>(std::max<std::int64_t>(0, t->request.max_response_bytes));
  if (t->response.body.size() + bytes > cap) {
    t->too_large = true;
    return 0;
  }
  t->response.body.append(data, bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  std::string_view line(data, size * n);
  constexpr std::string_view kRetryAfter = "retry-after:";
  if (line.size() > kRetryAfter.size() &&
      strncasecmp(line.data(), kRetryAfter.data(), kRetryAfter.size()) == 0) {
    std::string_view v = line.substr(kRetryAfter.size());
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
    static_cast<Transfer*>(user)->response.retry_after = std::string(v);
  }
  return size * n;
}

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(CurlClientOptions options) : options_(std::move(options)) {
    static std::once_flag init;
    std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    multi_ = curl_multi_init();
    CHECK(multi_ != nullptr);
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK(epoll_ >= 0 && wake_ >= 0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_;
    CHECK(epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev) == 0);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlHttpClient::OnSocket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlHttpClient::OnTimer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(options_.max_connections));
    thread_ = std::thread([this] { Run(); });
  }

  ~CurlHttpClient() override {
    stopping_ = true;
    Wake();
    thread_.join();
    for (auto& [h, t] : transfers_) Cleanup(t);
    curl_multi_cleanup(multi_);
    close(epoll_);
    close(wake_);
  }

  std::uint64_t send(HttpRequest request, Callback done) override EXCLUDES(mu_) {
    auto* t = new Transfer;
    t->handle = next_handle_.fetch_add(1) + 1;
    t->request = std::move(request);
    t->done = std::move(done);
    std::uint64_t handle = t->handle;
    {
      MutexLock lock(mu_);
      incoming_.push_back(t);
    }
    Wake();
    return handle;
  }

  void cancel(std::uint64_t handle) override EXCLUDES(mu_) {
    {
      MutexLock lock(mu_);
      cancels_.push_back(handle);
    }
    Wake();
  }

 private:
  static int OnSocket(CURL*, curl_socket_t fd, int what, void* self_ptr, void* socket_ptr) {
    auto* self = static_cast<CurlHttpClient*>(self_ptr);
    epoll_event ev{};
    ev.data.fd = fd;
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(self->epoll_, EPOLL_CTL_DEL, fd, nullptr);
      curl_multi_assign(self->multi_, fd, nullptr);
      return 0;
    }
    ev.events = (what & CURL_POLL_IN ? static_cast<std::uint32_t>(EPOLLIN) : 0u) |
                (what & CURL_POLL_OUT ? static_cast<std::uint32_t>(EPOLLOUT) : 0u);
    // socket_ptr marks sockets already registered with epoll.
    if (socket_ptr) {
      epoll_ctl(self->epoll_, EPOLL_CTL_MOD, fd, &ev);
    } else {
      epoll_ctl(self->epoll_, EPOLL_CTL_ADD, fd, &ev);
      curl_multi_assign(self->multi_, fd, self);
    }
    return 0;
  }

  static int OnTimer(CURLM*, long timeout_ms, void* self_ptr) {
    static_cast<CurlHttpClient*>(self_ptr)->timer_deadline_ =
        timeout_ms < 0 ? -1 : SteadyMs() + timeout_ms;
    return 0;
  }

  void Wake() {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = write(wake_, &one, sizeof one);
  }

  void Start(Transfer* t) {
    CURL* e = curl_easy_init();
    CHECK(e != nullptr);
    t->easy = e;
    t->started = SteadyMs();
    curl_easy_setopt(e, CURLOPT_URL, t->request.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<Millis>(1, t->request.timeout)));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error_buffer);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    // "" offers every encoding this libcurl decodes; OnBody caps the decoded size.
    if (t->request.accept_compressed) curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    if (options_.address_guard) {
      t->options = &options_;
      t->host = UrlHostOf(t->request.url);
      curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &OnOpenSocket);
      curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
      curl_easy_setopt(e, CURLOPT_PROXY, "");  // "" turns proxies off, whatever the environment
      curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    }
    if (!t->request.body.empty()) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(t->request.body.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->request.body.data());
    }
    // "Expect: 100-continue" would add a round trip to every large body.
    t->headers = curl_slist_append(t->headers, "Expect:");
    for (auto& [k, v] : t->request.headers) {
      t->headers = curl_slist_append(t->headers, (k + ": " + v).c_str());
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    transfers_[t->handle] = t;
    curl_multi_add_handle(multi_, e);
  }

  void Cleanup(Transfer* t) {
    if (t->easy) {
      curl_multi_remove_handle(multi_, t->easy);
      curl_easy_cleanup(t->easy);
    }
    curl_slist_free_all(t->headers);
    delete t;
  }

  void Finish(Transfer* t, CURLcode code) {
    transfers_.erase(t->handle);
    HttpResponse& r = t->response;
    r.elapsed = SteadyMs() - t->started;
    if (code == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
      r.status = static_cast<int>(status);
      curl_off_t total_us = 0;
      curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &total_us);
      r.total_ms = static_cast<double>(total_us) / 1000.0;
    } else if (t->too_large) {
      long status = 0;
      curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
      r.status = static_cast<int>(status);
      r.error = TransportError::kResponseTooLarge;
      r.error_message = "response body larger than " + std::to_string(t->request.max_response_bytes) + " bytes";
      r.body.clear();
      r.body.shrink_to_fit();
    } else {
      r.error_message = t->error_buffer[0] ? t->error_buffer : curl_easy_strerror(code);
      r.error = ErrorOf(code);
      if (!t->refused.empty() && code == CURLE_COULDNT_CONNECT) {
        r.error = TransportError::kRefused;
        r.error_message = t->refused;
      }
    }
    Callback done = std::move(t->done);
    HttpResponse response = std::move(r);
    Cleanup(t);
    done(std::move(response));
  }

  void DrainIncoming() EXCLUDES(mu_) {
    std::uint64_t counter;
    [[maybe_unused]] auto n = read(wake_, &counter, sizeof counter);
    std::vector<Transfer*> incoming;
    std::vector<std::uint64_t> cancels;
    {
      MutexLock lock(mu_);
      incoming.swap(incoming_);
      cancels.swap(cancels_);
    }
    for (Transfer* t : incoming) Start(t);
    for (std::uint64_t h : cancels) {
      auto it = transfers_.find(h);
      if (it == transfers_.end()) continue;
      Transfer* t = it->second;
      transfers_.erase(it);
      t->response.error = TransportError::kCanceled;
      t->response.error_message = "canceled";
      t->response.elapsed = SteadyMs() - t->started;
      Callback done = std::move(t->done);
      HttpResponse response = std::move(t->response);
      Cleanup(t);
      done(std::move(response));
    }
  }

  void ReadCompletions() {
    int pending;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &pending)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      Finish(t, msg->data.result);
    }
  }

  void Run() {
    constexpr int kMaxEvents = 256;
    epoll_event events[kMaxEvents];
    int running = 0;
    while (!stopping_) {
      int wait = 1000;
      if (timer_deadline_ >= 0) {
        wait = static_cast<int>(std::clamp<Millis>(timer_deadline_ - SteadyMs(), 0, 1000));
      }
      int n = epoll_wait(epoll_, events, kMaxEvents, wait);
      bool woke = false;
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == wake_) {
          woke = true;
          continue;
        }
        int flags = (events[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                    (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                    (events[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(multi_, fd, flags, &running);
      }
      if (woke) DrainIncoming();
      // Checked after the socket events too, so a busy loop still fires curl's timeouts.
      if (timer_deadline_ >= 0 && SteadyMs() >= timer_deadline_) {
        timer_deadline_ = -1;
        curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
      }
      ReadCompletions();
    }
    // Whatever is left is answered as canceled so no caller waits forever.
    DrainIncoming();
    for (auto it = transfers_.begin(); it != transfers_.end();) {
      Transfer* t = it->second;
      it = transfers_.erase(it);
      Callback done = std::move(t->done);
      HttpResponse response;
      response.error = TransportError::kCanceled;
      response.error_message = "client stopped";
      Cleanup(t);
      done(std::move(response));
    }
  }

  const CurlClientOptions options_;
  CURLM* multi_ = nullptr;
  int epoll_ = -1;
  int wake_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> next_handle_{0};
  Millis timer_deadline_ = -1;  // when curl wants its timer action; client thread only

  // Hand-over from callers' threads to the client thread.
  Mutex mu_;
  std::vector<Transfer*> incoming_ GUARDED_BY(mu_);
  std::vector<std::uint64_t> cancels_ GUARDED_BY(mu_);

  std::unordered_map<std::uint64_t, Transfer*> transfers_;  // client thread only
};

}  // namespace

std::unique_ptr<HttpClient> NewCurlHttpClient(CurlClientOptions options) {
  return std::make_unique<CurlHttpClient>(options);
}

}  // namespace sluice
