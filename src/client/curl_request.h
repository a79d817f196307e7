// One request's libcurl setup and the answer it collects, shared by ApiClient (easy interface)
// and ParallelRequests (multi interface). Internal to src/client.
#pragma once

#include <curl/curl.h>

#include <string>
#include <string_view>
#include <vector>

#include "client/api_client.h"

namespace sluice::client {

// Global libcurl init, once per process.
void EnsureCurlInit();

// Owns what libcurl points into while a transfer runs: the body, the header list and the
// answer being received. Must stay at one address until the transfer ends.
class CurlRequest {
 public:
  CurlRequest() = default;
  ~CurlRequest();
  CurlRequest(const CurlRequest&) = delete;
  CurlRequest& operator=(const CurlRequest&) = delete;

  // Sets `easy` up for one call; the previous setup of this object is dropped.
  void prepare(CURL* easy, const ClientOptions& options, std::string_view method, const std::string& url,
               std::string_view body, const CallOptions& call);
  // After prepare(): the body is this multipart form instead (call.content_type was empty).
  // kInvalidArgument when a file part cannot be read.
  Status attach_form(CURL* easy, const std::vector<FormPart>& parts);
  // After prepare(): a 2xx answer's body goes to `sink` (which must outlive the transfer).
  void attach_sink(const BodySink* sink) { sink_ = sink; }
  // The answer once the transfer ended with `code`; the status names `server` when unreachable.
  Result<ApiResponse> finish(CURL* easy, CURLcode code, const std::string& server);

 private:
  static size_t OnBody(char* data, size_t size, size_t n, void* self);
  static size_t OnHeader(char* data, size_t size, size_t n, void* self);
  static int OnProgress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t);

  std::string body_;
  curl_slist* headers_ = nullptr;
  curl_mime* form_ = nullptr;
  CURL* easy_ = nullptr;  // the handle of the transfer being set up or run
  const BodySink* sink_ = nullptr;
  Status sink_status_;  // what the sink stopped the transfer with
  const std::atomic<bool>* cancel_ = nullptr;
  char error_[CURL_ERROR_SIZE] = {};
  ApiResponse response_;
};

}  // namespace sluice::client
