#include "scheduler/slot_plan.h"

#include <algorithm>

namespace sluice {

std::map<std::string, int> PlanFreeSlots(const std::vector<QueueConfig>& queues,
                                         const std::map<std::string, int>& running, int capacity) {
  auto running_in = [&](const std::string& q) {
    auto it = running.find(q);
    return it == running.end() ? 0 : it->second;
  };
  int total_running = 0;
  int unused_reserved = 0;  // reservations not yet filled by their own queue
  for (const auto& q : queues) {
    int r = running_in(q.name);
    total_running += r;
    unused_reserved += std::max(0, q.reserved - r);
  }
  int free_total = std::max(0, capacity - total_running);
  std::map<std::string, int> plan;
  for (const auto& q : queues) {
    int r = running_in(q.name);
    int own_unused = std::max(0, q.reserved - r);
    // Free capacity minus what other queues hold in reserve.
    int shared = std::max(0, free_total - (unused_reserved - own_unused));
    plan[q.name] = std::max(0, std::min(q.max_concurrency - r, shared));
  }
  return plan;
}

}  // namespace sluice
