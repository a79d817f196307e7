// SqlStore: the read side of the contract. Reads run through Dialect::read: on SQLite a reader
// connection (WAL readers never wait behind a commit's fsync), on PostgreSQL a pooled one.
#include "store/sql/sql_store.h"

#include <algorithm>

#include "store/sql/statements.h"

namespace sluice::sql {

namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

Status JobNotFound(const std::string& id) {
  return NotFound("job " + id + " not found");
}

Status CheckJobExists(Session& session, const std::string& tenant, const std::string& id) {
  ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                   session.query(Sql().job_exists, Params().add(id).add(tenant)));
  ASSIGN_OR_RETURN(bool found, rows->next());
  return found ? Status::Ok() : JobNotFound(id);
}

}  // namespace

Result<Job> SqlStore::get_job(const std::string& tenant, const std::string& id) {
  return read<Job>([&](Session& session) -> Result<Job> {
    ASSIGN_OR_RETURN(std::optional<Job> job, QueryFirst(session, JobColumns(), Sql().get_job,
                                                        Params().add(id).add(tenant)));
    if (!job) return JobNotFound(id);
    return std::move(*job);
  });
}

Result<std::string> SqlStore::get_result(const std::string& tenant, const std::string& id) {
  return read<std::string>([&](Session& session) -> Result<std::string> {
    ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                     session.query(Sql().get_result, Params().add(id).add(tenant)));
    ASSIGN_OR_RETURN(bool found, rows->next());
    if (!found) return NotFound("job " + id + " has no result");
    return rows->text_at(0);
  });
}

Result<std::vector<std::string>> SqlStore::get_attempts(const std::string& tenant,
                                                        const std::string& id) {
  using Records = std::vector<std::string>;
  return read<Records>([&](Session& session) -> Result<Records> {
    RETURN_IF_ERROR(CheckJobExists(session, tenant, id));
    ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                     session.query(Sql().get_attempts, Params().add(id)));
    return Collect<std::string>(*rows, [](const Row& row) { return row.text_at(0); });
  });
}

Result<JobPage> SqlStore::list_jobs(const JobFilter& filter) {
  const int limit = filter.limit <= 0 ? kDefaultPageSize : std::min(filter.limit, kMaxPageSize);
  unsigned filters = 0;
  Params params;
  params.add(filter.tenant);
  if (filter.status) {
    filters |= kByStatus;
    params.add(static_cast<int>(*filter.status));
  }
  if (!filter.type.empty()) {
    filters |= kByType;
    params.add(filter.type);
  }
  if (!filter.queue.empty()) {
    filters |= kByQueue;
    params.add(filter.queue);
  }
  if (!filter.object_id.empty()) {
    filters |= kByObjectId;
    params.add(filter.object_id);
  }
  if (!filter.after.empty()) {
    filters |= kAfterCursor;
    params.add(filter.after);
  }
  params.add(limit + 1);  // one more than the page tells whether another page follows

  return read<JobPage>([&](Session& session) -> Result<JobPage> {
    ASSIGN_OR_RETURN(std::vector<Job> jobs,
                     QueryAll(session, JobColumns(), Sql().list_jobs[filters], params));
    JobPage page;
    if (static_cast<int>(jobs.size()) > limit) {
      jobs.resize(static_cast<std::size_t>(limit));
      page.next = jobs.back().id;
    }
    page.jobs = std::move(jobs);
    return page;
  });
}

Result<std::vector<JobEvent>> SqlStore::job_events(const std::string& tenant,
                                                   const std::string& id) {
  using Events = std::vector<JobEvent>;
  return read<Events>([&](Session& session) -> Result<Events> {
    RETURN_IF_ERROR(CheckJobExists(session, tenant, id));
    return QueryAll(session, EventColumns(), Sql().job_events, Params().add(id));
  });
}

Result<std::vector<QueueStats>> SqlStore::queue_stats() {
  using Stats = std::vector<QueueStats>;
  return read<Stats>([&](Session& session) -> Result<Stats> {
    Stats stats;
    {
      ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows, session.query(Sql().queue_counts));
      for (;;) {
        ASSIGN_OR_RETURN(bool row, rows->next());
        if (!row) break;
        std::string queue = rows->text_at(0);
        const std::int64_t status = rows->int_at(1);
        if (stats.empty() || stats.back().queue != queue) {
          stats.push_back(QueueStats{.queue = std::move(queue)});
        }
        auto& by_status = stats.back().by_status;
        if (status >= 0 && status < static_cast<std::int64_t>(by_status.size())) {
          by_status[static_cast<std::size_t>(status)] = rows->int_at(2);
        }
      }
    }
    for (QueueStats& s : stats) {
      if (s.by_status[static_cast<int>(JobStatus::kQueued)] == 0) continue;
      ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                       session.query(Sql().oldest_queued, Params().add(s.queue)));
      ASSIGN_OR_RETURN(bool row, rows->next());
      if (row) s.oldest_queued_created_at = rows->optional_int_at(0);
    }
    return stats;
  });
}

Result<std::vector<QueueStats>> SqlStore::tenant_stats(const std::string& tenant) {
  using Stats = std::vector<QueueStats>;
  return read<Stats>([&](Session& session) -> Result<Stats> {
    Stats stats;
    ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                     session.query(Sql().tenant_stats, Params().add(tenant)));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, rows->next());
      if (!row) break;
      std::string queue = rows->text_at(0);
      const std::int64_t status = rows->int_at(1);
      if (stats.empty() || stats.back().queue != queue) {
        stats.push_back(QueueStats{.queue = std::move(queue)});
      }
      QueueStats& s = stats.back();
      if (status >= 0 && status < static_cast<std::int64_t>(s.by_status.size())) {
        s.by_status[static_cast<std::size_t>(status)] = rows->int_at(2);
      }
      s.cost_usd += rows->real_at(3);
    }
    return stats;
  });
}

Status SqlStore::ping() {
  return read<bool>([&](Session& session) -> Result<bool> {
           ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows, session.query(Sql().ping));
           ASSIGN_OR_RETURN(bool row, rows->next());
           if (!row) return Internal("store: SELECT 1 returned no row");
           return true;
         })
      .status();
}

}  // namespace sluice::sql
