#include "store/group_commit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <stdexcept>
#include <thread>
#include <vector>

#include "store/store.h"
#include "store/testing/forwarding_store.h"

namespace sluice {
namespace {

using testing::ElementsAre;

// A handler whose first call blocks until released, so a test can queue items behind it and
// know they all wait for the same next batch.
class GatedDoubler {
 public:
  std::vector<int> operator()(std::vector<int>& items) {
    {
      std::lock_guard lock(mu_);
      sizes_.push_back(items.size());
    }
    if (first_) {
      first_ = false;
      entered_.set_value();
      release_.get_future().wait();
    }
    std::vector<int> out;
    for (int v : items) out.push_back(v * 2);
    return out;
  }
  void wait_entered() { entered_future_.wait(); }
  void release() { release_.set_value(); }
  std::vector<std::size_t> sizes() {
    std::lock_guard lock(mu_);
    return sizes_;
  }

 private:
  bool first_ = true;  // touched by the batcher thread only
  std::promise<void> entered_;
  std::future<void> entered_future_ = entered_.get_future();
  std::promise<void> release_;
  std::mutex mu_;
  std::vector<std::size_t> sizes_;
};

TEST(BatcherTest, EveryCallbackGetsItsOwnOutcome) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  std::atomic<int> right{0};
  std::atomic<int> wrong{0};
  std::atomic<int> calls{0};
  Batcher<int, int> batcher(
      [&](std::vector<int>& items) {
        calls.fetch_add(1);
        std::vector<int> out;
        for (int v : items) out.push_back(v * 2 + 1);
        return out;
      },
      64);
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        int item = t * kPerThread + i;
        bool queued = batcher.enqueue(
            item, [&, item](int out) { (out == item * 2 + 1 ? right : wrong).fetch_add(1); });
        if (!queued) wrong.fetch_add(1);
      }
    });
  }
  for (auto& p : producers) p.join();
  batcher.stop();  // drains: every callback has run when it returns
  EXPECT_EQ(right.load(), kThreads * kPerThread);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GE(calls.load(), kThreads * kPerThread / 64);
}

TEST(BatcherTest, ItemsQueuedDuringACommitShareTheNextOne) {
  GatedDoubler handler;
  Batcher<int, int> batcher([&](std::vector<int>& items) { return handler(items); });
  std::mutex mu;
  std::vector<int> outcomes;
  auto record = [&](int out) {
    std::lock_guard lock(mu);
    outcomes.push_back(out);
  };
  ASSERT_TRUE(batcher.enqueue(0, record));
  handler.wait_entered();  // the first batch is being committed
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 1; i <= 25; ++i) ASSERT_TRUE(batcher.enqueue(t * 25 + i, record));
    });
  }
  for (auto& p : producers) p.join();
  handler.release();
  batcher.stop();
  EXPECT_THAT(handler.sizes(), ElementsAre(1u, 100u));
  std::lock_guard lock(mu);
  ASSERT_EQ(outcomes.size(), 101u);
  std::multiset<int> got(outcomes.begin(), outcomes.end());
  for (int v = 0; v <= 100; ++v) EXPECT_EQ(got.count(v * 2), 1u) << v;
}

TEST(BatcherTest, MaxBatchBoundsEachBatch) {
  GatedDoubler handler;
  Batcher<int, int> batcher([&](std::vector<int>& items) { return handler(items); }, 10);
  ASSERT_TRUE(batcher.enqueue(0, [](int) {}));
  handler.wait_entered();
  for (int i = 1; i <= 25; ++i) ASSERT_TRUE(batcher.enqueue(i, [](int) {}));
  handler.release();
  batcher.stop();
  EXPECT_THAT(handler.sizes(), ElementsAre(1u, 10u, 10u, 5u));
}

TEST(BatcherTest, WeightCountsAgainstMaxBatchButAHeavyItemStillGoes) {
  GatedDoubler handler;
  Batcher<int, int> batcher([&](std::vector<int>& items) { return handler(items); }, 10,
                            [](const int& v) { return static_cast<std::size_t>(v); });
  ASSERT_TRUE(batcher.enqueue(1, [](int) {}));
  handler.wait_entered();
  for (int v : {4, 4, 4, 25, 3}) ASSERT_TRUE(batcher.enqueue(v, [](int) {}));
  handler.release();
  batcher.stop();
  // {1}, then 4+4 (a third 4 would pass 10), then 4, then 25 alone, then 3.
  EXPECT_THAT(handler.sizes(), ElementsAre(1u, 2u, 1u, 1u, 1u));
}

