// The cost ledger (API.md "Costs report"): one row per model call, as the Store keeps it.
//
// Why a ledger of its own and not a sum over attempt records: a report must still be right after
// retention purged the jobs it covers, and it must be cheap for a month of millions of calls.
// The rows are written in the transaction that records the call (a job attempt's finish, a
// synchronous call's settlement), so a report never counts a call the attempts do not show, nor
// misses one they do.
//
// Money is integer nano-USD (1e-9 USD) here, not a double: SQL sums of integers are exact and
// independent of the order rows are added in, so a report's total equals the sum of its calls to
// the last digit on both engines, and a month's figure does not drift as rows are added. A
// call's cost is rounded to the nano-USD once, where it is computed (gateway/provider_call.h
// CallCost), so an attempt record's cost_usd is exactly its ledger row's nanos / 1e9. int64
// nano-USD holds 9.2 billion USD, far beyond a month of one install.
//
// Retention never deletes ledger rows (Store::purge_finished leaves them): a row is ~100 bytes,
// and a month's report must not change because the jobs behind it were purged.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/time.h"

namespace sluice {

// The task_type of a synchronous /v1/chat/completions call in the ledger and the report (jobs
// carry their own type, "chat" for chat jobs). No task type can be called this: it would make
// no difference to a report anyway.
inline constexpr char kSyncTaskType[] = "sync";

inline std::int64_t NanoUsd(double usd) {
  return std::llround(usd * 1e9);
}
inline double UsdOfNanos(std::int64_t nanos) {
  return static_cast<double>(nanos) / 1e9;
}

// One model call: a request that reached a provider (the built-in `local` one included), for a
// job's attempt or a synchronous call. A walk along a fallback chain makes one per alias called.
struct CallCharge {
  std::string tenant;
  std::string job_id;     // "" for a synchronous call
  int attempt = 0;        // the job's attempt; 0 for a synchronous call
  std::string task_type;  // the job's type; kSyncTaskType for a synchronous call
  std::string provider;
  std::string model_alias;
  std::string model_id;  // the exact model the provider ran
  Millis at = 0;         // when the call started; its UTC month is the report's month
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t cached_tokens = 0;     // of prompt_tokens, at the cached-input price
  std::int64_t reasoning_tokens = 0;  // of completion_tokens, at the reasoning price
  std::int64_t cost_nano_usd = 0;
  bool unpriced = false;  // tokens used but nothing charged: the alias lacks a price

  // For the call's audit record (store/audit_records.h) only; the ledger keeps none of these.
  std::string actor = "system";  // "key_…", "admin", "system" (a worker), "anonymous"
  std::string outcome;           // the call's code: "ok", "timeout", "provider_error", ...
  std::string prompt_version;    // the job's; "" for chat jobs and synchronous calls
  std::string pii_masked_json;   // {"EMAIL": 1, ...} when the call was masked, else ""
};

// The ledger rows of one month with the same (tenant, task_type, provider, model_alias,
// model_id), summed.
struct CostLine {
  std::string tenant;
  std::string task_type;
  std::string provider;
  std::string model_alias;
  std::string model_id;
  std::int64_t calls = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t cached_tokens = 0;
  std::int64_t reasoning_tokens = 0;
  std::int64_t cost_nano_usd = 0;
  std::int64_t unpriced_calls = 0;
};

struct TenantJobCount {
  std::string tenant;
  std::int64_t jobs = 0;  // distinct jobs with at least one call in the month
};

// Store::cost_report: a month's lines ordered by (tenant, task_type, provider, model_alias,
// model_id), and each tenant's job count ordered by tenant.
struct CostLedgerMonth {
  std::vector<CostLine> lines;
  std::vector<TenantJobCount> jobs;
};

}  // namespace sluice
