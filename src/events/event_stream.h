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
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/time.h"
#include "http/server.h"
#include "store/store.h"

namespace sluice {

struct EventStreamOptions {
  Millis poll = 1'000;        // rounds without a wake-up
  Millis min_interval = 50;   // rounds at most this often: a busy server's commits coalesce
  Millis heartbeat = 15'000;  // a ": keep-alive" comment when nothing else went out
  int batch = 500;            // events read per query
};

// The options for streams over `store`: other nodes' events reach a shared store's streams only
// by polling, and on PostgreSQL events also wait to settle (store.h events_after), so a shared
// store is polled often; an exclusive one only as the safety net behind wake().
EventStreamOptions EventStreamOptionsFor(const Store& store);

// The SSE type of a stored event type: "done" → "job.done"; a type with a dot stays as it is.
std::string StreamEventType(const std::string& stored_type);
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
  // with seq > after_seq that pass `types`.
  void open(http::Responder responder, std::string tenant, std::int64_t after_seq,
            std::vector<std::string> types);
  int open_streams() const;

 private:
  struct Stream;
  void run();
  // Feeds one stream; false when it should be dropped (its client left).
  bool feed(Stream& stream, Millis now);

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
