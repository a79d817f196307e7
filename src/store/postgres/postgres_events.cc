// PostgresDialect: which events a stream may be given (Store::events_after).
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
// job or batch rows before its events (events are written by the flush at the end of a
// transaction, sql/txn.h). So V settles once the oldest running transaction (the snapshot's xmin) is at
// or past X, and at least kMinAge after the sample; or, whatever runs, kMaxAge after it (a
// transaction that holds an event uncommitted longer than that, an open session left idle in a
// transaction for instance, may have that event skipped by live streams; it stays in the job's
// history, GET /v1/jobs/{id}/events). A stream thus lags commits by about one sample period.
#include <algorithm>
#include <chrono>

#include "store/postgres/pg_session.h"
#include "store/postgres/postgres_dialect.h"

namespace sluice::pg {

namespace {

constexpr Millis kSampleEvery = 50;
constexpr Millis kMinAge = 50;
constexpr Millis kMaxAge = 10'000;

Millis SteadyNow() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

// The statements only the settling runs.
// The newest seq handed out so far, committed or not (0 before the first).
constexpr char kLastEventSeq[] =
    "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('events', 'seq')::regclass), "
    "0)";
// The oldest transaction still running and the next transaction id, as numbers.
constexpr char kSnapshotBounds[] =
    "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
    "pg_snapshot_xmax(pg_current_snapshot())::text::bigint";

Result<std::int64_t> PostgresDialect::visible_event_seq() {
  MutexLock lock(seq_mu_);
  const Millis now = SteadyNow();
  if (!seq_samples_.empty() && now - seq_samples_.back().taken < kSampleEvery) return settled_seq_;

  // In this order: the seq first, then the snapshot (see above), each on whatever connection.
  std::int64_t newest_seq = 0, xmin = 0, xmax = 0;
  RETURN_IF_ERROR(read([&](sql::Session& session) -> Status {
    Connection& conn = static_cast<ConnectionSession&>(session).conn();
    ASSIGN_OR_RETURN(Rows seq, conn.run(kLastEventSeq));
    newest_seq = seq.int_at(0, 0);
    ASSIGN_OR_RETURN(Rows bounds, conn.run(kSnapshotBounds));
    xmin = bounds.int_at(0, 0);
    xmax = bounds.int_at(0, 1);
    return Status::Ok();
  }));
  seq_samples_.push_back(SeqSample{.taken = now, .seq = newest_seq, .next_xid = xmax});
  while (!seq_samples_.empty()) {
    const SeqSample& oldest = seq_samples_.front();
    const Millis age = now - oldest.taken;
    const bool settled = (oldest.next_xid <= xmin && age >= kMinAge) || age >= kMaxAge;
    if (!settled) break;
    settled_seq_ = std::max(settled_seq_, oldest.seq);
    seq_samples_.pop_front();
  }
  return settled_seq_;
}

}  // namespace sluice::pg
