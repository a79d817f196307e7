#include "store/postgres/postgres_dialect.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>
#include <utility>

#include "store/job_rules.h"
#include "store/postgres/migrations.h"
#include "store/postgres/pg_session.h"
#include "store/postgres/text.h"
#include "store/sql/columns.h"

namespace sluice::pg {

namespace {

// Enough for a node's API, scheduler and workers to overlap their calls; every node opens its
// own, so a cluster of n nodes holds up to n times this many server connections.
constexpr std::size_t kPoolSize = 8;
// queue_counts rows are sharded by connection (migrations.cc), so that concurrent transactions
// of one queue rarely wait for each other's counter row.
constexpr int kCountShards = 16;
// The channel a transaction that made jobs due notifies, with the queue's name as payload.
constexpr char kJobsChannel[] = "sluice_jobs";

int CountShard(const Connection& conn) {
  return conn.backend_pid() % kCountShards;
}

// `claim` with " AND tenant = <param>" after each "queue = $1::text" (claim_tenant_jobs).
std::string OfTenant(std::string claim, const std::string& param) {
  const std::string queue = "queue = $1::text";
  const std::string tenant = " AND tenant = " + param;
  int narrowed = 0;
  for (std::size_t at = claim.find(queue); at != std::string::npos;
       at = claim.find(queue, at + queue.size() + tenant.size())) {
    claim.insert(at + queue.size(), tenant);
    ++narrowed;
  }
  CHECK(narrowed == 3);  // the level walk's two seeks and the pick of each level's jobs
  return claim;
}

// The statements only this engine runs: its array forms of the writes sql::Dialect leaves to
// engines, so that a batch of any size costs one round trip, not one per row. Each takes one
// array parameter per column and unnests them.
struct EngineStatements {
  // Fresh jobs, one array per column of the column table ($1..$31) in array order, then
  // $32 the batch id ('': none): when two jobs of one call share a dedup key, the first one
  // is created. A job whose (tenant, dedup_key) is taken is skipped (no row returned); any
  // other conflict (a reused id) fails the statement.
  sql::Statement insert_jobs = sql::PostgresOnly([] {
    const sql::Table<Job>& jobs = sql::JobColumns();
    std::string arrays;
    int n = 0;
    for (const sql::Column<Job>& c : jobs.columns()) {
      if (n > 0) arrays += ", ";
      arrays += "$" + std::to_string(++n) + "::" + sql::CastName(c.type) + "[]";
    }
    return "INSERT INTO jobs ({jobs}, due_at, batch_id) SELECT " + jobs.list("u") +
           ", u.run_at, $" + std::to_string(n + 1) + "::text FROM unnest(" + arrays +
           ") WITH ORDINALITY AS u ({jobs}, ord) ORDER BY u.ord "
           "ON CONFLICT (tenant, dedup_key) WHERE dedup_key <> '' DO NOTHING RETURNING id";
  }());
  // Frees the dedup keys held by jobs that ended before a cutoff (StoreOptions::dedup_window),
  // so that new jobs can take them: $1 tenants, $2 keys, $3 the newest finished_at that frees
  // each (exclusive). Returns the (tenant, key) pairs freed.
  sql::Statement free_stale_dedup_keys = sql::PostgresOnly(
      "UPDATE jobs SET dedup_key = '' "
      "FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u (tenant, dedup_key, cutoff) "
      "WHERE jobs.tenant = u.tenant AND jobs.dedup_key = u.dedup_key AND jobs.dedup_key <> '' "
      "AND jobs.status IN ({done}, {failed}, {expired}, {canceled}) "
      "AND jobs.finished_at < u.cutoff RETURNING u.tenant, u.dedup_key");
  // The blobs created jobs refer to (JobSpec::blob_refs): $1 job ids, $2 tenants, $3 blob ids.
  sql::Statement insert_job_blobs = sql::PostgresOnly(
      "INSERT INTO job_blobs (job_id, tenant, blob_id) "
      "SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING");
  // The jobs holding the given (tenant, dedup_key) pairs ($1 tenants, $2 keys).
  sql::Statement find_by_dedup_keys = sql::PostgresOnly(
      "SELECT {jobs} FROM jobs WHERE (tenant, dedup_key) IN "
      "(SELECT * FROM unnest($1::text[], $2::text[])) AND dedup_key <> ''");
  // One statement: walk the priority levels that have queued jobs from the highest down (each
  // step one seek into jobs_claim), take each level's due jobs in (due_at, id) order, lock them
  // FOR UPDATE SKIP LOCKED (rows another node is claiming right now are passed over, not waited
  // for), stop at the limit, and start an attempt on each. Per level, due_at <= now is a range
  // bound: a million not-yet-due jobs at a higher priority are never stepped over one by one,
  // which a single ORDER BY priority DESC, due_at, id would do. The update finds its rows with
  // id = ANY(ARRAY(...)), a primary key lookup whatever the planner guesses of the CTE's size.
  // $1 queue, $2 now, $3 lease owner, $4 lease until, $5 limit. Rows come in claim order.
  sql::Statement claim_jobs = sql::PostgresOnly(
      "WITH RECURSIVE levels (level) AS ("
      " (SELECT priority FROM jobs WHERE status = {queued} AND queue = $1::text"
      "  ORDER BY priority DESC LIMIT 1)"
      " UNION ALL"
      " SELECT (SELECT j.priority FROM jobs AS j"
      "  WHERE j.status = {queued} AND j.queue = $1::text AND j.priority < l.level"
      "  ORDER BY j.priority DESC LIMIT 1)"
      " FROM levels AS l WHERE l.level IS NOT NULL),"
      " picked AS ("
      " SELECT c.pick_id FROM levels AS l CROSS JOIN LATERAL ("
      "  SELECT j.id AS pick_id FROM jobs AS j"
      "  WHERE j.status = {queued} AND j.queue = $1::text AND j.priority = l.level"
      "  AND j.due_at <= $2::bigint AND (j.deadline IS NULL OR j.deadline > $2::bigint)"
      "  ORDER BY j.due_at, j.id LIMIT $5::bigint FOR UPDATE SKIP LOCKED) AS c"
      " WHERE l.level IS NOT NULL LIMIT $5::bigint),"
      " started AS ("
      " UPDATE jobs SET status = {running}, attempt = attempt + 1, lease_owner = $3::text,"
      " lease_until = $4::bigint, started_at = coalesce(started_at, $2::bigint),"
      " next_attempt_at = NULL, blocked_reason = ''"
      " WHERE id = ANY (ARRAY (SELECT pick_id FROM picked)) AND status = {queued}"
      " RETURNING {jobs}, due_at) "
      "SELECT {jobs} FROM started ORDER BY priority DESC, due_at, id");
  // claim_jobs for one tenant's jobs (ClaimRequest::tenant: fair share), $6 the tenant: the
  // same statement with every read of the queue's rows narrowed to the tenant's, which turns
  // each seek into one of jobs_claim_tenant. Derived from claim_jobs, not written twice, so
  // that the two cannot drift apart.
  sql::Statement claim_tenant_jobs =
      sql::PostgresOnly(OfTenant(claim_jobs.text(sql::Syntax::kPostgres), "$6::text"));
  // A queue with a cluster-wide cap (ClaimRequest::cluster_max): its claims take this
  // transaction-scoped lock first, so they run one after the other across all nodes; each then
  // counts the queue's running jobs, which every earlier claim has committed by the time the
  // lock is granted ($1 queue). Finishes, reaps and releases never take it: they only lower the
  // count, so a claim that misses one of them errs on the safe side.
  sql::Statement lock_queue_claims =
      sql::PostgresOnly("SELECT pg_advisory_xact_lock(hashtext('sluice.queue.' || $1::text))");
  // The queue's running jobs, counted from the rows themselves (a walk of the small jobs_lease
  // partial index): the one number a cap may not be wrong about.
  sql::Statement count_running =
      sql::PostgresOnly("SELECT count(*) FROM jobs WHERE status = {running} AND queue = $1::text");
  // Compare-and-set on (id, attempt, lease owner, running), one row per job. Arrays, one
  // element per finish (no job twice): $1 id, $2 attempt, $3 lease owner, $4 new status, $5
  // retry (true: back to the queue), $6 finished_at (NULL: not finished), $7 retry_at, $8
  // error code, $9 error message (NULL: no error), $10 cost to add, $11 attempt record ('':
  // none), $12 result to keep ('': none), $13 blocked reason ('': none; else the call was not
  // started: the attempt is not counted and the error stays as it was). The attempt records
  // and results of the finishes whose compare-and-set matched are written by the same
  // statement. Returns the jobs that matched.
  sql::Statement finish_attempts = sql::PostgresOnly(
      "WITH u AS ("
      " SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::smallint[],"
      " $5::boolean[], $6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::float8[],"
      " $11::text[], $12::text[], $13::text[])"
      " AS u (f_id, f_attempt, f_owner, f_status, f_retry, f_finished_at, f_retry_at,"
      " f_error_code, f_error_message, f_cost, f_record, f_result, f_blocked)),"
      " settled AS ("
      " UPDATE jobs SET status = u.f_status,"
      " attempt = CASE WHEN u.f_blocked <> '' THEN attempt - 1 ELSE attempt END,"
      " blocked_reason = u.f_blocked,"
      " finished_at = CASE WHEN u.f_retry THEN finished_at ELSE u.f_finished_at END,"
      " next_attempt_at = CASE WHEN u.f_retry THEN u.f_retry_at ELSE next_attempt_at END,"
      " due_at = CASE WHEN u.f_retry THEN greatest(run_at, u.f_retry_at) ELSE due_at END,"
      " error_code = CASE WHEN u.f_blocked <> '' THEN error_code ELSE u.f_error_code END,"
      " error_message = CASE WHEN u.f_blocked <> '' THEN error_message"
      " ELSE u.f_error_message END,"
      " cost_usd = cost_usd + u.f_cost, lease_owner = '', lease_until = 0"
      " FROM u WHERE id = u.f_id AND attempt = u.f_attempt AND lease_owner = u.f_owner"
      " AND status = {running}"
      " RETURNING id, tenant, queue),"
      " recorded AS ("
      " INSERT INTO attempts (job_id, n, record)"
      " SELECT u.f_id, u.f_attempt, u.f_record FROM u JOIN settled ON settled.id = u.f_id"
      " WHERE u.f_record <> ''"
      " ON CONFLICT (job_id, n) DO UPDATE SET record = excluded.record),"
      " kept AS ("
      " INSERT INTO results (job_id, result)"
      " SELECT u.f_id, u.f_result FROM u JOIN settled ON settled.id = u.f_id"
      " WHERE u.f_result <> ''"
      " ON CONFLICT (job_id) DO UPDATE SET result = excluded.result)"
      " SELECT id, tenant, queue FROM settled");
  // What every write transaction commits with (sql/txn.h), in one statement: its events ($1-$5,
  // inserted in array order, so seq follows it), its queue counter changes ($6-$8, one element
  // per (queue, status), added to shard $9), its notifications ($10, queue names) and the
  // webhook deliveries its job- and batch-ending events queue ($11 event id, $12 job or batch
  // id, $13 webhook type, $14 time; a job or batch without a webhook_url queues none) and its
  // audit entries ($15-$22: at, tenant, actor, action, job_id, record, offsets). Answers
  // one row: the deliveries queued and the notifications sent. (`notified` is materialized, not
  // inlined, because pg_notify is volatile; counting its rows runs every call.)
  sql::Statement flush = sql::PostgresOnly(
      std::string("WITH logged AS ("
                  " INSERT INTO events (job_id, tenant, at, type, data)"
                  " SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[],"
                  " $5::text[])),"
                  " counted AS ("
                  " INSERT INTO queue_counts (queue, status, shard, n)"
                  " SELECT q, s, $9::smallint, d FROM unnest($6::text[], $7::smallint[],"
                  " $8::bigint[]) AS c (q, s, d)"
                  " ON CONFLICT (queue, status, shard) DO UPDATE SET n = queue_counts.n + "
                  "excluded.n),"
                  " queued AS ("
                  " INSERT INTO webhook_deliveries (id, job_id, tenant, type, url, created_at,"
                  " state, attempts, due_at, lease_owner)"
                  " SELECT w.id, j.id, j.tenant, w.type, j.webhook_url, w.at, {delivery_pending},"
                  " 0, w.at, ''"
                  " FROM unnest($11::text[], $12::text[], $13::text[], $14::bigint[])"
                  " AS w (id, job_id, type, at)"
                  " JOIN jobs AS j ON j.id = w.job_id WHERE j.webhook_url <> ''"
                  " UNION ALL"
                  " SELECT w.id, b.id, b.tenant, w.type, b.webhook_url, w.at, {delivery_pending},"
                  " 0, w.at, ''"
                  " FROM unnest($11::text[], $12::text[], $13::text[], $14::bigint[])"
                  " AS w (id, job_id, type, at)"
                  " JOIN batches AS b ON b.id = w.job_id WHERE b.webhook_url <> ''"
                  " AND w.type LIKE 'batch.%'"
                  " RETURNING 1),"
                  " audited AS ("
                  " INSERT INTO audit_pending (at, tenant, actor, action, job_id, record,"
                  " prev_hash_at, seq_at)"
                  " SELECT * FROM unnest($15::bigint[], $16::text[], $17::text[], $18::text[],"
                  " $19::text[], $20::text[], $21::bigint[], $22::bigint[])),"
                  " notified AS (SELECT pg_notify('") +
      kJobsChannel +
      "', q) FROM unnest($10::text[]) AS q)"
      " SELECT (SELECT count(*) FROM queued), (SELECT count(*) FROM notified)");
  sql::Statement server_encoding = sql::PostgresOnly("SHOW server_encoding");
};

const EngineStatements& Own() {
  static const auto* const kStatements = new EngineStatements();
  return *kStatements;
}

const char* Text(const sql::Statement& stmt) {
  return stmt.text(sql::Syntax::kPostgres);
}

// The connection of a Txn this engine's write() made.
Connection& ConnOf(sql::Txn& txn) {
  return static_cast<ConnectionSession&>(txn.session()).conn();
}

// BEGIN ... COMMIT on one pooled connection; rolled back unless committed.
class ServerTxn {
 public:
  explicit ServerTxn(Connection& conn) : conn_(conn) {}
  ServerTxn(const ServerTxn&) = delete;
  ServerTxn& operator=(const ServerTxn&) = delete;
  ~ServerTxn() {
    // A failed ROLLBACK leaves the connection in an unknown state: the pool closes a
    // connection that comes back with a transaction open, and the server rolls back when it
    // goes.
    if (open_) (void)conn_.exec("ROLLBACK");
  }
  Status begin() {
    RETURN_IF_ERROR(conn_.exec("BEGIN"));
    open_ = true;
    return Status::Ok();
  }
  // On failure nothing stays, except when the connection broke during COMMIT: then the
  // outcome is unknown.
  Status commit() {
    commit_sent_ = true;
    Status committed = conn_.exec("COMMIT");
    if (!committed.ok()) {
      if (conn_.broken()) {
        // The reply was lost: the transaction may or may not have committed.
        return Unavailable("the connection broke during COMMIT, its outcome is unknown: " +
                           committed.message());
      }
      open_ = !conn_.idle();  // the server refused the commit and rolled back
      return committed;
    }
    open_ = false;
    return Status::Ok();
  }
  // True once COMMIT was sent: from then on, a failure may hide a committed transaction, and
  // running the work again could apply it twice.
  bool commit_sent() const { return commit_sent_; }

