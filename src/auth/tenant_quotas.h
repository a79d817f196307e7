// A tenant's quotas at the API (API.md "Tenants, API keys and quotas"): requests a minute
// (`rpm`), live jobs (`max_queued`) and the month's budget at submit. Answers 429 material:
// kResourceExhausted with the contract's error code and a Retry-After.
//
// Counted per node, in memory, so that no request waits on the store for them:
// - rpm is a token bucket per tenant holding up to a minute's requests, refilled continuously.
//   With N nodes behind a balancer a tenant may get up to N × rpm (documented in README).
// - max_queued compares the live jobs read at the caller's last lookup (≤ key_cache old, from
//   the shared store, so every node's jobs count) plus the jobs this node accepted since then.
//   Jobs that ended since are not subtracted: the check errs on the strict side for a moment.
// - the budget check at submit refuses new jobs once the month's spend has reached the budget
//   (the exact guarantee — never overshooting — is the reservation made before each call).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "auth/caller.h"
#include "core/mutex.h"
#include "core/status.h"
#include "core/time.h"

namespace sluice::auth {

// The 429 of a spent budget, with a Retry-After of the time left to the next month.
Status BudgetExceeded(const std::string& tenant, double budget_usd, Millis now);

class TenantQuotas {
 public:
  explicit TenantQuotas(const Clock& clock) : clock_(clock) {}

  // One API request of the caller.
  Status admit_request(const Caller& caller);
  // `n` new jobs of the caller (a submit, a bulk submit, a batch's lines).
  Status admit_jobs(const Caller& caller, std::int64_t n);
  // A synchronous call of the caller: refused once the month's budget is spent.
  Status admit_spend(const Caller& caller) const;

 private:
  struct Bucket {
    double tokens = 0;
    Millis at = 0;
  };
  struct Accepted {
    Millis since = 0;      // the lookup whose live count these add to
    std::int64_t jobs = 0;
  };

  const Clock& clock_;
  Mutex mu_;
  std::map<std::string, Bucket> buckets_ GUARDED_BY(mu_);
  std::map<std::string, Accepted> accepted_ GUARDED_BY(mu_);
};

}  // namespace sluice::auth
