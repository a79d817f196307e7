// SqlStore: the cost ledger (store/cost_records.h). Rows are appended by the transactions that
// record calls (finish_attempts, settle_sync_call) and read, summed by the database, for a
// month's report.
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "store/audit_entries.h"
#include "store/event_data.h"
#include "store/sql/sql_store.h"
#include "store/sql/statements.h"
#include "store/tenant_records.h"

namespace sluice::sql {

namespace {

bool IsMonth(const std::string& month) {
  if (month.size() != 7 || month[4] != '-') return false;
  for (int i : {0, 1, 2, 3, 5, 6}) {
    if (month[i] < '0' || month[i] > '9') return false;
  }
  const int mm = (month[5] - '0') * 10 + (month[6] - '0');
  return mm >= 1 && mm <= 12;
}

// The rows as one JSON array of arrays, in the column order of statements.cc kChargeColumns,
// so that one statement inserts any number of them on either engine.
std::string ChargesJson(std::span<const CallCharge* const> charges) {
  std::string out = "[";
  for (const CallCharge* c : charges) {
    if (out.size() > 1) out += ',';
    out += '[';
    AppendJsonString(out, c->tenant);
    out += ',';
    AppendJsonString(out, MonthOf(c->at));
    out += ',' + std::to_string(c->at) + ',';
    AppendJsonString(out, c->job_id);
    out += ',' + std::to_string(c->attempt);
    for (const std::string* text : {&c->task_type, &c->provider, &c->model_alias, &c->model_id}) {
      out += ',';
      AppendJsonString(out, *text);
    }
    for (std::int64_t n : {c->prompt_tokens, c->completion_tokens, c->cached_tokens,
                           c->reasoning_tokens, c->cost_nano_usd}) {
      out += ',' + std::to_string(n);
    }
    out += c->unpriced ? ",1]" : ",0]";
  }
  return out + "]";
}

}  // namespace

Status SqlStore::write_charges(Txn& txn, std::span<const CallCharge* const> charges) {
  if (charges.empty()) return Status::Ok();
  return txn.session().exec(Sql().insert_charges, Params().add(ChargesJson(charges))).status();
}

Result<std::vector<AuditEntry>> SqlStore::call_entries(std::span<const CallCharge> charges) const {
  std::vector<AuditEntry> entries;
  if (!audit_) return entries;
  entries.reserve(charges.size());
  for (const CallCharge& c : charges) {
    ASSIGN_OR_RETURN(AuditEntry e, ModelCallEntry(c));
    entries.push_back(std::move(e));
  }
  return entries;
}

Status SqlStore::settle_sync_call(const std::string& reservation_id, double cost_usd,
                                  std::span<const CallCharge> charges) {
  if (!std::isfinite(cost_usd) || cost_usd < 0) {
    return InvalidArgument("a cost must be 0 or more", "cost_usd");
  }
  std::vector<const CallCharge*> rows;
  rows.reserve(charges.size());
  for (const CallCharge& c : charges) rows.push_back(&c);
  if (reservation_id.empty() && rows.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(const std::vector<AuditEntry> entries, call_entries(charges));
  return write<bool>([&](Txn& txn) -> Result<bool> {
           if (!reservation_id.empty()) {
             RETURN_IF_ERROR(settle_reservations(txn, {{reservation_id, cost_usd}}));
           }
           RETURN_IF_ERROR(write_charges(txn, rows));
           audit(txn, entries);
           return true;
         })
      .status();
}

Result<CostLedgerMonth> SqlStore::cost_report(const std::string& month, const std::string& tenant) {
  if (!IsMonth(month)) {
    return InvalidArgument("month must be YYYY-MM, like 2026-11, not \"" + month + "\"", "month");
  }
  return read<CostLedgerMonth>([&](Session& session) -> Result<CostLedgerMonth> {
    CostLedgerMonth out;
    {
      ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                       session.query(Sql().cost_lines, Params().add(month).add(tenant)));
      ASSIGN_OR_RETURN(out.lines, Collect<CostLine>(*rows, [](const Row& row) {
                         return CostLine{.tenant = row.text_at(0),
                                         .task_type = row.text_at(1),
                                         .provider = row.text_at(2),
                                         .model_alias = row.text_at(3),
                                         .model_id = row.text_at(4),
                                         .calls = row.int_at(5),
                                         .prompt_tokens = row.int_at(6),
                                         .completion_tokens = row.int_at(7),
                                         .cached_tokens = row.int_at(8),
                                         .reasoning_tokens = row.int_at(9),
                                         .cost_nano_usd = row.int_at(10),
                                         .unpriced_calls = row.int_at(11)};
                       }));
    }
    ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                     session.query(Sql().cost_jobs, Params().add(month).add(tenant)));
    ASSIGN_OR_RETURN(out.jobs, Collect<TenantJobCount>(*rows, [](const Row& row) {
                       return TenantJobCount{.tenant = row.text_at(0), .jobs = row.int_at(1)};
                     }));
    return out;
  });
}

}  // namespace sluice::sql
