// SqlStore: files and batches (store.h, "Files and batches"), with the rules of
// store/batch_rules.h. Several nodes run batches at once on PostgreSQL: every guarded change
// reads its batch row under a lock (lock_batch), so two nodes never both move a batch out of
// one status (exactly one node finalizes a batch), and the node that leases a batch's exclusive
// work skips rows another node holds locked.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "store/batch_rules.h"
#include "store/event_data.h"
#include "store/job_rules.h"
#include "store/sql/sql_store.h"
#include "store/sql/statements.h"

namespace sluice::sql {

namespace {

constexpr int kMaxBatchPage = 100;

Status BatchNotFound(const std::string& id) {
  return NotFound("batch " + id + " not found");
}

Result<BatchProgress> ReadProgress(Session& session, const std::string& batch_id) {
  ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                   session.query(Sql().batch_progress, Params().add(batch_id)));
  BatchProgress progress;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, rows->next());
    if (!row) return progress;
    const std::int64_t status = rows->int_at(0);
    if (status == -1) {
      progress.line_errors = rows->int_at(1);
    } else if (status >= 0 &&
               status < static_cast<std::int64_t>(progress.jobs_by_status.size())) {
      progress.jobs_by_status[static_cast<std::size_t>(status)] = rows->int_at(1);
    }
  }
}

// Before a batch is final its counts are live, counted from its jobs.
Status FillLiveCounts(Session& session, Batch& batch) {
  if (IsFinal(batch.status)) return Status::Ok();
  ASSIGN_OR_RETURN(BatchProgress progress, ReadProgress(session, batch.id));
  batch.counts = LiveCounts(batch.counts.total, progress);
  return Status::Ok();
}

Params BatchParams(const Batch& batch) {
  Params params;
  BatchColumns().Write(batch, params);
  return params;
}

Result<Batch> LockBatch(Txn& txn, const std::string& id) {
  ASSIGN_OR_RETURN(std::optional<Batch> batch,
                   QueryFirst(txn.session(), BatchColumns(), Sql().lock_batch, Params().add(id)));
  if (!batch) return BatchNotFound(id);
  return std::move(*batch);
}

Status UpdateBatch(Txn& txn, const Batch& batch) {
  return txn.session().exec(Sql().update_batch, BatchParams(batch)).status();
}

}  // namespace

// ---- files ----------------------------------------------------------------------------------

Status SqlStore::create_file(const StoredFile& file) {
  if (file.id.empty() || file.tenant.empty()) {
    return InvalidArgument("a file needs an id and a tenant", "id");
  }
  Params params;
  FileColumns().Write(file, params);
  return exec(Sql().create_file, params).status();
}

Status SqlStore::put_file_chunk(const std::string& file_id, std::int64_t n,
                                std::string_view bytes) {
  return exec(Sql().put_file_chunk, Params().add(file_id).add(n).add_bytes(bytes)).status();
}

Status SqlStore::complete_file(const std::string& file_id, std::int64_t bytes) {
  ASSIGN_OR_RETURN(std::int64_t changed, exec(Sql().complete_file, Params().add(file_id).add(bytes)));
  if (changed == 0) return NotFound("file " + file_id + " not found");
  return Status::Ok();
}

Status SqlStore::delete_file(const std::string& file_id) {
  return write<bool>([&](Txn& txn) -> Result<bool> {
           for (const Statement* stmt : {&Sql().delete_chunks, &Sql().delete_file}) {
             RETURN_IF_ERROR(txn.session().exec(*stmt, Params().add(file_id)).status());
           }
           return true;
         })
      .status();
}

Result<StoredFile> SqlStore::get_file(const std::string& tenant, const std::string& id) {
  return read<StoredFile>([&](Session& session) -> Result<StoredFile> {
    ASSIGN_OR_RETURN(std::optional<StoredFile> file,
                     QueryFirst(session, FileColumns(), Sql().get_file,
                                Params().add(id).add(tenant)));
    if (!file) return NotFound("file " + id + " not found");
    return std::move(*file);
  });
}

