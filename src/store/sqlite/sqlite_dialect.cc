#include "store/sqlite/sqlite_dialect.h"

#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include "store/audit_chain.h"
#include "store/job_rules.h"
#include "store/sql/audit_head.h"
#include "store/sql/columns.h"
#include "store/sql/statements.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_session.h"
#include "store/sqlite/sqlite_statements.h"
#include "store/sqlite/writer_txn.h"

namespace sluice::sqlite {

namespace {

// Readers beyond this many idle ones are closed when returned: enough for the API's and the
// scheduler's concurrent reads, without keeping a connection per past burst.
constexpr std::size_t kMaxIdleReaders = 8;

const char* Text(const sql::Statement& stmt) {
  return stmt.text(sql::Syntax::kSqlite);
}

void BindError(Statement& q, int first, const std::optional<JobError>& error) {
  if (error) {
    q.bind_text(first, error->code);
    q.bind_text(first + 1, error->message);
  } else {
    q.bind_null(first);
    q.bind_null(first + 1);
  }
}

}  // namespace

Result<std::unique_ptr<sql::Dialect>> SqliteDialect::Open(const StoreOptions& options) {
  if (options.data_dir.empty()) {
    return InvalidArgument("the embedded store needs a data dir", "data_dir");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return Unavailable("cannot create data dir " + options.data_dir + ": " + ec.message());
  }
  ASSIGN_OR_RETURN(DataDirLock lock, DataDirLock::Acquire(options.data_dir));
  std::string path = options.data_dir + "/sluice.db";
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer,
                   Connection::Open(path, ConnectionOptions{.durable = options.durable}));
  RETURN_IF_ERROR(ApplyMigrations(*writer));
  return std::unique_ptr<sql::Dialect>(
      new SqliteDialect(std::move(path), std::move(lock), std::move(writer), options.dedup_window));
}

SqliteDialect::~SqliteDialect() {
  // Readers close before the writer: the last connection to close checkpoints the WAL into
  // the database file and removes it.
  idle_readers_.clear();
  writer_.reset();
}

Result<CommitNews> SqliteDialect::write(sql::CommitSync sync,
                                        const std::function<Status(sql::Txn&)>& body) {
  MutexLock lock(write_mu_);
  WriterTxn scope(*writer_, sync);
  RETURN_IF_ERROR(scope.begin());
  ConnectionSession session(*writer_);
  sql::Txn txn(session);
  RETURN_IF_ERROR(body(txn));
  RETURN_IF_ERROR(flush(txn));
  RETURN_IF_ERROR(scope.commit());
  return txn.news();
}

Status SqliteDialect::flush(sql::Txn& txn) {
  const sql::Statements& s = sql::Sql();
  int webhooks = 0;
  for (const sql::Txn::Event& e : txn.pending_events()) {
    RETURN_IF_ERROR(
        txn.session()
            .exec(s.insert_event,
                  sql::Params().add(e.job_id).add(e.tenant).add(e.at).add(e.type).add(e.data))
            .status());
    if (!e.webhook) continue;
    const bool batch =
        store_rules::WebhookSubjectOf(e.webhook) == store_rules::WebhookSubject::kBatch;
    ASSIGN_OR_RETURN(std::int64_t queued,
                     txn.session().exec(batch ? s.queue_batch_webhook : s.queue_job_webhook,
                                        sql::Params()
                                            .add(e.webhook_id)
                                            .add(e.webhook)
                                            .add(e.at)
                                            .add(e.job_id)));
    webhooks += static_cast<int>(queued);
  }
  if (!txn.pending_counts().empty()) {
    ASSIGN_OR_RETURN(Statement q, writer_->prepare(Text(EngineSql().add_to_queue_count)));
    for (const auto& [key, delta] : txn.pending_counts()) {
      if (delta == 0) continue;
      q.bind_text(1, key.first);
      q.bind_int(2, key.second);
      q.bind_int(3, delta);
      RETURN_IF_ERROR(q.run());
      q.reset();
    }
  }
  RETURN_IF_ERROR(seal_audit_entries(txn));
  // Nobody else shares this database: notifications have no listener.
  txn.flushed(webhooks);
  return Status::Ok();
}

// One writer holds the head of the chain, so each entry is sealed in the transaction that made
// it, in commit order: no pending row to write, read back and delete (store/audit_records.h
// says why the shared engine cannot do this).
Status SqliteDialect::seal_audit_entries(sql::Txn& txn) {
  if (txn.pending_audit().empty()) return Status::Ok();
  const sql::Statements& s = sql::Sql();
  ASSIGN_OR_RETURN(AuditAnchor head, sql::AuditChainHead(txn.session()));
  for (const AuditEntry& e : txn.pending_audit()) {
    ASSIGN_OR_RETURN(AuditRecord r, SealAuditEntry(e, head.seq + 1, head.hash));
    RETURN_IF_ERROR(txn.session()
                        .exec(s.insert_audit_records, sql::Params()
                                                          .add(r.seq)
                                                          .add(r.at)
                                                          .add(r.tenant)
                                                          .add(r.action)
                                                          .add(r.job_id)
                                                          .add(r.record_json)
                                                          .add(r.hash))
                        .status());
    head = AuditAnchor{.seq = r.seq, .hash = std::move(r.hash)};
  }
  return Status::Ok();
}

