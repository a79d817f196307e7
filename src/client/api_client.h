// A blocking HTTP/JSON client for a running Sluice server: what `sluice submit/get/wait/batch/
// stats` talk through. libcurl's easy interface on one handle, so consecutive calls reuse one
// keep-alive connection; concurrent requests go through ParallelRequests (parallel_requests.h).
//
// Errors are Statuses a person can act on, and their codes decide the exit code (cli/exit_code.h):
//   kUnavailable        the server cannot be reached ("cannot reach the Sluice server at <url>:
//                       connection refused"), or it answered 5xx / 429 / 503 (retry later)
//   kDeadlineExceeded   no answer within the call's timeout
//   kInvalidArgument, kNotFound, kFailedPrecondition, ...
//                       a 4xx: the server's {"error": {code, message, field}}, e.g.
//                       "400 invalid: unknown task type nope (field: type)"
// Not thread-safe: one ApiClient per thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "core/status.h"
#include "core/time.h"

namespace sluice::client {

struct ClientOptions {
  std::string server = "http://127.0.0.1:8080";  // base URL, no trailing slash needed
  std::string api_key;                           // sent as "Authorization: Bearer <key>" when set
  Millis connect_timeout = 5'000;
  Millis timeout = 60'000;                       // whole call, unless a call gives its own
};

// SLUICE_SERVER / SLUICE_API_KEY from the environment, under `server_flag` when that is set.
ClientOptions OptionsFromEnvironment(const std::string& server_flag);

struct ApiResponse {
  int status = 0;
  boost::json::value body;  // the parsed JSON body (null when the body is empty or not JSON)
  std::string raw;          // the body as received
  std::map<std::string, std::string> headers;  // lower-case names (last value wins)
};

// CallOptions::timeout for a call that may last as long as it is read (an event stream).
inline constexpr Millis kNoTimeout = -1;

struct CallOptions {
  std::string content_type = "application/json";
  Millis timeout = 0;  // 0: ClientOptions::timeout; kNoTimeout: none
  // Fail with kDeadlineExceeded when no byte went either way for this long (0: never). What
  // tells a silent server from a long transfer when there is no overall timeout.
  Millis idle_timeout = 0;
  // When set, looked at about once a second (and at every piece received) while the call runs:
  // once true, the transfer stops and the call returns kCanceled. E.g. a SIGINT flag.
  const std::atomic<bool>* cancel = nullptr;
};

// One part of a multipart/form-data body: a text field, or a file sent from disk as it is read
// (never held in memory whole), named by its base name.
struct FormPart {
  std::string name;
  std::string value;         // the field's text, when file_path is empty
  std::string file_path;     // the part's content and filename
  std::string content_type;  // of a file part; empty: application/octet-stream
};

// Receives a 2xx answer's body as it arrives, in pieces of any size. A non-OK Status stops
// the transfer, and the call returns that Status.
using BodySink = std::function<Status(std::string_view piece)>;

class ApiClient {
 public:
  explicit ApiClient(ClientOptions options);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // Any answer the server gave, whatever its status; an error only when there was no answer.
  Result<ApiResponse> send(std::string_view method, std::string_view path, std::string_view body = {},
                           const CallOptions& call = {});
  // Like send, but a non-2xx answer becomes its Status (see above); the 2xx answer otherwise.
  Result<ApiResponse> call(std::string_view method, std::string_view path, std::string_view body = {},
                           const CallOptions& call = {});
  // GET/POST returning the JSON body of a 2xx answer.
  Result<boost::json::value> get_json(std::string_view path, Millis timeout = 0);
  Result<boost::json::value> post_json(std::string_view path, const boost::json::value& body, Millis timeout = 0);
  // POST of a multipart/form-data body (curl sets the boundary); like call() otherwise.
  // A file part that cannot be read fails with kInvalidArgument naming it.
  Result<ApiResponse> post_form(std::string_view path, const std::vector<FormPart>& parts,
                                const CallOptions& call = {});
  // Like call(), but a 2xx answer's body goes to `sink` as it arrives instead of into the
  // ApiResponse (whose `raw` stays empty): for answers too large or too long to hold. A non-2xx
  // answer is read whole (its first 64 KiB) and becomes its Status, as with call().
  Result<ApiResponse> stream(std::string_view method, std::string_view path, const BodySink& sink,
                             const CallOptions& call = {});

  const ClientOptions& options() const { return options_; }
  std::string url(std::string_view path) const;

 private:
  struct Handle;
  ClientOptions options_;
  std::unique_ptr<Handle> handle_;
};

// The Status of a non-2xx answer: code from the HTTP status, message naming the server's error
// code, message and field.
Status StatusFromResponse(const ApiResponse& response);
// The Status of a transfer that got no answer (curl's error), naming the server.
Status TransportStatus(int curl_code, const std::string& detail, const std::string& server);
// Percent-encodes every byte but RFC 3986's unreserved ones: a query value or a path segment
// (an id) that may hold "/", "?", "&", "#" or spaces.
std::string UrlEscape(std::string_view text);
// "?k=v&k2=v2" of the pairs whose value is not empty, values escaped; "" when there are none.
std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params);
// Parses a body as JSON; null for an empty or non-JSON body.
boost::json::value ParseBody(std::string_view raw);

}  // namespace sluice::client
