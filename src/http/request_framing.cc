#include "http/request_framing.h"

#include <algorithm>
#include <string>

namespace sluice::http {
namespace {

// ASCII only, as Beast's iequals: no locale may make another byte equal to a letter.
char LowerAscii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return LowerAscii(x) == LowerAscii(y);
         });
}

std::string_view TrimBlanks(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

}  // namespace

std::optional<RequestRefusal> CheckTransferEncoding(
    std::span<const std::string_view> transfer_encodings, bool has_content_length) {
  if (transfer_encodings.empty()) return std::nullopt;
  const bool chunked_only =
      std::all_of(transfer_encodings.begin(), transfer_encodings.end(),
                  [](std::string_view v) { return EqualsIgnoringCase(TrimBlanks(v), "chunked"); });
  if (transfer_encodings.size() == 1 && chunked_only && !has_content_length) return std::nullopt;
  return RequestRefusal{
      InvalidArgument(has_content_length ? "a request may not carry both Content-Length and "
                                           "Transfer-Encoding"
                                         : "the only Transfer-Encoding accepted is \"chunked\"")
          .with_error_code("bad_request"),
      400};
}

std::optional<RequestRefusal> CheckHeldBytes(bool message_done, std::size_t fields,
                                             std::size_t head_fields, std::string_view held) {
  if (message_done) {
    if (fields <= head_fields + kMaxTrailers) return std::nullopt;
  } else {
    if (held.size() <= kChunkLineLimit) return std::nullopt;
    const std::size_t size = held.size();
    if (held.starts_with("\r\n")) held.remove_prefix(2);
    const bool in_trailers = held.find("\r\n") != std::string_view::npos;
    if (!in_trailers) {
      return RequestRefusal{InvalidArgument("a chunk-size line is longer than " +
                                            std::to_string(kChunkLineLimit) + " bytes")
                                .with_error_code("bad_request"),
                            400};
    }
    if (size <= kTrailerLimit) return std::nullopt;
  }
  return RequestRefusal{
      InvalidArgument("the trailers are larger than " + std::to_string(kTrailerLimit) +
                      " bytes or " + std::to_string(kMaxTrailers) + " fields")
          .with_error_code("headers_too_large"),
      431};
}

std::int64_t HeadBodyLimit(const ServerOptions& options) {
  std::int64_t max_body = options.max_body;
  for (const BodyLimit& l : options.body_limits) {
    max_body = std::max(max_body, l.max_body);
  }
  return max_body;
}

std::optional<std::size_t> RouteOfBodyLimit(const ServerOptions& options, std::string_view method,
                                            std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  std::optional<std::size_t> route;
  for (std::size_t i = 0; i < options.body_limits.size(); ++i) {
    const BodyLimit& l = options.body_limits[i];
    if (l.path == path && l.method == method) route = i;
  }
  return route;
}

std::int64_t RouteBodyLimit(const ServerOptions& options, std::string_view method,
                            std::string_view target) {
  const auto route = RouteOfBodyLimit(options, method, target);
  return route ? options.body_limits[*route].max_body : options.max_body;
}

}  // namespace sluice::http