 private:
  Connection& conn_;
  bool open_ = false;
  bool commit_sent_ = false;
};

}  // namespace

Result<std::unique_ptr<sql::Dialect>> PostgresDialect::Open(const StoreOptions& options) {
  if (options.url.empty()) return InvalidArgument("the shared store needs a url", "store");
  ConnectionPool::Options pool_options{
      .connection = {.url = options.url, .durable = options.durable},
      .max_connections = kPoolSize,
  };
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(pool_options.connection));
  {
    ASSIGN_OR_RETURN(Rows rows, conn->run(Text(Own().server_encoding)));
    std::string encoding = rows.size() > 0 ? rows.text_at(0, 0) : "";
    if (encoding != "UTF8" && encoding != "SQL_ASCII") {
      return FailedPrecondition("the PostgreSQL database uses encoding " + encoding +
                                "; the store needs UTF8 (CREATE DATABASE ... ENCODING 'UTF8')");
    }
  }
  RETURN_IF_ERROR(ApplyMigrations(*conn));
  auto dialect = std::unique_ptr<PostgresDialect>(
      new PostgresDialect(std::move(pool_options), options.dedup_window));
  dialect->pool_.adopt(std::move(conn));
  return std::unique_ptr<sql::Dialect>(std::move(dialect));
}

