// One write transaction of either engine, and what must commit with every state change: its
// events (with the webhook deliveries that job- and batch-ending events queue), the per-queue
// status counters (queue_counts), the notifications that wake idle nodes and the audit entries
// (store/audit_records.h). Statements run at once through session(); the rest is collected while the transaction runs and written by the
// engine's flush just before COMMIT (SQLite: a statement per row; PostgreSQL: one statement of
// arrays for all of it), so no transition can forget its event, counter or webhook, and a
// transaction of any size costs PostgreSQL one flush round trip.
//
// Made by Dialect::write for one call of its body; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/job.h"
#include "core/time.h"
#include "store/sql/session.h"
#include "store/store.h"

namespace sluice::sql {

class Txn {
 public:
  struct Event {
    std::string job_id;  // a job's id, or a batch's for batch.* events
    std::string tenant;
    Millis at = 0;
    std::string type;
    std::string data;
    // An event that ends a job or a batch (store_rules::WebhookEventType) queues a delivery
    // for its subject's webhook_url, if it has one: its type ("job.done") and event id.
    const char* webhook = nullptr;
    std::string webhook_id;
  };
  // Counter changes by (queue, JobStatus number); ordered, so that two transactions lock shared
  // counter rows in the same order.
  using CountDeltas = std::map<std::pair<std::string, int>, std::int64_t>;

  explicit Txn(Session& session) : session_(session) {}
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  Session& session() { return session_; }

  // Appends an event to the job's (or batch's) history at commit.
  void event(std::string_view job_id, std::string_view tenant, Millis at, std::string_view type,
             std::string data_json);
  // Records that `n` jobs of `queue` moved from `from` (nullopt: newly created) to `to`.
  void moved(const std::string& queue, std::optional<JobStatus> from, JobStatus to,
             std::int64_t n = 1);
  // Records that `n` jobs of `queue` in status `from` were deleted (retention).
  void removed(const std::string& queue, JobStatus from, std::int64_t n = 1) {
    count_deltas_[{queue, static_cast<int>(from)}] -= n;
  }
  // Wakes nodes listening for new work in `queue`, once the transaction commits.
  void notify(const std::string& queue) { notify_.insert(queue); }
  // Appends an audit entry (store/audit_records.h) at commit.
  void audit(AuditEntry entry) { audit_.push_back(std::move(entry)); }

  // For the engine's flush: what is pending, and that it was written (with the number of
  // webhook deliveries the events queued).
  const std::vector<Event>& pending_events() const { return events_; }
  const CountDeltas& pending_counts() const { return count_deltas_; }
  const std::set<std::string>& pending_notifications() const { return notify_; }
  const std::vector<AuditEntry>& pending_audit() const { return audit_; }
  void flushed(int webhooks_queued);

  // What the transaction wrote, for the commit listener (Store::set_commit_listener).
  CommitNews news() const { return news_; }

 private:
  Session& session_;
  std::vector<Event> events_;
  CountDeltas count_deltas_;
  std::set<std::string> notify_;
  std::vector<AuditEntry> audit_;
  CommitNews news_;
};

}  // namespace sluice::sql
