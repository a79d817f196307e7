// A few threads for the HTTP handlers' blocking work (synchronous store calls, blob writes and
// their fsyncs), so that an event-loop thread never waits on a disk or a database: a stalled
// PostgreSQL or a slow disk then holds pool threads, while the loop keeps answering /healthz and
// every request that needs no store.
//
// The queue is bounded: past it run() refuses, and the handler answers 503 with Retry-After
// (api/off_loop.h). A store that hangs therefore costs a fixed number of threads and queued
// closures, never a backlog that grows with the request rate.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sluice {

struct BlockingPoolOptions {
  // As many as the PostgreSQL engine's connection pool (8): more threads would only wait for a
  // connection there, fewer would leave connections idle while requests queue here.
  int threads = 8;
  // Requests waiting for a thread. Each holds its request's body at most (bounded by
  // server.max_body), so this bounds the memory a stalled store can pin.
  std::size_t max_queued = 1024;
};

class BlockingPool {
 public:
  explicit BlockingPool(BlockingPoolOptions options = {});
  // stop().
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Queues `work` for a pool thread. False, with `work` destroyed uncalled, when the queue is
  // full or stop() has begun. Thread-safe; `work` may call run() again.
  [[nodiscard]] bool run(std::function<void()> work);

  // Refuses new work, destroys what is still queued (uncalled: a closure holding a Responder
  // then closes its connection), waits for the work that is running, and joins the threads.
  // Idempotent; must not be called from pool work.
  void stop();

  struct Load {
    int threads = 0;
    int running = 0;           // work being called right now
    std::size_t queued = 0;    // waiting for a thread
    std::size_t max_queued = 0;
    std::uint64_t refused = 0;  // run() calls refused because the queue was full
  };
  Load load() const;

 private:
  void loop();

  const BlockingPoolOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;  // GUARDED_BY(mu_)
  int running_ = 0;                          // GUARDED_BY(mu_)
  std::uint64_t refused_ = 0;                // GUARDED_BY(mu_)
  bool stopping_ = false;                    // GUARDED_BY(mu_)
  std::mutex join_mu_;                       // serializes concurrent stop() calls around join
  std::vector<std::thread> threads_;         // last: start after every member above is ready
};

}  // namespace sluice
