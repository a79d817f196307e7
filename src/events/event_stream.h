// The live event stream (GET /v1/events): Server-Sent Events of a tenant's job and batch events,
// fed from the store's events table, so a stream shows exactly what the job histories hold and
// resumes exactly where a client left off.
//
// One thread feeds every open stream. It runs a round when a commit of this process appended
// events (wake(), from Store::set_commit_listener), at most every `min_interval`, and on a
// poll (events other nodes committed on a shared store; on PostgreSQL also the events the store
// held back until they settled, store.h events_after). Each round reads, per stream, the
// tenant's events after the stream's cursor and writes them in seq order:
//
//   id: <seq>
//   event: <type>            job events as "job.<history type>" (job.submitted, job.started,
//                            job.done, job.webhook, ...); batch events keep their "batch.*" type
//   data: {"seq": …, "job_id": …, "type": …, "at": …, "data": {…}}
//
// A client that reconnects with Last-Event-ID (or ?after=) set to the last id it saw gets every
// later event once, in order: the cursor is a seq, and the store never returns an event while
// an older one may still commit. A comment line goes out every `heartbeat` so that proxies and
// clients see a live connection.
//
// Memory per stream is bounded (backpressure): every write goes through Responder::write with a
// `sent` callback, and the hub counts a stream's bytes written but not yet out on the socket.
// A stream is fed only while that count is under `stream_buffer`, and one round writes at most
// the room left (an event larger than the whole buffer goes alone), so a client that reads slowly
// simply gets its events later, straight from the store, and never holds more than about
// `stream_buffer` of this process's memory. A stream with bytes pending that made no progress
// (no chunk went out) for `stall_timeout` is closed: its client reconnects with Last-Event-ID
// and loses nothing, since every event is in the store. Streams are also counted, per tenant
// and in all: open() refuses one past either cap (429 too_many_streams), so the bound on the
// whole hub is max_streams × stream_buffer.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.h"
#include "core/time.h"
#include "http/server.h"
#include "store/store.h"

namespace sluice {

struct EventStreamOptions {
  Millis poll = 1'000;        // rounds without a wake-up
  Millis min_interval = 50;   // rounds at most this often: a busy server's commits coalesce
  Millis heartbeat = 15'000;  // a ": keep-alive" comment when nothing else went out
  int batch = 500;            // events read per query: the replay batch size
  // Bytes written to one stream and not yet sent to its socket, at most (or one event, when a
  // single event is larger).
  std::int64_t stream_buffer = 1 << 20;
  // A stream with bytes pending and no chunk sent for this long is closed (0: never).
  Millis stall_timeout = 30'000;
  int max_streams_per_tenant = 64;  // open streams of one tenant (0: no cap)
  int max_streams = 4096;           // open streams on this node (0: no cap)
};

// The options for streams over `store` under `[events]`: other nodes' events reach a shared
// store's streams only by polling, and on PostgreSQL events also wait to settle (store.h
// events_after), so a shared store is polled often; an exclusive one only as the safety net
// behind wake().
EventStreamOptions EventStreamOptionsFor(const Store& store, const EventsConfig& config);

// The SSE type of a stored event type: "done" → "job.done"; a type with a dot stays as it is.
std::string StreamEventType(const std::string& stored_type);
// Every SSE type a stream can carry (the store's event types through StreamEventType).
inline constexpr std::string_view kStreamEventTypes[] = {
    "job.submitted",       "job.started",         "job.done",          "job.retry",
    "job.failed",          "job.review",          "job.expired",       "job.canceled",
    "job.blocked",         "job.lease_expired",   "job.released",      "job.review_approved",
    "job.review_rejected", "job.review_retry",    "job.webhook",       "batch.in_progress",
    "batch.completed",     "batch.failed",        "batch.expired",     "batch.cancelled",
    "batch.webhook"};
// A filter a client may ask for: one of kStreamEventTypes, or "job.*" / "batch.*".
bool IsStreamTypeFilter(std::string_view filter);
// Whether `type` (an SSE type) passes `filters`: an empty list passes all; an entry matches
// itself, and "job.*" matches every type starting with "job.".
bool StreamTypeMatches(const std::vector<std::string>& filters, const std::string& type);
// One SSE message for an event.
std::string FormatStreamEvent(const JobEvent& event, const std::string& type);

class EventStreamHub {
 public:
  EventStreamHub(Store& store, EventStreamOptions options);
  ~EventStreamHub();
  EventStreamHub(const EventStreamHub&) = delete;
  EventStreamHub& operator=(const EventStreamHub&) = delete;

  void start();
  // Ends every open stream (the client sees the end of the response and may reconnect to
  // another node) and stops the thread.
  void stop();
  // Events were committed. Cheap, any thread.
  void wake();

  // Takes over a request's responder: starts the SSE response and streams the tenant's events
  // with seq > after_seq that pass `types`. Past max_streams_per_tenant or max_streams it
  // leaves the responder untouched and returns ResourceExhausted (error code
  // "too_many_streams", with a Retry-After) for the caller to send; a stream whose client left
  // counts no more even before the feeding thread dropped it.
  [[nodiscard]] Status open(http::Responder responder, std::string tenant,
                            std::int64_t after_seq, std::vector<std::string> types);
  int open_streams() const;
  // Bytes written to the open streams and not yet sent to their sockets, summed: what slow
  // clients hold of this process's memory (at most open_streams() × stream_buffer).
  std::int64_t pending_bytes() const;

 private:
  struct Stream;
  void run();
  // Feeds one stream; false when it should be dropped (its client left, or it stalled and was
  // closed).
  bool feed(const std::shared_ptr<Stream>& stream, Millis now);
  // Writes `chunk` to the stream, counted as pending until its `sent` callback.
  void write(const std::shared_ptr<Stream>& stream, std::string chunk);

  Store& store_;
  const EventStreamOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;                            // GUARDED_BY(mu_)
  bool stopping_ = false;                         // GUARDED_BY(mu_)
  std::vector<std::shared_ptr<Stream>> streams_;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace sluice
