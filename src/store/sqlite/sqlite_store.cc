// SqliteStore: opening, the reader pool, and the read side of the contract. The job lifecycle
// writes (submit, claim, finish, leases, expiry, cancel) live in sqlite_job_lifecycle.cc.
#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>
#include <utility>

#include "store/sqlite/job_row.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/queries.h"
#include "store/sqlite/store_reader.h"

namespace sluice {

using sqlite::Connection;
using sqlite::ConnectionOptions;
using sqlite::Statement;

namespace {

// Readers beyond this many idle ones are closed when returned: enough for the API's and the
// scheduler's concurrent reads, without keeping a connection per past burst.
constexpr std::size_t kMaxIdleReaders = 8;
constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

Status JobNotFound(const std::string& id) {
  return NotFound("job " + id + " not found");
}

}  // namespace

Result<std::unique_ptr<Store>> SqliteStore::Open(const StoreOptions& options) {
  if (options.data_dir.empty()) {
    return InvalidArgument("the embedded store needs a data dir", "data_dir");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return Unavailable("cannot create data dir " + options.data_dir + ": " + ec.message());
  }
  ASSIGN_OR_RETURN(sqlite::DataDirLock lock, sqlite::DataDirLock::Acquire(options.data_dir));
  std::string path = options.data_dir + "/sluice.db";
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer,
                   Connection::Open(path, ConnectionOptions{.durable = options.durable}));
  RETURN_IF_ERROR(sqlite::ApplyMigrations(*writer));
  return std::unique_ptr<Store>(
      new SqliteStore(std::move(path), std::move(lock), std::move(writer)));
}

SqliteStore::SqliteStore(std::string db_path, sqlite::DataDirLock lock,
                         std::unique_ptr<Connection> writer)
    : db_path_(std::move(db_path)), lock_(std::move(lock)), writer_(std::move(writer)) {
  writer_->set_commit_observer(
      [this](int events, int webhooks) { committed({.events = events, .webhooks = webhooks}); });
}

SqliteStore::~SqliteStore() {
  // Readers close before the writer: the last connection to close checkpoints the WAL into
  // the database file and removes it.
  idle_readers_.clear();
  writer_.reset();
}

Result<SqliteStore::Reader> SqliteStore::reader() {
  {
    std::lock_guard lock(readers_mu_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return Reader(this, std::move(conn));
    }
  }
  // Durability is the writer's business: a reader never commits anything.
  ASSIGN_OR_RETURN(
      std::unique_ptr<Connection> conn,
      Connection::Open(db_path_, ConnectionOptions{.durable = false, .read_only = true}));
  return Reader(this, std::move(conn));
}

void SqliteStore::give_back(std::unique_ptr<Connection> conn) {
  std::lock_guard lock(readers_mu_);
  if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(conn));
}

Result<Job> SqliteStore::get_job(const std::string& tenant, const std::string& id) {
  ASSIGN_OR_RETURN(Reader r, reader());
  ASSIGN_OR_RETURN(Statement q, r.conn().prepare(sqlite::kGetJob.data()));
  q.bind_text(1, id);
  q.bind_text(2, tenant);
  ASSIGN_OR_RETURN(bool row, q.step());
  if (!row) return JobNotFound(id);
  return sqlite::ReadJob(q);
}

Result<std::string> SqliteStore::get_result(const std::string& tenant, const std::string& id) {
  ASSIGN_OR_RETURN(Reader r, reader());
  ASSIGN_OR_RETURN(Statement q, r.conn().prepare(sqlite::kGetResult));
  q.bind_text(1, id);
  q.bind_text(2, tenant);
  ASSIGN_OR_RETURN(bool row, q.step());
  if (!row) return NotFound("job " + id + " has no result");
  return q.text_at(0);
}

Result<std::vector<std::string>> SqliteStore::get_attempts(const std::string& tenant,
                                                           const std::string& id) {
  ASSIGN_OR_RETURN(Reader r, reader());
  {
    ASSIGN_OR_RETURN(Statement exists, r.conn().prepare(sqlite::kJobExists));
    exists.bind_text(1, id);
    exists.bind_text(2, tenant);
    ASSIGN_OR_RETURN(bool found, exists.step());
    if (!found) return JobNotFound(id);
  }
  ASSIGN_OR_RETURN(Statement q, r.conn().prepare(sqlite::kGetAttempts));
  q.bind_text(1, id);
  std::vector<std::string> attempts;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) break;
    attempts.push_back(q.text_at(0));
  }
  return attempts;
}

Result<JobPage> SqliteStore::list_jobs(const JobFilter& filter) {
  int limit = filter.limit <= 0 ? kDefaultPageSize : std::min(filter.limit, kMaxPageSize);
  unsigned filters = 0;
  if (filter.status) filters |= sqlite::kByStatus;
  if (!filter.type.empty()) filters |= sqlite::kByType;
  if (!filter.queue.empty()) filters |= sqlite::kByQueue;
  if (!filter.object_id.empty()) filters |= sqlite::kByObjectId;
  if (!filter.after.empty()) filters |= sqlite::kAfterCursor;

  ASSIGN_OR_RETURN(Reader r, reader());
  ASSIGN_OR_RETURN(Statement q, r.conn().prepare(sqlite::ListJobsSql(filters)));
  q.bind_text(1, filter.tenant);
  if (filter.status) q.bind_int(2, static_cast<int>(*filter.status));
  if (filters & sqlite::kByType) q.bind_text(3, filter.type);
  if (filters & sqlite::kByQueue) q.bind_text(4, filter.queue);
  if (filters & sqlite::kByObjectId) q.bind_text(5, filter.object_id);
  if (filters & sqlite::kAfterCursor) q.bind_text(6, filter.after);
  q.bind_int(7, limit + 1);  // one more than the page tells whether another page follows

  JobPage page;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) break;
    if (static_cast<int>(page.jobs.size()) == limit) {
      page.next = page.jobs.back().id;
      break;
    }
    page.jobs.push_back(sqlite::ReadJob(q));
  }
  return page;
}

