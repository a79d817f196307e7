#include "latency_summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace loadgen {
namespace {

double NearestRank(const std::vector<double>& sorted, double q) {
  std::size_t rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

std::string SummaryJson(std::vector<double>& values) {
  if (values.empty()) return "{\"n\": 0}";
  std::sort(values.begin(), values.end());
  double mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  char out[320];
  std::snprintf(out, sizeof out,
                "{\"n\": %zu, \"mean\": %.3f, \"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, \"p999\": %.3f, "
                "\"max\": %.3f}",
                values.size(), mean, NearestRank(values, 0.50), NearestRank(values, 0.90),
                NearestRank(values, 0.99), NearestRank(values, 0.999), values.back());
  return out;
}

}  // namespace loadgen
