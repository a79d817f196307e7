// How many more jobs each queue may start right now. Pure arithmetic, so the fairness rules
// are tested apart from threads and the store:
// - a queue never runs more than its max_concurrency;
// - the node never runs more than `capacity` jobs in all;
// - `reserved` slots of a queue are kept free for it: other queues may only use capacity that
//   is not reserved by some other queue's unused reservation. So urgent work never waits behind
//   a batch backlog, and a batch still moves.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/config.h"

namespace sluice {

std::map<std::string, int> PlanFreeSlots(const std::vector<QueueConfig>& queues,
                                         const std::map<std::string, int>& running, int capacity);

}  // namespace sluice
