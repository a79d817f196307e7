#include "events/event_stream.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <utility>

#include <boost/json.hpp>

#include "core/guarded.h"
#include "json/json_text.h"

namespace sluice {

EventStreamOptions EventStreamOptionsFor(const Store& store, const EventsConfig& config) {
  constexpr Millis kSharedStorePoll = 200;
  EventStreamOptions options;
  if (!store.exclusive()) options.poll = kSharedStorePoll;
  options.stream_buffer = config.stream_buffer;
  options.stall_timeout = config.stall_timeout;
  options.max_streams_per_tenant = config.max_streams_per_tenant;
  options.max_streams = config.max_streams;
  return options;
}

namespace json = boost::json;

namespace {

Millis SteadyNow() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// Reads per stream per round, so that one stream with a long backlog cannot hold up the rest.
constexpr int kBatchesPerRound = 4;
// A round's output for one stream goes out in chunks of about this size, each with its own
// `sent` callback: progress (for stall_timeout) is then seen at this granularity, so a client
// that reads slowly but steadily is not mistaken for one that stopped.
constexpr std::size_t kChunkBytes = 64 << 10;
// Retry-After of a refused stream: long enough for a reconnect storm to spread out.
constexpr int kTooManyStreamsRetryS = 5;

Status TooManyStreams(std::string why) {
  return Status(StatusCode::kResourceExhausted, std::move(why))
      .with_error_code("too_many_streams")
      .with_retry_after(kTooManyStreamsRetryS);
}

}  // namespace

// The hub thread alone reads and writes the plain fields. `pending` and `last_progress` are
// also updated by `sent` callbacks on the connection's strand, hence atomics.
struct EventStreamHub::Stream {
  explicit Stream(http::Responder r) : responder(std::move(r)) {}

  http::Responder responder;
  std::string tenant;
  std::vector<std::string> types;
  std::int64_t cursor = 0;  // the last seq read (sent or filtered out)
  Millis last_write = 0;    // steady ms
  // Fed in the next short round rather than the next full one: it has more backlog than one
  // round writes, or it was held back by its buffer.
  bool wants_feed = false;
  std::atomic<std::int64_t> pending{0};  // bytes written, their `sent` not yet called
  std::atomic<Millis> last_progress{0};  // steady ms of the last chunk that went out
};

std::string StreamEventType(const std::string& stored_type) {
  if (stored_type.find('.') != std::string::npos) return stored_type;
  return "job." + stored_type;
}

bool IsStreamTypeFilter(std::string_view filter) {
  if (filter == "job.*" || filter == "batch.*") return true;
  for (std::string_view type : kStreamEventTypes) {
    if (type == filter) return true;
  }
  return false;
}

bool StreamTypeMatches(const std::vector<std::string>& filters, const std::string& type) {
  if (filters.empty()) return true;
  for (const std::string& f : filters) {
    if (f == type) return true;
    if (f.size() >= 2 && f.ends_with(".*") && type.starts_with(f.substr(0, f.size() - 1))) {
      return true;
    }
  }
  return false;
}

std::string FormatStreamEvent(const JobEvent& event, const std::string& type) {
  boost::system::error_code ec;
  json::value data = json::parse(event.data_json, ec);
  json::object o{{"seq", event.seq},
                 {"job_id", event.job_id},
                 {"type", type},
                 {"at", FormatRfc3339(event.at)},
                 {"data", ec ? json::value(json::object()) : std::move(data)}};
  // serialize() escapes newlines inside strings, so the data is one line as SSE needs.
  return "id: " + std::to_string(event.seq) + "\nevent: " + type + "\ndata: " + JsonText(o) +
         "\n\n";
}

EventStreamHub::EventStreamHub(Store& store, EventStreamOptions options)
    : store_(store), options_(options) {}

EventStreamHub::~EventStreamHub() {
  stop();
}

void EventStreamHub::start() {
  thread_ = std::thread([this] { run(); });
}

void EventStreamHub::stop() {
  std::vector<std::shared_ptr<Stream>> streams;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    streams.swap(streams_);
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  for (const auto& s : streams) s->responder.end();
}

void EventStreamHub::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_one();
}

Status EventStreamHub::open(http::Responder responder, std::string tenant,
                            std::int64_t after_seq, std::vector<std::string> types) {
  auto stream = std::make_shared<Stream>(std::move(responder));
  stream->tenant = std::move(tenant);
  stream->types = std::move(types);
  stream->cursor = after_seq;
  stream->last_write = SteadyNow();
  std::unique_lock lock(mu_);
  if (!stopping_) {
    int total = 0;
    int of_tenant = 0;
    for (const auto& s : streams_) {
      if (s->responder.closed()) continue;  // gone, not yet dropped by the hub thread
      ++total;
      if (s->tenant == stream->tenant) ++of_tenant;
    }
    if (options_.max_streams_per_tenant > 0 && of_tenant >= options_.max_streams_per_tenant) {
      return TooManyStreams("this tenant has " + std::to_string(of_tenant) +
                            " event streams open, the most allowed ([events] "
                            "max_streams_per_tenant); close one or retry later");
    }
    if (options_.max_streams > 0 && total >= options_.max_streams) {
      return TooManyStreams("this node has " + std::to_string(total) +
                            " event streams open, the most allowed ([events] max_streams); "
                            "retry later or on another node");
    }
  }
  // Started under the lock: the hub thread must not write before the response has begun.
  stream->responder.start_stream(200, "text/event-stream",
                                 {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}});
  if (stopping_) {
    stream->responder.end();  // the client reconnects, to another node if this one is going
    return Status::Ok();
  }
  // How long an EventSource waits before it reconnects, and a first line so that the client
  // sees the stream open at once.
  write(stream, "retry: 2000\n: stream open\n\n");
  streams_.push_back(std::move(stream));
  woken_ = true;  // its backlog goes out now, not at the next poll
  lock.unlock();
  cv_.notify_one();
  return Status::Ok();
}

