// Incremental parser of one HTTP/1.1 response on a keep-alive connection: status line, headers,
// then a body framed by Content-Length or chunked transfer encoding. Enough for the JSON answers of
// sluice and mock-llm; not a general HTTP client (no 1xx, no trailers kept, no HTTP/1.0 bodies
// ended by close).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace loadgen {

class ResponseParser {
 public:
  enum class State { kNeedMore, kDone, kError };

  // Appends bytes read from the socket and parses as far as they go. kDone: one whole response
  // was consumed; bytes after it (there should be none: one request in flight per connection)
  // are left in leftover(). kError: the bytes are not an HTTP response; error() says why.
  State feed(std::string_view bytes);

  int status() const { return status_; }
  bool keep_alive() const { return keep_alive_; }
  // The value of a header named when the parser was reset (case-insensitive), if it came.
  const std::optional<std::string>& watched_header() const { return watched_; }
  const std::string& error() const { return error_; }
  std::string_view leftover() const { return std::string_view(buf_).substr(pos_); }

  // Ready for the next response; `watch` names the header whose value to keep ("" for none).
  void reset(std::string watch);

 private:
  State parse_head();
  State parse_body();
  State fail(std::string why);

  enum class Phase { kHead, kFixedBody, kChunkSize, kChunkData, kChunkEnd, kTrailers, kDone };
  Phase phase_ = Phase::kHead;
  std::string buf_;
  std::size_t pos_ = 0;          // parsed up to here
  std::size_t remaining_ = 0;    // body or chunk bytes still to come
  int status_ = 0;
  bool keep_alive_ = true;
  std::string watch_name_;
  std::optional<std::string> watched_;
  std::string error_;
};

}  // namespace loadgen
