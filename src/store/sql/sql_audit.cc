// SqlStore: the audit log (store/audit_records.h). Entries are appended by the transactions of
// what they record; seal_audit moves them into the hash chain, one sealer at a time.
#include <algorithm>
#include <string>
#include <vector>

#include "store/audit_chain.h"
#include "store/event_data.h"
#include "store/sql/audit_head.h"
#include "store/sql/sql_store.h"
#include "store/sql/statements.h"

namespace sluice::sql {

namespace {

struct PendingEntry {
  std::int64_t id = 0;
  AuditEntry entry;
};

AuditRecord ReadRecord(const Row& row) {
  return AuditRecord{.seq = row.int_at(0),
                     .at = row.int_at(1),
                     .tenant = row.text_at(2),
                     .action = row.text_at(3),
                     .job_id = row.text_at(4),
                     .record_json = row.text_at(5),
                     .hash = row.text_at(6)};
}

Result<std::optional<AuditAnchor>> Head(Session& session, const Statement& stmt) {
  ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows, session.query(stmt, Params()));
  ASSIGN_OR_RETURN(bool found, rows->next());
  if (!found) return std::optional<AuditAnchor>();
  return std::optional<AuditAnchor>(AuditAnchor{.seq = rows->int_at(0), .hash = rows->text_at(1)});
}

Result<AuditAnchor> AnchorOf(Session& session) {
  ASSIGN_OR_RETURN(std::optional<AuditAnchor> anchor, Head(session, Sql().audit_anchor));
  return anchor ? *anchor : AuditAnchor{};
}

Result<std::int64_t> Count(Session& session, const Statement& stmt, Params params) {
  ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows, session.query(stmt, std::move(params)));
  ASSIGN_OR_RETURN(bool found, rows->next());
  return found && !rows->is_null(0) ? rows->int_at(0) : std::int64_t{0};
}

}  // namespace

Result<AuditAnchor> AuditChainHead(Session& session) {
  ASSIGN_OR_RETURN(std::optional<AuditAnchor> newest, Head(session, Sql().audit_head));
  if (newest) return std::move(*newest);
  return AnchorOf(session);
}

Result<int> SqlStore::seal_audit(int limit) {
  if (limit < 1) return InvalidArgument("a seal takes at least one entry", "limit");
  // The embedded engine's one writer seals each entry in the transaction that made it
  // (sqlite/sqlite_dialect.cc): it never leaves one pending.
  if (dialect_->syntax() == Syntax::kSqlite) return 0;
  return write<int>([&](Txn& txn) -> Result<int> {
    Session& session = txn.session();
    ASSIGN_OR_RETURN(std::int64_t may_seal, Count(session, Sql().audit_seal_lock, Params()));
    if (may_seal != 1) return 0;
    ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                     session.query(Sql().audit_pending_batch, Params().add(limit)));
    ASSIGN_OR_RETURN(std::vector<PendingEntry> pending,
                     Collect<PendingEntry>(*rows, [](const Row& row) {
                       return PendingEntry{.id = row.int_at(0),
                                           .entry = AuditEntry{.at = row.int_at(1),
                                                               .tenant = row.text_at(2),
                                                               .actor = row.text_at(3),
                                                               .action = row.text_at(4),
                                                               .job_id = row.text_at(5),
                                                               .record_json = row.text_at(6),
                                                               .prev_hash_at = row.int_at(7),
                                                               .seq_at = row.int_at(8)}};
                     }));
    rows.reset();
    if (pending.empty()) return 0;
    ASSIGN_OR_RETURN(AuditAnchor head, AuditChainHead(session));
    std::string records = "[";
    std::string ids = "[";
    for (const PendingEntry& p : pending) {
      // An entry the store made itself cannot fail to seal; if one did, sealing stops here
      // rather than skip it (a gap) or guess.
      ASSIGN_OR_RETURN(AuditRecord r, SealAuditEntry(p.entry, head.seq + 1, head.hash));
      if (records.size() > 1) records += ',';
      records += '[' + std::to_string(r.seq) + ',' + std::to_string(r.at);
      for (const std::string* text : {&r.tenant, &r.action, &r.job_id, &r.record_json, &r.hash}) {
        records += ',';
        AppendJsonString(records, *text);
      }
      records += ']';
      if (ids.size() > 1) ids += ',';
      ids += std::to_string(p.id);
      head = AuditAnchor{.seq = r.seq, .hash = std::move(r.hash)};
    }
    RETURN_IF_ERROR(session.exec(Sql().insert_audit_records, Params().add(records + ']')).status());
    RETURN_IF_ERROR(session.exec(Sql().delete_audit_pending, Params().add(ids + ']')).status());
    return static_cast<int>(pending.size());
  });
}

Result<std::vector<AuditRecord>> SqlStore::audit_records(const AuditFilter& filter) {
  using Records = std::vector<AuditRecord>;
  const int limit = std::clamp(filter.limit, 1, 1000);
  return read<Records>([&](Session& session) -> Result<Records> {
    unsigned which = 0;
    Params params;
    params.add(filter.after).add(limit).add(filter.action);
    if (!filter.tenant.empty()) {
      which |= kAuditByTenant;
      params.add(filter.tenant);
    }
    if (!filter.job_id.empty()) {
      which |= kAuditByJob;
      params.add(filter.job_id);
    }
    ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                     session.query(Sql().audit_records[which], std::move(params)));
    return Collect<AuditRecord>(*rows, ReadRecord);
  });
}

Result<AuditAnchor> SqlStore::audit_anchor() {
  return read<AuditAnchor>([&](Session& session) { return AnchorOf(session); });
}

Result<std::int64_t> SqlStore::audit_pending() {
  return read<std::int64_t>(
      [&](Session& session) { return Count(session, Sql().audit_pending_count, Params()); });
}

Result<std::int64_t> SqlStore::prune_audit(Millis before, int limit) {
  if (limit < 1) return InvalidArgument("a prune takes at least one record", "limit");
  return write<std::int64_t>([&](Txn& txn) -> Result<std::int64_t> {
    Session& session = txn.session();
    // The sealer's lock: a prune never runs beside a seal that might be reading the head.
    ASSIGN_OR_RETURN(std::int64_t may_write, Count(session, Sql().audit_seal_lock, Params()));
    if (may_write != 1) return 0;
    ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                     session.query(Sql().audit_oldest, Params().add(limit)));
    std::optional<AuditAnchor> last;
    std::int64_t n = 0;
    for (;;) {
      ASSIGN_OR_RETURN(bool found, rows->next());
      if (!found || rows->int_at(1) >= before) break;
      last = AuditAnchor{.seq = rows->int_at(0), .hash = rows->text_at(2)};
      ++n;
    }
    rows.reset();
    if (!last) return 0;
    RETURN_IF_ERROR(session.exec(Sql().prune_audit, Params().add(last->seq)).status());
    RETURN_IF_ERROR(
        session.exec(Sql().put_audit_anchor, Params().add(last->seq).add(last->hash)).status());
    return n;
  });
}

}  // namespace sluice::sql