Status SqliteDialect::read(const std::function<Status(sql::Session&)>& body) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, take_reader());
  ConnectionSession session(*conn);
  Status status = body(session);
  give_back(std::move(conn));
  return status;
}

Result<std::unique_ptr<Connection>> SqliteDialect::take_reader() {
  {
    MutexLock lock(readers_mu_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return conn;
    }
  }
  // Durability is the writer's business: a reader never commits anything.
  return Connection::Open(db_path_, ConnectionOptions{.durable = false, .read_only = true});
}

void SqliteDialect::give_back(std::unique_ptr<Connection> conn) {
  MutexLock lock(readers_mu_);
  if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(conn));
}

// Called by the core inside write(): the writer is this thread's under write_mu_.
Result<std::vector<std::optional<Job>>> SqliteDialect::insert_jobs(sql::Txn& txn,
                                                                   std::span<const Job> jobs,
                                                                   const std::string& batch_id,
                                                                   bool want_holders) {
  (void)txn;
  write_mu_.assert_held();  // called by the core inside write()
  std::vector<std::optional<Job>> holders;
  holders.reserve(jobs.size());
  ASSIGN_OR_RETURN(Statement insert, writer_->prepare(Text(EngineSql().insert_job)));
  Connection& writer = *writer_;  // this thread's under write_mu_, for the lambda below
  auto inserted = [&](const Job& job) -> Result<bool> {
    StatementBinder binder(insert);
    sql::JobColumns().Write(job, binder);
    binder.integer(job.spec.run_at);  // due_at
    binder.text(batch_id);
    RETURN_IF_ERROR(insert.run());
    insert.reset();
    return writer.changes() != 0;
  };
  for (const Job& job : jobs) {
    ASSIGN_OR_RETURN(bool created, inserted(job));
    if (!created && dedup_window_ > 0) {
      // The key's holder ended longer ago than the window: it lets go of the key.
      ASSIGN_OR_RETURN(Statement stale, writer_->prepare(Text(EngineSql().free_stale_dedup_key)));
      stale.bind_text(1, job.spec.tenant);
      stale.bind_text(2, job.spec.dedup_key);
      stale.bind_int(3, job.created_at - dedup_window_);
      RETURN_IF_ERROR(stale.run());
      if (writer_->changes() != 0) {
        ASSIGN_OR_RETURN(created, inserted(job));
      }
    }
    if (created) {
      RETURN_IF_ERROR(insert_blob_refs(job));
      holders.emplace_back();
      continue;
    }
    if (!want_holders) {
      holders.emplace_back(Job{});
      continue;
    }
    ASSIGN_OR_RETURN(Statement find, writer_->prepare(Text(EngineSql().find_by_dedup_key)));
    find.bind_text(1, job.spec.tenant);
    find.bind_text(2, job.spec.dedup_key);
    ASSIGN_OR_RETURN(bool found, find.step());
    CHECK(found);  // the insert just conflicted on this very key, inside this transaction
    ASSIGN_OR_RETURN(Job holder, sql::JobColumns().Read(StatementRow(find)));
    holders.emplace_back(std::move(holder));
  }
  return holders;
}

