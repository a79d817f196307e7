// SqlStore: tenants, API keys and budgets (store.h "Tenants, API keys and budgets").
//
// Budgets across nodes: a tenant's month is one tenant_usage row, and a reservation decides
// whether it fits only while it holds that row's lock (lock_usage), so the reservations of one
// tenant's month run one after the other on every node, each seeing what the ones before it
// reserved and what settlements committed. SQLite's one writer serializes them anyway.
//
// Lock order, on PostgreSQL: every transaction that touches both takes reservation rows before
// tenant_usage rows, each kind in sorted order (reservation ids; (tenant, month) keys), and the
// sweep of expired reservations passes over rows it would wait for. So reservations, settlements
// and finishes that settle never wait for each other in a circle.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "store/audit_entries.h"
#include "store/sql/sql_store.h"
#include "store/sql/statements.h"

namespace sluice::sql {

namespace {

// Expired reservations a reservation deletes of its tenant, at most, on its way (the rest
// stop counting anyway, and the next reservations sweep them).
constexpr int kSweepLimit = 100;
// Sums of costs in floating point drift by far less than this: how far a reservation may pass
// its budget by rounding alone (a billionth of a dollar), so that an exact fit still fits.
constexpr double kRoundingSlackUsd = 1e-9;

using MonthKey = std::pair<std::string, std::string>;  // (tenant, month)

// The first column of the first row of `stmt`, or `none` when it returns no row.
Result<double> QueryNumber(Session& session, const Statement& stmt, Params params,
                           double none = 0) {
  ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows, session.query(stmt, std::move(params)));
  ASSIGN_OR_RETURN(bool found, rows->next());
  if (!found || rows->is_null(0)) return none;
  return rows->real_at(0);
}

Result<bool> ReturnsARow(Session& session, const Statement& stmt, Params params) {
  ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows, session.query(stmt, std::move(params)));
  return rows->next();
}

bool IsAmount(double usd) {
  return std::isfinite(usd) && usd >= 0;
}

Status CheckPatch(const TenantPatch& p) {
  if (p.id.empty()) return InvalidArgument("a tenant needs an id", "id");
  if (p.weight && *p.weight < 1) {
    return InvalidArgument("weight must be at least 1, not " + std::to_string(*p.weight), "weight");
  }
  if (p.rpm && *p.rpm < 0) return InvalidArgument("rpm must be 0 (no limit) or more", "rpm");
  if (p.max_queued && *p.max_queued < 0) {
    return InvalidArgument("max_queued must be 0 (no limit) or more", "max_queued");
  }
  if (p.monthly_budget_usd && !IsAmount(*p.monthly_budget_usd)) {
    return InvalidArgument("monthly_budget_usd must be 0 (no limit) or more", "monthly_budget_usd");
  }
  return Status::Ok();
}

void ApplyPatch(const TenantPatch& p, Tenant& t) {
  if (p.weight) t.weight = *p.weight;
  if (p.rpm) t.rpm = *p.rpm;
  if (p.max_queued) t.max_queued = *p.max_queued;
  if (p.monthly_budget_usd) t.monthly_budget_usd = *p.monthly_budget_usd;
  if (p.mask_pii) t.mask_pii = *p.mask_pii;
}

Params TenantParams(const Tenant& tenant) {
  Params params;
  TenantColumns().Write(tenant, params);
  return params;
}

// What a change of the tenant's budget from `before` to its current one does (0: no limit).
Status ApplyBudgetChange(Txn& txn, double before, const Tenant& tenant, Millis now) {
  const double after = tenant.monthly_budget_usd;
  if (before == 0 && after > 0) {
    // Until now nothing counted the month's spend: start from what its jobs cost so far.
    const MonthSpan month = MonthSpanOf(now);
    RETURN_IF_ERROR(
        txn.session()
            .exec(Sql().seed_usage,
                  Params().add(tenant.id).add(MonthOf(now)).add(month.start).add(month.end))
            .status());
  }
  if (before > 0 && (after == 0 || after > before)) {
    // Jobs held for the budget may fit now: due at once, and the claim that takes them
    // decides again.
    ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                     txn.session().query(Sql().unblock_jobs,
                                         Params().add(tenant.id).add(now).add(kBlockedByBudget)));
    ASSIGN_OR_RETURN(std::vector<std::string> queues,
                     Collect<std::string>(*rows, [](const Row& row) { return row.text_at(0); }));
    for (const std::string& queue : queues) txn.notify(queue);
  }
  return Status::Ok();
}

