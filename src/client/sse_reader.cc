#include "client/sse_reader.h"

namespace sluice::client {

Status SseReader::feed(std::string_view bytes,
                       const std::function<Status(const SseEvent&)>& on_event) {
  while (!bytes.empty()) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (bytes.front() == '\n') {
        bytes.remove_prefix(1);
        continue;
      }
    }
    const std::size_t end = bytes.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      line_.append(bytes);
      if (held() > max_event_bytes_) break;
      return Status::Ok();
    }
    // A line ends at "\r\n", "\n" or "\r"; a "\r" last in the piece may be the first half of
    // "\r\n".
    skip_lf_ = bytes[end] == '\r';
    std::size_t next = end + 1;
    if (skip_lf_ && next < bytes.size() && bytes[next] == '\n') {
      skip_lf_ = false;
      ++next;
    }
    Status read;
    if (line_.empty()) {
      read = line(bytes.substr(0, end), on_event);
    } else {
      line_.append(bytes.substr(0, end));
      std::string whole = std::move(line_);
      line_.clear();
      read = line(whole, on_event);
    }
    RETURN_IF_ERROR(read);
    if (held() > max_event_bytes_) break;
    bytes.remove_prefix(next);
  }
  if (held() > max_event_bytes_) {
    return Status(StatusCode::kResourceExhausted, "an event of the stream is larger than " +
                                                      std::to_string(max_event_bytes_) + " bytes");
  }
  return Status::Ok();
}

Status SseReader::line(std::string_view text,
                       const std::function<Status(const SseEvent&)>& on_event) {
  if (text.empty()) {
    // The blank line that ends an event.
    if (!has_data_) {
      event_.type.clear();
      return Status::Ok();
    }
    if (event_.type.empty()) event_.type = "message";
    Status handled = on_event(event_);
    event_.type.clear();
    event_.data.clear();
    has_data_ = false;
    return handled;
  }
  if (text.front() == ':') return Status::Ok();  // a comment
  std::string_view field = text;
  std::string_view value;
  if (std::size_t colon = text.find(':'); colon != std::string_view::npos) {
    field = text.substr(0, colon);
    value = text.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) event_.data += '\n';
    event_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.type.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) event_.id.assign(value);
  }
  // "retry" and unknown fields: nothing to do for a client that does not reconnect by itself.
  return Status::Ok();
}

}  // namespace sluice::client
