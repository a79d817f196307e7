// PostgresStore: files and batches (store.h, "Files and batches"), the shared engine's side of
// the embedded engine's sqlite_batches.cc, with the rules of store/batch_rules.h. Several nodes
// run batches at once: every guarded change reads its batch row FOR UPDATE, so two nodes never
// both move a batch out of one status (exactly one node finalizes a batch), and the node that
// leases a batch's exclusive work skips rows another node holds locked (SKIP LOCKED).
#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/batch_rules.h"
#include "store/job_rules.h"
#include "store/postgres/job_row.h"
#include "store/postgres/postgres_store.h"
#include "store/postgres/queries.h"
#include "store/postgres/text.h"
#include "store/sqlite/event_data.h"

namespace sluice {

using pg::JoinSql;
using pg::Params;
using pg::Rows;
using pg::Txn;
using sqlite::EventData;

namespace {

constexpr int kMaxBatchPage = 100;

constexpr char kBatchColumns[] =
    "id, tenant, endpoint, input_file_id, completion_window, metadata, status, outcome, errors, "
    "output_file_id, error_file_id, created_at, expires_at, in_progress_at, finalizing_at, "
    "completed_at, failed_at, expired_at, cancelling_at, cancelled_at, total, completed, failed, "
    "ingested, ingest_line, ingest_offset, runner, runner_until, webhook_url";
constexpr int kBatchColumnCount = 29;

// --- files ---
constexpr char kCreateFile[] =
    "INSERT INTO files (id, tenant, purpose, filename, bytes, created_at, complete) "
    "VALUES ($1::text, $2::text, $3::text, $4::text, $5::bigint, $6::bigint, 0)";
constexpr char kPutChunk[] =
    "INSERT INTO file_chunks (file_id, n, content) VALUES ($1::text, $2::bigint, $3::bytea) "
    "ON CONFLICT (file_id, n) DO UPDATE SET content = excluded.content";
constexpr char kCompleteFile[] =
    "UPDATE files SET complete = 1, bytes = $2::bigint WHERE id = $1::text";
constexpr char kDeleteFile[] =
    "WITH chunks AS (DELETE FROM file_chunks WHERE file_id = $1::text) "
    "DELETE FROM files WHERE id = $1::text";
constexpr char kGetFile[] =
    "SELECT id, tenant, purpose, filename, bytes, created_at FROM files "
    "WHERE id = $1::text AND tenant = $2::text AND complete = 1";
// Read in binary result format: the only column is BYTEA.
constexpr char kGetChunk[] =
    "SELECT content FROM file_chunks WHERE file_id = $1::text AND n = $2::bigint";

// --- batches ---
constexpr auto kInsertBatch = JoinSql(
    "INSERT INTO batches (", kBatchColumns,
    ") VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, "
    "$9::text, $10::text, $11::text, $12::bigint, $13::bigint, $14::bigint, $15::bigint, "
    "$16::bigint, $17::bigint, $18::bigint, $19::bigint, $20::bigint, $21::bigint, $22::bigint, "
    "$23::bigint, $24::smallint, $25::bigint, $26::bigint, $27::text, $28::bigint, $29::text)");
constexpr char kUpdateBatch[] =
    "UPDATE batches SET tenant = $2::text, endpoint = $3::text, input_file_id = $4::text, "
    "completion_window = $5::text, metadata = $6::text, status = $7::text, outcome = $8::text, "
    "errors = $9::text, output_file_id = $10::text, error_file_id = $11::text, "
    "created_at = $12::bigint, expires_at = $13::bigint, in_progress_at = $14::bigint, "
    "finalizing_at = $15::bigint, completed_at = $16::bigint, failed_at = $17::bigint, "
    "expired_at = $18::bigint, cancelling_at = $19::bigint, cancelled_at = $20::bigint, "
    "total = $21::bigint, completed = $22::bigint, failed = $23::bigint, "
    "ingested = $24::smallint, ingest_line = $25::bigint, ingest_offset = $26::bigint, "
    "runner = $27::text, runner_until = $28::bigint, webhook_url = $29::text WHERE id = $1::text";
constexpr auto kGetBatch = JoinSql("SELECT ", kBatchColumns,
                                   " FROM batches WHERE id = $1::text AND tenant = $2::text");
constexpr auto kLockBatch =
    JoinSql("SELECT ", kBatchColumns, " FROM batches WHERE id = $1::text FOR UPDATE");
constexpr auto kListBatches =
    JoinSql("SELECT ", kBatchColumns,
            " FROM batches WHERE tenant = $1::text ORDER BY id DESC LIMIT $2::bigint");
constexpr auto kListBatchesAfter = JoinSql(
    "SELECT ", kBatchColumns,
    " FROM batches WHERE tenant = $1::text AND id < $3::text ORDER BY id DESC LIMIT $2::bigint");
constexpr auto kLeaseCandidate = JoinSql(
    "SELECT ", kBatchColumns,
    " FROM batches WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling') "
    "AND (status IN ('validating', 'finalizing') OR ingested = 0) "
    "AND (runner = '' OR runner_until < $2::bigint) AND $1::text <> '' "
    "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED");
constexpr auto kOpenBatches = JoinSql(
    "SELECT ", kBatchColumns,
    " FROM batches WHERE status IN ('in_progress', 'cancelling') AND ingested = 1 "
    "ORDER BY id LIMIT $1::bigint");
constexpr char kBatchProgress[] =
    "SELECT status, count(*) FROM jobs WHERE batch_id = $1::text GROUP BY status "
    "UNION ALL SELECT -1, count(*) FROM batch_line_errors WHERE batch_id = $1::text";
constexpr char kInsertLineErrors[] =
    "INSERT INTO batch_line_errors (batch_id, line, custom_id, status_code, code, message, field) "
    "SELECT $1::text, * FROM unnest($2::bigint[], $3::text[], $4::integer[], $5::text[], "
    "$6::text[], $7::text[]) ON CONFLICT (batch_id, line) DO NOTHING";
constexpr char kBatchLineErrors[] =
    "SELECT line, custom_id, status_code, code, message, field FROM batch_line_errors "
    "WHERE batch_id = $1::text AND line > $2::bigint ORDER BY line LIMIT $3::bigint";
// kInsertJobs (queries.h) with the batch's id ($22) on every row.
constexpr char kInsertBatchJobs[] =
    "INSERT INTO jobs (id, tenant, type, input, object_id, source, prompt_version, "
    "response_schema, model, allow_fallback, params, queue, priority, deadline, run_at, "
    "max_attempts, cost_limit_usd, dedup_key, webhook_url, metadata, status, attempt, "
    "created_at, started_at, finished_at, cost_usd, error_code, error_message, "
    "next_attempt_at, lease_owner, lease_until, due_at, batch_id) "
    "SELECT u.id, u.tenant, u.type, u.input, u.object_id, u.source, u.prompt_version, "
    "u.response_schema, u.model, u.allow_fallback, u.params, u.queue, u.priority, u.deadline, "
    "u.run_at, u.max_attempts, u.cost_limit_usd, u.dedup_key, u.webhook_url, u.metadata, 0, 0, "
    "u.created_at, NULL, NULL, 0, NULL, NULL, NULL, '', 0, u.run_at, $22::text "
    "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "
    "$7::text[], $8::text[], $9::text[], $10::smallint[], $11::text[], $12::text[], "
    "$13::integer[], $14::bigint[], $15::bigint[], $16::integer[], $17::float8[], $18::text[], "
    "$19::text[], $20::text[], $21::bigint[]) WITH ORDINALITY "
    "AS u (id, tenant, type, input, object_id, source, prompt_version, response_schema, model, "
    "allow_fallback, params, queue, priority, deadline, run_at, max_attempts, cost_limit_usd, "
    "dedup_key, webhook_url, metadata, created_at, ord) "
    "ORDER BY u.ord "
    "ON CONFLICT (tenant, dedup_key) WHERE dedup_key <> '' DO NOTHING "
    "RETURNING id";
// MATERIALIZED: the LIMIT applies once (an IN (subquery) may be planned to run it again).
constexpr char kCancelBatchJobs[] =
    "WITH picked AS MATERIALIZED (SELECT id FROM jobs WHERE batch_id = $1::text AND status = 0 "
    "LIMIT $3::bigint FOR UPDATE SKIP LOCKED) "
    "UPDATE jobs SET status = 6, finished_at = $2::bigint, lease_owner = '', lease_until = 0 "
    "FROM picked WHERE jobs.id = picked.id AND jobs.status = 0 "
    "RETURNING jobs.id, jobs.tenant, jobs.queue";
constexpr auto kBatchJobs = JoinSql(
    "SELECT ", pg::kJobColumns,
    ", (SELECT result FROM results WHERE job_id = jobs.id) FROM jobs "
    "WHERE batch_id = $1::text AND id > $2::text ORDER BY id LIMIT $3::bigint");

Status BatchNotFound(const std::string& id) {
  return NotFound("batch " + id + " not found");
}

Batch ReadBatch(const Rows& rows, int i) {
  int c = 0;
  auto text = [&] { return rows.text_at(i, c++); };
  auto integer = [&] { return rows.int_at(i, c++); };
  auto optional = [&] { return rows.optional_int_at(i, c++); };
  Batch b;
  b.id = text();
  b.tenant = text();
  b.endpoint = text();
  b.input_file_id = text();
  b.completion_window = text();
  b.metadata_json = text();
  auto status = ParseBatchStatus(text());
  CHECK(status.has_value());  // a status this build does not know is a newer build's
  b.status = *status;
  if (rows.is_null(i, c)) {
    ++c;
  } else {
    b.outcome = ParseBatchStatus(text());
  }
  b.errors_json = text();
  b.output_file_id = text();
  b.error_file_id = text();
  b.created_at = integer();
  b.expires_at = integer();
  b.in_progress_at = optional();
  b.finalizing_at = optional();
  b.completed_at = optional();
  b.failed_at = optional();
  b.expired_at = optional();
  b.cancelling_at = optional();
  b.cancelled_at = optional();
  b.counts.total = integer();
  b.counts.completed = integer();
  b.counts.failed = integer();
  b.ingested = integer() != 0;
  b.ingest_line = integer();
  b.ingest_offset = integer();
  b.runner = text();
  b.runner_until = integer();
  b.webhook_url = text();
  CHECK(c == kBatchColumnCount);
  return b;
}

// $1..$29 in kBatchColumns order.
Params BatchParams(const Batch& b) {
  Params p;
  p.add(b.id).add(b.tenant).add(b.endpoint).add(b.input_file_id).add(b.completion_window);
  p.add(b.metadata_json).add(BatchStatusName(b.status));
  if (b.outcome) {
    p.add(BatchStatusName(*b.outcome));
  } else {
    p.add_null();
  }
  p.add(b.errors_json).add(b.output_file_id).add(b.error_file_id);
  p.add(static_cast<std::int64_t>(b.created_at)).add(static_cast<std::int64_t>(b.expires_at));
  p.add(b.in_progress_at).add(b.finalizing_at).add(b.completed_at).add(b.failed_at);
  p.add(b.expired_at).add(b.cancelling_at).add(b.cancelled_at);
  p.add(b.counts.total).add(b.counts.completed).add(b.counts.failed);
  p.add(b.ingested ? 1 : 0).add(b.ingest_line).add(b.ingest_offset);
  p.add(b.runner).add(static_cast<std::int64_t>(b.runner_until)).add(b.webhook_url);
  return p;
}

BatchProgress ReadProgress(const Rows& rows) {
  BatchProgress progress;
  for (int i = 0; i < rows.size(); ++i) {
    std::int64_t status = rows.int_at(i, 0);
    if (status == -1) {
      progress.line_errors = rows.int_at(i, 1);
    } else if (status >= 0 &&
               status < static_cast<std::int64_t>(progress.jobs_by_status.size())) {
      progress.jobs_by_status[static_cast<std::size_t>(status)] = rows.int_at(i, 1);
    }
  }
  return progress;
}

// Before a batch is final its counts are live, counted from its jobs.
Status FillLiveCounts(pg::Connection& conn, Batch& batch) {
  if (IsFinal(batch.status)) return Status::Ok();
  ASSIGN_OR_RETURN(Rows rows, conn.run(kBatchProgress, Params().add(batch.id)));
  batch.counts = LiveCounts(batch.counts.total, ReadProgress(rows));
  return Status::Ok();
}

Result<std::optional<Batch>> LockBatch(pg::Connection& conn, const std::string& id) {
  ASSIGN_OR_RETURN(Rows rows, conn.run(kLockBatch.data(), Params().add(id)));
  if (rows.size() == 0) return std::optional<Batch>();
  return std::optional<Batch>(ReadBatch(rows, 0));
}

}  // namespace

// ---- files ----------------------------------------------------------------------------------

Status PostgresStore::create_file(const StoredFile& file) {
  if (file.id.empty() || file.tenant.empty()) {
    return InvalidArgument("a file needs an id and a tenant", "id");
  }
  Params params;
  params.add(file.id).add(file.tenant).add(file.purpose).add(file.filename).add(file.bytes);
  params.add(static_cast<std::int64_t>(file.created_at));
  return write([&](Txn& txn) -> Result<bool> {
           RETURN_IF_ERROR(txn.conn().run(kCreateFile, params).status());
           return true;
         })
      .status();
}

Status PostgresStore::put_file_chunk(const std::string& file_id, std::int64_t n,
                                     std::string_view bytes) {
  Params params;
  params.add(file_id).add(n).add_bytes(bytes);
  return write([&](Txn& txn) -> Result<bool> {
           RETURN_IF_ERROR(txn.conn().run(kPutChunk, params).status());
           return true;
         })
      .status();
}

Status PostgresStore::complete_file(const std::string& file_id, std::int64_t bytes) {
  return write([&](Txn& txn) -> Result<bool> {
           ASSIGN_OR_RETURN(Rows rows,
                            txn.conn().run(kCompleteFile, Params().add(file_id).add(bytes)));
           if (rows.affected() == 0) return NotFound("file " + file_id + " not found");
           return true;
         })
      .status();
}

Status PostgresStore::delete_file(const std::string& file_id) {
  return write([&](Txn& txn) -> Result<bool> {
           RETURN_IF_ERROR(txn.conn().run(kDeleteFile, Params().add(file_id)).status());
           return true;
         })
      .status();
}

Result<StoredFile> PostgresStore::get_file(const std::string& tenant, const std::string& id) {
  return read([&](pg::Connection& conn) -> Result<StoredFile> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(kGetFile, Params().add(id).add(tenant)));
    if (rows.size() == 0) return NotFound("file " + id + " not found");
    return StoredFile{.id = rows.text_at(0, 0),
                      .tenant = rows.text_at(0, 1),
                      .purpose = rows.text_at(0, 2),
                      .filename = rows.text_at(0, 3),
                      .bytes = rows.int_at(0, 4),
                      .created_at = rows.int_at(0, 5)};
  });
}

