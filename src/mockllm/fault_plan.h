// Decides, per request, what the simulator does and how long it waits first: a forced fault
// (request header), else the next script entry, else a draw against the fault rates; the
// latency from the configured distribution unless the request overrides it.
// Thread-safe: one plan serves every loop thread.
#pragma once

#include <mutex>
#include <optional>
#include <random>

#include "mockllm/mock_options.h"

namespace sluice::mockllm {

struct Decision {
  Fault fault;
  Millis latency_ms = 0;
  int retry_after_s = 1;   // for a 429
  std::uint64_t draw = 0;  // a random number for choices within the fault (garbage variant)
  double cached_share = 0;     // MockOptions::cached_share
  double reasoning_share = 0;  // MockOptions::reasoning_share
};

class FaultPlan {
 public:
  explicit FaultPlan(const MockOptions& options) { reset(options); }

  // Takes new settings: the script starts over and the generator is reseeded.
  void reset(const MockOptions& options);

  Decision next(std::optional<Fault> forced, std::optional<Millis> forced_latency);

  // Script entries not used yet.
  std::size_t script_left() const;

 private:
  Millis sample_latency();  // requires mu_

  mutable std::mutex mu_;
  MockOptions options_;       // guarded by mu_
  std::mt19937_64 rng_;       // guarded by mu_
  std::size_t script_pos_ = 0;  // guarded by mu_
};

}  // namespace sluice::mockllm
