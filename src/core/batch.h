// Files and batches (API.md "Files and batches"): the OpenAI-compatible Batch API's records as the
// store keeps them. A batch turns every line of an uploaded JSONL file into one job; the store
// tracks its life, src/batches runs it.
//
// A batch's life (status):
//   validating ──file valid──▶ in_progress ──every job ended──▶ finalizing ──files written──▶ completed
//        │                        │   └──completion window passed──────▶ finalizing ──▶ expired
//        └──file invalid──▶ failed└──cancel──▶ cancelling ──no job running──▶ finalizing ──▶ cancelled
// failed, completed, expired and cancelled are final. The status is persisted as its name.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/job.h"
#include "core/time.h"

namespace sluice {

enum class BatchStatus : int {
  kValidating,
  kFailed,
  kInProgress,
  kFinalizing,
  kCompleted,
  kExpired,
  kCancelling,
  kCancelled,
};

const char* BatchStatusName(BatchStatus s);
std::optional<BatchStatus> ParseBatchStatus(std::string_view name);
// failed, completed, expired, cancelled: nothing changes any more.
bool IsFinal(BatchStatus s);

inline constexpr const char* kFilePurposeBatch = "batch";
inline constexpr const char* kFilePurposeBatchOutput = "batch_output";

// An uploaded or generated file. Its content lives in chunks next to it (Store::put_file_chunk),
// so that no one ever needs the whole file in memory.
struct StoredFile {
  std::string id;  // "file_…"
  std::string tenant = kDefaultTenant;
  std::string purpose;  // "batch" (uploaded) or "batch_output" (written by a batch)
  std::string filename;
  std::int64_t bytes = 0;
  Millis created_at = 0;
};

struct BatchRequestCounts {
  std::int64_t total = 0;
  std::int64_t completed = 0;  // requests with a 200 answer (the output file)
  std::int64_t failed = 0;     // requests in the error file
};

struct Batch {
  std::string id;  // "batch_…"
  std::string tenant = kDefaultTenant;
  std::string endpoint;  // "/v1/chat/completions" or "/v1/jobs" (every line's url)
  std::string input_file_id;
  std::string completion_window;  // as given, e.g. "24h"
  std::string metadata_json = "null";
  // Sluice's extension: told when the batch ends (batch.completed, .failed, .expired,
  // .cancelled), like a job's webhook_url. Empty: no webhook.
  std::string webhook_url;
  BatchStatus status = BatchStatus::kValidating;
  // While finalizing (and after): the final status the batch is finalizing into.
  std::optional<BatchStatus> outcome;
  std::string errors_json;  // a failed batch's {"object":"list","data":[...]}; empty: none
  std::string output_file_id;
  std::string error_file_id;
  Millis created_at = 0;
  Millis expires_at = 0;  // created_at + completion window: every job's deadline
  std::optional<Millis> in_progress_at, finalizing_at, completed_at, failed_at, expired_at,
      cancelling_at, cancelled_at;
  BatchRequestCounts counts;

  // The runner's bookkeeping (src/batches): how far ingestion got, and which node holds the
  // batch's exclusive work (validating, ingesting, finalizing) until when.
  bool ingested = false;           // every line became a job or a line error
  std::int64_t ingest_line = 0;    // lines consumed so far (1-based line numbers follow)
  std::int64_t ingest_offset = 0;  // byte offset in the input file where ingestion resumes
  std::string runner;
  Millis runner_until = 0;
};

// A request of a batch that never became a job, or a line the batch ended without running:
// it goes to the error file as it is. status_code 0 means `response: null` with only `error`.
struct BatchLineError {
  std::int64_t line = 0;  // 1-based line of the input file
  std::string custom_id;
  int status_code = 0;
  std::string code;
  std::string message;
  std::string field;  // the request field at fault, when one is
};

// How a batch's jobs stand, by JobStatus, plus its line errors.
struct BatchProgress {
  std::array<std::int64_t, 7> jobs_by_status{};
  std::int64_t line_errors = 0;

  std::int64_t jobs() const;
  // Queued or running: the batch is not over while any is.
  std::int64_t open_jobs() const;
};

// request_counts as clients see them before the batch is final: done jobs completed; every
// other ended job (failed, expired, canceled, review) and every line error failed.
BatchRequestCounts LiveCounts(std::int64_t total, const BatchProgress& progress);

}  // namespace sluice
