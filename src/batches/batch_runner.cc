#include "batches/batch_runner.h"

#include <limits>

#include <spdlog/spdlog.h>

#include "core/guarded.h"
#include "core/ids.h"

namespace sluice {

namespace {

constexpr int kLeasesPerPass = 8;
constexpr int kOpenBatchesPerPass = 1'000;
constexpr int kCancelsPerCall = 1'000;

void LogError(const std::string& line) { spdlog::error("{}", line); }

}  // namespace

BatchRunner::BatchRunner(Store& store, const Clock& clock, JobFromBody job_from_body, std::string owner,
                         std::function<void(const std::string& queue)> wake_queue, BatchRunnerOptions options)
    : store_(store),
      clock_(clock),
      deps_{store, clock, std::move(job_from_body), std::move(owner), std::move(wake_queue), options.work},
      options_(std::move(options)) {
  deps_.stopping = [this] { return stop_requested_.load(); };
}

BatchRunner::~BatchRunner() { stop(); }

void BatchRunner::start() {
  thread_ = std::thread([this] { loop(); });
  blocking_thread_ = std::thread([this] { blocking_loop(); });
}

void BatchRunner::stop() {
  stop_requested_ = true;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    blocking_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (blocking_thread_.joinable()) blocking_thread_.join();
}

bool BatchRunner::run_blocking(std::function<void()> work) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    blocking_.push_back(std::move(work));
  }
  cv_.notify_all();
  return true;
}

void BatchRunner::batches_changed() {
  {
    std::lock_guard lock(mu_);
    changed_ = true;
  }
  cv_.notify_all();
}

void BatchRunner::blocking_loop() {
  for (;;) {
    std::function<void()> work;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !blocking_.empty(); });
      if (stopping_) return;
      work = std::move(blocking_.front());
      blocking_.pop_front();
    }
    (void)RunGuarded("batches: blocking work", work, LogError);
    work = nullptr;
  }
}

void BatchRunner::loop() {
  for (;;) {
    const bool threw = !RunGuarded("batches: a pass", [this] { run_once(); }, LogError).ok();
    std::unique_lock lock(mu_);
    if (threw) {
      // Whatever threw is likely to throw again at once: not before a pause, wake-ups or not.
      cv_.wait_for(lock, kPauseAfterThrow, [this] { return stopping_; });
    } else {
      cv_.wait_for(lock, std::chrono::milliseconds(options_.poll), [this] { return stopping_ || changed_; });
    }
    if (stopping_) return;
    changed_ = false;
  }
}

void BatchRunner::run_once() {
  const bool take_over = first_pass_ && options_.take_over_leases_at_start;
  first_pass_ = false;
  for (int i = 0; i < kLeasesPerPass && !stop_requested_; ++i) {
    const Millis now = clock_.now();
    // Taking over: any lease counts as run out.
    const Millis lease_check = take_over ? std::numeric_limits<Millis>::max() : now;
    auto leased = store_.lease_batch_work(deps_.owner, lease_check, now + options_.work.lease);
    if (!leased.ok()) {
      spdlog::warn("batches: leasing work failed: {}", leased.status().ToString());
      break;
    }
    if (!leased->has_value()) break;
    // One batch that throws must not hold up the others: its lease runs out and it is taken up
    // again, by this node or another.
    (void)RunGuarded("batches: leased work on " + (**leased).id, [&] { do_exclusive_work(**leased); },
                     LogError);
  }
  auto open = store_.open_batches(kOpenBatchesPerPass);
  if (!open.ok()) {
    spdlog::warn("batches: listing open batches failed: {}", open.status().ToString());
    return;
  }
  for (const Batch& batch : *open) {
    if (stop_requested_) return;
    (void)RunGuarded("batches: checking " + batch.id, [&] { check_open_batch(batch); }, LogError);
  }
}

