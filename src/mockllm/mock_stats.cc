#include "mockllm/mock_stats.h"

#include <boost/json.hpp>

namespace sluice::mockllm {
namespace {

const char* const kOutcomeNames[] = {"ok",    "error",     "rate_limited", "timeout",
                                     "garbage", "truncated", "reset",        "bad_request"};

std::map<std::string, std::uint64_t> ZeroOutcomes() {
  std::map<std::string, std::uint64_t> outcomes;
  for (const char* name : kOutcomeNames) outcomes[name] = 0;
  return outcomes;
}

}  // namespace

std::string MockStats::ToJson() const {
  boost::json::object counts;
  for (const auto& [name, n] : outcomes) counts[name] = n;
  boost::json::array times;
  times.reserve(arrivals.size());
  for (Millis t : arrivals) times.emplace_back(t);
  return boost::json::serialize(boost::json::object{
      {"requests", requests},
      {"in_flight", in_flight},
      {"peak_in_flight", peak_in_flight},
      {"outcomes", std::move(counts)},
      {"arrivals", std::move(times)},
  });
}

void StatsRecorder::arrived(Millis now) {
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.requests;
  ++stats_.in_flight;
  stats_.peak_in_flight = std::max(stats_.peak_in_flight, stats_.in_flight);
  arrivals_.push_back(now);
  if (arrivals_.size() > kMaxArrivals) arrivals_.pop_front();
}

void StatsRecorder::outcome(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stats_.outcomes.empty()) stats_.outcomes = ZeroOutcomes();
  ++stats_.outcomes[name];
}

void StatsRecorder::finished() {
  std::lock_guard<std::mutex> lock(mu_);
  --stats_.in_flight;
}

void StatsRecorder::reset() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.requests = 0;
  stats_.peak_in_flight = stats_.in_flight;
  stats_.outcomes = ZeroOutcomes();
  arrivals_.clear();
}

MockStats StatsRecorder::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  MockStats copy = stats_;
  if (copy.outcomes.empty()) copy.outcomes = ZeroOutcomes();
  copy.arrivals.assign(arrivals_.begin(), arrivals_.end());
  return copy;
}

}  // namespace sluice::mockllm