Result<std::optional<std::string>> PostgresStore::get_file_chunk(const std::string& file_id,
                                                                 std::int64_t n) {
  return read([&](pg::Connection& conn) -> Result<std::optional<std::string>> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(kGetChunk, Params().add(file_id).add(n),
                                         pg::ResultFormat::kBinary));
    if (rows.size() == 0) return std::optional<std::string>();
    return std::optional<std::string>(rows.text_at(0, 0));
  });
}

// ---- batches --------------------------------------------------------------------------------

Status PostgresStore::create_batch(const Batch& batch) {
  RETURN_IF_ERROR(batch_rules::CheckCreatable(batch));
  const Params params = BatchParams(batch);
  return write([&](Txn& txn) -> Result<bool> {
           RETURN_IF_ERROR(txn.conn().run(kInsertBatch.data(), params).status());
           return true;
         })
      .status();
}

Result<Batch> PostgresStore::get_batch(const std::string& tenant, const std::string& id) {
  return read([&](pg::Connection& conn) -> Result<Batch> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(kGetBatch.data(), Params().add(id).add(tenant)));
    if (rows.size() == 0) return BatchNotFound(id);
    Batch batch = ReadBatch(rows, 0);
    RETURN_IF_ERROR(FillLiveCounts(conn, batch));
    return batch;
  });
}

