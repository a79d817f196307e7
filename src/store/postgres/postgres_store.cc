// PostgresStore: opening, and the read side of the contract. The job lifecycle writes (submit,
// claim, finish, leases, expiry, cancel) live in postgres_job_lifecycle.cc.
#include "store/postgres/postgres_store.h"

#include <algorithm>

#include "store/postgres/job_row.h"
#include "store/postgres/migrations.h"
#include "store/postgres/queries.h"

namespace sluice {

using pg::Connection;
using pg::Params;
using pg::Rows;

namespace {

// Enough for a node's API, scheduler and workers to overlap their calls; every node opens its
// own, so a cluster of n nodes holds up to n times this many server connections.
constexpr std::size_t kPoolSize = 8;
constexpr int kCountShards = 16;
constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

Status JobNotFound(const std::string& id) {
  return NotFound("job " + id + " not found");
}

}  // namespace

int CountShard(const Connection& conn) {
  return conn.backend_pid() % kCountShards;
}

Result<std::unique_ptr<Store>> PostgresStore::Open(const StoreOptions& options) {
  if (options.url.empty()) return InvalidArgument("the shared store needs a url", "store");
  pg::ConnectionPool::Options pool_options{
      .connection = {.url = options.url, .durable = options.durable},
      .max_connections = kPoolSize,
  };
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(pool_options.connection));
  {
    ASSIGN_OR_RETURN(Rows rows, conn->run(pg::kServerEncoding));
    std::string encoding = rows.size() > 0 ? rows.text_at(0, 0) : "";
    if (encoding != "UTF8" && encoding != "SQL_ASCII") {
      return FailedPrecondition("the PostgreSQL database uses encoding " + encoding +
                                "; the store needs UTF8 (CREATE DATABASE ... ENCODING 'UTF8')");
    }
  }
  RETURN_IF_ERROR(pg::ApplyMigrations(*conn));
  auto store = std::unique_ptr<PostgresStore>(new PostgresStore(std::move(pool_options)));
  store->pool_.adopt(std::move(conn));
  return std::unique_ptr<Store>(std::move(store));
}

Result<Job> PostgresStore::get_job(const std::string& tenant, const std::string& id) {
  return read([&](Connection& conn) -> Result<Job> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(pg::kGetJob.data(), Params().add(id).add(tenant)));
    if (rows.size() == 0) return JobNotFound(id);
    return pg::ReadJob(rows, 0);
  });
}

Result<std::string> PostgresStore::get_result(const std::string& tenant, const std::string& id) {
  return read([&](Connection& conn) -> Result<std::string> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(pg::kGetResult, Params().add(id).add(tenant)));
    if (rows.size() == 0) return NotFound("job " + id + " has no result");
    return rows.text_at(0, 0);
  });
}

Result<std::vector<std::string>> PostgresStore::get_attempts(const std::string& tenant,
                                                             const std::string& id) {
  return read([&](Connection& conn) -> Result<std::vector<std::string>> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(pg::kGetAttempts, Params().add(id).add(tenant)));
    if (rows.size() == 0) return JobNotFound(id);
    std::vector<std::string> attempts;
    for (int i = 0; i < rows.size(); ++i) {
      if (!rows.is_null(i, 0)) attempts.push_back(rows.text_at(i, 0));
    }
    return attempts;
  });
}