Status CheckReservations(std::span<const BudgetReservation> items) {
  std::set<std::string_view> ids;
  for (const BudgetReservation& r : items) {
    if (r.id.empty()) return InvalidArgument("a budget reservation needs an id", "id");
    if (!ids.insert(r.id).second) {
      return InvalidArgument("budget reservation " + r.id + " appears twice in one call", "id");
    }
    if (r.tenant.empty() || r.month.empty()) {
      return InvalidArgument("reservation " + r.id + " needs a tenant and a month",
                             r.tenant.empty() ? "tenant" : "month");
    }
    if (!IsAmount(r.amount_usd)) {
      return InvalidArgument("reservation " + r.id + " needs an amount of 0 or more", "amount_usd");
    }
    if (!IsAmount(r.budget_usd) || r.budget_usd == 0) {
      return InvalidArgument("reservation " + r.id + " needs a budget above 0", "budget_usd");
    }
    if (r.expires_at <= r.now) {
      return InvalidArgument("reservation " + r.id + " would expire before it counts",
                             "expires_at");
    }
  }
  return Status::Ok();
}

}  // namespace

// ---- tenants --------------------------------------------------------------------------------

Result<TenantWrite> SqlStore::put_tenant(const TenantPatch& patch) {
  RETURN_IF_ERROR(CheckPatch(patch));
  return write<TenantWrite>([&](Txn& txn) -> Result<TenantWrite> {
    Tenant fresh{.id = patch.id, .created_at = patch.now, .updated_at = patch.now};
    ApplyPatch(patch, fresh);
    ASSIGN_OR_RETURN(std::int64_t inserted,
                     txn.session().exec(Sql().insert_tenant, TenantParams(fresh)));
    TenantWrite out{.tenant = fresh, .created = inserted == 1};
    double budget_before = 0;  // a new tenant had no limit
    if (!out.created) {
      ASSIGN_OR_RETURN(
          std::optional<Tenant> stored,
          QueryFirst(txn.session(), TenantColumns(), Sql().lock_tenant, Params().add(patch.id)));
      // The store never deletes a tenant; someone did behind its back, between two statements.
      if (!stored) return Unavailable("tenant " + patch.id + " vanished during its update");
      budget_before = stored->monthly_budget_usd;
      out.tenant = std::move(*stored);
      ApplyPatch(patch, out.tenant);
      out.tenant.updated_at = patch.now;
      RETURN_IF_ERROR(txn.session().exec(Sql().update_tenant, TenantParams(out.tenant)).status());
    }
    RETURN_IF_ERROR(ApplyBudgetChange(txn, budget_before, out.tenant, patch.now));
    ASSIGN_OR_RETURN(const AuditEntry entry, TenantEntry(patch, out.created));
    audit(txn, std::span(&entry, 1));
    return out;
  });
}

Result<Tenant> SqlStore::get_tenant(const std::string& id) {
  return read<Tenant>([&](Session& session) -> Result<Tenant> {
    ASSIGN_OR_RETURN(std::optional<Tenant> tenant,
                     QueryFirst(session, TenantColumns(), Sql().get_tenant, Params().add(id)));
    if (!tenant) return NotFound("tenant " + id + " not found");
    return std::move(*tenant);
  });
}

Result<std::vector<Tenant>> SqlStore::list_tenants() {
  using Tenants = std::vector<Tenant>;
  return read<Tenants>([&](Session& session) -> Result<Tenants> {
    return QueryAll(session, TenantColumns(), Sql().list_tenants);
  });
}

