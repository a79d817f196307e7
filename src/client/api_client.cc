#include "client/api_client.h"

#include <cctype>
#include <cstdlib>

#include <boost/json.hpp>

#include "client/curl_request.h"
#include "json/json_text.h"

namespace sluice::client {

namespace json = boost::json;

ClientOptions OptionsFromEnvironment(const std::string& server_flag) {
  ClientOptions options;
  if (!server_flag.empty()) {
    options.server = server_flag;
  } else if (const char* env = std::getenv("SLUICE_SERVER"); env && *env) {
    options.server = env;
  }
  while (!options.server.empty() && options.server.back() == '/') options.server.pop_back();
  if (const char* key = std::getenv("SLUICE_API_KEY"); key && *key) options.api_key = key;
  return options;
}

std::string UrlEscape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    out += out.empty() ? '?' : '&';
    out += UrlEscape(key) + "=" + UrlEscape(value);
  }
  return out;
}

json::value ParseBody(std::string_view raw) {
  if (raw.empty()) return nullptr;
  boost::system::error_code ec;
  json::value v = json::parse(raw, ec);
  return ec ? json::value(nullptr) : v;
}

Status StatusFromResponse(const ApiResponse& r) {
  std::string code, message, field;
  if (r.body.is_object()) {
    if (const json::value* e = r.body.as_object().if_contains("error"); e && e->is_object()) {
      const json::object& err = e->as_object();
      if (auto* c = err.if_contains("code"); c && c->is_string()) code = c->as_string();
      if (auto* m = err.if_contains("message"); m && m->is_string()) message = m->as_string();
      if (auto* f = err.if_contains("field"); f && f->is_string()) field = f->as_string();
    }
  }
  if (message.empty()) message = r.raw.substr(0, 300);
  std::string text = std::to_string(r.status) + (code.empty() ? "" : " " + code) + ": " + message;
  if (!field.empty()) text += " (field: " + field + ")";
  StatusCode sc;
  switch (r.status) {
    case 400: case 422: sc = StatusCode::kInvalidArgument; break;
    case 401: case 403: sc = StatusCode::kInvalidArgument; break;  // a wrong key: fix the call
    case 404: sc = StatusCode::kNotFound; break;
    case 409: sc = StatusCode::kFailedPrecondition; break;
    case 413: sc = StatusCode::kPayloadTooLarge; break;
    case 415: sc = StatusCode::kUnsupportedMediaType; break;
    case 429: sc = StatusCode::kUnavailable; break;  // over a rate or budget: later may work
    default: sc = r.status >= 500 ? StatusCode::kUnavailable : StatusCode::kInvalidArgument; break;
  }
  Status st(sc, "server answered " + text, field);
  if (!code.empty()) st.with_error_code(code);
  return st;
}

Status TransportStatus(int curl_code, const std::string& detail, const std::string& server) {
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_OPERATION_TIMEDOUT:
      return Status(StatusCode::kDeadlineExceeded, "no answer from the Sluice server at " + server + " in time: " + detail);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return InvalidArgument("bad server URL " + server + " (give --server http://host:port): " + detail, "server");
    default:
      return Unavailable("cannot reach the Sluice server at " + server + ": " + detail +
                         " (is `sluice serve` running? set --server or SLUICE_SERVER)");
  }
}

struct ApiClient::Handle {
  CURL* easy = nullptr;
  CurlRequest request;
  ~Handle() {
    if (easy) curl_easy_cleanup(easy);
  }
};

ApiClient::ApiClient(ClientOptions options) : options_(std::move(options)), handle_(std::make_unique<Handle>()) {
  EnsureCurlInit();
  handle_->easy = curl_easy_init();
  CHECK(handle_->easy != nullptr);
}

ApiClient::~ApiClient() = default;

std::string ApiClient::url(std::string_view path) const { return options_.server + std::string(path); }

Result<ApiResponse> ApiClient::send(std::string_view method, std::string_view path, std::string_view body,
                                    const CallOptions& call) {
  handle_->request.prepare(handle_->easy, options_, method, url(path), body, call);
  CURLcode code = curl_easy_perform(handle_->easy);
  return handle_->request.finish(handle_->easy, code, options_.server);
}

Result<ApiResponse> ApiClient::call(std::string_view method, std::string_view path, std::string_view body,
                                    const CallOptions& call) {
  ASSIGN_OR_RETURN(ApiResponse r, send(method, path, body, call));
  if (r.status < 200 || r.status >= 300) return StatusFromResponse(r);
  return r;
}

Result<json::value> ApiClient::get_json(std::string_view path, Millis timeout) {
  ASSIGN_OR_RETURN(ApiResponse r, call("GET", path, {}, CallOptions{.timeout = timeout}));
  return std::move(r.body);
}

Result<json::value> ApiClient::post_json(std::string_view path, const json::value& body, Millis timeout) {
  ASSIGN_OR_RETURN(ApiResponse r, call("POST", path, JsonText(body), CallOptions{.timeout = timeout}));
  return std::move(r.body);
}

Result<ApiResponse> ApiClient::post_form(std::string_view path, const std::vector<FormPart>& parts,
                                         const CallOptions& call) {
  CallOptions form_call = call;
  form_call.content_type.clear();  // libcurl writes multipart/form-data with its boundary
  handle_->request.prepare(handle_->easy, options_, "POST", url(path), {}, form_call);
  RETURN_IF_ERROR(handle_->request.attach_form(handle_->easy, parts));
  CURLcode code = curl_easy_perform(handle_->easy);
  ASSIGN_OR_RETURN(ApiResponse r, handle_->request.finish(handle_->easy, code, options_.server));
  if (r.status < 200 || r.status >= 300) return StatusFromResponse(r);
  return r;
}

Result<ApiResponse> ApiClient::stream(std::string_view method, std::string_view path,
                                      const BodySink& sink, const CallOptions& call) {
  handle_->request.prepare(handle_->easy, options_, method, url(path), {}, call);
  handle_->request.attach_sink(&sink);
  CURLcode code = curl_easy_perform(handle_->easy);
  ASSIGN_OR_RETURN(ApiResponse r, handle_->request.finish(handle_->easy, code, options_.server));
  if (r.status < 200 || r.status >= 300) return StatusFromResponse(r);
  return r;
}

}  // namespace sluice::client
