// The lines of a batch's output and error files (API.md "Files and batches"), matched to the
// input by custom_id, not by order:
//   {"id": "batch_req_…", "custom_id": …, "response": {"status_code", "request_id", "body"}, "error": null}
// A done job goes to the output file with status_code 200 and, as body, the chat.completion
// object (chat lines) or the job's result record (/v1/jobs lines). Everything else goes to the
// error file:
//   failed            status_code 400 (the provider or Sluice refused the request) or 500, body {"error"}
//   review            status_code 422, body {"error": {"code": "review_required"}, "result": kept result}
//                     (the job waits for a person; its batch does not: see ARCHITECTURE.md)
//   expired           response null, error {code: batch_expired} (or request_timeout when the
//                     line's own, earlier deadline passed)
//   canceled          response null, error {code: batch_cancelled} (or request_cancelled when the
//                     job alone was cancelled through /v1/jobs)
//   never a job       status_code 400 with the job API's error body, or, for requests the batch
//                     ended before submitting, response null with batch_expired / batch_cancelled.
#pragma once

#include <string>

#include "core/batch.h"
#include "store/batch_records.h"

namespace sluice {

struct OutputLine {
  bool ok = false;   // true: the output file; false: the error file
  std::string json;  // one line, without '\n'
};

// `outcome`: the status the batch is finalizing into.
OutputLine FormatJobLine(const Batch& batch, BatchStatus outcome, const BatchJobRow& row);
std::string FormatLineError(const Batch& batch, const BatchLineError& error);

// The custom_id of a batch's job, from its dedup key "<batch id>:<custom_id>".
std::string CustomIdOf(const Batch& batch, const Job& job);

}  // namespace sluice
