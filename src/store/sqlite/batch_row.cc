#include "store/sqlite/batch_row.h"

namespace sluice::sqlite {

namespace {

enum Column : int {
  kId,
  kTenant,
  kEndpoint,
  kInputFileId,
  kCompletionWindow,
  kMetadata,
  kStatus,
  kOutcome,
  kErrors,
  kOutputFileId,
  kErrorFileId,
  kCreatedAt,
  kExpiresAt,
  kInProgressAt,
  kFinalizingAt,
  kCompletedAt,
  kFailedAt,
  kExpiredAt,
  kCancellingAt,
  kCancelledAt,
  kTotal,
  kCompleted,
  kFailed,
  kIngested,
  kIngestLine,
  kIngestOffset,
  kRunner,
  kRunnerUntil,
  kWebhookUrl,
  kColumnCount,
};
static_assert(kColumnCount == kBatchColumnCount);

}  // namespace

Batch ReadBatch(const Statement& row, int first) {
  auto at = [first](Column c) { return first + c; };
  Batch b;
  b.id = row.text_at(at(kId));
  b.tenant = row.text_at(at(kTenant));
  b.endpoint = row.text_at(at(kEndpoint));
  b.input_file_id = row.text_at(at(kInputFileId));
  b.completion_window = row.text_at(at(kCompletionWindow));
  b.metadata_json = row.text_at(at(kMetadata));
  // A status this build does not know would be a newer build's: CHECK, never guess.
  auto status = ParseBatchStatus(row.text_at(at(kStatus)));
  CHECK(status.has_value());
  b.status = *status;
  if (!row.is_null(at(kOutcome))) b.outcome = ParseBatchStatus(row.text_at(at(kOutcome)));
  b.errors_json = row.text_at(at(kErrors));
  b.output_file_id = row.text_at(at(kOutputFileId));
  b.error_file_id = row.text_at(at(kErrorFileId));
  b.created_at = row.int_at(at(kCreatedAt));
  b.expires_at = row.int_at(at(kExpiresAt));
  b.in_progress_at = row.optional_int_at(at(kInProgressAt));
  b.finalizing_at = row.optional_int_at(at(kFinalizingAt));
  b.completed_at = row.optional_int_at(at(kCompletedAt));
  b.failed_at = row.optional_int_at(at(kFailedAt));
  b.expired_at = row.optional_int_at(at(kExpiredAt));
  b.cancelling_at = row.optional_int_at(at(kCancellingAt));
  b.cancelled_at = row.optional_int_at(at(kCancelledAt));
  b.counts.total = row.int_at(at(kTotal));
  b.counts.completed = row.int_at(at(kCompleted));
  b.counts.failed = row.int_at(at(kFailed));
  b.ingested = row.int_at(at(kIngested)) != 0;
  b.ingest_line = row.int_at(at(kIngestLine));
  b.ingest_offset = row.int_at(at(kIngestOffset));
  b.runner = row.text_at(at(kRunner));
  b.runner_until = row.int_at(at(kRunnerUntil));
  b.webhook_url = row.text_at(at(kWebhookUrl));
  return b;
}

void BindBatch(Statement& stmt, const Batch& b) {
  auto param = [](Column c) { return c + 1; };
  stmt.bind_text(param(kId), b.id);
  stmt.bind_text(param(kTenant), b.tenant);
  stmt.bind_text(param(kEndpoint), b.endpoint);
  stmt.bind_text(param(kInputFileId), b.input_file_id);
  stmt.bind_text(param(kCompletionWindow), b.completion_window);
  stmt.bind_text(param(kMetadata), b.metadata_json);
  stmt.bind_text(param(kStatus), std::string_view(BatchStatusName(b.status)));
  if (b.outcome) {
    stmt.bind_text(param(kOutcome), std::string_view(BatchStatusName(*b.outcome)));
  } else {
    stmt.bind_null(param(kOutcome));
  }
  stmt.bind_text(param(kErrors), b.errors_json);
  stmt.bind_text(param(kOutputFileId), b.output_file_id);
  stmt.bind_text(param(kErrorFileId), b.error_file_id);
  stmt.bind_int(param(kCreatedAt), b.created_at);
  stmt.bind_int(param(kExpiresAt), b.expires_at);
  stmt.bind_int(param(kInProgressAt), b.in_progress_at);
  stmt.bind_int(param(kFinalizingAt), b.finalizing_at);
  stmt.bind_int(param(kCompletedAt), b.completed_at);
  stmt.bind_int(param(kFailedAt), b.failed_at);
  stmt.bind_int(param(kExpiredAt), b.expired_at);
  stmt.bind_int(param(kCancellingAt), b.cancelling_at);
  stmt.bind_int(param(kCancelledAt), b.cancelled_at);
  stmt.bind_int(param(kTotal), b.counts.total);
  stmt.bind_int(param(kCompleted), b.counts.completed);
  stmt.bind_int(param(kFailed), b.counts.failed);
  stmt.bind_int(param(kIngested), b.ingested ? 1 : 0);
  stmt.bind_int(param(kIngestLine), b.ingest_line);
  stmt.bind_int(param(kIngestOffset), b.ingest_offset);
  stmt.bind_text(param(kRunner), b.runner);
  stmt.bind_int(param(kRunnerUntil), b.runner_until);
  stmt.bind_text(param(kWebhookUrl), b.webhook_url);
}

}  // namespace sluice::sqlite
