// SqliteStore: files and batches (store.h, "Files and batches"). Writes run on the writer
// connection under write_mu_, one transaction each; reads on the reader pool, so a download
// streaming a file's chunks never waits behind a commit's fsync. The rules shared with the
// PostgreSQL engine live in store/batch_rules.h.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "store/batch_rules.h"
#include "store/job_rules.h"
#include "store/sqlite/batch_row.h"
#include "store/sqlite/event_data.h"
#include "store/sqlite/job_row.h"
#include "store/sqlite/queries.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/store_reader.h"
#include "store/sqlite/write_txn.h"

namespace sluice {

using sqlite::EventData;
using sqlite::JoinSql;
using sqlite::Statement;
using sqlite::WriteTxn;

namespace {

constexpr int kMaxBatchPage = 100;

// --- files ---
constexpr char kCreateFile[] =
    "INSERT INTO files (id, tenant, purpose, filename, bytes, created_at, complete) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)";
constexpr char kPutChunk[] =
    "INSERT INTO file_chunks (file_id, n, content) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (file_id, n) DO UPDATE SET content = excluded.content";
constexpr char kCompleteFile[] = "UPDATE files SET complete = 1, bytes = ?2 WHERE id = ?1";
constexpr char kDeleteChunks[] = "DELETE FROM file_chunks WHERE file_id = ?1";
constexpr char kDeleteFile[] = "DELETE FROM files WHERE id = ?1";
constexpr char kGetFile[] =
    "SELECT id, tenant, purpose, filename, bytes, created_at FROM files "
    "WHERE id = ?1 AND tenant = ?2 AND complete = 1";
constexpr char kGetChunk[] = "SELECT content FROM file_chunks WHERE file_id = ?1 AND n = ?2";

// --- batches ---
constexpr auto kInsertBatch = JoinSql(
    "INSERT INTO batches (", sqlite::kBatchColumns,
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29)");
// Writes back every column of a batch read earlier in the same transaction.
constexpr char kUpdateBatch[] =
    "UPDATE batches SET tenant = ?2, endpoint = ?3, input_file_id = ?4, completion_window = ?5, "
    "metadata = ?6, status = ?7, outcome = ?8, errors = ?9, output_file_id = ?10, "
    "error_file_id = ?11, created_at = ?12, expires_at = ?13, in_progress_at = ?14, "
    "finalizing_at = ?15, completed_at = ?16, failed_at = ?17, expired_at = ?18, "
    "cancelling_at = ?19, cancelled_at = ?20, total = ?21, completed = ?22, failed = ?23, "
    "ingested = ?24, ingest_line = ?25, ingest_offset = ?26, runner = ?27, runner_until = ?28, "
    "webhook_url = ?29 WHERE id = ?1";
constexpr auto kGetBatch =
    JoinSql("SELECT ", sqlite::kBatchColumns, " FROM batches WHERE id = ?1 AND tenant = ?2");
constexpr auto kGetBatchById =
    JoinSql("SELECT ", sqlite::kBatchColumns, " FROM batches WHERE id = ?1");
constexpr auto kListBatches = JoinSql("SELECT ", sqlite::kBatchColumns,
                                      " FROM batches WHERE tenant = ?1 ORDER BY id DESC LIMIT ?2");
constexpr auto kListBatchesAfter =
    JoinSql("SELECT ", sqlite::kBatchColumns,
            " FROM batches WHERE tenant = ?1 AND id < ?3 ORDER BY id DESC LIMIT ?2");
// Candidates for exclusive work (batch_rules::NeedsExclusiveWork), read from batches_active.
constexpr auto kLeaseCandidates = JoinSql(
    "SELECT ", sqlite::kBatchColumns,
    " FROM batches WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling') "
    "AND (status IN ('validating', 'finalizing') OR ingested = 0) "
    "AND (runner = '' OR runner_until < ?2) AND ?1 != '' ORDER BY id LIMIT 1");
constexpr auto kOpenBatches = JoinSql(
    "SELECT ", sqlite::kBatchColumns,
    " FROM batches WHERE status IN ('in_progress', 'cancelling') AND ingested = 1 "
    "ORDER BY id LIMIT ?1");
constexpr char kBatchJobCounts[] =
    "SELECT status, count(*) FROM jobs WHERE batch_id = ?1 GROUP BY status";
constexpr char kBatchLineErrorCount[] =
    "SELECT count(*) FROM batch_line_errors WHERE batch_id = ?1";
constexpr char kInsertLineError[] =
    "INSERT INTO batch_line_errors (batch_id, line, custom_id, status_code, code, message, field) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (batch_id, line) DO NOTHING";
constexpr char kBatchLineErrors[] =
    "SELECT line, custom_id, status_code, code, message, field FROM batch_line_errors "
    "WHERE batch_id = ?1 AND line > ?2 ORDER BY line LIMIT ?3";
// A batch's job: a fresh job as submit stores it, plus the batch's id (?33).
constexpr auto kInsertBatchJob = JoinSql(
    "INSERT INTO jobs (", sqlite::kJobColumns,
    ", due_at, batch_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
    "?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, "
    "?33) ON CONFLICT (tenant, dedup_key) WHERE dedup_key != '' DO NOTHING");
constexpr char kCancelBatchJobs[] =
    "UPDATE jobs SET status = 6, finished_at = ?2, lease_owner = '', lease_until = 0 "
    "WHERE rowid IN (SELECT rowid FROM jobs WHERE batch_id = ?1 AND status = 0 LIMIT ?3) "
    "RETURNING id, tenant, queue";
constexpr auto kBatchJobs = JoinSql(
    "SELECT ", sqlite::kJobColumns,
    ", (SELECT result FROM results WHERE job_id = jobs.id) FROM jobs "
    "WHERE batch_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3");

Status BatchNotFound(const std::string& id) {
  return NotFound("batch " + id + " not found");
}

Result<BatchProgress> CountProgress(sqlite::Connection& conn, const std::string& batch_id) {
  BatchProgress progress;
  {
    ASSIGN_OR_RETURN(Statement q, conn.prepare(kBatchJobCounts));
    q.bind_text(1, batch_id);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.step());
      if (!row) break;
      std::int64_t status = q.int_at(0);
      if (status >= 0 && status < static_cast<std::int64_t>(progress.jobs_by_status.size())) {
        progress.jobs_by_status[static_cast<std::size_t>(status)] = q.int_at(1);
      }
    }
  }
  ASSIGN_OR_RETURN(Statement q, conn.prepare(kBatchLineErrorCount));
  q.bind_text(1, batch_id);
  ASSIGN_OR_RETURN(bool row, q.step());
  if (row) progress.line_errors = q.int_at(0);
  return progress;
}

