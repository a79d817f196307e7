// Test-only HTTP clients over libcurl: one blocking call on a fresh connection (so a reset
// or a held request is never retried on a reused one), and a batch of concurrent calls.
#pragma once

#include <curl/curl.h>

#include <cctype>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace sluice::mockllm::testing {

struct HttpResult {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lowercase names
};

struct HttpCall {
  std::string method = "POST";
  std::string path = "/v1/chat/completions";
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
  long timeout_ms = 20'000;
};

namespace internal {

inline std::size_t OnBody(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

inline std::size_t OnHeader(char* data, std::size_t size, std::size_t n, void* out) {
  std::string line(data, size * n);
  std::size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * n;
}

// One prepared easy handle and the buffers it writes into.
struct Prepared {
  CURL* curl = nullptr;
  curl_slist* headers = nullptr;
  HttpResult result;
  std::string body;
  ~Prepared() {
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
  }
};

inline std::unique_ptr<Prepared> Prepare(std::uint16_t port, const HttpCall& call) {
  auto p = std::make_unique<Prepared>();
  p->curl = curl_easy_init();
  p->body = call.body;
  std::string url = "http://127.0.0.1:" + std::to_string(port) + call.path;
  curl_easy_setopt(p->curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(p->curl, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  if (call.method == "POST") {
    curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, p->body.c_str());
    curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(p->body.size()));
  }
  p->headers = curl_slist_append(p->headers, "Content-Type: application/json");
  for (const std::string& h : call.headers) p->headers = curl_slist_append(p->headers, h.c_str());
  curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, p->headers);
  curl_easy_setopt(p->curl, CURLOPT_TIMEOUT_MS, call.timeout_ms);
  curl_easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(p->curl, CURLOPT_WRITEDATA, &p->result.body);
  curl_easy_setopt(p->curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(p->curl, CURLOPT_HEADERDATA, &p->result.headers);
  return p;
}

}  // namespace internal

inline HttpResult Call(std::uint16_t port, const HttpCall& call) {
  auto p = internal::Prepare(port, call);
  p->result.code = curl_easy_perform(p->curl);
  curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &p->result.status);
  return p->result;
}

inline HttpResult Get(std::uint16_t port, const std::string& path) {
  return Call(port, {"GET", path, "", {}});
}

inline HttpResult Post(std::uint16_t port, const std::string& path, const std::string& body,
                       std::vector<std::string> headers = {}) {
  return Call(port, {"POST", path, body, std::move(headers)});
}

// Runs every call at once over curl multi (one connection each) and waits for all, or until
// give_up() turns true: then every unfinished call is dropped (its connection closed) and
// reported as CURLE_ABORTED_BY_CALLBACK.
inline std::vector<HttpResult> CallConcurrently(std::uint16_t port, const std::vector<HttpCall>& calls,
                                                const std::function<bool()>& give_up = nullptr) {
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
  std::vector<std::unique_ptr<internal::Prepared>> prepared;
  for (const HttpCall& call : calls) {
    prepared.push_back(internal::Prepare(port, call));
    curl_easy_setopt(prepared.back()->curl, CURLOPT_FRESH_CONNECT, 1L);
    curl_multi_add_handle(multi, prepared.back()->curl);
  }
  for (auto& p : prepared) p->result.code = CURLE_ABORTED_BY_CALLBACK;
  int running = 0;
  do {
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      for (auto& p : prepared) {
        if (p->curl == msg->easy_handle) p->result.code = msg->data.result;
      }
    }
    if (running > 0 && give_up && give_up()) break;
    if (running > 0) curl_multi_poll(multi, nullptr, 0, 20, nullptr);
  } while (running > 0);
  std::vector<HttpResult> results;
  for (auto& p : prepared) {
    curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &p->result.status);
    curl_multi_remove_handle(multi, p->curl);
    results.push_back(p->result);
  }
  curl_multi_cleanup(multi);
  return results;
}

// Polls `condition` until it holds or `limit` passes; true when it held.
inline bool WaitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

}  // namespace sluice::mockllm::testing