Result<BatchPage> PostgresStore::list_batches(const std::string& tenant, int limit,
                                              const std::string& after) {
  limit = std::clamp(limit, 1, kMaxBatchPage);
  return read([&](pg::Connection& conn) -> Result<BatchPage> {
    Params params;
    params.add(tenant).add(limit + 1);  // one more tells whether another page follows
    if (!after.empty()) params.add(after);
    ASSIGN_OR_RETURN(Rows rows, conn.run(after.empty() ? kListBatches.data()
                                                       : kListBatchesAfter.data(),
                                         params));
    BatchPage page;
    for (int i = 0; i < rows.size(); ++i) {
      if (i == limit) {
        page.has_more = true;
        break;
      }
      page.batches.push_back(ReadBatch(rows, i));
    }
    for (Batch& batch : page.batches) RETURN_IF_ERROR(FillLiveCounts(conn, batch));
    return page;
  });
}

Result<Batch> PostgresStore::transition_batch(const BatchTransition& t) {
  return write([&](Txn& txn) -> Result<Batch> {
    ASSIGN_OR_RETURN(std::optional<Batch> found, LockBatch(txn.conn(), t.id));
    if (!found) return BatchNotFound(t.id);
    Batch batch = std::move(*found);
    RETURN_IF_ERROR(batch_rules::ApplyTransition(t, batch));
    RETURN_IF_ERROR(txn.conn().run(kUpdateBatch, BatchParams(batch)).status());
    if (!t.event_type.empty()) txn.event(batch.id, batch.tenant, t.now, t.event_type, t.event_data);
    RETURN_IF_ERROR(FillLiveCounts(txn.conn(), batch));
    return batch;
  });
}

