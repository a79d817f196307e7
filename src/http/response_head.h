// The bytes of a response head: status line and header block. Pure string building, apart
// from the sockets, so the framing rules are testable on their own. Private to http/.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "http/server.h"

namespace sluice::http {

// How the body after the head is delimited.
enum class Framing {
  kContentLength,  // a complete body of `content_length` bytes
  kChunked,        // Transfer-Encoding: chunked (HTTP/1.1 streams)
  kUntilClose,     // the body ends when the connection closes (HTTP/1.0 streams)
};

struct ResponseHead {
  int status = 200;
  std::string_view content_type;
  const Headers* headers = nullptr;  // the handler's extra headers, may be null
  int version = 11;                  // the request's HTTP version: 10 or 11
  bool keep_alive = true;
  Framing framing = Framing::kContentLength;
  std::size_t content_length = 0;
};

// Appends the head to `out`. Always sets `Server: sluice`. The framing and connection headers
// belong to the server: a handler's Content-Length, Transfer-Encoding or Connection header is
// left out, as is any header whose name or value would break the framing (CR, LF). A
// text/event-stream gets `Cache-Control: no-cache` unless the handler set Cache-Control.
void AppendResponseHead(const ResponseHead& head, std::string& out);

// False for 1xx, 204 and 304, which never carry a body or a Content-Length.
bool StatusAllowsBody(int status);

// True when the handler's headers ask to close the connection ("Connection: close").
bool HeadersAskToClose(const Headers& headers);

}  // namespace sluice::http