// Before a batch is final its counts are live, counted from its jobs.
Status FillLiveCounts(sqlite::Connection& conn, Batch& batch) {
  if (IsFinal(batch.status)) return Status::Ok();
  ASSIGN_OR_RETURN(BatchProgress progress, CountProgress(conn, batch.id));
  batch.counts = LiveCounts(batch.counts.total, progress);
  return Status::Ok();
}

Result<std::optional<Batch>> ReadBatchById(sqlite::Connection& conn, const std::string& id) {
  ASSIGN_OR_RETURN(Statement q, conn.prepare(kGetBatchById.data()));
  q.bind_text(1, id);
  ASSIGN_OR_RETURN(bool row, q.step());
  if (!row) return std::optional<Batch>();
  return std::optional<Batch>(sqlite::ReadBatch(q));
}

Status WriteBatch(sqlite::Connection& conn, const Batch& batch) {
  ASSIGN_OR_RETURN(Statement q, conn.prepare(kUpdateBatch));
  sqlite::BindBatch(q, batch);
  return q.run();
}

}  // namespace

// ---- files ----------------------------------------------------------------------------------

Status SqliteStore::create_file(const StoredFile& file) {
  if (file.id.empty() || file.tenant.empty()) {
    return InvalidArgument("a file needs an id and a tenant", "id");
  }
  std::lock_guard lock(write_mu_);
  ASSIGN_OR_RETURN(Statement q, writer_->prepare(kCreateFile));
  q.bind_text(1, file.id);
  q.bind_text(2, file.tenant);
  q.bind_text(3, file.purpose);
  q.bind_text(4, file.filename);
  q.bind_int(5, file.bytes);
  q.bind_int(6, file.created_at);
  return q.run();
}