Status SqliteDialect::insert_blob_refs(const Job& job) {
  if (job.spec.blob_refs.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(Statement insert, writer_->prepare(Text(sql::Sql().insert_job_blob)));
  for (const std::string& blob_id : job.spec.blob_refs) {
    insert.bind_text(1, job.id);
    insert.bind_text(2, job.spec.tenant);
    insert.bind_text(3, blob_id);
    RETURN_IF_ERROR(insert.run());
    insert.reset();
  }
  return Status::Ok();
}

Result<std::vector<Job>> SqliteDialect::claim(sql::Txn& txn, const ClaimRequest& request) {
  (void)txn;
  write_mu_.assert_held();  // called by the core inside write()
  const auto limit = static_cast<std::size_t>(request.limit);
  // Pick first, then update: the picking statements read jobs_claim, which the updates change.
  std::vector<std::int64_t> rowids;
  {
    const bool of_tenant = !request.tenant.empty();
    const EngineStatements& own = EngineSql();
    ASSIGN_OR_RETURN(Statement next_priority,
                     writer_->prepare(Text(of_tenant ? own.next_queued_priority_of_tenant
                                                     : own.next_queued_priority)));
    ASSIGN_OR_RETURN(Statement candidates,
                     writer_->prepare(Text(of_tenant ? own.claim_candidates_of_tenant
                                                     : own.claim_candidates)));
    std::int64_t below = std::numeric_limits<std::int64_t>::max();
    while (rowids.size() < limit) {
      next_priority.bind_text(1, request.queue);
      next_priority.bind_int(2, below);
      if (of_tenant) next_priority.bind_text(3, request.tenant);
      ASSIGN_OR_RETURN(bool found, next_priority.step());
      if (!found) break;
      const std::int64_t priority = next_priority.int_at(0);
      next_priority.reset();

      candidates.bind_text(1, request.queue);
      candidates.bind_int(2, priority);
      candidates.bind_int(3, request.now);
      candidates.bind_int(4, static_cast<std::int64_t>(limit - rowids.size()));
      if (of_tenant) candidates.bind_text(5, request.tenant);
      for (;;) {
        ASSIGN_OR_RETURN(bool row, candidates.step());
        if (!row) break;
        rowids.push_back(candidates.int_at(0));
      }
      candidates.reset();
      below = priority;
    }
  }

  std::vector<Job> claimed;
  claimed.reserve(rowids.size());
  ASSIGN_OR_RETURN(Statement start, writer_->prepare(Text(EngineSql().start_attempt)));
  for (std::int64_t rowid : rowids) {
    start.bind_int(1, rowid);
    start.bind_text(2, request.owner);
    start.bind_int(3, request.lease_until);
    start.bind_int(4, request.now);
    ASSIGN_OR_RETURN(bool row, start.step());
    CHECK(row);  // picked as queued a moment ago in this same transaction
    ASSIGN_OR_RETURN(Job job, sql::JobColumns().Read(StatementRow(start)));
    claimed.push_back(std::move(job));
    RETURN_IF_ERROR(start.run());
    start.reset();
  }
  return claimed;
}

Result<std::vector<std::optional<sql::SettledJob>>> SqliteDialect::finish(
    sql::Txn& txn, std::span<const AttemptFinish* const> items) {
  (void)txn;
  write_mu_.assert_held();  // called by the core inside write()
  std::vector<std::optional<sql::SettledJob>> settled;
  settled.reserve(items.size());
  for (const AttemptFinish* item : items) {
    const JobStatus to = store_rules::StatusAfter(item->outcome);
    const std::optional<JobError> error = store_rules::ErrorAfter(*item);
    const bool retry = item->outcome == AttemptOutcome::kRetry;
    const bool blocked = item->outcome == AttemptOutcome::kBlocked;
    {
      const sql::Statement& stmt = blocked ? EngineSql().block_attempt
                                   : retry ? EngineSql().retry_attempt
                                           : EngineSql().settle_attempt;
      ASSIGN_OR_RETURN(Statement q, writer_->prepare(Text(stmt)));
      q.bind_text(1, item->job_id);
      q.bind_int(2, item->attempt);
      q.bind_text(3, item->lease_owner);
      if (blocked) {
        q.bind_int(4, item->retry_at);
        q.bind_text(5, item->error.code);
        q.bind_real(6, item->cost_usd);
      } else if (retry) {
        q.bind_int(4, item->retry_at);
        BindError(q, 5, error);
        q.bind_real(7, item->cost_usd);
      } else {
        q.bind_int(4, static_cast<int>(to));
        // Review waits for a person: the job is not finished yet.
        if (to == JobStatus::kReview) {
          q.bind_null(5);
        } else {
          q.bind_int(5, item->now);
        }
        BindError(q, 6, error);
        q.bind_real(8, item->cost_usd);
      }
      ASSIGN_OR_RETURN(bool row, q.step());
      if (!row) {
        settled.emplace_back();
        continue;
      }
      settled.push_back(sql::SettledJob{.tenant = q.text_at(0), .queue = q.text_at(1)});
      RETURN_IF_ERROR(q.run());
    }
    // A blocked attempt never started: its number is the next claim's, and so is its record.
    if (!item->attempt_json.empty() && !blocked) {
      ASSIGN_OR_RETURN(Statement q, writer_->prepare(Text(EngineSql().put_attempt)));
      q.bind_text(1, item->job_id);
      q.bind_int(2, item->attempt);
      q.bind_text(3, item->attempt_json);
      RETURN_IF_ERROR(q.run());
    }
    if (!item->result_json.empty() && (to == JobStatus::kDone || to == JobStatus::kReview)) {
      ASSIGN_OR_RETURN(Statement q, writer_->prepare(Text(sql::Sql().put_result)));
      q.bind_text(1, item->job_id);
      q.bind_text(2, item->result_json);
      RETURN_IF_ERROR(q.run());
    }
  }
  return settled;
}

// One writer commits at a time and seq grows with each insert, so events commit in seq order:
// whatever a reader sees, it sees every smaller seq too.
Result<std::int64_t> SqliteDialect::visible_event_seq() {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, take_reader());
  std::int64_t seq = 0;
  {
    ASSIGN_OR_RETURN(Statement q, conn->prepare(Text(EngineSql().last_event)));
    ASSIGN_OR_RETURN(bool row, q.step());
    if (row) seq = q.int_at(0);
  }
  give_back(std::move(conn));
  return seq;
}

}  // namespace sluice::sqlite