Result<std::optional<Batch>> PostgresStore::lease_batch_work(const std::string& owner, Millis now,
                                                             Millis lease_until) {
  if (owner.empty()) return InvalidArgument("a lease needs an owner", "owner");
  return write([&](Txn& txn) -> Result<std::optional<Batch>> {
    ASSIGN_OR_RETURN(Rows rows, txn.conn().run(kLeaseCandidate.data(),
                                               Params().add(owner).add(static_cast<std::int64_t>(now))));
    if (rows.size() == 0) return std::optional<Batch>();
    Batch batch = ReadBatch(rows, 0);
    CHECK(batch_rules::NeedsExclusiveWork(batch) && batch_rules::LeaseFree(batch, now));
    batch.runner = owner;
    batch.runner_until = lease_until;
    RETURN_IF_ERROR(txn.conn().run(kUpdateBatch, BatchParams(batch)).status());
    return std::optional<Batch>(std::move(batch));
  });
}

Result<BatchChunkOutcome> PostgresStore::ingest_batch_chunk(const BatchChunk& chunk) {
  for (const Job& job : chunk.jobs) RETURN_IF_ERROR(store_rules::CheckSubmittable(job));
  std::vector<Job> fresh;
  fresh.reserve(chunk.jobs.size());
  for (const Job& job : chunk.jobs) fresh.push_back(store_rules::AsSubmitted(job));
  Params insert = pg::SubmitParams(fresh);
  insert.add(chunk.batch_id);
  pg::TextArray lines, custom_ids, status_codes, codes, messages, fields;
  for (const BatchLineError& e : chunk.line_errors) {
    lines.add(e.line);
    custom_ids.add(e.custom_id);
    status_codes.add(e.status_code);
    codes.add(e.code);
    messages.add(e.message);
    fields.add(e.field);
  }

  return write([&](Txn& txn) -> Result<BatchChunkOutcome> {
    ASSIGN_OR_RETURN(std::optional<Batch> found, LockBatch(txn.conn(), chunk.batch_id));
    if (!found) return BatchNotFound(chunk.batch_id);
    Batch batch = std::move(*found);
    RETURN_IF_ERROR(batch_rules::CheckIngestable(chunk, batch));
    BatchChunkOutcome outcome{.status = batch.status};
    if (!fresh.empty()) {
      ASSIGN_OR_RETURN(Rows inserted, txn.conn().run(kInsertBatchJobs, insert));
      std::unordered_map<std::string, const Job*> by_id;
      for (const Job& job : fresh) by_id.emplace(job.id, &job);
      for (int i = 0; i < inserted.size(); ++i) {
        auto it = by_id.find(inserted.text_at(i, 0));
        if (it == by_id.end()) continue;
        const Job& job = *it->second;
        ++outcome.created;
        std::string data = EventData()
                               .add("queue", job.spec.queue)
                               .add("priority", job.spec.priority)
                               .add("batch_id", chunk.batch_id)
                               .str();
        txn.event(job.id, job.spec.tenant, job.created_at, "submitted", data);
        txn.moved(job.spec.queue, std::nullopt, JobStatus::kQueued);
        txn.notify(job.spec.queue);
      }
    }
    if (!chunk.line_errors.empty()) {
      Params params;
      params.add(chunk.batch_id)
          .add_literal(lines.str())
          .add_literal(custom_ids.str())
          .add_literal(status_codes.str())
          .add_literal(codes.str())
          .add_literal(messages.str())
          .add_literal(fields.str());
      RETURN_IF_ERROR(txn.conn().run(kInsertLineErrors, params).status());
    }
    batch.ingest_line = chunk.next_line;
    batch.ingest_offset = chunk.next_offset;
    batch.ingested = chunk.last;
    batch.runner_until = chunk.lease_until;
    if (chunk.last) {
      batch.runner.clear();  // nothing exclusive is left until finalizing
      batch.runner_until = 0;
    }
    RETURN_IF_ERROR(txn.conn().run(kUpdateBatch, BatchParams(batch)).status());
    return outcome;
  });
}

