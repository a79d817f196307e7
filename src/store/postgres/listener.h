// A node's ear on the shared store: one dedicated session that LISTENs on the channel every
// transaction that made jobs due notifies (queries.h, kJobsChannel), and a thread that hands
// each notification's queue name to a handler at once, so an idle node claims new work without
// polling.
//
// The session lives apart from the pool: a LISTEN belongs to one session, which must stay open
// and idle to hear anything. When it breaks (a server restart, a terminated backend) the
// thread reconnects with a growing pause (up to kMaxBackoff) and LISTENs again. Notifications
// sent while it was away are lost: the scheduler's poll timer is the safety net for those.
//
// Threading: the handler runs on the listener's thread, one call at a time; it must be quick
// (Scheduler::wake only marks the queue and signals). Once the destructor returns, the
// handler is never called again. Stopping waits for a connection attempt under way, which a
// host that does not answer can make last up to the connect timeout (connection.h).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "store/postgres/connection.h"

namespace sluice::pg {

class Listener {
 public:
  using Handler = std::function<void(const std::string& queue)>;

  // Starts the thread; it connects in the background (an unreachable server is retried).
  Listener(ConnectionSettings settings, std::string channel, Handler handler);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // True while the session is connected and listening (for tests).
  bool listening() const;

 private:
  void Run();
  // Connects and LISTENs; nullptr (after logging nothing: the caller retries) on failure.
  std::unique_ptr<Connection> Connect();
  // Waits for input on `conn` or for stop; false when stopping.
  bool AwaitInput(Connection& conn);
  // Sleeps `pause` unless stopped first; false when stopping.
  bool Pause(std::chrono::milliseconds pause);

  static constexpr std::chrono::milliseconds kMinBackoff{50};
  static constexpr std::chrono::milliseconds kMaxBackoff{2'000};

  const ConnectionSettings settings_;
  const std::string channel_;
  const Handler handler_;
  int wake_pipe_[2] = {-1, -1};  // a byte written to [1] ends a poll on [0]: stop

  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;   // GUARDED_BY(mu_)
  bool listening_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace sluice::pg
