#include "events/event_stream.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include <boost/json.hpp>

#include "core/guarded.h"

namespace sluice {

EventStreamOptions EventStreamOptionsFor(const Store& store) {
  constexpr Millis kSharedStorePoll = 200;
  EventStreamOptions options;
  if (!store.exclusive()) options.poll = kSharedStorePoll;
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

}  // namespace

struct EventStreamHub::Stream {
  http::Responder responder;
  std::string tenant;
  std::vector<std::string> types;
  std::int64_t cursor = 0;  // the last seq read (sent or filtered out)
  Millis last_write = 0;    // steady ms
};

std::string StreamEventType(const std::string& stored_type) {
  if (stored_type.find('.') != std::string::npos) return stored_type;
  return "job." + stored_type;
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
  return "id: " + std::to_string(event.seq) + "\nevent: " + type + "\ndata: " + json::serialize(o) +
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

void EventStreamHub::open(http::Responder responder, std::string tenant, std::int64_t after_seq,
                          std::vector<std::string> types) {
  auto stream = std::make_shared<Stream>(Stream{.responder = std::move(responder),
                                                .tenant = std::move(tenant),
                                                .types = std::move(types),
                                                .cursor = after_seq,
                                                .last_write = SteadyNow()});
  stream->responder.start_stream(200, "text/event-stream",
                                 {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}});
  // How long an EventSource waits before it reconnects, and a first line so that the client
  // sees the stream open at once.
  stream->responder.write("retry: 2000\n: stream open\n\n");
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      stream->responder.end();
      return;
    }
    streams_.push_back(std::move(stream));
    woken_ = true;  // its backlog goes out now, not at the next poll
  }
  cv_.notify_one();
}

int EventStreamHub::open_streams() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(streams_.size());
}

void EventStreamHub::run() {
  Millis next_poll = 0;
  Millis last_round = 0;
  for (;;) {
    std::vector<std::shared_ptr<Stream>> streams;
    {
      std::unique_lock lock(mu_);
      const auto poll_at =
          std::chrono::steady_clock::time_point(std::chrono::milliseconds(next_poll));
      cv_.wait_until(lock, poll_at, [&] { return woken_ || stopping_; });
      if (stopping_) return;
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
      woken_ = false;
      streams = streams_;
    }
    last_round = SteadyNow();
    next_poll = last_round + options_.poll;
    std::vector<std::shared_ptr<Stream>> gone;
    for (const auto& s : streams) {
      bool open = true;  // a stream whose feed threw stays: the next round tries it again
      (void)RunGuarded("events: feeding a stream", [&] { open = feed(*s, last_round); });
      if (!open) gone.push_back(s);
    }
    if (!gone.empty()) {
      std::lock_guard lock(mu_);
      std::erase_if(streams_, [&](const std::shared_ptr<Stream>& s) {
        return std::find(gone.begin(), gone.end(), s) != gone.end();
      });
    }
  }
}

bool EventStreamHub::feed(Stream& s, Millis now) {
  if (s.responder.closed()) return false;
  for (int round = 0; round < kBatchesPerRound; ++round) {
    auto events = store_.events_after(s.tenant, s.cursor, options_.batch);
    if (!events.ok()) break;  // the store is away: the next round tries again
    std::string out;
    for (const JobEvent& e : *events) {
      s.cursor = e.seq;
      std::string type = StreamEventType(e.type);
      if (StreamTypeMatches(s.types, type)) out += FormatStreamEvent(e, type);
    }
    if (!out.empty()) {
      s.responder.write(std::move(out));
      s.last_write = now;
    }
    if (static_cast<int>(events->size()) < options_.batch) break;
    if (round + 1 == kBatchesPerRound) wake();  // more backlog: another round soon
  }
  if (now - s.last_write >= options_.heartbeat) {
    s.responder.write(": keep-alive\n\n");
    s.last_write = now;
  }
  return true;
}

}  // namespace sluice
