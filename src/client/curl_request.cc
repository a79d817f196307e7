#include "client/curl_request.h"

#include <algorithm>
#include <cctype>
#include <mutex>

namespace sluice::client {

void EnsureCurlInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

CurlRequest::~CurlRequest() {
  if (headers_) curl_slist_free_all(headers_);
}

void CurlRequest::prepare(CURL* easy, const ClientOptions& options, std::string_view method,
                          const std::string& url, std::string_view body, const CallOptions& call) {
  if (headers_) curl_slist_free_all(headers_);
  headers_ = nullptr;
  body_.assign(body.data(), body.size());
  response_ = ApiResponse{};
  error_[0] = '\0';

  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(call.timeout > 0 ? call.timeout : options.timeout));
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &CurlRequest::OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &CurlRequest::OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);

  headers_ = curl_slist_append(headers_, "Accept: application/json");
  // No "Expect: 100-continue" round trip before large bodies (bulk chunks, blobs).
  headers_ = curl_slist_append(headers_, "Expect:");
  if (!options.api_key.empty()) {
    headers_ = curl_slist_append(headers_, ("Authorization: Bearer " + options.api_key).c_str());
  }
  if (method == "GET") {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, nullptr);
  } else {
    headers_ = curl_slist_append(headers_, ("Content-Type: " + call.content_type).c_str());
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body_.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_.size()));
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method == "POST" ? nullptr : std::string(method).c_str());
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers_);
}

Result<ApiResponse> CurlRequest::finish(CURL* easy, CURLcode code, const std::string& server) {
  if (code != CURLE_OK) {
    return TransportStatus(static_cast<int>(code), error_[0] ? error_ : curl_easy_strerror(code), server);
  }
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  response_.status = static_cast<int>(status);
  response_.body = ParseBody(response_.raw);
  return std::move(response_);
}

size_t CurlRequest::OnBody(char* data, size_t size, size_t n, void* self) {
  static_cast<CurlRequest*>(self)->response_.raw.append(data, size * n);
  return size * n;
}

size_t CurlRequest::OnHeader(char* data, size_t size, size_t n, void* self) {
  std::string_view line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    static_cast<CurlRequest*>(self)->response_.headers[name] = std::string(value);
  }
  return size * n;
}

}  // namespace sluice::client
