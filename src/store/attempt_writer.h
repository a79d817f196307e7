// The attempt writer: how workers' attempt outcomes (AttemptFinish) reach the store. Finishes
// queued together share one finish_attempts call (group commit, as group_commit.h does for
// submissions), and a call the store fails as a whole is tried again until it is written.
//
// Why it never drops a failed write: an outcome that is not written leaves its job running
// under this node's lease, which the scheduler's heartbeat keeps renewing, so no node would
// ever run the job again. A store that fails for a while (a PostgreSQL restart, a full disk) is
// therefore waited out, with a pause that doubles from `first_pause` up to `max_pause`, and
// the finishes queued meanwhile wait behind the failed batch, in order. Writing again is safe:
// a finish whose first write did commit (only its answer was lost) finds its attempt over,
// gets kAborted and changes nothing. A failure of the whole call is the store's (unreachable,
// disk full, I/O), never one item's (those come back per item), so every code is waited out.
//
// The retrying ends only when the lease is known lost: give_up() says the node is stopping past
// its grace; its leases are released or run out, and another node runs those jobs again. From
// then on a failed write is tried once more at once and its error is each finish's answer.
//
// Outcomes per finish: OK (written); kAborted (the job is not running under that attempt and
// lease owner any more: canceled, reaped, or already written; passed back, never retried); the
// store's error (only after give_up(), or when the writer stops before it was started).
//
// Threads: enqueue() and give_up() from any thread; neither waits for the store, so an event
// loop may call them. Each `done` runs once, on the writer's thread (or the thread calling
// write_due()), in enqueue order; it should be quick, since the next write waits for it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "store/store.h"

namespace sluice {

struct AttemptWriterOptions {
  std::size_t max_batch = 10'000;  // finishes per finish_attempts call (one transaction)
  Millis first_pause = 50;         // after the first failed write of a batch
  Millis max_pause = 2'000;        // the pause doubles up to this
  // Told about each failed write that will be tried again after `pause` (for the log). Runs on
  // the writer's thread.
  std::function<void(const Status& error, std::size_t finishes, Millis pause)> on_retry;
};

class AttemptWriter {
 public:
  using Done = std::function<void(Status)>;

  // `store` and `clock` must outlive this. Writes nothing until start() (or write_due()).
  AttemptWriter(Store& store, const Clock& clock, AttemptWriterOptions options = {});
  ~AttemptWriter();
  AttemptWriter(const AttemptWriter&) = delete;
  AttemptWriter& operator=(const AttemptWriter&) = delete;

  // Queues one finish. False once stop() has begun: then nothing is queued and `done` is never
  // called (the caller's lease is released or runs out).
  [[nodiscard]] bool enqueue(AttemptFinish finish, Done done);

  // Starts the writer's thread. At most once.
  void start();
  // The node gives up on outcomes it could not write (see above). Irreversible.
  void give_up();
  // Refuses new finishes, writes every one already queued, then joins the thread. While the
  // store keeps failing that takes until give_up(), so a stopping node calls that first.
  // Without start(), whatever is still queued is answered kUnavailable instead. Idempotent;
  // not from a `done` callback.
  void stop();

  // One write at the clock's time: the batch that failed last, once its pause is over (or at
  // once after give_up()), else up to max_batch queued finishes. Returns when the next write is
  // due: now while more is queued, the retry time after a failure, nullopt when nothing is
  // left. The thread of start() runs exactly this; tests with a FakeClock call it instead.
  std::optional<Millis> write_due();

  // Finishes accepted and not yet answered.
  std::size_t backlog() const;

 private:
  struct Batch {
    std::vector<AttemptFinish> items;
    std::vector<Done> dones;
  };

  void run();
  static void Answer(Batch& batch, const std::vector<Status>& outcomes);

  Store& store_;
  const Clock& clock_;
  const AttemptWriterOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<AttemptFinish, Done>> queue_;  // GUARDED_BY(mu_)
  Batch held_;               // GUARDED_BY(mu_): the failed batch, ahead of queue_
  Millis retry_at_ = 0;      // GUARDED_BY(mu_): when held_ is tried again
  Millis pause_ = 0;         // GUARDED_BY(mu_): the next pause after a failure
  std::size_t writing_ = 0;  // GUARDED_BY(mu_): finishes out at the store now
  bool stopping_ = false;    // GUARDED_BY(mu_)
  bool giving_up_ = false;   // GUARDED_BY(mu_)

  std::mutex join_mu_;  // serializes concurrent stop() calls around the join
  std::thread thread_;
};

}  // namespace sluice
