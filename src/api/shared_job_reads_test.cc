#include "api/shared_job_reads.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <unistd.h>

#include "store/testing/forwarding_store.h"

namespace sluice {
namespace {

using namespace std::chrono_literals;

// Counts get_job reads; the first one waits until released.
class GatedStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<Job> get_job(const std::string& tenant, const std::string& id) override {
    const int n = ++reads;
    if (n == 1) {
      std::unique_lock lock(mu);
      entered = true;
      cv.notify_all();
      cv.wait(lock, [this] { return released; });
    }
    return ForwardingStore::get_job(tenant, id);
  }
  void wait_entered() {
    std::unique_lock lock(mu);
    cv.wait(lock, [this] { return entered; });
  }
  void release() {
    std::lock_guard lock(mu);
    released = true;
    cv.notify_all();
  }
  std::atomic<int> reads{0};
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false;
  bool released = false;
};

TEST(SharedJobReadsTest, WaitersWokenTogetherShareOneReadStartedAfterTheRunningOne) {
  auto dir = std::filesystem::temp_directory_path() / ("sluice-shared-reads-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto inner = Store::Open(StoreOptions{.data_dir = dir.string(), .durable = false});
  ASSERT_TRUE(inner.ok());
  Job job;
  job.id = "job_1";
  job.created_at = 1;
  job.spec.type = "classify";
  ASSERT_TRUE((*inner)->submit_jobs(std::span<const Job>(&job, 1)).ok());
  GatedStore store(**inner);
  SharedJobReads reads(store);
  BlockingPool pool;

  std::atomic<int> answered{0};
  auto done = [&](const Result<Job>& j) {
    EXPECT_TRUE(j.ok());
    ++answered;
  };
  ASSERT_TRUE(reads.read(pool, kDefaultTenant, "job_1", done));  // read 1, held in the store
  store.wait_entered();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(reads.read(pool, kDefaultTenant, "job_1", done));
  // Another job is not held behind this one's read.
  std::atomic<bool> other{false};
  ASSERT_TRUE(reads.read(pool, kDefaultTenant, "job_2", [&](const Result<Job>& j) {
    EXPECT_EQ(j.status().code(), StatusCode::kNotFound);
    other = true;
  }));
  store.release();
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while ((answered.load() < 101 || !other.load()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(answered.load(), 101);
  EXPECT_TRUE(other.load());
  // job_1: the held read, then one for the 100 that came during it; job_2: one.
  EXPECT_EQ(store.reads.load(), 3);
  pool.stop();
  inner->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice
