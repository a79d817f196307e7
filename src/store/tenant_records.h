// Records of tenants, API keys and budgets (API.md "Tenants, API keys and quotas"), as the Store
// keeps them. The rules that use them live elsewhere: authentication in src/auth, quotas in
// src/auth/quota_*, the budget gate in src/scheduler.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.h"

namespace sluice {

// Job::blocked_reason of a queued job that its tenant's budget holds back; put_tenant makes such
// jobs due when the budget is raised or removed.
inline constexpr char kBlockedByBudget[] = "budget";

// The UTC calendar month holding `t`, as budgets count it: "2026-12".
std::string MonthOf(Millis t);
// [start, end) of the UTC calendar month holding `t`, in ms.
struct MonthSpan {
  Millis start = 0;
  Millis end = 0;
};
MonthSpan MonthSpanOf(Millis t);

// A tenant: the unit of isolation, quota and billing. 0 means "no limit" for every limit.
struct Tenant {
  std::string id;
  int weight = 1;                   // fair-share weight within a queue, >= 1
  std::int64_t rpm = 0;             // API requests a minute
  std::int64_t max_queued = 0;      // live jobs (queued, running, review)
  double monthly_budget_usd = 0;    // spend of a calendar month (UTC)
  bool mask_pii = false;            // every job and sync call of the tenant masks PII
  Millis created_at = 0;
  Millis updated_at = 0;
};

// POST /v1/admin/tenants: creates the tenant, or changes the fields given of an existing one.
struct TenantPatch {
  std::string id;
  std::optional<int> weight;
  std::optional<std::int64_t> rpm;
  std::optional<std::int64_t> max_queued;
  std::optional<double> monthly_budget_usd;
  std::optional<bool> mask_pii;
  Millis now = 0;
};

struct TenantWrite {
  Tenant tenant;         // as stored after the write
  bool created = false;  // false: it existed and was updated
};

// An API key as stored: never the secret, only its hash.
struct ApiKey {
  std::string id;        // "key_..."
  std::string tenant;
  std::string name;
  std::string hash;      // lowercase hex sha256 of the secret
  Millis created_at = 0;
  std::optional<Millis> revoked_at;  // set: the key no longer authenticates
};

// A tenant's use of its limits in one month.
struct TenantUsage {
  std::string month;              // "2026-12"
  double spent_usd = 0;           // settled spend counted against the budget this month
  double reserved_usd = 0;        // worst case of the calls in flight (live reservations)
  std::int64_t live_jobs = 0;     // queued + running + review, now
};

// The id of the reservation a job's attempt holds: "<job id>:<attempt>"
// (AttemptFinish::settles_reservation settles it).
std::string AttemptReservationId(std::string_view job_id, int attempt);

// The worst-case cost of one call, held against the tenant's month before the call starts and
// settled from its actual cost after it (finish_attempts for a job's attempt, settle_budget for
// a synchronous call). A reservation that is never settled (its node died) stops counting at
// expires_at.
struct BudgetReservation {
  std::string id;            // "<job id>:<attempt>" for an attempt; any unique id for a sync call
  std::string tenant;
  std::string month;         // "2026-12": the month the spend counts against
  double amount_usd = 0;
  double budget_usd = 0;     // the tenant's monthly budget the reservation must fit in (> 0)
  Millis now = 0;
  Millis expires_at = 0;
};

// What a retention pass deleted (Store::purge_finished).
struct PurgeCounts {
  std::int64_t jobs = 0;
  std::int64_t batches = 0;
  std::int64_t files = 0;
};

}  // namespace sluice
