// Server-Sent Events read incrementally (the WHATWG "event stream" format, as GET /v1/events
// writes it: events/event_stream.h): bytes in as they arrive, in pieces of any size, whole
// events out. What `sluice events` tails the stream through.
//
// Memory is bounded by `max_event_bytes`: the one event being read (its lines so far, the line
// not yet ended) is all that is held, and an event larger than that fails the read instead of
// growing without limit (a broken or hostile server cannot make the client hold a stream).
// Not thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace sluice::client {

struct SseEvent {
  std::string id;    // the last `id:` seen on the stream (it carries over, as the format says)
  std::string type;  // `event:`, "message" when the event names none
  std::string data;  // the `data:` lines joined by "\n"
};

class SseReader {
 public:
  explicit SseReader(std::size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

  // Reads the next bytes of the stream and calls `on_event` for each event they complete, in
  // order. Returns the first non-OK Status of `on_event` (the rest of `bytes` is not read), or
  // kResourceExhausted once one event holds more than max_event_bytes; after an error the
  // reader must not be fed again. Comments (": keep-alive") and `retry:` are skipped; an event
  // without data is not dispatched.
  Status feed(std::string_view bytes, const std::function<Status(const SseEvent&)>& on_event);

  // The id of the last event dispatched (or seen), for resuming with Last-Event-ID.
  const std::string& last_id() const { return event_.id; }

 private:
  Status line(std::string_view text, const std::function<Status(const SseEvent&)>& on_event);
  std::size_t held() const { return line_.size() + event_.data.size() + event_.type.size(); }

  const std::size_t max_event_bytes_;
  std::string line_;  // the line not yet ended
  bool skip_lf_ =
      false;  // the last piece ended in "\r": a "\n" first in the next ends the same line
  bool has_data_ = false;  // the event being read has had a data line
  SseEvent event_;
};

}  // namespace sluice::client
