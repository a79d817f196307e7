// How a Batch maps onto a row of the batches table (the embedded engine): the columns of
// kBatchColumns, in order.
#pragma once

#include "core/batch.h"
#include "store/sqlite/connection.h"

namespace sluice::sqlite {

inline constexpr char kBatchColumns[] =
    "id, tenant, endpoint, input_file_id, completion_window, metadata, status, outcome, errors, "
    "output_file_id, error_file_id, created_at, expires_at, in_progress_at, finalizing_at, "
    "completed_at, failed_at, expired_at, cancelling_at, cancelled_at, total, completed, failed, "
    "ingested, ingest_line, ingest_offset, runner, runner_until, webhook_url";
inline constexpr int kBatchColumnCount = 29;

// Reads the Batch in the current row, columns [first, first + kBatchColumnCount).
Batch ReadBatch(const Statement& row, int first = 0);
// Binds every column as parameters ?1..?29 in kBatchColumns order. `batch` must outlive the
// statement's next reset (text is bound without copying).
void BindBatch(Statement& stmt, const Batch& batch);

}  // namespace sluice::sqlite
