// The budget gate: before a job of a tenant with a monthly budget calls a model, the call's
// worst case (ModelGateway::worst_case_cost) is reserved against the tenant's month in the
// shared store (Store::reserve_budget: serialized per tenant across nodes), so that any number
// of concurrent calls on any number of nodes never overshoot the budget. The attempt's finish
// settles the reservation with the actual cost in the same transaction
// (AttemptFinish::settles_reservation). A call that does not fit is not made: its job goes back
// to queued, blocked_reason "budget", and is looked at again after `blocked_recheck` (sooner
// when an admin raises the budget: Store::put_tenant makes held jobs due).
//
// Threads: budget_of() is memory only (the event loop asks it for every job; tenants without a
// budget never wait for anything). Reservations and tenant reads run on the gate's own thread,
// batched: everything waiting when the thread wakes is reserved in one transaction.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/time.h"
#include "store/store.h"

namespace sluice {

struct BudgetGateOptions {
  Millis tenant_ttl = 2'000;          // how long a tenant's budget read from the store is trusted
  Millis reservation_ttl = 900'000;   // an unsettled reservation (its node died) stops counting
  Millis blocked_recheck = 30'000;    // a job held by the budget is due again after this
};

class BudgetGate {
 public:
  enum class Decision {
    kNoBudget,    // the tenant has no budget: call without a reservation
    kReserved,    // the worst case is reserved: call, and settle at the finish
    kOverBudget,  // it does not fit: hold the job
    kUnavailable, // the store could not say: hold the job briefly
  };
  using Done = std::function<void(Decision)>;

  BudgetGate(Store& store, const Clock& clock, BudgetGateOptions options = {});
  ~BudgetGate();
  void start();
  void stop();

  // The tenant's monthly budget (0: none) when known, even if old (a refresh is then asked
  // for); nullopt when never read. Memory only.
  std::optional<double> budget_of(const std::string& tenant);
  // The tenant's fair-share weight (scheduler/fair_share.h), from the same records: 1 until
  // read (a read is then asked for).
  int weight_of(const std::string& tenant);
  // Decides on the gate's thread; `done` runs there.
  void admit(std::string tenant, std::string reservation_id, double amount_usd, Done done);

  const BudgetGateOptions& options() const { return options_; }

 private:
  struct Ask {
    std::string tenant;
    std::string reservation_id;
    double amount_usd = 0;
    Done done;
  };
  struct Known {
    double budget_usd = 0;
    int weight = 1;
    Millis read_at = 0;
  };
  // The known record, asking for a refresh when it is old or missing. Holds mu_.
  const Known* Lookup(const std::string& tenant, Millis now);
  void Loop();
  // Answers each ask (its `done` is moved out as it is called, so that after a throw the
  // unanswered ones are those whose `done` is still set).
  void Serve(std::deque<Ask>& asks, const std::deque<std::string>& refreshes);
  std::optional<double> Budget(const std::string& tenant, Millis now);  // gate thread

  Store& store_;
  const Clock& clock_;
  const BudgetGateOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Ask> asks_;                 // GUARDED_BY(mu_)
  std::deque<std::string> refreshes_;    // GUARDED_BY(mu_)
  std::map<std::string, Known> known_;   // GUARDED_BY(mu_)
  std::map<std::string, bool> refreshing_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace sluice
