#include "http/event_loop.h"

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace sluice::http {
namespace {

namespace asio = boost::asio;

// One delayed call. The completion handler holds the timer alive until it has run or been
// cancelled; the caller's handle may be dropped at any time without cancelling the call.
//
// Thread-safety: the steady_timer itself is not thread-safe, so it is touched only by
// post_after (before the handle escapes) and by the single cancel() that wins `canceled_`.
// Asio guards the timer queue with the scheduler's lock, so that one cancel may run on any
// thread. The flag also covers a cancel that lands after expiry but before fn starts.
class AsioTimer final : public Timer, public std::enable_shared_from_this<AsioTimer> {
 public:
  AsioTimer(asio::io_context& io, std::function<void()> fn) : timer_(io), fn_(std::move(fn)) {}

  void arm(Millis delay) {
    timer_.expires_after(std::chrono::milliseconds(delay < 0 ? 0 : delay));
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      // Release fn on every path: a cancelled timer must not keep its captures alive.
      std::function<void()> fn = std::move(self->fn_);
      if (ec || self->canceled_.load(std::memory_order_acquire)) return;
      fn();
    });
  }

  void cancel() override {
    if (canceled_.exchange(true, std::memory_order_acq_rel)) return;
    timer_.cancel();  // completes the wait with operation_aborted, freeing fn promptly
  }

 private:
  asio::steady_timer timer_;
  std::function<void()> fn_;
  std::atomic<bool> canceled_{false};
};

}  // namespace

struct EventLoop::Impl {
  explicit Impl(int n) : threads(n < 1 ? 1 : n), io(threads) {}

  // Runs the context until stop(). A posted function that throws must not take the whole
  // loop down: the exception is reported and the thread goes back to work.
  void run_thread() {
    for (;;) {
      try {
        io.run();
        return;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "sluice: uncaught exception on event loop: %s\n", e.what());
      } catch (...) {
        std::fprintf(stderr, "sluice: uncaught exception on event loop\n");
      }
    }
  }

  const int threads;
  asio::io_context io;
  std::mutex mu;  // serializes start() and stop()
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> workers;
};

EventLoop::EventLoop(int threads) : impl_(std::make_unique<Impl>(threads)) {}

EventLoop::~EventLoop() {
  stop();
}

void EventLoop::start() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (!impl_->workers.empty()) return;
  if (impl_->io.stopped()) impl_->io.restart();
  impl_->work.emplace(impl_->io.get_executor());
  for (int i = 0; i < impl_->threads; ++i) {
    impl_->workers.emplace_back([impl = impl_.get()] { impl->run_thread(); });
  }
}

void EventLoop::stop() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->work.reset();
  impl_->io.stop();
  for (std::thread& t : impl_->workers) {
    if (t.get_id() == std::this_thread::get_id()) {
      // stop() called from a loop thread (a misuse, but not worth a crash): that thread
      // cannot join itself; it leaves run() as soon as its current handler returns.
      t.detach();
    } else {
      t.join();
    }
  }
  impl_->workers.clear();
}

void EventLoop::post(std::function<void()> fn) {
  asio::post(impl_->io, std::move(fn));
}

std::shared_ptr<Timer> EventLoop::post_after(Millis delay, std::function<void()> fn) {
  auto timer = std::make_shared<AsioTimer>(impl_->io, std::move(fn));
  timer->arm(delay);
  return timer;
}

void* EventLoop::native() {
  return &impl_->io;
}

}  // namespace sluice::http
