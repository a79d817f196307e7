// The job: what a client asked for (its spec), where it stands (status, attempt, lease) and
// what it cost. Free-form JSON parts (input, params, metadata, a chat request) travel as
// serialized JSON text: the store persists them as they are and never looks inside.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace sluice {

// queued → running → done | failed | review | expired | canceled, and running → queued on a
// retry or a lost lease. done, failed, expired and canceled are terminal; review waits for a
// person. The numeric values are persisted: append only, never renumber.
enum class JobStatus : int {
  kQueued = 0,
  kRunning = 1,
  kDone = 2,
  kFailed = 3,
  kReview = 4,
  kExpired = 5,
  kCanceled = 6,
};

const char* JobStatusName(JobStatus s);
std::optional<JobStatus> ParseJobStatus(std::string_view name);
bool IsTerminal(JobStatus s);
// Terminal or waiting for a person: what `?wait=` waits for.
inline bool IsSettled(JobStatus s) { return IsTerminal(s) || s == JobStatus::kReview; }

inline constexpr const char* kDefaultTenant = "default";
inline constexpr const char* kChatType = "chat";

// The fields of a job body (API.md "Submit"): the API refuses any other, and `sluice batch`
// tells a file's own extra fields from job fields by this list.
inline constexpr std::string_view kJobBodyFields[] = {
    "type",         "input",          "request",   "object_id",   "source",   "prompt_version",
    "response_schema", "model",       "params",    "queue",       "priority", "deadline",
    "deadline_in",  "run_at",         "run_in",    "max_attempts", "cost_limit_usd", "dedup_key",
    "webhook_url",  "metadata",       "fallback",  "mask_pii"};
bool IsJobBodyField(std::string_view name);

// Everything a client chose when submitting. Validated by the API before it reaches the store.
struct JobSpec {
  std::string tenant = kDefaultTenant;
  std::string type;  // a task type name, or "chat"
  std::string input_json = "{}";     // {"text": ...} or {"blob": "sha256:..."}; chat: the request body
  std::string object_id;
  std::string source;
  std::string prompt_version;   // resolved at submit: never empty for task jobs
  std::string response_schema;  // resolved at submit
  std::string model;            // pinned alias, empty = the task's route
  bool allow_fallback = true;   // false: a pinned model never falls back to its alias's chain
  // PII is masked before any provider sees the job (privacy/): set at submit from the body's
  // mask_pii, the Sluice-Mask-PII header, the prompt version and the tenant.
  bool mask_pii = false;
  std::string params_json = "{}";
  std::string queue = "default";
  int priority = 5;             // 0..9, higher first
  std::optional<Millis> deadline;
  Millis run_at = 0;
  int max_attempts = 3;
  std::optional<double> cost_limit_usd;
  std::string dedup_key;        // empty = no dedup
  std::string webhook_url;
  std::string metadata_json = "{}";
  // The tenant's blobs the input refers to ("sha256:..."). Not a column of the job: the store
  // records them (job_blobs) so that retention keeps every blob a remaining job needs.
  std::vector<std::string> blob_refs;
};

struct JobError {
  std::string code;
  std::string message;
};

// A job as stored: its spec plus its state.
struct Job {
  std::string id;
  JobSpec spec;
  JobStatus status = JobStatus::kQueued;
  int attempt = 0;               // attempts started so far
  Millis created_at = 0;
  std::optional<Millis> started_at;   // first time a worker took it
  std::optional<Millis> finished_at;
  double cost_usd = 0;
  std::optional<JobError> error;
  // Set while queued after a failed attempt: when the next attempt may start.
  std::optional<Millis> next_attempt_at;
  // Lease: who runs the current attempt and until when its claim holds.
  std::string lease_owner;
  Millis lease_until = 0;
  // Why a queued job is held back although it is due: "budget" (its tenant's month is spent);
  // empty for none.
  std::string blocked_reason;
};

}  // namespace sluice
