// The worker runs attempts: for each claimed job it builds the model call, sends it through the
// gateway, judges the answer (attempt_outcome.h) and writes the outcome through the attempt
// writer (store/attempt_writer.h), fenced by the job's lease. An attempt is a chain of callbacks,
// not a thread: thousands are in flight on the event loop's few threads and the HTTP client's one.
//
// Cancel and stop: cancel() aborts a running job's call (its store row is already canceled);
// stop() aborts every call of a stopping node. Neither writes an outcome: the canceled job is
// final already, and a stopping node releases its leases so another attempt starts cleanly.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>

#include "blobs/blob_store.h"
#include "config/config.h"
#include "core/job.h"
#include "events/job_watch.h"
#include "gateway/gateway.h"
#include "http/event_loop.h"
#include "scheduler/scheduler.h"
#include "store/attempt_writer.h"
#include "store/store.h"
#include "tasks/registry.h"
#include "worker/budget_gate.h"
#include "worker/prepared_call.h"

namespace sluice {

// The blocked_reason of a job a stopping node handed back before its call started.
inline constexpr char kNodeStopping[] = "node_stopping";
// How long a queued job's call may wait inside the gateway for a rate limit
// (ModelCall::max_limit_wait). A longer wait hands the job back, queued and blocked
// "rate_limited", where any node can take it once the limit allows, instead of holding a
// worker slot while it shows running.
inline constexpr Millis kMaxLimitWait = 1'000;

struct WorkerDeps {
  const Config& server_config;
  const TaskRegistry& tasks;
  const BlobStore& blobs;
  ModelGateway& gateway;
  AttemptWriter& writer;
  http::EventLoop& loop;
  JobWatch& watch;
  const Clock& clock;
  WorkerConfig config;
  // Tenants' monthly budgets (worker/budget_gate.h); null: no budget is ever checked.
  BudgetGate* budget = nullptr;
  // The PII rules of [privacy]; null: the built-in rules.
  const privacy::PiiMasker* pii_masker = nullptr;
};

class Worker final : public JobRunner {
 public:
  explicit Worker(WorkerDeps deps) : d_(std::move(deps)) {}

  // Told when an attempt is over and its slot is free (Scheduler::slot_freed).
  void set_slot_freed(std::function<void(const std::string& queue)> fn) { slot_freed_ = std::move(fn); }

  void run(Job job) override;
  // Aborts the running call of a job that was just canceled. No-op when it is not running here.
  void cancel(const std::string& job_id);
  // Aborts every call in flight (node stopping); their jobs are left for release_leases.
  void abort_all();
  int in_flight() const;
  // Waits until no attempt is in flight or `limit` passed; true when none is. Real time, not
  // the injected clock: it bounds how long a stopping process waits.
  bool wait_idle(std::chrono::milliseconds limit) const;
  // A stopping node's end of its attempts (claims have stopped): the gateway stops starting
  // calls (ModelGateway::stop_starting), so attempts not yet at a provider are handed back to
  // the queue at once; the calls in flight get
  // `grace` to finish and be written; then the outcomes the store would not take are given up
  // (AttemptWriter::give_up: their leases are released or run out), the calls still running
  // are aborted (abort_all) and their ends awaited for a few seconds more. True when no
  // attempt is left.
  bool drain(std::chrono::milliseconds grace);

  // Spending of this node since start, per queue: provider cost of committed attempts, and
  // jobs that reached an outcome (done, failed, review, expired). For GET /v1/stats.
  struct QueueSpend {
    std::int64_t settled_jobs = 0;
    std::int64_t attempts = 0;
    double cost_usd = 0;
  };
  std::map<std::string, QueueSpend> spend_by_queue() const;

 private:
  struct Running {
    std::string queue;
    std::uint64_t call = 0;
    bool abandoned = false;  // canceled or stopping: write no outcome
  };

  // `prepared`: the call made ready already (a blob job's, off the loop); nullopt: make it here.
  void Start(Job job, std::optional<Result<PreparedCall>> prepared);
  Result<PreparedCall> Prepare(const Job& job) const;
  // Makes the call; `reserved`: a budget reservation holds its worst case (settled at the finish).
  void Launch(Job job, PreparedCall prepared, ModelCall call, bool reserved);
  // The job does not start: the tenant's budget cannot take its worst case (or the store could
  // not say); back to queued, blocked, attempt not counted.
  void Hold(const Job& job, BudgetGate::Decision why);
  // The call never reached a provider (a draining node, ModelGateway::stop_starting; every
  // alias skipped for an open circuit or a rate limit): back to queued, due at `due_at`,
  // attempt not counted, blocked with `why.code` until a node claims it again. `reserved`:
  // settled at 0.
  void HandBack(const Job& job, bool reserved, JobError why, Millis due_at);
  void OnAnswer(const Job& job, const PreparedCall& call, GatewayResult result, bool reserved);
  void Commit(AttemptFinish finish, const std::string& queue);
  void Done(const std::string& job_id, const std::string& queue);
  double Jitter();

  WorkerDeps d_;
  std::function<void(const std::string&)> slot_freed_;

  mutable std::mutex mu_;
  mutable std::condition_variable idle_;              // notified when Idle() turns true
  std::unordered_map<std::string, Running> running_;  // GUARDED_BY(mu_)
  // GUARDED_BY(mu_): Done() calls past running_.erase, still notifying the watch and
  // slot_freed_. wait_idle() waits for them too: once it is true, no attempt's end touches
  // this worker or what it calls (the test's Scheduler was destroyed under one, TSan saw).
  int ending_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};       // GUARDED_BY(mu_)
  std::map<std::string, QueueSpend> spend_;           // GUARDED_BY(mu_)
};

}  // namespace sluice
