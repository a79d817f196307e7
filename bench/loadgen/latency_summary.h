// Percentiles of a set of durations, in microseconds, as a JSON object.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace loadgen {

// {"n": N, "mean": .., "p50": .., "p90": .., "p99": .., "p999": .., "max": ..}, values in the
// unit they were given in; nearest-rank percentiles. Sorts `values`. {"n": 0} when empty.
std::string SummaryJson(std::vector<double>& values);

}  // namespace loadgen
