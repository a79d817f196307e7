#include "http/response_head.h"

#include <strings.h>

#include <boost/beast/http/status.hpp>
#include <charconv>

namespace sluice::http {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool IsServerOwned(std::string_view name) {
  return EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding") ||
         EqualsIgnoreCase(name, "connection") || EqualsIgnoreCase(name, "server");
}

bool BreaksFraming(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

void AppendNumber(std::size_t n, std::string& out) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), n);
  out.append(digits, end);
}

void AppendHeader(std::string_view name, std::string_view value, std::string& out) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

}  // namespace

bool StatusAllowsBody(int status) {
  return status >= 200 && status != 204 && status != 304;
}

bool HeadersAskToClose(const Headers& headers) {
  for (const auto& [name, value] : headers) {
    if (EqualsIgnoreCase(name, "connection") && EqualsIgnoreCase(value, "close")) return true;
  }
  return false;
}

void AppendResponseHead(const ResponseHead& head, std::string& out) {
  namespace beast_http = boost::beast::http;
  out.append(head.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  AppendNumber(static_cast<std::size_t>(head.status), out);
  out.push_back(' ');
  out.append(beast_http::obsolete_reason(beast_http::int_to_status(head.status)));
  out.append("\r\nServer: sluice\r\n");
  if (!head.content_type.empty() && !BreaksFraming(head.content_type)) {
    AppendHeader("Content-Type", head.content_type, out);
  }
  bool has_cache_control = false;
  if (head.headers != nullptr) {
    for (const auto& [name, value] : *head.headers) {
      if (name.empty() || IsServerOwned(name) || BreaksFraming(name) || BreaksFraming(value)) {
        continue;
      }
      has_cache_control = has_cache_control || EqualsIgnoreCase(name, "cache-control");
      AppendHeader(name, value, out);
    }
  }
  if (!has_cache_control && head.content_type.starts_with("text/event-stream")) {
    out.append("Cache-Control: no-cache\r\n");
  }
  switch (head.framing) {
    case Framing::kContentLength:
      if (StatusAllowsBody(head.status)) {
        out.append("Content-Length: ");
        AppendNumber(head.content_length, out);
        out.append("\r\n");
      }
      break;
    case Framing::kChunked:
      out.append("Transfer-Encoding: chunked\r\n");
      break;
    case Framing::kUntilClose:
      break;
  }
  if (!head.keep_alive) {
    out.append("Connection: close\r\n");
  } else if (head.version == 10) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

}  // namespace sluice::http