Result<CommitNews> PostgresDialect::write(sql::CommitSync sync,
                                          const std::function<Status(sql::Txn&)>& body) {
  (void)sync;  // every commit waits for the server's WAL flush (unless the store is not durable)
  for (int round = 1;; ++round) {
    ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.acquire());
    ServerTxn scope(lease.conn());
    ConnectionSession session(lease.conn());
    sql::Txn txn(session);
    Status failed = scope.begin();
    if (failed.ok()) failed = body(txn);
    if (failed.ok()) failed = flush(lease.conn(), txn);
    if (failed.ok()) failed = scope.commit();
    if (failed.ok()) return txn.news();
    if (failed.code() != StatusCode::kUnavailable || scope.commit_sent() || round == kWriteRounds) {
      return failed;
    }
  }
}

Status PostgresDialect::read(const std::function<Status(sql::Session&)>& body) {
  for (int round = 1;; ++round) {
    ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.acquire());
    ConnectionSession session(lease.conn());
    Status status = body(session);
    if (status.ok() || status.code() != StatusCode::kUnavailable || round == 2) return status;
  }
}

Status PostgresDialect::flush(Connection& conn, sql::Txn& txn) {
  TextArray job_ids, tenants, ats, types, data;
  TextArray webhook_ids, webhook_job_ids, webhook_types, webhook_ats;
  for (const sql::Txn::Event& e : txn.pending_events()) {
    job_ids.add(e.job_id);
    tenants.add(e.tenant);
    ats.add(e.at);
    types.add(e.type);
    data.add(e.data);
    if (!e.webhook) continue;
    webhook_ids.add(e.webhook_id);
    webhook_job_ids.add(e.job_id);
    webhook_types.add(e.webhook);
    webhook_ats.add(e.at);
  }
  TextArray queues, statuses, deltas, notify;
  for (const auto& [key, delta] : txn.pending_counts()) {
    if (delta == 0) continue;
    queues.add(key.first);
    statuses.add(key.second);
    deltas.add(delta);
  }
  for (const std::string& queue : txn.pending_notifications()) notify.add(queue);
  TextArray audit_ats, audit_tenants, audit_actors, audit_actions, audit_jobs, audit_records,
      audit_prev_at, audit_seq_at;
  for (const AuditEntry& e : txn.pending_audit()) {
    audit_ats.add(e.at);
    audit_tenants.add(e.tenant);
    audit_actors.add(e.actor);
    audit_actions.add(e.action);
    audit_jobs.add(e.job_id);
    audit_records.add(e.record_json);
    audit_prev_at.add(e.prev_hash_at);
    audit_seq_at.add(e.seq_at);
  }
  if (job_ids.empty() && queues.empty() && notify.empty() && audit_ats.empty()) {
    return Status::Ok();
  }
  sql::Params params;
  params.add(job_ids.str())
      .add(tenants.str())
      .add(ats.str())
      .add(types.str())
      .add(data.str())
      .add(queues.str())
      .add(statuses.str())
      .add(deltas.str())
      .add(CountShard(conn))
      .add(notify.str())
      .add(webhook_ids.str())
      .add(webhook_job_ids.str())
      .add(webhook_types.str())
      .add(webhook_ats.str())
      .add(audit_ats.str())
      .add(audit_tenants.str())
      .add(audit_actors.str())
      .add(audit_actions.str())
      .add(audit_jobs.str())
      .add(audit_records.str())
      .add(audit_prev_at.str())
      .add(audit_seq_at.str());
  ASSIGN_OR_RETURN(Rows rows, conn.run(Text(Own().flush), params));
  txn.flushed(rows.size() > 0 ? static_cast<int>(rows.int_at(0, 0)) : 0);
  return Status::Ok();
}

