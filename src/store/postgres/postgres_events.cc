// PostgresStore: the event stream (Store::events_after).
//
// THE PITFALL: an event's seq is handed out when its transaction inserts the row, not when it
// commits. Transaction A takes seq 10, transaction B takes seq 11 and commits first; a reader
// that sees 11, streams it and resumes "after 11" would never see 10. So a reader is only
// given events up to a *settled* seq: one below which no transaction can still commit.
//
// How a seq settles: every ~50 ms a reader samples (1) the newest seq handed out, V, then
// (2) the snapshot's next transaction id, X. Any transaction owning a seq <= V had taken it
// before (1), so it had started before (2), so its id is below X — if it had an id yet: a
// transaction gets its id at its first write, and every write path of this store writes its
// job rows before its events, except a lone append_event, whose id follows its seq by
// microseconds. So V settles once the oldest running transaction (the snapshot's xmin) is at
// or past X, and at least kMinAge after the sample; or, whatever runs, kMaxAge after it (a
// transaction that holds an event uncommitted longer than that, an open session left idle in a
// transaction for instance, may have that event skipped by live streams; it stays in the job's
// history, GET /v1/jobs/{id}/events). A stream thus lags commits by about one sample period.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "store/postgres/postgres_store.h"
#include "store/postgres/queries.h"

namespace sluice {

using pg::Connection;
using pg::Params;
using pg::Rows;

namespace {

constexpr Millis kSampleEvery = 50;
constexpr Millis kMinAge = 50;
constexpr Millis kMaxAge = 10'000;

Millis SteadyNow() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

Result<std::int64_t> PostgresStore::settled_event_seq() {
  std::lock_guard lock(seq_mu_);
  const Millis now = SteadyNow();
  if (!seq_samples_.empty() && now - seq_samples_.back().taken < kSampleEvery) return settled_seq_;

  // In this order: the seq first, then the snapshot (see above).
  ASSIGN_OR_RETURN(std::int64_t newest_seq, read([&](Connection& conn) -> Result<std::int64_t> {
                     ASSIGN_OR_RETURN(Rows rows, conn.run(pg::kLastEventSeq));
                     return rows.int_at(0, 0);
                   }));
  struct Bounds {
    std::int64_t xmin = 0, xmax = 0;
  };
  ASSIGN_OR_RETURN(Bounds bounds, read([&](Connection& conn) -> Result<Bounds> {
                     ASSIGN_OR_RETURN(Rows rows, conn.run(pg::kSnapshotBounds));
                     return Bounds{rows.int_at(0, 0), rows.int_at(0, 1)};
                   }));
  seq_samples_.push_back(SeqSample{.taken = now, .seq = newest_seq, .next_xid = bounds.xmax});
  while (!seq_samples_.empty()) {
    const SeqSample& oldest = seq_samples_.front();
    const Millis age = now - oldest.taken;
    const bool settled = (oldest.next_xid <= bounds.xmin && age >= kMinAge) || age >= kMaxAge;
    if (!settled) break;
    settled_seq_ = std::max(settled_seq_, oldest.seq);
    seq_samples_.pop_front();
  }
  return settled_seq_;
}

Result<std::vector<JobEvent>> PostgresStore::events_after(const std::string& tenant,
                                                          std::int64_t after_seq, int limit) {
  if (limit <= 0) return std::vector<JobEvent>();
  ASSIGN_OR_RETURN(std::int64_t settled, settled_event_seq());
  if (settled <= after_seq) return std::vector<JobEvent>();
  return read([&](Connection& conn) -> Result<std::vector<JobEvent>> {
    ASSIGN_OR_RETURN(Rows rows, conn.run(pg::kEventsAfter, Params()
                                                               .add(tenant)
                                                               .add(after_seq)
                                                               .add(settled)
                                                               .add(static_cast<std::int64_t>(limit))));
    std::vector<JobEvent> events;
    events.reserve(static_cast<std::size_t>(rows.size()));
    for (int i = 0; i < rows.size(); ++i) {
      events.push_back(JobEvent{.seq = rows.int_at(i, 0),
                                .job_id = rows.text_at(i, 1),
                                .at = rows.int_at(i, 2),
                                .type = rows.text_at(i, 3),
                                .data_json = rows.text_at(i, 4)});
    }
    return events;
  });
}

// The settled seq: every event after it is still to come for a reader starting now (a few of
// them may have committed a moment before this call).
Result<std::int64_t> PostgresStore::events_head() {
  return settled_event_seq();
}

}  // namespace sluice