TEST(BatcherTest, StopFinishesQueuedItemsThenRefusesNewOnes) {
  GatedDoubler handler;
  Batcher<int, int> batcher([&](std::vector<int>& items) { return handler(items); });
  std::atomic<int> done{0};
  ASSERT_TRUE(batcher.enqueue(0, [&](int) { done.fetch_add(1); }));
  handler.wait_entered();
  for (int i = 1; i < 50; ++i) ASSERT_TRUE(batcher.enqueue(i, [&](int) { done.fetch_add(1); }));
  std::thread stopper([&] { batcher.stop(); });
  handler.release();
  stopper.join();
  EXPECT_EQ(done.load(), 50);
  bool called = false;
  EXPECT_FALSE(batcher.enqueue(99, [&](int) { called = true; }));
  batcher.stop();  // idempotent
  EXPECT_FALSE(called);
}

class SubmitGroupCommitTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "sluice-group-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto store = Store::Open(StoreOptions{.data_dir = dir_, .durable = false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  static Job NewJob(std::string id, std::string dedup_key = "") {
    Job job;
    job.id = std::move(id);
    job.created_at = 1'800'000'000'000;
    job.spec.type = "classify";
    job.spec.dedup_key = std::move(dedup_key);
    return job;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(SubmitGroupCommitTest, ConcurrentRequestsEachGetTheirOwnJobsBack) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  SubmitGroupCommit group(*store_);
  std::atomic<int> right{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string base = "job_" + std::to_string(t) + "_" + std::to_string(i);
        std::vector<Job> request = {NewJob(base + "_a"), NewJob(base + "_b")};
        std::promise<SubmitGroupCommit::Outcome> answer;
        ASSERT_TRUE(group.submit(request, [&](SubmitGroupCommit::Outcome outcome) {
          answer.set_value(std::move(outcome));
        }));
        SubmitGroupCommit::Outcome outcome = answer.get_future().get();
        bool ok = outcome.ok() && outcome->size() == 2 && (*outcome)[0].job.id == base + "_a" &&
                  (*outcome)[1].job.id == base + "_b";
        (ok ? right : wrong).fetch_add(1);
      }
    });
  }
  for (auto& c : clients) c.join();
  group.stop();
  EXPECT_EQ(right.load(), kThreads * kPerThread);
  EXPECT_EQ(wrong.load(), 0);
  auto stats = store_->queue_stats();
  ASSERT_TRUE(stats.ok());
  ASSERT_EQ(stats->size(), 1u);
  EXPECT_EQ((*stats)[0].by_status[0], 2 * kThreads * kPerThread);
}

// Holds the group's commits until released, by holding the store's only write path: a Store
// wrapper whose submit_jobs waits for a gate the first time.
class GatedStore final : public ForwardingStore {
 public:
  explicit GatedStore(Store& inner) : ForwardingStore(inner) {}
  void wait_entered() { entered_future_.wait(); }
  void release() { release_.set_value(); }
  std::vector<std::size_t> batch_sizes() {
    std::lock_guard lock(mu_);
    return sizes_;
  }

  Result<std::vector<SubmitOutcome>> submit_jobs(std::span<const Job> jobs) override {
    {
      std::lock_guard lock(mu_);
      sizes_.push_back(jobs.size());
    }
    if (first_) {
      first_ = false;
      entered_.set_value();
      release_.get_future().wait();
    }
    return inner_.submit_jobs(jobs);
  }

 private:
  bool first_ = true;
  std::promise<void> entered_;
  std::future<void> entered_future_ = entered_.get_future();
  std::promise<void> release_;
  std::mutex mu_;
  std::vector<std::size_t> sizes_;
};

