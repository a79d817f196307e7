// The framing rules a request head must pass before its body is read, apart from the socket
// and from Beast: Connection applies them to what Beast parsed, and so does fuzz/fuzz_http.cc.
// Pure functions of their arguments; any thread.
//
// Framing that cannot be trusted is refused and the connection closed (the body's end is
// unknown, so nothing after it can be read as the next request).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/status.h"
#include "http/server.h"

namespace sluice::http {

// The largest request head (request line and fields) read; a larger one answers 431.
inline constexpr std::uint32_t kHeaderLimit = 64 * 1024;
// Once the head is parsed, Beast consumes body bytes as they come but holds a chunk-size line
// (with its extensions) or the trailer section until it is complete. These bound what it may
// hold, so a line that never ends cannot grow the buffer without limit.
inline constexpr std::size_t kChunkLineLimit = 4 * 1024;
inline constexpr std::size_t kTrailerLimit = 8 * 1024;
inline constexpr std::size_t kMaxTrailers = 32;

// Why a request is answered and its connection closed: an InvalidArgument with its error_code,
// and the HTTP status it is answered with (400 or 431).
struct RequestRefusal {
  Status status;
  int http_status = 400;
};

// RFC 9112 §6.3: a Transfer-Encoding other than exactly `chunked` leaves the body's length
// unknown, and one next to a Content-Length is a smuggling attempt. `transfer_encodings` holds
// the value of every Transfer-Encoding field of the head, in order. Differing Content-Length
// values Beast already refuses.
std::optional<RequestRefusal> CheckTransferEncoding(
    std::span<const std::string_view> transfer_encodings, bool has_content_length);

// What Beast holds unparsed after the head: a chunk-size line or the trailer section. With the
// message done, `fields` (all fields, trailers included) may exceed `head_fields` by at most
// kMaxTrailers; before that, `held` (the unparsed bytes) is bounded by kChunkLineLimit while it
// is a chunk-size line and by kTrailerLimit once it is trailers. A chunk-size line is complete
// once a CRLF follows it, so held bytes with a CRLF past the one that may end the previous
// chunk's data are trailers.
std::optional<RequestRefusal> CheckHeldBytes(bool message_done, std::size_t fields,
                                             std::size_t head_fields, std::string_view held);

// The body limit that lets any head through (the largest of max_body and every route's), to
// parse with until the route is known. Limits are never negative (Server::Start refuses one).
std::int64_t HeadBodyLimit(const ServerOptions& options);

// The index in options.body_limits of the route `method` `target` (a request target; its query
// is ignored): the last matching BodyLimit; none when no route has a limit of its own.
std::optional<std::size_t> RouteOfBodyLimit(const ServerOptions& options, std::string_view method,
                                            std::string_view target);

// The body limit of the route `method` `target`: its BodyLimit's, else max_body.
std::int64_t RouteBodyLimit(const ServerOptions& options, std::string_view method,
                            std::string_view target);

}  // namespace sluice::http
