#include "mockllm/mock_state.h"

namespace sluice::mockllm {

void RequestLog::add(std::string body) {
  std::lock_guard lock(mu_);
  if (bodies_.size() == kKept) bodies_.pop_front();
  bodies_.push_back(std::move(body));
}

std::vector<std::string> RequestLog::snapshot() const {
  std::lock_guard lock(mu_);
  return {bodies_.begin(), bodies_.end()};
}

void RequestLog::clear() {
  std::lock_guard lock(mu_);
  bodies_.clear();
}
namespace {

// How often parked requests are checked for a departed client.
constexpr Millis kSweepEveryMs = 50;

}  // namespace

MockOptions MockLlm::State::options() const {
  std::lock_guard<std::mutex> lock(mu_);
  return options_;
}

void MockLlm::State::configure(const MockOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  options_ = options;
  plan.reset(options);
}

void MockLlm::State::park(http::Responder responder) {
  std::lock_guard<std::mutex> lock(mu_);
  parked_.push_back({std::move(responder),
                     SteadyClock::now() + std::chrono::milliseconds(options_.timeout_hold_ms)});
  schedule_sweep();
}

void MockLlm::State::schedule_sweep() {
  if (sweeping_) return;
  sweeping_ = true;
  std::weak_ptr<State> weak = weak_from_this();
  loop.post_after(kSweepEveryMs, [weak] {
    if (auto self = weak.lock()) self->sweep();
  });
}

void MockLlm::State::sweep() {
  std::vector<Parked> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sweeping_ = false;
    const auto now = SteadyClock::now();
    std::erase_if(parked_, [&](Parked& p) {
      if (!p.responder.closed() && now < p.until) return false;
      gone.push_back(std::move(p));
      return true;
    });
    if (!parked_.empty()) schedule_sweep();
  }
  // Outside the lock: abort() may run connection work inline.
  for (Parked& p : gone) {
    stats.finished();
    p.responder.abort();  // no-op for a connection that is already closed
  }
}

void MockLlm::State::release_parked() {
  std::vector<Parked> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    all.swap(parked_);
  }
  for (Parked& p : all) {
    stats.finished();
    p.responder.abort();
  }
}

}  // namespace sluice::mockllm
