// The arguments and answers of the Store's files-and-batches methods (store.h, "Files and
// batches"). Kept apart from store.h so that the job contract there stays readable.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/job.h"

namespace sluice {

// A guarded change of a batch's status (a compare-and-set): applied only while the batch's
// status is one of `from` and, when `owner` is set, while `owner` holds its lease. Sets the
// timestamp that belongs to `to` (in_progress_at, finalizing_at, ...) unless already set, the
// optional fields given, and appends `event_type` (when set) to the events table with job_id =
// the batch id, in the same transaction.
struct BatchTransition {
  std::string id;
  std::vector<BatchStatus> from;
  BatchStatus to = BatchStatus::kInProgress;
  Millis now = 0;
  std::string owner;      // non-empty: the lease must be this owner's (then it is renewed)
  Millis lease_until = 0;  // with owner: the renewed lease; 0 with an owner releases it
  std::optional<std::int64_t> total;
  std::string errors_json;  // non-empty: replaces the batch's errors
  std::optional<BatchStatus> outcome;
  std::optional<std::string> output_file_id;
  std::optional<std::string> error_file_id;
  std::optional<BatchRequestCounts> final_counts;
  std::string event_type;  // e.g. "batch.completed"; empty: no event
  std::string event_data = "{}";
  // With owner: take the lease when it is free or ran out (batch_rules::LeaseAvailable)
  // instead of requiring it to be held already.
  bool take_lease = false;
  // Only checks and renews the lease (and sets the fields given); the status stays, `to` is
  // ignored.
  bool keep_status = false;
};

// One chunk of a batch's ingestion, applied in one transaction by the lease holder: its jobs
// (inserted with the batch's id; a job whose dedup key is taken is skipped, so a chunk submitted
// again after a crash creates nothing twice), its line errors (a line already recorded is
// skipped), and the resume point after it.
struct BatchChunk {
  std::string batch_id;
  std::string owner;
  Millis now = 0;
  Millis lease_until = 0;
  std::span<const Job> jobs;
  std::span<const BatchLineError> line_errors;
  std::int64_t next_line = 0;
  std::int64_t next_offset = 0;
  bool last = false;  // the batch is fully ingested after this chunk
};

struct BatchChunkOutcome {
  std::int64_t created = 0;  // jobs inserted (not deduplicated)
  BatchStatus status = BatchStatus::kInProgress;  // the batch's status at the commit
};

// A job of a batch with its result record (when it has one), for writing the output files.
struct BatchJobRow {
  Job job;
  std::optional<std::string> result_json;
};

struct BatchPage {
  std::vector<Batch> batches;
  bool has_more = false;
};

}  // namespace sluice