Status SqliteStore::put_file_chunk(const std::string& file_id, std::int64_t n,
                                   std::string_view bytes) {
  std::lock_guard lock(write_mu_);
  ASSIGN_OR_RETURN(Statement q, writer_->prepare(kPutChunk));
  q.bind_text(1, file_id);
  q.bind_int(2, n);
  q.bind_blob(3, bytes);
  return q.run();
}

Status SqliteStore::complete_file(const std::string& file_id, std::int64_t bytes) {
  std::lock_guard lock(write_mu_);
  ASSIGN_OR_RETURN(Statement q, writer_->prepare(kCompleteFile));
  q.bind_text(1, file_id);
  q.bind_int(2, bytes);
  RETURN_IF_ERROR(q.run());
  if (writer_->changes() == 0) return NotFound("file " + file_id + " not found");
  return Status::Ok();
}

Status SqliteStore::delete_file(const std::string& file_id) {
  std::lock_guard lock(write_mu_);
  WriteTxn txn(*writer_);
  RETURN_IF_ERROR(txn.begin());
  for (const char* sql : {kDeleteChunks, kDeleteFile}) {
    ASSIGN_OR_RETURN(Statement q, writer_->prepare(sql));
    q.bind_text(1, file_id);
    RETURN_IF_ERROR(q.run());
  }
  return txn.commit();
}

Result<StoredFile> SqliteStore::get_file(const std::string& tenant, const std::string& id) {
  ASSIGN_OR_RETURN(Reader r, reader());
  ASSIGN_OR_RETURN(Statement q, r.conn().prepare(kGetFile));
  q.bind_text(1, id);
  q.bind_text(2, tenant);
  ASSIGN_OR_RETURN(bool row, q.step());
  if (!row) return NotFound("file " + id + " not found");
  return StoredFile{.id = q.text_at(0),
                    .tenant = q.text_at(1),
                    .purpose = q.text_at(2),
                    .filename = q.text_at(3),
                    .bytes = q.int_at(4),
                    .created_at = q.int_at(5)};
}

Result<std::optional<std::string>> SqliteStore::get_file_chunk(const std::string& file_id,
                                                               std::int64_t n) {
  ASSIGN_OR_RETURN(Reader r, reader());
  ASSIGN_OR_RETURN(Statement q, r.conn().prepare(kGetChunk));
  q.bind_text(1, file_id);
  q.bind_int(2, n);
  ASSIGN_OR_RETURN(bool row, q.step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(q.text_at(0));
}

// ---- batches --------------------------------------------------------------------------------

Status SqliteStore::create_batch(const Batch& batch) {
  RETURN_IF_ERROR(batch_rules::CheckCreatable(batch));
  std::lock_guard lock(write_mu_);
  ASSIGN_OR_RETURN(Statement q, writer_->prepare(kInsertBatch.data()));
  sqlite::BindBatch(q, batch);
  return q.run();
}

Result<Batch> SqliteStore::get_batch(const std::string& tenant, const std::string& id) {
  ASSIGN_OR_RETURN(Reader r, reader());
  Batch batch;
  {
    ASSIGN_OR_RETURN(Statement q, r.conn().prepare(kGetBatch.data()));
    q.bind_text(1, id);
    q.bind_text(2, tenant);
    ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) return BatchNotFound(id);
    batch = sqlite::ReadBatch(q);
  }
  RETURN_IF_ERROR(FillLiveCounts(r.conn(), batch));
  return batch;
}

Result<BatchPage> SqliteStore::list_batches(const std::string& tenant, int limit,
                                            const std::string& after) {
  limit = std::clamp(limit, 1, kMaxBatchPage);
  ASSIGN_OR_RETURN(Reader r, reader());
  BatchPage page;
  {
    ASSIGN_OR_RETURN(Statement q, r.conn().prepare(after.empty() ? kListBatches.data()
                                                                 : kListBatchesAfter.data()));
    q.bind_text(1, tenant);
    q.bind_int(2, limit + 1);  // one more tells whether another page follows
    if (!after.empty()) q.bind_text(3, after);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.step());
      if (!row) break;
      if (static_cast<int>(page.batches.size()) == limit) {
        page.has_more = true;
        break;
      }
      page.batches.push_back(sqlite::ReadBatch(q));
    }
  }
  for (Batch& batch : page.batches) RETURN_IF_ERROR(FillLiveCounts(r.conn(), batch));
  return page;
}

