#include "client/parallel_requests.h"

#include <unordered_map>

#include "client/curl_request.h"

namespace sluice::client {

namespace {

struct Transfer {
  std::uint64_t tag = 0;
  CURL* easy = nullptr;
  CurlRequest request;
};

}  // namespace

struct ParallelRequests::Impl {
  ClientOptions options;
  CURLM* multi = nullptr;
  std::vector<CURL*> idle;  // finished easy handles, reused (they keep no connection of their own)
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> running;

  ~Impl() {
    for (auto& [easy, t] : running) {
      curl_multi_remove_handle(multi, easy);
      curl_easy_cleanup(easy);
    }
    for (CURL* easy : idle) curl_easy_cleanup(easy);
    if (multi) curl_multi_cleanup(multi);
  }
};

ParallelRequests::ParallelRequests(ClientOptions options, int max_connections) : impl_(std::make_unique<Impl>()) {
  EnsureCurlInit();
  impl_->options = std::move(options);
  impl_->multi = curl_multi_init();
  CHECK(impl_->multi != nullptr);
  // At most this many connections to the server; further transfers wait for a free one.
  curl_multi_setopt(impl_->multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(max_connections));
  curl_multi_setopt(impl_->multi, CURLMOPT_MAXCONNECTS, static_cast<long>(max_connections));
}

ParallelRequests::~ParallelRequests() = default;

void ParallelRequests::start(std::uint64_t tag, std::string method, std::string path, std::string body,
                             CallOptions call) {
  CURL* easy;
  if (!impl_->idle.empty()) {
    easy = impl_->idle.back();
    impl_->idle.pop_back();
  } else {
    easy = curl_easy_init();
    CHECK(easy != nullptr);
  }
  auto t = std::make_unique<Transfer>();
  t->tag = tag;
  t->easy = easy;
  t->request.prepare(easy, impl_->options, method, impl_->options.server + path, body, call);
  curl_multi_add_handle(impl_->multi, easy);
  impl_->running.emplace(easy, std::move(t));
}

std::vector<Completed> ParallelRequests::poll(int max_wait_ms) {
  int still_running = 0;
  curl_multi_perform(impl_->multi, &still_running);
  std::vector<Completed> out;
  auto collect = [&] {
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(impl_->multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      CURLcode code = msg->data.result;
      auto it = impl_->running.find(easy);
      CHECK(it != impl_->running.end());
      curl_multi_remove_handle(impl_->multi, easy);
      std::unique_ptr<Transfer> t = std::move(it->second);
      impl_->running.erase(it);
      out.push_back(Completed{t->tag, t->request.finish(easy, code, impl_->options.server)});
      impl_->idle.push_back(easy);
    }
  };
  collect();
  if (!out.empty() || impl_->running.empty()) return out;
  int numfds = 0;
  curl_multi_poll(impl_->multi, nullptr, 0, max_wait_ms, &numfds);
  curl_multi_perform(impl_->multi, &still_running);
  collect();
  return out;
}

std::size_t ParallelRequests::in_flight() const { return impl_->running.size(); }

}  // namespace sluice::client
