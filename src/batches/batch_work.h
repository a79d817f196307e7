// The three pieces of exclusive work on a batch, each done by the node that holds the batch's
// lease (Store::lease_batch_work), and each resumable by another node when that one dies:
//   ValidateBatch  reads the whole input file once, checks its structure, then moves the batch
//                  to in_progress (or failed, with `errors`). Holds one line and a 24-byte
//                  record per request (the custom_id's 128-bit hash and its line), never the file.
//   IngestBatch    reads the file again from the batch's resume point and turns each line into
//                  a job or a line error, `chunk_lines` lines per store transaction; the
//                  transaction also moves the resume point, and dedup keys make a chunk that is
//                  submitted twice create nothing twice.
//   WriteBatchFiles writes the output and error files of a finalizing batch page by page and
//                  moves it to its final status (a compare-and-set, so a node whose lease was
//                  taken over writes nothing that counts).
#pragma once

#include <functional>
#include <string>

#include "batches/batch_line.h"
#include "core/batch.h"
#include "core/time.h"
#include "store/store.h"

namespace sluice {

struct BatchWorkOptions {
  Millis lease = 30'000;              // a node's hold on a batch's exclusive work, renewed as it goes
  int chunk_lines = 1'000;            // lines per ingestion transaction
  int page_jobs = 1'000;              // jobs read per page when writing the files
  std::int64_t max_requests = 200'000;
  std::int64_t max_line_bytes = 32 << 20;
  int max_reported_errors = 100;      // a failed batch lists at most this many problems
};

struct BatchWorkDeps {
  Store& store;
  const Clock& clock;
  JobFromBody job_from_body;
  std::string owner;                                         // this node's lease owner name
  std::function<void(const std::string& queue)> wake_queue;  // new jobs are due in `queue`
  BatchWorkOptions options;
  // True once the node is stopping: long work stops at its next chunk (kCanceled) and leaves
  // the rest to whoever leases the batch next.
  std::function<bool()> stopping = [] { return false; };
};

// `batch` is leased by deps.owner and validating (or cancelling before it was validated).
// Returns the batch as it stands after (in_progress, cancelling, or failed).
Result<Batch> ValidateBatch(const BatchWorkDeps& deps, const Batch& batch);
// `batch` is leased by deps.owner, in_progress or cancelling, and not fully ingested.
Status IngestBatch(const BatchWorkDeps& deps, const Batch& batch);
// `batch` is finalizing under deps.owner's lease, with its outcome and file ids set.
Status WriteBatchFiles(const BatchWorkDeps& deps, const Batch& batch);

}  // namespace sluice
