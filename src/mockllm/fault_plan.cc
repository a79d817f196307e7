#include "mockllm/fault_plan.h"

#include <cmath>

namespace sluice::mockllm {

void FaultPlan::reset(const MockOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  options_ = options;
  rng_.seed(options.seed);
  script_pos_ = 0;
}

std::size_t FaultPlan::script_left() const {
  std::lock_guard<std::mutex> lock(mu_);
  return options_.script.size() - script_pos_;
}

Millis FaultPlan::sample_latency() {
  const double mean = static_cast<double>(options_.latency_ms);
  if (options_.latency_distribution == LatencyDistribution::kLogNormal) {
    if (mean <= 0) return 0;
    // For a log-normal with log-space sd sigma, the mean is exp(mu + sigma^2 / 2).
    const double sigma = options_.latency_sigma;
    std::lognormal_distribution<double> dist(std::log(mean) - sigma * sigma / 2, sigma);
    return static_cast<Millis>(std::llround(dist(rng_)));
  }
  if (options_.latency_jitter_ms <= 0) return options_.latency_ms;
  std::uniform_int_distribution<Millis> jitter(-options_.latency_jitter_ms, options_.latency_jitter_ms);
  return std::max<Millis>(0, options_.latency_ms + jitter(rng_));
}

Decision FaultPlan::next(std::optional<Fault> forced, std::optional<Millis> forced_latency) {
  std::lock_guard<std::mutex> lock(mu_);
  Decision d;
  if (forced) {
    d.fault = *forced;
  } else if (script_pos_ < options_.script.size()) {
    d.fault = options_.script[script_pos_++];
  } else {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    double u = unit(rng_);
    const std::pair<double, Fault> table[] = {
        {options_.error_rate, {FaultKind::kHttpError, options_.error_status}},
        {options_.rate_429, {FaultKind::kRateLimit, 429}},
        {options_.timeout_rate, {FaultKind::kTimeout}},
        {options_.garbage_rate, {FaultKind::kGarbage}},
        {options_.reset_rate, {FaultKind::kReset}},
    };
    for (const auto& [rate, fault] : table) {
      if (u < rate) {
        d.fault = fault;
        break;
      }
      u -= rate;
    }
  }
  d.latency_ms = forced_latency ? std::max<Millis>(0, *forced_latency) : sample_latency();
  d.retry_after_s = options_.retry_after_s;
  d.draw = rng_();
  d.cached_share = options_.cached_share;
  d.reasoning_share = options_.reasoning_share;
  return d;
}

}  // namespace sluice::mockllm
