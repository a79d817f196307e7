// The shared engine: one PostgreSQL database that several `sluice serve` nodes use at once,
// under the store core (sql/sql_store.h). Any node takes API calls and any node works jobs; the
// database is the only place they meet.
//
// Concurrency: every call borrows a connection from a small pool (postgres/pool.h) and runs in
// one transaction at READ COMMITTED. Nodes never wait for each other's claims: claim locks its
// rows FOR UPDATE SKIP LOCKED. Every other guarded write (a finish's compare-and-set, reaping,
// expiry, cancel) re-checks its WHERE clause on the newest row version after waiting for a
// concurrent writer, so a job changes state at most once per attempt, whichever node gets
// there first.
//
// Failures: a lost connection or a server that is down or restarting is kUnavailable (the API
// answers 503). A call whose connection broke before COMMIT was sent is retried on a fresh
// connection (nothing of it committed), so a server restart costs no caller an error once the
// server is back. When the connection breaks during COMMIT the outcome is unknown and the call
// reports kUnavailable: a submit is acknowledged only after its COMMIT succeeded, so an
// acknowledged job is never lost, and a client retry with a dedup key cannot make it twice.
//
// Wake-ups: a transaction that made jobs due (a submit, a release, a review retry) notifies
// channel "sluice_jobs" with each queue's name in its flush, so a listener hears of work only
// once it can be claimed. set_wake_handler runs such a listener (postgres/listener.h).
//
// Cluster-wide queue limits: a claim with ClaimRequest::cluster_max takes a transaction-scoped
// advisory lock on its queue, counts the queue's running jobs and claims at most what is left
// under the cap, so the claims of one capped queue run one at a time across the cluster (they
// are short: one statement each). Claims without a cap never take the lock.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "store/postgres/listener.h"
#include "store/postgres/pool.h"
#include "store/sql/dialect.h"
#include "store/store.h"

namespace sluice::pg {

class PostgresDialect final : public sql::Dialect {
 public:
  // Connects to options.url, checks the database's encoding and applies missing migrations
  // (safe when several nodes start at once). kUnavailable when the server cannot be reached,
  // kInvalidArgument for a malformed URL, kFailedPrecondition when the database was written by
  // a newer build or does not use UTF-8.
  static Result<std::unique_ptr<sql::Dialect>> Open(const StoreOptions& options);

  sql::Syntax syntax() const override { return sql::Syntax::kPostgres; }
  // Other nodes share the database: a lease this process does not hold may be a live one.
  bool exclusive() const override { return false; }
  Result<CommitNews> write(sql::CommitSync sync,
                           const std::function<Status(sql::Txn&)>& body) override;
  Status read(const std::function<Status(sql::Session&)>& body) override;
  Result<std::vector<std::optional<Job>>> insert_jobs(sql::Txn& txn, std::span<const Job> jobs,
                                                      const std::string& batch_id,
                                                      bool want_holders) override;
  Result<std::vector<Job>> claim(sql::Txn& txn, const ClaimRequest& request) override;
  Result<std::vector<std::optional<sql::SettledJob>>> finish(
      sql::Txn& txn, std::span<const AttemptFinish* const> items) override;
  // postgres_events.cc.
  Result<std::int64_t> visible_event_seq() override;
  // Listens on a session of its own; notifications of this node's own commits arrive too.
  void set_wake_handler(std::function<void(const std::string& queue)> handler) override;

 private:
  PostgresDialect(ConnectionPool::Options pool_options, Millis dedup_window)
      : settings_(pool_options.connection),
        dedup_window_(dedup_window),
        pool_(std::move(pool_options)) {}

  // Writes the Txn's events, counter changes, notifications and the webhook deliveries its
  // events queue, in one statement.
  Status flush(Connection& conn, sql::Txn& txn);

  // A failure before COMMIT that may pass (kUnavailable: a broken connection, a lost deadlock)
  // runs a write again on another connection, up to this many times in all.
  static constexpr int kWriteRounds = 3;
  const ConnectionSettings settings_;
  const Millis dedup_window_;  // StoreOptions::dedup_window
  ConnectionPool pool_;
  Mutex listener_mu_;
  std::unique_ptr<Listener> listener_ GUARDED_BY(listener_mu_);
  // Samples of the event sequence, oldest first (postgres_events.cc).
  struct SeqSample {
    Millis taken = 0;           // steady clock, ms
    std::int64_t seq = 0;       // the newest seq handed out when it was taken
    std::int64_t next_xid = 0;  // every transaction that could own a seq <= `seq` is below this
  };
  Mutex seq_mu_;
  std::deque<SeqSample> seq_samples_ GUARDED_BY(seq_mu_);
  std::int64_t settled_seq_ GUARDED_BY(seq_mu_) = 0;
};

}  // namespace sluice::pg
