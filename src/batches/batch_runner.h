// The batch runner: one thread per node that moves batches through their life (core/batch.h),
// and one more for blocking file work handed over by the API (BatchHooks). Every node runs one;
// with several nodes on PostgreSQL they share the work through the store:
// - validating and ingesting a batch, and writing its files, are leased to one node at a time
//   (Store::lease_batch_work); a node that dies leaves a lease that runs out, and another node
//   resumes where the batch's resume point says (ingestion) or starts the files afresh;
// - every node watches the open batches; moving one to finalizing is a compare-and-set on its
//   status, so exactly one node finalizes it.
// When is a batch over? When none of its jobs is queued or running. A job in review counts as
// over for its batch: its answer waits for a person, the batch does not (the request goes to the
// error file as review_required, with the kept result; approving it later changes the job, not
// the batch's files). A cancelling batch waits for its running jobs to finish, so their results
// are kept. A batch whose completion window has ended is finalized as expired once its jobs have
// ended (its queued jobs expire at their deadline, which is the window's end, and running calls
// are aborted there), or after kOverdueGrace at the latest, whatever is still open.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "api/batch_hooks.h"
#include "batches/batch_work.h"

namespace sluice {

struct BatchRunnerOptions {
  Millis poll = 500;            // how often open batches are looked at (their jobs' progress)
  Millis overdue_grace = 30'000;  // after the window's end, finalize whatever is still open
  // The store is this process's alone (the embedded engine): every batch lease found at start
  // is a dead process's, taken over at once instead of after it runs out.
  bool take_over_leases_at_start = false;
  BatchWorkOptions work;
};

class BatchRunner final : public BatchHooks {
 public:
  BatchRunner(Store& store, const Clock& clock, JobFromBody job_from_body, std::string owner,
              std::function<void(const std::string& queue)> wake_queue, BatchRunnerOptions options = {});
  ~BatchRunner() override;

  void start();
  // Stops both threads; work handed to run_blocking and not started is dropped. Idempotent.
  void stop();

  bool run_blocking(std::function<void()> work) override;
  void batches_changed() override;

  // One pass: the exclusive work this node can lease, then every open batch. What the thread
  // does every `poll` (public for tests, which drive it with a fake clock).
  void run_once();

 private:
  void loop();
  void blocking_loop();
  void do_exclusive_work(const Batch& batch);
  void check_open_batch(const Batch& batch);
  // Moves an open batch to finalizing (a compare-and-set) and writes its files.
  void finalize(const Batch& batch, BatchStatus outcome);

  Store& store_;
  const Clock& clock_;
  BatchWorkDeps deps_;
  const BatchRunnerOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  bool changed_ = false;   // GUARDED_BY(mu_)
  std::atomic<bool> stop_requested_{false};
  bool first_pass_ = true;  // loop thread only
  std::deque<std::function<void()>> blocking_;  // GUARDED_BY(mu_)
  std::thread thread_;
  std::thread blocking_thread_;
};

}  // namespace sluice