Result<std::vector<std::optional<Job>>> PostgresDialect::insert_jobs(sql::Txn& txn,
                                                                     std::span<const Job> jobs,
                                                                     const std::string& batch_id,
                                                                     bool want_holders) {
  std::vector<std::optional<Job>> holders(jobs.size());
  if (jobs.empty()) return holders;
  Connection& conn = ConnOf(txn);
  std::unordered_set<std::string> created;
  // Inserts the jobs `picked` chooses, in order; adds the ids it created to `created`.
  auto insert = [&](auto picked) -> Status {
    ArrayColumns columns(sql::JobColumns().size());
    for (const Job& job : jobs) {
      if (!picked(job)) continue;
      columns.next_row();
      sql::JobColumns().Write(job, columns);
    }
    sql::Params params;
    columns.add_to(params);
    params.add(batch_id);
    ASSIGN_OR_RETURN(Rows inserted, conn.run(Text(Own().insert_jobs), params));
    for (int i = 0; i < inserted.size(); ++i) created.insert(inserted.text_at(i, 0));
    return Status::Ok();
  };
  RETURN_IF_ERROR(insert([](const Job&) { return true; }));
  if (dedup_window_ > 0 && created.size() < jobs.size()) {
    // The keys whose holders ended longer ago than the window let go of them; the jobs that
    // wanted those keys are inserted again (the first of several with one key takes it).
    TextArray tenants, keys, cutoffs;
    for (const Job& job : jobs) {
      if (created.contains(job.id)) continue;
      tenants.add(job.spec.tenant);
      keys.add(job.spec.dedup_key);
      cutoffs.add(job.created_at - dedup_window_);
    }
    ASSIGN_OR_RETURN(Rows freed,
                     conn.run(Text(Own().free_stale_dedup_keys),
                              sql::Params().add(tenants.str()).add(keys.str()).add(cutoffs.str())));
    if (freed.size() > 0) {
      std::set<std::pair<std::string, std::string>> freed_keys;
      for (int i = 0; i < freed.size(); ++i)
        freed_keys.emplace(freed.text_at(i, 0), freed.text_at(i, 1));
      RETURN_IF_ERROR(insert([&](const Job& job) {
        return !created.contains(job.id) &&
               freed_keys.contains({job.spec.tenant, job.spec.dedup_key});
      }));
    }
  }

  TextArray dedup_tenants, dedup_keys;
  TextArray ref_jobs, ref_tenants, ref_blobs;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (created.contains(jobs[i].id)) {
      for (const std::string& blob_id : jobs[i].spec.blob_refs) {
        ref_jobs.add(jobs[i].id);
        ref_tenants.add(jobs[i].spec.tenant);
        ref_blobs.add(blob_id);
      }
      continue;
    }
    holders[i] = Job{};
    dedup_tenants.add(jobs[i].spec.tenant);
    dedup_keys.add(jobs[i].spec.dedup_key);
  }
  if (!ref_jobs.empty()) {
    RETURN_IF_ERROR(
        conn.run(Text(Own().insert_job_blobs),
                 sql::Params().add(ref_jobs.str()).add(ref_tenants.str()).add(ref_blobs.str()))
            .status());
  }
  if (!want_holders || dedup_tenants.empty()) return holders;

  ASSIGN_OR_RETURN(Rows found,
                   conn.run(Text(Own().find_by_dedup_keys),
                            sql::Params().add(dedup_tenants.str()).add(dedup_keys.str())));
  std::map<std::pair<std::string, std::string>, Job> by_key;
  for (int i = 0; i < found.size(); ++i) {
    ASSIGN_OR_RETURN(Job holder, sql::JobColumns().Read(ResultRow(found, i)));
    std::pair key(holder.spec.tenant, holder.spec.dedup_key);
    by_key.emplace(std::move(key), std::move(holder));
  }
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (!holders[i]) continue;
    auto it = by_key.find({jobs[i].spec.tenant, jobs[i].spec.dedup_key});
    if (it == by_key.end()) {
      return Internal("job " + jobs[i].id + " was neither inserted nor found under its dedup key");
    }
    holders[i] = it->second;
  }
  return holders;
}