Result<std::optional<std::string>> SqlStore::get_file_chunk(const std::string& file_id,
                                                            std::int64_t n) {
  using Chunk = std::optional<std::string>;
  return read<Chunk>([&](Session& session) -> Result<Chunk> {
    ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                     session.query(Sql().get_file_chunk, Params().add(file_id).add(n)));
    ASSIGN_OR_RETURN(bool found, rows->next());
    if (!found) return Chunk();
    return Chunk(rows->text_at(0));
  });
}

// ---- batches --------------------------------------------------------------------------------

Status SqlStore::create_batch(const Batch& batch) {
  RETURN_IF_ERROR(batch_rules::CheckCreatable(batch));
  return exec(Sql().insert_batch, BatchParams(batch)).status();
}

Result<Batch> SqlStore::get_batch(const std::string& tenant, const std::string& id) {
  return read<Batch>([&](Session& session) -> Result<Batch> {
    ASSIGN_OR_RETURN(std::optional<Batch> batch,
                     QueryFirst(session, BatchColumns(), Sql().get_batch,
                                Params().add(id).add(tenant)));
    if (!batch) return BatchNotFound(id);
    RETURN_IF_ERROR(FillLiveCounts(session, *batch));
    return std::move(*batch);
  });
}

Result<BatchPage> SqlStore::list_batches(const std::string& tenant, int limit,
                                         const std::string& after) {
  limit = std::clamp(limit, 1, kMaxBatchPage);
  return read<BatchPage>([&](Session& session) -> Result<BatchPage> {
    Params params;
    params.add(tenant).add(limit + 1);  // one more tells whether another page follows
    if (!after.empty()) params.add(after);
    ASSIGN_OR_RETURN(std::vector<Batch> batches,
                     QueryAll(session, BatchColumns(),
                              after.empty() ? Sql().list_batches : Sql().list_batches_after,
                              std::move(params)));
    BatchPage page;
    if (static_cast<int>(batches.size()) > limit) {
      batches.resize(static_cast<std::size_t>(limit));
      page.has_more = true;
    }
    for (Batch& batch : batches) RETURN_IF_ERROR(FillLiveCounts(session, batch));
    page.batches = std::move(batches);
    return page;
  });
}

Result<Batch> SqlStore::transition_batch(const BatchTransition& t) {
  return write<Batch>([&](Txn& txn) -> Result<Batch> {
    ASSIGN_OR_RETURN(Batch batch, LockBatch(txn, t.id));
    RETURN_IF_ERROR(batch_rules::ApplyTransition(t, batch));
    RETURN_IF_ERROR(UpdateBatch(txn, batch));
    if (!t.event_type.empty()) txn.event(batch.id, batch.tenant, t.now, t.event_type, t.event_data);
    RETURN_IF_ERROR(FillLiveCounts(txn.session(), batch));
    return batch;
  });
}

Result<std::optional<Batch>> SqlStore::lease_batch_work(const std::string& owner, Millis now,
                                                        Millis lease_until) {
  if (owner.empty()) return InvalidArgument("a lease needs an owner", "owner");
  using Leased = std::optional<Batch>;
  return write<Leased>([&](Txn& txn) -> Result<Leased> {
    ASSIGN_OR_RETURN(Leased batch, QueryFirst(txn.session(), BatchColumns(), Sql().lease_batch,
                                              Params().add(owner).add(now)));
    if (!batch) return Leased();
    CHECK(batch_rules::NeedsExclusiveWork(*batch) && batch_rules::LeaseFree(*batch, now));
    batch->runner = owner;
    batch->runner_until = lease_until;
    RETURN_IF_ERROR(UpdateBatch(txn, *batch));
    return batch;
  });
}

