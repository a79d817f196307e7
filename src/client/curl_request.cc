#include "client/curl_request.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <mutex>

namespace sluice::client {

namespace {

// Of a non-2xx answer to a streamed call, what is kept for the error message.
constexpr std::size_t kMaxErrorBody = 64 << 10;

}  // namespace

void EnsureCurlInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

CurlRequest::~CurlRequest() {
  if (headers_) curl_slist_free_all(headers_);
  // Freeing a form detaches it from the handle it was set on (libcurl unbinds it).
  if (form_) curl_mime_free(form_);
}

void CurlRequest::prepare(CURL* easy, const ClientOptions& options, std::string_view method,
                          const std::string& url, std::string_view body, const CallOptions& call) {
  if (headers_) curl_slist_free_all(headers_);
  headers_ = nullptr;
  if (form_) curl_mime_free(form_);
  form_ = nullptr;
  easy_ = easy;
  sink_ = nullptr;
  sink_status_ = Status::Ok();
  cancel_ = call.cancel;
  body_.assign(body.data(), body.size());
  response_ = ApiResponse{};
  error_[0] = '\0';

  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout));
  const Millis timeout = call.timeout == kNoTimeout ? 0
                         : call.timeout > 0         ? call.timeout
                                                    : options.timeout;
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout));
  // libcurl's stall detection: below 1 byte/s for the whole idle time (seconds, at least 1).
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, call.idle_timeout > 0 ? 1L : 0L);
  curl_easy_setopt(
      easy, CURLOPT_LOW_SPEED_TIME,
      call.idle_timeout > 0 ? std::max(1L, static_cast<long>(call.idle_timeout / 1000)) : 0L);
  curl_easy_setopt(easy, CURLOPT_NOPROGRESS, cancel_ ? 0L : 1L);
  curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, &CurlRequest::OnProgress);
  curl_easy_setopt(easy, CURLOPT_XFERINFODATA, this);
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
    if (!call.content_type.empty()) {
      headers_ = curl_slist_append(headers_, ("Content-Type: " + call.content_type).c_str());
    }
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body_.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_.size()));
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method == "POST" ? nullptr : std::string(method).c_str());
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers_);
}

Status CurlRequest::attach_form(CURL* easy, const std::vector<FormPart>& parts) {
  form_ = curl_mime_init(easy);
  CHECK(form_ != nullptr);
  for (const FormPart& p : parts) {
    curl_mimepart* part = curl_mime_addpart(form_);
    CHECK(part != nullptr);
    curl_mime_name(part, p.name.c_str());
    if (p.file_path.empty()) {
      curl_mime_data(part, p.value.data(), p.value.size());
      continue;
    }
    // libcurl would report an unreadable file only as a read error mid-transfer.
    if (!std::ifstream(p.file_path, std::ios::binary))
      return InvalidArgument("cannot read " + p.file_path, p.name);
    if (curl_mime_filedata(part, p.file_path.c_str()) != CURLE_OK) {
      return InvalidArgument("cannot read " + p.file_path, p.name);
    }
    curl_mime_filename(part, std::filesystem::path(p.file_path).filename().string().c_str());
    curl_mime_type(part,
                   p.content_type.empty() ? "application/octet-stream" : p.content_type.c_str());
  }
  curl_easy_setopt(easy, CURLOPT_MIMEPOST, form_);
  return Status::Ok();
}

Result<ApiResponse> CurlRequest::finish(CURL* easy, CURLcode code, const std::string& server) {
  if (code == CURLE_WRITE_ERROR && !sink_status_.ok()) return sink_status_;
  if (code == CURLE_ABORTED_BY_CALLBACK && cancel_ && cancel_->load()) {
    return Status(StatusCode::kCanceled, "interrupted");
  }
  if (code != CURLE_OK) {
    return TransportStatus(static_cast<int>(code), error_[0] ? error_ : curl_easy_strerror(code), server);
  }
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  response_.status = static_cast<int>(status);
  response_.body = ParseBody(response_.raw);
  return std::move(response_);
}

size_t CurlRequest::OnBody(char* data, size_t size, size_t n, void* self_ptr) {
  auto* self = static_cast<CurlRequest*>(self_ptr);
  const size_t bytes = size * n;
  if (!self->sink_) {
    self->response_.raw.append(data, bytes);
    return bytes;
  }
  long status = 0;
  curl_easy_getinfo(self->easy_, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300) {
    self->sink_status_ = self->cancel_ && self->cancel_->load()
                             ? Status(StatusCode::kCanceled, "interrupted")
                             : (*self->sink_)(std::string_view(data, bytes));
    // A short count makes libcurl stop with CURLE_WRITE_ERROR; finish() returns the sink's Status.
    return self->sink_status_.ok() ? bytes : 0;
  }
  std::string& raw = self->response_.raw;
  raw.append(data, std::min(bytes, kMaxErrorBody - std::min(kMaxErrorBody, raw.size())));
  return bytes;
}

int CurlRequest::OnProgress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const std::atomic<bool>* cancel = static_cast<CurlRequest*>(self)->cancel_;
  return cancel && cancel->load() ? 1 : 0;
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