Result<std::vector<JobEvent>> SqliteStore::job_events(const std::string& tenant,
                                                      const std::string& id) {
  ASSIGN_OR_RETURN(Reader r, reader());
  {
    ASSIGN_OR_RETURN(Statement exists, r.conn().prepare(sqlite::kJobExists));
    exists.bind_text(1, id);
    exists.bind_text(2, tenant);
    ASSIGN_OR_RETURN(bool found, exists.step());
    if (!found) return JobNotFound(id);
  }
  ASSIGN_OR_RETURN(Statement q, r.conn().prepare(sqlite::kJobEvents));
  q.bind_text(1, id);
  std::vector<JobEvent> events;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) break;
    events.push_back(JobEvent{.seq = q.int_at(0),
                              .job_id = q.text_at(1),
                              .at = q.int_at(2),
                              .type = q.text_at(3),
                              .data_json = q.text_at(4)});
  }
  return events;
}

Status SqliteStore::append_event(const std::string& job_id, Millis at, const std::string& type,
                                 const std::string& data_json) {
  if (type.empty()) return InvalidArgument("an event needs a type", "type");
  static const std::string kEmptyObject = "{}";
  std::lock_guard lock(write_mu_);
  // One statement in autocommit mode is its own (durable) transaction.
  ASSIGN_OR_RETURN(Statement q, writer_->prepare(sqlite::kAppendEvent));
  q.bind_text(1, job_id);
  q.bind_int(2, at);
  q.bind_text(3, type);
  q.bind_text(4, data_json.empty() ? kEmptyObject : data_json);
  RETURN_IF_ERROR(q.run());
  if (writer_->changes() == 0) return JobNotFound(job_id);
  committed({.events = 1});
  return Status::Ok();
}

Result<std::vector<QueueStats>> SqliteStore::queue_stats() {
  ASSIGN_OR_RETURN(Reader r, reader());
  std::vector<QueueStats> stats;
  {
    ASSIGN_OR_RETURN(Statement q, r.conn().prepare(sqlite::kQueueCounts));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.step());
      if (!row) break;
      std::string queue = q.text_at(0);
      std::int64_t status = q.int_at(1);
      if (stats.empty() || stats.back().queue != queue) stats.push_back(QueueStats{.queue = queue});
      if (status >= 0 && status < static_cast<std::int64_t>(stats.back().by_status.size())) {
        stats.back().by_status[static_cast<std::size_t>(status)] = q.int_at(2);
      }
    }
  }
  ASSIGN_OR_RETURN(Statement oldest, r.conn().prepare(sqlite::kOldestQueued));
  for (QueueStats& s : stats) {
    if (s.by_status[static_cast<int>(JobStatus::kQueued)] == 0) continue;
    oldest.bind_text(1, s.queue);
    ASSIGN_OR_RETURN(bool row, oldest.step());
    if (row) s.oldest_queued_created_at = oldest.optional_int_at(0);
    oldest.reset();
  }
  return stats;
}

Status SqliteStore::ping() {
  ASSIGN_OR_RETURN(Reader r, reader());
  ASSIGN_OR_RETURN(Statement q, r.conn().prepare(sqlite::kPing));
  ASSIGN_OR_RETURN(bool row, q.step());
  if (!row) return Internal("store: SELECT 1 returned no row");
  return Status::Ok();
}

// One writer commits at a time and seq grows with each insert, so events commit in seq order:
// whatever a reader sees, it sees every smaller seq too.
Result<std::vector<JobEvent>> SqliteStore::events_after(const std::string& tenant,
                                                        std::int64_t after_seq, int limit) {
  std::vector<JobEvent> events;
  if (limit <= 0) return events;
  ASSIGN_OR_RETURN(Reader r, reader());
  ASSIGN_OR_RETURN(Statement q, r.conn().prepare(sqlite::kEventsAfter));
  q.bind_text(1, tenant);
  q.bind_int(2, after_seq);
  q.bind_int(3, limit);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.step());
    if (!row) break;
    events.push_back(JobEvent{.seq = q.int_at(0),
                              .job_id = q.text_at(1),
                              .at = q.int_at(2),
                              .type = q.text_at(3),
                              .data_json = q.text_at(4)});
  }
  return events;
}

Result<std::int64_t> SqliteStore::events_head() {
  ASSIGN_OR_RETURN(Reader r, reader());
  ASSIGN_OR_RETURN(Statement q, r.conn().prepare(sqlite::kLastEvent));
  ASSIGN_OR_RETURN(bool row, q.step());
  return row ? q.int_at(0) : 0;
}

}  // namespace sluice
