// Group commit: many callers' small writes share one store call, so one transaction and one
// fsync serve them all. This is how thousands of single `POST /v1/jobs` per second stay durable
// on one disk: while one commit is syncing, the next requests queue up, and they all go into
// the following commit together. No timer waits for a batch to fill: an idle batcher commits
// a lone request at once, and batches grow only as load grows.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/guarded.h"
#include "core/status.h"
#include "store/store.h"

namespace sluice {

// Owns one thread that takes everything queued (up to max_batch), hands it to `handler` in one
// call, then calls each item's `done` with that item's outcome, in enqueue order, on the
// batcher thread. `done` should be quick (post to the caller's event loop): the next batch
// waits for it. Thread-safe.
//
// A handler that throws does not end the thread: every item of its batch is answered with the
// Internal status of what threw (Out built from the Status; an Out that cannot hold one gets
// Out{}), and the next batch goes on. A `done` that throws is logged and skipped; the other
// items of its batch are still answered.
template <typename In, typename Out>
class Batcher {
 public:
  // Gets the batch in enqueue order and returns one outcome per item, in the same order. The
  // items are the handler's to move from.
  using Handler = std::function<std::vector<Out>(std::vector<In>&)>;
  using Done = std::function<void(Out)>;
  // How much of max_batch an item takes (default 1 each). A batch always takes at least one
  // item, however heavy.
  using Weight = std::function<std::size_t(const In&)>;

  explicit Batcher(Handler handler, std::size_t max_batch = 10000, Weight weight = {})
      : handler_(std::move(handler)),
        max_batch_(max_batch == 0 ? 1 : max_batch),
        weight_(std::move(weight)),
        thread_([this] { run(); }) {}

  ~Batcher() { stop(); }
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues one item. False once stop() has begun: then nothing is queued and `done` is never
  // called.
  [[nodiscard]] bool enqueue(In item, Done done) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return false;
      queue_.push_back(Entry{std::move(item), std::move(done)});
    }
    wake_.notify_one();
    return true;
  }

  // Refuses new items, finishes every item already queued (each `done` is called), then joins
  // the thread. Idempotent; must not be called from a `done` callback.
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_one();
    std::lock_guard join_lock(join_mu_);
    if (thread_.joinable()) thread_.join();
  }

 private:
  struct Entry {
    In item;
    Done done;
  };

  static Out FailedOutcome(const Status& status) {
    if constexpr (std::is_constructible_v<Out, Status>) {
      return Out(status);
    } else {
      return Out{};
    }
  }

  void run() {
    std::vector<In> items;
    std::vector<Done> dones;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and everything queued is done
        std::size_t taken = 0;
        while (!queue_.empty()) {
          std::size_t w = weight_ ? weight_(queue_.front().item) : 1;
          if (!items.empty() && taken + w > max_batch_) break;
          taken += w;
          items.push_back(std::move(queue_.front().item));
          dones.push_back(std::move(queue_.front().done));
          queue_.pop_front();
        }
      }
      std::vector<Out> outcomes;
      Status threw = RunGuarded("group commit: a batch", [&] { outcomes = handler_(items); });
      if (!threw.ok()) {
        outcomes.clear();
        for (std::size_t i = 0; i < dones.size(); ++i) outcomes.push_back(FailedOutcome(threw));
      }
      CHECK(outcomes.size() == dones.size());  // the handler's contract: one outcome per item
      for (std::size_t i = 0; i < dones.size(); ++i) {
        (void)RunGuarded("group commit: answering a request",
                         [&] { dones[i](std::move(outcomes[i])); });
      }
      items.clear();
      dones.clear();
    }
  }

  const Handler handler_;
  const std::size_t max_batch_;
  const Weight weight_;

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Entry> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;    // GUARDED_BY(mu_)

  std::mutex join_mu_;  // serializes concurrent stop() calls around join
  std::thread thread_;  // last: starts after every member above is ready
};

// Group commit of submissions over a Store. Each submit() is one request's jobs (a single
// POST /v1/jobs, or one bulk call); requests queued together go into one submit_jobs call, and
// each request gets back exactly its own outcomes, in its own order. Dedup holds across the
// merged requests as it does within one batch: a later request with a taken dedup key gets
// the earlier job with deduplicated = true.
//
// When the merged call fails for a reason that belongs to one request (bad input, a reused
// id), each request is retried alone so that it cannot fail its neighbours; a storage failure
// (kUnavailable, kInternal) is every request's answer.
class SubmitGroupCommit {
 public:
  using Outcome = Result<std::vector<SubmitOutcome>>;
  using Done = std::function<void(Outcome)>;

  // `store` must outlive this. `max_jobs` bounds one transaction (a larger request goes alone).
  explicit SubmitGroupCommit(Store& store, std::size_t max_jobs = 10000);

  // False once stop() has begun (nothing queued, `done` never called). `done` runs on the
  // group-commit thread after the jobs are durable (or the commit failed).
  [[nodiscard]] bool submit(std::vector<Job> jobs, Done done);
  // Commits what is queued, then stops.
  void stop() { batcher_.stop(); }

 private:
  std::vector<Outcome> commit(std::vector<std::vector<Job>>& requests);

  Store& store_;
  Batcher<std::vector<Job>, Outcome> batcher_;
};

}  // namespace sluice
