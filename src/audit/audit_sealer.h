// The audit sealer (store/audit_records.h): moves the entries that transactions appended into
// the hash chain, on a thread of its own, every `every` (at once again while a pass found a
// full batch). Every node of a cluster runs one; the store lets one seal at a time, so the
// others' passes seal nothing and cost one round trip. stop() seals what is left, so a graceful
// stop leaves nothing pending; after a crash the next start seals it.
//
// Thread-safety: pass() may be called from any one thread (tests); start() runs it on the
// sealer's thread, and then nothing else may call it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <thread>

#include "core/mutex.h"
#include "core/time.h"
#include "store/store.h"

namespace sluice {

struct AuditSealerOptions {
  Millis every = 200;
  int batch = 2'000;           // entries per transaction
  Millis stop_budget = 5'000;  // how long stop() keeps sealing what is left
};

class AuditSealer {
 public:
  // `store` must outlive the sealer.
  AuditSealer(Store& store, AuditSealerOptions options);
  ~AuditSealer();
  AuditSealer(const AuditSealer&) = delete;
  AuditSealer& operator=(const AuditSealer&) = delete;

  void start();
  // Stops the thread, then seals what is pending (within stop_budget). Idempotent.
  void stop();

  // Seals until a batch comes back short or an error; returns how many it sealed. Errors are
  // logged (once per kind until a pass succeeds) and retried by the next pass.
  Result<std::int64_t> pass();

 private:
  void loop();

  Store& store_;
  const AuditSealerOptions options_;
  Mutex mu_;
  std::condition_variable_any wake_;
  bool stopping_ GUARDED_BY(mu_) = false;
  bool stopped_ = false;  // stop() ran (only the stopping thread reads it)
  bool failing_ = false;  // the last pass failed (the sealer's thread only)
  std::thread thread_;
};

}  // namespace sluice