Result<BatchChunkOutcome> SqlStore::ingest_batch_chunk(const BatchChunk& chunk) {
  for (const Job& job : chunk.jobs) RETURN_IF_ERROR(store_rules::CheckSubmittable(job));
  std::vector<Job> fresh;
  fresh.reserve(chunk.jobs.size());
  for (const Job& job : chunk.jobs) fresh.push_back(store_rules::AsSubmitted(job));

  return write<BatchChunkOutcome>([&](Txn& txn) -> Result<BatchChunkOutcome> {
    ASSIGN_OR_RETURN(Batch batch, LockBatch(txn, chunk.batch_id));
    RETURN_IF_ERROR(batch_rules::CheckIngestable(chunk, batch));
    BatchChunkOutcome outcome{.status = batch.status};
    // A job whose dedup key is taken was submitted before (a resumed chunk): skipped.
    ASSIGN_OR_RETURN(std::vector<std::optional<Job>> holders,
                     dialect_->insert_jobs(txn, fresh, chunk.batch_id, /*want_holders=*/false));
    for (std::size_t i = 0; i < fresh.size(); ++i) {
      if (holders[i]) continue;
      const Job& job = fresh[i];
      ++outcome.created;
      txn.event(job.id, job.spec.tenant, job.created_at, "submitted",
                EventData()
                    .add("queue", job.spec.queue)
                    .add("priority", job.spec.priority)
                    .add("batch_id", chunk.batch_id)
                    .str());
      txn.moved(job.spec.queue, std::nullopt, JobStatus::kQueued);
      txn.notify(job.spec.queue);
    }
    for (const BatchLineError& e : chunk.line_errors) {
      Params params;
      params.add(chunk.batch_id);
      LineErrorColumns().Write(e, params);
      RETURN_IF_ERROR(txn.session().exec(Sql().insert_line_error, std::move(params)).status());
    }
    batch.ingest_line = chunk.next_line;
    batch.ingest_offset = chunk.next_offset;
    batch.ingested = chunk.last;
    batch.runner_until = chunk.lease_until;
    if (chunk.last) {
      batch.runner.clear();  // nothing exclusive is left until finalizing
      batch.runner_until = 0;
    }
    RETURN_IF_ERROR(UpdateBatch(txn, batch));
    return outcome;
  });
}

Result<std::vector<Batch>> SqlStore::open_batches(int limit) {
  using Batches = std::vector<Batch>;
  return read<Batches>([&](Session& session) -> Result<Batches> {
    return QueryAll(session, BatchColumns(), Sql().open_batches, Params().add(std::max(limit, 1)));
  });
}

Result<BatchProgress> SqlStore::batch_progress(const std::string& batch_id) {
  return read<BatchProgress>(
      [&](Session& session) -> Result<BatchProgress> { return ReadProgress(session, batch_id); });
}

Result<int> SqlStore::cancel_batch_jobs(const std::string& batch_id, Millis now, int limit) {
  return write<int>([&](Txn& txn) -> Result<int> {
    struct Canceled {
      std::string id, tenant, queue;
    };
    ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                     txn.session().query(Sql().cancel_batch_jobs,
                                         Params().add(batch_id).add(now).add(std::max(limit, 1))));
    ASSIGN_OR_RETURN(std::vector<Canceled> canceled,
                     Collect<Canceled>(*rows, [](const Row& row) {
                       return Canceled{row.text_at(0), row.text_at(1), row.text_at(2)};
                     }));
    const std::string data = EventData().add("from", "queued").add("batch_id", batch_id).str();
    for (const Canceled& job : canceled) {
      txn.event(job.id, job.tenant, now, "canceled", data);
      txn.moved(job.queue, JobStatus::kQueued, JobStatus::kCanceled);
    }
    return static_cast<int>(canceled.size());
  });
}

Result<std::vector<BatchJobRow>> SqlStore::batch_jobs(const std::string& batch_id,
                                                      const std::string& after_id, int limit) {
  using JobRows = std::vector<BatchJobRow>;
  return read<JobRows>([&](Session& session) -> Result<JobRows> {
    ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                     session.query(Sql().batch_jobs,
                                   Params().add(batch_id).add(after_id).add(std::max(limit, 1))));
    const int result = JobColumns().size();
    return Collect<BatchJobRow>(*rows, [&](const Row& row) -> Result<BatchJobRow> {
      ASSIGN_OR_RETURN(Job job, JobColumns().Read(row));
      BatchJobRow out{.job = std::move(job)};
      if (!row.is_null(result)) out.result_json = row.text_at(result);
      return out;
    });
  });
}

Result<std::vector<BatchLineError>> SqlStore::batch_line_errors(const std::string& batch_id,
                                                                std::int64_t after_line,
                                                                int limit) {
  using Errors = std::vector<BatchLineError>;
  return read<Errors>([&](Session& session) -> Result<Errors> {
    return QueryAll(session, LineErrorColumns(), Sql().batch_line_errors,
                    Params().add(batch_id).add(after_line).add(std::max(limit, 1)));
  });
}

}  // namespace sluice::sql
