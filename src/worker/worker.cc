#include "worker/worker.h"

#include <algorithm>
#include <memory>
#include <tuple>

#include <spdlog/spdlog.h>

#include "store/job_rules.h"
#include "worker/attempt_outcome.h"
#include "worker/prepared_call.h"

namespace sluice {

void Worker::run(Job job) {
  {
    std::lock_guard lock(mu_);
    running_[job.id] = Running{job.spec.queue};
  }
  // A job whose input is a blob reads it from the blob store (the database, on PostgreSQL):
  // that read is done here, on the thread that hands the job over (the scheduler's, which
  // waits on the store anyway), never on the event loop. Other jobs are made ready on the loop:
  // rendering and masking are CPU work only. (A claimed job does not carry blob_refs: the input
  // names its blob. Text that merely contains "blob" is prepared here too, which costs nothing.)
  if (job.spec.input_json.find("\"blob\"") != std::string::npos) {
    auto prepared = std::make_shared<Result<PreparedCall>>(Prepare(job));
    d_.loop.post([this, job = std::move(job), prepared]() mutable {
      Start(std::move(job), std::move(*prepared));
    });
    return;
  }
  d_.loop.post([this, job = std::move(job)]() mutable { Start(std::move(job), std::nullopt); });
}

Result<PreparedCall> Worker::Prepare(const Job& job) const {
  return PrepareCall(job, d_.tasks, d_.blobs, d_.gateway, d_.server_config.find_queue(job.spec.queue),
                     d_.pii_masker ? *d_.pii_masker : privacy::PiiMasker::Builtin());
}

void Worker::Start(Job job, std::optional<Result<PreparedCall>> ready) {
  bool abandoned;
  {
    std::lock_guard lock(mu_);
    auto it = running_.find(job.id);
    abandoned = it != running_.end() && it->second.abandoned;
  }
  if (abandoned) return Done(job.id, job.spec.queue);  // canceled before it started
  Millis now = d_.clock.now();
  if (job.spec.deadline && now >= *job.spec.deadline) {
    AttemptFinish f = FailUnrunnable(job, InvalidArgument("the deadline passed before the call"), now);
    f.outcome = AttemptOutcome::kExpired;
    f.error = {"deadline_exceeded", "the deadline passed before the attempt could start"};
    return Commit(std::move(f), job.spec.queue);
  }
  Result<PreparedCall> prepared = ready ? std::move(*ready) : Prepare(job);
  if (!prepared.ok()) return Commit(FailUnrunnable(job, prepared.status(), now), job.spec.queue);

  ModelCall call;
  call.alias = prepared->alias;
  call.request = prepared->request;
  call.deadline = job.spec.deadline;
  call.max_limit_wait = kMaxLimitWait;
  call.allow_fallback = job.spec.allow_fallback;
  if (job.spec.cost_limit_usd) call.budget_usd = *job.spec.cost_limit_usd - job.cost_usd;
  BudgetGate* gate = d_.budget;
  std::optional<double> budget = gate ? gate->budget_of(job.spec.tenant) : std::optional<double>(0.0);
  if (budget && *budget <= 0) return Launch(std::move(job), std::move(prepared).value(), std::move(call), false);
  // The walk may spend at most what is reserved (and what the job's own cost limit leaves).
  const double worst = d_.gateway.worst_case_cost(call);
  call.budget_usd = std::min(worst, call.budget_usd.value_or(worst));
  auto pending = std::make_shared<std::tuple<Job, PreparedCall, ModelCall>>(
      std::move(job), std::move(prepared).value(), std::move(call));
  const Job& j = std::get<0>(*pending);
  gate->admit(j.spec.tenant, AttemptReservationId(j.id, j.attempt), worst,
              [this, pending](BudgetGate::Decision decision) {
                d_.loop.post([this, pending, decision] {
                  auto& [job, prepared, call] = *pending;
                  if (decision == BudgetGate::Decision::kNoBudget ||
                      decision == BudgetGate::Decision::kReserved) {
                    return Launch(std::move(job), std::move(prepared), std::move(call),
                                  decision == BudgetGate::Decision::kReserved);
                  }
                  Hold(job, decision);
                });
              });
}

void Worker::Launch(Job job, PreparedCall prepared, ModelCall call, bool reserved) {
  spdlog::debug("job {} running: attempt {}, model {}", job.id, job.attempt, call.alias);
  // The prepared call outlives this frame: the answer arrives on another thread.
  auto shared = std::make_shared<PreparedCall>(std::move(prepared));
  auto shared_job = std::make_shared<Job>(std::move(job));
  std::uint64_t handle =
      d_.gateway.call(std::move(call), [this, shared, shared_job, reserved](GatewayResult r) {
        OnAnswer(*shared_job, *shared, std::move(r), reserved);
      });
  std::lock_guard lock(mu_);
  if (auto it = running_.find(shared_job->id); it != running_.end()) {
    it->second.call = handle;
    if (it->second.abandoned && handle) d_.gateway.cancel(handle);  // canceled while starting
  }
}

void Worker::Hold(const Job& job, BudgetGate::Decision why) {
  const Millis now = d_.clock.now();
  AttemptFinish f;
  f.job_id = job.id;
  f.attempt = job.attempt;
  f.lease_owner = job.lease_owner;
  f.now = now;
  f.outcome = AttemptOutcome::kBlocked;
  const bool over = why == BudgetGate::Decision::kOverBudget;
  // A store that could not answer is asked again soon; a spent budget rarely frees itself.
  f.retry_at = now + (over ? d_.budget->options().blocked_recheck : 2'000);
  f.error = {kBlockedByBudget, over ? "the tenant's monthly budget cannot take this call's worst case"
                                    : "the tenant's budget could not be checked"};
  Commit(std::move(f), job.spec.queue);
}

void Worker::HandBack(const Job& job, bool reserved, JobError why, Millis due_at) {
  AttemptFinish f;
  f.job_id = job.id;
  f.attempt = job.attempt;
  f.lease_owner = job.lease_owner;
  f.now = d_.clock.now();
  f.outcome = AttemptOutcome::kBlocked;
  f.retry_at = due_at;
  f.error = std::move(why);
  f.settles_reservation = reserved;  // nothing was spent
  Commit(std::move(f), job.spec.queue);
}

void Worker::OnAnswer(const Job& job, const PreparedCall& call, GatewayResult result, bool reserved) {
  bool abandoned;
  {
    std::lock_guard lock(mu_);
    auto it = running_.find(job.id);
    abandoned = it == running_.end() || it->second.abandoned;
  }
  if (abandoned) return Done(job.id, job.spec.queue);
  const Millis now = d_.clock.now();
  if (result.not_started()) {
    // Due at once: another node may start it during this one's grace period.
    return HandBack(job, reserved, {kNodeStopping, "the node stopped before the provider call could start"}, now);
  }
  if (result.unavailable()) {
    // Not an attempt: no provider was reached. Due again when the first skipped alias said it
    // may take a call, but not sooner than a second (a half-open circuit's probe is out, and a
    // whole blocked backlog must not be claimed in a loop) nor later than a minute.
    // Jittered by up to a second: jobs held together do not all come back at once.
    const Millis due =
        std::clamp(result.available_at, now + 1'000, now + 60'000) + static_cast<Millis>(Jitter() * 1'000);
    return HandBack(job, reserved, {result.unavailable_reason(), result.final().message}, due);
  }
  AttemptFinish f = DecideAttempt(job, call, result, now, d_.config, Jitter());
  f.settles_reservation = reserved;
  Commit(std::move(f), job.spec.queue);
}

void Worker::Commit(AttemptFinish finish, const std::string& queue) {
  std::string job_id = finish.job_id;
  const double cost = finish.cost_usd;
  const bool settles = finish.outcome != AttemptOutcome::kRetry;
  const bool called = finish.outcome != AttemptOutcome::kBlocked;  // a held job made no attempt
  const AttemptOutcome outcome = finish.outcome;
  const int attempt = finish.attempt;
  std::string why = finish.error.code;
  bool queued = d_.writer.enqueue(std::move(finish), [this, job_id, queue, cost, settles, called,
                                                      outcome, attempt, why](Status st) {
    if (st.ok()) {
      spdlog::debug("job {} {}: attempt {}{}{}", job_id, store_rules::EventTypeOf(outcome), attempt,
                    why.empty() ? "" : ", ", why);
    }
    // kAborted: the lease was lost (reaped, canceled); the newer owner's write stands.
    if (st.ok() && called) {
      std::lock_guard lock(mu_);
      QueueSpend& s = spend_[queue];
      ++s.attempts;
      s.cost_usd += cost;
      if (settles) ++s.settled_jobs;
    }
    Done(job_id, queue);
  });
  // Stopping: the outcome is not written; the lease is released and the job runs again.
  if (!queued) Done(job_id, queue);
}

void Worker::Done(const std::string& job_id, const std::string& queue) {
  {
    std::lock_guard lock(mu_);
    running_.erase(job_id);
    ++ending_;
  }
  d_.watch.notify(job_id);
  if (slot_freed_) slot_freed_(queue);
  // Notified under mu_: a wait_idle() that sees the worker idle finds this call done with it.
  std::lock_guard lock(mu_);
  --ending_;
  if (running_.empty() && ending_ == 0) idle_.notify_all();
}

void Worker::cancel(const std::string& job_id) {
  std::uint64_t handle = 0;
  {
    std::lock_guard lock(mu_);
    auto it = running_.find(job_id);
    if (it == running_.end()) return;
    it->second.abandoned = true;
    handle = it->second.call;
  }
  d_.gateway.cancel(handle);
}

void Worker::abort_all() {
  std::vector<std::uint64_t> handles;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, r] : running_) {
      r.abandoned = true;
      handles.push_back(r.call);
    }
  }
  for (auto h : handles) d_.gateway.cancel(h);
}

int Worker::in_flight() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(running_.size());
}

bool Worker::wait_idle(std::chrono::milliseconds limit) const {
  std::unique_lock lock(mu_);
  return idle_.wait_for(lock, limit, [this] { return running_.empty() && ending_ == 0; });
}

bool Worker::drain(std::chrono::milliseconds grace) {
  // An aborted call ends at once on its client's thread; this only bounds a stuck one.
  constexpr std::chrono::milliseconds kAbortedCallsEnd{5'000};
  // Attempts waiting for a provider slot or a limit end now and are handed back (HandBack):
  // the grace period is for the calls already at a provider, and no new one starts in it.
  d_.gateway.stop_starting();
  const bool idle = wait_idle(grace);
  // Even when idle: the writer's stop() must never wait on a store that does not come back.
  d_.writer.give_up();
  if (idle) return true;
  abort_all();
  return wait_idle(kAbortedCallsEnd);
}

std::map<std::string, Worker::QueueSpend> Worker::spend_by_queue() const {
  std::lock_guard lock(mu_);
  return spend_;
}

double Worker::Jitter() {
  std::lock_guard lock(mu_);
  return std::uniform_real_distribution<double>(0, 1)(rng_);
}

}  // namespace sluice
