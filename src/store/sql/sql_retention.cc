// Retention (store.h "Fair share and retention": purge_finished, blob_referenced).
//
// purge_finished is one transaction per call: it picks up to `limit` terminal jobs (and a few
// final batches) and deletes them with every row that hangs off them, each kind of row by one
// statement over the picked ids. The queue counters lose the deleted jobs in the same commit, so
// queue_stats keeps counting rows that exist. Event seqs are never reused after a delete (SQLite
// AUTOINCREMENT, a PostgreSQL identity): a stream cursor stays meaningful.
#include <algorithm>
#include <initializer_list>
#include <string>
#include <vector>

#include "store/event_data.h"
#include "store/sql/sql_store.h"
#include "store/sql/statements.h"

namespace sluice::sql {

namespace {

// A batch carries up to three files of up to hundreds of MiB in chunks: a call takes this many
// times fewer batches than jobs, so that its transaction stays short.
constexpr int kJobsPerBatch = 50;

// The ids as one JSON array of strings (the "ids" parameter of the delete statements).
std::string IdsJson(const std::vector<std::string>& ids) {
  std::string out = "[";
  for (const std::string& id : ids) {
    if (out.size() > 1) out += ',';
    AppendJsonString(out, id);
  }
  return out + "]";
}

Result<std::int64_t> DeleteAll(Session& session, std::initializer_list<const Statement*> stmts,
                               const std::string& ids) {
  std::int64_t last = 0;
  for (const Statement* stmt : stmts) {
    ASSIGN_OR_RETURN(last, session.exec(*stmt, Params().add(ids)));
  }
  return last;  // what the last statement deleted
}

Result<std::int64_t> PurgeJobs(Txn& txn, Millis before, int limit) {
  struct Picked {
    std::string id, queue;
    JobStatus status;
  };
  std::vector<Picked> picked;
  {
    ASSIGN_OR_RETURN(
        std::unique_ptr<Cursor> rows,
        txn.session().query(Sql().pick_finished_jobs, Params().add(before).add(limit)));
    // The statement picks only terminal statuses, all of them known to this build.
    ASSIGN_OR_RETURN(
        picked, Collect<Picked>(*rows, [](const Row& row) {
          return Picked{row.text_at(0), row.text_at(1), static_cast<JobStatus>(row.int_at(2))};
        }));
  }
  if (picked.empty()) return 0;
  std::vector<std::string> ids;
  ids.reserve(picked.size());
  for (const Picked& job : picked) ids.push_back(job.id);
  const Statements& s = Sql();
  ASSIGN_OR_RETURN(
      std::int64_t deleted,
      DeleteAll(txn.session(),
                {&s.delete_job_results, &s.delete_job_attempts, &s.delete_subject_events,
                 &s.delete_subject_webhooks, &s.delete_job_blobs, &s.delete_jobs},
                IdsJson(ids)));
  for (const Picked& job : picked) txn.removed(job.queue, job.status);
  return deleted;
}

// Returns the batches deleted; adds the files deleted to `files`.
Result<std::int64_t> PurgeBatches(Txn& txn, Millis before, int limit, std::int64_t& files) {
  std::vector<std::string> ids, file_ids;
  {
    ASSIGN_OR_RETURN(
        std::unique_ptr<Cursor> rows,
        txn.session().query(Sql().pick_final_batches, Params().add(before).add(limit)));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, rows->next());
      if (!row) break;
      ids.push_back(rows->text_at(0));
      for (int file = 1; file <= 3; ++file) {
        if (std::string id = rows->text_at(file); !id.empty()) file_ids.push_back(std::move(id));
      }
    }
  }
  if (ids.empty()) return 0;
  const Statements& s = Sql();
  // The batch rows first: a file is kept only while a batch that remains reads it.
  ASSIGN_OR_RETURN(std::int64_t deleted, DeleteAll(txn.session(),
                                                   {&s.delete_line_errors, &s.delete_subject_events,
                                                    &s.delete_subject_webhooks, &s.delete_batches},
                                                   IdsJson(ids)));
  if (!file_ids.empty()) {
    std::sort(file_ids.begin(), file_ids.end());
    file_ids.erase(std::unique(file_ids.begin(), file_ids.end()), file_ids.end());
    ASSIGN_OR_RETURN(std::int64_t deleted_files,
                     DeleteAll(txn.session(), {&s.delete_unread_chunks, &s.delete_unread_files},
                               IdsJson(file_ids)));
    files += deleted_files;
  }
  return deleted;
}

}  // namespace

Result<PurgeCounts> SqlStore::purge_finished(Millis before, int limit) {
  if (limit <= 0) return PurgeCounts{};
  return write<PurgeCounts>([&](Txn& txn) -> Result<PurgeCounts> {
    PurgeCounts counts;
    ASSIGN_OR_RETURN(counts.jobs, PurgeJobs(txn, before, limit));
    ASSIGN_OR_RETURN(counts.batches,
                     PurgeBatches(txn, before, std::max(1, limit / kJobsPerBatch), counts.files));
    return counts;
  });
}

Result<bool> SqlStore::blob_referenced(const std::string& tenant, const std::string& blob_id) {
  return read<bool>([&](Session& session) -> Result<bool> {
    ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                     session.query(Sql().blob_referenced, Params().add(tenant).add(blob_id)));
    return rows->next();
  });
}

}  // namespace sluice::sql