Result<std::vector<Job>> PostgresDialect::claim(sql::Txn& txn, const ClaimRequest& request) {
  Connection& conn = ConnOf(txn);
  std::int64_t limit = request.limit;
  if (request.cluster_max > 0) {
    // Released by COMMIT: the next claim of this queue counts what this one started.
    RETURN_IF_ERROR(conn.run(Text(Own().lock_queue_claims), sql::Params().add(request.queue)).status());
    ASSIGN_OR_RETURN(Rows running, conn.run(Text(Own().count_running), sql::Params().add(request.queue)));
    limit = std::min<std::int64_t>(limit, request.cluster_max - running.int_at(0, 0));
    if (limit <= 0) return std::vector<Job>();
  }
  sql::Params params;
  params.add(request.queue).add(request.now).add(request.owner).add(request.lease_until).add(limit);
  if (!request.tenant.empty()) params.add(request.tenant);
  ASSIGN_OR_RETURN(Rows rows, conn.run(Text(request.tenant.empty() ? Own().claim_jobs
                                                                   : Own().claim_tenant_jobs),
                                       params));
  std::vector<Job> claimed;
  claimed.reserve(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    ASSIGN_OR_RETURN(Job job, sql::JobColumns().Read(ResultRow(rows, i)));
    claimed.push_back(std::move(job));
  }
  return claimed;
}

