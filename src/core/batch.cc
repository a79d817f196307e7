#include "core/batch.h"

namespace sluice {

const char* BatchStatusName(BatchStatus s) {
  switch (s) {
    case BatchStatus::kValidating: return "validating";
    case BatchStatus::kFailed: return "failed";
    case BatchStatus::kInProgress: return "in_progress";
    case BatchStatus::kFinalizing: return "finalizing";
    case BatchStatus::kCompleted: return "completed";
    case BatchStatus::kExpired: return "expired";
    case BatchStatus::kCancelling: return "cancelling";
    case BatchStatus::kCancelled: return "cancelled";
  }
  return "unknown";
}

std::optional<BatchStatus> ParseBatchStatus(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(BatchStatus::kCancelled); ++i) {
    auto s = static_cast<BatchStatus>(i);
    if (name == BatchStatusName(s)) return s;
  }
  return std::nullopt;
}

bool IsFinal(BatchStatus s) {
  return s == BatchStatus::kFailed || s == BatchStatus::kCompleted || s == BatchStatus::kExpired ||
         s == BatchStatus::kCancelled;
}

std::int64_t BatchProgress::jobs() const {
  std::int64_t n = 0;
  for (std::int64_t c : jobs_by_status) n += c;
  return n;
}

std::int64_t BatchProgress::open_jobs() const {
  return jobs_by_status[static_cast<int>(JobStatus::kQueued)] +
         jobs_by_status[static_cast<int>(JobStatus::kRunning)];
}

BatchRequestCounts LiveCounts(std::int64_t total, const BatchProgress& progress) {
  BatchRequestCounts counts;
  counts.total = total;
  counts.completed = progress.jobs_by_status[static_cast<int>(JobStatus::kDone)];
  counts.failed = progress.line_errors + progress.jobs() - progress.open_jobs() - counts.completed;
  return counts;
}

}  // namespace sluice