Result<Batch> SqliteStore::transition_batch(const BatchTransition& t) {
  std::lock_guard lock(write_mu_);
  WriteTxn txn(*writer_);
  RETURN_IF_ERROR(txn.begin());
  ASSIGN_OR_RETURN(std::optional<Batch> found, ReadBatchById(*writer_, t.id));
  if (!found) return BatchNotFound(t.id);
  Batch batch = std::move(*found);
  RETURN_IF_ERROR(batch_rules::ApplyTransition(t, batch));
  RETURN_IF_ERROR(WriteBatch(*writer_, batch));
  if (!t.event_type.empty()) {
    RETURN_IF_ERROR(txn.event(batch.id, batch.tenant, t.now, t.event_type, t.event_data));
  }
  RETURN_IF_ERROR(FillLiveCounts(*writer_, batch));
  RETURN_IF_ERROR(txn.commit());
  return batch;
}

Result<std::optional<Batch>> SqliteStore::lease_batch_work(const std::string& owner, Millis now,
                                                           Millis lease_until) {
  if (owner.empty()) return InvalidArgument("a lease needs an owner", "owner");
  std::lock_guard lock(write_mu_);
  WriteTxn txn(*writer_);
  RETURN_IF_ERROR(txn.begin());
  std::optional<Batch> batch;
  {
    ASSIGN_OR_RETURN(Statement q, writer_->prepare(kLeaseCandidates.data()));
    q.bind_text(1, owner);
    q.bind_int(2, now);
    ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) return std::optional<Batch>();
    batch = sqlite::ReadBatch(q);
  }
  CHECK(batch_rules::NeedsExclusiveWork(*batch) && batch_rules::LeaseFree(*batch, now));
  batch->runner = owner;
  batch->runner_until = lease_until;
  RETURN_IF_ERROR(WriteBatch(*writer_, *batch));
  RETURN_IF_ERROR(txn.commit());
  return batch;
}

Result<BatchChunkOutcome> SqliteStore::ingest_batch_chunk(const BatchChunk& chunk) {
  for (const Job& job : chunk.jobs) RETURN_IF_ERROR(store_rules::CheckSubmittable(job));
  std::lock_guard lock(write_mu_);
  WriteTxn txn(*writer_);
  RETURN_IF_ERROR(txn.begin());
  ASSIGN_OR_RETURN(std::optional<Batch> found, ReadBatchById(*writer_, chunk.batch_id));
  if (!found) return BatchNotFound(chunk.batch_id);
  Batch batch = std::move(*found);
  RETURN_IF_ERROR(batch_rules::CheckIngestable(chunk, batch));

  BatchChunkOutcome outcome{.status = batch.status};
  {
    ASSIGN_OR_RETURN(Statement insert, writer_->prepare(kInsertBatchJob.data()));
    for (const Job& job : chunk.jobs) {
      const Job fresh = store_rules::AsSubmitted(job);
      sqlite::BindJob(insert, fresh);
      insert.bind_int(sqlite::kJobColumnCount + 1, fresh.spec.run_at);  // due_at
      insert.bind_text(sqlite::kJobColumnCount + 2, chunk.batch_id);
      RETURN_IF_ERROR(insert.run());
      insert.reset();
      if (writer_->changes() == 0) continue;  // submitted before (a resumed chunk)
      ++outcome.created;
      std::string data = EventData()
                             .add("queue", fresh.spec.queue)
                             .add("priority", fresh.spec.priority)
                             .add("batch_id", chunk.batch_id)
                             .str();
      RETURN_IF_ERROR(txn.event(fresh.id, fresh.spec.tenant, fresh.created_at, "submitted", data));
      txn.moved(fresh.spec.queue, std::nullopt, JobStatus::kQueued);
    }
  }
  {
    ASSIGN_OR_RETURN(Statement insert, writer_->prepare(kInsertLineError));
    for (const BatchLineError& e : chunk.line_errors) {
      insert.bind_text(1, chunk.batch_id);
      insert.bind_int(2, e.line);
      insert.bind_text(3, e.custom_id);
      insert.bind_int(4, e.status_code);
      insert.bind_text(5, e.code);
      insert.bind_text(6, e.message);
      insert.bind_text(7, e.field);
      RETURN_IF_ERROR(insert.run());
      insert.reset();
    }
  }
  batch.ingest_line = chunk.next_line;
  batch.ingest_offset = chunk.next_offset;
  batch.ingested = chunk.last;
  batch.runner_until = chunk.lease_until;
  if (chunk.last) {
    batch.runner.clear();  // nothing exclusive is left until finalizing
    batch.runner_until = 0;
  }
  RETURN_IF_ERROR(WriteBatch(*writer_, batch));
  RETURN_IF_ERROR(txn.commit());
  return outcome;
}