Result<JobPage> PostgresStore::list_jobs(const JobFilter& filter) {
  int limit = filter.limit <= 0 ? kDefaultPageSize : std::min(filter.limit, kMaxPageSize);
  unsigned filters = 0;
  Params params;
  params.add(filter.tenant);
  if (filter.status) {
    filters |= pg::kByStatus;
    params.add(static_cast<int>(*filter.status));
  }
  if (!filter.type.empty()) {
    filters |= pg::kByType;
    params.add(filter.type);
  }
  if (!filter.queue.empty()) {
    filters |= pg::kByQueue;
    params.add(filter.queue);
  }
  if (!filter.object_id.empty()) {
    filters |= pg::kByObjectId;
    params.add(filter.object_id);
  }
  if (!filter.after.empty()) {
    filters |= pg::kAfterCursor;
    params.add(filter.after);
  }
  params.add(limit + 1);  // one more than the page tells whether another page follows

  return read([&](Connection& conn) -> Result<JobPage> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(pg::ListJobsSql(filters), params));
    JobPage page;
    for (int i = 0; i < rows.size(); ++i) {
      if (static_cast<int>(page.jobs.size()) == limit) {
        page.next = page.jobs.back().id;
        break;
      }
      page.jobs.push_back(pg::ReadJob(rows, i));
    }
    return page;
  });
}

Result<std::vector<JobEvent>> PostgresStore::job_events(const std::string& tenant,
                                                        const std::string& id) {
  return read([&](Connection& conn) -> Result<std::vector<JobEvent>> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(pg::kJobEvents, Params().add(id).add(tenant)));
    if (rows.size() == 0) return JobNotFound(id);
    std::vector<JobEvent> events;
    for (int i = 0; i < rows.size(); ++i) {
      if (rows.is_null(i, 0)) continue;  // the job has no event
      events.push_back(JobEvent{.seq = rows.int_at(i, 0),
                                .job_id = rows.text_at(i, 1),
                                .at = rows.int_at(i, 2),
                                .type = rows.text_at(i, 3),
                                .data_json = rows.text_at(i, 4)});
    }
    return events;
  });
}

Status PostgresStore::append_event(const std::string& job_id, Millis at, const std::string& type,
                                   const std::string& data_json) {
  if (type.empty()) return InvalidArgument("an event needs a type", "type");
  const std::string& data = data_json.empty() ? std::string("{}") : data_json;
  // In a transaction, not autocommit: a broken connection before COMMIT is retried safely,
  // where an autocommit insert whose reply was lost could be appended twice.
  return write([&](pg::Txn& txn) -> Result<bool> {
           ASSIGN_OR_RETURN(
               Rows rows,
               txn.conn().run(pg::kAppendEvent, Params().add(job_id).add(at).add(type).add(data)));
           if (rows.affected() == 0) return JobNotFound(job_id);
           return true;
         })
      .status();
}

Result<std::vector<QueueStats>> PostgresStore::queue_stats() {
  return read([&](Connection& conn) -> Result<std::vector<QueueStats>> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(pg::kQueueStats));
    std::vector<QueueStats> stats;
    for (int i = 0; i < rows.size(); ++i) {
      std::string queue = rows.text_at(i, 0);
      std::int64_t status = rows.int_at(i, 1);
      if (stats.empty() || stats.back().queue != queue) stats.push_back(QueueStats{.queue = queue});
      QueueStats& s = stats.back();
      if (status >= 0 && status < static_cast<std::int64_t>(s.by_status.size())) {
        s.by_status[static_cast<std::size_t>(status)] = rows.int_at(i, 2);
      }
      if (status == static_cast<int>(JobStatus::kQueued) && !rows.is_null(i, 3)) {
        s.oldest_queued_created_at = rows.int_at(i, 3);
      }
    }
    return stats;
  });
}

void PostgresStore::set_wake_handler(std::function<void(const std::string& queue)> handler) {
  std::lock_guard lock(listener_mu_);
  listener_.reset();  // joins: the old handler is done before the new one starts
  if (handler) {
    listener_ = std::make_unique<pg::Listener>(settings_, pg::kJobsChannel, std::move(handler));
  }
}

Status PostgresStore::ping() {
  return read([&](Connection& conn) -> Result<bool> {
           ASSIGN_OR_RETURN(Rows rows, conn.run(pg::kPing));
           if (rows.size() != 1) return Internal("store: SELECT 1 returned no row");
           return true;
         })
      .status();
}

}  // namespace sluice
