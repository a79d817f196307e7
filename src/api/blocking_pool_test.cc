#include "api/blocking_pool.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <new>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "http/test_client.h"

namespace sluice {
namespace {

using http::testing::WaitFor;

// Work that blocks until open() (a hung store call).
class Gate {
 public:
  std::function<void()> hold() {
    return [this] {
      std::unique_lock lock(mu_);
      ++held_;
      cv_.notify_all();
      cv_.wait(lock, [this] { return open_; });
    };
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  int held() {
    std::lock_guard lock(mu_);
    return held_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int held_ = 0;
  bool open_ = false;
};

TEST(BlockingPoolTest, RunsWorkOffTheCallersThread) {
  BlockingPool pool({.threads = 2, .max_queued = 4});
  std::atomic<bool> ran{false};
  std::thread::id worker;
  ASSERT_TRUE(pool.run([&] {
    worker = std::this_thread::get_id();
    ran = true;
  }));
  ASSERT_TRUE(WaitFor([&] { return ran.load(); }));
  EXPECT_NE(worker, std::this_thread::get_id());
}

TEST(BlockingPoolTest, RefusesPastTheBoundAndCountsIt) {
  Gate gate;
  BlockingPool pool({.threads = 2, .max_queued = 3});
  ASSERT_TRUE(pool.run(gate.hold()));
  ASSERT_TRUE(pool.run(gate.hold()));
  ASSERT_TRUE(WaitFor([&] { return gate.held() == 2; }));  // both threads taken
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(pool.run([] {}));
  bool destroyed = false;
  auto marker = std::shared_ptr<int>(new int(0), [&destroyed](int* p) {
    destroyed = true;
    delete p;
  });
  EXPECT_FALSE(pool.run([marker] {}));
  marker.reset();
  EXPECT_TRUE(destroyed) << "refused work must be dropped, not kept";
  BlockingPool::Load load = pool.load();
  EXPECT_EQ(load.running, 2);
  EXPECT_EQ(load.queued, 3u);
  EXPECT_EQ(load.refused, 1u);
  gate.open();
  ASSERT_TRUE(WaitFor([&] {
    BlockingPool::Load l = pool.load();
    return l.running == 0 && l.queued == 0;
  }));
  EXPECT_TRUE(pool.run([] {}));  // room again
}

TEST(BlockingPoolTest, StopDropsQueuedWorkUncalledAndWaitsForRunningWork) {
  Gate gate;
  BlockingPool pool({.threads = 1, .max_queued = 8});
  ASSERT_TRUE(pool.run(gate.hold()));
  ASSERT_TRUE(WaitFor([&] { return gate.held() == 1; }));
  std::atomic<int> called{0};
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pool.run([&] { ++called; }));
  std::thread opener([&] {
    // stop() must be waiting for the held work when the gate opens.
    WaitFor([&] { return pool.load().queued == 0; });
    gate.open();
  });
  pool.stop();
  opener.join();
  EXPECT_EQ(called.load(), 0);
  EXPECT_FALSE(pool.run([] {}));
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// A task that throws used to be std::terminate (the whole server); now it is logged, and its
// thread takes the next task.
TEST(BlockingPoolTest, ATaskThatThrowsLeavesItsThreadServing) {
  BlockingPool pool(BlockingPoolOptions{.threads = 1, .max_queued = 8});
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.run([] { throw std::runtime_error("a handler's bug"); }));
  ASSERT_TRUE(pool.run([] { throw std::bad_alloc(); }));
  ASSERT_TRUE(pool.run([&] { ++ran; }));
  ASSERT_TRUE(http::testing::WaitFor([&] { return ran.load() == 1; }));
  EXPECT_EQ(pool.load().running, 0);
  EXPECT_EQ(pool.load().threads, 1);
}

}  // namespace
}  // namespace sluice