Result<std::vector<Batch>> SqliteStore::open_batches(int limit) {
  ASSIGN_OR_RETURN(Reader r, reader());
  ASSIGN_OR_RETURN(Statement q, r.conn().prepare(kOpenBatches.data()));
  q.bind_int(1, std::max(limit, 1));
  std::vector<Batch> batches;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) break;
    batches.push_back(sqlite::ReadBatch(q));
  }
  return batches;
}

Result<BatchProgress> SqliteStore::batch_progress(const std::string& batch_id) {
  ASSIGN_OR_RETURN(Reader r, reader());
  return CountProgress(r.conn(), batch_id);
}

Result<int> SqliteStore::cancel_batch_jobs(const std::string& batch_id, Millis now, int limit) {
  struct Canceled {
    std::string id, tenant, queue;
  };
  std::vector<Canceled> canceled;
  std::lock_guard lock(write_mu_);
  WriteTxn txn(*writer_);
  RETURN_IF_ERROR(txn.begin());
  {
    ASSIGN_OR_RETURN(Statement q, writer_->prepare(kCancelBatchJobs));
    q.bind_text(1, batch_id);
    q.bind_int(2, now);
    q.bind_int(3, std::max(limit, 1));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.step());
      if (!row) break;
      canceled.push_back({q.text_at(0), q.text_at(1), q.text_at(2)});
    }
  }
  const std::string data = EventData().add("from", "queued").add("batch_id", batch_id).str();
  for (const Canceled& job : canceled) {
    RETURN_IF_ERROR(txn.event(job.id, job.tenant, now, "canceled", data));
    txn.moved(job.queue, JobStatus::kQueued, JobStatus::kCanceled);
  }
  RETURN_IF_ERROR(txn.commit());
  return static_cast<int>(canceled.size());
}

Result<std::vector<BatchJobRow>> SqliteStore::batch_jobs(const std::string& batch_id,
                                                         const std::string& after_id, int limit) {
  ASSIGN_OR_RETURN(Reader r, reader());
  ASSIGN_OR_RETURN(Statement q, r.conn().prepare(kBatchJobs.data()));
  q.bind_text(1, batch_id);
  q.bind_text(2, after_id);
  q.bind_int(3, std::max(limit, 1));
  std::vector<BatchJobRow> rows;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) break;
    BatchJobRow out{.job = sqlite::ReadJob(q)};
    if (!q.is_null(sqlite::kJobColumnCount)) out.result_json = q.text_at(sqlite::kJobColumnCount);
    rows.push_back(std::move(out));
  }
  return rows;
}

Result<std::vector<BatchLineError>> SqliteStore::batch_line_errors(const std::string& batch_id,
                                                                   std::int64_t after_line,
                                                                   int limit) {
  ASSIGN_OR_RETURN(Reader r, reader());
  ASSIGN_OR_RETURN(Statement q, r.conn().prepare(kBatchLineErrors));
  q.bind_text(1, batch_id);
  q.bind_int(2, after_line);
  q.bind_int(3, std::max(limit, 1));
  std::vector<BatchLineError> errors;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) break;
    errors.push_back(BatchLineError{.line = q.int_at(0),
                                    .custom_id = q.text_at(1),
                                    .status_code = static_cast<int>(q.int_at(2)),
                                    .code = q.text_at(3),
                                    .message = q.text_at(4),
                                    .field = q.text_at(5)});
  }
  return errors;
}

}  // namespace sluice