TEST_F(SubmitGroupCommitTest, MergedRequestsDedupAcrossEachOtherAndABadOneFailsAlone) {
  GatedStore gated(*store_);
  SubmitGroupCommit group(gated);
  std::mutex mu;
  std::vector<SubmitGroupCommit::Outcome> answers;
  std::vector<int> order;
  auto answer_to = [&](int request) {
    return [&, request](SubmitGroupCommit::Outcome outcome) {
      std::lock_guard lock(mu);
      order.push_back(request);
      answers.push_back(std::move(outcome));
    };
  };
  ASSERT_TRUE(group.submit({NewJob("job_first")}, answer_to(0)));
  gated.wait_entered();
  ASSERT_TRUE(group.submit({NewJob("job_x", "same-key")}, answer_to(1)));
  ASSERT_TRUE(group.submit({NewJob("job_y", "same-key")}, answer_to(2)));
  ASSERT_TRUE(group.submit({NewJob("")}, answer_to(3)));  // no id: invalid
  ASSERT_TRUE(group.submit({NewJob("job_z")}, answer_to(4)));
  gated.release();
  group.stop();

  // One commit for the first request, one merged attempt for the other four, which failed on
  // the bad request, then each of the four on its own.
  EXPECT_THAT(gated.batch_sizes(), ElementsAre(1u, 4u, 1u, 1u, 1u, 1u));
  std::lock_guard lock(mu);
  EXPECT_THAT(order, ElementsAre(0, 1, 2, 3, 4));
  ASSERT_EQ(answers.size(), 5u);
  ASSERT_TRUE(answers[1].ok());
  EXPECT_FALSE((*answers[1])[0].deduplicated);
  ASSERT_TRUE(answers[2].ok());
  EXPECT_TRUE((*answers[2])[0].deduplicated);
  EXPECT_EQ((*answers[2])[0].job.id, "job_x");
  EXPECT_EQ(answers[3].status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(answers[4].ok());
  EXPECT_TRUE(store_->get_job(kDefaultTenant, "job_z").ok());
}

TEST_F(SubmitGroupCommitTest, MergedRequestsShareOneCommit) {
  GatedStore gated(*store_);
  SubmitGroupCommit group(gated);
  std::atomic<int> ok{0};
  auto count_ok = [&](SubmitGroupCommit::Outcome outcome) {
    if (outcome.ok()) ok.fetch_add(1);
  };
  ASSERT_TRUE(group.submit({NewJob("job_0")}, count_ok));
  gated.wait_entered();
  for (int i = 1; i <= 30; ++i) {
    ASSERT_TRUE(group.submit({NewJob("job_" + std::to_string(i))}, count_ok));
  }
  gated.release();
  group.stop();
  EXPECT_THAT(gated.batch_sizes(), ElementsAre(1u, 30u));
  EXPECT_EQ(ok.load(), 31);
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// A store whose next submit_jobs throws (std::bad_alloc, as a huge request might), once.
class ThrowOnceStore final : public ForwardingStore {
 public:
  explicit ThrowOnceStore(Store& inner) : ForwardingStore(inner) {}
  Result<std::vector<SubmitOutcome>> submit_jobs(std::span<const Job> jobs) override {
    if (!thrown_.exchange(true)) throw std::bad_alloc();
    return ForwardingStore::submit_jobs(jobs);
  }

 private:
  std::atomic<bool> thrown_{false};
};

// Before the guard a throwing commit was std::terminate; now its requests get an Internal
// error, and the next request commits on the same thread.
TEST_F(SubmitGroupCommitTest, ACommitThatThrowsAnswersItsRequestsAndTheNextOneCommits) {
  ThrowOnceStore store(*store_);
  SubmitGroupCommit group(store);
  auto submit = [&](const std::string& id) {
    std::promise<SubmitGroupCommit::Outcome> answer;
    EXPECT_TRUE(group.submit({NewJob(id)}, [&](SubmitGroupCommit::Outcome outcome) {
      answer.set_value(std::move(outcome));
    }));
    return answer.get_future().get();
  };
  SubmitGroupCommit::Outcome first = submit("job_throws");
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), StatusCode::kInternal);
  EXPECT_NE(first.status().message().find("group commit"), std::string::npos);
  SubmitGroupCommit::Outcome second = submit("job_after");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ((*second)[0].job.id, "job_after");
  group.stop();
}

TEST(BatcherTest, AThrowingHandlerOrCallbackLeavesTheThreadServing) {
  int calls = 0;
  Batcher<int, int> batcher([&](std::vector<int>& items) -> std::vector<int> {
    if (++calls == 1) throw std::runtime_error("handler bug");
    return items;
  });
  std::promise<int> first;
  ASSERT_TRUE(batcher.enqueue(1, [&](int v) { first.set_value(v); }));
  EXPECT_EQ(first.get_future().get(), 0);  // an int cannot hold the error: Out{}
  ASSERT_TRUE(batcher.enqueue(2, [](int) { throw std::runtime_error("callback bug"); }));
  std::promise<int> third;
  ASSERT_TRUE(batcher.enqueue(3, [&](int v) { third.set_value(v); }));
  EXPECT_EQ(third.get_future().get(), 3);
  batcher.stop();
}

}  // namespace
}  // namespace sluice