Result<std::vector<std::optional<sql::SettledJob>>> PostgresDialect::finish(
    sql::Txn& txn, std::span<const AttemptFinish* const> items) {
  TextArray ids, attempts, owners, statuses, retries, finished_ats, retry_ats, error_codes,
      error_messages, costs, records, results, blocked_reasons;
  for (const AttemptFinish* item : items) {
    const JobStatus to = store_rules::StatusAfter(item->outcome);
    const bool blocked = item->outcome == AttemptOutcome::kBlocked;
    // A blocked call is requeued like a retry, with its attempt given back.
    const bool retry = item->outcome == AttemptOutcome::kRetry || blocked;
    const std::optional<JobError> error = store_rules::ErrorAfter(*item);
    ids.add(item->job_id);
    attempts.add(item->attempt);
    owners.add(item->lease_owner);
    statuses.add(static_cast<int>(to));
    retries.add(retry);
    // Review waits for a person: the job is not finished yet.
    if (retry || to == JobStatus::kReview) {
      finished_ats.add_null();
    } else {
      finished_ats.add(item->now);
    }
    if (retry) {
      retry_ats.add(item->retry_at);
    } else {
      retry_ats.add_null();
    }
    if (error) {
      error_codes.add(error->code);
      error_messages.add(error->message);
    } else {
      error_codes.add_null();
      error_messages.add_null();
    }
    costs.add(item->cost_usd);
    // A blocked attempt never started: its number is the next claim's, and so is its record.
    records.add(blocked ? std::string_view() : std::string_view(item->attempt_json));
    const bool keeps_result = to == JobStatus::kDone || to == JobStatus::kReview;
    results.add(keeps_result ? std::string_view(item->result_json) : std::string_view());
    blocked_reasons.add(blocked ? std::string_view(item->error.code) : std::string_view());
  }
  sql::Params params;
  for (const TextArray* column :
       {&ids, &attempts, &owners, &statuses, &retries, &finished_ats, &retry_ats, &error_codes,
        &error_messages, &costs, &records, &results, &blocked_reasons}) {
    params.add(column->str());
  }
  ASSIGN_OR_RETURN(Rows rows, ConnOf(txn).run(Text(Own().finish_attempts), params));
  std::map<std::string, sql::SettledJob, std::less<>> matched;
  for (int r = 0; r < rows.size(); ++r) {
    matched.emplace(rows.text_at(r, 0), sql::SettledJob{rows.text_at(r, 1), rows.text_at(r, 2)});
  }
  std::vector<std::optional<sql::SettledJob>> settled;
  settled.reserve(items.size());
  for (const AttemptFinish* item : items) {
    auto it = matched.find(item->job_id);
    if (it == matched.end()) {
      settled.emplace_back();
    } else {
      settled.emplace_back(it->second);
    }
  }
  return settled;
}

void PostgresDialect::set_wake_handler(std::function<void(const std::string& queue)> handler) {
  MutexLock lock(listener_mu_);
  listener_.reset();  // joins: the old handler is done before the new one starts
  if (handler) listener_ = std::make_unique<Listener>(settings_, kJobsChannel, std::move(handler));
}

}  // namespace sluice::pg
