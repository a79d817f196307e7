#include "response_parser.h"

#include <strings.h>

#include <charconv>

namespace loadgen {
namespace {

bool HeaderIs(std::string_view line, std::string_view name, std::string_view& value) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  if (strncasecmp(line.data(), name.data(), name.size()) != 0) return false;
  value = line.substr(name.size() + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return true;
}

bool ContainsNoCase(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (strncasecmp(hay.data() + i, needle.data(), needle.size()) == 0) return true;
  }
  return false;
}

}  // namespace

void ResponseParser::reset(std::string watch) {
  // Keeps bytes already read past the previous response (normally none).
  buf_.erase(0, pos_);
  pos_ = 0;
  phase_ = Phase::kHead;
  remaining_ = 0;
  status_ = 0;
  keep_alive_ = true;
  watch_name_ = std::move(watch);
  watched_.reset();
  error_.clear();
}

ResponseParser::State ResponseParser::fail(std::string why) {
  error_ = std::move(why);
  return State::kError;
}

ResponseParser::State ResponseParser::feed(std::string_view bytes) {
  buf_.append(bytes);
  if (phase_ == Phase::kHead) {
    State s = parse_head();
    if (s != State::kDone) return s;
  }
  return parse_body();
}

ResponseParser::State ResponseParser::parse_head() {
  std::size_t end = buf_.find("\r\n\r\n", pos_);
  if (end == std::string::npos) return buf_.size() - pos_ > 65536 ? fail("headers over 64 KiB") : State::kNeedMore;
  std::string_view head(buf_.data() + pos_, end - pos_);
  pos_ = end + 4;
  std::size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") return fail("bad status line");
  std::from_chars(status_line.data() + 9, status_line.data() + 12, status_);
  keep_alive_ = status_line.substr(0, 8) != "HTTP/1.0";
  bool chunked = false;
  std::optional<std::size_t> length;
  std::string_view rest = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
  while (!rest.empty()) {
    std::size_t n = rest.find("\r\n");
    std::string_view line = rest.substr(0, n);
    rest = n == std::string_view::npos ? std::string_view() : rest.substr(n + 2);
    std::string_view value;
    if (HeaderIs(line, "content-length", value)) {
      std::size_t v = 0;
      std::from_chars(value.data(), value.data() + value.size(), v);
      length = v;
    } else if (HeaderIs(line, "transfer-encoding", value)) {
      chunked = ContainsNoCase(value, "chunked");
    } else if (HeaderIs(line, "connection", value)) {
      if (ContainsNoCase(value, "close")) keep_alive_ = false;
      if (ContainsNoCase(value, "keep-alive")) keep_alive_ = true;
    } else if (!watch_name_.empty() && HeaderIs(line, watch_name_, value)) {
      watched_ = std::string(value);
    }
  }
  if (chunked) {
    phase_ = Phase::kChunkSize;
  } else if (length) {
    remaining_ = *length;
    phase_ = Phase::kFixedBody;
  } else if (status_ == 204 || status_ == 304) {
    phase_ = Phase::kDone;
  } else {
    return fail("no Content-Length and not chunked");
  }
  return State::kDone;
}

ResponseParser::State ResponseParser::parse_body() {
  for (;;) {
    switch (phase_) {
      case Phase::kHead:
        return fail("internal: body before head");
      case Phase::kFixedBody:
      case Phase::kChunkData: {
        std::size_t take = std::min(remaining_, buf_.size() - pos_);
        pos_ += take;
        remaining_ -= take;
        if (remaining_ > 0) return State::kNeedMore;
        phase_ = phase_ == Phase::kFixedBody ? Phase::kDone : Phase::kChunkEnd;
        break;
      }
      case Phase::kChunkSize: {
        std::size_t eol = buf_.find("\r\n", pos_);
        if (eol == std::string::npos) return State::kNeedMore;
        std::size_t size = 0;
        auto [p, ec] = std::from_chars(buf_.data() + pos_, buf_.data() + eol, size, 16);
        if (ec != std::errc()) return fail("bad chunk size");
        pos_ = eol + 2;
        remaining_ = size;
        phase_ = size == 0 ? Phase::kTrailers : Phase::kChunkData;
        break;
      }
      case Phase::kChunkEnd:
        if (buf_.size() - pos_ < 2) return State::kNeedMore;
        if (buf_.compare(pos_, 2, "\r\n") != 0) return fail("chunk not followed by CRLF");
        pos_ += 2;
        phase_ = Phase::kChunkSize;
        break;
      case Phase::kTrailers: {
        std::size_t eol = buf_.find("\r\n", pos_);
        if (eol == std::string::npos) return State::kNeedMore;
        bool last = eol == pos_;
        pos_ = eol + 2;
        if (last) phase_ = Phase::kDone;
        break;
      }
      case Phase::kDone:
        return State::kDone;
    }
  }
}

}  // namespace loadgen
