// The asynchronous heart of the server: an Asio io_context run by a few threads. Everything
// that waits (HTTP connections, long-polls, simulated model latency, timers) waits here,
// never on a thread of its own. Asio stays inside http/*.cc; this header is plain C++.
#pragma once

#include <functional>
#include <memory>

#include "core/time.h"

namespace sluice::http {

// A pending delayed call. cancel() makes sure it will not run (if it has not started yet).
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void cancel() = 0;
};

class EventLoop {
 public:
  explicit EventLoop(int threads);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Starts the threads. Work posted before start() runs once it starts.
  void start();
  // Stops the loop and joins its threads; pending work is dropped.
  void stop();

  // Runs fn on one of the loop's threads. Thread-safe.
  void post(std::function<void()> fn);
  // Runs fn after `delay` ms on the loop. Thread-safe.
  std::shared_ptr<Timer> post_after(Millis delay, std::function<void()> fn);

  // The underlying boost::asio::io_context, for http/*.cc only.
  void* native();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::http
