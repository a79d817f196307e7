#include "core/job.h"

namespace sluice {

const char* JobStatusName(JobStatus s) {
  switch (s) {
    case JobStatus::kQueued: return "queued";
    case JobStatus::kRunning: return "running";
    case JobStatus::kDone: return "done";
    case JobStatus::kFailed: return "failed";
    case JobStatus::kReview: return "review";
    case JobStatus::kExpired: return "expired";
    case JobStatus::kCanceled: return "canceled";
  }
  return "unknown";
}

std::optional<JobStatus> ParseJobStatus(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(JobStatus::kCanceled); ++i) {
    auto s = static_cast<JobStatus>(i);
    if (name == JobStatusName(s)) return s;
  }
  return std::nullopt;
}

bool IsTerminal(JobStatus s) {
  return s == JobStatus::kDone || s == JobStatus::kFailed || s == JobStatus::kExpired ||
         s == JobStatus::kCanceled;
}

bool IsJobBodyField(std::string_view name) {
  for (std::string_view field : kJobBodyFields) {
    if (field == name) return true;
  }
  return false;
}

}  // namespace sluice