void BatchRunner::do_exclusive_work(const Batch& leased) {
  Batch batch = leased;
  Status status;
  if (batch.status == BatchStatus::kValidating ||
      (batch.status == BatchStatus::kCancelling && !batch.in_progress_at && batch.counts.total == 0)) {
    auto validated = ValidateBatch(deps_, batch);
    if (!validated.ok()) {
      status = validated.status();
    } else {
      batch = *validated;
      if (batch.status == BatchStatus::kFailed) {
        spdlog::info("batch {} failed validation", batch.id);
        return;
      }
    }
  }
  if (status.ok() && (batch.status == BatchStatus::kInProgress || batch.status == BatchStatus::kCancelling) &&
      !batch.ingested) {
    status = IngestBatch(deps_, batch);
  }
  if (status.ok() && batch.status == BatchStatus::kFinalizing) {
    // Its finalizer died: start the files afresh, under new ids (a zombie finalizer may still
    // write the old ones; its final compare-and-set fails, so they never count).
    const Millis now = clock_.now();
    auto taken = store_.transition_batch(BatchTransition{.id = batch.id,
                                                         .from = {BatchStatus::kFinalizing},
                                                         .now = now,
                                                         .owner = deps_.owner,
                                                         .lease_until = now + options_.work.lease,
                                                         .output_file_id = NewId("file_", now),
                                                         .error_file_id = NewId("file_", now),
                                                         .keep_status = true});
    if (taken.ok()) {
      // The dead finalizer's half-written files would otherwise stay forever: invisible rows
      // and chunks nothing reads. Best effort — a failure only leaves them, and a zombie that
      // still writes may leave a few chunks behind again.
      for (const std::string& old : {leased.output_file_id, leased.error_file_id}) {
        if (old.empty()) continue;
        if (Status gone = store_.delete_file(old); !gone.ok()) {
          spdlog::warn("batch {}: removing the dead finalizer's file {} failed: {}", batch.id, old,
                       gone.ToString());
        }
      }
    }
    status = taken.ok() ? WriteBatchFiles(deps_, *taken) : taken.status();
  }
  if (!status.ok()) {
    // The lease runs out and this node, or another, takes the batch up again.
    spdlog::warn("batch {}: {} stopped: {}", batch.id, BatchStatusName(batch.status), status.ToString());
  }
}

void BatchRunner::check_open_batch(const Batch& batch) {
  const Millis now = clock_.now();
  if (batch.status == BatchStatus::kCancelling) {
    for (;;) {
      auto canceled = store_.cancel_batch_jobs(batch.id, now, kCancelsPerCall);
      if (!canceled.ok()) {
        spdlog::warn("batch {}: cancelling its jobs failed: {}", batch.id, canceled.status().ToString());
        return;
      }
      if (*canceled < kCancelsPerCall) break;
    }
  }
  auto progress = store_.batch_progress(batch.id);
  if (!progress.ok()) return;
  const bool window_ended = now >= batch.expires_at;
  const bool overdue = now >= batch.expires_at + options_.overdue_grace;
  if (progress->open_jobs() > 0 && !overdue) return;
  BatchStatus outcome = BatchStatus::kCompleted;
  if (batch.status == BatchStatus::kCancelling) {
    outcome = BatchStatus::kCancelled;
  } else if (window_ended && (progress->jobs_by_status[static_cast<int>(JobStatus::kExpired)] > 0 ||
                              progress->open_jobs() > 0)) {
    outcome = BatchStatus::kExpired;
  }
  finalize(batch, outcome);
}

void BatchRunner::finalize(const Batch& batch, BatchStatus outcome) {
  const Millis now = clock_.now();
  auto moved = store_.transition_batch(BatchTransition{.id = batch.id,
                                                       .from = {BatchStatus::kInProgress, BatchStatus::kCancelling},
                                                       .to = BatchStatus::kFinalizing,
                                                       .now = now,
                                                       .owner = deps_.owner,
                                                       .lease_until = now + options_.work.lease,
                                                       .outcome = outcome,
                                                       .output_file_id = NewId("file_", now),
                                                       .error_file_id = NewId("file_", now),
                                                       .take_lease = true});
  if (!moved.ok()) return;  // another node got there first (or the batch changed): its business
  Status written = WriteBatchFiles(deps_, *moved);
  if (!written.ok()) {
    spdlog::warn("batch {}: writing its files stopped: {}", batch.id, written.ToString());
  }
}

}  // namespace sluice
