// The HTTP request reader: Beast's request parser driven as http/connection.cc drives it
// (header limit, the head-phase body limit, non-eager until the head is checked), with our
// framing rules (http/request_framing.h) and the request-target decoding, over a byte stream
// that arrives in reads of varying size and may hold several pipelined requests.
//
// Input: byte 0 picks the read size (1..256 bytes) and, with its top bit, a small max_body;
// the rest is what the peer sends. Besides sanitizer findings, it traps when an accepted
// request breaks a rule the checks promise: a body over its route's limit, or unparsed bytes
// held past their bound.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_framing.h"
#include "http/request_target.h"

namespace {

namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using sluice::http::ServerOptions;
using Parser = beast_http::request_parser<beast_http::string_body>;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

std::uint64_t AsBeastLimit(std::int64_t limit) {
  return static_cast<std::uint64_t>(limit);
}

// One connection's reading side. False once the connection would be closed.
class Reader {
 public:
  explicit Reader(const ServerOptions& options) : options_(options) {}

  bool feed(std::string_view bytes) {
    auto space = buffer_.prepare(bytes.size());
    std::memcpy(space.data(), bytes.data(), bytes.size());
    buffer_.commit(bytes.size());
    while (true) {
      if (!parser_) start_request();
      beast::error_code ec;
      while (buffer_.size() > 0 && !parser_->is_done()) {
        const std::size_t n = parser_->put(buffer_.data(), ec);
        buffer_.consume(n);
        if (ec == beast_http::error::need_more) {
          ec = {};
          break;
        }
        if (ec) return false;  // answered 400/413/431 and closed
        if (parser_->is_header_done() && !limit_applied_ && !check_head()) return false;
        if (n == 0) break;
      }
      if (parser_->is_header_done() && !check_held()) return false;
      if (!parser_->is_done()) return true;  // waits for more bytes
      if (!dispatch()) return false;
    }
  }

 private:
  void start_request() {
    parser_.emplace();
    parser_->body_limit(AsBeastLimit(sluice::http::HeadBodyLimit(options_)));
    parser_->header_limit(sluice::http::kHeaderLimit);
    parser_->eager(false);
    limit_applied_ = false;
  }

  bool check_head() {
    limit_applied_ = true;
    const auto& request = parser_->get();
    std::vector<std::string_view> encodings;
    for (const auto& field : request) {
      if (field.name() == beast_http::field::transfer_encoding) {
        encodings.emplace_back(field.value().data(), field.value().size());
      }
    }
    const bool has_length = request.find(beast_http::field::content_length) != request.end();
    if (sluice::http::CheckTransferEncoding(encodings, has_length)) return false;
    route_limit_ = sluice::http::RouteBodyLimit(
        options_, std::string_view(request.method_string().data(), request.method_string().size()),
        std::string_view(request.target().data(), request.target().size()));
    head_fields_ = static_cast<std::size_t>(std::distance(request.begin(), request.end()));
    const auto length = parser_->content_length();
    if (length && *length > static_cast<std::uint64_t>(route_limit_)) {
      return false;
    }
    parser_->body_limit(AsBeastLimit(route_limit_));
    parser_->eager(true);
    return true;
  }

  bool check_held() {
    const auto& request = parser_->get();
    const bool done = parser_->is_done();
    const auto fields =
        done ? static_cast<std::size_t>(std::distance(request.begin(), request.end())) : 0;
    std::string_view held(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    if (sluice::http::CheckHeldBytes(done, fields, head_fields_, held)) return false;
    // Passing the check bounds what stays buffered (a read adds at most 64 KiB on top).
    if (!done) Check(held.size() <= sluice::http::kTrailerLimit);
    return true;
  }

  bool dispatch() {
    auto& message = parser_->get();
    Check(limit_applied_);
    Check(message.body().size() <= static_cast<std::size_t>(route_limit_));
    std::string path;
    std::vector<std::pair<std::string, std::string>> query;
    // A bad target is answered 400 on a connection that stays open, as any handled request.
    (void)sluice::http::DecodeRequestTarget(
        std::string_view(message.target().data(), message.target().size()), path, query);
    const bool keep_alive = message.keep_alive();
    parser_.reset();
    return keep_alive;
  }

  const ServerOptions& options_;
  beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  bool limit_applied_ = false;
  std::int64_t route_limit_ = 0;
  std::size_t head_fields_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t read_size = 1 + (data[0] & 0x7f) * 2;
  ServerOptions options;
  options.max_body = (data[0] & 0x80) ? 64 : 1 << 20;
  options.body_limits = {{"POST", "/v1/files", 4096}, {"PUT", "/v1/large", 8 << 20}};
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  Reader reader(options);
  while (!input.empty()) {
    const std::size_t n = std::min(read_size, input.size());
    if (!reader.feed(input.substr(0, n))) break;
    input.remove_prefix(n);
  }
  return 0;
}
