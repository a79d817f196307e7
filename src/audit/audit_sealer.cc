#include "audit/audit_sealer.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "core/guarded.h"

namespace sluice {

AuditSealer::AuditSealer(Store& store, AuditSealerOptions options)
    : store_(store), options_(options) {}

AuditSealer::~AuditSealer() {
  stop();
}

void AuditSealer::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { loop(); });
}

void AuditSealer::stop() {
  if (stopped_) return;
  stopped_ = true;
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // What the last writers appended before they stopped.
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.stop_budget);
  while (std::chrono::steady_clock::now() < until) {
    Result<std::int64_t> sealed = pass();
    if (!sealed.ok() || *sealed < options_.batch) break;
  }
}

void AuditSealer::loop() {
  Millis wait = 0;
  for (;;) {
    {
      MutexLock lock(mu_);
      wake_.wait_for(mu_, std::chrono::milliseconds(wait), [this] {
        mu_.assert_held();
        return stopping_;
      });
      if (stopping_) return;
    }
    (void)RunGuarded("audit: a seal pass", [this] { return pass().status(); });
    wait = options_.every;
  }
}

Result<std::int64_t> AuditSealer::pass() {
  std::int64_t total = 0;
  for (;;) {
    Result<int> sealed = store_.seal_audit(options_.batch);
    if (!sealed.ok()) {
      if (!failing_) {
        spdlog::warn("audit: sealing failed (retried): {}", sealed.status().ToString());
      }
      failing_ = true;
      return sealed.status();
    }
    if (failing_) spdlog::info("audit: sealing works again");
    failing_ = false;
    total += *sealed;
    if (*sealed < options_.batch) return total;
  }
}

}  // namespace sluice