int EventStreamHub::open_streams() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(streams_.size());
}

std::int64_t EventStreamHub::pending_bytes() const {
  std::lock_guard lock(mu_);
  std::int64_t sum = 0;
  for (const auto& s : streams_) sum += s->pending.load();
  return sum;
}

void EventStreamHub::run() {
  Millis next_poll = 0;
  Millis last_round = 0;
  bool backlog = false;  // some stream wants feeding before the next full round
  for (;;) {
    std::vector<std::shared_ptr<Stream>> streams;
    bool full = false;  // a wake-up or a poll: every stream; else only those that want feeding
    {
      std::unique_lock lock(mu_);
      const Millis wake_at =
          backlog ? std::min(next_poll, last_round + options_.min_interval) : next_poll;
      const auto at = std::chrono::steady_clock::time_point(std::chrono::milliseconds(wake_at));
      cv_.wait_until(lock, at, [&] { return woken_ || stopping_; });
      if (stopping_) return;
      full = woken_ || SteadyNow() >= next_poll;
      woken_ = false;
      streams = streams_;
    }
    // Coalesce: a round at most every min_interval however often commits wake us.
    const Millis since = SteadyNow() - last_round;
    if (since < options_.min_interval) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(options_.min_interval - since),
                   [&] { return stopping_; });
      if (stopping_) return;
      full = full || woken_;
      woken_ = false;
      streams = streams_;
    }
    last_round = SteadyNow();
    if (full) next_poll = last_round + options_.poll;
    backlog = false;
    std::vector<std::shared_ptr<Stream>> gone;
    for (const auto& s : streams) {
      if (!full && !s->wants_feed) continue;
      bool open = true;  // a stream whose feed threw stays: the next round tries it again
      (void)RunGuarded("events: feeding a stream", [&] { open = feed(s, last_round); });
      if (!open) {
        gone.push_back(s);
      } else if (s->wants_feed) {
        backlog = true;
      }
    }
    if (!gone.empty()) {
      std::lock_guard lock(mu_);
      std::erase_if(streams_, [&](const std::shared_ptr<Stream>& s) {
        return std::find(gone.begin(), gone.end(), s) != gone.end();
      });
    }
  }
}

void EventStreamHub::write(const std::shared_ptr<Stream>& s, std::string chunk) {
  const auto size = static_cast<std::int64_t>(chunk.size());
  // The stall clock starts when bytes start waiting, not at the last progress long ago.
  if (s->pending.fetch_add(size) == 0) s->last_progress = SteadyNow();
  // Weak: the connection holds the callback until the chunk is out, the stream holds the
  // connection (through its responder); a strong pointer would be a cycle until then.
  std::weak_ptr<Stream> weak = s;
  s->responder.write(std::move(chunk), [weak, size] {
    if (auto stream = weak.lock()) {
      stream->last_progress = SteadyNow();
      stream->pending.fetch_sub(size);
    }
  });
}

bool EventStreamHub::feed(const std::shared_ptr<Stream>& stream, Millis now) {
  Stream& s = *stream;
  if (s.responder.closed()) return false;
  const std::int64_t pending = s.pending.load();
  if (pending > 0 && options_.stall_timeout > 0 &&
      now - s.last_progress.load() >= options_.stall_timeout) {
    // Its client stopped reading: free what it holds now rather than at the idle timeout.
    // It resumes with Last-Event-ID and loses nothing (the events are in the store).
    s.responder.abort();
    return false;
  }
  std::int64_t room = options_.stream_buffer - pending;
  s.wants_feed = room <= 0;
  for (int round = 0; round < kBatchesPerRound && room > 0; ++round) {
    auto events = store_.events_after(s.tenant, s.cursor, options_.batch);
    if (!events.ok()) break;  // the store is away: the next round tries again
    std::string out;
    bool held_back = false;
    for (const JobEvent& e : *events) {
      std::string type = StreamEventType(e.type);
      if (StreamTypeMatches(s.types, type)) {
        std::string message = FormatStreamEvent(e, type);
        // Past the room left, the event waits for a later round (re-read from the store). An
        // event larger than the whole buffer goes once nothing else is pending, or the stream
        // would never move: pending stays under max(stream_buffer, the largest event).
        const auto size = static_cast<std::int64_t>(message.size());
        if (size > room && room < options_.stream_buffer) {
          held_back = true;
          break;
        }
        room -= size;
        out += message;
        if (out.size() >= kChunkBytes) {
          write(stream, std::move(out));
          out.clear();
          s.last_write = now;
        }
      }
      s.cursor = e.seq;
    }
    if (!out.empty()) {
      write(stream, std::move(out));
      s.last_write = now;
    }
    if (held_back || room <= 0) {
      s.wants_feed = true;
      break;
    }
    if (static_cast<int>(events->size()) < options_.batch) break;
    if (round + 1 == kBatchesPerRound) s.wants_feed = true;  // more backlog: a round soon
  }
  if (s.pending.load() == 0 && now - s.last_write >= options_.heartbeat) {
    write(stream, ": keep-alive\n\n");
    s.last_write = now;
  }
  return true;
}

}  // namespace sluice
