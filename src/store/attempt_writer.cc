#include "store/attempt_writer.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "core/guarded.h"

namespace sluice {

AttemptWriter::AttemptWriter(Store& store, const Clock& clock, AttemptWriterOptions options)
    : store_(store), clock_(clock), options_(std::move(options)), pause_(options_.first_pause) {}

AttemptWriter::~AttemptWriter() {
  stop();
}

bool AttemptWriter::enqueue(AttemptFinish finish, Done done) {
  // Notified under mu_: once the writer's thread can take the finish (and run its `done`, after
  // which the owner may stop and destroy the writer), this call touches the writer no more.
  std::lock_guard lock(mu_);
  if (stopping_) return false;
  queue_.emplace_back(std::move(finish), std::move(done));
  cv_.notify_one();
  return true;
}

void AttemptWriter::start() {
  std::lock_guard lock(join_mu_);
  CHECK(!thread_.joinable());
  thread_ = std::thread([this] { run(); });
}

void AttemptWriter::give_up() {
  {
    std::lock_guard lock(mu_);
    giving_up_ = true;
  }
  cv_.notify_one();
}

void AttemptWriter::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  std::lock_guard join_lock(join_mu_);
  if (thread_.joinable()) thread_.join();
  // Never started (or already drained): every accepted finish still gets its one answer.
  Batch left;
  {
    std::lock_guard lock(mu_);
    left = std::move(held_);
    held_ = {};
    for (auto& [item, done] : queue_) {
      left.items.push_back(std::move(item));
      left.dones.push_back(std::move(done));
    }
    queue_.clear();
  }
  Answer(left, std::vector<Status>(left.dones.size(),
                                   Unavailable("the attempt writer stopped before writing")));
}

std::optional<Millis> AttemptWriter::write_due() {
  Batch batch;
  Millis now = 0;
  {
    std::lock_guard lock(mu_);
    now = clock_.now();
    if (!held_.items.empty()) {
      if (now < retry_at_ && !giving_up_) return retry_at_;
      batch = std::move(held_);
      held_ = {};
    } else {
      const std::size_t n = std::min(queue_.size(), std::max<std::size_t>(options_.max_batch, 1));
      if (n == 0) return std::nullopt;
      batch.items.reserve(n);
      batch.dones.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        batch.items.push_back(std::move(queue_.front().first));
        batch.dones.push_back(std::move(queue_.front().second));
        queue_.pop_front();
      }
    }
    writing_ = batch.items.size();
  }

  // A store call that throws counts as one that failed: the batch is held and tried again.
  Result<std::vector<Status>> outcomes = RunGuarded(
      "attempt writer: writing finishes", [&] { return store_.finish_attempts(batch.items); });
  if (outcomes.ok()) {
    CHECK(outcomes->size() == batch.items.size());  // the store's contract: one per item
    Answer(batch, *outcomes);
    std::lock_guard lock(mu_);
    writing_ = 0;
    pause_ = options_.first_pause;
    if (queue_.empty()) return std::nullopt;
    return now;
  }

  const std::size_t failed = batch.items.size();
  Millis pause = 0;
  bool answer = false;
  {
    std::lock_guard lock(mu_);
    answer = giving_up_;
    if (!answer) {
      pause = pause_;
      pause_ = std::min(pause_ * 2, options_.max_pause);
      retry_at_ = now + pause;
      held_ = std::move(batch);
    }
    writing_ = 0;
  }
  if (answer) {
    Answer(batch, std::vector<Status>(batch.items.size(), outcomes.status()));
    std::lock_guard lock(mu_);
    if (queue_.empty()) return std::nullopt;
    return now;
  }
  if (options_.on_retry) options_.on_retry(outcomes.status(), failed, pause);
  return now + pause;
}

void AttemptWriter::run() {
  for (;;) {
    // write_due() turns a throwing store call into a failed one and guards each answer; this
    // guard is for the rest (an allocation), with a pause so that a fault that repeats cannot
    // spin.
    std::optional<Millis> due = clock_.now() + kPauseAfterThrow.count();  // kept if it throws
    (void)RunGuarded("attempt writer: a write", [&] { due = write_due(); });
    std::unique_lock lock(mu_);
    if (!due) {
      if (stopping_ && queue_.empty()) return;
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      continue;
    }
    // A pause after a failure: new finishes queue behind it; only give_up() cuts it short.
    const Millis wait = *due - clock_.now();
    if (wait > 0)
      cv_.wait_for(lock, std::chrono::milliseconds(wait), [this] { return giving_up_; });
  }
}

std::size_t AttemptWriter::backlog() const {
  std::lock_guard lock(mu_);
  return queue_.size() + held_.items.size() + writing_;
}

void AttemptWriter::Answer(Batch& batch, const std::vector<Status>& outcomes) {
  // One callback that throws must not keep the others of its batch from their answer.
  for (std::size_t i = 0; i < batch.dones.size(); ++i) {
    (void)RunGuarded("attempt writer: answering a finish", [&] { batch.dones[i](outcomes[i]); });
  }
}

}  // namespace sluice