Result<std::int64_t> SqlStore::live_jobs(const std::string& tenant) {
  return read<std::int64_t>([&](Session& session) -> Result<std::int64_t> {
    ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                     session.query(Sql().live_jobs, Params().add(tenant)));
    ASSIGN_OR_RETURN(bool found, rows->next());
    return found ? rows->int_at(0) : 0;
  });
}

// ---- API keys -------------------------------------------------------------------------------

Status SqlStore::create_api_key(const ApiKey& key) {
  if (key.id.empty()) return InvalidArgument("an API key needs an id", "id");
  if (key.hash.empty()) return InvalidArgument("API key " + key.id + " needs a hash", "hash");
  ASSIGN_OR_RETURN(const AuditEntry entry, KeyCreatedEntry(key));
  return write<bool>([&](Txn& txn) -> Result<bool> {
           ASSIGN_OR_RETURN(bool tenant_exists, ReturnsARow(txn.session(), Sql().tenant_exists,
                                                            Params().add(key.tenant)));
           if (!tenant_exists) return NotFound("tenant " + key.tenant + " not found");
           Params params;
           ApiKeyColumns().Write(key, params);
           Status inserted = txn.session().exec(Sql().insert_api_key, std::move(params)).status();
           if (inserted.code() == StatusCode::kAlreadyExists) {
             return Status(StatusCode::kAlreadyExists,
                           "an API key with id " + key.id + " or with the same secret exists");
           }
           RETURN_IF_ERROR(inserted);
           audit(txn, std::span(&entry, 1));
           return true;
         })
      .status();
}

Result<std::vector<ApiKey>> SqlStore::list_api_keys(const std::string& tenant) {
  using Keys = std::vector<ApiKey>;
  return read<Keys>([&](Session& session) -> Result<Keys> {
    if (tenant.empty()) return QueryAll(session, ApiKeyColumns(), Sql().list_all_api_keys);
    return QueryAll(session, ApiKeyColumns(), Sql().list_api_keys, Params().add(tenant));
  });
}

Result<ApiKey> SqlStore::revoke_api_key(const std::string& id, Millis now) {
  return write<ApiKey>([&](Txn& txn) -> Result<ApiKey> {
    ASSIGN_OR_RETURN(std::optional<ApiKey> key,
                     QueryFirst(txn.session(), ApiKeyColumns(), Sql().revoke_api_key,
                                Params().add(id).add(now)));
    if (!key) return NotFound("API key " + id + " not found");
    // A second revoke changes nothing (the key keeps its first time), so it records nothing.
    if (key->revoked_at == now) {
      ASSIGN_OR_RETURN(const AuditEntry entry, KeyRevokedEntry(*key, now));
      audit(txn, std::span(&entry, 1));
    }
    return std::move(*key);
  });
}

Result<ApiKey> SqlStore::find_api_key(const std::string& hash) {
  return read<ApiKey>([&](Session& session) -> Result<ApiKey> {
    ASSIGN_OR_RETURN(std::optional<ApiKey> key,
                     QueryFirst(session, ApiKeyColumns(), Sql().find_api_key, Params().add(hash)));
    // The hash is as good as the secret: it stays out of the message.
    if (!key) return NotFound("no API key has that secret");
    return std::move(*key);
  });
}

Result<bool> SqlStore::any_api_key() {
  return read<bool>(
      [&](Session& session) { return ReturnsARow(session, Sql().any_api_key, Params()); });
}

// ---- budgets --------------------------------------------------------------------------------

Result<TenantUsage> SqlStore::tenant_usage(const std::string& tenant, const std::string& month,
                                           Millis now) {
  return read<TenantUsage>([&](Session& session) -> Result<TenantUsage> {
    TenantUsage usage{.month = month};
    ASSIGN_OR_RETURN(usage.spent_usd,
                     QueryNumber(session, Sql().spent, Params().add(tenant).add(month)));
    ASSIGN_OR_RETURN(usage.reserved_usd, QueryNumber(session, Sql().live_reserved,
                                                     Params().add(tenant).add(month).add(now)));
    ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                     session.query(Sql().live_jobs, Params().add(tenant)));
    ASSIGN_OR_RETURN(bool found, rows->next());
    if (found) usage.live_jobs = rows->int_at(0);
    return usage;
  });
}