Result<std::vector<Batch>> PostgresStore::open_batches(int limit) {
  return read([&](pg::Connection& conn) -> Result<std::vector<Batch>> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(kOpenBatches.data(), Params().add(std::max(limit, 1))));
    std::vector<Batch> batches;
    for (int i = 0; i < rows.size(); ++i) batches.push_back(ReadBatch(rows, i));
    return batches;
  });
}

Result<BatchProgress> PostgresStore::batch_progress(const std::string& batch_id) {
  return read([&](pg::Connection& conn) -> Result<BatchProgress> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(kBatchProgress, Params().add(batch_id)));
    return ReadProgress(rows);
  });
}

Result<int> PostgresStore::cancel_batch_jobs(const std::string& batch_id, Millis now, int limit) {
  return write([&](Txn& txn) -> Result<int> {
    ASSIGN_OR_RETURN(Rows rows, txn.conn().run(kCancelBatchJobs, Params()
                                                                     .add(batch_id)
                                                                     .add(static_cast<std::int64_t>(now))
                                                                     .add(std::max(limit, 1))));
    const std::string data = EventData().add("from", "queued").add("batch_id", batch_id).str();
    for (int i = 0; i < rows.size(); ++i) {
      txn.event(rows.view_at(i, 0), rows.view_at(i, 1), now, "canceled", data);
      txn.moved(rows.text_at(i, 2), JobStatus::kQueued, JobStatus::kCanceled);
    }
    return rows.size();
  });
}