Result<std::vector<bool>> SqlStore::reserve_budget(std::span<const BudgetReservation> items) {
  RETURN_IF_ERROR(CheckReservations(items));
  using Outcomes = std::vector<bool>;
  if (items.empty()) return Outcomes();
  return write<Outcomes>([&](Txn& txn) -> Result<Outcomes> {
    Session& session = txn.session();
    // Reserving an id again replaces what it held (an attempt that was released and not
    // counted comes back with the same number). Reservation rows first, in id order.
    std::set<std::string_view> ids;
    for (const BudgetReservation& r : items) ids.insert(r.id);
    for (std::string_view id : ids) {
      RETURN_IF_ERROR(session.exec(Sql().delete_reservation, Params().add(id)).status());
    }
    // Then every month's lock, in key order; each month's spend cannot change while it is held.
    std::map<MonthKey, double> spent;
    for (const BudgetReservation& r : items) spent.emplace(MonthKey(r.tenant, r.month), 0.0);
    for (auto& [key, usd] : spent) {
      ASSIGN_OR_RETURN(
          usd, QueryNumber(session, Sql().lock_usage, Params().add(key.first).add(key.second)));
    }
    std::set<std::string_view> swept;
    Outcomes outcomes;
    outcomes.reserve(items.size());
    for (const BudgetReservation& r : items) {
      if (swept.insert(r.tenant).second) {
        RETURN_IF_ERROR(
            session
                .exec(Sql().sweep_reservations, Params().add(r.tenant).add(r.now).add(kSweepLimit))
                .status());
      }
      // Counts the reservations this very call made before this one, too.
      ASSIGN_OR_RETURN(double reserved,
                       QueryNumber(session, Sql().live_reserved,
                                   Params().add(r.tenant).add(r.month).add(r.now)));
      const double spend = spent[MonthKey(r.tenant, r.month)];
      const bool fits = spend + reserved + r.amount_usd <= r.budget_usd + kRoundingSlackUsd;
      if (fits) {
        Params params;
        ReservationColumns().Write(r, params);
        RETURN_IF_ERROR(session.exec(Sql().insert_reservation, std::move(params)).status());
      }
      outcomes.push_back(fits);
    }
    return outcomes;
  });
}

Status SqlStore::settle_budget(const std::string& reservation_id, double cost_usd) {
  if (reservation_id.empty()) return InvalidArgument("a settlement needs a reservation id", "id");
  if (!IsAmount(cost_usd)) return InvalidArgument("a cost must be 0 or more", "cost_usd");
  return write<bool>([&](Txn& txn) -> Result<bool> {
           RETURN_IF_ERROR(settle_reservations(txn, {{reservation_id, cost_usd}}));
           return true;
         })
      .status();
}

Status SqlStore::settle_reservations(Txn& txn,
                                     std::vector<std::pair<std::string, double>> settlements) {
  // Reservation rows in id order, then month rows in key order (the file comment).
  std::sort(settlements.begin(), settlements.end());
  std::map<MonthKey, double> spend;
  for (const auto& [id, cost] : settlements) {
    ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                     txn.session().query(Sql().delete_reservation, Params().add(id)));
    ASSIGN_OR_RETURN(bool held, rows->next());
    if (held) spend[MonthKey(rows->text_at(0), rows->text_at(1))] += cost;
  }
  for (const auto& [key, cost] : spend) {
    RETURN_IF_ERROR(txn.session()
                        .exec(Sql().add_spend, Params().add(key.first).add(key.second).add(cost))
                        .status());
  }
  return Status::Ok();
}

}  // namespace sluice::sql