Result<std::vector<BatchJobRow>> PostgresStore::batch_jobs(const std::string& batch_id,
                                                           const std::string& after_id,
                                                           int limit) {
  return read([&](pg::Connection& conn) -> Result<std::vector<BatchJobRow>> {
    ASSIGN_OR_RETURN(Rows rows,
                     conn.run(kBatchJobs.data(),
                              Params().add(batch_id).add(after_id).add(std::max(limit, 1))));
    std::vector<BatchJobRow> out;
    out.reserve(static_cast<std::size_t>(rows.size()));
    for (int i = 0; i < rows.size(); ++i) {
      BatchJobRow row{.job = pg::ReadJob(rows, i)};
      if (!rows.is_null(i, pg::kJobColumnCount)) {
        row.result_json = rows.text_at(i, pg::kJobColumnCount);
      }
      out.push_back(std::move(row));
    }
    return out;
  });
}

Result<std::vector<BatchLineError>> PostgresStore::batch_line_errors(const std::string& batch_id,
                                                                     std::int64_t after_line,
                                                                     int limit) {
  return read([&](pg::Connection& conn) -> Result<std::vector<BatchLineError>> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(kBatchLineErrors, Params()
                                                               .add(batch_id)
                                                               .add(after_line)
                                                               .add(std::max(limit, 1))));
    std::vector<BatchLineError> errors;
    for (int i = 0; i < rows.size(); ++i) {
      errors.push_back(BatchLineError{.line = rows.int_at(i, 0),
                                      .custom_id = rows.text_at(i, 1),
                                      .status_code = static_cast<int>(rows.int_at(i, 2)),
                                      .code = rows.text_at(i, 3),
                                      .message = rows.text_at(i, 4),
                                      .field = rows.text_at(i, 5)});
    }
    return errors;
  });
}

}  // namespace sluice
